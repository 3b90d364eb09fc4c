"""Threads, each with its own depth, creating coroutines at the same time.

The depth is per thread (as in stock); the intern table is shared by the
threads of an interpreter and locked, so frame stacks made at the same time
by several threads stay correct, and so do cached tuples read at once.
"""

import sys
import threading
import unittest
from test.support import threading_helper

from test.test_coro_origin._util import corofn, tracking, here


def nest(n, depth):
    if n:
        return nest(n - 1, depth)
    return corofn(), here(depth)


def make():
    return corofn()


@threading_helper.requires_working_threading()
class ThreadsTest(unittest.TestCase):

    def run_threads(self, target, args_list):
        errors = []
        barrier = threading.Barrier(len(args_list))

        def wrapper(*args):
            try:
                barrier.wait()
                target(*args)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=wrapper, args=args)
                   for args in args_list]
        with threading_helper.start_threads(threads):
            pass
        if errors:
            raise errors[0]

    def test_own_depth_per_thread(self):
        depths = [0, 1, 2, 3, 5, 8, 13, 1000]

        def worker(depth):
            sys.set_coroutine_origin_tracking_depth(depth)
            kept = []
            for i in range(300):
                coro, expected = nest(i % 6, depth)
                if depth == 0:
                    self.assertIsNone(coro.cr_origin)
                else:
                    self.assertEqual(coro.cr_origin, expected)
                if i % 3:
                    coro.close()
                else:
                    kept.append((coro, expected))
            # Reads after other threads made and dropped similar stacks.
            for coro, expected in kept:
                self.assertEqual(coro.cr_origin,
                                 None if depth == 0 else expected)
                coro.close()
            self.assertEqual(sys.get_coroutine_origin_tracking_depth(), depth)

        with tracking(7):
            self.run_threads(worker, [(d,) for d in depths])
            # Other threads' settings did not leak into this one.
            self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 7)

    def test_same_stack_from_many_threads(self):
        # Every thread makes coroutines from one site at once: with depth 1
        # the frame stack is the same for all, whoever makes it first.
        results = []

        def worker():
            with tracking(1):
                for _ in range(500):
                    coro = make()
                    results.append(coro.cr_origin)
                    coro.close()

        self.run_threads(worker, [()] * 8)
        expected = ((__file__, make.__code__.co_firstlineno + 1, 'make'),)
        self.assertEqual(set(results), {expected})

    def test_concurrent_first_read(self):
        # Many threads read cr_origin of coroutines whose tuple is not made
        # yet: all see equal values, and, once made, the cached one.
        for _ in range(20):
            with tracking(10):
                coros = [make() for _ in range(4)]
            seen = []

            def reader():
                for coro in coros:
                    seen.append(coro.cr_origin)

            self.run_threads(reader, [()] * 6)
            first = coros[0].cr_origin
            self.assertEqual(len(seen), 24)
            for origin in seen:
                self.assertEqual(origin, first)
            for coro in coros:
                self.assertIs(coro.cr_origin, first)
                coro.close()


if __name__ == '__main__':
    unittest.main()
