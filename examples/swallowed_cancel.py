"""A poller treats CancelledError as "try again" (the shape of
python/cpython#87555): the wait_for() timeout that should stop it after
half a second cancels the task, which catches the CancelledError and goes
on polling for ever.  It takes steps, so nothing looks stalled; with
hang=SECONDS the fork reports a task that went on after its cancellation
was requested, and who asked."""
import asyncio


async def poll_sensor(readings):
    while True:
        try:
            await asyncio.sleep(0.05)
            readings.append(len(readings))
        except asyncio.CancelledError:
            continue                    # "keep polling, whatever happens"


async def main():
    readings = []
    try:
        await asyncio.wait_for(poll_sensor(readings), timeout=0.5)
    except TimeoutError:
        print("stopped after", len(readings), "readings")


asyncio.run(main())
