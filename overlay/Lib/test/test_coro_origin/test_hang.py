# Tests for the hang watchdog (Lib/_coro_origin_hang.py): hang=SECONDS,
# sys._dump_coroutines_later(), and what the dump shows under a running
# task.  Every child process is read with a timeout; the programs hang for
# good, and the watchdog ends them with status 70.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import os
import re
import signal
import sys
import textwrap
import threading
import time
import unittest

import _coro_origin_hang as hang
from test.support import os_helper
from test.support import import_helper
try:
    _interpreters = import_helper.import_module('_interpreters')
except unittest.SkipTest:
    _interpreters = None
from test.test_coro_origin._util import run_python

ASYNCIO = os.path.dirname(asyncio.__file__)

# A callback blocks its loop: a threading.Lock taken twice by one task.
BLOCKED = textwrap.dedent('''\
    import asyncio
    import threading

    lock = threading.Lock()


    def flush(item):
        with lock:
            print('flushed', item)


    def record(item):
        with lock:
            flush(item)


    async def handle(item):
        await asyncio.sleep(0.01)
        record(item)


    async def main():
        await asyncio.gather(handle(1), handle(2))


    asyncio.run(main())
    ''')

BLOCKED_REPORT = '''\
origin-python: hang: the event loop of thread 'MainThread' has been running one callback for N s: nothing else on it runs (timeout 0.3 s)
  callback: a step of Task 'Task-2' (below)
  blocked in (innermost frame):
    File "app.py", line 8, in flush
      with lock:
  loop started at app.py:26
Live coroutines (4 tracked, 3 asyncio tasks):

Task 'Task-1' (pending)
  coroutine main() suspended at app.py:23
    Coroutine created at (most recent call last)
      File "app.py", line 26, in <module>
        asyncio.run(main())
  awaiting <_GatheringFuture pending cb=[Task.task_wakeup()]>
  \u251c\u2500\u2500 Task 'Task-2' (pending)
  \u2502     coroutine handle() running at app.py:19
  \u2502       Coroutine created at (most recent call last)
  \u2502         File "app.py", line 26, in <module>
  \u2502           asyncio.run(main())
  \u2502         [6 frames folded: asyncio]
  \u2502         File "app.py", line 23, in main
  \u2502           await asyncio.gather(handle(1), handle(2))
  \u2502       Running now (most recent call last):
  \u2502         File "app.py", line 14, in record
  \u2502           flush(item)
  \u2502         File "app.py", line 8, in flush
  \u2502           with lock:
  \u2514\u2500\u2500 Task 'Task-3' (pending)
        coroutine handle() suspended at app.py:18
          Coroutine created at (most recent call last)
            File "app.py", line 26, in <module>
              asyncio.run(main())
            [6 frames folded: asyncio]
            File "app.py", line 23, in main
              await asyncio.gather(handle(1), handle(2))
        awaiting sleep() at <asyncio>/tasks.py:N
        awaiting <Future finished result=None>

End of live coroutines.
origin-python: hang: exiting with status 70
'''

# Tasks wait for what nobody gives them: a queue nobody feeds.
STALLED = textwrap.dedent('''\
    import asyncio
    import sys


    async def consumer(queue):
        while True:
            item = await queue.get()
            print('got', item)


    async def main():
        queue = asyncio.Queue()
        task = asyncio.create_task(consumer(queue))
        await asyncio.sleep(0.01)
        asyncio.get_running_loop().call_later(3600, print)
        await task


    sys._dump_coroutines_later(0.3, exit=True)
    asyncio.run(main())
    ''')

# The same with nothing that could ever wake the loop: a certain deadlock.
DEADLOCK = STALLED.replace(
    "    asyncio.get_running_loop().call_later(3600, print)\n", "")
assert DEADLOCK != STALLED

STALLED_REPORT = '''\
origin-python: hang: no task of the event loop of thread 'MainThread' has taken a step for N s (timeout 0.3 s)
  loop started at app.py:20
  the loop has 2 pending tasks, 0 callbacks ready, 1 timer
    timer in N s: print() scheduled at app.py:15
Live coroutines (3 tracked, 2 asyncio tasks):

Task 'Task-1' (pending)
  coroutine main() suspended at app.py:16
    Coroutine created at (most recent call last)
      File "app.py", line 20, in <module>
        asyncio.run(main())
  awaiting Task 'Task-2'
  \u2514\u2500\u2500 Task 'Task-2' (pending)
        coroutine consumer() suspended at app.py:7
          Coroutine created at (most recent call last)
            File "app.py", line 20, in <module>
              asyncio.run(main())
            [6 frames folded: asyncio]
            File "app.py", line 13, in main
              task = asyncio.create_task(consumer(queue))
        awaiting Queue.get() at <asyncio>/queues.py:N
        waiting for an item from a Queue (created at app.py:12)

End of live coroutines.
origin-python: hang: exiting with status 70
'''

# In the main thread, asyncio.run()'s SIGINT handler (Ctrl-C) could still
# wake the loop: a stall (after the timeout) that says so.
DEADLOCK_REPORT = (
    STALLED_REPORT.split('\n', 1)[0] + '\n'
    "  nothing but a signal (SIGINT, Ctrl-C) can wake it: a deadlock, "
    "unless the program waits for one\n"
    + STALLED_REPORT.split('\n', 1)[1]
    .replace('app.py:20', 'app.py:19').replace('line 20,', 'line 19,')
    .replace('app.py:16', 'app.py:15')
    .replace('1 timer\n    timer in N s: print() scheduled at app.py:15',
             '0 timers'))

# The same in a thread's loop: nothing at all can wake it.
THREAD_DEADLOCK = textwrap.dedent('''\
    import asyncio
    import threading


    async def consumer(queue):
        while True:
            item = await queue.get()
            print('got', item)


    async def main():
        queue = asyncio.Queue()
        await asyncio.create_task(consumer(queue))


    threading.Thread(target=asyncio.run, args=(main(),), name='worker').start()
    ''')

THREAD_DEADLOCK_REPORT = '''\
origin-python: deadlock: the event loop of thread 'worker' waits for ever with pending tasks: nothing can wake it (no callback ready, no timer, no file descriptor but its own, no signal handler, no other thread at work)
  the loop has 2 pending tasks, 0 callbacks ready, 0 timers
Live coroutines (3 tracked, 2 asyncio tasks):

Task 'Task-1' (pending)
  coroutine main() suspended at app.py:13
    Coroutine created at (most recent call last)
      File "app.py", line 16, in <module>
        threading.Thread(target=asyncio.run, args=(main(),), name='worker').start()
  awaiting Task 'Task-2'
  \u2514\u2500\u2500 Task 'Task-2' (pending)
        coroutine consumer() suspended at app.py:7
          Coroutine created at (most recent call last)
            [9 frames folded: threading, asyncio]
            File "app.py", line 13, in main
              await asyncio.create_task(consumer(queue))
        awaiting Queue.get() at <asyncio>/queues.py:N
        waiting for an item from a Queue (created at app.py:12)

End of live coroutines.
origin-python: hang: exiting with status 70
'''

# The main thread ends, and a non-daemon thread's loop runs forever.
CANNOT_EXIT = textwrap.dedent('''\
    import asyncio
    import threading


    def serve(loop):
        asyncio.set_event_loop(loop)
        loop.run_forever()


    loop = asyncio.new_event_loop()
    threading.Thread(target=serve, args=(loop,), name='server').start()
    fut = asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01, 'ok'), loop)
    print(fut.result())
    ''')

CANNOT_EXIT_REPORT = '''\
origin-python: hang: the main thread has finished, and the interpreter has waited N s for thread 'server', which runs an event loop that nothing stops (timeout 0.3 s)
  the loop has 0 pending tasks, 0 callbacks ready, 0 timers
Live coroutines (0 tracked, 0 asyncio tasks):

Event loop with no task, running in thread 'server' (started at app.py:7): 0 callbacks ready, 0 timers

End of live coroutines.
origin-python: hang: exiting with status 70
'''

# Busy and slow, never stuck for 0.3 s: a task that only yields (the C
# Task's own step) and one that sleeps longer than the look interval.
BUSY = textwrap.dedent('''\
    import asyncio
    import sys

    if sys.argv[1:] == ['py']:
        sys.modules['_asyncio'] = None


    async def spin():
        for i in range(20000):
            await asyncio.sleep(0)


    async def slow():
        for i in range(4):
            await asyncio.sleep(0.2)


    async def main():
        await asyncio.gather(spin(), slow())
        print('done')


    asyncio.run(main())
    ''')


SUB_REPORT = '''\
origin-python: hang: the event loop of thread 'MainThread' has been running one callback for N s: nothing else on it runs (timeout 0.3 s)
  callback: a step of Task 'Task-2' (below)
  blocked in (innermost frame):
    File "<string>", line 5, in blocker
  loop started at <string>:8
Live coroutines (2 tracked, 2 asyncio tasks):

Task 'Task-1' (pending)
  coroutine main() suspended at <string>:7
    Coroutine created at (most recent call last)
      File "<string>", line 8, in <module>
  awaiting Task 'Task-2'
  \u2514\u2500\u2500 Task 'Task-2' (pending)
        coroutine blocker() running at <string>:5
          Coroutine created at (most recent call last)
            File "<string>", line 8, in <module>
            [6 frames folded: asyncio]
            File "<string>", line 7, in main

End of live coroutines.
'''


# A task catches the CancelledError of its wait_for() timeout and backs
# off: its cancellation is ignored (and the loop is not called stalled).
IGNORED = textwrap.dedent('''\
    import asyncio


    async def poll():
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                await asyncio.sleep(60)


    async def main():
        try:
            await asyncio.wait_for(poll(), timeout=0.1)
        except TimeoutError:
            print('stopped')


    asyncio.run(main())
    ''')

IGNORED_REPORT = '''\
origin-python: hang: Task 'Task-1' of the event loop of thread 'MainThread' has gone on for N s since its cancellation was requested (timeout 0.3 s): it caught CancelledError without re-raising it (or calling uncancel()), or its clean-up waits; who asked is shown under it below
Live coroutines (4 tracked, 1 asyncio task):

Task 'Task-1' (cancelling)
  cancel requested at app.py:14 outside any task (by an event loop callback), because the timeout set there expired (0.1 s)
  coroutine main() suspended at app.py:14
    Coroutine created at (most recent call last)
      File "app.py", line 19, in <module>
        asyncio.run(main())
  coroutine wait_for() suspended at <asyncio>/tasks.py:N
  coroutine poll() suspended at app.py:9
  awaiting sleep() at <asyncio>/tasks.py:N
  awaiting <Future pending cb=[Task.task_wakeup()]>

End of live coroutines.
origin-python: hang: exiting with status 70
'''


class HangTest(unittest.TestCase):

    def run_program(self, source, *args, spec='hang=0.3,strict'):
        with os_helper.temp_dir() as tmp:
            path = os.path.join(tmp, 'app.py')
            with open(path, 'w') as f:
                f.write(source)
            res, cmd = run_python('-X', f'coro_origin={spec}', path, *args,
                                  __isolated=False)
            err = res.err.decode('utf-8', 'replace')
            err = err.replace(path, 'app.py').replace(ASYNCIO, '<asyncio>')
            out = res.out.decode().replace(path, 'app.py')
        return res.rc, out, err

    def check_report(self, err, expected, timeout=0.3):
        # The time it measured, at least the timeout (looked at a few
        # times per timeout), is the only figure left out.
        times = re.findall(r'for (\d+\.\d) s|waited (\d+\.\d) s', err)
        if timeout is not None:
            self.assertEqual(len(times), 1, err)
            self.assertGreaterEqual(float(''.join(times[0])), timeout)
        err = re.sub(r'(for|waited) \d+\.\d s', r'\1 N s', err)
        # (asyncio's lines are N; one the dump could not read, seen with
        # a task that keeps stepping, is left out)
        err = re.sub(r'(<asyncio>/\w+\.py)(:\d+)?\b', r'\1:N', err)
        err = re.sub(r'timer in \d+\.\d s', 'timer in N s', err)
        self.assertEqual(err, expected)

    def test_blocked(self):
        rc, out, err = self.run_program(BLOCKED)
        self.assertEqual(rc, 70)
        self.assertEqual(out, '')
        self.check_report(err, BLOCKED_REPORT)

    def test_stalled(self):
        # sys._dump_coroutines_later(exit=True), tracking from the spec
        rc, out, err = self.run_program(STALLED, spec='10')
        self.assertEqual(rc, 70)
        self.check_report(err, STALLED_REPORT)

    def test_deadlock(self):
        # Nothing can wake the thread's loop: reported at once (two looks
        # 0.1 s apart), with a timeout of an hour, as strict's 70.
        start = time.monotonic()
        rc, out, err = self.run_program(THREAD_DEADLOCK,
                                        spec='hang=3600,strict')
        self.assertLess(time.monotonic() - start, 30)
        self.assertEqual((rc, out), (70, ''))
        self.check_report(err, THREAD_DEADLOCK_REPORT, timeout=None)
        # In the main thread, SIGINT could: a stall after the timeout.
        rc, out, err = self.run_program(DEADLOCK, spec='10')
        self.assertEqual(rc, 70)
        self.check_report(err, DEADLOCK_REPORT)

    def test_sigint_is_a_way_out(self):
        # A program that waits for SIGINT (here from a supervisor, after
        # 1 s) is no deadlock: it ends as on stock.
        source = textwrap.dedent('''\
            import asyncio, os, signal, subprocess, sys
            supervisor = subprocess.Popen([sys.executable, '-c',
                                           'import os, time; time.sleep(1); '
                                           f'os.kill({os.getpid()}, 2)'])
            async def main():
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    print('interrupted')
                    raise
            try:
                asyncio.run(main())
            except KeyboardInterrupt:
                print('bye')
            supervisor.wait()
            ''')
        rc, out, err = self.run_program(source, spec='10,hang=30,strict')
        self.assertEqual((rc, out, err), (0, 'interrupted\nbye\n', ''))

    def test_waits_that_are_no_deadlock(self):
        # Each of these waits for something that will come; stalls of
        # 3 s are longer than the timeout, which makes no deadlock.
        source = textwrap.dedent('''\
            import asyncio, os, signal, socket, sys, threading, time

            async def via_thread(loop):
                fut = loop.create_future()
                def later():
                    time.sleep(1.5)
                    loop.call_soon_threadsafe(fut.set_result, 'thread')
                threading.Thread(target=later).start()
                return await fut

            async def via_executor(loop):
                await loop.run_in_executor(None, time.sleep, 1.5)
                return 'executor'

            async def via_signal(loop):
                fut = loop.create_future()
                loop.add_signal_handler(signal.SIGUSR2, fut.set_result, 'sig')
                threading.Timer(1.5, os.kill,
                                (os.getpid(), signal.SIGUSR2)).start()
                return await fut

            async def via_subprocess(loop):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, '-c', 'import time; time.sleep(1.5)')
                return await proc.wait()

            async def via_socket(loop):
                r, w = socket.socketpair()
                threading.Timer(1.5, w.send, (b'x',)).start()
                reader, writer = await asyncio.open_connection(sock=r)
                data = await reader.read(1)
                writer.close()
                w.close()
                return data

            async def main():
                loop = asyncio.get_running_loop()
                for f in (via_thread, via_executor, via_signal,
                          via_subprocess, via_socket):
                    print(f.__name__, await f(loop))

            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source, spec='10,hang=60,strict')
        self.assertEqual((rc, err), (0, ''))
        self.assertEqual(out, 'via_thread thread\nvia_executor executor\n'
                              'via_signal sig\nvia_subprocess 0\n'
                              "via_socket b'x'\n")

    def test_ignored_cancellation(self):
        rc, out, err = self.run_program(IGNORED)
        self.assertEqual((rc, out), (70, ''))
        self.check_report(err, IGNORED_REPORT)

    def test_cancellation_handled_is_not_ignored(self):
        # Clean-up shorter than the timeout, and a CancelledError
        # suppressed with uncancel() (as asyncio.timeout() does): no report.
        source = textwrap.dedent('''\
            import asyncio
            async def cleanup():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    await asyncio.sleep(0.1)
                    raise
            async def suppress():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    asyncio.current_task().uncancel()
                for _ in range(12):     # 0.6 s, stepping: no stall
                    await asyncio.sleep(0.05)
                return 'went on'
            async def main():
                tasks = [asyncio.create_task(f()) for f in (cleanup, suppress)]
                await asyncio.sleep(0.05)
                for task in tasks:
                    task.cancel()
                print(await asyncio.gather(*tasks, return_exceptions=True))
            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source)
        self.assertEqual((rc, out, err),
                         (0, "[CancelledError(''), 'went on']\n", ''))

    def test_cannot_exit(self):
        rc, out, err = self.run_program(CANNOT_EXIT)
        self.assertEqual(rc, 70)
        self.assertEqual(out, 'ok\n')
        self.check_report(err, CANNOT_EXIT_REPORT)

    def test_tracking_off(self):
        # sys._dump_coroutines_later() with the fork's tracking off: a
        # blocked loop and a deadlock are still found (through the tasks;
        # task steps are not counted, so no stall); no sites in the dump.
        source = BLOCKED.replace('asyncio.run(main())',
                                 'sys._dump_coroutines_later(0.3, '
                                 'exit=True)\nasyncio.run(main())')
        source = 'import sys\n' + source
        rc, out, err = self.run_program(source, spec='0')
        self.assertEqual(rc, 70)
        self.assertTrue(err.startswith(
            "origin-python: hang: the event loop of thread 'MainThread' has "
            "been running one callback for "), err)
        self.assertIn("  callback: a step of Task 'Task-2' (below)\n", err)
        self.assertNotIn('Coroutine created at', err)
        source = ('import sys\nsys._dump_coroutines_later(0.3, exit=True)\n'
                  + THREAD_DEADLOCK)
        rc, out, err = self.run_program(source, spec='0')
        self.assertEqual(rc, 70)
        self.assertTrue(err.startswith("origin-python: deadlock: the event "
                                       "loop of thread 'worker' "), err)

    def test_busy_is_not_a_hang(self):
        for args in [(), ('py',)]:
            with self.subTest(args=args):
                rc, out, err = self.run_program(BUSY, *args,
                                                spec='hang=1,strict')
                self.assertEqual((rc, out, err), (0, 'done\n', ''))

    def test_one_report_per_episode(self):
        # Two episodes, each blocked 0.6 s: with repeat, two reports, with
        # no exit; without repeat, the watch ends after the first.
        source = textwrap.dedent('''\
            import asyncio, sys, time
            async def main():
                for i in range(2):
                    time.sleep(0.6)
                    await asyncio.sleep(0.01)
            sys._dump_coroutines_later(0.2, repeat=%s)
            asyncio.run(main())
            ''')
        for repeat, reports in [(True, 2), (False, 1)]:
            with self.subTest(repeat=repeat):
                rc, out, err = self.run_program(source % repeat, spec='10')
                self.assertEqual(rc, 0)
                self.assertEqual(err.count('origin-python: hang: the event '
                                           'loop'), reports, err)
                self.assertEqual(err.count('End of live coroutines.'),
                                 reports)
                self.assertNotIn('exiting', err)

    @unittest.skipIf(_interpreters is None, 'needs _interpreters')
    def test_subinterpreter(self):
        # A watch started in a subinterpreter reports that interpreter's
        # blocked loop, with its own frames (not those of the main
        # interpreter's frame that runs it in the same thread), stops when
        # that interpreter ends, and the process goes on and exits 0.
        # The main interpreter's dump, meanwhile, looks at a thread that
        # runs another subinterpreter: sys._current_frames() would make
        # frame objects of that interpreter's frames with this one's
        # allocator and crash the process when it frees them (upstream;
        # the fork's look reads this interpreter's threads only).
        source = textwrap.dedent('''\
            import _interpreters, io, os, sys, threading, time
            CODE = \'\'\'if 1:
                import asyncio, sys, time
                sys._dump_coroutines_later(0.3)
                async def blocker():
                    time.sleep(1.0)
                async def main():
                    await asyncio.create_task(blocker())
                asyncio.run(main())
                print('sub done', flush=True)
            \'\'\'
            def run(code):
                interp = _interpreters.create()
                _interpreters.run_string(interp, code)
                _interpreters.destroy(interp)
            run(CODE)
            r, w = os.pipe()
            worker = threading.Thread(target=run, args=(
                f'import os; os.read({r}, 1)',))
            worker.start()
            time.sleep(0.2)
            frames = sys._coroutine_origin_current_frames()
            print(sorted(frames) == sorted({threading.main_thread().ident,
                                            worker.ident}))
            sys._dump_coroutines(io.StringIO())
            os.write(w, b'x')
            worker.join()
            print('main done', flush=True)
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, out), (0, 'sub done\nTrue\nmain done\n'), err)
        self.check_report(err, SUB_REPORT)

    def test_cancel(self):
        source = textwrap.dedent('''\
            import asyncio, sys, threading, time
            before = threading.enumerate()
            sys._dump_coroutines_later(0.2, exit=True)
            assert threading.enumerate() == before, threading.enumerate()
            async def main():
                sys._cancel_dump_coroutines_later()
                sys._cancel_dump_coroutines_later()
                time.sleep(0.6)
                print('not reported')
            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, out, err), (0, 'not reported\n', ''))

    @unittest.skipUnless(os.path.isdir('/proc/self/task'), 'needs /proc')
    def test_concurrent_starts(self):
        # Threads that start watches at once leave one; after cancel(),
        # no thread of it is left and nothing is reported.
        source = textwrap.dedent('''\
            import asyncio, os, sys, threading, time
            barrier = threading.Barrier(4)
            def starter():
                barrier.wait()
                for i in range(20):
                    sys._dump_coroutines_later(0.2)
            threads = [threading.Thread(target=starter) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sys._cancel_dump_coroutines_later()
            print(len(os.listdir('/proc/self/task')))
            async def main():
                time.sleep(0.6)
            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, out, err), (0, '1\n', ''))

    def test_file(self):
        # A file object gets the report; a later start replaces the watch.
        source = textwrap.dedent('''\
            import asyncio, io, sys, time
            buf = io.StringIO()
            sys._dump_coroutines_later(100)
            sys._dump_coroutines_later(0.2, file=buf)
            async def main():
                time.sleep(0.6)
            asyncio.run(main())
            report = buf.getvalue()
            print(report.startswith('origin-python: hang: the event loop'),
                  report.count('End of live coroutines.'))
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, err), (0, ''))
        self.assertEqual(out, 'True 1\n')

    def test_arguments(self):
        # A call refused leaves the watch as it was (none, or the one
        # that hang= in the environment started).
        before = hang._watch
        for timeout, exc in [(0, ValueError), (-1, ValueError),
                             (float('nan'), ValueError), ('1', TypeError),
                             (True, TypeError), (1e100, OverflowError)]:
            with self.subTest(timeout=timeout):
                self.assertRaises(exc, sys._dump_coroutines_later, timeout)
        self.assertRaises(TypeError, sys._dump_coroutines_later, 1,
                          file=object())
        self.assertRaises(ValueError, sys._dump_coroutines_later, 1, file=-1)
        self.assertRaises(TypeError, sys._dump_coroutines_later, 1, True)
        self.assertIs(hang._watch, before)
        if before is None:
            sys._cancel_dump_coroutines_later()     # nothing to cancel
            self.assertIsNone(hang._watch)

    def test_gil_kept(self):
        # A call that keeps the GIL (ctypes.PyDLL) keeps the watchdog from
        # looking: the C sentinel writes the threads' Python stacks.  In
        # the free-threaded build, the thread stays attached, which keeps
        # the watchdog's look (a stop-the-world) from starting.
        source = textwrap.dedent('''\
            import asyncio, ctypes, sys
            libc = ctypes.PyDLL(None)       # the GIL is kept during calls
            async def main():
                await asyncio.sleep(0.01)
                libc.sleep(60)
            sys._dump_coroutines_later(0.2, exit=True)
            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, out), (70, ''))
        self.assertTrue(err.endswith('origin-python: hang: exiting with '
                                     'status 70\n'), err)
        head, _, stacks = err.partition('\n')
        if sys._is_gil_enabled():
            could, keeps = 'take the GIL', 'it'
        else:
            # (the look stops the world, which an attached thread blocks)
            could = 'stop the other threads to look'
            keeps = 'running attached to the interpreter'
        self.assertRegex(head, r'^origin-python: hang: the watchdog could '
                         rf'not {could} for \d+\.\d s: a thread keeps '
                         rf'{keeps} \(C code that does not release it\), so '
                         r'instead of the await tree, the Python stacks of '
                         r'the threads:$')
        seconds = float(re.search(r'for (\d+\.\d) s', head).group(1))
        self.assertGreaterEqual(seconds, 2 * 0.2 + 1)
        self.assertRegex(stacks, r'(?m)^(Current thread|Thread) 0x[0-9a-f]+ '
                         r'\(most recent call first\):\n'
                         r'  File "app.py", line 5 in main$')
        self.assertIn('_coro_origin_hang.py', stacks)   # the watchdog's
        self.assertNotIn('Live coroutines', err)

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_child_has_no_watch(self):
        # The watch stops before fork() and starts again in the parent
        # after it: fork() sees no thread of it.  (Older 3.13 releases
        # count the threads after the parent's at-fork callbacks, where
        # any thread they start is counted: the probe fork below, whose
        # callback starts a thread, tells which kind this CPython is.)
        source = textwrap.dedent('''\
            import os, sys, threading, warnings, _coro_origin_hang as hang
            stop = threading.Event()
            started = []
            def start_one():
                started.append(threading.Thread(target=stop.wait,
                                                daemon=True))
                started[-1].start()
            def probe():
                os.register_at_fork(after_in_parent=start_one)
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter('always')
                    pid = os.fork()
                    if pid == 0:
                        os._exit(0)
                    os.waitpid(pid, 0)
                stop.set()
                # (gone before the next fork, which counts live threads)
                started.pop().join()
                return bool(seen)
            late = probe()
            sys._dump_coroutines_later(100)
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter('always')
                pid = os.fork()
                if pid == 0:
                    os._exit(0 if hang._watch is None else 3)
            print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]),
                  hang._watch is not None, bool(seen) == late)
            sys._cancel_dump_coroutines_later()
            ''')
        rc, out, err = self.run_program(source, spec='10')
        self.assertEqual((rc, out, err), (0, '0 True True\n', ''))

    @unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
    def test_dump_signal_shows_calls_of_running_task(self):
        # A dump signal that interrupts a task in synchronous code shows
        # the calls under it; a dump that the task asks for itself not.
        source = textwrap.dedent('''\
            import asyncio, os, signal, sys

            def helper():
                os.kill(os.getpid(), signal.SIGUSR1)
                return 1

            async def main():
                helper()
                sys._dump_coroutines(sys.stdout)

            asyncio.run(main())
            ''')
        rc, out, err = self.run_program(source, spec='10,dump=SIGUSR1')
        self.assertEqual(rc, 0)
        self.assertIn('  coroutine main() running at app.py:8\n'
                      '    Coroutine created at (most recent call last)\n'
                      '      File "app.py", line 11, in <module>\n'
                      '        asyncio.run(main())\n'
                      '    Running now (most recent call '
                      'last):\n'
                      '      File "app.py", line 4, in helper\n'
                      '        os.kill(os.getpid(), signal.SIGUSR1)\n'
                      '\nEnd of live coroutines.\n', err)
        self.assertNotIn('Running now', out)
        self.assertIn('coroutine main() running at app.py:9\n', out)


if __name__ == '__main__':
    unittest.main()
