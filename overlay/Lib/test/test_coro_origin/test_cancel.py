# Tests for origin-python's cancellation provenance: with the fork's
# tracking on, Future.cancel() and Task.cancel() (C and Python) keep who
# asked, and the CancelledError asyncio delivers says it in tracebacks
# (one block after the notes); a task's repr says where.  str(), args and
# __notes__ stay stock's; with tracking off nothing changes.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import copy
import linecache
import pickle
import re
import sys
import threading
import traceback
import unittest
from asyncio import futures, tasks

import _coro_origin_report as report

from test.test_coro_origin._util import marker, settings

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
        async def main():
            try:
                async with asyncio.timeout(0):
                    await asyncio.sleep(1)
            except TimeoutError as exc:
                return exc
        with fork_tracking():
            exc = run(main)
        cancelled = exc.__cause__
        self.assertIsInstance(cancelled, asyncio.CancelledError)
        self.assertEqual(record(cancelled)[1][1],
                         'its asyncio.timeout() expired (asyncio.timeout(), '
                         'timeout_at() or wait_for())')
        self.assertIsNone(record(exc))

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
    retrieved drops it silently on stock: with tracking on it is reported
    then, through the loop's exception handler."""

    def contexts(self, make, retrieve=False):
        seen = []

        async def main():
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(lambda loop, ctx: seen.append(ctx))
            fut = make(loop)
            await asyncio.sleep(0)
            if retrieve:
                fut.exception()
            fut.cancel()  # marker: drop
            return fut
        return run(main), seen

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

    def test_task(self):
        with fork_tracking():
            fut, seen = self.contexts(self.failed_task)
        self.assertEqual(len(seen), 1, seen)
        ctx = seen[0]
        self.assertEqual(sorted(ctx), ['dropped_by', 'exception', 'future',
                                       'message'])
        self.assertEqual(ctx['message'], 'Task exception was never retrieved')
        self.assertIs(ctx['future'], fut)
        self.assertIs(ctx['exception'], fut.exception())
        self.assertEqual(ctx['dropped_by'],
                         f'cancel() called at {FILE}:{line("drop")} after '
                         f'it failed')

    def test_future(self):
        for make in (self.failed_future,
                     lambda loop: futures._PyFuture(loop=loop)):
            with self.subTest(make=make), fork_tracking():
                if make is not self.failed_future:
                    def make(loop, _make=make):
                        fut = _make(loop)
                        fut.set_exception(KeyError('k'))
                        return fut
                fut, seen = self.contexts(make)
                self.assertEqual([c['message'] for c in seen],
                                 ['Future exception was never retrieved'])

    def test_retrieved_is_not_reported(self):
        with fork_tracking():
            fut, seen = self.contexts(self.failed_task, retrieve=True)
        self.assertEqual(seen, [])

    def test_tracking_off_as_stock(self):
        with settings():
            fut, seen = self.contexts(self.failed_task)
        self.assertEqual(seen, [])


_saved_policy = None


def setUpModule():
    global _saved_policy
    _saved_policy = asyncio.events._event_loop_policy


def tearDownModule():
    # asyncio.run() may have made the default policy: leave what was found
    asyncio.events._event_loop_policy = _saved_policy


if __name__ == '__main__':
    unittest.main()
