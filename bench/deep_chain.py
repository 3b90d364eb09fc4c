"""Deep await chain (issue 9): the time to run a recursion of

    async def f(n):
        if n:
            await f(n - 1)

N deep (default 32,000; the recursion limit is raised to fit) to the end
with one send(None), under a tracking mode.  Each level creates its
coroutine while N - n coroutines are suspended above it, so a capture
that walks the whole await chain makes this quadratic.

Parameters (JSON): n (default 32000), settings (default {"depth": 10};
e.g. {"depth": 10, "chain": 1}, which needs the fork), loops (default 5:
the fastest of up to that many runs, as many as fit in one second).
Prints {"seconds", "n", "runs", "check", "tracking"}: "check" verifies, on a short
chain run afterwards, that the innermost coroutine's origin has the
requested depth and that it has a chain exactly when chain mode is on.
"""
import sys
import time

from _benchutil import apply_tracking, run


async def f(n):
    if n:
        await f(n - 1)


async def leaf():
    pass


async def probe(n, seen):
    # The same shape as f(), with a coroutine made at the bottom.
    if n:
        await probe(n - 1, seen)
    else:
        c = leaf()
        seen.append((c.cr_origin, getattr(c, 'cr_origin_chain', 'missing')))
        c.close()


def run_to_end(coro):
    try:
        coro.send(None)
    except StopIteration:
        return
    raise RuntimeError("the coroutine did not finish in one send()")


def main(p):
    n = p.get("n", 32000)
    settings = p.get("settings", {"depth": 10})
    sys.setrecursionlimit(max(sys.getrecursionlimit(), n + 1000))
    tracking = apply_tracking(settings)

    # The fastest of several runs while they take under a second in all
    # (one run when a run takes longer).
    runs = []
    while not runs or (len(runs) < p.get("loops", 5) and sum(runs) < 1e9):
        coro = f(n)
        t0 = time.perf_counter_ns()
        run_to_end(coro)
        runs.append(time.perf_counter_ns() - t0)
    elapsed = min(runs)

    seen = []
    run_to_end(probe(50, seen))
    origin, chain = seen[0]
    depth, want_chain = settings.get("depth", 0), settings.get("chain", 0)
    check = "ok"
    if len(origin or ()) != min(depth, 51):
        check = "origin has %d entries, wanted %d" % (len(origin or ()),
                                                      min(depth, 51))
    elif chain == "missing":
        if want_chain:
            check = "no cr_origin_chain attribute"
    elif bool(chain) != bool(want_chain):
        check = "cr_origin_chain is %r with chain=%s" % (chain, want_chain)
    elif want_chain and len(chain) > want_chain:
        check = "chain has %d entries, at most %d wanted" % (len(chain),
                                                            want_chain)
    return {"seconds": elapsed / 1e9, "n": n, "runs": len(runs),
            "check": check,
            "tracking": tracking}


if __name__ == "__main__":
    run(main)
