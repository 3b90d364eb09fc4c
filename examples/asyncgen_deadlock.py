# A deadlock through an async generator: the consumer reads rows from an
# async generator that waits on a queue, and the producer waits for the
# consumer to finish before it sends the end marker.  Neither moves.
import asyncio


async def rows(queue):
    while True:
        item = await queue.get()
        if item is None:
            return
        yield item


async def consumer(queue, done):
    async for row in rows(queue):
        print(row)
    done.set()


async def producer(queue, done):
    # Runs after the consumer is blocked; "ready" once this one is too.
    asyncio.get_running_loop().call_soon(lambda: print("ready", flush=True))
    await done.wait()                  # bug: waits before sending the end
    await queue.put(None)


async def main():
    queue, done = asyncio.Queue(), asyncio.Event()
    await asyncio.gather(consumer(queue, done), producer(queue, done))


asyncio.run(main())
