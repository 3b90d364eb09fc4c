# Bug: two transfers take the same two locks in opposite orders and wait
# for each other forever.  Send the dump signal to see who waits where.
import asyncio


async def transfer(first, second):
    async with first, both_hold_their_first_lock:    # a barrier, no sleep
        asyncio.get_running_loop().call_soon(ready_once_both_wait)
        async with second:
            pass

def ready_once_both_wait(waiting=[]):   # each transfer's call runs after
    waiting.append(None)                # it blocked on line 9
    if len(waiting) == 2:
        print("ready", flush=True)
async def main():
    await asyncio.gather(transfer(a, b), transfer(b, a))
a, b = asyncio.Lock(), asyncio.Lock()
both_hold_their_first_lock = asyncio.Barrier(2)
asyncio.run(main())
