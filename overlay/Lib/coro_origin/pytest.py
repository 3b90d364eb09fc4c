"""pytest plugin of origin-python:  python -m pytest -p coro_origin.pytest

This module is part of origin-python, not of upstream CPython.

- Lost asyncio work fails the very test that lost it: with ``strict`` in
  the fork's spec, after each test the garbage is collected and the
  problems recorded meanwhile (sys._coroutine_origin_problems()) become
  that test's failure, each with where the lost task was created.
- A hung test fails with its asyncio tasks, and the run goes on: with
  ``--coro-origin-timeout=SECONDS`` (or pytest-timeout's timeout, when
  that plugin is active and uses its signal method, which this plugin then
  takes over), a test still running after SECONDS is interrupted by
  SIGALRM, and fails with the live coroutine dump: the await tree of its
  tasks, where each was created and who holds the locks they wait for.
  The interruption reaches a loop waiting in select() and a thread lock's
  acquire(); asyncio.run() then cancels the test's tasks as it does on
  Ctrl-C.  Only in the main thread, and where signal.setitimer() exists.
"""

import gc
import io
import signal
import sys
import threading

import pytest

__all__ = ()

HEADER = ('Test still running after {timeout:g} s ({why}); its asyncio '
          'tasks:\n')


def pytest_addoption(parser):
    group = parser.getgroup('coro_origin', 'origin-python')
    group.addoption(
        '--coro-origin-timeout', type=float, default=None, metavar='SECONDS',
        help='fail a test still running after SECONDS with the live '
             'coroutine dump of its tasks, and go on with the next test')


def _can_interrupt():
    return (hasattr(signal, 'setitimer')
            and threading.current_thread() is threading.main_thread())


def _dump():
    try:
        import _coro_origin_dump
        # (the dump then shows what the interrupted task was running)
        _coro_origin_dump.SIGNAL_HANDLER_CODES.add(_Timer.fire.__code__)
    except Exception:
        pass
    out = io.StringIO()
    try:
        sys._dump_coroutines(out)
    except Exception as exc:
        return f'(the dump failed: {type(exc).__name__})\n'
    return out.getvalue()


class _Timer:
    """SIGALRM after *timeout* seconds fails the test with the dump."""

    def __init__(self, timeout, why):
        self.timeout = timeout
        self.why = why
        self.previous = signal.signal(signal.SIGALRM, self.fire)
        signal.setitimer(signal.ITIMER_REAL, timeout)

    def fire(self, signum, frame):
        __tracebackhide__ = True
        self.cancel()
        pytest.fail(HEADER.format(timeout=self.timeout, why=self.why)
                    + _dump(), pytrace=False)

    def cancel(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self.previous is not None:
            signal.signal(signal.SIGALRM, self.previous)
            self.previous = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timeout = item.config.getoption('coro_origin_timeout')
    timer = None
    if timeout and timeout > 0 and _can_interrupt():
        timer = _Timer(timeout, '--coro-origin-timeout')
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    """pytest-timeout's signal method, with the dump in the failure."""
    if (item.config.getoption('coro_origin_timeout')
            or settings.method != 'signal' or not _can_interrupt()):
        return None         # (pytest-timeout's own way)
    item._coro_origin_timer = _Timer(settings.timeout, 'pytest-timeout')
    return True


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_timeout_cancel_timer(item):
    timer = getattr(item, '_coro_origin_timer', None)
    if timer is None:
        return None
    del item._coro_origin_timer
    timer.cancel()
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    problems = sys._coroutine_origin_problems()
    if problems is None:
        return              # strict is off
    gc.collect()            # dropped tasks are reported when collected
    problems += sys._coroutine_origin_problems() or []
    if problems:
        pytest.fail('\n\n'.join(text for _, text, _ in problems),
                    pytrace=False)
