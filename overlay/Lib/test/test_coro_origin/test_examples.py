"""The examples of origin-python (examples/ at the top of the project)
print what their NAME.md records (origin-python, issue 5).

The examples directory is ORIGIN_PYTHON_EXAMPLES if set, else found from
this file's real location (overlay/Lib/test/test_coro_origin/ in the
project); the tests skip if it cannot be found."""

import importlib.util
import os
import sys
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
