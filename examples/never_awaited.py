# Bug: a coroutine function is called but its coroutine is never awaited,
# so the order is never saved.
import asyncio


async def save(order):
    await asyncio.sleep(0)
    print("saved", order)


async def handle(order):
    save(order)                  # forgot "await"


async def main():
    await handle("order-1")


asyncio.run(main())
