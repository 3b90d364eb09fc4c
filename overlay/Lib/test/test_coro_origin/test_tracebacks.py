# Tests for origin-python's "tracebacks" setting: an Exception that escapes a
# tracked coroutine no other coroutine awaits records, once per exception
# object, where that coroutine was created; tracebacks print it.  The
# exception's str(), args and __notes__ stay stock's.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import copy
import io
import linecache
import logging
import pickle
import re
import sys
import traceback
import types
import unittest

from test.test_coro_origin._util import here, settings, assert_python_failure


def block(qualname, origin, chain=()):
    """The expected traceback lines, built from cr_origin-style tuples
    (frames of this file: nothing folds)."""
    lines = [f"The exception escaped coroutine '{qualname}'.",
             'Coroutine created at (most recent call last)']

    def frames(site):
        out = []
        for f, n, name in reversed(site):
            out.append(f'  File "{f}", line {n}, in {name}')
            source = linecache.getline(f, n).strip()
            if source:
                out.append(f'    {source}')
        return out

    lines += frames(origin)
    for ancestor, site in chain:
        lines.append(f"... spawned from '{ancestor}', created at "
                     f"(most recent call last)")
        lines += frames(site)
    return '\n'.join(lines) + '\n'


def pytest_style_text(exc):
    """What pytest.raises(match=...) searches: str(exc) and the notes."""
    return '\n'.join([str(exc), *getattr(exc, '__notes__', ())])


@types.coroutine
def suspend():
    yield


def tearDownModule():
    asyncio.set_event_loop_policy(None)


class NotesTest(unittest.TestCase):

    def run_send(self, coro):
        with self.assertRaises(BaseException) as cm:
            coro.send(None)
        return cm.exception

    def record(self, exc):
        return vars(exc).get('__coro_origin__')

    def test_send_driver(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, tracebacks=True):
            coro, site = boom(), here(2)
            exc = self.run_send(coro)
        self.assertIsInstance(exc, ValueError)
        self.assertEqual(self.record(exc), (
            'coroutine', 'NotesTest.test_send_driver.<locals>.boom',
            site, None))

    def test_exception_unchanged(self):
        async def boom():
            raise ValueError('argh')
        with settings(depth=2, tracebacks=True):
            exc = self.run_send(boom())
        self.assertEqual(str(exc), 'argh')
        self.assertEqual(exc.args, ('argh',))
        self.assertFalse(hasattr(exc, '__notes__'))
        # pytest's raises(match="^argh$") searches str() and __notes__.
        self.assertTrue(re.search('^argh$', pytest_style_text(exc)))
        # The record is plain data: the exception still pickles and copies.
        for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
            self.assertEqual(self.record(clone), self.record(exc))

    def test_pytest_match_on_task_exception(self):
        # pytest.raises(ValueError, match="^argh$") on an exception that
        # escaped a tracked task: it searches str(exc) plus __notes__.
        async def worker():
            await asyncio.sleep(0)
            raise ValueError('argh')

        async def main():
            return await asyncio.create_task(worker())

        with settings(depth=10, chain=8, tracebacks=True):
            with self.assertRaises(ValueError) as cm:
                asyncio.run(main())
        exc = cm.exception
        self.assertIsNotNone(self.record(exc))        # it was recorded
        self.assertRegex(pytest_style_text(exc), '^argh$')
        self.assertEqual(pytest_style_text(exc), 'argh')

    def test_throw_driver(self):
        async def waiter():
            await suspend()
        with settings(depth=1, tracebacks=True):
            coro, site = waiter(), here(1)
            coro.send(None)
            with self.assertRaises(KeyError) as cm:
                coro.throw(KeyError('k'))
        self.assertEqual(self.record(cm.exception), (
            'coroutine', 'NotesTest.test_throw_driver.<locals>.waiter',
            site, None))

    def test_awaited_records_nothing(self):
        async def inner():
            raise ValueError('x')

        async def outer():
            await inner()

        with settings(depth=1, tracebacks=True):
            coro, site = outer(), here(1)
            exc = self.run_send(coro)
        # Only the outermost coroutine (the one driven by send) records.
        self.assertEqual(self.record(exc)[1:3], (
            'NotesTest.test_awaited_records_nothing.<locals>.outer', site))

    def test_off(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, tracebacks=False):
            exc = self.run_send(boom())
        self.assertIsNone(self.record(exc))
        with settings(depth=0, tracebacks=True):
            exc = self.run_send(boom())
        self.assertIsNone(self.record(exc))

    def test_excluded(self):
        for exc_type in (KeyboardInterrupt, SystemExit,
                         asyncio.CancelledError, GeneratorExit,
                         StopAsyncIteration):
            async def boom():
                raise exc_type
            with self.subTest(exc_type=exc_type):
                with settings(depth=2, tracebacks=True):
                    exc = self.run_send(boom())
                self.assertIsInstance(exc, exc_type)
                self.assertIsNone(self.record(exc))

    def test_first_escape_only(self):
        # A module-level exception raised 300 times from 300 coroutines
        # records the first, once.
        shared = ValueError('shared')

        async def boom():
            raise shared

        with settings(depth=1, tracebacks=True):
            first, site = boom(), here(1)
            self.run_send(first)
            for i in range(299):
                self.run_send(boom())
        self.assertEqual(self.record(shared)[2], site)
        out = traceback.format_exception(shared)
        self.assertEqual(''.join(out).count('The exception escaped'), 1)

    def test_tasks(self):
        sites = {}

        async def worker():
            await asyncio.sleep(0)
            raise ValueError('deep')

        async def middle():
            coro, sites['worker'] = worker(), here(1)
            await asyncio.create_task(coro)

        async def main():
            coro, sites['middle'] = middle(), here(1)
            await asyncio.create_task(coro)

        with settings(depth=1, chain=4, tracebacks=True):
            m, sites['main'] = main(), here(1)
            with self.assertRaises(ValueError) as cm:
                asyncio.run(m)
        p = 'NotesTest.test_tasks.<locals>.'
        # The coroutine the exception first escaped, with its chain; the
        # tasks it passed through add nothing.
        self.assertEqual(self.record(cm.exception), (
            'coroutine', p + 'worker', sites['worker'],
            ((p + 'middle', sites['middle']), (p + 'main', sites['main']))))
        self.assertFalse(hasattr(cm.exception, '__notes__'))

    def test_shared_by_many_tasks(self):
        # One exception awaited by 200 handler tasks: one record, one block.
        async def main():
            fut = asyncio.get_running_loop().create_future()

            async def handler():
                await fut

            tasks = [asyncio.create_task(handler()) for i in range(200)]
            await asyncio.sleep(0)
            fut.set_exception(ValueError('once'))
            return await asyncio.gather(*tasks, return_exceptions=True)

        with settings(depth=1, tracebacks=True):
            results = asyncio.run(main())
        exc = results[0]
        self.assertTrue(all(r is exc for r in results))
        self.assertEqual(self.record(exc)[1],
                         'NotesTest.test_shared_by_many_tasks.<locals>.'
                         'main.<locals>.handler')
        text = ''.join(traceback.format_exception(exc))
        self.assertEqual(text.count('The exception escaped'), 1)
        self.assertEqual(text.count('Coroutine created at'), 1)

    def test_eager_task(self):
        # An eager task's coroutine fails inside create_task(), while the
        # creating coroutine is running, not awaiting it.
        sites = {}

        async def boom():
            raise ValueError('eager')

        async def main():
            loop = asyncio.get_running_loop()
            loop.set_task_factory(asyncio.eager_task_factory)
            coro, sites['boom'] = boom(), here(1)
            task = asyncio.create_task(coro)
            self.assertTrue(task.done())
            return task.exception()

        with settings(depth=1, tracebacks=True):
            exc = asyncio.run(main())
        self.assertEqual(self.record(exc)[1:3], (
            'NotesTest.test_eager_task.<locals>.boom', sites['boom']))

    def test_reports(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, tracebacks=True):
            coro, site = boom(), here(2)
            exc = self.run_send(coro)
        expected = 'ValueError: x\n' + block(
            'NotesTest.test_reports.<locals>.boom', site)

        out = io.StringIO()
        traceback.print_exception(exc, file=out)
        self.assertTrue(out.getvalue().endswith(expected), out.getvalue())

        out = io.StringIO()
        logger = logging.getLogger('test_coro_origin.tracebacks')
        handler = logging.StreamHandler(out)
        logger.addHandler(handler)
        logger.propagate = False
        try:
            try:
                raise exc
            except ValueError:
                logger.exception('failed')
        finally:
            logger.removeHandler(handler)
        self.assertTrue(out.getvalue().endswith(expected), out.getvalue())

    def test_uncaught(self):
        # sys.excepthook, in a child with the setting from -X.
        code = '\n'.join([
            'import asyncio',
            'async def main():',
            '    raise ValueError("boom")',
            'asyncio.run(main())',
        ])
        rc, out, err = assert_python_failure(
            '-X', 'coro_origin=1,tracebacks', '-c', code)
        # main() was created on the asyncio.run() line, which the
        # traceback shows already: no block repeats it.
        self.assertTrue(err.replace(b'\r\n', b'\n').endswith(
            b'  File "<string>", line 3, in main\n'
            b'    raise ValueError("boom")\n'
            b'ValueError: boom\n'), err)
        self.assertEqual(err.count(b'The exception escaped'), 0)
        # A task's coroutine was created on a line the traceback does not
        # show: the block says where.
        code = '\n'.join([
            'import asyncio',
            'async def child():',
            '    raise ValueError("boom")',
            'async def main():',
            '    t = asyncio.create_task(child())',
            '    await t',
            'asyncio.run(main())',
        ])
        rc, out, err = assert_python_failure(
            '-X', 'coro_origin=1,tracebacks', '-c', code)
        self.assertTrue(err.replace(b'\r\n', b'\n').endswith(
            b'ValueError: boom\n'
            b"The exception escaped coroutine 'child'.\n"
            b'Coroutine created at (most recent call last)\n'
            b'  File "<string>", line 5, in main\n'), err)
        self.assertEqual(err.count(b'The exception escaped'), 1)


if __name__ == '__main__':
    unittest.main()
