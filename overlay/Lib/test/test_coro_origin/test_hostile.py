# Hostile exceptions (a __dict__ or __getattribute__ that raises, a
# __setattr__ that refuses, __slots__, odd __notes__, a __reduce__ that
# raises, unpicklable ones) format, log, pickle and copy exactly as on
# stock: with tracking off the fork runs none of their code, and with the
# "tracebacks" setting an escaped one behaves as before it escaped, its
# traceback adding only where the coroutine was created.
# This module is part of origin-python, not of upstream CPython.

import copy
import io
import logging
import pickle
import sys
import traceback
import unittest
from test.test_coro_origin._util import settings


class DictRaises(Exception):
    @property
    def __dict__(self):
        raise RuntimeError('no __dict__ here')


class GetattributeRaises(Exception):
    def __getattribute__(self, name):
        if name in ('__dict__', '__notes__', '__coro_origin__'):
            raise RuntimeError(f'no {name} here')
        return super().__getattribute__(name)


class RefusesAttributes(Exception):
    def __setattr__(self, name, value):
        raise AttributeError(f'{type(self).__name__} is read-only')


class RefusesWithoutWeakref(Exception):
    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError('read-only')


class SlotsOnly(Exception):
    __slots__ = ('code',)


class OddNotes(Exception):
    pass


class ReduceRaises(Exception):
    def __reduce__(self):
        raise TypeError('cannot reduce')


class Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(a)       # args do not match __init__


def make(cls):
    if cls is Unpicklable:
        return cls(1, 2)
    exc = cls('boom')
    if cls is OddNotes:
        BaseException.__setattr__(exc, '__notes__', 42)
    if cls is SlotsOnly:
        exc.code = 7
    return exc


HOSTILE = (DictRaises, GetattributeRaises, RefusesAttributes,
           RefusesWithoutWeakref, SlotsOnly, OddNotes, ReduceRaises,
           Unpicklable, ValueError)


async def raiser(exc):
    raise exc


def escape(exc):
    """Let *exc* escape a coroutine driven by send(): with the tracebacks
    setting, that records where the coroutine was created."""
    coro = raiser(exc)
    try:
        coro.send(None)
    except BaseException as caught:
        assert caught is exc
    else:
        raise AssertionError('did not raise')
    return exc


def outcome(func, *args):
    """What func(*args) gives: its result's repr, or the exception type."""
    try:
        return ('ok', repr(func(*args)))
    except Exception as exc:
        return ('raises', type(exc).__name__)


def formatted(exc):
    return ''.join(traceback.format_exception(exc))


def logged(exc):
    out = io.StringIO()
    logger = logging.getLogger('test_coro_origin.hostile')
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise exc
        except BaseException:
            logger.exception('failed')
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def roundtrips(exc):
    return {
        'pickle': outcome(lambda e: pickle.loads(pickle.dumps(e)), exc),
        'copy': outcome(copy.copy, exc),
        'deepcopy': outcome(copy.deepcopy, exc),
    }


class HostileTest(unittest.TestCase):

    def test_tracking_off_runs_no_code_of_theirs(self):
        # The formatter asks the interpreter whether an origin was kept,
        # without touching the exception's attributes.
        for cls in HOSTILE:
            with self.subTest(cls=cls.__name__), settings(depth=0):
                exc = escape(make(cls))
                self.assertIsNone(sys._coroutine_origin_of_exception(exc))
                text = formatted(exc)
                self.assertIn(f'{cls.__name__}: ', text)
                self.assertNotIn('created at', text)
                self.assertIn(f'{cls.__name__}: ', logged(exc))

    def test_notes_only_add_the_block(self):
        for cls in HOSTILE:
            with self.subTest(cls=cls.__name__):
                with settings(depth=0):
                    plain = escape(make(cls))
                    expected = roundtrips(plain)
                    plain_text = formatted(plain)
                with settings(depth=10, tracebacks=True):
                    exc = escape(make(cls))
                record = sys._coroutine_origin_of_exception(exc)
                text = formatted(exc)
                self.assertEqual(roundtrips(exc), expected)
                if cls is RefusesWithoutWeakref:
                    # Neither its dict (a copy would set it again) nor a
                    # weak reference can hold the origin: none is kept.
                    self.assertIsNone(record)
                    self.assertEqual(text.replace('\n', ''),
                                     plain_text.replace('\n', ''))
                    continue
                self.assertEqual(record[:2], ('coroutine', 'raiser'))
                self.assertEqual(record[2][0][2], 'escape')
                # Stock's text, then the block.
                self.assertTrue(text.startswith(plain_text), text)
                added = text[len(plain_text):].splitlines()
                self.assertEqual(added[:2], [
                    "The exception escaped coroutine 'raiser'.",
                    'Coroutine created at (most recent call last)'])
                self.assertEqual(added[-2:], [
                    f'  File "{__file__}", line {record[2][0][1]}, '
                    f'in escape', '    coro = raiser(exc)'])
                log = logged(exc)
                self.assertIn("The exception escaped coroutine 'raiser'.",
                              log)

    def test_refused_attribute_kept_aside(self):
        with settings(depth=10, tracebacks=True):
            exc = escape(RefusesAttributes('x'))
        # Not in the exception itself: it pickles and copies as on stock.
        self.assertEqual(BaseException.__dict__['__dict__'].__get__(exc), {})
        self.assertEqual(pickle.loads(pickle.dumps(exc)).args, ('x',))
        self.assertEqual(copy.copy(exc).args, ('x',))
        record = sys._coroutine_origin_of_exception(exc)
        self.assertEqual(record[1], 'raiser')
        # The first coroutine it escaped is kept.
        with settings(depth=10, tracebacks=True):
            escape(exc)
        self.assertIs(sys._coroutine_origin_of_exception(exc), record)
        # Forgotten when the exception dies (its id may be reused).
        table_before = sys._coroutine_origin_of_exception(exc)
        del exc, table_before
        with settings(depth=10, tracebacks=True):
            for _ in range(100):
                fresh = RefusesAttributes('y')
                self.assertIsNone(sys._coroutine_origin_of_exception(fresh))

    def test_of_exception_any_object(self):
        for obj in (None, 1, 'x', ValueError, object()):
            self.assertIsNone(sys._coroutine_origin_of_exception(obj))


if __name__ == '__main__':
    unittest.main()
