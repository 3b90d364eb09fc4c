# A worker thread signals an asyncio.Event that a coroutine waits on.
# asyncio.Event is not thread-safe: set() from another thread queues the
# waiter's wake-up, but nothing wakes the loop from select(), so the
# coroutine waits until something else happens (here: a timeout).
# As in: https://github.com/python/cpython/issues/98955 ("Did I do
# something wrong?")
import asyncio
import threading
import time


def convert(done):
    time.sleep(0.05)            # the work
    done.set()                  # should be loop.call_soon_threadsafe(done.set)


async def main():
    done = asyncio.Event()
    start = time.monotonic()
    threading.Thread(target=convert, args=(done,), name="converter").start()
    await asyncio.wait([asyncio.create_task(done.wait())], timeout=1)
    # woken by the timeout, not by the converter (which took 0.05 s)
    print(f"converted after {round(time.monotonic() - start)} s")


asyncio.run(main())
