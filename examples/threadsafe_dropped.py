# A worker thread hands coroutines to the event loop with
# run_coroutine_threadsafe() and never looks at the future it gets back:
# when the coroutine fails, stock prints nothing, ever.
# As in: https://github.com/python/asyncio/issues/397 (case 3) and
# https://github.com/python/cpython/issues/97827
import asyncio
import threading


async def upload(name):
    raise ConnectionError(f"{name}: connection refused")


def worker(loop):
    for name in ["report.pdf"]:
        asyncio.run_coroutine_threadsafe(upload(name), loop)


async def main():
    loop = asyncio.get_running_loop()
    thread = threading.Thread(target=worker, args=(loop,))
    thread.start()
    await asyncio.to_thread(thread.join)
    await asyncio.sleep(0.1)
    print("uploads submitted")


asyncio.run(main())
