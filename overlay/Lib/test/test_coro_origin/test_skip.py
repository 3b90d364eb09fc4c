# Tests for origin-python's skip mode: frames of skipped modules are
# neither kept nor counted against depth.
# This module is part of origin-python, not of upstream CPython.

import sys
import unittest

from test.test_coro_origin._util import corofn, here, settings


SOURCE = '''\
def call(f):
    return f()
'''


_callers = {}


def make_caller(modname):
    """A function call(f) defined in a module named "modname".  Made once
    per name: new code objects on every run would give new frame stacks
    every run, which the -R 3:3 block count would see while they fill the
    bounded cache of parked stacks."""
    if modname not in _callers:
        ns = {'__name__': modname}
        exec(compile(SOURCE, f'<{modname}>', 'exec'), ns)
        _callers[modname] = ns['call']
    return _callers[modname]


class SkipTest(unittest.TestCase):

    def test_skipped(self):
        inner = make_caller('skipme.sub')
        outer = make_caller('skipme')

        def create():
            return inner(corofn)          # corofn() runs in 'skipme.sub'

        with settings(depth=2, skip='skipme'):
            coro, expected = outer(create), here(1)
        me = sys._getframe()
        # create's frame and this one: the two skipme frames are neither
        # kept nor counted.
        create_line = create.__code__.co_firstlineno + 1
        self.assertEqual(coro.cr_origin, (
            (__file__, create_line, 'create'),
            expected[0],
        ))
        coro.close()

    def test_prefix_is_not_a_package(self):
        other = make_caller('skipme_extras')
        with settings(depth=1, skip='skipme'):
            coro = other(corofn)
        self.assertEqual(coro.cr_origin, (('<skipme_extras>', 2, 'call'),))
        coro.close()

    def test_several_names(self):
        a = make_caller('a.b')
        c = make_caller('c')
        with settings(depth=1, skip='a:c'):
            coro, expected = a(lambda: c(corofn)), here(1)
        filename, lineno, _ = expected[0]
        self.assertEqual(coro.cr_origin, ((filename, lineno, '<lambda>'),))
        coro.close()

    def test_everything_skipped(self):
        with settings(depth=3, skip=__name__.split('.')[0]):
            coro = corofn()
        self.assertEqual(
            [f for f, _, _ in coro.cr_origin if f == __file__], [])
        coro.close()

    def test_sharing(self):
        inner = make_caller('skipme')
        with settings(depth=2, skip='skipme'):
            coros = [inner(corofn) for _ in range(3)]
        self.assertEqual(len({c.cr_origin for c in coros}), 1)
        for c in coros:
            c.close()


if __name__ == '__main__':
    unittest.main()
