"""Helpers for test_coro_origin.

Expected origins are computed independently of cr_origin: from frame
objects (sys._getframe(), f_back, f_lineno) at the moment the coroutine is
created, or literally, from "# marker: NAME" comments in the test sources.
Stock CPython builds cr_origin from the same frames at creation time.
"""

import contextlib
import linecache
import re
import sys
from test import support


async def corofn():
    pass


@contextlib.contextmanager
def tracking(depth):
    """Set this thread's coroutine origin tracking depth for a while."""
    old = sys.get_coroutine_origin_tracking_depth()
    sys.set_coroutine_origin_tracking_depth(depth)
    try:
        yield
    finally:
        sys.set_coroutine_origin_tracking_depth(old)


def stack_from(frame, depth):
    """Stock's cr_origin for a coroutine created now, by code running in
    "frame": (filename, lineno, funcname) of up to "depth" frames, innermost
    first.  Stock gets -1 from PyCode_Addr2Line() where f_lineno is None."""
    result = []
    while frame is not None and len(result) < depth:
        lineno = frame.f_lineno
        result.append((frame.f_code.co_filename,
                       -1 if lineno is None else lineno,
                       frame.f_code.co_name))
        frame = frame.f_back
    return tuple(result)


def here(depth):
    """Stock's cr_origin for a coroutine created on the caller's current
    line (write "coro, expected = corofn(), here(depth)" on one line)."""
    return stack_from(sys._getframe(1), depth)


def marker(filename, name):
    """Line number of the line of "filename" ending in "# marker: name"."""
    pattern = re.compile(r"#\s*marker:\s*" + re.escape(name) + r"\s*$")
    lines = [i for i, line in enumerate(linecache.getlines(filename), 1)
             if pattern.search(line)]
    if len(lines) != 1:
        raise LookupError(f"marker {name!r}: found on lines {lines}")
    return lines[0]


def fresh_makers(n, prefix='<fresh>'):
    """n functions with their own code objects, each returning corofn(),
    so that coroutines made by them never share a frame stack with another
    maker's.  The call is on line 2 of file f"{prefix}-{i}"."""
    makers = []
    for i in range(n):
        ns = {'corofn': corofn}
        exec(compile("def make():\n    return corofn()\n",
                     f"{prefix}-{i}", "exec"), ns)
        makers.append(ns['make'])
    return makers


def mortal(test):
    """Decorator for tests that watch code objects or functions die.

    The free-threaded 3.13 build makes code objects and functions immortal
    once a thread has started (they use deferred reference counting); such
    tests need them mortal."""
    if support.Py_GIL_DISABLED:
        return support.suppress_immortalization()(test)
    return test


@contextlib.contextmanager
def settings(**kwargs):
    """Change this thread's origin tracking settings for a while."""
    old = sys.get_coroutine_origin_tracking()
    sys.set_coroutine_origin_tracking(**kwargs)
    try:
        yield
    finally:
        sys.set_coroutine_origin_tracking(
            old.depth, chain=old.chain, asyncgen=old.asyncgen,
            notes=old.notes, skip=old.skip)
