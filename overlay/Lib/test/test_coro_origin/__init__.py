# Tests for origin-python's lazy coroutine origins (Python/coro_origin.c).
# This package is part of origin-python, not of upstream CPython.
import os
from test.support import load_package_tests


def load_tests(*args):
    return load_package_tests(os.path.dirname(__file__), *args)
