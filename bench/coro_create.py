"""Creation cost: `c = coro(); c.close()` in a tight loop (issue 3).

Parameters (JSON, all optional):
  settings   tracking mode, e.g. {"depth": 10} or {"depth": 10, "chain": 8}
  kind       "coro" (default) or "asyncgen" (loop body `g = agen()`)
  stack      Python frames on the stack at the creation site (default 30;
             the loop function's own frame is the last of them)
  min_time   seconds per timed loop (default 0.2)
  loops      timed loops; the fastest is reported (default 3)
  iterations fixed iteration count, one loop, no calibration (callgrind)
Prints {"ns_per_op", "iterations", "check", "tracking", ...}.
"""
import sys
import time

from _benchutil import apply_tracking, call_with_stack, run, stack_depth


async def coro():
    pass


async def agen():
    yield


def loop_coro(n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        c = coro()
        c.close()
    return time.perf_counter_ns() - t0


def loop_agen(n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        g = agen()
    return time.perf_counter_ns() - t0


def probe(kind):
    """One object made at the same stack height, its origin, its stack."""
    obj = coro() if kind == "coro" else agen()
    if kind == "coro":
        origin = obj.cr_origin
        obj.close()
    else:
        origin = getattr(obj, "ag_origin", "missing")
    return origin, stack_depth()


def main(p):
    settings = p.get("settings", {})
    kind = p.get("kind", "coro")
    stack = p.get("stack", 30)
    loop = loop_coro if kind == "coro" else loop_agen
    tracking = apply_tracking(settings)

    if p.get("iterations") is not None:
        n = p["iterations"]
        best = call_with_stack(stack, loop, n)
    else:
        min_ns = p.get("min_time", 0.2) * 1e9
        n = 1000
        while True:
            elapsed = call_with_stack(stack, loop, n)
            if elapsed >= min_ns / 10:
                break
            n *= 4
        n = max(1, int(n * min_ns / max(elapsed, 1)))
        best = min(call_with_stack(stack, loop, n)
                   for _ in range(p.get("loops", 3)))

    # Check afterwards, so that reading the origin cannot warm any cache
    # the timed loop would otherwise have had to fill.
    origin, frames = call_with_stack(stack, probe, kind)
    depth = settings.get("depth", 0)
    check = "ok"
    if frames != stack:
        check = "stack is %d frames, wanted %d" % (frames, stack)
    elif kind == "asyncgen" and not settings.get("asyncgen"):
        if origin not in (None, "missing"):
            check = "untracked async generator has an origin"
    elif origin == "missing":
        check = "no ag_origin attribute"
    elif depth:
        want = min(depth, stack)
        if origin is None or len(origin) != want:
            check = "origin has %s entries, wanted %d" % (
                None if origin is None else len(origin), want)
    elif origin is not None:
        check = "origin recorded at depth 0"
    return {"ns_per_op": best / n if n else 0.0, "iterations": n, "stack": frames,
            "check": check, "tracking": tracking}


if __name__ == "__main__":
    run(main)
