# Tests for origin-python's lazy coroutine origins (Python/coro_origin.c).
# This package is part of origin-python, not of upstream CPython.
import os
import signal
from test.support import load_package_tests

# A test process started with SIGINT ignored (a background job of a
# non-interactive shell) hands that on to the programs the Ctrl-C and hang
# tests start, whose asyncio.run() then installs no SIGINT handler.  The
# regrtest of 3.13.15 restores the default handler itself; that of earlier
# 3.13 releases (make rebase's) does not: do it here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def load_tests(*args):
    return load_package_tests(os.path.dirname(__file__), *args)
