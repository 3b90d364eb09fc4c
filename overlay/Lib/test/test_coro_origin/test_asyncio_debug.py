"""asyncio debug mode on lazy frame stacks (origin-python, issue 5).

_source_traceback of Futures, Tasks and Handles is kept as an opaque frame
stack handle (sys._frame_stack_capture()) and must read exactly as stock's
eager traceback.extract_stack() / format_helpers.extract_stack() list.  The
expected lists are made here with stock's own functions on the same line.
"""

import asyncio
import sys
import traceback
import unittest
from asyncio import format_helpers, futures, tasks
from asyncio import constants
import asyncio._origin


def frames(tb):
    return [(f.filename, f.lineno, f.name, f.line, f.end_lineno, f.colno,
             f.end_colno) for f in tb]


def ref_extract(limit):
    """format_helpers.extract_stack() of the caller's frame."""
    return format_helpers.extract_stack(sys._getframe(1), limit=limit)


async def coro():
    pass


class FrameStackHandleTest(unittest.TestCase):

    def test_capture_and_frames(self):
        def f():
            return sys._frame_stack_capture(3), sys._getframe()
        line = sys._getframe().f_lineno + 1
        h, frame = f()
        self.assertEqual(
            h.frames()[:2],
            ((__file__, frame.f_lineno, 'f'),
             (__file__, line, 'test_capture_and_frames')))
        self.assertEqual(len(h.frames()), 3)
        self.assertIsNone(sys._frame_stack_capture(0))
        self.assertEqual(len(sys._frame_stack_capture(-1).frames()),
                         len(traceback.extract_stack()))

    def test_interned(self):
        # The same stack twice is the same object: capture allocates
        # nothing for a stack seen before.
        handles = [sys._frame_stack_capture(2) for i in range(2)]
        self.assertIs(handles[0], handles[1])

    def test_summary(self):
        def f():
            return sys._frame_stack_capture(-1), traceback.extract_stack()
        h, ref = f()
        self.assertIsInstance(h.summary(), traceback.StackSummary)
        self.assertEqual(frames(h.summary()), frames(ref))
        self.assertEqual(frames(h.summary(1)), frames(ref[:-1]))
        self.assertEqual(frames(h.summary(10**6)), [])
        with self.assertRaises(TypeError):
            h.summary('1')
        with self.assertRaises(TypeError):
            h.summary(1, 2)

    def test_skip(self):
        def g():
            return sys._frame_stack_capture(1, 1)
        line = sys._getframe().f_lineno + 1
        h = g()
        self.assertEqual(h.frames(), ((__file__, line, 'test_skip'),))
        with self.assertRaisesRegex(ValueError,
                                    '^frames_above must be >= 0$'):
            sys._frame_stack_capture(1, -1)

    def test_origin_follows_skip_setting(self):
        # skip_modules=True applies the thread's skip= setting (a future's
        # creation site), skip_modules=False keeps every frame (debug mode).
        from test.test_coro_origin._util import settings
        def f():
            return (sys._frame_stack_capture(2),
                    sys._frame_stack_capture(2, skip_modules=True))
        with settings(depth=1, skip=(__name__,)):
            plain, origin = f()
        self.assertEqual(plain.frames()[0][2], 'f')
        self.assertNotIn(__file__, [fr[0] for fr in origin.frames()])

    def test_not_instantiable(self):
        h = sys._frame_stack_capture(1)
        with self.assertRaises(TypeError):
            type(h)()


class DebugSourceTracebackTest(unittest.TestCase):

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.loop.set_debug(True)

    def tearDown(self):
        self.loop.close()
        asyncio.set_event_loop_policy(None)

    def test_c_future(self):
        if futures.Future is futures._PyFuture:
            self.skipTest('no C Future')
        fut, ref = self.loop.create_future(), traceback.extract_stack()
        tb = fut._source_traceback
        self.assertEqual(frames(tb[:-1]), frames(ref))
        self.assertEqual(tb[-1].name, 'create_future')
        self.assertIs(fut._source_traceback, tb)     # made once

    def test_py_future(self):
        depth = constants.DEBUG_STACK_DEPTH
        fut, ref = futures._PyFuture(loop=self.loop), ref_extract(depth)
        self.assertIs(type(fut._source_stack), asyncio._origin.FrameStack)
        self.assertEqual(frames(fut._source_traceback), frames(ref))
        self.assertIsInstance(fut._source_traceback, traceback.StackSummary)

    def test_c_task(self):
        if tasks.Task is tasks._PyTask:
            self.skipTest('no C Task')
        c = coro()
        task, ref = self.loop.create_task(c), traceback.extract_stack()
        tb = task._source_traceback
        # BaseEventLoop.create_task() left itself out
        self.assertEqual(frames(tb), frames(ref))
        task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))

    def test_py_task(self):
        depth = constants.DEBUG_STACK_DEPTH
        c = coro()
        task = tasks._PyTask(c, loop=self.loop); ref = ref_extract(depth - 1)
        # Task.__init__ left itself out of the depth-limited stack
        self.assertEqual(frames(task._source_traceback), frames(ref))
        task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))

    def test_handle(self):
        depth = constants.DEBUG_STACK_DEPTH
        # Handle.__init__ starts at _call_soon(); it and call_soon() drop
        # themselves
        h, ref = self.loop.call_soon(print), ref_extract(depth - 2)
        self.assertEqual(frames(h._source_traceback), frames(ref))
        h.cancel()

    def test_timer_handle(self):
        depth = constants.DEBUG_STACK_DEPTH
        # TimerHandle.__init__, call_at() and call_later() drop themselves
        h, ref = self.loop.call_later(10, print), ref_extract(depth - 3)
        self.assertEqual(frames(h._source_traceback), frames(ref))
        h.cancel()
        h, ref = self.loop.call_at(10, print), ref_extract(depth - 2)
        self.assertEqual(frames(h._source_traceback), frames(ref))
        h.cancel()

    def test_drop_after_read(self):
        fut = futures._PyFuture(loop=self.loop)
        tb = list(fut._source_traceback)
        fut._source_traceback_drop()
        self.assertEqual(frames(fut._source_traceback), frames(tb[:-1]))

    def test_assign(self):
        fut = futures._PyFuture(loop=self.loop)
        fut._source_traceback = None
        self.assertIsNone(fut._source_traceback)

    def test_not_debug(self):
        self.loop.set_debug(False)
        self.assertIsNone(self.loop.create_future()._source_traceback)
        self.assertIsNone(futures._PyFuture(loop=self.loop)._source_traceback)
        h = self.loop.call_soon(print)
        self.assertIsNone(h._source_traceback)
        h.cancel()

    def test_repr_created_at(self):
        fut = self.loop.create_future()
        frame = fut._source_traceback[-1]
        self.assertIn(f'created at {frame[0]}:{frame[1]}', repr(fut))

    def test_task_repr_names_user_line(self):
        # asyncio.create_task() in debug mode: stock's repr names the
        # innermost frame of _source_traceback, asyncio's create_task()
        # in tasks.py; with the fork's tracking configured, the user's line
        from test.test_coro_origin._util import settings

        async def main():
            t = asyncio.create_task(coro()); line = sys._getframe().f_lineno
            try:
                return repr(t), t._source_traceback[-1], line
            finally:
                t.cancel()

        for tracebacks in (False, True):
            with self.subTest(tracebacks=tracebacks):
                with settings(depth=2, tracebacks=tracebacks):
                    # (a start-up spec, as in the environment-wide run,
                    # configures the fork's tracking whatever the thread's
                    # settings say)
                    configured = sys._coroutine_origin_configured()
                    self.assertEqual(configured, tracebacks or bool(
                        sys.get_coroutine_origin_tracking_default()[0]))
                    text, last, line = self.loop.run_until_complete(main())
                self.assertEqual(last.filename, tasks.__file__)
                stock = f'created at {last.filename}:{last.lineno}'
                mine = f'created at {__file__}:{line}'
                if configured:
                    self.assertNotIn(stock, text)
                    self.assertTrue(text.endswith(f' {mine}>'), text)
                else:
                    self.assertIn(stock, text)
                    self.assertNotIn(mine, text)

    def test_check_callback_still_rejects_coroutines(self):
        c = coro()
        with self.assertRaisesRegex(TypeError, 'coroutines cannot be used'):
            self.loop.call_soon(c)
        c.close()
        with self.assertRaisesRegex(TypeError, 'coroutines cannot be used'):
            self.loop.call_soon(coro)
        with self.assertRaisesRegex(TypeError, 'callable object'):
            self.loop.call_soon(1)


class PlainCallbackTest(unittest.TestCase):
    """Debug mode skips inspect for callbacks that cannot be coroutine
    functions, decided once per type, keeping no class alive."""

    def test_decisions(self):
        from asyncio._origin import plain_callback
        import functools

        async def coro_fn():
            pass

        class Plain:
            __slots__ = ()
            def __call__(self):
                pass

        class WithDict:
            def __call__(self):
                pass

        self.assertTrue(plain_callback(print))          # builtin
        self.assertTrue(plain_callback([].append))      # builtin method
        self.assertTrue(plain_callback((1).__add__))    # method-wrapper
        self.assertTrue(plain_callback(Plain()))
        for callback in (coro_fn, coro_fn(), functools.partial(coro_fn),
                         WithDict(), lambda: None, 42):
            with self.subTest(callback=callback):
                self.assertFalse(plain_callback(callback))
                if hasattr(callback, 'close'):
                    callback.close()

    def test_still_refuses_coroutines(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        loop.set_debug(True)

        async def coro_fn():
            pass

        with self.assertRaises(TypeError):
            loop.call_soon(coro_fn)
        with self.assertRaises(TypeError):
            loop.call_soon(42)
        loop.call_soon(print)                           # plain: accepted

    def test_keeps_no_class_alive(self):
        import gc, weakref
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        loop.set_debug(True)
        refs = []
        for i in range(200):
            cls = type(f'Callback{i}', (), {'__slots__': (),
                                            '__call__': lambda self: None})
            loop.call_soon(cls())
            refs.append(weakref.ref(cls))
        del cls
        loop.run_until_complete(asyncio.sleep(0))
        gc.collect()
        self.assertEqual([r for r in refs if r() is not None], [])


if __name__ == '__main__':
    unittest.main()
