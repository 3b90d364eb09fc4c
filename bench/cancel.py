"""Cancellation workload (issue 16: a cancel costs at most 1 us more).

Run with -X coro_origin=10 on both sides (stock ignores the option, so it
measures stock's cancel; the fork keeps who asked).  Inside asyncio.run():

* kind "future": `rounds` times, a loop.create_future(), its cancel() and
  its result() (which raises the CancelledError);
* kind "task": `rounds` times, 100 tasks that each await asyncio.sleep(10)
  are created, take a step, are cancelled and gathered
  (return_exceptions=True); only the cancel() calls and the step in which
  each task takes its cancellation are timed (creating and gathering tasks
  costs what it costs without a cancel: make bench's create and gather
  rows).

Prints {"us_per_cancel", ...}: microseconds per future (the whole cycle)
or per task (its cancel).
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
    timed = 0
    for _ in range(rounds // BATCH):
        batch = [asyncio.create_task(sleeper()) for _ in range(BATCH)]
        await asyncio.sleep(0)
        t0 = time.perf_counter_ns()
        for task in batch:
            task.cancel()
        await asyncio.sleep(0)          # each task's cancelled step
        timed += time.perf_counter_ns() - t0
        results = await asyncio.gather(*batch, return_exceptions=True)
        if not all(isinstance(r, asyncio.CancelledError) for r in results):
            raise AssertionError("a task was not cancelled")
    return timed


def main(p):
    kind = p.get("kind", "future")
    rounds = p.get("rounds", 50000)
    workload = futures if kind == "future" else tasks
    asyncio.run(workload(min(rounds, 1000)))        # warm-up
    t0 = time.perf_counter_ns()
    timed = asyncio.run(workload(rounds))
    elapsed = time.perf_counter_ns() - t0 if timed is None else timed
    return {"us_per_cancel": elapsed / 1000 / rounds, "kind": kind,
            "rounds": rounds, "check": "ok", "tracking": tracking_info()}


if __name__ == "__main__":
    run(main)
