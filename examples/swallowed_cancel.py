"""A poller treats CancelledError as "back off and try again" (the shape
of python/cpython#87555): the wait_for() timeout that should stop it
after half a second cancels the task, which catches the CancelledError,
backs off and would go on polling.  wait_for() never returns.  With
hang=SECONDS the fork reports a task that went on after its cancellation
was requested, who asked, and where it is: in the except clause."""
import asyncio


async def poll_sensor(readings):
    while True:
        try:
            await asyncio.sleep(0.05)
            readings.append(len(readings))
        except asyncio.CancelledError:
            await asyncio.sleep(60)     # "back off, then keep polling"


async def main():
    readings = []
    try:
        await asyncio.wait_for(poll_sensor(readings), timeout=0.5)
    except TimeoutError:
        print("stopped after", len(readings), "readings")


asyncio.run(main())
