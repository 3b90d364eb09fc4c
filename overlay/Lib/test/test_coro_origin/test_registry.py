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


if __name__ == '__main__':
    unittest.main()
