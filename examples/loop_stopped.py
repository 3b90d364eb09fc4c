# "Event loop stopped before Future completed.": something called
# loop.stop() while asyncio.run() was still running main().  Stock does
# not say what.
# As in: https://github.com/beeware/gbulb/issues/10
import asyncio


async def handle(command):
    await asyncio.sleep(0)
    if command == "quit":
        asyncio.get_running_loop().stop()   # meant to end the server only


async def main():
    for command in ["status", "quit"]:
        asyncio.create_task(handle(command))
    await asyncio.sleep(0.1)
    print("all commands handled")


asyncio.run(main())
