# Who cancelled it?  A download is cancelled, and the traceback of its
# CancelledError says only where it was waiting.  The culprit is a
# watchdog that cancels "stale" downloads by mistake.
# The request: https://github.com/python/cpython/issues/89261
import asyncio


async def download(url):
    await asyncio.sleep(1)          # the transfer
    return f"{url}: 200"


async def watchdog(tasks):
    await asyncio.sleep(0.01)
    for task in tasks:
        if task.get_name().startswith("download"):
            task.cancel()           # meant for stale ones only


async def main():
    job = asyncio.create_task(download("https://example.org"),
                              name="download-1")
    asyncio.create_task(watchdog([job]), name="watchdog")
    print(await job)


asyncio.run(main())
