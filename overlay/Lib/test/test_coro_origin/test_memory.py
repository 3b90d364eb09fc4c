"""Allocation failures while capturing or materialising an origin.

As in the bpo-35269 test, allocation number N (and, in a second pass,
every allocation from N on) is made to fail for a range of N: creating a
coroutine either succeeds with the right origin or raises MemoryError, and
reading cr_origin either gives the right value or raises MemoryError; no
crash, and the next read after the failure works.
"""

import sys
import unittest
import warnings
from test import support
from test.support import import_helper

from test.test_coro_origin._util import (
    assert_python_ok, tracking, here, fresh_makers, marker,
    quiet_failed_creations, rerun_in_clean_child)

_testcapi = import_helper.import_module('_testcapi')

FILE = __file__


def windows(count):
    # (start, stop) pairs for _testcapi.set_nomemory(): fail one allocation,
    # then fail every allocation from "start" on.
    for start in range(count):
        yield start, start + 1
    for start in range(count):
        yield start, 0


class NoMemoryTest(unittest.TestCase):

    def setUp(self):
        quiet_failed_creations(self)

    def test_create(self):
        pairs = list(windows(25))
        makers = fresh_makers(len(pairs) * 2, '<nomem-create>')
        failed = succeeded = 0
        kept = []
        with tracking(3):
            for i, (start, stop) in enumerate(pairs):
                for maker in makers[2 * i], makers[2 * i + 1]:
                    call = here(2)
                    try:
                        _testcapi.set_nomemory(start, stop)
                        try:
                            coro = maker()  # marker: nomem-create
                        finally:
                            _testcapi.remove_mem_hooks()
                    except MemoryError:
                        failed += 1
                        continue
                    succeeded += 1
                    expected = ((maker.__code__.co_filename, 2, 'make'),
                                (FILE, marker(FILE, 'nomem-create'),
                                 'test_create'),
                                call[1])
                    self.assertEqual(coro.cr_origin, expected)
                    kept.append(coro)
        for coro in kept:
            coro.close()
        self.assertGreater(failed, 0)
        self.assertGreater(succeeded, 0)

    def test_create_shared_stack(self):
        # The stack exists already: creation allocates nothing for it, so
        # exactly the allocations that fail an untracked creation fail a
        # tracked one, and the same creations succeed.  (Every creation
        # is made by the same line of create(), so at depth 2 all of them
        # have the same frame stack.)
        if sys.get_coroutine_origin_tracking().dump is not None:
            # A dump signal given at start-up registers every tracked
            # coroutine: its record is one allocation more.
            return rerun_in_clean_child(self)
        maker, = fresh_makers(1, '<nomem-shared>')

        def create():
            return maker()  # marker: nomem-shared

        def create_in_windows(check):
            made = failed = 0
            for start, stop in windows(10):
                try:
                    _testcapi.set_nomemory(start, stop)
                    try:
                        coro = create()
                    finally:
                        _testcapi.remove_mem_hooks()
                except MemoryError:
                    failed += 1
                    continue
                made += 1
                check(coro)
                coro.close()
            return made, failed

        with support.disable_gc():
            with tracking(0):
                untracked = create_in_windows(
                    lambda coro: self.assertIsNone(coro.cr_origin))
            with tracking(2):
                first = create()
                expected = ((maker.__code__.co_filename, 2, 'make'),
                            (FILE, marker(FILE, 'nomem-shared'), 'create'))
                self.assertEqual(first.cr_origin, expected)
                tracked = create_in_windows(
                    lambda coro: self.assertEqual(coro.cr_origin, expected))
            first.close()
        made, failed = tracked
        self.assertEqual(made + failed, 20)
        # Some creations happened and some failed (the windows reach the
        # coroutine's own allocations), the same ones as untracked.
        self.assertGreater(made, 0)
        self.assertGreater(failed, 0)
        self.assertEqual(tracked, untracked)

    def test_read(self):
        pairs = list(windows(15))
        makers = fresh_makers(len(pairs), '<nomem-read>')
        failed = succeeded = 0
        with tracking(4):
            for (start, stop), maker in zip(pairs, makers):
                coro, call = maker(), here(3)  # marker: nomem-read
                expected = ((maker.__code__.co_filename, 2, 'make'),) + call
                try:
                    _testcapi.set_nomemory(start, stop)
                    try:
                        origin = coro.cr_origin
                    finally:
                        _testcapi.remove_mem_hooks()
                except MemoryError:
                    failed += 1
                else:
                    succeeded += 1
                    self.assertEqual(origin, expected)
                    del origin
                # After a failure, the next read works.
                self.assertEqual(coro.cr_origin, expected)
                coro.close()
        self.assertGreater(failed, 0)
        self.assertGreater(succeeded, 0)

    def test_read_long_stack(self):
        # Many frames: many allocations to fail while building the tuple.
        def rec(n):
            if n:
                return rec(n - 1)
            return maker()
        makers = fresh_makers(40, '<nomem-long>')
        failed = 0
        with tracking(30):
            for start, maker in enumerate(makers):
                coro = rec(25)
                try:
                    _testcapi.set_nomemory(start, 0)
                    try:
                        origin = coro.cr_origin
                    finally:
                        _testcapi.remove_mem_hooks()
                except MemoryError:
                    failed += 1
                else:
                    self.assertEqual(origin, coro.cr_origin)
                self.assertEqual(len(coro.cr_origin), 30)
                self.assertEqual([f[2] for f in coro.cr_origin[:27]],
                                 ['make'] + ['rec'] * 26)
                coro.close()
        self.assertGreater(failed, 0)

    def test_first_capture_in_fresh_interpreter(self):
        # The intern table is made by the first capture: fail that too.
        code = """if 1:
            import sys, warnings, _testcapi
            warnings.simplefilter('ignore')
            async def corofn():
                pass
            def make():
                return corofn()
            sys.set_coroutine_origin_tracking_depth(1)
            failed = 0
            for start in range(20):
                try:
                    _testcapi.set_nomemory(start, start + 1)
                    try:
                        c = make()
                    finally:
                        _testcapi.remove_mem_hooks()
                except MemoryError:
                    failed += 1
                    continue
                assert c.cr_origin == (('<string>', 7, 'make'),), c.cr_origin
                c.close()
            assert failed > 0
            print('ok')
            """
        rc, out, err = assert_python_ok('-c', code)
        self.assertEqual(out.strip(), b'ok')


if __name__ == '__main__':
    unittest.main()
