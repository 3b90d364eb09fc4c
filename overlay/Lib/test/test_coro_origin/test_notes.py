# Tests for origin-python's notes mode: an Exception escaping a tracked
# coroutine that no other coroutine awaits gets one PEP 678 note.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import io
import logging
import sys
import traceback
import types
import unittest
from test.test_coro_origin._util import assert_python_failure

from test.test_coro_origin._util import here, settings


def note_for(qualname, origin, chain=()):
    """The expected note, built from cr_origin-style tuples."""
    lines = [f"coroutine '{qualname}' created at (most recent call last):"]
    lines += [f'  File "{f}", line {n}, in {name}'
              for f, n, name in reversed(origin)]
    for ancestor, site in chain:
        lines.append(f"... spawned from '{ancestor}', created at "
                     f"(most recent call last):")
        lines += [f'  File "{f}", line {n}, in {name}'
                  for f, n, name in reversed(site)]
    return '\n'.join(lines)


@types.coroutine
def suspend():
    yield


def tearDownModule():
    asyncio.set_event_loop_policy(None)


class NotesTest(unittest.TestCase):
    prefix = 'NotesTest.'

    def run_send(self, coro):
        with self.assertRaises(BaseException) as cm:
            coro.send(None)
        return cm.exception

    def test_send_driver(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, notes=True):
            coro, site = boom(), here(2)
            exc = self.run_send(coro)
        self.assertIsInstance(exc, ValueError)
        self.assertEqual(exc.__notes__, [note_for(
            'NotesTest.test_send_driver.<locals>.boom', site)])

    def test_throw_driver(self):
        async def waiter():
            await suspend()
        with settings(depth=1, notes=True):
            coro, site = waiter(), here(1)
            coro.send(None)
            with self.assertRaises(KeyError) as cm:
                coro.throw(KeyError('k'))
        self.assertEqual(cm.exception.__notes__, [note_for(
            'NotesTest.test_throw_driver.<locals>.waiter', site)])

    def test_awaited_gets_no_note(self):
        async def inner():
            raise ValueError('x')

        async def outer():
            await inner()

        with settings(depth=1, notes=True):
            coro, site = outer(), here(1)
            exc = self.run_send(coro)
        # Only the outermost coroutine (the one driven by send) notes.
        self.assertEqual(exc.__notes__, [note_for(
            'NotesTest.test_awaited_gets_no_note.<locals>.outer', site)])

    def test_notes_off(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, notes=False):
            exc = self.run_send(boom())
        self.assertFalse(hasattr(exc, '__notes__'))
        with settings(depth=0, notes=True):
            exc = self.run_send(boom())
        self.assertFalse(hasattr(exc, '__notes__'))

    def test_excluded(self):
        for exc_type in (KeyboardInterrupt, SystemExit,
                         asyncio.CancelledError, GeneratorExit):
            async def boom():
                raise exc_type
            with self.subTest(exc_type=exc_type):
                with settings(depth=2, notes=True):
                    exc = self.run_send(boom())
                self.assertIsInstance(exc, exc_type)
                self.assertFalse(hasattr(exc, '__notes__'))

        async def closing():
            await suspend()
        with settings(depth=2, notes=True):
            coro = closing()
            coro.send(None)
            coro.close()

    def test_stop_async_iteration(self):
        async def boom():
            raise StopAsyncIteration
        with settings(depth=2, notes=True):
            exc = self.run_send(boom())
        self.assertIsInstance(exc, StopAsyncIteration)
        self.assertFalse(hasattr(exc, '__notes__'))

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

        with settings(depth=1, chain=4, notes=True):
            m, sites['main'] = main(), here(1)
            with self.assertRaises(ValueError) as cm:
                asyncio.run(m)
        p = 'NotesTest.test_tasks.<locals>.'
        # One note per task, never two for the same coroutine.
        self.assertEqual(cm.exception.__notes__, [
            note_for(p + 'worker', sites['worker'],
                     [(p + 'middle', sites['middle']),
                      (p + 'main', sites['main'])]),
            note_for(p + 'middle', sites['middle'],
                     [(p + 'main', sites['main'])]),
            note_for(p + 'main', sites['main']),
        ])

    def test_reports(self):
        async def boom():
            raise ValueError('x')
        with settings(depth=2, notes=True):
            coro, site = boom(), here(2)
            exc = self.run_send(coro)
        note = note_for('NotesTest.test_reports.<locals>.boom', site)

        out = io.StringIO()
        traceback.print_exception(exc, file=out)
        self.assertIn('ValueError: x\n' + note + '\n', out.getvalue())

        out = io.StringIO()
        logger = logging.getLogger('test_coro_origin.notes')
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
        self.assertIn('ValueError: x\n' + note + '\n', out.getvalue())

    def test_uncaught(self):
        code = '\n'.join([
            'import asyncio',
            'async def main():',
            '    raise ValueError("boom")',
            'asyncio.run(main())',
        ])
        rc, out, err = assert_python_failure(
            '-X', 'coro_origin=1,notes', '-c', code)
        self.assertIn(
            b'ValueError: boom\n'
            b"coroutine 'main' created at (most recent call last):\n"
            b'  File "<string>", line 4, in <module>\n',
            err.replace(b'\r\n', b'\n'))


if __name__ == '__main__':
    unittest.main()
