# Reports made while the interpreter shuts down, and after Ctrl-C: the fork
# prints what stock prints (asyncio's "never retrieved" and "destroyed
# pending" reports, the never-awaited warning), and with tracking on adds
# where the object was created.  No import may happen then: the renderer
# is bound before finalisation begins.
# This module is part of origin-python, not of upstream CPython.

import os
import re
import sys
import tempfile
import textwrap
import unittest
from test.support import os_helper
from test.test_coro_origin._util import child_env, run_child

# Objects held by module globals die while the interpreter tears modules
# down, after sys.modules was emptied.  EXIT is how the program ends:
# normally, or by SIGINT (Ctrl-C) in the middle of the loop.
PROGRAMS = {
    'task-exception': '''\
        import asyncio, signal
        async def f():
            raise ValueError("x")
        loop = asyncio.new_event_loop()
        t = loop.create_task(f())
        loop.run_until_complete(asyncio.sleep(0.01))
        EXIT
        ''',
    'task-pending': '''\
        import asyncio, signal
        async def f():
            await asyncio.sleep(3600)
        loop = asyncio.new_event_loop()
        t = loop.create_task(f())
        loop.run_until_complete(asyncio.sleep(0.01))
        EXIT
        ''',
    'future-exception': '''\
        import asyncio, signal
        loop = asyncio.new_event_loop()
        fut = loop.create_future()
        fut.set_exception(KeyError("lost"))
        loop.run_until_complete(asyncio.sleep(0.01))
        EXIT
        ''',
    'never-awaited': '''\
        import asyncio, signal
        async def f():
            pass
        c = f()
        EXIT
        ''',
}
EXITS = {
    'normal': 'pass',
    # (as Ctrl-C, also when the test runs with SIGINT ignored)
    'ctrl-c': ('signal.signal(signal.SIGINT, signal.default_int_handler); '
               'signal.raise_signal(signal.SIGINT)'),
}

# What stock's report says, whatever the spec: asyncio's message and the
# object's line, then the exception's traceback if there is one.
STOCK = {
    'task-exception': [
        'Task exception was never retrieved',
        "future: <Task finished name='Task-1' coro=<f() done, defined at "
        "FILE:2> exception=ValueError('x')>",
    ],
    'task-pending': [
        'Task was destroyed but it is pending!',
        "task: <Task pending name='Task-1' coro=<f() running at FILE:3> "
        "wait_for=<Future pending cb=[Task.task_wakeup()]>REPR>",
    ],
    'future-exception': [
        'Future exception was never retrieved',
        "future: <Future finished exception=KeyError('lost')>",
    ],
    # Once modules are torn down, warnings cannot be imported: stock
    # then warns without the site even when tracking is on.
    'never-awaited': [
        "<sys>:0: RuntimeWarning: coroutine 'f' was never awaited",
    ],
}
TRACEBACKS = {
    'task-exception': [
        'Traceback (most recent call last):',
        '  File "FILE", line 3, in f',
        'ValueError: x',
    ],
    'future-exception': [
        'KeyError: \'lost\'',
    ],
}
# Where each object was created, as the fork adds it with tracking on.
SITES = {
    'task-exception': ('Coroutine created at (most recent call last)',
                       5, 't = loop.create_task(f())'),
    'task-pending': ('Coroutine created at (most recent call last)',
                     5, 't = loop.create_task(f())'),
    'future-exception': ('Future created at (most recent call last)',
                         3, 'fut = loop.create_future()',
                         '  [1 frame folded: asyncio]'),
    'never-awaited': ('Coroutine created at (most recent call last)',
                      4, 'c = f()'),
}
BROKEN = ('Exception in default exception handler', 'ImportError',
          'Python is likely shutting down', 'Exception ignored',
          'could not be rendered')


def without_source(lines):
    """*lines* without the source lines under 'File' lines: once modules
    are torn down, linecache cannot read files, in stock's tracebacks as
    in the fork's sites."""
    kept = []
    for line in lines:
        if not (kept and re.match(r' *File "', kept[-1])
                and re.match(r' *(?!File ")\S', line)
                and len(line) - len(line.lstrip())
                    == len(kept[-1]) - len(kept[-1].lstrip()) + 2):
            kept.append(line)
    return kept


class ShutdownReportTest(unittest.TestCase):

    def run_program(self, name, exit, *options):
        source = textwrap.dedent(PROGRAMS[name]).replace('EXIT', EXITS[exit])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'prog.py')
            with open(path, 'w') as f:
                f.write(source)
            res = run_child([sys.executable, *options, path], text=True,
                            env=child_env(PYTHONASYNCIODEBUG=None,
                                          PYTHONWARNINGS=None))
        err = res.stderr.replace(path, 'FILE')
        return res.returncode, without_source(err.splitlines())

    def check(self, name, exit, *options, site=False):
        rc, lines = self.run_program(name, exit, *options)
        self.assertEqual(rc, 0 if exit == 'normal' else -2, lines)
        for broken in BROKEN:
            self.assertFalse([l for l in lines if broken in l], lines)
        # Stock's report, whole and in order; a pending task's repr says
        # where it was created when tracking is on.
        site = site and name != 'never-awaited'
        stock = [line.replace('REPR', ' created at FILE:5' if site else '')
                 for line in STOCK[name]]
        self.assertIn(stock[0], lines)
        start = lines.index(stock[0])
        self.assertEqual(lines[start:start + len(stock)], stock)
        rest = lines[start + len(stock):]
        header, lineno, source, *folded = SITES[name]
        if site:
            block = [header, f'  File "FILE", line {lineno}, in <module>',
                     *folded]
            self.assertEqual(rest[:len(block)], block, lines)
            rest = rest[len(block):]
        else:
            self.assertNotIn(header, lines)
        traceback = TRACEBACKS.get(name)
        if traceback is not None:
            self.assertEqual(rest[:len(traceback)], traceback, lines)
        return lines

    def test_tracking_off(self):
        for name in PROGRAMS:
            for exit in EXITS:
                with self.subTest(name=name, exit=exit):
                    self.check(name, exit)

    def test_tracking_on(self):
        for name in PROGRAMS:
            for exit in EXITS:
                with self.subTest(name=name, exit=exit):
                    self.check(name, exit, '-X', 'coro_origin=10', site=True)

    def test_tracking_on_at_run_time(self):
        # Switched on by the program (stock's API): nothing was imported
        # for the reports at start-up, they are bound before finalisation.
        for name in PROGRAMS:
            if name == 'never-awaited':
                continue        # see STOCK
            source = textwrap.dedent(PROGRAMS[name]).replace(
                'EXIT', 'pass')
            source = ('import sys; sys.set_coroutine_origin_tracking_depth'
                      '(10)\n' + source)
            with tempfile.TemporaryDirectory() as tmp, \
                    self.subTest(name=name, when='run time'):
                path = os.path.join(tmp, 'prog.py')
                with open(path, 'w') as f:
                    f.write(source)
                res = run_child([sys.executable, path], text=True)
                lines = without_source(
                    res.stderr.replace(path, 'FILE').splitlines())
                self.assertEqual(res.returncode, 0)
                header, lineno, text, *folded = SITES[name]
                self.assertIn(header, lines)
                i = lines.index(header)
                self.assertEqual(lines[i + 1],
                                 f'  File "FILE", line {lineno + 1}, in '
                                 f'<module>')

    def test_debug_mode(self):
        # asyncio's debug mode keeps lazy frame stacks: they are still made
        # into stock's source traceback while modules are torn down.
        for exit in EXITS:
            with self.subTest(exit=exit):
                source = textwrap.dedent(PROGRAMS['task-exception'])
                source = source.replace('EXIT', EXITS[exit])
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, 'prog.py')
                    with open(path, 'w') as f:
                        f.write(source)
                    res = run_child([sys.executable, path], text=True,
                                    env=child_env(PYTHONASYNCIODEBUG='1'))
                lines = without_source(
                    res.stderr.replace(path, 'FILE').splitlines())
                for broken in BROKEN:
                    self.assertFalse([l for l in lines if broken in l],
                                     lines)
                start = lines.index('Task exception was never retrieved')
                self.assertEqual(lines[start + 1:start + 4], [
                    "future: <Task finished name='Task-1' coro=<f() done, "
                    "defined at FILE:2> exception=ValueError('x') created "
                    "at FILE:5>",
                    'source_traceback: Object created at (most recent call '
                    'last):',
                    '  File "FILE", line 5, in <module>'], lines)

    def test_renderer_not_imported_when_off(self):
        # With tracking off nothing of the fork's runs for the reports:
        # the renderer is not even imported.
        code = textwrap.dedent('''\
            import asyncio, sys
            async def f():
                raise ValueError("x")
            loop = asyncio.new_event_loop()
            t = loop.create_task(f())
            loop.run_until_complete(asyncio.sleep(0.01))
            del t
            import gc; gc.collect()
            print('_coro_origin_report' in sys.modules)
            ''')
        res = run_child([sys.executable, '-c', code], text=True)
        self.assertEqual(res.stdout, 'False\n')
        self.assertIn('Task exception was never retrieved', res.stderr)
        # Nor at exit, where tracking on binds the report modules
        # (-X importtime lists every import, finalisation's too).
        ours = ['_coro_origin_dump', '_coro_origin_report',
                '_coro_origin_request', '_coro_origin_strict']
        for spec, expected in [(None, []), ('10', ours)]:
            with self.subTest(spec=spec):
                cmd = [sys.executable, '-X', 'importtime']
                if spec is not None:
                    cmd += ['-X', f'coro_origin={spec}']
                res = run_child(cmd + ['-c', code], text=True)
                imported = sorted(set(re.findall(
                    r'\|\s*(_coro_origin_[a-z]+)$', res.stderr, re.M)))
                self.assertEqual(imported, expected, res.stderr[-2000:])

    def test_strict_renders_objects_alive_at_exit(self):
        for name in PROGRAMS:
            with self.subTest(name=name):
                rc, lines = self.run_program(
                    name, 'normal', '-X', 'coro_origin=10,strict')
                self.assertEqual(rc, 70, lines)
                for broken in BROKEN:
                    self.assertFalse([l for l in lines if broken in l],
                                     lines)
                header, lineno, source, *folded = SITES[name]
                start = lines.index('origin-python strict: 1 problem of '
                                    'lost asyncio work (exit status 70)')
                summary = lines[start:]
                i = summary.index(f'    {header}')
                self.assertEqual(
                    summary[i + 1],
                    f'      File "FILE", line {lineno}, in <module>')


if __name__ == '__main__':
    unittest.main()
