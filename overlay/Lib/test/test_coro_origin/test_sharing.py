"""Frame stacks are interned and shared, and live exactly as long as needed.

A frame stack holds a strong reference to each code object in it, and
nothing else that Python can see, so sys.getrefcount() of a code object
counts the frame stacks that mention it: that is how these tests see
sharing and freeing without a private introspection function.
"""

import sys
import types
import unittest
import weakref
from contextlib import closing
from test import support
from test.support import import_helper

from test.test_coro_origin._util import (
    corofn, tracking, here, fresh_makers, mortal)


def make():
    return corofn()


def make_pair():
    # Same line, different instructions: two different frame stacks.
    return corofn(), corofn()


class SharingTest(unittest.TestCase):

    def test_same_site_shares(self):
        with tracking(5):
            coros = [make() for _ in range(10)]
        try:
            first = coros[0].cr_origin
            for coro in coros:
                self.assertEqual(coro.cr_origin, first)
                # Same frame stack, so the same cached tuple.
                self.assertIs(coro.cr_origin, first)
        finally:
            for coro in coros:
                coro.close()

    def test_different_sites_differ(self):
        with tracking(5):
            a, b = make_pair()
            c = make()
        with closing(a), closing(b), closing(c):
            self.assertEqual(a.cr_origin[0][:2], b.cr_origin[0][:2])
            self.assertEqual(a.cr_origin, b.cr_origin)
            self.assertIsNot(a.cr_origin, b.cr_origin)
            self.assertNotEqual(a.cr_origin, c.cr_origin)

    def test_different_depths_differ(self):
        coros = []
        for depth in (1, 2, 3):
            with tracking(depth):
                coros.append(make())
        try:
            self.assertEqual([len(c.cr_origin) for c in coros], [1, 2, 3])
            self.assertEqual(coros[1].cr_origin[:1], coros[0].cr_origin)
            self.assertEqual(coros[2].cr_origin[:2], coros[1].cr_origin)
        finally:
            for coro in coros:
                coro.close()

    @mortal
    def test_one_frame_stack_per_site(self):
        make, = fresh_makers(1, '<own>')
        code = make.__code__
        support.gc_collect()
        base = sys.getrefcount(code)
        with tracking(1):
            c1 = make()
            self.assertEqual(sys.getrefcount(code), base + 1)
            c2 = make()
            self.assertEqual(sys.getrefcount(code), base + 1)
        with tracking(2):
            # A different stack (two frames) that also mentions make().
            c3 = make()
            self.assertEqual(sys.getrefcount(code), base + 2)
        c1.close()
        del c1
        self.assertEqual(sys.getrefcount(code), base + 2)
        origin = c2.cr_origin
        c2.close()
        del c2
        # The last coroutine of the stack is gone: so is the stack.
        self.assertEqual(sys.getrefcount(code), base + 1)
        c3.close()
        del c3
        self.assertEqual(sys.getrefcount(code), base)
        # The tuple read before survives its frame stack.
        self.assertEqual(origin, (('<own>-0', 2, 'make'),))

    @mortal
    def test_depth_zero_keeps_nothing(self):
        make, = fresh_makers(1, '<own>')
        code = make.__code__
        support.gc_collect()
        base = sys.getrefcount(code)
        with tracking(0):
            coros = [make() for _ in range(5)]
            self.assertEqual(sys.getrefcount(code), base)
        for coro in coros:
            coro.close()

    @mortal
    def test_stack_recreated_after_free(self):
        make, = fresh_makers(1, '<own>')
        code = make.__code__
        support.gc_collect()
        base = sys.getrefcount(code)
        origins = []
        with tracking(2):
            for i in range(3):
                coro = make()
                self.assertEqual(sys.getrefcount(code), base + 1)
                origins.append(coro.cr_origin)
                coro.close()
                del coro
                self.assertEqual(sys.getrefcount(code), base)
        self.assertEqual(origins[0], origins[1])
        self.assertEqual(origins[0], origins[2])

    @mortal
    def test_many_stacks(self):
        # Enough distinct stacks to grow the intern table several times.
        n = 3000
        makers = fresh_makers(n, '<many>')
        codes = [m.__code__ for m in makers]
        def refcounts():
            return [sys.getrefcount(c) for c in codes]
        support.gc_collect()
        bases = refcounts()
        def two(m):
            # One site (the comprehension is inlined): one shared stack.
            return [m() for _ in range(2)] + [here(1)]
        with tracking(2):
            coros = [two(m) for m in makers]
        try:
            self.assertEqual([a - b for a, b in zip(refcounts(), bases)],
                             [1] * n)
            for i, (a, b, call) in enumerate(coros):
                expected = ((f'<many>-{i}', 2, 'make'),) + call
                self.assertEqual(a.cr_origin, expected)
                self.assertIs(b.cr_origin, a.cr_origin)
        finally:
            for a, b, _ in coros:
                a.close()
                b.close()
            del coros, a, b
        self.assertEqual(refcounts(), bases)


    @mortal
    def test_many_stacks_recreated(self):
        # More stacks than are kept for reuse after their coroutines die
        # (the GIL build keeps a few, without their references).
        makers = fresh_makers(200, '<again>')
        codes = [m.__code__ for m in makers]

        def refcounts():
            return [sys.getrefcount(c) for c in codes]
        support.gc_collect()
        bases = refcounts()
        for round in range(3):
            with tracking(2):
                coros = [(m(), here(1)) for m in makers]
            for i, (coro, call) in enumerate(coros):
                self.assertEqual(coro.cr_origin,
                                 ((f'<again>-{i}', 2, 'make'),) + call)
                coro.close()
            del coros, coro
            self.assertEqual(refcounts(), bases)

    def test_code_object_at_reused_address(self):
        # A frame stack whose code objects died may be reused for a new
        # code object at the same address (with pymalloc this happens on
        # nearly every iteration here): the origin names the new one.
        names = [f'<addr-{i}>' for i in range(50)]
        line = make.__code__.co_firstlineno + 1
        for name in names:
            code = make.__code__.replace(co_filename=name)
            func = types.FunctionType(code, globals())
            del code
            with tracking(1):
                coro = func()
            self.assertEqual(coro.cr_origin, ((name, line, 'make'),))
            coro.close()
            del coro, func


class LifetimeTest(unittest.TestCase):

    def test_origin_does_not_keep_coroutine_alive(self):
        with tracking(10):
            coro = make()
        origin = coro.cr_origin
        wr = weakref.ref(coro)
        coro.close()
        del coro
        self.assertIsNone(wr())
        self.assertEqual(origin[0][2], 'make')

    @mortal
    def test_unread_origin_freed_with_coroutine(self):
        make, = fresh_makers(1, '<own>')
        code = make.__code__
        support.gc_collect()
        base = sys.getrefcount(code)
        with tracking(3):
            coro = make()
        wr = weakref.ref(coro)
        coro.close()
        del coro
        support.gc_collect()
        self.assertIsNone(wr())
        self.assertEqual(sys.getrefcount(code), base)

    @mortal
    def test_coroutine_in_cycle(self):
        # A tracked coroutine in a reference cycle is collected, and its
        # frame stack with it.
        make, = fresh_makers(1, '<own>')
        code = make.__code__
        support.gc_collect()
        base = sys.getrefcount(code)

        class Holder:
            pass
        with tracking(3):
            holder = Holder()
            holder.coro = make()
            holder.self = holder
        holder.coro.close()
        wr = weakref.ref(holder)
        del holder
        support.gc_collect()
        self.assertIsNone(wr())
        self.assertEqual(sys.getrefcount(code), base)

    @mortal
    def test_code_freed_by_frame_stack_runs_python(self):
        # The last reference to a code object goes with the frame stack;
        # a weakref callback on the code then creates tracked coroutines
        # while the frame stack is being deallocated.
        ns = {'corofn': corofn}
        exec(compile("def creator():\n    return corofn()\n",
                     '<dying>', 'exec'), ns)
        results = []

        def callback(ref):
            for depth in (1, 2):
                with tracking(depth):
                    c = make()
                    c2 = ns2['creator']()
                results.append((c.cr_origin, c2.cr_origin))
                c.close()
                c2.close()

        ns2 = {'corofn': corofn}
        exec(compile("def creator():\n    return corofn()\n",
                     '<dying>', 'exec'), ns2)
        wr = weakref.ref(ns['creator'].__code__, callback)
        with tracking(1):
            coro = ns['creator']()
        del ns
        support.gc_collect()
        self.assertIsNotNone(wr())
        self.assertEqual(coro.cr_origin, (('<dying>', 2, 'creator'),))
        coro.close()
        del coro
        support.gc_collect()
        self.assertIsNone(wr())
        self.assertEqual(len(results), 2)
        make_line = make.__code__.co_firstlineno + 1
        self.assertEqual(results[0], (((__file__, make_line, 'make'),),
                                      (('<dying>', 2, 'creator'),)))
        self.assertEqual(results[1][0][0], (__file__, make_line, 'make'))
        self.assertEqual(results[1][1][0], ('<dying>', 2, 'creator'))
        self.assertEqual(results[1][0][1][2], 'callback')

    @mortal
    def test_code_object_kept_until_coroutine_dies(self):
        ns = {'corofn': corofn}
        exec(compile("def creator():\n    return corofn()\n",
                     '<kept>', 'exec'), ns)
        code_ref = weakref.ref(ns['creator'].__code__)
        with tracking(1):
            coro = ns['creator']()
        del ns
        support.gc_collect()
        # The frame stack holds the code object (stock held strings).
        self.assertIsNotNone(code_ref())
        self.assertEqual(coro.cr_origin, (('<kept>', 2, 'creator'),))
        coro.close()
        del coro
        support.gc_collect()
        self.assertIsNone(code_ref())


class SubinterpreterTest(unittest.TestCase):

    CODE = """if 1:
        import sys
        sys.set_coroutine_origin_tracking_depth(2)
        async def corofn():
            pass
        def make():
            return corofn()
        coros = [make() for _ in range(3)]
        expected = (('<string>', 7, 'make'), ('<string>', 8, '<module>'))
        assert coros[0].cr_origin == expected, coros[0].cr_origin
        assert coros[1].cr_origin is coros[0].cr_origin
        kept = make()   # freed while the interpreter is finalized
        kept.close()
        for c in coros:
            c.close()
        """

    def test_legacy_subinterpreter(self):
        with tracking(0):
            self.assertEqual(support.run_in_subinterp(self.CODE), 0)

    def test_isolated_subinterpreter(self):
        import_helper.import_module('_interpreters')
        from test.support import interpreters
        interp = interpreters.create()
        try:
            interp.exec(self.CODE)
        finally:
            interp.close()
        # The main interpreter's state is untouched.
        with tracking(1):
            with closing(make()) as coro:
                self.assertEqual(coro.cr_origin[0][2], 'make')


if __name__ == '__main__':
    unittest.main()
