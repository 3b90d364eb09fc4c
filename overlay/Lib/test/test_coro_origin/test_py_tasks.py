"""gdb's py-tasks (Tools/gdb/coro_origin_gdb.py, appended to python-gdb.py):
the tasks and coroutines of a live process and of a core file, read from
memory, with the hooks auto-loaded from next to the interpreter."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from test import support
from test.test_coro_origin import _util

GDB_TIMEOUT = 120

# make test installs gdb (tools/deps) and sets this: there, a missing gdb
# or a refused attach fails instead of skipping.
REQUIRED = bool(os.environ.get('ORIGIN_PYTHON_REQUIRE_GDB'))


def hooks_file():
    """python-gdb.py as gdb auto-loads it for this interpreter: next to the
    binary in the build tree, bin/python3.13-gdb.py once installed."""
    exe = os.path.realpath(sys.executable)
    return exe + '-gdb.py'


def skip_or_fail(reason):
    if REQUIRED:
        raise AssertionError(reason + ' (ORIGIN_PYTHON_REQUIRE_GDB is set)')
    raise unittest.SkipTest(reason)


def setUpModule():
    if not sys.platform.startswith('linux'):
        raise unittest.SkipTest('gdb on Linux only')
    if shutil.which('gdb') is None:
        skip_or_fail('gdb not found')
    if not os.path.exists(hooks_file()):
        skip_or_fail(f'no {hooks_file()}')
    res = subprocess.run(['gdb', '-nx', '-batch', '-ex', 'python print(6*7)'],
                         capture_output=True, text=True, timeout=GDB_TIMEOUT)
    if res.stdout.strip() != '42':
        skip_or_fail('gdb without Python support')
    # py-tasks reads the interpreter's structures by their debug
    # information, as py-bt does: a build without it (make test's 3.13.5
    # rebase build is made without -g) cannot be read, whatever gdb.
    res = subprocess.run(['gdb', '-nx', '-batch', '-ex',
                          'python print(gdb.lookup_type("PyGC_Head").sizeof)',
                          os.path.realpath(sys.executable)],
                         capture_output=True, text=True, timeout=GDB_TIMEOUT)
    if res.stdout.strip().splitlines()[-1:] != ['16']:
        raise unittest.SkipTest('a build without debug information')


STUCK = '''\
import asyncio

async def leaf(lock):
    async with lock:                                    # marker: leaf
        pass

async def worker(lock):
    await leaf(lock)                                    # marker: worker

async def waiter(ev):
    await ev.wait()                                     # marker: waiter

async def main():
    lock = asyncio.Lock()
    await lock.acquire()
    ev = asyncio.Event()
    orphan = waiter(ev)                                 # marker: orphan
    asyncio.create_task(waiter(ev), name='lonely')      # marker: lonely
    both = asyncio.gather(worker(lock), worker(lock))   # marker: gather
    while len(lock._waiters or ()) < 2:
        await asyncio.sleep(0)
    print('ready', flush=True)
    await both                                          # marker: await

asyncio.run(main())                                     # marker: run
'''

BLOCKED = '''\
import asyncio, time

async def blocker():
    print('ready', flush=True)
    time.sleep(3600)                                    # marker: sleep

async def main():
    await asyncio.create_task(blocker(), name='blocker')  # marker: await

asyncio.run(main())
'''


class PyTasksTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def start(self, source, *args):
        """Run source as a script until it prints 'ready'; return its
        path and process."""
        path = os.path.join(self.tmp, 'prog.py')
        with open(path, 'w') as f:
            f.write(source)
        env = _util.child_env()
        env.pop('PYTHONCOROORIGIN', None)
        proc = subprocess.Popen([sys.executable, '-I', *args, path],
                                stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.kill)
        self.assertEqual(proc.stdout.readline(), b'ready\n')
        return path, proc

    def gdb(self, *args):
        cmd = ['gdb', '-nx', '-batch',
               '-iex', 'set debuginfod enabled off',
               '-iex', 'add-auto-load-safe-path '
               + os.path.dirname(hooks_file()),
               *args]
        res = _util.run_child(cmd, timeout=GDB_TIMEOUT, text=True)
        if 'ptrace: Operation not permitted' in res.stderr:
            skip_or_fail('gdb may not attach here')
        return res

    def py_tasks(self, *target):
        res = self.gdb('-ex', 'py-tasks', *target)
        out = res.stdout
        start = out.find('Asyncio tasks')
        end = out.find('End of tasks.')
        if start < 0 or end < 0:
            self.fail(f'no listing from py-tasks:\n{out}\n{res.stderr}')
        return out[start:end + len('End of tasks.')] + '\n'

    def normal(self, text, path):
        """Paths and asyncio's own line numbers made stable."""
        import asyncio
        asyncio_dir = os.path.dirname(asyncio.__file__)
        text = text.replace(asyncio_dir + os.sep, '<asyncio>/')
        text = re.sub(r'(<asyncio>/\w+\.py):\d+', r'\1:N', text)
        return text.replace(path, 'prog.py')

    def expected(self, path, text):
        def line(name):
            return _util.marker(path, name)
        return textwrap.dedent(text).format(line=line, src=source_line(path))

    @unittest.skipIf(support.Py_GIL_DISABLED, 'free-threaded build')
    def test_live(self):
        path, proc = self.start(STUCK, '-X', 'coro_origin=10')
        live = self.py_tasks('-p', str(proc.pid))
        self.assertEqual(self.normal(live, path), self.stuck_listing(path))

    @unittest.skipIf(support.Py_GIL_DISABLED, 'free-threaded build')
    # An AddressSanitizer process maps terabytes of shadow memory: gdb's
    # core of it takes a minute and lacks the binary's own mappings (gdb:
    # "Failed to read a valid object file image from memory"), so nothing
    # of Python can be read from it.  The live test runs there.
    @unittest.skipIf(support.check_sanitizer(address=True),
                     "gdb's core of an ASan process has no object files")
    def test_core_file(self):
        path, proc = self.start(STUCK, '-X', 'coro_origin=10')
        core = os.path.join(self.tmp, 'core')
        res = self.gdb('-p', str(proc.pid), '-ex',
                       f'generate-core-file {core}')
        self.assertTrue(os.path.exists(core), res.stdout + res.stderr)
        proc.kill()
        from_core = self.py_tasks(os.path.realpath(sys.executable), core)
        self.assertEqual(self.normal(from_core, path),
                         self.stuck_listing(path))

    def stuck_listing(self, path):
        m = lambda name: _util.marker(path, name)
        site = lambda name: (
            '  Coroutine created at (most recent call last)\n'
            f'    File "prog.py", line {m("run")}, in <module>\n'
            '      asyncio.run(main())                                     # marker: run\n'
            + ('' if name is None else
               '    [6 frames folded: asyncio]\n'
               f'    File "prog.py", line {m(name)}, in main\n'
               f'      {source_line(path, m(name))}\n'))
        indent = lambda text, prefix: ''.join(prefix + l for l in text.splitlines(True))
        expected = (
            'Asyncio tasks and coroutines, read from memory by py-tasks (4 pending tasks):\n'
            '\n'
            "Task 'Task-1' (pending)\n"
            f'  coroutine main() suspended at prog.py:{m("await")}\n'
            + indent(site(None), '  ') +
            '  awaiting <_GatheringFuture pending>\n')
        for connector, cont in (('├── ', '│   '), ('└── ', '    ')):
            expected += (
                f"{connector}Task 'Task-{2 if connector[0] == '├' else 3}' (pending)\n"
                f'{cont}  coroutine worker() suspended at prog.py:{m("worker")}\n'
                + indent(site('gather'), cont + '  ') +
                f'{cont}  awaiting leaf() suspended at prog.py:{m("leaf")}\n'
                f'{cont}  awaiting _ContextManagerMixin.__aenter__() -> Lock.acquire() at <asyncio>/locks.py:N\n'
                f'{cont}  awaiting <_asyncio.Future pending>\n')
        expected += (
            '\n'
            "Task 'lonely' (pending)\n"
            f'  coroutine waiter() suspended at prog.py:{m("waiter")}\n'
            + indent(site('lonely'), '  ') +
            '  awaiting Event.wait() at <asyncio>/locks.py:N\n'
            '  awaiting <_asyncio.Future pending>\n'
            '\n'
            'Not in a task:\n'
            '  coroutine waiter() created, not started\n'
            + indent(site('orphan'), '  ') +
            '\n'
            'End of tasks.\n')
        return expected

    @unittest.skipIf(support.Py_GIL_DISABLED, 'free-threaded build')
    def test_blocked_untracked(self):
        # Tracking off: no creation sites, still every task, and the one
        # that blocks the loop in C (time.sleep) shown running.
        path, proc = self.start(BLOCKED, '-X', 'coro_origin=0')
        m = lambda name: _util.marker(path, name)
        self.assertEqual(self.normal(self.py_tasks('-p', str(proc.pid)), path),
            'Asyncio tasks and coroutines, read from memory by py-tasks (2 pending tasks):\n'
            '\n'
            "Task 'Task-1' (pending)\n"
            f'  coroutine main() suspended at prog.py:{m("await")}\n'
            "  awaiting Task 'blocker'\n"
            "└── Task 'blocker' (pending)\n"
            f'      coroutine blocker() running at prog.py:{m("sleep")}\n'
            '\n'
            'End of tasks.\n')

    @unittest.skipUnless(support.Py_GIL_DISABLED, 'free-threaded build only')
    def test_free_threaded_says_why(self):
        path, proc = self.start(BLOCKED)
        res = self.gdb('-ex', 'py-tasks', '-p', str(proc.pid))
        self.assertIn('py-tasks: the free-threaded build keeps no list of '
                      'its objects that py-tasks can read', res.stderr)


def source_line(path, lineno=None):
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[lineno - 1].strip() if lineno else ''


if __name__ == '__main__':
    unittest.main()
