# Tests for origin-python's cancellation provenance: with the fork's
# tracking on, Future.cancel() and Task.cancel() (C and Python) keep who
# asked, and the CancelledError asyncio delivers says it in tracebacks
# (one block after the notes); a task's repr says where.  str(), args and
# __notes__ stay stock's; with tracking off nothing changes.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import copy
import linecache
import os
import pickle
import re
import signal
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import unittest
from asyncio import _origin, futures, tasks
from test import support
from test.support import os_helper, script_helper

import _coro_origin_report as report

from test.test_coro_origin import _util
from test.test_coro_origin._util import (
    assert_python_failure, assert_python_ok, marker, settings)

FILE = __file__.removesuffix('c')
HEADER = 'Cancellation requested at (most recent call last)'


def line(name):
    return marker(FILE, name)


def frame_lines(name, func):
    n = line(name)
    return [f'  File "{FILE}", line {n}, in {func}',
            '    ' + linecache.getline(FILE, n).strip()]


def record(exc):
    """*exc*'s record, as the renderer reads it: who asked as text, the
    frames as cr_origin has them (the record keeps a frame stack and the
    parts of "by" until shown; a pickled or copied exception has the
    frames)."""
    info = sys._coroutine_origin_of_exception(exc)
    if info is None or info[0] != 'cancelled':
        return info
    by, reason, count = info[1]
    return (info[0], (report.cancel_by_text(by), reason, count),
            report._frames_of(info[2]), info[3])


def block(exc):
    """The lines traceback adds for *exc*, after its own line."""
    lines = traceback.format_exception_only(exc)
    text = ''.join(lines).rstrip('\n').split('\n')
    return text[text.index(HEADER):] if HEADER in text else []


def fork_tracking():
    """This thread's settings with the fork's tracking on, one frame deep
    (the line that asked)."""
    return settings(depth=1, chain=1)


async def sleeper():
    await asyncio.sleep(10)


async def stopper(task, times=1):
    await asyncio.sleep(0)
    for _ in range(times):
        task.cancel()  # marker: cancel


def run(main, task_factory=None):
    loop = asyncio.new_event_loop()
    try:
        if task_factory is not None:
            loop.set_task_factory(task_factory)
        return loop.run_until_complete(main())  # marker: run-main
    finally:
        loop.close()


def py_task_factory(loop, coro, **kwargs):
    return tasks._PyTask(coro, loop=loop, **kwargs)


async def cancelled_by_stopper(times=1):
    t = asyncio.create_task(sleeper(), name='victim')
    coro = stopper(t, times)  # marker: stopper-created
    s = asyncio.create_task(coro, name='stopper')
    try:
        await t
    except asyncio.CancelledError as exc:
        await s
        return t, s, exc
    raise AssertionError('not cancelled')


class CancelProvenanceTest(unittest.TestCase):
    maxDiff = None

    def check_task(self, task_factory):
        with fork_tracking():
            t, s, exc = run(cancelled_by_stopper, task_factory)
            site = repr(t).rsplit(' cancel requested at ', 1)[1]
        self.assertEqual(site, f'{FILE}:{line("cancel")}>')
        created = line('stopper-created')
        by = f"by task 'stopper' (created at {FILE}:{created})"
        info = record(exc)
        self.assertEqual(info[0], 'cancelled')
        self.assertEqual(info[1], (by, None, 1))
        self.assertEqual(info[2][0], (FILE, line('cancel'), 'stopper'))
        self.assertIsNone(info[3])
        self.assertEqual(block(exc)[:3],
                         [HEADER] + frame_lines('cancel', 'stopper'))
        self.assertEqual(block(exc)[-1], '  ' + by)
        # stock's str(), args, notes
        self.assertEqual((str(exc), exc.args), ('', ()))
        self.assertFalse(hasattr(exc, '__notes__'))

    def test_c_task(self):
        self.check_task(None)

    def test_python_task(self):
        self.check_task(py_task_factory)

    def test_count(self):
        with fork_tracking():
            t, s, exc = run(lambda: cancelled_by_stopper(times=3))
        self.assertEqual(record(exc)[1][2], 3)
        self.assertEqual(block(exc)[-1],
                         '  (3 requests; the first is shown)')

    def test_waiter_cancelled_before_its_task(self):
        # The future a task awaits, cancelled by its own cancel() first:
        # the CancelledError the task's coroutine gets is that future's,
        # and names that request, not the task's later one.
        for factory in (None, py_task_factory):
            async def victim(fut):
                try:
                    await fut
                except asyncio.CancelledError as exc:
                    return exc

            async def main():
                fut = asyncio.get_running_loop().create_future()
                t = asyncio.create_task(victim(fut))
                await asyncio.sleep(0)
                fut.cancel()  # marker: waiter-cancel
                t.cancel()  # marker: task-cancel
                return await t
            with self.subTest(factory=factory), fork_tracking():
                exc = run(main, factory)
                self.assertEqual(record(exc)[2][0],
                                 (FILE, line('waiter-cancel'), 'main'))
                self.assertEqual(record(exc)[1][2], 1)

    def test_task_awaiting_task(self):
        # A task that awaits another: its cancel() cancels that one too
        # (asyncio's own call): both coroutines' CancelledErrors name the
        # one request.
        for factory in (None, py_task_factory):
            caught = []

            async def inner():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError as exc:
                    caught.append(exc)
                    raise

            async def outer(t):
                try:
                    await t
                except asyncio.CancelledError as exc:
                    caught.append(exc)

            async def main():
                t = asyncio.create_task(inner())
                o = asyncio.create_task(outer(t))
                await asyncio.sleep(0)
                o.cancel()  # marker: outer-cancel
                await o
            with self.subTest(factory=factory), fork_tracking():
                run(main, factory)
                self.assertEqual(len(caught), 2)
                for exc in caught:
                    self.assertEqual(record(exc)[2][0],
                                     (FILE, line('outer-cancel'), 'main'))
                    self.assertEqual(record(exc)[1][2], 1)

    def test_future(self):
        for make in (asyncio.Future, futures._PyFuture):
            with self.subTest(make=make), fork_tracking():
                async def main():
                    fut = make()
                    fut.cancel('why')  # marker: future-cancel
                    try:
                        fut.result()
                    except asyncio.CancelledError as exc:
                        return exc
                exc = run(main)
                self.assertEqual(str(exc), 'why')
                self.assertEqual(record(exc)[2][0],
                                 (FILE, line('future-cancel'), 'main'))
                self.assertTrue(record(exc)[1][0].startswith(
                    "by task 'Task-"), record(exc))

    def test_shield(self):
        # shield() keeps the inner task running: the awaiting task's
        # CancelledError names who cancelled that task, C and Python.
        inner = []

        async def save():
            await asyncio.sleep(10)

        async def handler():
            inner.append(asyncio.ensure_future(save()))
            await asyncio.shield(inner[-1])

        async def main():
            t = asyncio.create_task(handler(), name='handler')
            await asyncio.sleep(0)
            t.cancel()  # marker: shield-cancel
            try:
                await t
            except asyncio.CancelledError as exc:
                self.assertFalse(inner[-1].cancelled())
                inner[-1].cancel()
                await asyncio.sleep(0)
                return exc
        for factory in (None, py_task_factory):
            with self.subTest(factory=factory), fork_tracking():
                exc = run(main, factory)
                self.assertEqual(record(exc)[2][0],
                                 (FILE, line('shield-cancel'), 'main'))
                by, because = record(exc)[1][:2]
                self.assertIsNone(because)
                self.assertRegex(by, r"^by task '(Task-\d+|None)' \(created "
                                 rf"at {re.escape(FILE)}:"
                                 rf"{line('run-main')}\)$")

    def test_taskgroup(self):
        async def bad():
            await asyncio.sleep(0)
            raise ValueError('boom')  # marker: boom

        async def main():
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(bad(), name='bad')
                    t = tg.create_task(sleeper(), name='slow')
            except* ValueError:
                pass
            try:
                await t
            except asyncio.CancelledError as exc:
                return exc
        with fork_tracking():
            exc = run(main)
        self.assertEqual(record(exc)[1][:2], (
            'outside any task (by an event loop callback)',
            f"task 'bad' of its TaskGroup failed with ValueError at "
            f"{FILE}:{line('boom')}"))
        self.assertEqual(block(exc)[-2:], [
            '  outside any task (by an event loop callback)',
            f"  because task 'bad' of its TaskGroup failed with ValueError "
            f"at {FILE}:{line('boom')}"])

    def test_timeout(self):
        # with a deadline in the past: the reason, no delay
        async def main():
            try:
                async with asyncio.timeout(0):  # marker: timeout-0
                    await asyncio.sleep(1)
            except TimeoutError as exc:
                return exc
        with fork_tracking():
            exc = run(main)
        cancelled = exc.__cause__
        self.assertIsInstance(cancelled, asyncio.CancelledError)
        self.assertEqual(record(cancelled)[1][1],
                         'the timeout set there expired (its deadline had '
                         'passed)')
        self.assertEqual(record(cancelled)[2][0],
                         (FILE, line('timeout-0'), 'main'))
        self.assertIsNone(record(exc))

    def test_timeout_site_and_delay(self):
        # The block shows where the timeout was set (asyncio's
        # __aenter__() and reschedule() left out) and its delay, for
        # asyncio.timeout() and wait_for(), C and Python tasks.
        async def with_timeout():
            async with asyncio.timeout(0.05):  # marker: timeout-set
                await asyncio.sleep(10)

        async def with_wait_for():
            await asyncio.wait_for(sleeper(), 0.05)  # marker: wait-for-set

        for factory in (None, py_task_factory):
            for func, name in ((with_timeout, 'timeout-set'),
                               (with_wait_for, 'wait-for-set')):
                async def main():
                    try:
                        await func()
                    except TimeoutError as exc:
                        return exc.__cause__
                with self.subTest(factory=factory, func=func.__name__):
                    with fork_tracking():
                        exc = run(main, factory)
                    lines = block(exc)
                    self.assertEqual(lines[:3], [HEADER] + frame_lines(
                        name, func.__name__))
                    self.assertEqual(lines[-2:], [
                        '  outside any task (by an event loop callback)',
                        '  because the timeout set there expired (0.05 s)'])

    def test_timeout_forgotten(self):
        # an entry per timeout, removed with it; none with tracking off
        async def main():
            async with asyncio.timeout(10) as cm:
                key = id(cm)
                self.assertIn(key, _origin._timeouts)
            return key
        with fork_tracking():
            key = run(main)
        support.gc_collect()
        self.assertNotIn(key, _origin._timeouts)

        async def untracked():
            async with asyncio.timeout(10) as cm:
                return id(cm) in _origin._timeouts
        with settings():
            self.assertFalse(run(untracked))

    def test_run_cancels_leftovers(self):
        seen = []

        async def leftover():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError as exc:
                seen.append(exc)
                raise

        async def main():
            asyncio.create_task(leftover())
            await asyncio.sleep(0)
        with fork_tracking():
            asyncio.run(main())
        self.assertEqual(record(seen[0])[1][1],
                         'asyncio.run() or Runner cancels the tasks left at '
                         'its end')

    def test_other_thread(self):
        # Not thread-safe, but people do it: the thread is named.
        async def main():
            t = asyncio.create_task(sleeper())
            await asyncio.sleep(0)
            def cancel():
                with fork_tracking():
                    t.cancel()
            th = threading.Thread(target=cancel, name='canceller')
            th.start()
            th.join()
            try:
                await t
            except asyncio.CancelledError as exc:
                return exc
        with fork_tracking():
            exc = run(main)
        self.assertEqual(record(exc)[1][0],
                         "outside any task (no event loop running), "
                         "thread 'canceller'")

    def test_destroyed_pending(self):
        # cancel() was asked for, and the loop was closed before the task
        # ran again: "Task was destroyed but it is pending!" says who
        # asked, after where the task was created.
        seen = []
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda loop, ctx: seen.append(ctx))
        with fork_tracking():
            t = loop.create_task(sleeper())
            loop.run_until_complete(asyncio.sleep(0))
            t.cancel()  # marker: never-run
        loop.close()
        import _coro_origin_report
        with fork_tracking():
            text = _coro_origin_report.context_origin_text(
                {'message': 'Task was destroyed but it is pending!',
                 'task': t})
        self.assertEqual(text.split('\n')[-4:], [HEADER] + frame_lines(
            'never-run', 'test_destroyed_pending') + [
            '  outside any task (no event loop running)'])
        t._log_destroy_pending = False
        del t

    def test_destroyed_pending_by_collection(self):
        # The cyclic collector clears a task's weak references before its
        # finalizer reports it: the request is still found then.
        seen = []

        def handler(loop, context):
            seen.append(report.context_origin_text(context))

        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(10)

        async def main():
            t = asyncio.create_task(stubborn())
            await asyncio.sleep(0)
            t.cancel()  # marker: collected-cancel
            await asyncio.sleep(0)
            t.cycle = t
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(handler)
        with fork_tracking():
            loop.run_until_complete(
                loop.create_task(main(), name='main'))  # marker: collected-main
            loop.close()
            del loop
            support.gc_collect()
        self.assertEqual(len(seen), 1, seen)
        self.assertEqual(seen[0].split('\n')[-4:], [HEADER] + frame_lines(
            'collected-cancel', 'main') + [
            f"  by task 'main' (created at "
            f"{FILE}:{line('collected-main')})"])

    def test_strict_record_at_exit(self):
        # A task destroyed pending at exit, after its cancellation was
        # asked for: the report and strict's record say who asked (the
        # renderer, first imported at exit, is imported with no
        # collection that could report through it half imported).
        script = textwrap.dedent("""\
            import asyncio

            async def stubborn():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    await asyncio.sleep(10)

            async def main():
                t = asyncio.create_task(stubborn())
                await asyncio.sleep(0)
                t.cancel()
                await asyncio.sleep(0)

            loop = asyncio.new_event_loop()
            loop.run_until_complete(main())
            loop.close()
            """)
        rc, out, err = script_helper.assert_python_failure(
            '-X', 'coro_origin=10,strict', '-c', script)
        self.assertEqual(rc, 70)
        err = err.decode()
        self.assertEqual(err.count(HEADER), 2, err)
        self.assertEqual(err.count('File "<string>", line 12, in main'), 2,
                         err)
        self.assertIn(' cancel requested at <string>:12>', err)

    def test_pending_cancel_passed_to_awaited_future(self):
        # cancel() while the task runs (no waiter yet): its step passes
        # the request on to the future it then awaits, whose
        # CancelledError the task gets: it names the same request.
        for factory in (None, py_task_factory):
            async def victim():
                asyncio.current_task().cancel()  # marker: self-cancel
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError as exc:
                    return exc

            async def main():
                return await asyncio.create_task(victim())
            with self.subTest(factory=factory), fork_tracking():
                exc = run(main, factory)
                self.assertEqual(record(exc)[2][0],
                                 (FILE, line('self-cancel'), 'victim'))

    def test_pickle_and_copy(self):
        with fork_tracking():
            t, s, exc = run(cancelled_by_stopper)
        for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc),
                      copy.deepcopy(exc)):
            self.assertEqual(record(clone), record(exc))

    def test_tracking_off(self):
        with settings():
            t, s, exc = run(cancelled_by_stopper)
            self.assertNotIn('cancel requested', repr(t))
        self.assertEqual(vars(exc), {})
        self.assertEqual(block(exc), [])

    def test_stock_depth_alone(self):
        # asyncio's debug mode sets stock's depth: nothing is recorded
        default = sys.get_coroutine_origin_tracking_default()
        sys.set_coroutine_origin_tracking_default(0)
        try:
            with settings():
                sys.set_coroutine_origin_tracking_depth(10)
                t, s, exc = run(cancelled_by_stopper)
        finally:
            sys.set_coroutine_origin_tracking_default(default.depth)
        self.assertEqual(vars(exc), {})

    def test_nothing_kept_alive(self):
        import gc
        import weakref
        with fork_tracking():
            t, s, exc = run(cancelled_by_stopper)
        ref = weakref.ref(t)
        from asyncio import _origin
        self.assertIn(id(t), _origin._cancels)
        key = id(t)
        del t, exc
        gc.collect()
        self.assertIsNone(ref())
        self.assertNotIn(key, _origin._cancels)


STOP_HEADER = 'Event loop stopped at (most recent call last)'


def stop_block(exc):
    lines = traceback.format_exception_only(exc)
    text = ''.join(lines).rstrip('\n').split('\n')
    return text[text.index(STOP_HEADER):] if STOP_HEADER in text else []


class LoopStopTest(unittest.TestCase):
    """run_until_complete()'s "Event loop stopped before Future
    completed." says where loop.stop() was called, and by whom."""
    maxDiff = None

    def stopped(self, main):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(main())
        except RuntimeError as exc:
            return loop, exc
        finally:
            loop.close()
        raise AssertionError('not stopped')

    def test_stop_in_task(self):
        async def stopper():
            asyncio.get_running_loop().stop()  # marker: stop-call

        async def main():
            asyncio.create_task(stopper(), name='stopper')  # marker: stopper
            await asyncio.sleep(10)
        with fork_tracking():
            loop, exc = self.stopped(main)
        self.assertEqual(str(exc), 'Event loop stopped before Future '
                                   'completed.')
        self.assertEqual(stop_block(exc), [STOP_HEADER] + frame_lines(
            'stop-call', 'stopper') + [
            f"  by task 'stopper' (created at {FILE}:{line('stopper')})"])
        # the record is made when read, from the loop the frame raised in
        self.assertEqual(record(exc)[0], 'stopped')
        self.assertFalse(hasattr(exc, '__coro_origin__'))

    # When stop() is itself the callback, the block's site is the line
    # that scheduled it (Handle._site), the last frame of the block.

    def test_stop_as_callback(self):
        async def main():
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.stop)  # marker: stop-soon
            await asyncio.sleep(10)
        with fork_tracking():
            loop, exc = self.stopped(main)
        self.assertEqual(stop_block(exc)[-4:], frame_lines(
            'stop-soon', 'main') + [
            '  outside any task (by an event loop callback)',
            '  because loop.stop() was a callback scheduled there '
            '(call_soon() or the like)'])

    def test_stop_as_timer(self):
        async def main():
            loop = asyncio.get_running_loop()
            loop.call_later(0.001, loop.stop)  # marker: stop-later
            await asyncio.sleep(10)
        with fork_tracking():
            loop, exc = self.stopped(main)
        self.assertEqual(stop_block(exc)[-4:], frame_lines(
            'stop-later', 'main') + [
            '  outside any task (by an event loop callback)',
            '  because loop.stop() was a timer callback scheduled there '
            '(call_later() or call_at())'])

    def test_stop_scheduled_before_run(self):
        # loop.stop bound before the loop ran is the class's method: the
        # loop, once it runs with tracking on, notes it too
        with fork_tracking():
            asyncio.run(asyncio.sleep(0))   # (the handles keep sites)
            loop = asyncio.new_event_loop()
            try:
                handle = loop.call_soon(loop.stop)  # marker: stop-early
                other = loop.call_soon(print)
                self.assertEqual(repr(handle), repr(other).replace(
                    'print', 'BaseEventLoop.stop'))
                # (not assertRaises(): it clears the traceback's frames,
                # where the record is found)
                try:
                    loop.run_until_complete(asyncio.sleep(10))
                except RuntimeError as e:
                    exc = e
                else:
                    self.fail('not stopped')
                self.assertIn('BaseEventLoop.stop()', repr(handle))
                loop.run_until_complete(asyncio.sleep(0))
            finally:
                loop.close()
        self.assertEqual(stop_block(exc)[-4:], frame_lines(
            'stop-early', 'test_stop_scheduled_before_run') + [
            '  outside any task (by an event loop callback)',
            '  because loop.stop() was a callback scheduled there '
            '(call_soon() or the like)'])

    def test_stop_as_callback_not_scheduled_by_user(self):
        # A handle made with tracking off keeps no site: the block says
        # where stop() ran, as before
        async def main():
            loop = asyncio.get_running_loop()
            with settings():
                loop.call_soon(loop.stop)
            await asyncio.sleep(10)
        with fork_tracking():
            loop, exc = self.stopped(main)
        self.assertEqual(stop_block(exc)[-2:], [
            '  outside any task (by an event loop callback)',
            '  because loop.stop() was a callback (call_soon() or the '
            'like)'])

    @unittest.skipUnless(hasattr(signal, 'SIGUSR2'), 'needs SIGUSR2')
    def test_stop_as_signal_handler(self):
        async def main():
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(  # marker: stop-signal
                signal.SIGUSR2, loop.stop)
            loop.call_soon(os.kill, os.getpid(), signal.SIGUSR2)
            await asyncio.sleep(support.SHORT_TIMEOUT)
        with fork_tracking():
            loop, exc = self.stopped(main)
        self.assertEqual(stop_block(exc)[-4:], frame_lines(
            'stop-signal', 'main') + [
            '  outside any task (by an event loop callback)',
            '  because SIGUSR2 arrived: loop.stop() is its handler, set '
            'there (loop.add_signal_handler())'])

    def test_tracking_off(self):
        async def main():
            asyncio.get_running_loop().stop()
            await asyncio.sleep(10)
        with settings():
            loop, exc = self.stopped(main)
        self.assertIsNone(record(exc))
        self.assertEqual(stop_block(exc), [])

    def test_own_stop_not_kept(self):
        # run_until_complete() stops the loop itself once done: not kept
        loop = asyncio.new_event_loop()
        try:
            with fork_tracking():
                loop.run_until_complete(asyncio.sleep(0))
            self.assertIsNone(_origin.stop_entry(loop))
            with fork_tracking():
                loop.stop()  # marker: early-stop
                loop.run_forever()
            entry = _origin.stop_entry(loop)
            self.assertEqual(entry[1].frames()[0], (
                FILE, line('early-stop'), 'test_own_stop_not_kept'))
        finally:
            loop.close()
        key = id(loop)
        del loop, entry
        support.gc_collect()
        self.assertNotIn(key, _origin._stops)

    def test_destroyed_pending(self):
        # run_forever() returned early: a task left pending says where
        # its loop was stopped
        async def main():
            asyncio.get_running_loop().stop()  # marker: forever-stop
            await asyncio.sleep(10)
        loop = asyncio.new_event_loop()
        with fork_tracking():
            t = loop.create_task(main())  # marker: forever-task
            loop.run_forever()
        loop.close()
        with fork_tracking():
            text = report.context_origin_text(
                {'message': 'Task was destroyed but it is pending!',
                 'task': t})
        self.assertEqual(text.split('\n')[-4:], [STOP_HEADER] + frame_lines(
            'forever-stop', 'main') + [
            f"  by task '{t.get_name()}' (created at "
            f"{FILE}:{line('forever-task')})"])
        t._log_destroy_pending = False
        del t


async def failing():
    raise ConnectionError('refused')


async def succeeding():
    return 1


class ThreadsafeTest(unittest.TestCase):
    """run_coroutine_threadsafe()'s future reports a wait on its own
    loop's thread (before it blocks) and an exception nobody retrieved
    (when it is collected)."""
    maxDiff = None

    def run_loop(self, main):
        seen = []
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda loop, ctx: seen.append(ctx))
        try:
            result = loop.run_until_complete(main(loop))
        finally:
            loop.close()
        return result, seen

    def test_wait_on_loop_thread(self):
        async def main(loop):
            future = asyncio.run_coroutine_threadsafe(  # marker: scheduled
                succeeding(), loop)
            try:
                future.result(timeout=0.01)  # marker: waited
            except TimeoutError:
                future.cancel()
                await asyncio.sleep(0)
                return 'timed out'
        with fork_tracking():
            result, seen = self.run_loop(main)
        self.assertEqual(result, 'timed out')
        self.assertEqual(len(seen), 1, seen)
        self.assertEqual(
            {k: v for k, v in seen[0].items() if k != 'message'},
            {'waited_at': f'{FILE}:{line("waited")}',
             'scheduled_at': f'{FILE}:{line("scheduled")}'})
        self.assertIn("thread of its own event loop", seen[0]['message'])

    def dropped(self, use):
        async def main(loop):
            future = asyncio.run_coroutine_threadsafe(  # marker: ts-drop
                failing(), loop)
            use(future, loop)
            # (the failure travels through a few callbacks, more or fewer
            # loop iterations from one release to another)
            for _ in range(10):
                await asyncio.sleep(0)
            if use == self.retrieve:
                self.assertIsInstance(future.exception(), ConnectionError)
            del future
            support.gc_collect()
        with fork_tracking():
            return self.run_loop(main)

    def retrieve(self, future, loop):
        pass

    def test_dropped_exception(self):
        result, seen = self.dropped(lambda future, loop: None)
        self.assertEqual(len(seen), 1, seen)
        self.assertEqual(seen[0]['message'],
                         'Future exception was never retrieved')
        self.assertIsInstance(seen[0]['exception'], ConnectionError)
        self.assertEqual(seen[0]['dropped_by'], (
            'the concurrent.futures.Future that run_coroutine_threadsafe() '
            f'at {FILE}:{line("ts-drop")} returned was collected without its '
            'result() or exception() read'))

    def test_retrieved_is_not_reported(self):
        def callback(future, loop):
            future.add_done_callback(lambda f: None)

        def wrap(future, loop):
            asyncio.wrap_future(future, loop=loop).add_done_callback(
                lambda f: f.exception())
        for use in (self.retrieve, callback, wrap):
            with self.subTest(use=use):
                result, seen = self.dropped(use)
                self.assertEqual(seen, [])

    def test_tracking_off(self):
        async def main(loop):
            future = asyncio.run_coroutine_threadsafe(succeeding(), loop)
            try:
                future.result(timeout=0.01)
            except TimeoutError:
                future.cancel()
                await asyncio.sleep(0)
                return type(future._condition)
        with settings():
            result, seen = self.run_loop(main)
        self.assertIs(result, threading.Condition)
        self.assertEqual(seen, [])


KEPT_AT_EXIT = textwrap.dedent('''\
    import asyncio, sys, threading

    class Registry:
        kept = []

    async def job():
        raise ValueError('lost')

    async def main():
        loop = asyncio.get_running_loop()
        if 'py' in sys.argv:
            loop.set_task_factory(
                lambda loop, coro, **kw: asyncio.tasks._PyTask(coro, loop=loop))
        Registry.kept.append(asyncio.create_task(job()))
        fut = loop.create_future()
        fut.set_exception(KeyError('gone'))
        Registry.kept.append(fut)
        await asyncio.sleep(0.01)
        if 'retrieve' in sys.argv:
            for f in Registry.kept:
                f.exception()

    if 'running' in sys.argv:
        # a loop still running at exit (a daemon thread's): left alone
        started = threading.Event()
        async def forever():
            await main()
            started.set()
            await asyncio.Event().wait()
        threading.Thread(target=asyncio.run, args=(forever(),),
                         daemon=True).start()
        started.wait()
    else:
        asyncio.run(main())
    print('bye')
    ''')

KEPT_AT_EXIT_REPORT = '''\
Task exception was never retrieved
future: <Task finished name='Task-2' coro=<job() done, defined at app.py:6> exception=ValueError('lost')>
Coroutine created at (most recent call last)
  File "app.py", line 34, in <module>
    asyncio.run(main())
  [6 frames folded: asyncio]
  File "app.py", line 14, in main
    Registry.kept.append(asyncio.create_task(job()))
Traceback (most recent call last):
  File "app.py", line 7, in job
    raise ValueError('lost')
ValueError: lost
Future exception was never retrieved
future: <Future finished exception=KeyError('gone')>
Future created at (most recent call last)
  File "app.py", line 34, in <module>
    asyncio.run(main())
  [6 frames folded: asyncio]
  File "app.py", line 15, in main
    fut = loop.create_future()
  [1 frame folded: asyncio]
KeyError: 'gone'
'''


class ReferencedAtExitTest(unittest.TestCase):
    """A task or future that failed and is still referenced at exit is
    reported then (stock reports it when it is collected: during the
    teardown, where the report may be lost, or never)."""
    maxDiff = None

    def run_kept(self, *args, spec='10'):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'app.py')
            with open(path, 'w') as f:
                f.write(KEPT_AT_EXIT)
            res, cmd = _util.run_python('-X', f'coro_origin={spec}', path,
                                        *args, __isolated=False)
        err = res.err.decode().replace(path, 'app.py')
        return res.rc, res.out.decode(), err

    def test_c_task_and_future(self):
        self.assertEqual(self.run_kept(), (0, 'bye\n', KEPT_AT_EXIT_REPORT))

    def test_python_task(self):
        rc, out, err = self.run_kept('py')
        # (the pure-Python task's traceback has its step's frame too; a
        # task factory's task is named by create_task(): here None)
        err = err.replace("name='None'", "name='Task-2'")
        err = re.sub(r'  File ".*asyncio/tasks\.py", line \d+, in \w+\n'
                     r'    .*\n', '', err)
        self.assertEqual((rc, out, err), (0, 'bye\n', KEPT_AT_EXIT_REPORT))

    def test_strict_counts_them_once(self):
        rc, out, err = self.run_kept(spec='10,strict')
        self.assertEqual((rc, out), (70, 'bye\n'))
        self.assertTrue(err.startswith(KEPT_AT_EXIT_REPORT), err)
        self.assertIn('origin-python strict: 2 problems of lost asyncio '
                      'work (exit status 70)\n  1 task exception never '
                      'retrieved\n  1 future exception never retrieved\n',
                      err)
        self.assertEqual(err.count('exception was never retrieved\n'), 2)

    def test_not_reported(self):
        # retrieved; a loop still running; tracking off (stock's reports,
        # if the teardown collects them in time, and nothing of ours)
        self.assertEqual(self.run_kept('retrieve'), (0, 'bye\n', ''))
        self.assertEqual(self.run_kept('running'), (0, 'bye\n', ''))
        rc, out, err = self.run_kept(spec='0')
        self.assertEqual((rc, out), (0, 'bye\n'))
        self.assertNotIn('created at', err)


def wait_until_selecting(thread_id):
    """Return once the thread *thread_id* waits in a selector's select()
    (an event loop asleep), so that what a test does next finds it so."""
    codes = _origin._select_codes()
    deadline = time.monotonic() + support.SHORT_TIMEOUT
    while time.monotonic() < deadline:
        frame = sys._current_frames().get(thread_id)
        if frame is not None and frame.f_code in codes:
            return
        time.sleep(0.001)
    raise AssertionError('the loop never waited in select()')


class WrongThreadTest(unittest.TestCase):
    """call_soon() and call_at() from another thread than the loop's
    (Future.set_result(), Event.set() and the like reach call_soon()) are
    reported once per loop and line, outside debug mode too."""
    maxDiff = None

    def run_with_thread(self, target, tracking=True):
        async def main():
            loop = asyncio.get_running_loop()
            event = asyncio.Event()
            main_id = threading.get_ident()

            def producer(loop, event):
                wait_until_selecting(main_id)
                target(loop, event)
            thread = threading.Thread(target=producer, args=(loop, event),
                                      name='producer')
            thread.start()
            await asyncio.wait_for(event.wait(), support.SHORT_TIMEOUT)
            thread.join()
        loop = asyncio.new_event_loop()
        try:
            with (fork_tracking() if tracking else settings()):
                loop.run_until_complete(main())  # marker: loop-start
        finally:
            loop.close()

    def expected(self, method, name):
        return [
            f'Non-thread-safe {method}() of an event loop called from '
            "thread 'producer', not from the loop's own thread: the loop may "
            'not wake up for it (use loop.call_soon_threadsafe(), or '
            'asyncio.run_coroutine_threadsafe())',
            f'called_at: {FILE}:{line(name)}',
            f"loop_thread: '{threading.current_thread().name}', loop "
            f'started at {FILE}:{line("loop-start")}']

    def test_event_set(self):
        def target(loop, event):
            event.set()  # marker: event-set
            # (what call_soon() calls when it finds nothing ready, as the
            # loop's own queue was just now)
            def call_soon_finding_nothing_ready():
                _origin.check_thread(loop, 'call_soon')
            for _ in range(2):
                call_soon_finding_nothing_ready()  # marker: twice
            loop.call_soon_threadsafe(int)
        with self.assertLogs('asyncio', 'ERROR') as cm:
            self.run_with_thread(target)
        # once for the line, however many calls
        self.assertEqual([r.getMessage().split('\n') for r in cm.records],
                         [self.expected('call_soon', 'event-set'),
                          self.expected('call_soon', 'twice')])

    def test_call_later(self):
        def target(loop, event):
            loop.call_later(0, event.set)  # marker: call-later
            loop.call_soon_threadsafe(event.set)
        with self.assertLogs('asyncio', 'ERROR') as cm:
            self.run_with_thread(target)
        self.assertEqual([r.getMessage().split('\n') for r in cm.records],
                         [self.expected('call_at', 'call-later')])

    @unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
    def test_signal_handler(self):
        # Event.set() in a signal.signal() handler that interrupted the
        # loop's select(): the loop sleeps on (here until the timeout)
        event = None

        def handler(signum, frame):
            event.set()  # marker: in-handler

        async def main():
            nonlocal event
            event = asyncio.Event()
            main_id = threading.get_ident()

            def kill():
                wait_until_selecting(main_id)
                os.kill(os.getpid(), signal.SIGUSR1)
            threading.Thread(target=kill).start()
            try:
                await asyncio.wait_for(event.wait(), 1)
            except TimeoutError:
                pass
        old = signal.signal(signal.SIGUSR1, handler)
        loop = asyncio.new_event_loop()
        try:
            with fork_tracking(), self.assertLogs('asyncio', 'ERROR') as cm:
                loop.run_until_complete(main())  # marker: sig-loop
        finally:
            loop.close()
            signal.signal(signal.SIGUSR1, old)
        self.assertEqual([r.getMessage().split('\n') for r in cm.records], [[
            'call_soon() of an event loop called from a signal.signal() '
            'handler while the loop waits in select(): the loop does not '
            'wake up for it (use loop.add_signal_handler())',
            f'called_at: {FILE}:{line("in-handler")}',
            f"loop_thread: '{threading.current_thread().name}', loop "
            f'started at {FILE}:{line("sig-loop")}']])

    @unittest.skipUnless(hasattr(signal, 'SIGINT'), 'needs SIGINT')
    def test_ctrl_c_under_run_quiet(self):
        # asyncio.run()'s own SIGINT handler cancels the main task (a
        # call_soon() from a signal handler) and then wakes the loop
        # itself: no report of a missed wake-up, only who cancelled
        script = textwrap.dedent("""\
            import asyncio, os, signal, threading
            async def main():
                threading.Timer(0.1, os.kill,
                                (os.getpid(), signal.SIGINT)).start()
                await asyncio.sleep(30)
            asyncio.run(main())
            """)
        rc, out, err = script_helper.assert_python_failure(
            '-X', 'coro_origin=10', '-c', script)
        err = err.decode()
        self.assertIn('KeyboardInterrupt', err)
        self.assertNotIn('signal.signal() handler', err)
        self.assertIn('  because Ctrl-C (SIGINT) under asyncio.run() or '
                      'Runner', err)

    def test_threadsafe_and_tracking_off_quiet(self):
        def bad(loop, event):
            loop.call_soon(event.set)
            loop.call_soon_threadsafe(event.set)

        def good(loop, event):
            loop.call_soon_threadsafe(event.set)
        with self.assertNoLogs('asyncio', 'ERROR'):
            self.run_with_thread(good)
            self.run_with_thread(bad, tracking=False)


class DumpTest(unittest.TestCase):
    """A task whose cancellation was asked for (it may swallow the
    CancelledError and go on: a hang) says in the dump who asked."""

    def test_text_and_json(self):
        import io
        import json

        async def stubborn():
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass

        async def main():
            t = asyncio.create_task(stubborn(), name='stubborn')
            await asyncio.sleep(0)
            t.cancel()  # marker: dump-cancel
            await asyncio.sleep(0)
            text, doc = io.StringIO(), io.StringIO()
            sys._dump_coroutines(text)
            sys._dump_coroutines(doc, format='json')
            t.cancel()
            return text.getvalue(), json.loads(doc.getvalue())
        with fork_tracking():
            text, doc = run(main)
        lines = text.splitlines()
        head = lines.index("Task 'stubborn' (cancelling)")
        self.assertRegex(
            lines[head + 1],
            rf"^  cancel requested at {re.escape(FILE)}:"
            rf"{line('dump-cancel')} by task 'Task-\d+' \(created at "
            rf"{re.escape(FILE)}:{line('run-main')}\)$")
        entry, = [e for e in doc['tasks'] if e['name'] == 'stubborn']
        request = entry['cancel_requested']
        self.assertEqual(request['site'], f'{FILE}:{line("dump-cancel")}')
        self.assertRegex(request['by'], rf"^task 'Task-\d+' \(created at "
                                        rf"{re.escape(FILE)}:"
                                        rf"{line('run-main')}\)$")
        self.assertEqual((request['because'], request['requests']),
                         (None, 1))


class DroppedByCancelTest(unittest.TestCase):
    """cancel() of a task or future that holds an exception nobody
    retrieved drops its report silently on stock.  With tracking on,
    cancel() keeps it: asyncio reports the exception when the future is
    collected if nobody retrieved it after all, with where cancel() was
    called; retrieved afterwards, nothing is reported."""

    def contexts(self, make, use=None, steps=1):
        """Run make(loop), let it fail, cancel() it, then use(fut) (in
        the same step) and drop it; the contexts that the loop's
        exception handler got, and what cancel() returned."""
        seen, returned = [], []

        async def main():
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(lambda loop, ctx: seen.append(ctx))
            fut = make(loop)
            for _ in range(steps):
                await asyncio.sleep(0)
            returned.append(fut.cancel())  # marker: drop
            if use is not None:
                await use(fut)
            del fut
            support.gc_collect()
        run(main)
        support.gc_collect()
        return seen, returned

    @staticmethod
    def failed_task(loop):
        async def bad():
            raise ValueError('lost')
        return loop.create_task(bad())

    @staticmethod
    def failed_future(loop):
        fut = loop.create_future()
        fut.set_exception(KeyError('k'))
        return fut

    @staticmethod
    def failed_py_future(loop):
        fut = futures._PyFuture(loop=loop)
        fut.set_exception(KeyError('k'))
        return fut

    @staticmethod
    def failed_py_task(loop):
        async def bad():
            raise ValueError('lost')
        return tasks._PyTask(bad(), loop=loop)

    def test_task(self):
        for make in (self.failed_task, self.failed_py_task):
            with self.subTest(make=make), fork_tracking():
                seen, returned = self.contexts(make)
            self.assertEqual(returned, [False])
            self.assertEqual(len(seen), 1, seen)
            ctx = seen[0]
            self.assertEqual(sorted(ctx), ['dropped_by', 'exception',
                                           'future', 'message'])
            self.assertEqual(ctx['message'],
                             'Task exception was never retrieved')
            self.assertIsInstance(ctx['exception'], ValueError)
            self.assertEqual(ctx['dropped_by'],
                             f'cancel() called at {FILE}:{line("drop")} '
                             f'after it failed')

    def test_future(self):
        for make in (self.failed_future, self.failed_py_future):
            with self.subTest(make=make), fork_tracking():
                seen, returned = self.contexts(make)
            self.assertEqual(returned, [False])
            self.assertEqual([c['message'] for c in seen],
                             ['Future exception was never retrieved'])
            self.assertEqual(seen[0]['dropped_by'],
                             f'cancel() called at {FILE}:{line("drop")} '
                             f'after it failed')

    def test_retrieved_after_cancel_is_not_reported(self):
        # The clean-up idioms: cancel(), then await it (or read its
        # exception, or gather it with return_exceptions=True).
        async def awaited(fut):
            try:
                await fut
            except ValueError:
                pass

        async def exception(fut):
            fut.exception()

        async def gathered(fut):
            await asyncio.gather(fut, return_exceptions=True)

        for make in (self.failed_task, self.failed_py_task):
            for use in (awaited, exception, gathered):
                with self.subTest(make=make, use=use), fork_tracking():
                    seen, returned = self.contexts(make, use)
                self.assertEqual(returned, [False])
                self.assertEqual(seen, [])

    def test_retrieved_before_cancel_is_not_reported(self):
        async def nothing(fut):
            pass

        def retrieved(loop):
            fut = self.failed_future(loop)
            fut.exception()
            return fut
        with fork_tracking():
            seen, returned = self.contexts(retrieved, nothing)
        self.assertEqual((returned, seen), ([False], []))

    def test_handed_on_is_not_reported(self):
        # gather(return_exceptions=True) hands the exception to its
        # caller: a cancel() after it drops nothing.
        kept = []

        def gathered(loop):
            task = self.failed_task(loop)
            kept.append(asyncio.gather(task, return_exceptions=True))
            return task
        with fork_tracking():
            seen, returned = self.contexts(gathered, steps=3)
        self.assertTrue(kept[0].done())
        self.assertEqual(seen, [])

    def test_strict_exit_status(self):
        # A correct program (cancel(), then await) exits 0 in strict
        # mode; one that drops the exception exits 70, saying where.
        code = textwrap.dedent("""\
            import asyncio, sys
            async def worker():
                raise ValueError('worker failed')
            async def main():
                task = asyncio.create_task(worker())
                await asyncio.sleep(0.01)
                task.cancel()
                if sys.argv[1] == 'await':
                    try:
                        await task
                    except ValueError:
                        print('retrieved')
            asyncio.run(main())
            """)
        with os_helper.temp_dir() as directory:
            script = os.path.join(directory, 'app.py')
            with open(script, 'w') as f:
                f.write(code)
            res = assert_python_ok('-X', 'coro_origin=10,strict', script,
                                   'await')
            self.assertEqual(res.out, b'retrieved\n')
            self.assertEqual(res.err, b'')
            res = assert_python_failure('-X', 'coro_origin=10,strict',
                                        script, 'drop')
            self.assertEqual(res.rc, 70)
            err = res.err.decode()
            self.assertIn("dropped_by: 'cancel() called at "
                          f"{script}:7 after it failed'", err)
            self.assertIn('1 task exception never retrieved', err)

    def test_tracking_off_as_stock(self):
        for make in (self.failed_task, self.failed_py_task,
                     self.failed_future):
            with self.subTest(make=make), settings():
                seen, returned = self.contexts(make)
            self.assertEqual((returned, seen), ([False], []))


_saved_policy = None


def setUpModule():
    global _saved_policy
    _saved_policy = asyncio.events._event_loop_policy


def tearDownModule():
    # asyncio.run() may have made the default policy: leave what was found
    asyncio.events._event_loop_policy = _saved_policy


if __name__ == '__main__':
    unittest.main()
