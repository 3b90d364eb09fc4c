"""Helpers for test_coro_origin.

Expected origins are computed independently of cr_origin: from frame
objects (sys._getframe(), f_back, f_lineno) at the moment the coroutine is
created, or literally, from "# marker: NAME" comments in the test sources.
Stock CPython builds cr_origin from the same frames at creation time.
"""

import contextlib
import linecache
import os
import re
import subprocess
import sys
from test import support
from test.support import script_helper


async def corofn():
    pass


def tracking(depth):
    """Set this thread's coroutine origin tracking depth for a while, with
    every other setting off (see settings())."""
    return settings(depth=depth)


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
    """Set this thread's origin tracking settings for a while: the ones
    given, and stock's (everything off) for the others, whatever the
    environment switched on for the whole run."""
    old = sys.get_coroutine_origin_tracking()
    new = dict(depth=0, chain=0, asyncgen=False, tracebacks=False, full=False,
               skip='')
    new.update(kwargs)
    sys.set_coroutine_origin_tracking(**new)
    try:
        yield
    finally:
        sys.set_coroutine_origin_tracking(
            old.depth, chain=old.chain, asyncgen=old.asyncgen,
            tracebacks=old.tracebacks, full=old.full, skip=old.skip)


# Every child process these tests start is given this many seconds to
# exit (its output is read until then); a child that takes longer is
# hung, and the test fails saying so instead of hanging the run.
CHILD_TIMEOUT = max(60.0, support.SHORT_TIMEOUT)


def child_timeout_message(cmd, timeout, out, err):
    """The failure message for a child killed after "timeout" seconds."""
    def show(data):
        if isinstance(data, bytes):
            data = data.decode('ascii', 'backslashreplace')
        return (data or '').rstrip()[-3000:]
    return (f'child process still running after {timeout} s, killed: {cmd!r}\n'
            f'stdout so far:\n{show(out)}\nstderr so far:\n{show(err)}')


# The tracking spec of the environment.  The suite passes whatever this
# process was started with (make test also runs it with tracking on for
# the whole run), so a child starts from an environment without it and
# each test gives the child the spec it means.
ENVVAR = 'PYTHONCOROORIGIN'

# What a child needs from this process's environment even when a test
# gives it a clean one: the dynamic linker's path, so that the python of
# an --enable-shared build (which has no rpath) finds its libpython.
KEPT_VARIABLES = ('LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH')


def child_env(**changes):
    """os.environ without PYTHONCOROORIGIN, then "changes" applied (a
    value of None removes that variable)."""
    env = dict(os.environ)
    env.pop(ENVVAR, None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def quiet_failed_creations(test):
    """For the rest of *test*: a coroutine whose creation failed for lack
    of memory is deallocated unawaited (as in stock); its warning, and an
    error while warning, are not what allocation-failure tests test."""
    import warnings
    test.enterContext(warnings.catch_warnings())
    warnings.simplefilter('ignore')
    test.enterContext(support.catch_unraisable_exception())


def rerun_in_clean_child(test):
    """Run the unittest "test" again in a child started with tracking off
    and no dump signal (settings that only start-up can change), and fail
    if it fails there.  For a test whose premise is stock's start-up
    state, when this process was started with another spec."""
    res = run_child([sys.executable, '-X', 'coro_origin=0', '-m', 'unittest',
                     '-v', test.id()], text=True)
    if res.returncode:
        test.fail(f'{test.id()} failed in a child started with '
                  f'-X coro_origin=0:\n{res.stdout}{res.stderr}')


def run_python(*args, timeout=None, **env_vars):
    """Run sys.executable with these arguments, read its output within
    CHILD_TIMEOUT seconds (or "timeout") and return (rc, out, err) as
    bytes, like test.support.script_helper.run_python_until_end().

    The options are script_helper's: keyword arguments are environment
    variables, __cleanenv=True makes them the whole environment,
    __isolated chooses -I; without variables the child runs with -I.
    A child that is still running when the time is up is killed and the
    test fails with what it had written."""
    timeout = CHILD_TIMEOUT if timeout is None else timeout
    cleanenv = env_vars.pop('__cleanenv', False)
    isolated = env_vars.pop('__isolated', None)
    needs_env = script_helper.interpreter_requires_environment()
    if isolated is None:
        isolated = not env_vars and not needs_env
    cmd = [sys.executable, '-X', 'faulthandler']
    if isolated:
        cmd.append('-I')
    elif not env_vars and not needs_env:
        cmd.append('-E')
    cmd.extend(args)
    if cleanenv:
        env = {key: os.environ[key] for key in KEPT_VARIABLES
               if key in os.environ}
    else:
        env = child_env()
    if 'TERM' not in env_vars:
        env['TERM'] = ''
    env.update(env_vars)
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                child_timeout_message(cmd, timeout, out, err)) from None
    return script_helper._PythonRunResult(proc.returncode, out, err), cmd


def assert_python_ok(*args, **env_vars):
    """script_helper.assert_python_ok() with a timeout (see run_python)."""
    res, cmd = run_python(*args, **env_vars)
    if res.rc:
        res.fail(cmd)
    return res


def assert_python_failure(*args, **env_vars):
    """script_helper.assert_python_failure() with a timeout (see
    run_python)."""
    res, cmd = run_python(*args, **env_vars)
    if not res.rc:
        res.fail(cmd)
    return res


def run_child(cmd, timeout=None, **kwargs):
    """subprocess.run(cmd, **kwargs) with output captured and read within
    CHILD_TIMEOUT seconds; a child still running then is killed and the
    test fails with what it had written."""
    timeout = CHILD_TIMEOUT if timeout is None else timeout
    kwargs.setdefault('capture_output', True)
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    if kwargs.get('env') is None:
        kwargs['env'] = child_env()
    try:
        return subprocess.run(cmd, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(child_timeout_message(
            cmd, timeout, exc.stdout, exc.stderr)) from None
