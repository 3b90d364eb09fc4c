# Bug: a background task fails and nobody ever looks at its result, so the
# error surfaces only when the task is garbage-collected.
import asyncio
import gc


async def fetch(url):
    raise ConnectionError(f"cannot reach {url}")


async def main():
    task = asyncio.create_task(fetch("https://example.invalid/"))
    await asyncio.sleep(0.01)    # the task fails meanwhile
    del task                     # ... and its exception is never retrieved
    gc.collect()


asyncio.run(main())
