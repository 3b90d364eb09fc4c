"""pytest example for strict mode (see conftest.py): only
test_leaks_a_task fails, and its failure says where the task was made."""
import asyncio


async def fails():
    raise RuntimeError("nobody awaits me")


async def careful():
    await asyncio.create_task(asyncio.sleep(0))


async def careless():
    asyncio.create_task(fails())        # the task is dropped: lost work
    await asyncio.sleep(0.01)


def test_awaits_its_task():
    asyncio.run(careful())


def test_leaks_a_task():
    asyncio.run(careless())


def test_after_the_leak():
    asyncio.run(careful())
