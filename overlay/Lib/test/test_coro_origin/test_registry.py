# Tests for origin-python's live registry: sys._coroutine_origin_live().
# This module is part of origin-python, not of upstream CPython.

import textwrap
import unittest
from test.test_coro_origin._util import assert_python_ok


class RegistryTest(unittest.TestCase):

    def run_code(self, spec, code):
        rc, out, err = assert_python_ok(
            '-X', f'coro_origin={spec}', '-c', textwrap.dedent(code))
        self.assertEqual(err, b'')
        return out.decode().split()

    def test_insert_remove(self):
        out = self.run_code('3,dump=SIGUSR1', '''
            import gc, sys, weakref
            async def f():
                pass
            live = sys._coroutine_origin_live
            print(live() == [])
            a, b, c = f(), f(), f()
            print(live() == [a, b, c])
            ref = weakref.ref(b)
            b.close()
            del b
            print(ref() is None, live() == [a, c])
            try:
                a.send(None)                  # finishes
            except StopIteration:
                pass
            print(live() == [c])
            c.close()
            print(live() == [])
            ''')
        self.assertEqual(out, ['True'] * 6)

    def test_not_registered_without_dump(self):
        out = self.run_code('3,chain=2', '''
            import sys
            async def f():
                pass
            c = f()
            print(sys._coroutine_origin_live() == [])
            c.close()
            ''')
        self.assertEqual(out, ['True'])

    def test_snapshot_holds_no_reference(self):
        out = self.run_code('2,dump=SIGUSR1', '''
            import gc, sys, weakref
            async def f():
                pass
            coros = [f() for _ in range(100)]
            refs = [weakref.ref(c) for c in coros]
            snap = sys._coroutine_origin_live()
            print(sys.getrefcount(coros[0]) == 3)
            del snap
            for c in coros:
                c.close()
            del coros, c
            gc.collect()
            print(all(r() is None for r in refs))
            print(sys._coroutine_origin_live() == [])
            ''')
        self.assertEqual(out, ['True'] * 3)

    def test_no_leak(self):
        # Registered coroutines that finish, die unstarted or die
        # suspended leave nothing behind (total refcount in debug builds,
        # live objects otherwise).
        out = self.run_code('3,chain=2,dump=SIGUSR1', '''
            import gc, sys
            async def leaf():
                return 1
            async def parent():
                return await leaf()
            def churn():
                for _ in range(200):
                    c = parent()
                    try:
                        c.send(None)
                    except StopIteration:
                        pass
                    leaf().close()
            def total():
                gc.collect()
                if hasattr(sys, 'gettotalrefcount'):
                    return sys.gettotalrefcount()
                return len(gc.get_objects())
            churn()
            before = total()
            for _ in range(5):
                churn()
            after = total()
            print(after - before < 50, sys._coroutine_origin_live() == [])
            ''')
        self.assertEqual(out, ['True', 'True'])

    def test_tasks(self):
        out = self.run_code('2,dump=SIGUSR1', '''
            import asyncio, sys
            async def sleeper(ev):
                await ev.wait()
            async def main():
                ev = asyncio.Event()
                tasks = [asyncio.create_task(sleeper(ev)) for _ in range(3)]
                await asyncio.sleep(0)
                live = sys._coroutine_origin_live()
                print(sorted(c.__name__ for c in live) ==
                      ['main'] + ['sleeper'] * 3 + ['wait'] * 3,
                      set(live) >= {t.get_coro() for t in tasks})
                ev.set()
                await asyncio.gather(*tasks)
                print([c.__name__ for c in sys._coroutine_origin_live()])
            asyncio.run(main())
            ''')
        self.assertEqual(out, ['True', 'True', "['main']"])


    def test_threads_stress(self):
        # Several threads create, hand off and drop tracked coroutines
        # while the main thread snapshots and dumps the registry.  Every
        # snapshot taken while the threads wait at a barrier holds exactly
        # the coroutines alive then, whichever thread owns them (the
        # free-threaded build once missed every coroutine owned by another
        # thread), and their cr_origin values are right.
        out = self.run_code('2,dump=SIGUSR1', """
            import io, json, queue, sys, threading
            NTHREADS, ROUNDS, PER_ROUND = 8, 6, 400
            async def f():
                pass
            def make(i):
                return f(), sys._getframe().f_lineno
            handed = queue.SimpleQueue()
            kept = [[] for _ in range(NTHREADS)]
            lines = {}
            barrier = threading.Barrier(NTHREADS + 1)
            errors = []
            def worker(n):
                try:
                    for r in range(ROUNDS):
                        for i in range(PER_ROUND):
                            c, line = make(i)
                            lines[id(c)] = line
                            if i % 4 == 0:
                                handed.put(c)       # another thread's now
                            elif i % 4 == 1:
                                c.close()           # dies at once
                            else:
                                kept[n].append(c)
                        barrier.wait()              # main counts
                        barrier.wait()              # main done
                        for c in kept[n][::2]:
                            c.close()
                        del kept[n][::2]
                except BaseException as exc:
                    errors.append(exc)
                    barrier.abort()
            threads = [threading.Thread(target=worker, args=(n,))
                       for n in range(NTHREADS)]
            for t in threads:
                t.start()
            held = []
            checked = bad = 0
            for r in range(ROUNDS):
                # Dumps while the threads run must not fail.
                sys._dump_coroutines(io.StringIO(), format="json")
                barrier.wait()
                # Snapshot first: the main thread has touched none of the
                # coroutines made this round, so the workers own them.
                live = sys._coroutine_origin_live()
                buf = io.StringIO()
                sys._dump_coroutines(buf, format="json")
                tracked = json.loads(buf.getvalue())["tracked"]
                found = {id(c) for c in live}
                while not handed.empty():
                    held.append(handed.get())
                expected = {id(c) for k in kept for c in k}
                expected.update(id(c) for c in held)
                if found != expected or tracked != len(expected):
                    bad += 1
                    print("round", r, "expected", len(expected),
                          "found", len(found), "dump", tracked)
                for c in live[::97]:
                    checked += 1
                    if c.cr_origin[0][1] != lines[id(c)]:
                        bad += 1
                del live
                barrier.wait()
            for t in threads:
                t.join()
            for c in held:
                c.close()
            for k in kept:
                for c in k:
                    c.close()
            print(not errors, bad == 0, checked > 50)
            """)
        self.assertEqual(out[-3:], ['True', 'True', 'True'], out)

if __name__ == '__main__':
    unittest.main()
