# Tests for origin-python's coroutine origin tracking settings: the spec
# language, the start-up layers (build default, PYTHONCOROORIGIN,
# -X coro_origin), the interpreter default, per-thread settings and the sys
# API (Python/coro_origin_config.c).
# This module is part of origin-python, not of upstream CPython.

import _thread
import os
import signal
import sys
import sysconfig
import textwrap
import threading
import unittest
from test import support
from test.support import import_helper, os_helper, threading_helper
from test.test_coro_origin._util import (
    assert_python_failure, assert_python_ok)


INT_MAX = 2**31 - 1
ENVVAR = 'PYTHONCOROORIGIN'
FIELDS = ('depth', 'chain', 'asyncgen', 'tracebacks', 'full', 'skip', 'dump')
OFF = (0, 0, False, False, False, (), None)

# Prints (thread settings, default) as a repr of two tuples.
SHOW = ('import sys; '
        'print((tuple(sys.get_coroutine_origin_tracking()), '
        'tuple(sys.get_coroutine_origin_tracking_default())))')


def build_default_spec():
    """The spec given to ./configure --with-coro-origin, or None."""
    value = sysconfig.get_config_var('PY_CORO_ORIGIN_DEFAULT')
    if not value:
        return None
    return value.strip('"')


def run_settings(*args, **env):
    """Start Python with these arguments and environment variables, and
    return the settings of its main thread (after checking that they are
    the interpreter default too)."""
    res = assert_python_ok(*args, '-c', SHOW, **env)
    thread, default = eval(res.out.decode())
    if thread != default:
        raise AssertionError(f'main thread {thread} != default {default}')
    return thread


def settings(depth=0, chain=0, asyncgen=False, tracebacks=False, full=False,
             skip=(), dump=None):
    return (depth, chain, asyncgen, tracebacks, full, skip, dump)


UNKNOWN = ("unknown item (expected N, depth=N, chain=M, asyncgen, "
           "tracebacks, full, strict, skip=MODULES, dump=SIGNAL or "
           "hang=SECONDS)")
HANG = ("hang must be a number of seconds, from 0.001 to 86400, with at "
        "most 3 decimals")
USER_SIGNAL = '; use a user signal such as SIGUSR1'

# (spec, expected message after "invalid spec: ")
BAD_SPECS = [
    ('', "empty spec"),
    (',', "item 1 is empty (leading comma)"),
    (',,', "item 1 is empty (leading comma)"),
    ('5,', "item 2 is empty (trailing comma)"),
    ('5,,tracebacks', "item 2 is empty (',,')"),
    (',5', "item 1 is empty (leading comma)"),
    ('-1', "item '-1': depth must be an integer >= 0"),
    ('depth=-1', "item 'depth=-1': depth must be an integer >= 0"),
    ('+3', "item '+3': depth must be an integer >= 0"),
    ('depth=', "item 'depth=': depth must be an integer >= 0"),
    ('depth=1.5', "item 'depth=1.5': depth must be an integer >= 0"),
    ('depth= 1', "item 'depth= 1': depth must be an integer >= 0"),
    ('depth=99999999999999999999',
     "item 'depth=99999999999999999999': depth is too large "
     "(at most 2147483647)"),
    ('2147483648', "item '2147483648': depth is too large "
     "(at most 2147483647)"),
    ('99999999999x', "item '99999999999x': depth must be an integer >= 0"),
    ('depth', "item 'depth': depth needs a value (depth=...)"),
    ('depth=3,5', "item '5': depth is given twice"),
    ('5,depth=3', "item 'depth=3': depth is given twice"),
    ('tracebacks,tracebacks', "item 'tracebacks': tracebacks is given twice"),
    ('full,5,full', "item 'full': full is given twice"),
    ('chain=1,chain=2', "item 'chain=2': chain is given twice"),
    ('foo', "item 'foo': " + UNKNOWN),
    ('depth=1,foo=1', "item 'foo=1': " + UNKNOWN),
    ('Depth=1', "item 'Depth=1': " + UNKNOWN),
    (' tracebacks', "item ' tracebacks': " + UNKNOWN),
    ('Full', "item 'Full': " + UNKNOWN),
    ('fullx', "item 'fullx': " + UNKNOWN),
    ('chain=x', "item 'chain=x': chain must be an integer >= 0"),
    ('chain=-2', "item 'chain=-2': chain must be an integer >= 0"),
    ('chain', "item 'chain': chain needs a value (chain=...)"),
    ('tracebacks=1', "item 'tracebacks=1': tracebacks takes no value"),
    ('tracebacks=', "item 'tracebacks=': tracebacks takes no value"),
    # "notes", the older name of tracebacks, is refused by its own name
    ('notes=1', "item 'notes=1': notes takes no value"),
    ('notes,tracebacks', "item 'tracebacks': tracebacks is given twice"),
    ('tracebacks,notes', "item 'notes': notes is given twice"),
    ('Notes', "item 'Notes': " + UNKNOWN),
    ('asyncgen=0', "item 'asyncgen=0': asyncgen takes no value"),
    ('full=1', "item 'full=1': full takes no value"),
    ('full=', "item 'full=': full takes no value"),
    ('skip', "item 'skip': skip needs a value (skip=...)"),
    ('skip=', "item 'skip=': no module name"),
    ('skip=:', "item 'skip=:': empty module name"),
    ('skip=a:', "item 'skip=a:': empty module name"),
    ('skip=:a', "item 'skip=:a': empty module name"),
    ('skip=a::b', "item 'skip=a::b': empty module name"),
    ('skip=a..b', "item 'skip=a..b': 'a..b' is not a module name"),
    ('skip=.a', "item 'skip=.a': '.a' is not a module name"),
    ('skip=a.', "item 'skip=a.': 'a.' is not a module name"),
    ('skip=1a', "item 'skip=1a': '1a' is not a module name"),
    ('skip=a-b', "item 'skip=a-b': 'a-b' is not a module name"),
    ('skip=a,skip=b', "item 'skip=b': skip is given twice"),
    ('dump', "item 'dump': dump needs a value (dump=...)"),
    ('hang', "item 'hang': hang needs a value (hang=...)"),
    *[(f'hang={value}', f"item 'hang={value}': {HANG}")
      for value in ['', '0', '0.0', '0.0001', '1.2345', '.5', '5.', '1e3',
                    '-1', '+1', '1x', ' 1', '86400.001',
                    '99999999999999999999', '1.5.']],
    ('hang=1,hang=2', "item 'hang=2': hang is given twice"),
    ('dump=', "item 'dump=': unknown signal (use a name such as SIGUSR1, "
     "or a number)"),
    ('dump=SIGFOO', "item 'dump=SIGFOO': unknown signal (use a name such "
     "as SIGUSR1, or a number)"),
    ('dump=sigusr1', "item 'dump=sigusr1': unknown signal (use a name such "
     "as SIGUSR1, or a number)"),
    ('dump=USR1', "item 'dump=USR1': unknown signal (use a name such "
     "as SIGUSR1, or a number)"),
    ('dump=0', "item 'dump=0': signal number must be from 1 to %d"
     % (signal.NSIG - 1)),
    ('dump=%d' % signal.NSIG, "item 'dump=%d': signal number must be from "
     "1 to %d" % (signal.NSIG, signal.NSIG - 1)),
    ('dump=99999999999999999999', "item 'dump=99999999999999999999': "
     "signal number must be from 1 to %d" % (signal.NSIG - 1)),
    ('dump=-1', "item 'dump=-1': signal number must be from 1 to %d"
     % (signal.NSIG - 1)),
    # Numbers below SIGRTMIN that no signal name has: the C library's own
    # (glibc keeps 32 and 33 for its threads).
    *[('dump=%d' % n, "item 'dump=%d': signal %d is reserved by the C "
       "library (real-time signals start at SIGRTMIN = %d)"
       % (n, n, signal.SIGRTMIN))
      for n in range(1, signal.SIGRTMIN)
      if n not in {s.value for s in signal.Signals}],
    ('dump=SIGRTMIN+%d' % (signal.SIGRTMAX - signal.SIGRTMIN + 1),
     "item 'dump=SIGRTMIN+%d': real-time signals are SIGRTMIN+N and "
     "SIGRTMAX-N with N from 0 to %d"
     % (signal.SIGRTMAX - signal.SIGRTMIN + 1,
        signal.SIGRTMAX - signal.SIGRTMIN)),
    ('dump=SIGRTMIN-1', "item 'dump=SIGRTMIN-1': real-time signals are "
     "SIGRTMIN+N and SIGRTMAX-N with N from 0 to %d"
     % (signal.SIGRTMAX - signal.SIGRTMIN)),
    ('dump=SIGRTMAX+1', "item 'dump=SIGRTMAX+1': real-time signals are "
     "SIGRTMIN+N and SIGRTMAX-N with N from 0 to %d"
     % (signal.SIGRTMAX - signal.SIGRTMIN)),
    ('dump=SIGRTMIN+', "item 'dump=SIGRTMIN+': real-time signals are "
     "SIGRTMIN+N and SIGRTMAX-N with N from 0 to %d"
     % (signal.SIGRTMAX - signal.SIGRTMIN)),
    ('dump=SIGUSR1,dump=SIGUSR2',
     "item 'dump=SIGUSR2': dump is given twice"),
]

# Non-ASCII: the message shows the character escaped.
BAD_NON_ASCII = [
    ('d\xe9pth=1', "item 'd\\xe9pth=1': non-ASCII character"),
    ('skip=caf\xe9', "item 'skip=caf\\xe9': non-ASCII character"),
    ('5,\u2603', "item '\\u2603': non-ASCII character"),
]


class StartupLayerTests(unittest.TestCase):
    """The start-up layers, each in a new interpreter process."""

    def test_no_configuration(self):
        if build_default_spec() is not None:
            self.skipTest('built with --with-coro-origin')
        self.assertEqual(run_settings('-E'), OFF)
        self.assertEqual(run_settings(**{ENVVAR: ''}), OFF)

    def test_xoption(self):
        self.assertEqual(run_settings('-X', 'coro_origin=5'), settings(5))
        self.assertEqual(run_settings('-X', 'coro_origin=depth=7'),
                         settings(7))
        self.assertEqual(run_settings('-X', 'coro_origin=0'), settings(0))
        self.assertEqual(run_settings('-X', 'coro_origin=007'), settings(7))
        self.assertEqual(run_settings('-X', f'coro_origin={INT_MAX}'),
                         settings(INT_MAX))
        self.assertEqual(run_settings('-X', 'coro_origin=tracebacks'),
                         settings(10, tracebacks=True))
        # A spec that names no depth gets asyncio's DEBUG_STACK_DEPTH (10);
        # one that names it keeps it, 0 included.
        self.assertEqual(run_settings('-X', 'coro_origin=chain=8,tracebacks'),
                         settings(10, 8, tracebacks=True))
        self.assertEqual(run_settings('-X', 'coro_origin=0,chain=8'),
                         settings(0, 8))

    def test_notes_is_the_older_name_of_tracebacks(self):
        # Specs written for origin-python 0.1 keep working.
        self.assertEqual(run_settings('-X', 'coro_origin=notes'),
                         settings(10, tracebacks=True))
        self.assertEqual(run_settings(**{ENVVAR: '4,chain=2,notes'}),
                         settings(4, 2, tracebacks=True))

    def test_full_item(self):
        self.assertEqual(run_settings('-X', 'coro_origin=full'),
                         settings(10, full=True))
        self.assertEqual(run_settings(**{ENVVAR: 'full'}),
                         settings(10, full=True))
        self.assertEqual(run_settings('-X', 'coro_origin=full,3,chain=1'),
                         settings(3, 1, full=True))
        self.assertEqual(run_settings('-X', 'coro_origin=tracebacks,full,4'),
                         settings(4, tracebacks=True, full=True))
        # A higher layer without it turns it off, and the other way round.
        self.assertEqual(run_settings('-X', 'coro_origin=5',
                                      **{ENVVAR: 'full'}),
                         settings(5))
        self.assertEqual(run_settings('-X', 'coro_origin=full',
                                      **{ENVVAR: '5,tracebacks'}),
                         settings(10, full=True))
        # The report renderer follows it.
        res = assert_python_ok(
            '-X', 'coro_origin=full', '-c',
            'import _coro_origin_report as r; print(r._folding(None))')
        self.assertEqual(res.out, b'False\n')
        res = assert_python_ok(
            '-X', 'coro_origin=1', '-c',
            'import _coro_origin_report as r; print(r._folding(None))')
        self.assertEqual(res.out, b'True\n')

    def test_full_spec(self):
        spec = ('10,chain=3,asyncgen,tracebacks,full,'
                'skip=asyncio:my_app.util_2,dump=SIGUSR1')
        expected = settings(10, 3, True, True, True,
                            ('asyncio', 'my_app.util_2'), int(signal.SIGUSR1))
        self.assertEqual(run_settings('-X', 'coro_origin=' + spec), expected)
        self.assertEqual(run_settings(**{ENVVAR: spec}), expected)
        # Order of items does not matter.
        spec = ('dump=SIGUSR1,skip=asyncio:my_app.util_2,full,tracebacks,'
                'asyncgen,chain=3,depth=10')
        self.assertEqual(run_settings('-X', 'coro_origin=' + spec), expected)

    def test_skip_keeps_order(self):
        self.assertEqual(
            run_settings('-X', 'coro_origin=skip=b:a:_x.y1:a'),
            settings(10, skip=('b', 'a', '_x.y1', 'a')))


    def test_environment(self):
        self.assertEqual(run_settings(**{ENVVAR: '4,chain=2'}),
                         settings(4, 2))
        self.assertEqual(run_settings(**{ENVVAR: 'asyncgen'}),
                         settings(10, asyncgen=True))

    def test_environment_ignored_with_E_and_I(self):
        base = run_settings('-E')
        for opt in ('-E', '-I'):
            with self.subTest(opt=opt):
                self.assertEqual(run_settings(opt, **{ENVVAR: '4,tracebacks'}),
                                 base)
                # Not even read: a bad spec there does not matter.
                self.assertEqual(run_settings(opt, **{ENVVAR: 'depth=-1'}),
                                 base)
                # -X still works.
                self.assertEqual(
                    run_settings(opt, '-X', 'coro_origin=3',
                                 **{ENVVAR: '4,tracebacks'}),
                    settings(3))

    def test_xoption_replaces_environment(self):
        # A higher layer replaces a lower one as a whole.
        self.assertEqual(
            run_settings('-X', 'coro_origin=3',
                         **{ENVVAR: '4,chain=2,tracebacks,skip=a,'
                                    'dump=SIGUSR1'}),
            settings(3))
        self.assertEqual(
            run_settings('-X', 'coro_origin=tracebacks', **{ENVVAR: '4'}),
            settings(10, tracebacks=True))

    def test_last_xoption_ignored(self):
        # Like other -X options, the first -X coro_origin is used.
        self.assertEqual(
            run_settings('-X', 'coro_origin=3', '-X', 'coro_origin=4'),
            settings(3))

    def test_environment_checked_even_if_overridden(self):
        # Every layer given is checked, as -X int_max_str_digits does.
        res = assert_python_failure('-X', 'coro_origin=3', '-c', 'pass',
                                    **{ENVVAR: 'depth=-1'})
        self.assertEqual(res.rc, 1)
        self.assertIn(b"PYTHONCOROORIGIN: invalid spec: item 'depth=-1'",
                      res.err)

    def test_runtime_replaces_startup(self):
        code = textwrap.dedent('''
            import sys
            sys.set_coroutine_origin_tracking(2, skip='x', tracebacks=False,
                                              full=True)
            print(tuple(sys.get_coroutine_origin_tracking()))
            sys.set_coroutine_origin_tracking_default(chain=0)
            print(tuple(sys.get_coroutine_origin_tracking_default()))
        ''')
        res = assert_python_ok(
            '-X', 'coro_origin=5,chain=1,tracebacks,dump=SIGUSR1', '-c', code,
            **{ENVVAR: '9'})
        thread, default = map(eval, res.out.decode().splitlines())
        usr1 = int(signal.SIGUSR1)
        self.assertEqual(thread,
                         settings(2, 1, False, False, True, ('x',), usr1))
        self.assertEqual(default,
                         settings(5, 0, False, True, False, (), usr1))

    def test_build_default(self):
        spec = build_default_spec()
        if spec is None:
            self.assertEqual(run_settings('-E'), OFF)
            self.skipTest('built without --with-coro-origin')
        # The build default is read with the same parser as -X.
        expected = run_settings('-E', '-X', 'coro_origin=' + spec)
        self.assertEqual(run_settings('-E'), expected)
        self.assertEqual(run_settings('-I'), expected)
        # Environment and -X replace it.
        self.assertEqual(run_settings(**{ENVVAR: 'tracebacks'}),
                         settings(tracebacks=True))
        self.assertEqual(run_settings('-E', '-X', 'coro_origin=chain=1'),
                         settings(chain=1))

    def test_clean_environment_keeps_library_path(self):
        # The bad-spec tests run children in a clean environment; on an
        # --enable-shared build the python binary finds libpython only
        # through LD_LIBRARY_PATH, so that one variable goes through.
        # PYTHONCOROORIGIN of this process does not.
        code = ('import os; print(os.environ.get("LD_LIBRARY_PATH"), '
                'os.environ.get("PYTHONCOROORIGIN"))')
        with os_helper.EnvironmentVarGuard() as env:
            old = env.get('LD_LIBRARY_PATH')
            env['LD_LIBRARY_PATH'] = (old + ':' if old else '') + '/sentinel'
            env[ENVVAR] = '3'
            res = assert_python_ok('-c', code, __cleanenv=True)
            self.assertEqual(res.out.decode().split(),
                             [env['LD_LIBRARY_PATH'], 'None'])
            res = assert_python_ok('-c', code, __cleanenv=True,
                                   **{ENVVAR: '2'})
            self.assertEqual(res.out.decode().split(),
                             [env['LD_LIBRARY_PATH'], '2'])

    def check_bad(self, layer, spec, message):
        if layer == '-X':
            args = ('-X', 'coro_origin=' + spec)
            env = {}
            prefix = '-X coro_origin'
        else:
            args = ()
            env = {ENVVAR: spec}
            prefix = ENVVAR
        res = assert_python_failure(*args, '-c', 'print("started")',
                                    __cleanenv=True, **env)
        self.assertEqual(res.rc, 1)
        self.assertEqual(res.out, b'')
        err = res.err.decode('ascii')
        self.assertIn(f'Fatal Python error: ', err)
        self.assertIn(f'{prefix}: invalid spec: {message}\n', err)

    def test_bad_spec_xoption(self):
        for spec, message in BAD_SPECS + BAD_NON_ASCII:
            with self.subTest(spec=spec):
                self.check_bad('-X', spec, message)

    def test_bad_spec_environment(self):
        for spec, message in BAD_SPECS:
            if not spec:
                continue    # an empty variable is the same as none
            with self.subTest(spec=spec):
                self.check_bad('env', spec, message)

    def test_bad_spec_environment_non_ascii(self):
        # The variable is decoded from the locale encoding; whatever that
        # is, the item is named and the character is not shown raw.
        res = assert_python_failure('-c', 'pass', **{ENVVAR: '3,d\xe9pth=1'})
        self.assertEqual(res.rc, 1)
        self.assertRegex(
            res.err.decode('ascii'),
            r"PYTHONCOROORIGIN: invalid spec: item 'd(\\x[0-9a-f]{2})+pth=1'"
            r": non-ASCII character\n")

    def test_xoption_without_value(self):
        res = assert_python_failure('-X', 'coro_origin', '-c', 'pass')
        self.assertEqual(res.rc, 1)
        self.assertIn(b'-X coro_origin: missing spec '
                      b'(use -X coro_origin=SPEC)\n', res.err)

    def test_help(self):
        out = assert_python_ok('--help-xoptions').out
        self.assertIn(b'-X coro_origin=SPEC: track where coroutines are '
                      b'created', out)
        self.assertIn(b'also PYTHONCOROORIGIN', out)
        out = assert_python_ok('--help-env').out
        self.assertIn(b'PYTHONCOROORIGIN: track where coroutines are created '
                      b'(-X coro_origin=SPEC)', out)
        out = assert_python_ok('--help-all').out
        self.assertIn(b'-X coro_origin=SPEC', out)
        self.assertIn(b'PYTHONCOROORIGIN:', out)

    def test_threads_and_subinterpreters_start_from_startup(self):
        import_helper.import_module('_interpreters')
        code = textwrap.dedent('''
            import sys, threading, _interpreters
            show = lambda: tuple(sys.get_coroutine_origin_tracking())
            print(show())
            out = []
            t = threading.Thread(target=lambda: out.append(show()))
            t.start(); t.join()
            print(out[0])
            # Runtime changes of the main interpreter's default do not
            # reach subinterpreters: they start from the start-up layers.
            sys.set_coroutine_origin_tracking_default(1, tracebacks=False)
            sys.set_coroutine_origin_tracking(2)
            interp = _interpreters.create()
            try:
                err = _interpreters.run_string(interp,
                    'import sys\\n'
                    'print(tuple(sys.get_coroutine_origin_tracking()))\\n'
                    'print(tuple(sys.get_coroutine_origin_tracking_default()))'
                    '\\n'
                    'sys.set_coroutine_origin_tracking(7, chain=1)\\n'
                    'sys.set_coroutine_origin_tracking_default(8)\\n')
                assert err is None, err
            finally:
                _interpreters.destroy(interp)
            print(show())
            print(tuple(sys.get_coroutine_origin_tracking_default()))
        ''')
        res = assert_python_ok('-u', '-X', 'coro_origin=5,tracebacks,skip=a.b',
                               '-c', code)
        lines = [eval(line) for line in res.out.decode().splitlines()]
        startup = settings(5, tracebacks=True, skip=('a.b',))
        self.assertEqual(lines, [
            startup,                                  # main thread
            startup,                                  # thread
            startup,                                  # subinterpreter
            startup,                                  # its default
            settings(2, tracebacks=True, skip=('a.b',)),   # main, unchanged
            settings(1, skip=('a.b',)),               # main default
        ])


# Signals that cannot be dump signals, and why.
REJECTED_SIGNALS = {
    'SIGKILL': 'cannot be caught',
    'SIGSTOP': 'cannot be caught',
    'SIGSEGV': 'reports a crash',
    'SIGBUS': 'reports a crash',
    'SIGFPE': 'reports a crash',
    'SIGILL': 'reports a crash',
    'SIGABRT': 'reports a crash (abort())',
    'SIGIOT': 'reports a crash (abort())',      # SIGABRT's other name
}

# (dump= value, signal number) of signals meant for users.
RTMIN, RTMAX = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
ACCEPTED_SIGNALS = [
    ('SIGUSR1', signal.SIGUSR1),
    ('SIGUSR2', signal.SIGUSR2),
    ('SIGINT', signal.SIGINT),
    ('SIGTERM', signal.SIGTERM),
    ('SIGHUP', signal.SIGHUP),
    ('SIGRTMIN', RTMIN),
    ('SIGRTMIN+0', RTMIN),
    ('SIGRTMIN+1', RTMIN + 1),
    ('SIGRTMIN+3', RTMIN + 3),
    ('SIGRTMIN+%d' % (RTMAX - RTMIN), RTMAX),
    ('SIGRTMAX', RTMAX),
    ('SIGRTMAX-2', RTMAX - 2),
    ('SIGRTMAX-%d' % (RTMAX - RTMIN), RTMIN),
    (str(int(signal.SIGUSR1)), signal.SIGUSR1),
    (str(int(signal.SIGINT)), signal.SIGINT),
    (str(RTMIN + 3), RTMIN + 3),
    ('1', 1),
    ('0012', 12),
    (str(signal.NSIG - 1), signal.NSIG - 1),
]


def rejected_numbers():
    """(number, name) of the rejected signals, by their main name."""
    return sorted({(int(getattr(signal, name)),
                    signal.Signals(getattr(signal, name)).name)
                   for name in REJECTED_SIGNALS})


class DumpSignalTests(unittest.TestCase):
    """Which signals dump= accepts, at start-up and at run time (one table
    of signal names behind both)."""

    def check_rejected(self, value, name):
        why = REJECTED_SIGNALS[name]
        message = (f"invalid spec: item 'dump={value}': {name} {why}; "
                   f"use a user signal such as SIGUSR1\n")
        for args, env, layer in [
                (('-X', f'coro_origin=3,dump={value}'), {}, '-X coro_origin'),
                ((), {ENVVAR: f'dump={value},tracebacks'}, ENVVAR)]:
            with self.subTest(value=value, layer=layer):
                res = assert_python_failure(*args, '-c', 'print("started")',
                                            __cleanenv=True, **env)
                self.assertEqual(res.rc, 1)
                self.assertEqual(res.out, b'')
                err = res.err.decode('ascii')
                self.assertIn('Fatal Python error: ', err)
                self.assertIn(f'{layer}: {message}', err)

    def test_rejected_at_startup_by_name(self):
        for name in REJECTED_SIGNALS:
            self.check_rejected(name, name)

    def test_rejected_at_startup_by_number(self):
        for number, name in rejected_numbers():
            self.check_rejected(number, name)

    def test_rejected_in_a_replaced_layer(self):
        # Every layer given is checked, even one that a higher one replaces.
        res = assert_python_failure('-X', 'coro_origin=dump=SIGUSR1', '-c',
                                    'pass', **{ENVVAR: 'dump=SIGSEGV'})
        self.assertEqual(res.rc, 1)
        self.assertIn(b"PYTHONCOROORIGIN: invalid spec: item 'dump=SIGSEGV': "
                      b"SIGSEGV reports a crash; use a user signal such as "
                      b"SIGUSR1\n", res.err)

    def test_accepted_at_startup(self):
        for value, signum in ACCEPTED_SIGNALS:
            with self.subTest(value=value):
                self.assertEqual(
                    run_settings('-X', 'coro_origin=dump=' + value),
                    settings(10, dump=int(signum)))
        self.assertEqual(run_settings(**{ENVVAR: '2,dump=SIGRTMIN+2'}),
                         settings(2, dump=RTMIN + 2))

    def test_runtime_check(self):
        check = sys._coroutine_origin_dump_signal
        for value, signum in ACCEPTED_SIGNALS:
            with self.subTest(value=value):
                self.assertEqual(check(value), signum)
                self.assertIs(type(check(value)), int)
        self.assertEqual(check(signal.SIGUSR2), signal.SIGUSR2)
        self.assertEqual(check(int(signal.SIGTERM)), signal.SIGTERM)
        for name in REJECTED_SIGNALS:
            with self.subTest(name=name):
                with self.assertRaises(ValueError) as cm:
                    check(name)
                self.assertEqual(
                    str(cm.exception),
                    f'dump={name}: {name} {REJECTED_SIGNALS[name]}; use a '
                    f'user signal such as SIGUSR1')
        for number, name in rejected_numbers():
            for value in (number, str(number), signal.Signals(number)):
                with self.subTest(value=value):
                    with self.assertRaises(ValueError) as cm:
                        check(value)
                    self.assertEqual(
                        str(cm.exception),
                        f'dump={number}: {name} {REJECTED_SIGNALS[name]}; '
                        f'use a user signal such as SIGUSR1')

    def test_runtime_check_errors(self):
        check = sys._coroutine_origin_dump_signal
        last = signal.NSIG - 1
        span = RTMAX - RTMIN
        for value, message in [
                ('SIGFOO', 'dump=SIGFOO: unknown signal (use a name such as '
                 'SIGUSR1, or a number)'),
                ('sigusr1', 'dump=sigusr1: unknown signal (use a name such '
                 'as SIGUSR1, or a number)'),
                ('', 'dump=: unknown signal (use a name such as SIGUSR1, or '
                 'a number)'),
                (0, f'dump=0: signal number must be from 1 to {last}'),
                (-3, f'dump=-3: signal number must be from 1 to {last}'),
                (signal.NSIG, f'dump={signal.NSIG}: signal number must be '
                 f'from 1 to {last}'),
                (10**30, f'dump={10**30}: signal number must be from 1 to '
                 f'{last}'),
                ('12x', f'dump=12x: signal number must be from 1 to {last}'),
                (f'SIGRTMIN+{span + 1}', f'dump=SIGRTMIN+{span + 1}: '
                 f'real-time signals are SIGRTMIN+N and SIGRTMAX-N with N '
                 f'from 0 to {span}'),
                ('SIGRTMAX+1', f'dump=SIGRTMAX+1: real-time signals are '
                 f'SIGRTMIN+N and SIGRTMAX-N with N from 0 to {span}')]:
            with self.subTest(value=value):
                with self.assertRaises(ValueError) as cm:
                    check(value)
                self.assertEqual(str(cm.exception), message)
        for value in (None, 10.0, True, b'SIGUSR1'):
            with self.subTest(value=value):
                with self.assertRaises(TypeError) as cm:
                    check(value)
                self.assertEqual(
                    str(cm.exception),
                    f'signal must be a str or an int, not '
                    f'{type(value).__name__}')

    def test_table_matches_the_signal_module(self):
        # Every name the signal module has is known, with its number.
        check = sys._coroutine_origin_dump_signal
        names = [n for n in dir(signal)
                 if n.startswith('SIG') and not n.startswith('SIG_')]
        self.assertIn('SIGUSR1', names)
        for name in names:
            with self.subTest(name=name):
                if name in REJECTED_SIGNALS:
                    self.assertRaises(ValueError, check, name)
                else:
                    self.assertEqual(check(name), getattr(signal, name))

    def test_not_settable_at_runtime(self):
        before = tuple(sys.get_coroutine_origin_tracking())
        for func in (sys.set_coroutine_origin_tracking,
                     sys.set_coroutine_origin_tracking_default):
            for value in ('SIGSEGV', signal.SIGUSR1):
                with self.subTest(func=func.__name__, value=value):
                    with self.assertRaisesRegex(
                            TypeError, "unexpected keyword argument 'dump'"):
                        func(dump=value)
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking()), before)


class RuntimeAPITests(unittest.TestCase):
    """sys.set/get_coroutine_origin_tracking[_default]() in-process."""

    def setUp(self):
        self.saved = sys.get_coroutine_origin_tracking()
        self.saved_default = sys.get_coroutine_origin_tracking_default()
        self.addCleanup(self.restore)

    def restore(self):
        for func, saved in [
                (sys.set_coroutine_origin_tracking, self.saved),
                (sys.set_coroutine_origin_tracking_default,
                 self.saved_default)]:
            func(saved.depth, chain=saved.chain, asyncgen=saved.asyncgen,
                 tracebacks=saved.tracebacks, full=saved.full, skip=saved.skip)

    def test_folding(self):
        # Reports fold asyncio's frames when the fork's tracking is
        # configured in the reporting thread and its "full" is off; stock's
        # depth alone (asyncio's debug mode) keeps stock's text.
        code = textwrap.dedent("""
            import sys, threading
            fold = sys._coroutine_origin_folding
            seen = [fold()]
            sys.set_coroutine_origin_tracking_depth(5)      # stock's API
            seen.append(fold())
            sys.set_coroutine_origin_tracking(chain=1)
            seen.append(fold())
            sys.set_coroutine_origin_tracking(full=True)
            seen.append(fold())
            sys.set_coroutine_origin_tracking(chain=0, full=False)
            sys.set_coroutine_origin_tracking_default(3)
            seen.append(fold())             # a default depth configures
            sys.set_coroutine_origin_tracking_default(full=True)
            t = threading.Thread(target=lambda: seen.append(fold()))
            t.start(); t.join()             # a new thread: full
            seen.append(fold())             # this one keeps its own
            print(seen)
            """)
        # (-X coro_origin=0: whatever the build default or the environment
        # says, tracking starts off.)
        res = assert_python_ok('-X', 'coro_origin=0', '-c', code)
        self.assertEqual(res.out.decode().strip(),
                         '[False, False, True, False, True, False, True]')
        for spec, expected in [('10', 'True'), ('10,full', 'False'),
                               ('0', 'False'), ('0,full', 'False')]:
            with self.subTest(spec=spec):
                res = assert_python_ok(
                    '-X', f'coro_origin={spec}', '-c',
                    'import sys; print(sys._coroutine_origin_folding())')
                self.assertEqual(res.out.decode().strip(), expected)

    def test_result_type(self):
        for func in (sys.get_coroutine_origin_tracking,
                     sys.get_coroutine_origin_tracking_default):
            with self.subTest(func=func.__name__):
                info = func()
                tp = type(info)
                self.assertEqual(tp.__name__, 'coroutine_origin_tracking')
                self.assertEqual(tp.__module__, 'sys')
                self.assertIsInstance(info, tuple)
                self.assertEqual(len(info), len(FIELDS))
                self.assertEqual(tp.__match_args__, FIELDS)
                self.assertTrue(repr(info).startswith(
                    'sys.coroutine_origin_tracking(depth='))
                self.assertEqual(tp.n_fields, len(FIELDS))
                self.assertEqual(tuple(getattr(info, f) for f in FIELDS),
                                 tuple(info))
                self.assertIsInstance(info.depth, int)
                self.assertIsInstance(info.chain, int)
                self.assertIsInstance(info.asyncgen, bool)
                self.assertIsInstance(info.tracebacks, bool)
                self.assertIsInstance(info.full, bool)
                self.assertIsInstance(info.skip, tuple)
                with self.assertRaises(TypeError):
                    tp((0,) * len(FIELDS))
                with self.assertRaises(AttributeError):
                    info.depth = 3

    def test_set_thread(self):
        sys.set_coroutine_origin_tracking(3, chain=2, asyncgen=True,
                                          tracebacks=True, full=True,
                                          skip='a:b.c')
        dump = self.saved.dump
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking()),
                         settings(3, 2, True, True, True, ('a', 'b.c'), dump))
        # The default is not changed.
        self.assertEqual(sys.get_coroutine_origin_tracking_default(),
                         self.saved_default)
        # None (or nothing) keeps a setting.
        sys.set_coroutine_origin_tracking()
        sys.set_coroutine_origin_tracking(None, chain=None, asyncgen=None,
                                          tracebacks=None, full=None,
                                          skip=None)
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking()),
                         settings(3, 2, True, True, True, ('a', 'b.c'), dump))
        sys.set_coroutine_origin_tracking(tracebacks=False)
        sys.set_coroutine_origin_tracking(depth=0)
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking()),
                         settings(0, 2, True, False, True, ('a', 'b.c'), dump))
        sys.set_coroutine_origin_tracking(chain=0, asyncgen=False,
                                          tracebacks=True, full=False, skip=())
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking()),
                         settings(0, 0, False, True, False, (), dump))

    def test_full(self):
        # "full" is a setting like the others, read by the report renderer.
        import _coro_origin_report
        sys.set_coroutine_origin_tracking(full=False)
        self.assertIs(sys.get_coroutine_origin_tracking().full, False)
        # Only stock's depth (what asyncio's debug mode sets): stock's text.
        sys.set_coroutine_origin_tracking_default(0)
        sys.set_coroutine_origin_tracking(chain=0, asyncgen=False,
                                          tracebacks=False, skip=())
        sys.set_coroutine_origin_tracking_depth(10)
        self.assertIs(_coro_origin_report._folding(None), False)
        # The fork's tracking configured: folded.
        sys.set_coroutine_origin_tracking(chain=2)
        self.assertIs(_coro_origin_report._folding(None), True)
        sys.set_coroutine_origin_tracking(chain=0)
        sys.set_coroutine_origin_tracking_default(5)
        self.assertIs(_coro_origin_report._folding(None), True)
        sys.set_coroutine_origin_tracking(full=True)
        self.assertIs(sys.get_coroutine_origin_tracking().full, True)
        self.assertIs(_coro_origin_report._folding(None), False)
        # Other settings leave it alone, and it leaves them alone.
        sys.set_coroutine_origin_tracking(4, tracebacks=True)
        sys.set_coroutine_origin_tracking(full=None)
        info = sys.get_coroutine_origin_tracking()
        self.assertEqual((info.depth, info.tracebacks, info.full),
                         (4, True, True))
        sys.set_coroutine_origin_tracking_default(full=True)
        self.assertIs(sys.get_coroutine_origin_tracking_default().full, True)
        sys.set_coroutine_origin_tracking_default(full=False)
        self.assertIs(sys.get_coroutine_origin_tracking_default().full, False)
        self.assertIs(sys.get_coroutine_origin_tracking().full, True)

    def test_skip_forms(self):
        set_ = sys.set_coroutine_origin_tracking
        get = lambda: sys.get_coroutine_origin_tracking().skip
        set_(skip='asyncio')
        self.assertEqual(get(), ('asyncio',))
        set_(skip='a:b:a')
        self.assertEqual(get(), ('a', 'b', 'a'))
        set_(skip=['x', 'y.z'])
        self.assertEqual(get(), ('x', 'y.z'))
        set_(skip=('p',))
        self.assertEqual(get(), ('p',))
        set_(skip=(name for name in ['g1', 'g2._h']))
        self.assertEqual(get(), ('g1', 'g2._h'))
        set_(skip=[])
        self.assertEqual(get(), ())
        set_(skip={'s': 1})
        self.assertEqual(get(), ('s',))
        set_(skip=())
        self.assertEqual(get(), ())
        # The str form is the spec's; "" skips nothing, as ':'.join([]).
        set_(skip='q')
        set_(skip='')
        self.assertEqual(get(), ())

        class Name(str):
            pass
        set_(skip=[Name('sub.cls')])
        self.assertEqual(get(), ('sub.cls',))
        self.assertIs(type(get()[0]), str)
        set_(skip=Name('n1:n2'))
        self.assertEqual(get(), ('n1', 'n2'))

    def test_limits(self):
        sys.set_coroutine_origin_tracking(INT_MAX, chain=INT_MAX)
        info = sys.get_coroutine_origin_tracking()
        self.assertEqual((info.depth, info.chain), (INT_MAX, INT_MAX))
        self.assertEqual(sys.get_coroutine_origin_tracking_depth(), INT_MAX)

        class Index:
            def __index__(self):
                return 4
        sys.set_coroutine_origin_tracking(Index(), chain=Index())
        info = sys.get_coroutine_origin_tracking()
        self.assertEqual((info.depth, info.chain), (4, 4))

    def test_depth_is_the_stock_depth(self):
        sys.set_coroutine_origin_tracking_depth(6)
        self.assertEqual(sys.get_coroutine_origin_tracking().depth, 6)
        sys.set_coroutine_origin_tracking(9)
        self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 9)
        # Stock's function keeps stock's behaviour, bool included.
        sys.set_coroutine_origin_tracking_depth(True)
        self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 1)
        with self.assertRaisesRegex(ValueError, 'depth must be >= 0'):
            sys.set_coroutine_origin_tracking_depth(-1)
        # Changing the depth alone keeps the other settings.
        sys.set_coroutine_origin_tracking(chain=4, full=True)
        sys.set_coroutine_origin_tracking_depth(0)
        info = sys.get_coroutine_origin_tracking()
        self.assertEqual((info.chain, info.full), (4, True))

    def test_errors(self):
        def bad_type(name, expected, obj):
            return (TypeError,
                    f"^{func.__name__}\\(\\) argument '{name}' must be "
                    f"{expected}, not {type(obj).__name__}$")
        def both():
            return (tuple(sys.get_coroutine_origin_tracking()),
                    tuple(sys.get_coroutine_origin_tracking_default()))
        bad = [
            ({'depth': '1'}, 'int or None'),
            ({'depth': 1.0}, 'int or None'),
            ({'depth': True}, 'int or None'),
            ({'depth': -1}, ValueError, '^depth must be >= 0$'),
            ({'depth': INT_MAX + 1}, ValueError,
             r'^depth is too large \(at most 2147483647\)$'),
            ({'depth': 10**20}, ValueError,
             r'^depth is too large \(at most 2147483647\)$'),
            ({'depth': -10**20}, ValueError, '^depth must be >= 0$'),
            ({'chain': 'x'}, 'int or None'),
            ({'chain': False}, 'int or None'),
            ({'chain': -2}, ValueError, '^chain must be >= 0$'),
            # Flags are bools: 1 and 0 are not accepted any more.
            ({'asyncgen': 'yes'}, 'bool or None'),
            ({'asyncgen': 1}, 'bool or None'),
            ({'tracebacks': 1.0}, 'bool or None'),
            ({'tracebacks': 0}, 'bool or None'),
            ({'full': 1}, 'bool or None'),
            ({'full': 'full'}, 'bool or None'),
            ({'skip': 1}, TypeError,
             '^skip must be a str or an iterable of str$'),
            ({'skip': b'a'}, TypeError,
             '^skip must be a str or an iterable of str, not bytes$'),
            ({'skip': bytearray(b'a')}, TypeError,
             '^skip must be a str or an iterable of str, not bytearray$'),
            ({'skip': [b'a']}, TypeError,
             '^skip items must be str, not bytes$'),
            ({'skip': ['a', None]}, TypeError,
             '^skip items must be str, not NoneType$'),
            ({'skip': ':'}, ValueError, '^skip: empty module name$'),
            ({'skip': 'a::b'}, ValueError, '^skip: empty module name$'),
            ({'skip': 'a:'}, ValueError, '^skip: empty module name$'),
            ({'skip': 'a..b'}, ValueError,
             "^skip: 'a..b' is not a module name$"),
            ({'skip': 'a b'}, ValueError,
             "^skip: 'a b' is not a module name$"),
            ({'skip': 'a\0b'}, ValueError,
             r"^skip: 'a\\x00b' is not a module name$"),
            ({'skip': 'caf\xe9'}, ValueError,
             "^skip: 'caf\xe9': non-ASCII character$"),
            ({'skip': '\udc80'}, ValueError,
             r"^skip: '\\udc80': non-ASCII character$"),
            ({'skip': ['']}, ValueError, "^skip: '' is not a module name$"),
            ({'skip': ['a', '']}, ValueError,
             "^skip: '' is not a module name$"),
            ({'skip': ['a:b']}, ValueError,
             "^skip: 'a:b' is not a module name$"),
            ({'skip': ['a', '1b']}, ValueError,
             "^skip: '1b' is not a module name$"),
            ({'skip': ['caf\xe9']}, ValueError,
             "^skip: 'caf\xe9' is not a module name$"),
            ({'skip': ['\udc80']}, ValueError,
             r"^skip: '\\udc80' is not a module name$"),
            # The dump signal is chosen at start-up only.
            ({'dump': 10}, TypeError, 'dump'),
            ({'depth': 1, 'spam': 1}, TypeError, 'spam'),
        ]
        for func in (sys.set_coroutine_origin_tracking,
                     sys.set_coroutine_origin_tracking_default):
            sys.set_coroutine_origin_tracking(5, chain=1, asyncgen=True,
                                              tracebacks=False, full=True,
                                              skip='keep')
            sys.set_coroutine_origin_tracking_default(
                6, chain=2, asyncgen=False, tracebacks=True, full=False,
                skip='keep2')
            before = both()
            for case in bad:
                kwargs = case[0]
                if len(case) == 2:
                    (name, obj), = kwargs.items()
                    exc, msg = bad_type(name, case[1], obj)
                else:
                    exc, msg = case[1:]
                # Valid arguments given with the bad one change nothing
                # either.
                for extra in ({}, {'depth': 3, 'tracebacks': True,
                                   'full': False, 'skip': 'changed'}):
                    args = {**extra, **kwargs}
                    with self.subTest(func=func.__name__, args=args):
                        with self.assertRaisesRegex(exc, msg):
                            func(**args)
                        self.assertEqual(both(), before)

    def test_signature(self):
        for func in (sys.set_coroutine_origin_tracking,
                     sys.set_coroutine_origin_tracking_default):
            with self.subTest(func=func.__name__):
                with self.assertRaises(TypeError):
                    func(1, 2)      # only depth is positional
                with self.assertRaises(TypeError):
                    sys.get_coroutine_origin_tracking(1)
                self.assertIsNone(func(None))
        import inspect
        self.assertEqual(
            str(inspect.signature(sys.set_coroutine_origin_tracking)),
            '(depth=None, *, chain=None, asyncgen=None, tracebacks=None, '
            'full=None, skip=None)')
        self.assertEqual(
            str(inspect.signature(sys.set_coroutine_origin_tracking_default)),
            '(depth=None, *, chain=None, asyncgen=None, tracebacks=None, '
            'full=None, skip=None)')

    def test_set_default(self):
        sys.set_coroutine_origin_tracking(1, chain=1)
        before = sys.get_coroutine_origin_tracking()
        sys.set_coroutine_origin_tracking_default(4, chain=3, asyncgen=True,
                                                  tracebacks=True, full=True,
                                                  skip=['m'])
        dump = self.saved_default.dump
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking_default()),
                         settings(4, 3, True, True, True, ('m',), dump))
        # The calling thread keeps its settings.
        self.assertEqual(sys.get_coroutine_origin_tracking(), before)
        sys.set_coroutine_origin_tracking_default(tracebacks=False, skip=())
        self.assertEqual(tuple(sys.get_coroutine_origin_tracking_default()),
                         settings(4, 3, True, False, True, (), dump))

    def run_in_thread(self, func, use_thread_module=False):
        result = []
        def target():
            result.append(func())
        if use_thread_module:
            done = threading.Event()
            def target2():
                try:
                    target()
                finally:
                    done.set()
            with threading_helper.wait_threads_exit():
                _thread.start_new_thread(target2, ())
                self.assertTrue(done.wait(support.SHORT_TIMEOUT))
        else:
            t = threading.Thread(target=target)
            t.start()
            t.join()
        return result[0]

    @threading_helper.requires_working_threading()
    def test_new_threads_start_from_default(self):
        get = lambda: tuple(sys.get_coroutine_origin_tracking())
        sys.set_coroutine_origin_tracking(9, chain=9, tracebacks=True,
                                          full=False, skip='t')
        sys.set_coroutine_origin_tracking_default(2, chain=1, asyncgen=True,
                                                  tracebacks=False, full=True,
                                                  skip='d.e')
        expected = settings(2, 1, True, False, True, ('d.e',),
                            self.saved_default.dump)
        self.assertEqual(self.run_in_thread(get), expected)
        self.assertEqual(self.run_in_thread(get, use_thread_module=True),
                         expected)
        self.assertEqual(
            self.run_in_thread(sys.get_coroutine_origin_tracking_depth), 2)
        # Threads see the same default.
        self.assertEqual(
            self.run_in_thread(
                lambda: tuple(sys.get_coroutine_origin_tracking_default())),
            expected)

    @threading_helper.requires_working_threading()
    def test_thread_changes_stay_in_thread(self):
        get = lambda: tuple(sys.get_coroutine_origin_tracking())
        main_before = get()
        sys.set_coroutine_origin_tracking_default(3, skip='x')
        default = tuple(sys.get_coroutine_origin_tracking_default())

        started = threading.Event()
        proceed = threading.Event()
        seen = {}

        def waiter():
            seen['start'] = get()
            started.set()
            proceed.wait(support.SHORT_TIMEOUT)
            # The default changed meanwhile: this thread keeps its own.
            seen['after'] = get()

        def changer():
            sys.set_coroutine_origin_tracking(8, chain=8, tracebacks=True,
                                              skip=['c'])
            return get()

        t = threading.Thread(target=waiter)
        t.start()
        try:
            self.assertTrue(started.wait(support.SHORT_TIMEOUT))
            changed = self.run_in_thread(changer)
            sys.set_coroutine_origin_tracking_default(5, skip=())
        finally:
            proceed.set()
            t.join()
        self.assertEqual(seen['start'], default)
        self.assertEqual(seen['after'], default)
        self.assertEqual(changed[:6],
                         (8, 8, default[2], True, default[4], ('c',)))
        self.assertEqual(get(), main_before)
        # A thread started now sees the new default, not the other
        # thread's settings.
        self.assertEqual(self.run_in_thread(get)[:6],
                         (5,) + default[1:5] + ((),))

    @threading_helper.requires_working_threading()
    def test_many_threads(self):
        # Threads created while the default changes each get one of the
        # defaults, whole.
        defaults = [settings(i, i, bool(i % 2), not i % 2, i > 2, (f'm{i}',),
                             self.saved_default.dump) for i in range(1, 6)]
        results = []
        lock = threading.Lock()

        def target():
            info = tuple(sys.get_coroutine_origin_tracking())
            with lock:
                results.append(info)

        threads = []
        for d in defaults:
            sys.set_coroutine_origin_tracking_default(
                d[0], chain=d[1], asyncgen=d[2], tracebacks=d[3], full=d[4],
                skip=d[5])
            for _ in range(4):
                threads.append(threading.Thread(target=target))
                threads[-1].start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), len(threads))
        for r in results:
            self.assertIn(r, defaults)

    def test_subinterpreter(self):
        _interpreters = import_helper.import_module('_interpreters')
        sys.set_coroutine_origin_tracking_default(4, tracebacks=True,
                                                  full=True)
        sys.set_coroutine_origin_tracking(5)
        interp = _interpreters.create()
        try:
            r, w = os.pipe()
            try:
                err = _interpreters.run_string(interp, textwrap.dedent(f'''
                    import os, sys
                    def both():
                        return (
                            tuple(sys.get_coroutine_origin_tracking()),
                            tuple(sys.get_coroutine_origin_tracking_default()))
                    info = both()
                    sys.set_coroutine_origin_tracking(6, skip='s')
                    sys.set_coroutine_origin_tracking_default(7, skip='t')
                    info += both()
                    os.write({w}, repr(info).encode())
                '''))
                self.assertIsNone(err)
                # run_string() has returned: the data is there or never
                # will be, so do not wait for it.
                os.set_blocking(r, False)
                out = eval(os.read(r, 4096).decode())
            finally:
                os.close(r)
                os.close(w)
        finally:
            _interpreters.destroy(interp)
        # The subinterpreter started from this process's start-up
        # settings, not from the main interpreter's changed default.
        args, env = self.startup_layers()
        startup = run_settings(*args, **env)
        self.assertEqual(out[0], startup)
        self.assertEqual(out[1], startup)
        self.assertEqual(out[2][0], 6)
        self.assertEqual(out[2][5], ('s',))
        self.assertEqual(out[3][0], 7)
        self.assertEqual(out[3][5], ('t',))
        # Nothing leaked back.
        self.assertEqual(sys.get_coroutine_origin_tracking().depth, 5)
        self.assertEqual(sys.get_coroutine_origin_tracking_default()[:6],
                         (4, self.saved_default.chain,
                          self.saved_default.asyncgen, True, True,
                          self.saved_default.skip))

    def startup_layers(self):
        # Reproduce this process's start-up layers in a child.
        args = []
        env = {}
        if 'coro_origin' in sys._xoptions:
            args += ['-X', 'coro_origin=' + sys._xoptions['coro_origin']]
        if sys.flags.ignore_environment:
            args.append('-E')
        else:
            env[ENVVAR] = os.environ.get(ENVVAR, '')
        return args, env


if __name__ == '__main__':
    unittest.main()
