# Which timeout fired?  A TimeoutError from a program with many timeouts
# says only that some timeout expired inside asyncio.
# As in: https://github.com/fsspec/filesystem_spec/pull/746 ("Without
# knowing which part of the codebase raised the asyncio.TimeoutError it is
# really hard to debug")
import asyncio


async def query(delay):
    await asyncio.sleep(delay)
    return "rows"


async def fetch_user():
    return await asyncio.wait_for(query(0.01), timeout=1.0)


async def fetch_orders():
    async with asyncio.timeout(0.05):   # too short for this query
        return await query(0.5)


async def main():
    print(await fetch_user())
    print(await fetch_orders())


asyncio.run(main())
