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


# The examples that check.py knows, each a test (test_NAME).
_NAMES = _load_check().EXAMPLES if os.path.exists(CHECK) else []

# With the free-threaded build, the dump reads no other thread's frames
# while it runs: a task waiting for an executor call gets no lines about it.
_EXECUTOR_CALL = re.compile(r"(?m)^( *)waiting for [\w.]+\(\), run by an "
                            r"executor in thread '[^']*'\n(?:\1  .*\n)*")


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
            expected = _EXECUTOR_CALL.sub('', expected)
        self.assertEqual(actual, expected)


def _example_test(name):
    def test(self):
        self.check_example(name)
    test.__name__ = f'test_{name}'
    return test


for _name in _NAMES:
    setattr(ExamplesTest, f'test_{_name}', _example_test(_name))


if __name__ == '__main__':
    unittest.main()
