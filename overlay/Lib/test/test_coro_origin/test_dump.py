"""Live coroutine dump: sys._dump_coroutines() and -X coro_origin=dump=SIG
(origin-python, issue 5)."""

import io
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import types
import unittest
from test import support

SCRIPT = textwrap.dedent('''\
    import asyncio, sys
    async def leaf(ev):
        await ev.wait()
    async def mid(ev):
        await leaf(ev)
    async def main():
        ev = asyncio.Event()
        t = asyncio.create_task(mid(ev), name='waiter')
        asyncio.get_running_loop().call_soon(lambda: print('ready', flush=True))
        await ev.wait()
    asyncio.run(main())
    ''')

EXPECTED = textwrap.dedent('''\
    Live coroutines (5 tracked, 2 asyncio tasks):

    Task 'Task-1' (pending):
      coroutine main() [suspended]
        at bug.py:10
        created at (most recent call last):
          File "bug.py", line 11, in <module>
            asyncio.run(main())
      awaiting:
        coroutine Event.wait() [suspended]
          at ASYNCIO/locks.py:213
          created at (most recent call last):
            File "bug.py", line 11, in <module>
              asyncio.run(main())
            File "bug.py", line 10, in main
              await ev.wait()
      awaiting:
        FutureIter object
      waiting for: <Future pending cb=[Task.task_wakeup()]>

    Task 'waiter' (pending):
      coroutine mid() [suspended]
        at bug.py:5
        created at (most recent call last):
          File "bug.py", line 11, in <module>
            asyncio.run(main())
          File "bug.py", line 8, in main
            t = asyncio.create_task(mid(ev), name='waiter')
      awaiting:
        coroutine leaf() [suspended]
          at bug.py:3
          created at (most recent call last):
            File "bug.py", line 11, in <module>
              asyncio.run(main())
            File "bug.py", line 5, in mid
              await leaf(ev)
      awaiting:
        coroutine Event.wait() [suspended]
          at ASYNCIO/locks.py:213
          created at (most recent call last):
            File "bug.py", line 11, in <module>
              asyncio.run(main())
            File "bug.py", line 5, in mid
              await leaf(ev)
            File "bug.py", line 3, in leaf
              await ev.wait()
      awaiting:
        FutureIter object
      waiting for: <Future pending cb=[Task.task_wakeup()]>

    End of live coroutines.
    ''')


async def sleeper():
    pass


class DumpFunctionTest(unittest.TestCase):

    def test_not_in_task(self):
        old = sys.get_coroutine_origin_tracking_depth()
        sys.set_coroutine_origin_tracking_depth(1)
        try:
            line = sys._getframe().f_lineno + 1
            c = sleeper()
        finally:
            sys.set_coroutine_origin_tracking_depth(old)
        try:
            out = io.StringIO()
            sys._dump_coroutines(out)
            text = out.getvalue()
            self.assertIn('Not in a task:\n  coroutine sleeper() [created]\n',
                          text)
            self.assertIn(
                f'      File "{__file__}", line {line}, in test_not_in_task\n'
                f'        c = sleeper()\n', text)
            self.assertTrue(text.endswith('End of live coroutines.\n'))
        finally:
            c.close()
        out = io.StringIO()
        sys._dump_coroutines(file=out)
        self.assertNotIn('sleeper()', out.getvalue())

    def test_default_stderr(self):
        with support.captured_stderr() as err:
            sys._dump_coroutines()
        self.assertTrue(err.getvalue().startswith('Live coroutines ('))


class DumpChainTest(unittest.TestCase):

    @unittest.skipUnless(hasattr(types.CoroutineType, 'cr_origin_chain'),
                         'needs cr_origin_chain (chain mode)')
    def test_chain_lines(self):
        code = textwrap.dedent('''\
            import asyncio, sys
            async def child():
                await asyncio.sleep(0)
            async def main():
                c = child()
                sys._dump_coroutines(sys.stdout)
                await c
            asyncio.run(main())
            ''')
        proc = subprocess.run(
            [sys.executable, '-X', 'coro_origin=3,chain=2,skip=asyncio',
             '-c', code], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('coroutine child() [created]', proc.stdout)
        self.assertIn('    chain (nearest ancestor first):\n'
                      '      main() created at <string>:8\n', proc.stdout)


@unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
class DumpSignalTest(unittest.TestCase):

    def test_signal_while_blocked(self):
        import asyncio
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(SCRIPT)
            proc = subprocess.Popen(
                [sys.executable, '-X', 'coro_origin=5,dump=SIGUSR1,skip=asyncio',
                 path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            try:
                self.assertEqual(proc.stdout.readline(), 'ready\n')
                lines = []
                for attempt in range(2):
                    # the loop is blocked in select(): PEP 475 runs the
                    # handler; send twice to check it keeps running
                    proc.send_signal(signal.SIGUSR1)
                    lines = []
                    while True:
                        line = proc.stderr.readline()
                        self.assertTrue(line, 'process ended')
                        lines.append(line)
                        if line == 'End of live coroutines.\n':
                            break
                self.assertIsNone(proc.poll())
            finally:
                proc.kill()
                proc.communicate()
        text = ''.join(lines).replace(path, 'bug.py').replace(
            os.path.dirname(asyncio.__file__), 'ASYNCIO')
        text = text.replace(
            f'at ASYNCIO/locks.py:{_event_wait_line()}', 'at ASYNCIO/locks.py:213')
        self.assertEqual(text, EXPECTED)


def _event_wait_line():
    import asyncio, inspect
    lines, start = inspect.getsourcelines(asyncio.Event.wait)
    for i, l in enumerate(lines):
        if 'await fut' in l:
            return start + i
    return 213


if __name__ == '__main__':
    unittest.main()
