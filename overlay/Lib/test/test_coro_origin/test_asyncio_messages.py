"""asyncio reports name where a task's coroutine was created
(origin-python, issue 5).  Exact outputs, in subprocesses run with
-X coro_origin=..., for the C Task and the pure-Python Task."""

import os
import sys
import tempfile
import textwrap
import unittest
from test.test_coro_origin._util import run_child

SCRIPT = textwrap.dedent('''\
    import asyncio, gc, sys
    if sys.argv[1] == 'py':
        asyncio.tasks.Task = asyncio.tasks._PyTask
    async def worker():
        await asyncio.sleep(10)
    async def boom():
        raise ValueError("boom")
    async def main():
        t = asyncio.create_task(worker())
        await asyncio.sleep(0)
        print(repr(t), flush=True)
        b = asyncio.create_task(boom())
        await asyncio.sleep(0)
        del b
        gc.collect()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())
    loop.close()
    del loop
    gc.collect()
    ''')


class MessagesTest(unittest.TestCase):

    def run_script(self, spec, kind):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(SCRIPT)
            proc = run_child(
                [sys.executable, '-X', f'coro_origin={spec}', path, kind],
                text=True)
            out = (proc.stdout + proc.stderr).replace(path, 'bug.py')
        self.assertEqual(proc.returncode, 0, out)
        return out

    def expected(self, task_cls):
        return textwrap.dedent('''\
            <{T} pending name='Task-2' coro=<worker() running at bug.py:5> wait_for=<Future pending cb=[{W}]> created at bug.py:9>
            Task exception was never retrieved
            future: <{T} finished name='Task-3' coro=<boom() done, defined at bug.py:6> exception=ValueError('boom')>
            Coroutine created at (most recent call last)
              File "bug.py", line 17, in <module>
                loop.run_until_complete(main())
              File "bug.py", line 12, in main
                b = asyncio.create_task(boom())
            Traceback (most recent call last):
              File "bug.py", line 7, in boom
                raise ValueError("boom")
            ValueError: boom
            Task was destroyed but it is pending!
            task: <{T} pending name='Task-2' coro=<worker() running at bug.py:5> wait_for=<Future pending cb=[{W}]> created at bug.py:9>
            Coroutine created at (most recent call last)
              File "bug.py", line 17, in <module>
                loop.run_until_complete(main())
              File "bug.py", line 9, in main
                t = asyncio.create_task(worker())
            ''')

    def test_c_task(self):
        out = self.run_script('10,skip=asyncio', 'c')
        self.assertEqual(out, self.expected('Task').format(
            T='Task', W='Task.task_wakeup()'))

    def test_py_task(self):
        out = self.run_script('10,skip=asyncio', 'py')
        # The exception's traceback (stock) shows Task.__step's frame.
        import asyncio
        lines = out.splitlines(keepends=True)
        prefix = f'  File "{os.path.dirname(asyncio.__file__)}{os.sep}'
        i = next(i for i, l in enumerate(lines) if l.startswith(prefix))
        del lines[i:i + 2]
        out = ''.join(lines)
        self.assertEqual(out, self.expected('Task').format(
            T='Task', W='Task.__wakeup()'))

    def test_depth_10(self):
        # Without skip the block also shows asyncio's own frames; the
        # innermost frame is where the coroutine object was made.
        out = self.run_script('10', 'c')
        lines = out.splitlines()
        self.assertTrue(lines[0].endswith(' created at bug.py:9>'), lines[0])
        i = lines.index('Task was destroyed but it is pending!')
        self.assertEqual(lines[i + 2],
                         'Coroutine created at (most recent call last)')
        # asyncio's frames folded into one counted line, the user's line
        # last.
        self.assertRegex(lines[-3], r'^  \[\d+ frames folded: asyncio\]$')
        self.assertEqual(lines[-2:], ['  File "bug.py", line 9, in main',
                                      '    t = asyncio.create_task(worker())'])

    def test_chain(self):
        out = self.run_script('10,chain=2,skip=asyncio', 'c')
        self.assertIn(
            '    t = asyncio.create_task(worker())\n'
            "... spawned from 'main', created at bug.py:17 (shown above)\n",
            out)

    def test_eager_task(self):
        # An eager task that fails inside create_task() keeps its
        # coroutine (stock drops it), so the report names its creation
        # site, for the C and the Python Task.
        script = textwrap.dedent('''\
            import asyncio, sys
            if sys.argv[1] == 'py':
                asyncio.tasks.Task = asyncio.tasks._PyTask
            async def connect():
                raise ConnectionError("refused")
            async def main():
                loop = asyncio.get_running_loop()
                loop.set_task_factory(asyncio.create_eager_task_factory(
                    asyncio.tasks.Task))
                asyncio.create_task(connect())
                await asyncio.sleep(0)
            asyncio.run(main())
            ''')
        for kind in ('c', 'py'):
            with self.subTest(kind=kind), \
                    tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'bug.py')
                with open(path, 'w') as f:
                    f.write(script)
                proc = run_child([sys.executable, '-X', 'coro_origin=10',
                                  path, kind], text=True)
                err = proc.stderr.replace(path, 'bug.py')
                self.assertEqual(proc.returncode, 0, err)
                self.assertIn('Task exception was never retrieved\n', err)
                self.assertRegex(err, 
                    r'Coroutine created at \(most recent call last\)\n'
                    r'  File "bug.py", line 12, in <module>\n'
                    r'    asyncio.run\(main\(\)\)\n'
                    r'  \[\d+ frames folded: asyncio\]\n'
                    r'  File "bug.py", line 10, in main\n'
                    r'    asyncio.create_task\(connect\(\)\)\n')

    def test_off(self):
        # Tracking off: stock's reports, stock's repr.
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(SCRIPT)
            proc = run_child([sys.executable, path, 'c'], text=True)
        out = proc.stdout + proc.stderr
        self.assertNotIn('created at', out)
        self.assertNotIn('Coroutine created', out)
        self.assertIn('Task was destroyed but it is pending!', out)



BOUND = textwrap.dedent('''\
    import asyncio, sys
    ready = asyncio.Event()
    async def wait():
        await asyncio.wait_for(ready.wait(), 0.01)
    for _ in range(2):
        try:
            asyncio.run(wait())
        except TimeoutError:
            pass
    ''')


class BoundToAnotherLoopTest(unittest.TestCase):
    """asyncio's RuntimeError "... is bound to a different event loop"
    says where the object was created and where both loops started."""

    def run_script(self, *args):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(BOUND)
            proc = run_child([sys.executable, *args, path], text=True)
            err = proc.stderr.replace(path, 'bug.py')
        self.assertEqual((proc.returncode, proc.stdout), (1, ''), err)
        return err.splitlines()

    def test_tracking_on(self):
        lines = self.run_script('-X', 'coro_origin=10')
        self.assertRegex(lines[-5], r'^RuntimeError: <asyncio.locks.Event '
                         r'object at 0x\w+ \[unset\]> is bound '
                         r'to a different event loop$')
        self.assertEqual(lines[-4:], [
            'The Event was created at (most recent call last)',
            '  File "bug.py", line 2, in <module>',
            '    ready = asyncio.Event()',
            '  bound to the event loop started at bug.py:7 (its first use); '
            'used now under the one started at bug.py:7'])

    def test_tracking_off(self):
        lines = self.run_script()
        self.assertIn('is bound to a different event loop', lines[-1])


if __name__ == '__main__':
    unittest.main()
