"""cr_origin keeps stock CPython's exact values and behaviour.

Each expected value is computed independently of cr_origin (see _util), in
the situations where a lazy implementation could drift from stock's eager
one: creation-time depth, running out of frames, huge depths, frames made
by exec, comprehensions, class bodies and module code, frames that run
through C calls, frames without line numbers, and reads after the code that
created the coroutine is gone.
"""

import gc
import importlib
import os
import sys
import textwrap
import unittest
import weakref
from contextlib import closing
from test import support
from test.support import import_helper, os_helper

from test.test_coro_origin._util import (
    corofn, tracking, here, marker, mortal)

FILE = __file__


def line(name):
    return marker(FILE, name)


class DepthSemanticsTest(unittest.TestCase):

    def test_depth_zero_gives_none(self):
        with tracking(0):
            self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 0)
            with closing(corofn()) as coro:
                self.assertIsNone(coro.cr_origin)

    def test_get_set_depth(self):
        with tracking(0):
            for depth in (1, 2, 10, 1000, 2**31 - 1, 0):
                sys.set_coroutine_origin_tracking_depth(depth)
                self.assertEqual(sys.get_coroutine_origin_tracking_depth(),
                                 depth)
            with self.assertRaises(ValueError):
                sys.set_coroutine_origin_tracking_depth(-1)
            with self.assertRaises(OverflowError):
                sys.set_coroutine_origin_tracking_depth(2**31)
            with self.assertRaises(TypeError):
                sys.set_coroutine_origin_tracking_depth(1.0)
            self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 0)

    def test_depth_one_and_two_literal(self):
        def nested():
            return corofn()  # marker: nested-create
        with tracking(1):
            one = nested()  # marker: nested-call-1
        with tracking(2):
            two = nested()  # marker: nested-call-2
        with closing(one), closing(two):
            self.assertEqual(one.cr_origin, (
                (FILE, line('nested-create'), 'nested'),))
            self.assertEqual(two.cr_origin, (
                (FILE, line('nested-create'), 'nested'),
                (FILE, line('nested-call-2'), 'test_depth_one_and_two_literal'),
            ))

    def test_every_depth_matches_frames(self):
        def rec(n, depth):
            if n:
                return rec(n - 1, depth)
            return corofn(), here(depth)
        for depth in (1, 2, 3, 5, 8, 13, 50, 200):
            for n in (0, 1, 4, 20):
                with self.subTest(depth=depth, n=n), tracking(depth):
                    coro, expected = rec(n, depth)
                    with closing(coro):
                        self.assertEqual(coro.cr_origin, expected)
                        self.assertEqual(len(coro.cr_origin),
                                         min(depth, len(expected)))

    def test_running_out_of_frames(self):
        # Fewer frames than depth: stock stops at the outermost frame.
        with tracking(1000):
            coro, expected = corofn(), here(10**9)
        with closing(coro):
            self.assertLess(len(expected), 1000)
            self.assertEqual(coro.cr_origin, expected)

    def test_huge_depth(self):
        for depth in (10**6, 2**31 - 1):
            with self.subTest(depth=depth), tracking(depth):
                coro, expected = corofn(), here(depth)
                with closing(coro):
                    self.assertEqual(coro.cr_origin, expected)

    def test_depth_changed_before_read(self):
        # The value reflects the depth at creation, not at the read.
        def make():
            return corofn(), here(3)
        with tracking(3):
            coro, expected = make()
        with closing(coro):
            for depth in (0, 1, 2, 100):
                with tracking(depth):
                    self.assertEqual(coro.cr_origin, expected)
                    self.assertEqual(len(coro.cr_origin), 3)
        with tracking(2):
            with closing(corofn()) as coro2:
                sys.set_coroutine_origin_tracking_depth(0)
                self.assertEqual(len(coro2.cr_origin), 2)

    def test_tracking_turned_on_after_creation(self):
        with tracking(0):
            coro = corofn()
        with closing(coro), tracking(5):
            self.assertIsNone(coro.cr_origin)

    def test_repeated_reads_are_stable(self):
        with tracking(4):
            coro, expected = corofn(), here(4)
        with closing(coro):
            first = coro.cr_origin
            self.assertEqual(first, expected)
            # A read-only member returned the same object each time; so do
            # we, once the tuple is made.
            self.assertIs(coro.cr_origin, first)
            self.assertIsInstance(first, tuple)
            for item in first:
                self.assertIs(type(item), tuple)
                self.assertIs(type(item[0]), str)
                self.assertIs(type(item[1]), int)
                self.assertIs(type(item[2]), str)

    def test_readonly(self):
        with tracking(1):
            coro = corofn()
        with closing(coro):
            before = coro.cr_origin
            with self.assertRaisesRegex(AttributeError, '^readonly attribute$'):
                coro.cr_origin = ()
            with self.assertRaisesRegex(AttributeError, '^readonly attribute$'):
                del coro.cr_origin
            with self.assertRaisesRegex(AttributeError, '^readonly attribute$'):
                coro.cr_origin = None
            self.assertEqual(coro.cr_origin, before)
        self.assertIn('cr_origin', dir(coro))
        self.assertIsNone(type(coro).cr_origin.__doc__)


class WhereCreatedTest(unittest.TestCase):

    MODULE_SOURCE = textwrap.dedent("""\
        # line 1
        async def corofn():
            pass
        coro = corofn()
        class C:
            coro = corofn()
        listcomp = [corofn() for _ in range(1)][0]
        genexp = list(corofn() for _ in range(1))[0]
        lam = (lambda: corofn())()
        mapped = list(map(lambda _: corofn(), [0]))[0]
        def f():
            return corofn()
        nolines = f.__code__.replace(co_linetable=b'')
        f.__code__ = nolines
        noline = f()
        """)

    def exec_module_source(self, depth):
        filename = '<coro-origin-test>'
        ns = {}
        with tracking(depth):
            exec(compile(self.MODULE_SOURCE, filename, 'exec'), ns); call = here(depth)
        coros = {name: ns[name] for name in
                 ('coro', 'listcomp', 'genexp', 'lam', 'mapped', 'noline')}
        coros['class'] = ns['C'].coro
        return filename, call, coros

    def test_exec_module_class_comprehensions(self):
        f, call, coros = self.exec_module_source(3)
        self.addCleanup(lambda: [c.close() for c in coros.values()])
        self.assertEqual(coros['coro'].cr_origin, ((f, 4, '<module>'),) + call[:2])
        self.assertEqual(coros['class'].cr_origin,
                         ((f, 6, 'C'), (f, 5, '<module>')) + call[:1])
        # List comprehensions are inlined (PEP 709): no frame of their own.
        self.assertEqual(coros['listcomp'].cr_origin,
                         ((f, 7, '<module>'),) + call[:2])
        self.assertEqual(coros['genexp'].cr_origin,
                         ((f, 8, '<genexpr>'), (f, 8, '<module>')) + call[:1])
        self.assertEqual(coros['lam'].cr_origin,
                         ((f, 9, '<lambda>'), (f, 9, '<module>')) + call[:1])
        # map() is C: its entry frame is skipped.
        self.assertEqual(coros['mapped'].cr_origin,
                         ((f, 10, '<lambda>'), (f, 10, '<module>')) + call[:1])
        # No line table: PyCode_Addr2Line() gives -1 and stock put -1.
        self.assertEqual(coros['noline'].cr_origin,
                         ((f, -1, 'f'), (f, 15, '<module>')) + call[:1])

    def test_reads_after_module_namespace_is_gone(self):
        f, call, coros = self.exec_module_source(2)
        # exec_module_source() dropped the namespace, the class, and the
        # functions: only the coroutines are left.
        support.gc_collect()
        self.addCleanup(lambda: [c.close() for c in coros.values()])
        self.assertEqual(coros['coro'].cr_origin, ((f, 4, '<module>'), call[0]))
        self.assertEqual(coros['class'].cr_origin, ((f, 6, 'C'), (f, 5, '<module>')))
        self.assertEqual(coros['noline'].cr_origin, ((f, -1, 'f'), (f, 15, '<module>')))

    @mortal
    def test_reads_after_creator_deleted(self):
        ns = {'corofn': corofn}
        exec(compile("def creator():\n"
                     "    return corofn()\n", '<creator>', 'exec'), ns)
        with tracking(2):
            coro, call = ns['creator'](), here(1)
        wr = weakref.ref(ns['creator'])
        del ns
        support.gc_collect()
        self.assertIsNone(wr())
        with closing(coro):
            self.assertEqual(coro.cr_origin, (('<creator>', 2, 'creator'),) + call)

    @mortal
    def test_imported_module_gone(self):
        name = 'coro_origin_tmp_module'
        with os_helper.temp_dir() as d:
            path = os.path.join(d, name + '.py')
            with open(path, 'w', encoding='utf-8') as fp:
                fp.write("async def corofn():\n"
                         "    pass\n"
                         "coro = corofn()\n")
            with import_helper.DirsOnSysPath(d), tracking(1):
                importlib.invalidate_caches()
                module = importlib.import_module(name)
            coro = module.coro
            filename = module.__file__
            import_helper.unload(name)
            wr = weakref.ref(module)
            del module
            support.gc_collect()
            self.assertIsNone(wr())
        self.assertFalse(os.path.exists(filename))
        with closing(coro):
            self.assertEqual(coro.cr_origin, ((filename, 3, '<module>'),))

    def test_created_inside_running_coroutine(self):
        async def outer(depth):
            return corofn(), here(depth)
        for depth in (1, 2, 3):
            with self.subTest(depth=depth), tracking(depth):
                runner = outer(depth)
                try:
                    runner.send(None)
                except StopIteration as exc:
                    coro, expected = exc.value
                with closing(coro):
                    self.assertEqual(coro.cr_origin, expected)
                    self.assertEqual(coro.cr_origin[0][2], 'outer')
                    if depth > 1:
                        self.assertEqual(coro.cr_origin[1][2],
                                         'test_created_inside_running_coroutine')
                runner.close()

    def test_created_in_generator_and_init(self):
        def gen(depth):
            yield corofn(), here(depth)

        class Cls:
            def __init__(self, depth):
                self.coro, self.expected = corofn(), here(depth)

        with tracking(3):
            # Enough calls for the specializing interpreter to use its
            # shim frames (CALL_ALLOC_AND_ENTER_INIT).
            for i in range(50):
                coro, expected = next(gen(3))
                with closing(coro):
                    self.assertEqual(coro.cr_origin, expected)
                obj = Cls(3)
                with closing(obj.coro):
                    self.assertEqual(obj.coro.cr_origin, obj.expected)
                    self.assertEqual(obj.coro.cr_origin[0][2], '__init__')
                    self.assertEqual(obj.coro.cr_origin[1][2],
                                     'test_created_in_generator_and_init')

    def test_created_during_async_with_and_await(self):
        # Frames owned by running coroutines, several levels deep.
        async def level(n, depth):
            if n:
                return await level(n - 1, depth)
            return corofn(), here(depth)
        for depth in (2, 5, 10):
            with self.subTest(depth=depth), tracking(depth):
                runner = level(4, depth)
                with self.assertRaises(StopIteration) as cm:
                    runner.send(None)
                coro, expected = cm.exception.value
                with closing(coro):
                    self.assertEqual(coro.cr_origin, expected)
                    names = [name for _, _, name in coro.cr_origin]
                    self.assertEqual(names[:min(depth, 5)],
                                     ['level'] * min(depth, 5))


class WarningTest(unittest.TestCase):

    def test_unawaited_warning_text(self):
        # The text warnings._warn_unawaited_coroutine() builds from
        # cr_origin, read after the creating function is gone.
        def creator():
            return corofn()  # marker: warn-create
        for depth, expected_frames in (
            (1, [('creator', 'warn-create', 'return corofn()')]),
            (2, [('test_unawaited_warning_text', 'warn-call',
                  'coro = creator()'),
                 ('creator', 'warn-create', 'return corofn()')]),
        ):
            with self.subTest(depth=depth):
                with tracking(depth):
                    coro = creator()  # marker: warn-call
                support.gc_collect()
                with self.assertWarns(RuntimeWarning) as cm:
                    del coro
                    support.gc_collect()
                lines = [f"coroutine '{corofn.__qualname__}' was never awaited",
                         "Coroutine created at (most recent call last)"]
                for func, name, src in expected_frames:
                    lines.append(f'  File "{FILE}", line {line(name)}, in {func}')
                    lines.append(f'    {src}  # marker: {name}')
                self.assertEqual(str(cm.warning), "\n".join(lines))

    def test_unawaited_warning_without_tracking(self):
        with tracking(0):
            coro = corofn()
        with self.assertWarns(RuntimeWarning) as cm:
            del coro
            support.gc_collect()
        self.assertEqual(str(cm.warning),
                         f"coroutine '{corofn.__qualname__}' was never awaited")


class NotExposedTest(unittest.TestCase):

    def test_slot_object_not_reachable_from_python(self):
        # The frame stack in the coroutine's slot is internal: the GC does
        # not report it, and cr_origin is always None or a tuple.
        with tracking(3):
            coro = corofn()
        with closing(coro):
            for obj in gc.get_referents(coro):
                self.assertNotEqual(type(obj).__name__,
                                    'coroutine_origin_frames')
            self.assertIs(type(coro.cr_origin), tuple)

    def test_sizeof_unchanged(self):
        # No layout change: tracking does not change the coroutine's size.
        with tracking(0):
            a = corofn()
        with tracking(20):
            b = corofn()
        with closing(a), closing(b):
            self.assertEqual(sys.getsizeof(a), sys.getsizeof(b))


if __name__ == '__main__':
    unittest.main()
