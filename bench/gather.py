"""asyncio.gather workload (issues 4 and 5).

`asyncio.run(main())` where main does `rounds` rounds of asyncio.gather over
`tasks` tasks; each task awaits 3 nested coroutines, the innermost of which
yields to the loop once (asyncio.sleep(0)).

Parameters: depth (set with sys.set_coroutine_origin_tracking_depth before
asyncio.run, which keeps it when debug is off; None: as -X coro_origin set
it), debug (asyncio.run(...,
debug=True), which itself tracks at depth 10 while the loop runs), tasks,
rounds.  Prints {"us_per_task", "origin_len", ...}.
"""
import asyncio
import logging
import sys
import time
import warnings

from _benchutil import apply_tracking, run, tracking_info


async def c3():
    await asyncio.sleep(0)
    return 1


async def c2():
    return await c3()


async def c1():
    return await c2()


async def one_task():
    return await c1()


async def workload(rounds, tasks):
    for _ in range(rounds):
        results = await asyncio.gather(*[one_task() for _ in range(tasks)])
        if len(results) != tasks:
            raise AssertionError("lost tasks")


async def probe():
    """Origin length of a coroutine created inside a running task."""
    c = c3()
    origin = c.cr_origin
    c.close()
    return None if origin is None else len(origin)


def main(p):
    # Debug mode logs slow callbacks and the like; keep the output clean.
    logging.getLogger("asyncio").disabled = True
    warnings.simplefilter("ignore", ResourceWarning)
    debug = bool(p.get("debug", False))
    tasks = p.get("tasks", 5000)
    rounds = p.get("rounds", 10)
    depth = p.get("depth", 0)
    if depth is None:       # as -X coro_origin set it
        depth = sys.get_coroutine_origin_tracking_depth()
        tracking = tracking_info()
    else:
        tracking = apply_tracking({"depth": depth})

    asyncio.run(workload(1, min(tasks, 500)), debug=debug)   # warm-up
    t0 = time.perf_counter_ns()
    asyncio.run(workload(rounds, tasks), debug=debug)
    elapsed = time.perf_counter_ns() - t0
    origin_len = asyncio.run(probe(), debug=debug)
    want = 10 if debug else depth   # asyncio DEBUG_STACK_DEPTH
    check = "ok"
    if (origin_len or 0) > want or (want and not origin_len):
        check = "origin inside a task has %s entries at depth %d" % (
            origin_len, want)
    return {"us_per_task": elapsed / 1000 / (rounds * tasks), "check": check,
            "tasks": tasks, "rounds": rounds, "debug": debug,
            "origin_len": origin_len, "tracking": tracking,
            "tracking_after": tracking_info()}


if __name__ == "__main__":
    run(main)
