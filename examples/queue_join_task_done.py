"""A worker that takes items from an asyncio.Queue but never marks them
done (the shape of pyrogram/pyrogram#1305): Queue.join() counts the items
put and the task_done() calls, so it waits forever.  Stock prints nothing
and the process hangs; with hang=SECONDS the fork says that join() waits
for items got and never marked done, and where the queue was made."""
import asyncio


async def handle(update):
    await asyncio.sleep(0)              # dispatch the update


async def worker(updates):
    while True:
        update = await updates.get()
        await handle(update)
        # missing: updates.task_done()


async def main():
    updates = asyncio.Queue()
    consumer = asyncio.create_task(worker(updates))
    for n in range(3):
        await updates.put(n)
    await updates.join()                # wait until every update is handled
    consumer.cancel()


asyncio.run(main())
