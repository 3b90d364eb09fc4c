"""A producer task fails while the program keeps a reference to it (the
shape of python/asyncio#397 and mars-project/mars#2287): asyncio reports a
failed task's exception only when the task is collected, so nothing is
printed, and the consumer waits for ever for items that will never come.
With hang=SECONDS the fork's dump lists the failed task: its exception,
the line that raised it and where the task was made."""
import asyncio


async def fetch_pages(pages, count):
    for n in range(count):
        if n == 2:
            raise ConnectionError("connection reset by peer")
        await pages.put(f"page {n}")
        await asyncio.sleep(0)


async def save_pages(pages):
    while True:
        page = await pages.get()
        print("saved", page)


async def main():
    pages = asyncio.Queue()
    fetcher = asyncio.create_task(fetch_pages(pages, 5))
    saver = asyncio.create_task(save_pages(pages))
    await saver                          # never ends: fetcher has failed
    await fetcher


asyncio.run(main())
