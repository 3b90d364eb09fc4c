"""Tests of differential_blocks (tools/differential --self-test).

The parser must remove the fork's blocks and nothing else: every test here
can fail, and the mutation tests check that a stock line that goes missing
from the fork's output, or comes out changed, is never absorbed into a
block."""

import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential_blocks as blocks    # noqa: E402

SOURCE = '''\
import asyncio
async def work():
    return 1
async def main():
    c = work()
    del c
    t = asyncio.create_task(work())
asyncio.run(main())
'''


class Blocks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.prog = os.path.join(cls.tmp.name, 'prog.py')
        with open(cls.prog, 'w') as f:
            f.write(SOURCE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def fill(self, text):
        return textwrap.dedent(text).replace('PROG', self.prog)

    # The fork's output with tracking on; lines that only the fork prints
    # start with "+" (stock prints the others).
    WARNING = """\
         PROG:6: RuntimeWarning: coroutine 'work' was never awaited
        +Coroutine created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +  [6 frames folded: asyncio]
        +  File "PROG", line 5, in main
        +    c = work()
        +... spawned from 'main', created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +... spawned from 'run', created at PROG:8 (shown above)
        +... spawned from 'runner' (creation site not recorded)
           del c
         RuntimeWarning: Enable tracemalloc to get the object allocation traceback
        """
    # A coroutine function given to call_later(): the loop made it, and
    # the block names the line that scheduled the callback; with chain=,
    # a coroutine made in a callback ends with that line.
    SCHEDULED = """\
         PROG:6: RuntimeWarning: coroutine 'work' was never awaited
        +Coroutine created by the event loop, calling the callback scheduled at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +  [6 frames folded: asyncio]
        +  File "PROG", line 5, in main
        +    c = work()
           del c
         PROG:6: RuntimeWarning: coroutine 'work' was never awaited
        +Coroutine created at (most recent call last)
        +  File "PROG", line 5, in main
        +    c = work()
        +... in a callback scheduled at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
           del c
         PROG:6: RuntimeWarning: coroutine 'work' was never awaited
        +Coroutine created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +  [6 frames folded: asyncio]
        +  File "PROG", line 5, in main
        +    c = work()
        +... spawned from 'main', created at (most recent call last)
        +  ... 7 frames as above
        +  File "PROG", line 7, in main
        +    t = asyncio.create_task(work())
           del c
        """
    # No chain: stock's next line directly follows the last frame.
    DEPTH_WARNING = """\
         PROG:6: RuntimeWarning: coroutine 'work' was never awaited
        +Coroutine created at (most recent call last)
        +  File "PROG", line 5, in main
        +    c = work()
           del c
         Traceback (most recent call last):
           File "PROG", line 5, in main
             c = work()
         ValueError
        +The exception escaped coroutine 'main'.
        +Coroutine created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
         Traceback (most recent call last):
           File "PROG", line 8, in <module>
        """
    GROUP = """\
           + Exception Group Traceback (most recent call last):
           |   File "PROG", line 8, in <module>
           | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)
           +-+---------------- 1 ----------------
             | Traceback (most recent call last):
             |   File "PROG", line 3, in work
             | ValueError: boom
             | a note
        +    | The exception escaped coroutine 'work'.
        +    | Coroutine created at (most recent call last)
        +    |   File "PROG", line 8, in <module>
        +    |     asyncio.run(main())
        +    |   [1 frame folded: asyncio]
             +------------------------------------
        """
    REPORTS = """\
         Task was destroyed but it is pending!
         task: <Task pending name='Task-2' coro=<work() running at PROG:3>@>
        +Coroutine created at (most recent call last)
        +  File "PROG", line 7, in main
        +    t = asyncio.create_task(work())
         Future exception was never retrieved
         future: <Future finished exception=KeyError('k')>
        +Future created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +  [1 frame folded: asyncio]
         KeyError: 'k'
        """

    CANCELLED = """\
         Traceback (most recent call last):
           File "PROG", line 8, in <module>
         asyncio.exceptions.CancelledError
        +Cancellation requested at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
        +  [7 frames folded: asyncio]
        +  outside any task (by an event loop callback), thread 'T-1'
        +  because its asyncio.timeout() expired (asyncio.timeout(), timeout_at() or wait_for())
        +  (2 requests; the first is shown)
         Traceback (most recent call last):
           File "PROG", line 8, in <module>
         asyncio.exceptions.CancelledError: bye
        +Cancellation requested at (most recent call last)
        +  File "PROG", line 5, in main
        +    c = work()
        +  by task 'Task-1' (created at PROG:8)
         The above exception was the direct cause of the following exception:
        """

    DROPPED = """\
         before
        +Task exception was never retrieved
        +dropped_by: 'cancel() called at PROG:7 after it failed'
        +future: <Task finished name='Task-2' coro=<work() done, defined at PROG:2> exception=ValueError('x')>
        +Coroutine created at (most recent call last)
        +  File "PROG", line 7, in main
        +    t = asyncio.create_task(work())
        +Traceback (most recent call last):
        +  File "PROG", line 3, in work
        +    return 1
        +KeyError: 'k'
        +
        +During handling of the above exception, another exception occurred:
        +
        +Traceback (most recent call last):
        +  File "PROG", line 3, in work
        +ValueError: x
        +The exception escaped coroutine 'work'.
        +Coroutine created at (most recent call last)
        +  File "PROG", line 8, in <module>
        +    asyncio.run(main())
         Task exception was never retrieved
         future: <Task finished name='Task-3' coro=<work() done, defined at PROG:2> exception=ValueError('y')>
         Traceback (most recent call last):
           File "PROG", line 3, in work
         ValueError: y
         after
        """

    MISUSES = """\
         before
        +Non-thread-safe call_soon() of an event loop called from thread 'T-1', not from the loop's own thread: the loop may not wake up for it (use loop.call_soon_threadsafe(), or asyncio.run_coroutine_threadsafe())
        +called_at: PROG:7
        +loop_thread: 'MainThread', loop started at PROG:8
        +A run_coroutine_threadsafe() future is waited for on the thread of its own event loop, which cannot run the coroutine meanwhile: the wait can only time out or hang
        +scheduled_at: 'PROG:7'
        +waited_at: 'PROG:8'
        +Future exception was never retrieved
        +dropped_by: 'the concurrent.futures.Future that run_coroutine_threadsafe() at PROG:7 returned was collected without its result() or exception() read'
        +Traceback (most recent call last):
        +  File "PROG", line 3, in work
        +    return 1
        +KeyError: 'k'
         Traceback (most recent call last):
           File "PROG", line 8, in <module>
         RuntimeError: Event loop stopped before Future completed.
        +Event loop stopped at (most recent call last)
        +  File "PROG", line 5, in main
        +    c = work()
        +  by task 'Task-1' (created at PROG:8)
         after
        """

    def pairs(self):
        """(stock's text, the fork's text, which fork lines are stock's)."""
        result = []
        for fixture in (self.WARNING, self.SCHEDULED, self.DEPTH_WARNING,
                        self.GROUP,
                        self.REPORTS, self.CANCELLED, self.DROPPED,
                        self.MISUSES):
            stock, fork, is_stock = [], [], []
            for line in textwrap.dedent(fixture).splitlines():
                line = line.replace('PROG', self.prog)
                mine = line.startswith('+')
                line = line[1:]
                fork.append(line.replace('@', ' created at '
                                         + self.prog + ':7'))
                is_stock.append(not mine)
                if not mine:
                    stock.append(line.replace('@', ''))
            result.append(('\n'.join(stock) + '\n', '\n'.join(fork) + '\n',
                           is_stock))
        return result

    def test_blocks_removed(self):
        for stock, fork, _ in self.pairs():
            stripped, removed = blocks.strip(fork)
            self.assertEqual(stripped, stock)
            self.assertTrue(removed)

    def test_stock_output_untouched(self):
        for stock, _fork, _ in self.pairs():
            self.assertEqual(blocks.strip(stock), (stock, []))

    def test_missing_or_changed_stock_line_shows(self):
        # Remove or change each line that stock prints: the stripped fork
        # output must then differ from stock's (no block absorbs it).
        for stock, fork, is_stock in self.pairs():
            lines = fork.split('\n')
            for i, line in enumerate(lines[:-1]):
                if not is_stock[i]:
                    continue
                for change in (None, line + ' changed',
                               '    ' + line.strip()):
                    if change == line:
                        continue
                    mutated = (lines[:i] + ([] if change is None else [change])
                               + lines[i + 1:])
                    stripped, _ = blocks.strip('\n'.join(mutated))
                    self.assertNotEqual(stripped, stock, (i, line))

    def test_source_line_must_be_the_files(self):
        # A 4-space line after a frame that is not that frame's source
        # line is not part of the block.
        text = self.fill('''\
            Coroutine created at (most recent call last)
              File "PROG", line 5, in main
                something else
            ''')
        stripped, _ = blocks.strip(text)
        self.assertEqual(stripped, '    something else\n')

    def test_header_without_site_stays(self):
        for text in ('Coroutine created at (most recent call last)\nnext\n',
                     'Future created at (most recent call last)\n'
                     '  [2 frames folded: numpy]\n',
                     "The exception escaped coroutine 'f'.\nValueError\n"):
            self.assertEqual(blocks.strip(text)[0], text)

    def test_chain_without_site_ends_block(self):
        text = self.fill('''\
            Coroutine created at (most recent call last)
              File "PROG", line 5, in main
                c = work()
            ... spawned from 'main', created at (most recent call last)
            after
            ''')
        stripped, _ = blocks.strip(text)
        self.assertEqual(stripped, "... spawned from 'main', created at "
                         "(most recent call last)\nafter\n")

    def test_prefix_must_match(self):
        # Body lines of a block printed inside a group have its margin.
        text = self.fill('''\
              | Coroutine created at (most recent call last)
                File "PROG", line 5, in main
            ''')
        self.assertEqual(blocks.strip(text)[0], text)

    def test_repr_site(self):
        line = self.fill("<Task pending name='x' coro=<w()> created at PROG:7>\n")
        self.assertEqual(blocks.strip(line)[0],
                         "<Task pending name='x' coro=<w()>>\n")
        self.assertEqual(blocks.strip(line, repr_sites=False)[0], line)
        missing = "<Task pending created at /no/such/file.py:7>\n"
        self.assertEqual(blocks.strip(missing)[0], missing)
        not_at_end = self.fill("<Task created at PROG:7 cb=[]>\n")
        self.assertEqual(blocks.strip(not_at_end)[0], not_at_end)
        both = self.fill("<Task pending name='x' created at PROG:7 "
                         "cancel requested at PROG:5>\n")
        self.assertEqual(blocks.strip(both)[0], "<Task pending name='x'>\n")
        # debug mode: stock's own "created at" stays
        self.assertEqual(blocks.strip(both, repr_sites=False)[0],
                         self.fill("<Task pending name='x' created at "
                                   "PROG:7>\n"))

    def test_cancel_block_needs_its_by_line(self):
        text = self.fill("""\
            Cancellation requested at (most recent call last)
              File "PROG", line 5, in main
                c = work()
            something else
            """)
        self.assertEqual(blocks.strip(text)[0], text)

    def summary(self):
        return self.fill('''\

            origin-python strict: 3 problems of lost asyncio work (exit status 70)
              2 task exception never retrieved
              1 coroutine never awaited

            [1] Task exception was never retrieved: ValueError: boom (2 times)
                Raised at
                  File "PROG", line 3, in work

            [2] coroutine 'work' was never awaited
                Coroutine created at (most recent call last)
                  File "PROG", line 5, in main
            ''')

    def test_unretrieved_reports(self):
        # reports of exceptions never retrieved are taken out whole (a
        # traceback, or the exception's line alone), wherever they are
        task = ('Task exception was never retrieved\n'
                "future: <Task finished name='Task-2' exception="
                "ValueError('x')>\n"
                'Traceback (most recent call last):\n'
                '  File "p.py", line 3, in f\n'
                'ValueError: x')
        future = ('Future exception was never retrieved\n'
                  "future: <Future finished exception=KeyError('k')>\n"
                  "KeyError: 'k'")
        text = f'before\n{future}\nbetween\n{task}\nafter'
        self.assertEqual(blocks.unretrieved_reports(text),
                         ('before\nbetween\nafter', [future, task]))
        # debug mode's source traceback belongs to the report
        debug = ('Future exception was never retrieved\n'
                 "future: <Future finished exception=KeyError('k')>\n"
                 'source_traceback: Object created at (most recent call '
                 'last):\n'
                 '  File "p.py", line 9, in main\n'
                 '    fut = loop.create_future()\n'
                 "KeyError: 'k'")
        self.assertEqual(blocks.unretrieved_reports(f'a\n{debug}\nb'),
                         ('a\nb', [debug]))
        # a lone head line is no report
        lone = 'Task exception was never retrieved\nsomething else'
        self.assertEqual(blocks.unretrieved_reports(lone), (lone, []))

    def test_strict_summary(self):
        before = 'Traceback (most recent call last):\nValueError\n'
        text, lines, status = blocks.strict_summary(before + self.summary())
        self.assertEqual(text, before)
        self.assertEqual(status, 70)
        self.assertEqual(lines[1][:22], 'origin-python strict: ')
        # Alone on stderr.
        text, lines, status = blocks.strict_summary(self.summary())
        self.assertEqual((text, status), ('', 70))

    def test_strict_summary_malformed_stays(self):
        good = self.summary()
        for bad in (good.replace('2 task exception', '1 task exception'),
                    good.replace('[2]', '[3]'),
                    good.replace('2 task exception never retrieved',
                                 '2 tasks lost'),
                    good + 'a line after the summary\n',
                    good.replace('\n    Raised at', '\nRaised at'),
                    good.replace('\norigin-python', 'origin-python')):
            self.assertEqual(blocks.strict_summary(bad),
                             (bad, None, None), bad)

    def test_normaliser(self):
        norm = blocks.normaliser('/x/Lib')
        self.assertEqual(
            norm('  File "/x/Lib/asyncio/tasks.py", line 304, in step\n'
                 '<Future cb=[f() at /x/Lib/asyncio/tasks.py:767]> '
                 'at 0x7f00ab\n/x/Lib/warnings.py:12: Warning\n'
                 '[<FrameSummary file /x/Lib/asyncio/runners.py, line 19 '
                 'in run>, <FrameSummary file /y/prog.py, line 5 in f>]\n'
                 '  File "/y/prog.py", line 3, in main\n'
                 '<Task created at /y/prog.py:7>\n'),
            '  File "<stdlib>/asyncio/tasks.py", line N, in step\n'
            '<Future cb=[f() at <stdlib>/asyncio/tasks.py:N]> at 0x?\n'
            '<stdlib>/warnings.py:N: Warning\n'
            '[<FrameSummary file <stdlib>/asyncio/runners.py, line N '
            'in run>, <FrameSummary file /y/prog.py, line 5 in f>]\n'
            '  File "/y/prog.py", line 3, in main\n'
            '<Task created at /y/prog.py:7>\n')

    def test_normaliser_cut_paths(self):
        # reprlib cut the directory: a file of the standard library by the
        # rest of its name, not the program's.
        lib = os.path.join(self.tmp.name, 'Lib')
        os.makedirs(os.path.join(lib, 'asyncio'), exist_ok=True)
        open(os.path.join(lib, 'asyncio', 'events.py'), 'w').close()
        norm = blocks.normaliser(lib)
        self.assertEqual(norm('<Future finis...events.py:460>'),
                         '<Future finis...events.py:N>')
        self.assertEqual(norm('<Future finis...vents.py:460>'),
                         '<Future finis...vents.py:N>')
        self.assertEqual(norm('<Future finis...prog.py:12>'),
                         '<Future finis...prog.py:12>')


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Blocks)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
