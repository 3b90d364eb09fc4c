# An eager task that fails at once: with asyncio.eager_task_factory the
# coroutine runs inside create_task() and fails before it returns.  The
# task is dropped without anyone looking at it, so its exception is only
# reported when the task is collected.
import asyncio


async def connect(host):
    raise ConnectionRefusedError(f"cannot reach {host}")


async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    asyncio.create_task(connect("db.internal"))     # result never checked
    await asyncio.sleep(0)


asyncio.run(main())
