"""Cancellation workload (issue 16: a cancel costs at most 1 us more).

Run with -X coro_origin=10 on both sides (stock ignores the option, so it
measures stock's cancel; the fork keeps who asked).  Inside asyncio.run():

* kind "future": `rounds` times, a loop.create_future(), its cancel() and
  its result() (which raises the CancelledError);
* kind "task": `rounds` times, 100 tasks that each await asyncio.sleep(10)
  are created, take a step, are cancelled and gathered
  (return_exceptions=True).

Prints {"us_per_cancel", ...}: microseconds per future or task, the whole
cycle included.
"""
import asyncio
import time

from _benchutil import run, tracking_info

BATCH = 100


async def futures(rounds):
    loop = asyncio.get_running_loop()
    for _ in range(rounds):
        fut = loop.create_future()
        fut.cancel()
        try:
            fut.result()
        except asyncio.CancelledError:
            pass


async def sleeper():
    await asyncio.sleep(10)


async def tasks(rounds):
    for _ in range(rounds // BATCH):
        batch = [asyncio.create_task(sleeper()) for _ in range(BATCH)]
        await asyncio.sleep(0)
        for task in batch:
            task.cancel()
        results = await asyncio.gather(*batch, return_exceptions=True)
        if not all(isinstance(r, asyncio.CancelledError) for r in results):
            raise AssertionError("a task was not cancelled")


def main(p):
    kind = p.get("kind", "future")
    rounds = p.get("rounds", 50000)
    workload = futures if kind == "future" else tasks
    asyncio.run(workload(min(rounds, 1000)))        # warm-up
    t0 = time.perf_counter_ns()
    asyncio.run(workload(rounds))
    elapsed = time.perf_counter_ns() - t0
    return {"us_per_cancel": elapsed / 1000 / rounds, "kind": kind,
            "rounds": rounds, "check": "ok", "tracking": tracking_info()}


if __name__ == "__main__":
    run(main)
