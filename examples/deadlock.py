# Bug: two transfers take the same two locks in opposite orders and wait
# for each other forever.  Send the dump signal to see who waits where.
import asyncio


async def transfer(first, second):
    async with first:
        await asyncio.sleep(0.01)
        async with second:
            pass


async def main():
    a, b = asyncio.Lock(), asyncio.Lock()
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, lambda: print("ready", flush=True))
    await asyncio.gather(transfer(a, b), transfer(b, a))


asyncio.run(main())
