# Bug: a fire-and-forget task is not referenced by anyone.  The event loop
# keeps only weak references to tasks, so a collection destroys it while it
# is still waiting.
import asyncio
import gc


async def wait_for_reply():
    reply = asyncio.get_running_loop().create_future()   # never resolved
    await reply


async def main():
    asyncio.create_task(wait_for_reply())    # reference dropped at once
    await asyncio.sleep(0)
    gc.collect()                             # any collection will do
    await asyncio.sleep(0)


asyncio.run(main())
