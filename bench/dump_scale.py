"""Time and size of the live coroutine dump at scale (origin-python).

    python -X coro_origin=10[,dump=SIGUSR1] bench/dump_scale.py \
        '{"scenario": "tasks", "n": 100000, "sites": 1000, "format": "text"}'

scenario "tasks": n asyncio tasks gathered by the main coroutine, each
running a coroutine that awaits one shared future; the coroutines come
from "sites" creation sites (one function per site in a generated module
file, so each site has its own file line and source).  scenario
"coroutines": n coroutines created and not started, from "sites" sites,
outside any task.  The dump is _coro_origin_request.dump() into a StringIO,
run from a loop callback (as the signal handler would run it); with
dump=SIGNAL in the options the coroutines come from the interpreter's
registry, otherwise from a gc scan.

Prints one JSON line: {"seconds": best of "repeat" dumps (wall clock),
"cpu_seconds": best process CPU time of them, "first_seconds": the first
dump (it also makes the frame objects of suspended coroutines), "bytes":
size of the output (UTF-8), "lines": its lines, "coroutines": live
coroutines}.
"""

import asyncio
import importlib.util
import io
import json
import os
import sys
import tempfile
import time


def make_sites(sites, directory):
    lines = []
    for i in range(sites):
        lines.append(f'async def work_{i}(fut):\n    await fut\n')
        lines.append(f'def make_{i}(fut):\n    return work_{i}(fut)\n')
    path = os.path.join(directory, 'dump_scale_sites.py')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    spec = importlib.util.spec_from_file_location('dump_scale_sites', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [getattr(mod, f'make_{i}') for i in range(sites)]


def measure(repeat, fmt):
    import _coro_origin_request
    best = cpu = first = None
    text = ''
    for _ in range(repeat):
        out = io.StringIO()
        t0 = time.perf_counter()
        c0 = time.process_time()
        _coro_origin_request.dump(out, fmt)
        elapsed = time.perf_counter() - t0
        used = time.process_time() - c0
        if first is None:
            first = elapsed
        best = elapsed if best is None else min(best, elapsed)
        cpu = used if cpu is None else min(cpu, used)
        text = out.getvalue()
    return (best, cpu, first), text


def main():
    params = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    scenario = params.get('scenario', 'tasks')
    n = params.get('n', 100_000)
    sites = params.get('sites', 1000)
    repeat = params.get('repeat', 3)
    fmt = params.get('format', 'text')
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        makers = make_sites(sites, tmp)

        if scenario == 'coroutines':
            fut = None
            coros = [makers[i % sites](fut) for i in range(n)]
            best, text = measure(repeat, fmt)
            for c in coros:
                c.close()
        else:
            async def main_coro():
                loop = asyncio.get_running_loop()
                fut = loop.create_future()
                tasks = [asyncio.ensure_future(makers[i % sites](fut))
                         for i in range(n)]
                done = loop.create_future()

                def run():
                    done.set_result(measure(repeat, fmt))
                    fut.set_result(None)
                # let every task start and suspend on the future first
                loop.call_soon(loop.call_soon, run)
                await asyncio.gather(*tasks)
                return done.result()
            best, text = asyncio.run(main_coro())
    result = {'seconds': round(best[0], 4),
              'cpu_seconds': round(best[1], 4),
              'first_seconds': round(best[2], 4),
              'bytes': len(text.encode('utf-8')),
              'lines': text.count('\n'),
              'coroutines': n}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
