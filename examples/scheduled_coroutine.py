# A coroutine function handed to the loop as a callback: the loop calls it,
# gets a coroutine, and drops it.  The heartbeat never runs; stock's warning
# points into asyncio (events.py, Handle._run), not at the line to fix.
# As in: https://github.com/python/asyncio/issues/126
import asyncio


def log_start():
    print("started")


async def heartbeat():
    print("still alive")


async def main():
    loop = asyncio.get_running_loop()
    loop.call_soon(log_start)
    loop.call_later(0.01, heartbeat)    # should be create_task(heartbeat())
    await asyncio.sleep(0.05)
    print("done")


asyncio.run(main())
