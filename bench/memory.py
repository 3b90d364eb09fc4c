"""Bytes retained per tracked coroutine (issue 3, item 3).

N suspended, never-started coroutines are kept in a list, made from four
distinct call sites 20 frames deep.  Two methods:

  method="tracemalloc" (one process): traced bytes for N coroutines made at
      depth 0, then N made at `depth`, then the same after reading
      cr_origin of each once (the fork materialises it lazily).
  method="rss" (one process per depth): resident-set growth for N
      coroutines at `depth`, and after reading cr_origin; catches memory
      that tracemalloc cannot see (plain malloc).

All coroutines are closed before exit, so no "never awaited" warnings.
Prints bytes (totals, not per coroutine; the driver divides).
"""
import gc
import os
import sys

from _benchutil import NotAvailable, apply_tracking, call_with_stack, run


async def fetch():
    pass


async def parse():
    pass


async def store():
    pass


async def notify():
    pass


def site_fetch():
    return fetch()


def site_parse():
    return parse()


def site_store():
    return store()


def site_notify():
    return notify()


SITES = (site_fetch, site_parse, site_store, site_notify)


def fill(out):
    for i in range(len(out)):
        out[i] = SITES[i & 3]()


def make(n, depth):
    apply_tracking({"depth": depth})
    out = [None] * n
    call_with_stack(20, fill, out)
    return out


def materialise(coros):
    for c in coros:
        c.cr_origin


def close_all(coros):
    for c in coros:
        c.close()
    coros.clear()
    gc.collect()


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def by_tracemalloc(n, depth):
    import tracemalloc
    tracemalloc.start()
    close_all(make(n, 0))                       # warm-up
    traced = lambda: tracemalloc.get_traced_memory()[0]

    gc.collect()
    base = traced()
    coros = make(n, 0)
    plain = traced() - base
    close_all(coros)

    gc.collect()
    base = traced()
    coros = make(n, depth)
    tracked = traced() - base
    lens = {len(c.cr_origin or ()) for c in coros[:4]}
    materialise(coros)
    after_read = traced() - base
    close_all(coros)
    apply_tracking({"depth": 0})
    return {"n": n, "plain": plain, "tracked": tracked,
            "after_read": after_read, "origin_lens": sorted(lens)}


def by_rss(n, depth):
    if not os.path.exists("/proc/self/statm"):
        raise NotAvailable("no /proc/self/statm")
    gc.collect()
    base = rss()
    coros = make(n, depth)
    made = rss() - base
    materialise(coros)
    after_read = rss() - base
    close_all(coros)
    apply_tracking({"depth": 0})
    return {"n": n, "depth": depth, "made": made, "after_read": after_read}


def main(p):
    n = p.get("n", 10000)
    depth = p.get("depth", 10)
    if p.get("method", "tracemalloc") == "rss":
        return by_rss(n, depth)
    return by_tracemalloc(n, depth)


if __name__ == "__main__":
    run(main)
