# A synchronous helper runs a coroutine on "the" loop with
# run_coroutine_threadsafe() and waits for the result.  Called from the
# loop's own thread, the wait can only time out (or hang, without a
# timeout): the loop cannot run the coroutine while its thread waits.
# As in: https://github.com/empicano/aiomqtt/issues/174 and
# https://github.com/python/cpython/issues/121075
import asyncio


async def lookup(key):
    await asyncio.sleep(0)
    return key.upper()


def lookup_sync(loop, key):
    future = asyncio.run_coroutine_threadsafe(lookup(key), loop)
    return future.result(timeout=0.1)


async def main():
    loop = asyncio.get_running_loop()
    try:
        print(lookup_sync(loop, "a"))   # on the loop's thread
    except TimeoutError:
        print("timed out")


asyncio.run(main())
