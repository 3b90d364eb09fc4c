"""The examples of origin-python (examples/ at the top of the project)
print what their NAME.md records (origin-python, issue 5).

The examples directory is ORIGIN_PYTHON_EXAMPLES if set, else found from
this file's real location (overlay/Lib/test/test_coro_origin/ in the
project); the tests skip if it cannot be found."""

import importlib.util
import os
import re
import sys
import sysconfig
import unittest


def _examples_dir():
    env = os.environ.get('ORIGIN_PYTHON_EXAMPLES')
    if env:
        return env
    here = os.path.dirname(os.path.realpath(__file__))
    return os.path.normpath(os.path.join(here, *[os.pardir] * 4, 'examples'))


EXAMPLES = _examples_dir()
CHECK = os.path.join(EXAMPLES, 'check.py')


def _load_check():
    spec = importlib.util.spec_from_file_location('_examples_check', CHECK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@unittest.skipUnless(os.path.exists(CHECK),
                     f'examples not found at {EXAMPLES}')
class ExamplesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.check = _load_check()

    def check_example(self, name):
        status, expected, actual, _md, _args = self.check.run(
            sys.executable, name)
        if status:
            self.skipTest(status)
        self.maxDiff = None
        if sysconfig.get_config_var('Py_GIL_DISABLED'):
            # The free-threaded collector finalizes the members of a
            # garbage cycle in another order: a task's coroutine may be
            # closed before the task reports that it was destroyed pending,
            # so its repr says "done, defined at" where the default build
            # says "running at" (upstream's behaviour, not the fork's).
            state = re.compile(r'coro=<([\w.<>]+)\(\) (running|done, '
                               r'defined) at [^>]*>')
            actual = state.sub(r'coro=<\1() ...>', actual)
            expected = state.sub(r'coro=<\1() ...>', expected)
        self.assertEqual(actual, expected)

    def test_never_awaited(self):
        self.check_example('never_awaited')

    def test_exception_never_retrieved(self):
        self.check_example('exception_never_retrieved')

    def test_fire_and_forget(self):
        self.check_example('fire_and_forget')

    def test_deadlock(self):
        self.check_example('deadlock')

    def test_asyncgen_not_finalized(self):
        self.check_example('asyncgen_not_finalized')

    def test_asyncgen_deadlock(self):
        self.check_example('asyncgen_deadlock')

    def test_eager_task(self):
        self.check_example('eager_task')


if __name__ == '__main__':
    unittest.main()
