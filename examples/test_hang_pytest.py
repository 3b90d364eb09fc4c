"""pytest example for the plugin's timeout:
    python -X coro_origin=10 -m pytest -p coro_origin.pytest \
        --coro-origin-timeout=1 test_hang_pytest.py
test_waits_for_nothing hangs (its workers wait on a queue nobody feeds),
fails after one second with the await tree of its tasks, and the next
test still runs."""
import asyncio


async def worker(queue):
    return await queue.get()            # nobody puts anything


async def waits_for_nothing():
    queue = asyncio.Queue()
    await asyncio.gather(worker(queue), worker(queue))


def test_waits_for_nothing():
    asyncio.run(waits_for_nothing())


def test_after_the_hang():
    asyncio.run(asyncio.sleep(0))
