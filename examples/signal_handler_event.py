# A signal.signal() handler sets the asyncio.Event that a coroutine
# waits on.  The handler runs while the loop sleeps in select(); the
# waiter's wake-up is queued, but select() is simply resumed, so the
# coroutine goes on only when something else wakes the loop (here: its
# one-second timeout; without one, never).
# As in: https://github.com/python/cpython/issues/122938
import asyncio
import os
import signal
import threading
import time

reload_requested = asyncio.Event()


def on_sighup(signum, frame):
    reload_requested.set()      # should be loop.add_signal_handler()


async def main():
    signal.signal(signal.SIGHUP, on_sighup)
    start = time.monotonic()
    # an operator's "kill -HUP", 0.05 s from now
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGHUP)).start()
    await asyncio.wait([asyncio.create_task(reload_requested.wait())],
                       timeout=1)
    print(f"reloaded after {round(time.monotonic() - start)} s")


asyncio.run(main())
