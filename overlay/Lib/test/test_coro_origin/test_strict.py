# Tests for origin-python's strict mode: lost asyncio work is recorded with
# where it was created, summarised at exit, and fails the exit status.
# This module is part of origin-python, not of upstream CPython.

import os
import signal
import sys
import tempfile
import textwrap
import unittest
from test.support import os_helper
from test.test_coro_origin._util import child_env, run_child

STRICT_EXIT = 70
SUMMARY = 'origin-python strict: '

# Each kind of lost work once, each line that makes one marked.
KINDS = '''\
import asyncio, gc

async def boom():
    raise ValueError("boom")

async def forever():
    await asyncio.sleep(3600)

async def numbers():
    yield 1
    yield 2

async def forgotten():
    pass

async def main():
    loop = asyncio.get_running_loop()
    asyncio.ensure_future(boom())                # mark: task-exception
    fut = loop.create_future()                   # mark: future
    fut.set_exception(KeyError("lost"))
    del fut
    asyncio.ensure_future(forever())             # mark: pending
    forgotten()                                  # mark: unawaited
    await asyncio.sleep(0.01)

async def first(gen):
    return await gen.__anext__()

loop = asyncio.new_event_loop()
loop.run_until_complete(main())
gen = numbers()                                  # mark: agen
loop.run_until_complete(first(gen))
loop.close()
del gen
gc.collect()
'''


def line_of(source, mark):
    lines = [i for i, line in enumerate(source.splitlines(), 1)
             if line.endswith(f'# mark: {mark}')]
    assert len(lines) == 1, mark
    return lines[0]


class StrictTest(unittest.TestCase):

    def run_script(self, source, spec, *args):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bug.py')
            with open(path, 'w') as f:
                f.write(source)
            cmd = [sys.executable]
            if spec is not None:
                cmd += ['-X', f'coro_origin={spec}']
            proc = run_child(cmd + list(args) + [path], text=True)
        return proc, path

    def summary(self, stderr):
        self.assertIn(SUMMARY, stderr)
        return stderr[stderr.index(SUMMARY):]

    def test_every_kind(self):
        proc, path = self.run_script(KINDS, '10,asyncgen,strict')
        self.assertEqual(proc.returncode, STRICT_EXIT, proc.stderr)
        summary = self.summary(proc.stderr)
        head = summary.split('\n\n')[0].splitlines()
        self.assertEqual(head[0], SUMMARY + '5 problems of lost asyncio '
                                  f'work (exit status {STRICT_EXIT})')
        self.assertEqual(sorted(head[1:]), sorted([
            '  1 task exception never retrieved',
            '  1 future exception never retrieved',
            '  1 task destroyed while pending',
            '  1 coroutine never awaited',
            '  1 async generator never finalized']))
        # Each problem once, with the line that made its object.
        for mark, headline in [
                ('task-exception',
                 'Task exception was never retrieved: ValueError: boom'),
                ('future',
                 "Future exception was never retrieved: KeyError: 'lost'"),
                ('pending', 'Task was destroyed but it is pending!'),
                ('unawaited', "coroutine 'forgotten' was never awaited"),
                ('agen', "async generator 'numbers' was never finalized: "
                         "its event loop could not run its aclose()")]:
            with self.subTest(mark=mark):
                self.assertEqual(summary.count(f'] {headline}\n'), 1)
                block = summary.split(f'] {headline}\n')[1].split('\n\n')[0]
                line = line_of(KINDS, mark)
                self.assertIn(f'File "{path}", line {line}, in ', block)

    def test_without_strict_nothing_changes(self):
        proc, _ = self.run_script(KINDS, '10,asyncgen')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(SUMMARY, proc.stderr)
        proc, _ = self.run_script(KINDS, None)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(SUMMARY, proc.stderr)

    def test_reports_that_are_not_lost_work(self):
        # Strict mode tells lost work by what a report holds, not by its
        # message: these reuse asyncio's messages (or report a task that
        # is done) and lose nothing.
        source = textwrap.dedent('''\
            import asyncio
            async def fails():
                raise ValueError("handled")
            async def main():
                loop = asyncio.get_running_loop()
                loop.call_exception_handler(
                    {'message': 'Task was destroyed but it is pending!'})
                fut = loop.create_future()
                loop.call_exception_handler(
                    {'message': 'Future exception was never retrieved',
                     'exception': KeyError('x'), 'future': fut})
                fut.cancel()
                task = asyncio.create_task(fails())
                try:
                    await task
                except ValueError:
                    pass
                loop.call_exception_handler(
                    {'message': 'unhandled exception during shutdown',
                     'exception': task.exception(), 'task': task})
            asyncio.run(main())
            ''')
        proc, _ = self.run_script(source, '10,strict')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(SUMMARY, proc.stderr)
        self.assertEqual(proc.stderr.count('Task was destroyed but it is '
                                           'pending!\n'), 1)
        self.assertEqual(proc.stderr.count('Future exception was never '
                                           'retrieved\n'), 1)

    def test_dropped_task(self):
        # The example: a dropped failing task.
        source = textwrap.dedent('''\
            import asyncio
            async def fails():
                raise RuntimeError("lost")
            async def main():
                asyncio.create_task(fails())
                await asyncio.sleep(0.01)
            asyncio.run(main())
            ''')
        proc, path = self.run_script(source, '10,strict')
        self.assertEqual(proc.returncode, STRICT_EXIT)
        summary = self.summary(proc.stderr)
        self.assertIn('[1] Task exception was never retrieved: '
                      'RuntimeError: lost\n', summary)
        self.assertIn(f'  File "{path}", line 5, in main\n'
                      f'        asyncio.create_task(fails())\n', summary)
        self.assertIn(f'  File "{path}", line 3, in fails\n', summary)
        proc, _ = self.run_script(source, '10')
        self.assertEqual(proc.returncode, 0)

    def test_identical_problems_once(self):
        # 300 tasks lost at the same line are one entry with a count; a
        # shared exception awaited by them all does not multiply output.
        source = textwrap.dedent('''\
            import asyncio
            async def wait(fut):
                await fut
            async def main():
                fut = asyncio.get_running_loop().create_future()
                for _ in range(300):
                    asyncio.ensure_future(wait(fut))
                await asyncio.sleep(0)
                fut.set_exception(ValueError("shared"))
                await asyncio.sleep(0.01)
            asyncio.run(main())
            ''')
        proc, _ = self.run_script(source, '10,strict')
        self.assertEqual(proc.returncode, STRICT_EXIT)
        summary = self.summary(proc.stderr)
        self.assertIn('  300 task exception never retrieved\n', summary)
        self.assertEqual(summary.count('\n['), 1, summary)
        self.assertIn('[1] Task exception was never retrieved: ValueError: '
                      'shared (300 times)\n', summary)

    def test_failing_status_kept(self):
        source = 'async def f(): pass\nf()\nimport sys; sys.exit(3)\n'
        proc, _ = self.run_script(source, '2,strict')
        self.assertEqual(proc.returncode, 3)
        self.assertIn(SUMMARY + '1 problem of lost asyncio work (exit '
                      'status 3)', proc.stderr)

    def test_system_exit(self):
        # A program that ends with SystemExit, from a script, -c or -m:
        # the summary, and its status (70 for a successful one).  Before
        # 3.13.15, Py_RunMain() ends the process in Py_Exit() when a
        # script or -c raises SystemExit (gh-152132), so strict mode's
        # summary must be written from there too.
        lost = 'async def f(): pass\nf()\nimport sys\n'
        for how, end, status in [
                ('script', 'sys.exit(3)', 3),
                ('script', 'sys.exit(0)', STRICT_EXIT),
                ('script', 'raise SystemExit', STRICT_EXIT),
                ('script', 'sys.exit("bye")', 1),
                ('-c', 'sys.exit(3)', 3),
                ('-c', 'sys.exit()', STRICT_EXIT),
                ('-m', 'sys.exit(0)', STRICT_EXIT)]:
            with self.subTest(how=how, end=end):
                source = lost + end + '\n'
                if how == 'script':
                    proc, _ = self.run_script(source, '2,strict')
                else:
                    with tempfile.TemporaryDirectory() as tmp:
                        with open(os.path.join(tmp, 'lostmod.py'), 'w') as f:
                            f.write(source)
                        arg = source if how == '-c' else 'lostmod'
                        proc = run_child(
                            [sys.executable, '-X', 'coro_origin=2,strict',
                             how, arg], text=True, cwd=tmp)
                self.assertEqual(proc.returncode, status, proc.stderr)
                self.assertEqual(proc.stderr.count(SUMMARY), 1, proc.stderr)
                self.assertIn(SUMMARY + '1 problem of lost asyncio work '
                              f'(exit status {status})\n', proc.stderr)
                self.assertIn("[1] coroutine 'f' was never awaited\n",
                              proc.stderr)

    def test_keyboard_interrupt(self):
        # An unhandled KeyboardInterrupt: Py_RunMain() ends the process
        # with SIGINT after the summary, which says so (not "exit status").
        source = textwrap.dedent('''\
            import asyncio, signal
            async def work():
                return 1
            async def main():
                c = work(); del c
                # (as Ctrl-C, also when this test runs with SIGINT ignored)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.raise_signal(signal.SIGINT)
                await asyncio.sleep(3600)
            asyncio.run(main())
            ''')
        proc, _ = self.run_script(source, '2,strict')
        self.assertEqual(proc.returncode, -signal.SIGINT, proc.stderr)
        self.assertIn(SUMMARY + '1 problem of lost asyncio work '
                      '(ended by SIGINT)\n', proc.stderr)
        self.assertNotIn('(exit status', proc.stderr)

    def test_ignored_warning_still_counts(self):
        source = 'async def f(): pass\nf()\n'
        proc, _ = self.run_script(source, '2,strict', '-W', 'ignore')
        self.assertEqual(proc.returncode, STRICT_EXIT)
        self.assertNotIn('RuntimeWarning', proc.stderr)
        self.assertIn("[1] coroutine 'f' was never awaited\n", proc.stderr)

    def test_take_problems(self):
        source = textwrap.dedent('''\
            import sys
            async def f():
                pass
            print(sys._coroutine_origin_problems())
            f()
            problems = sys._coroutine_origin_problems()
            print(len(problems), problems[0][0], problems[0][2])
            print(problems[0][1].splitlines()[0])
            print(sys._coroutine_origin_problems())
            ''')
        proc, _ = self.run_script(source, '2,strict')
        # Taken problems no longer count at exit.
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(SUMMARY, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [
            '[]', '1 coroutine never awaited 1',
            "coroutine 'f' was never awaited", '[]'])
        # Without strict: None.
        proc, _ = self.run_script(
            'import sys\nprint(sys._coroutine_origin_problems())\n', '2')
        self.assertEqual(proc.stdout.splitlines()[0], 'None')

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_child_does_not_report_parent(self):
        source = textwrap.dedent('''\
            import os, sys
            async def f():
                pass
            f()
            pid = os.fork()
            if pid == 0:
                os.close(1)
                sys.exit(0)         # a clean child: status 0
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status))
            ''')
        proc, _ = self.run_script(source, '2,strict')
        self.assertEqual(proc.stdout.strip(), '0')
        self.assertEqual(proc.returncode, STRICT_EXIT)
        self.assertEqual(proc.stderr.count(SUMMARY), 1, proc.stderr)

    def test_closed_stderr(self):
        # The summary cannot be written: the status still says so.
        source = 'import os\nasync def f(): pass\nf()\nos.close(2)\n'
        proc, _ = self.run_script(source, '2,strict')
        self.assertEqual(proc.returncode, STRICT_EXIT)

    def test_spec(self):
        proc = run_child([sys.executable, '-X', 'coro_origin=strict=1', '-c',
                          'pass'], text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("-X coro_origin: invalid spec: item 'strict=1': "
                      "strict takes no value", proc.stderr)


# Finalizer hooks that raise (issue 15): how the generator ends decides.
# Each scenario prints the first lines of what strict mode recorded before
# the generator was dropped, after, and after the "event loop" ran.
HOOKS = '''\
import gc, sys, warnings

log = []
queue = []                  # the event loop's callbacks, or its generators
origins = []

async def numbers():
    try:
        yield 1
        yield 2
    finally:
        log.append('finally')

def step(awaitable):
    try:
        awaitable.send(None)
    except StopIteration:
        return True
    return False

def run(awaitable):
    while not step(awaitable):
        pass

def drop_started():
    agen = numbers()
    step(agen.asend(None))
    origins.append(agen.ag_origin)

def problems():
    gc.collect()
    return [(kind, text.splitlines()[0], count)
            for kind, text, count in sys._coroutine_origin_problems()]

def scenario(name, hook):
    log.clear()
    sys.set_asyncgen_hooks(firstiter=None, finalizer=hook)
    print(name)
    print('  before:', problems())

warnings.simplefilter('error')          # as pytest's filterwarnings=error
sys.unraisablehook = lambda unraisable: None

# asyncio's order: schedule aclose(), then warn (an error here).
def schedules_aclose(agen):
    queue.append(agen.aclose())
    warnings.warn('collected before exhausted', ResourceWarning)
scenario('schedules aclose()', schedules_aclose)
drop_started()
print('  dropped:', problems())
run(queue.pop())
print('  after the loop:', log, problems())

# trio's order: keep the generator for the loop, then warn.
def keeps_generator(agen):
    queue.append(agen)
    warnings.warn('collected before exhausted', ResourceWarning)
scenario('keeps the generator', keeps_generator)
drop_started()
print('  dropped:', problems())
kept = queue.pop()
print('  reads as before:', kept.ag_origin == origins[-1],
      kept.ag_origin is not None,
      keeps_generator in gc.get_referents(kept),
      [type(r).__name__ for r in gc.get_referents(kept)
       if 'watch' in type(r).__name__])
run(kept.aclose())
del kept
print('  after the loop:', log, problems())

# The hook closes it, then raises.
def closes(agen):
    run(agen.aclose())
    raise RuntimeError('raised after closing')
scenario('closes it', closes)
drop_started()
print('  dropped:', log, problems())

# Raises without scheduling anything: lost.
def raises(agen):
    raise RuntimeError('nothing scheduled')
scenario('raises', raises)
drop_started()
print('  dropped:', log, problems())

# ... unless the generator never started: nothing to lose.
agen = numbers()
awaitable = agen.asend(None)            # hooks set up, body not started
del awaitable, agen
print('  never started:', log, problems())

# Kept by the hook and never closed: lost when the loop lets it go.
def keeps_and_forgets(agen):
    queue.append(agen)
    raise RuntimeError('kept')
scenario('kept, never closed', keeps_and_forgets)
drop_started()
print('  dropped:', problems())
queue.clear()
print('  let go:', log, problems())

# The exception the hook raised keeps it alive (pytest's unraisable hook
# keeps it until the end of the test): judged when the exception goes.
unraisables = []
sys.unraisablehook = unraisables.append
scenario('exception kept', raises)
drop_started()
print('  dropped:', problems())
unraisables.clear()
print('  exception gone:', log, problems())
sys.unraisablehook = lambda unraisable: None
'''

LOST = ('async generator never finalized',
        "async generator 'numbers' was never finalized: its finalizer hook "
        "raised, and it was freed before it finished", 1)


class FinalizerHookTest(unittest.TestCase):

    def run_source(self, source, spec):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'hooks.py')
            with open(path, 'w') as f:
                f.write(source)
            proc = run_child([sys.executable, '-X', f'coro_origin={spec}',
                              path], text=True)
        return proc, path

    def test_hooks(self):
        lost = repr([LOST])
        for spec, tracked in [('10,asyncgen,strict', True),
                              ('10,strict', False), ('strict', False)]:
            with self.subTest(spec=spec):
                proc, _ = self.run_source(HOOKS, spec)
                # Every problem was taken: nothing is left at exit.
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertNotIn(SUMMARY, proc.stderr)
                self.assertEqual(proc.stdout.splitlines(), [
                    'schedules aclose()',
                    '  before: []',
                    '  dropped: []',
                    "  after the loop: ['finally'] []",
                    'keeps the generator',
                    '  before: []',
                    '  dropped: []',
                    f'  reads as before: True {tracked} True []',
                    "  after the loop: ['finally'] []",
                    'closes it',
                    '  before: []',
                    "  dropped: ['finally'] []",
                    'raises',
                    '  before: []',
                    f'  dropped: [] {lost}',
                    '  never started: [] []',
                    'kept, never closed',
                    '  before: []',
                    '  dropped: []',
                    f'  let go: [] {lost}',
                    'exception kept',
                    '  before: []',
                    '  dropped: []',
                    f'  exception gone: [] {lost}',
                ])

    def test_without_strict(self):
        # The same hooks without strict: nothing recorded, same behaviour.
        proc, _ = self.run_source(
            HOOKS.replace('sys._coroutine_origin_problems()',
                          '(sys._coroutine_origin_problems() or [])'),
            '10,asyncgen')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(
            [line for line in proc.stdout.splitlines() if 'finally' in line],
            ["  after the loop: ['finally'] []",
             "  after the loop: ['finally'] []",
             "  dropped: ['finally'] []"])
        self.assertNotIn('never finalized', proc.stdout)

    def test_summary(self):
        # A hook that raised and scheduled nothing fails the run, with
        # where the generator was created; one that scheduled aclose() and
        # then raised does not count.
        source = textwrap.dedent('''\
            import gc, sys
            async def numbers():
                try:
                    yield 1
                finally:
                    pass
            def start(agen):
                try:
                    agen.asend(None).send(None)
                except StopIteration:
                    pass
            later = []
            def scheduled(agen):
                later.append(agen.aclose())
                raise RuntimeError("scheduled")
            def lost(agen):
                raise RuntimeError("lost")
            sys.set_asyncgen_hooks(finalizer=scheduled)
            start(numbers())                             # mark: scheduled
            for aclose in later:
                try:
                    aclose.send(None)
                except StopIteration:
                    pass
            del aclose
            later.clear()
            sys.set_asyncgen_hooks(finalizer=lost)
            start(numbers())                             # mark: lost
            gc.collect()
            ''')
        for spec, tracked in [('10,asyncgen,strict', True),
                              ('strict', False)]:
            with self.subTest(spec=spec):
                proc, path = self.run_source(source, spec)
                self.assertEqual(proc.returncode, STRICT_EXIT, proc.stderr)
                # Both hooks' exceptions are reported as stock reports them.
                self.assertIn('RuntimeError: scheduled', proc.stderr)
                self.assertIn('RuntimeError: lost', proc.stderr)
                summary = proc.stderr[proc.stderr.index(SUMMARY):]
                items = summary.rstrip('\n').split('\n\n')
                self.assertEqual(items[0].splitlines(), [
                    SUMMARY + '1 problem of lost asyncio work '
                              f'(exit status {STRICT_EXIT})',
                    '  1 async generator never finalized'])
                self.assertEqual(len(items), 2, summary)
                block = items[1].splitlines()
                self.assertEqual(block[0], '[1] ' + LOST[1])
                if tracked:
                    self.assertEqual(block[1:], [
                        '    Async generator created at (most recent call '
                        'last)',
                        f'      File "{path}", line '
                        f'{line_of(source, "lost")}, in <module>',
                        '        start(numbers())'
                        '                             # mark: lost'])
                else:
                    self.assertEqual(block[1:], [
                        '    (creation site not recorded: track async '
                        'generators with the asyncgen item)'])

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_child_frees_parents_generator(self):
        # Watched in the parent, freed in both processes: only the process
        # that saw its hook raise judges it.
        source = textwrap.dedent('''\
            import gc, os, sys
            async def numbers():
                yield 1
            kept = []
            def keeps(agen):
                kept.append(agen)
                raise RuntimeError("kept")
            sys.unraisablehook = lambda unraisable: None
            sys.set_asyncgen_hooks(finalizer=keeps)
            agen = numbers()
            try:
                agen.asend(None).send(None)
            except StopIteration:
                pass
            del agen
            gc.collect()
            pid = os.fork()
            if pid == 0:
                kept.clear()
                gc.collect()
                print('child', sys._coroutine_origin_problems(), flush=True)
                sys.exit(0)
            _, status = os.waitpid(pid, 0)
            print('child status', os.waitstatus_to_exitcode(status))
            kept.clear()
            gc.collect()
            print('parent', [(kind, count) for kind, _, count
                             in sys._coroutine_origin_problems()])
            ''')
        proc, _ = self.run_source(source, '2,asyncgen,strict')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [
            'child []', 'child status 0',
            "parent [('async generator never finalized', 1)]"])


if __name__ == '__main__':
    unittest.main()
