"""Soak: a long task-spawns-task chain with chain tracking keeps memory
bounded.

A child process started with -X coro_origin=10,chain=8 (so that the
environment of the test run does not matter) runs an asyncio chain of
tasks, each of which awaits a helper coroutine, spawns the next task and
ends, until COUNT coroutines have been made.  Every coroutine is tracked
with a chain of 8 ancestors.  The child measures its resident set size
(/proc/self/statm, else the peak from getrusage) after a warm-up tenth of
the run and at the end, with collections run first; growth must stay
under BYTES_PER_CORO bytes per coroutine made after the warm-up (plus
FLOOR for the size of an arena), far below what a leak of 100 bytes per
coroutine would add.  A second run that keeps 100 bytes per coroutine
checks that the bound would catch such a leak.

Under regrtest's "cpu" resource the run makes 1,000,000 coroutines;
otherwise 50,000, so that the default run stays short.
This module is part of origin-python, not of upstream CPython.
"""

import json
import os
import sys
import textwrap
import unittest
from test import support

from test.test_coro_origin._util import run_python


FULL_COUNT = 1_000_000
SHORT_COUNT = 50_000
BYTES_PER_CORO = 25         # allowed growth per coroutine after warm-up
FLOOR = 2 * 1024 * 1024     # an arena or two, whatever the count
LEAK = 100                  # bytes per coroutine the bound must catch
SPEC = '10,chain=8'

CHILD = textwrap.dedent('''\
    import asyncio, gc, json, os, sys

    COUNT = int(sys.argv[1])
    LEAK = int(sys.argv[2])     # bytes to keep per coroutine (0: none)
    WARMUP = COUNT // 10

    try:
        PAGE = os.sysconf('SC_PAGE_SIZE')
        open('/proc/self/statm').close()
    except (OSError, ValueError, AttributeError):
        PAGE = None

    def rss():
        gc.collect()
        if PAGE is not None:
            with open('/proc/self/statm') as f:
                return int(f.read().split()[1]) * PAGE
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    made = 0
    kept = []
    marks = {}

    async def helper():
        global made
        made += 1
        if LEAK:
            kept.append(bytes(LEAK - 33))   # 33: a bytes object's header

    async def link(done):
        global made
        made += 1
        if LEAK:
            kept.append(bytes(LEAK - 33))
        await helper()
        if 'warm' not in marks and made >= WARMUP:
            marks['warm'] = (made, rss())
        if made >= COUNT:
            # the chain of what the last task makes is 8 long
            probe = helper()
            marks['chain'] = len(probe.cr_origin_chain or ())
            probe.close()
            done.set_result(None)
        else:
            asyncio.create_task(link(done))

    async def main():
        global made
        made += 1
        done = asyncio.get_running_loop().create_future()
        asyncio.create_task(link(done))
        await done
        marks['end'] = rss()

    asyncio.run(main())
    settings = sys.get_coroutine_origin_tracking()
    print(json.dumps({'made': made, 'warm_made': marks['warm'][0],
                      'warm_rss': marks['warm'][1], 'end_rss': marks['end'],
                      'chain_length': marks['chain'],
                      'depth': settings.depth, 'chain': settings.chain}))
''')


def child_env():
    env = {'__cleanenv': True}
    for name in ('LD_LIBRARY_PATH', 'ASAN_OPTIONS', 'MSAN_OPTIONS',
                 'UBSAN_OPTIONS', 'TSAN_OPTIONS'):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if support.check_sanitizer(address=True):
        # Freed blocks wait in ASan's quarantine: without it, the resident
        # size follows what the program keeps.
        env['ASAN_OPTIONS'] = ':'.join(filter(None, [
            env.get('ASAN_OPTIONS'), 'quarantine_size_mb=0']))
    return env


class SoakTest(unittest.TestCase):

    def run_chain(self, count, leak=0):
        res, cmd = run_python('-X', f'coro_origin={SPEC}', '-c', CHILD,
                              str(count), str(leak), timeout=3600,
                              **child_env())
        if res.rc:
            res.fail(cmd)
        info = json.loads(res.out.decode('ascii'))
        self.assertEqual((info['depth'], info['chain']), (10, 8), info)
        self.assertEqual(info['chain_length'], 8, info)
        self.assertGreaterEqual(info['made'], count, info)
        after_warmup = info['made'] - info['warm_made']
        growth = info['end_rss'] - info['warm_rss']
        bound = FLOOR + BYTES_PER_CORO * after_warmup
        # The bound catches a leak of LEAK bytes per coroutine.
        self.assertLess(bound, LEAK * after_warmup)
        return growth, bound, info

    def count(self):
        return (FULL_COUNT if support.is_resource_enabled('cpu')
                else SHORT_COUNT)

    def test_bounded_memory(self):
        count = self.count()
        growth, bound, info = self.run_chain(count)
        if support.verbose:
            print(f'\n{info["made"]} coroutines: resident size grew by '
                  f'{growth} bytes after warm-up (bound {bound})')
        self.assertLess(growth, bound,
                        f'resident size grew by {growth} bytes over '
                        f'{info["made"] - info["warm_made"]} coroutines '
                        f'(bound {bound}): {info}')

    def test_bound_catches_a_leak(self):
        # The same run, keeping LEAK bytes per coroutine, fails the bound:
        # the measurement sees a leak that size.
        growth, bound, info = self.run_chain(SHORT_COUNT, LEAK)
        self.assertGreater(growth, bound, info)


if __name__ == '__main__':
    unittest.main()
