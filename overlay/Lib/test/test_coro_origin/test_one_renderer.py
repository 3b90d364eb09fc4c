"""One renderer: every place that shows where a coroutine was created
prints the same block (origin-python, issue 8).

One program creates its coroutines (and a future) from one line, so that
they share one creation site, then loses them in every way a report
exists for: a coroutine never awaited (RuntimeWarning), a task destroyed
while pending, a task exception never retrieved (its traceback: the
exception escaped the task's coroutine), a future exception never
retrieved, a pending task's repr() and the live dump.  Each place must
show the same block of text, held once here.
"""

import os
import sys
import tempfile
import textwrap
import unittest
from test.test_coro_origin._util import run_child

SCRIPT = textwrap.dedent('''\
    import asyncio, functools, gc, sys
    async def sleeper():
        await asyncio.sleep(10)
    async def boom():
        raise ValueError("boom")
    async def unawaited():
        pass
    def make(kind):
        return kind()
    async def main():
        loop = asyncio.get_running_loop()
        future = functools.partial(asyncio.Future, loop=loop)
        for kind in (sleeper, boom, unawaited, future):
            obj = make(kind)
            if kind is unawaited:
                del obj
            elif kind is future:
                obj.set_exception(KeyError('lost'))
                del obj
            else:
                task = asyncio.create_task(obj)
                del obj
                await asyncio.sleep(0)
                if kind is sleeper:
                    print(repr(task), file=sys.stderr)
                    sys._dump_coroutines()
                del task
            gc.collect()
    def run():
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
        loop.close()
    run()
    gc.collect()
    ''')

BLOCK = '''\
Coroutine created at (most recent call last)
  File "bug.py", line 33, in <module>
    run()
  File "bug.py", line 31, in run
    loop.run_until_complete(main())
  [{N} frames folded: asyncio]
  File "bug.py", line 14, in main
    obj = make(kind)
  File "bug.py", line 9, in make
    return kind()
'''

CHAIN = '''\
... spawned from 'main', created at bug.py:31 (shown above)
'''


class OneRendererTest(unittest.TestCase):

    def run_script(self, spec):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(SCRIPT)
            proc = run_child(
                [sys.executable, '-X', f'coro_origin={spec}', path],
                text=True)
            err = proc.stderr.replace(path, 'bug.py')
        self.assertEqual(proc.returncode, 0, err)
        return err

    def blocks(self, text, block):
        """Where "block" (with any count of folded frames) starts."""
        import re
        pattern = re.escape(block).replace(re.escape('{N}'), r'\d+')
        return [m.start() for m in re.finditer(pattern, text)]

    MARKERS = ('Task exception was never retrieved\n',
               'Future exception was never retrieved\n',
               'Task was destroyed but it is pending!\n',
               'RuntimeWarning: coroutine')

    def report_at(self, err, start):
        """The report starting at "start", up to the next one."""
        ends = [err.find(m, start + 1) for m in self.MARKERS]
        ends = [e for e in ends if e > 0]
        return err[start:min(ends) if ends else len(err)]

    def check_places(self, err, block):
        # 1. The never-awaited RuntimeWarning.
        i = err.index("RuntimeWarning: coroutine 'unawaited' was never "
                      "awaited\n")
        after = err[err.index('\n', i) + 1:]
        self.assertEqual(self.blocks(after, block)[0], 0, err)
        # 2. Task was destroyed but it is pending.
        i = err.index('Task was destroyed but it is pending!\n')
        after = err[i:]
        task_line = after.splitlines()[1]
        self.assertTrue(task_line.startswith('task: <Task pending'), err)
        rest = after[len('Task was destroyed but it is pending!\n')
                     + len(task_line) + 1:]
        self.assertEqual(self.blocks(rest, block)[0], 0, err)
        # 3. Task exception was never retrieved: the traceback shows the
        # block once, after the exception, and the report adds no other.
        i = err.index('Task exception was never retrieved\n')
        report = self.report_at(err, i)
        k = report.index("ValueError: boom\nThe exception escaped "
                         "coroutine 'boom'.\n")
        found = self.blocks(report, block)
        self.assertEqual(len(found), 1, report)
        self.assertEqual(found[0], k + len("ValueError: boom\nThe exception "
                                           "escaped coroutine 'boom'.\n"))
        # 4. Future exception was never retrieved: the same frames under
        # a header that says what it is.
        fut_block = block.replace('Coroutine created at',
                                  'Future created at', 1).split('\n... ')[0]
        report = self.report_at(
            err, err.index('Future exception was never retrieved\n'))
        self.assertEqual(len(self.blocks(report, fut_block)), 1, report)
        # 5. repr() of the pending task: the innermost frame outside
        # asyncio's machinery.
        self.assertIn(" created at bug.py:9>\n", err)

    def test_every_place(self):
        err = self.run_script('10,tracebacks')
        self.check_places(err, BLOCK)

    def test_every_place_with_chain(self):
        err = self.run_script('10,tracebacks,chain=1')
        self.check_places(err, BLOCK + CHAIN)

    def test_dump_shows_the_same_block(self):
        err = self.run_script('10,tracebacks')
        start = err.index('\n', err.index('<Task pending')) + 1
        end = err.index('RuntimeWarning')
        dump = err[start:end]
        indented = [l for l in dump.splitlines() if 'created at' in l]
        self.assertTrue(indented, dump)
        # The dump indents the block; strip its indent and compare.
        lines = dump.splitlines()
        i = next(n for n, l in enumerate(lines)
                 if l.strip() == 'Coroutine created at (most recent call '
                                  'last)' and 'sleeper' in ''.join(lines[:n]))
        indent = len(lines[i]) - len(lines[i].lstrip())
        text = '\n'.join(l[indent:] for l in lines[i:i + 10]) + '\n'
        self.assertEqual(len(self.blocks(text, BLOCK)), 1, dump)

    def test_full_shows_every_frame(self):
        err = self.run_script('10,tracebacks,full')
        self.assertNotIn('frames folded', err)
        self.assertIn('asyncio', err)


if __name__ == '__main__':
    unittest.main()
