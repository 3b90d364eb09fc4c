"""Dump at scale (issue 9): sys._dump_coroutines(file) with 100,000 live
coroutines made at 1,000 distinct creation sites.

The sites are 1,000 generated functions, each in its own lines of one
generated source file:

    async def site_I(gate):             def make_I(gate):
        await gate                          return site_I(gate)

make_I is the creation site.  Every coroutine is started and suspended in
`await gate` (a bare awaitable, no event loop).  Run it with the dump
enabled, as a process that can be sent the dump signal is:
`python -X coro_origin=10,dump=SIGUSR1 bench/dump_sites.py '{...}'`.

Parameters (JSON): n (default 100000), sites (default 1000), repeat
(default 3; the fastest dump is reported).
Prints {"seconds", "bytes" (UTF-8 size of the dump), "lines",
"coroutines", "check"}, or {"na": ...} without sys._dump_coroutines.
"""
import io
import os
import sys
import tempfile
import time

from _benchutil import NotAvailable, run


class Gate:
    def __await__(self):
        yield self


def make_sites(sites, directory):
    source = []
    for i in range(sites):
        source.append("async def site_%d(gate):\n    await gate\n\n" % i)
        source.append("def make_%d(gate):\n    return site_%d(gate)\n\n"
                      % (i, i))
    path = os.path.join(directory, "generated_sites.py")
    with open(path, "w") as f:
        f.write("".join(source))
    namespace = {}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), namespace)
    return [namespace["make_%d" % i] for i in range(sites)]


def main(p):
    dump = getattr(sys, "_dump_coroutines", None)
    if dump is None:
        raise NotAvailable("no sys._dump_coroutines")
    n = p.get("n", 100000)
    sites = p.get("sites", 1000)
    gate = Gate()
    with tempfile.TemporaryDirectory() as tmp:
        makers = make_sites(sites, tmp)
        coros = [makers[i % sites](gate) for i in range(n)]
        for c in coros:
            c.send(None)            # now suspended in `await gate`
        best = None
        for _ in range(p.get("repeat", 3)):
            out = io.StringIO()
            t0 = time.perf_counter_ns()
            dump(out)
            elapsed = time.perf_counter_ns() - t0
            best = elapsed if best is None else min(best, elapsed)
        text = out.getvalue()
        live = getattr(sys, "_coroutine_origin_live", lambda: None)()
        for c in coros:
            c.close()
    check = "ok"
    if live is not None and len(live) < n:
        check = "registry holds %d coroutines, %d made (run with " \
                "-X coro_origin=...,dump=SIGNAL)" % (len(live), n)
    elif "site_0" not in text or "site_%d" % (sites - 1) not in text:
        check = "the dump does not name the first and last sites"
    return {"seconds": best / 1e9, "bytes": len(text.encode("utf-8")),
            "lines": text.count("\n"), "coroutines": n, "sites": sites,
            "check": check}


if __name__ == "__main__":
    run(main)
