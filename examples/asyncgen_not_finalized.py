# Bug: an async generator is abandoned in the middle of an "async for" and
# the loop is closed without loop.shutdown_asyncgens(): its cleanup code
# never runs, and it is only noticed when the generator is collected.
import asyncio
import gc


async def ticker():
    try:
        for i in range(10):
            yield i
    finally:
        await asyncio.sleep(0)
        print("ticker closed")


async def main():
    async for tick in ticker():
        if tick == 2:
            break                # generator left suspended


loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()                     # no loop.shutdown_asyncgens()
gc.collect()
