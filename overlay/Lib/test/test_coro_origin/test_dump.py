# Tests for the live coroutine dump (Lib/_coro_origin_dump.py, requested
# through Lib/_coro_origin_request.py): the tree
# of tasks, collapsing, limits, JSON, the dump=SIGNAL handler and its
# safety, and "python -m coro_origin dump PID" (Lib/coro_origin).
# Every child process is read with a timeout.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import _coro_origin_dump
import _coro_origin_request as request
from test import support
from test.support import os_helper
from test.test_coro_origin._util import (CHILD_TIMEOUT, child_env, run_child,
                                        settings)

ASYNCIO = os.path.dirname(asyncio.__file__)
HAS_PROC = os.path.exists('/proc/self/status')
END = 'End of live coroutines.\n'

# A program with a deterministic tree of tasks: gather, an async
# generator, a TaskGroup, shield, identical tasks, a coroutine in no task.
# "ready" comes from a callback that runs after main() has suspended and
# the other tasks have reached their waits.
APP = textwrap.dedent('''\
    import asyncio, signal, sys

    async def ticker(ev):
        while True:
            await ev.wait()
            yield 1

    async def consume(ev):
        async for _ in ticker(ev):
            pass

    async def worker(ev):
        await ev.wait()

    async def crew(ev):
        async with asyncio.TaskGroup() as tg:
            for i in range(3):
                tg.create_task(worker(ev), name=f'crew-{i}')

    async def guarded(ev):
        inner = asyncio.create_task(worker(ev), name='inner')
        await asyncio.shield(inner)

    async def main():
        ev = asyncio.Event()
        idle = worker(ev)
        tasks = [asyncio.create_task(consume(ev), name='consume'),
                 asyncio.create_task(crew(ev), name='crew'),
                 asyncio.create_task(guarded(ev), name='guarded')]
        tasks += [asyncio.create_task(worker(ev), name=f'w-{i}')
                  for i in range(12)]
        for _ in range(5):
            await asyncio.sleep(0)
        asyncio.get_running_loop().call_soon(lambda: print('ready', flush=True))
        await asyncio.gather(*tasks)

    asyncio.run(main())
    ''')

# The dump of APP with -X coro_origin=10,asyncgen: paths shortened to
# app.py and <asyncio>, line numbers inside asyncio replaced by N.
APP_DUMP = '''\
Live coroutines (40 tracked, 20 asyncio tasks):

Task 'Task-1' (pending)
  coroutine main() suspended at app.py:35
    Coroutine created at (most recent call last)
      File "app.py", line 37, in <module>
        asyncio.run(main())
  awaiting <_GatheringFuture pending cb=[Task.task_wakeup()]>
  ├── Task 'consume' (pending)
  │     coroutine consume() suspended at app.py:9
  │       Coroutine created at (most recent call last)
  │         File "app.py", line 37, in <module>
  │           asyncio.run(main())
  │         [6 frames folded: asyncio]
  │         File "app.py", line 27, in main
  │           tasks = [asyncio.create_task(consume(ev), name='consume'),
  │     async generator ticker() suspended at app.py:5
  │     awaiting Event.wait() at <asyncio>/locks.py:N
  │     awaiting <Future pending cb=[Task.task_wakeup()]>
  ├── Task 'crew' (pending)
  │     coroutine crew() suspended at app.py:16
  │       Coroutine created at (most recent call last)
  │         File "app.py", line 37, in <module>
  │           asyncio.run(main())
  │         [6 frames folded: asyncio]
  │         File "app.py", line 28, in main
  │           asyncio.create_task(crew(ev), name='crew'),
  │     awaiting TaskGroup.__aexit__() -> TaskGroup._aexit() at <asyncio>/taskgroups.py:N
  │     awaiting <Future pending cb=[Task.task_wakeup()]>
  │     └── Task 'crew-0' (pending) × 3, also 'crew-1', 'crew-2'
  │           coroutine worker() suspended at app.py:13
  │             Coroutine created at (most recent call last)
  │               File "app.py", line 37, in <module>
  │                 asyncio.run(main())
  │               [6 frames folded: asyncio]
  │               File "app.py", line 18, in crew
  │                 tg.create_task(worker(ev), name=f'crew-{i}')
  │           awaiting Event.wait() at <asyncio>/locks.py:N
  │           waiting for an Event (created at app.py:25) to be set
  ├── Task 'guarded' (pending)
  │     coroutine guarded() suspended at app.py:22
  │       Coroutine created at (most recent call last)
  │         File "app.py", line 37, in <module>
  │           asyncio.run(main())
  │         [6 frames folded: asyncio]
  │         File "app.py", line 29, in main
  │           asyncio.create_task(guarded(ev), name='guarded')]
  │     awaiting <Future pending cb=[shield.<locals>._outer_done_callback() at <asyncio>/tasks.py:N, Task.task_wakeup()]>
  │     └── Task 'inner' (pending)
  │           coroutine worker() suspended at app.py:13
  │             Coroutine created at (most recent call last)
  │               File "app.py", line 37, in <module>
  │                 asyncio.run(main())
  │               [6 frames folded: asyncio]
  │               File "app.py", line 21, in guarded
  │                 inner = asyncio.create_task(worker(ev), name='inner')
  │           awaiting Event.wait() at <asyncio>/locks.py:N
  │           waiting for an Event (created at app.py:25) to be set
  └── Task 'w-0' (pending) × 12, also 'w-1', 'w-2', 'w-3', ...
        coroutine worker() suspended at app.py:13
          Coroutine created at (most recent call last)
            File "app.py", line 37, in <module>
              asyncio.run(main())
            [6 frames folded: asyncio]
            File "app.py", line 30, in main
              tasks += [asyncio.create_task(worker(ev), name=f'w-{i}')
        awaiting Event.wait() at <asyncio>/locks.py:N
        waiting for an Event (created at app.py:25) to be set

Not in a task
  coroutine worker() not started, defined at app.py:12
    Coroutine created at (most recent call last)
      File "app.py", line 37, in <module>
        asyncio.run(main())
      [6 frames folded: asyncio]
      File "app.py", line 26, in main
        idle = worker(ev)

End of live coroutines.
'''

# A program that runs until SIGUSR2 and then prints what the dump
# recorded: "alive <failure of the last write> <requests skipped>".
# argv[1] says what to break before "ready".
SAFE = textwrap.dedent('''\
    import asyncio, os, signal, sys
    import _coro_origin_request as R
    mode = sys.argv[1]

    class BadRepr(asyncio.Future):
        def __repr__(self):
            raise ZeroDivisionError('no repr')

    class Resignal(asyncio.Future):
        calls = 0
        def __repr__(self):
            # the dump signal again, in the middle of a dump
            Resignal.calls += 1
            if Resignal.calls == 1:
                os.kill(os.getpid(), signal.SIGUSR1)
            return '<Resignal>'

    async def waiter(fut):
        await fut

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR2, done.set_result, None)
        keep = []
        if mode == 'bad-repr':
            keep.append(asyncio.create_task(waiter(BadRepr()), name='bad'))
        elif mode == 'resignal':
            keep.append(asyncio.create_task(waiter(Resignal()), name='re'))
        elif mode == 'closed-fd':
            os.close(2)
        elif mode == 'closed-stream':
            sys.stderr.close()
        elif mode == 'none':
            sys.stderr = None
        elif mode == 'none-both':
            sys.stderr = sys.__stderr__ = None
        elif mode == 'partial':
            sys.stderr.write('partial line ')      # stays in the buffer
        for _ in range(3):
            await asyncio.sleep(0)
        if mode == 'blocked-write':
            print('ready', flush=True)
            # blocks: nobody reads stderr until the dump signal was sent
            sys.stderr.write('x' * 1_000_000 + '\\n')
        else:
            loop.call_soon(lambda: print('ready', flush=True))
        await done
        for task in keep:
            task.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print('interrupted', flush=True)
        raise SystemExit(0)
    print('alive', R._last_failure, R._missed, flush=True)
    ''')


class Collector(threading.Thread):
    """Reads a pipe of a child into memory, so that the test can wait for
    a string with a timeout."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.data = bytearray()
        self.eof = False
        self.cond = threading.Condition()
        self.start()

    def run(self):
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b''
            with self.cond:
                if not chunk:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return self.data.decode('utf-8', 'replace')

    def wait_for(self, needle, timeout, count=1):
        """Wait until *needle* occurs *count* times; False on timeout or
        end of file."""
        needle = needle.encode()
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.data.count(needle) < count:
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    return False
                self.cond.wait(left)
            return True


class Child:
    """A child process whose stdout and stderr are collected by threads."""

    def __init__(self, test, args, env=None, stderr=subprocess.PIPE,
                 collect_stderr=True, stdin=subprocess.DEVNULL, **popen):
        self.test = test
        self.proc = subprocess.Popen(args, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=stderr,
                                     env=child_env() if env is None else env,
                                     **popen)
        test.addCleanup(self.close)
        self.out = Collector(self.proc.stdout)
        self.err = None
        if stderr is subprocess.PIPE and collect_stderr:
            self.collect_stderr()

    def collect_stderr(self):
        self.err = Collector(self.proc.stderr)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def failure(self, what):
        err = self.err.text() if self.err else '(not read)'
        return (f'{what}\nstdout:\n{self.out.text()[-3000:]}\n'
                f'stderr:\n{err[-3000:]}')

    def expect(self, collector, needle, count=1, timeout=CHILD_TIMEOUT):
        if not collector.wait_for(needle, timeout, count):
            self.test.fail(self.failure(f'no {needle!r} within {timeout} '
                                        f's (returncode '
                                        f'{self.proc.poll()})'))

    def ready(self):
        self.expect(self.out, 'ready\n')

    def dump_by_signal(self, signum=signal.SIGUSR1, count=1,
                       collector=None, resend=True):
        """Send *signum* until the *count*-th dump has been written.  (A
        signal that comes just before the loop blocks in select() is only
        handled when it wakes up: send it again after a while.  Not with
        *resend* false: for a program whose loop has a wakeup fd, set by
        loop.add_signal_handler(), which any signal wakes up.)"""
        collector = collector or self.err
        deadline = time.monotonic() + CHILD_TIMEOUT
        wait = 5.0 if resend else CHILD_TIMEOUT
        sent = 0
        while True:
            self.proc.send_signal(signum)
            sent += 1
            if collector.wait_for(END, min(wait, deadline - time.monotonic()),
                                  count):
                return sent
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                self.test.fail(self.failure(
                    f'no dump after {signum!r} (returncode '
                    f'{self.proc.poll()})'))
            wait *= 2

    def finish(self, signum=signal.SIGUSR2):
        if signum is not None:
            self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.test.fail(self.failure('the child did not exit'))
        for c in (self.out, self.err):
            if c is not None:
                c.join(CHILD_TIMEOUT)
        return self.proc.returncode


def tearDownModule():
    # The children started with dump= that were killed leave their
    # announcements in the temporary directory: remove them, and the
    # directory if that empties it.
    import coro_origin
    directory = coro_origin.request_dir()
    if os.path.isdir(directory):
        coro_origin._remove_stale(directory)
        try:
            os.rmdir(directory)
        except OSError:
            pass


def _event_wait_line():
    """The line of Event.wait() where it awaits its future."""
    import inspect
    lines, start = inspect.getsourcelines(asyncio.Event.wait)
    for i, text in enumerate(lines):
        if 'await fut' in text:
            return start + i
    raise LookupError('Event.wait() awaits no "fut"')


def normalise(text, path):
    text = text.replace(path, 'app.py').replace(ASYNCIO, '<asyncio>')
    return re.sub(r'(<asyncio>/\w+\.py)(:|", line )\d+', r'\1\2N', text)


def first_dump(text):
    start = text.index('Live coroutines (')
    return text[start:text.index(END, start) + len(END)]


class ScriptMixin:

    def write(self, code, name='app.py'):
        tmp = tempfile.mkdtemp()
        self.addCleanup(os_helper.rmtree, tmp)
        path = os.path.join(tmp, name)
        with open(path, 'w') as f:
            f.write(code)
        return path

    def run_script(self, code, *xopts):
        path = self.write(code)
        args = [sys.executable]
        for opt in xopts:
            args += ['-X', opt]
        proc = run_child(args + [path], text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return normalise(proc.stdout, path), proc.stderr


@unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
class TreeTest(ScriptMixin, unittest.TestCase):
    maxDiff = None

    def start_app(self, spec='10,asyncgen,dump=SIGUSR1', env=None):
        path = self.write(APP)
        child = Child(self, [sys.executable, '-X', f'coro_origin={spec}',
                             path], env=env)
        child.ready()
        return child, path

    def test_signal_dump(self):
        child, path = self.start_app()
        sent = child.dump_by_signal()
        self.assertEqual(normalise(first_dump(child.err.text()), path),
                         APP_DUMP)
        # the program goes on, and a second signal dumps again
        sent += child.dump_by_signal(count=2)
        self.assertIsNone(child.proc.poll())
        text = child.err.text()
        second = normalise(text[text.index(END) + len(END):], path)
        if sent > 2:
            # (a signal sent again on a busy machine came during a dump)
            second = re.sub(r'\n\(\d+ dump requests? arrived while '
                            r'dumping and w(as|ere) skipped\)', '', second,
                            count=1)
        self.assertEqual(second, APP_DUMP)

    def test_buffered_stderr(self):
        # without PYTHONUNBUFFERED (stderr is a line-buffered pipe)
        child, path = self.start_app(
            env=child_env(PYTHONUNBUFFERED=None))
        child.dump_by_signal()
        self.assertEqual(normalise(first_dump(child.err.text()), path),
                         APP_DUMP)

    def test_not_in_task_and_running(self):
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def idle():
                pass
            async def main():
                c = idle()
                _coro_origin_request.dump(sys.stdout)
                c.close()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        self.assertEqual(out, textwrap.dedent('''\
            Live coroutines (2 tracked, 1 asyncio task):

            Task 'Task-1' (pending)
              coroutine main() running at app.py:6
                Coroutine created at (most recent call last)
                  File "app.py", line 8, in <module>
                    asyncio.run(main())

            Not in a task
              coroutine idle() not started, defined at app.py:2
                Coroutine created at (most recent call last)
                  File "app.py", line 8, in <module>
                    asyncio.run(main())
                  File "app.py", line 5, in main
                    c = idle()

            End of live coroutines.
            '''))

    FAILED = textwrap.dedent('''\
        import asyncio, gc, sys, _coro_origin_request
        async def fails():
            raise ConnectionError("upstream closed")
        async def waits(ev):
            await ev.wait()
        async def main():
            ev = asyncio.Event()
            failed = asyncio.create_task(fails(), name='producer')
            waiter = asyncio.create_task(waits(ev), name='consumer')
            done = asyncio.create_task(fails(), name='read')
            await asyncio.sleep(0.01)
            done.exception()
            _coro_origin_request.dump(sys.stdout, '%s')
            ev.set()
            await waiter
            del failed      # the dump retrieved nothing: asyncio reports it
            gc.collect()
            print('after')
        asyncio.run(main())
        ''')

    def test_failed_task(self):
        # A failed task that something still refers to: asyncio reports
        # its exception only when it is collected, maybe never.  In a
        # program that waits for ever, it is often the culprit (the
        # producer that died): the dump lists it, retrieving nothing.  A
        # task whose exception was read is not listed.
        out, err = self.run_script(self.FAILED % 'text', 'coro_origin=10')
        self.assertEqual(out, textwrap.dedent('''\
            Live coroutines (3 tracked, 2 asyncio tasks):

            Task 'Task-1' (pending)
              coroutine main() running at app.py:13
                Coroutine created at (most recent call last)
                  File "app.py", line 19, in <module>
                    asyncio.run(main())

            Task 'consumer' (pending)
              coroutine waits() suspended at app.py:5
                Coroutine created at (most recent call last)
                  File "app.py", line 19, in <module>
                    asyncio.run(main())
                  [6 frames folded: asyncio]
                  File "app.py", line 9, in main
                    waiter = asyncio.create_task(waits(ev), name='consumer')
              awaiting Event.wait() at <asyncio>/locks.py:N
              waiting for an Event (created at app.py:7) to be set

            Task 'producer' (failed, its exception not retrieved)
              ConnectionError: upstream closed
              raised at app.py:3, in fails
              coroutine fails() done
                Coroutine created at (most recent call last)
                  File "app.py", line 19, in <module>
                    asyncio.run(main())
                  [6 frames folded: asyncio]
                  File "app.py", line 8, in main
                    failed = asyncio.create_task(fails(), name='producer')

            End of live coroutines.
            after
            '''))
        # asyncio's own report comes when the task is collected, as on stock
        self.assertEqual(err.count('Task exception was never retrieved'), 1)
        self.assertIn("future: <Task finished name='producer' ", err)

    def test_failed_task_json(self):
        out, err = self.run_script(self.FAILED % 'json',
                                   'coro_origin=2,skip=asyncio')
        doc = json.loads(out.splitlines()[0])
        self.assertEqual(doc['failed_task_count'], 1)
        self.assertEqual(doc['failed_tasks'], [
            {'name': 'producer', 'exception': 'ConnectionError: upstream '
                                              'closed',
             'raised_at': ['app.py', 3, 'fails'], 'coroutine': 'fails',
             'origin': [['app.py', 8, 'main'], ['app.py', 19, '<module>']],
             'chain': None}])
        self.assertEqual(err.count('Task exception was never retrieved'), 1)

    EXECUTOR = textwrap.dedent('''\
        import asyncio, concurrent.futures, sys, threading
        import _coro_origin_request
        started, gate = threading.Event(), threading.Event()
        def slow(n):
            started.set()
            gate.wait()
            return n
        async def call(pool, n):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, slow, n)
        async def main():
            pool = concurrent.futures.ThreadPoolExecutor(1, 'worker')
            running = asyncio.create_task(call(pool, 1), name='running')
            queued = asyncio.create_task(call(pool, 2), name='queued')
            while not started.is_set():
                await asyncio.sleep(0.01)
            _coro_origin_request.dump(sys.stdout, '%s')
            gate.set()
            print(await running, await queued)
            pool.shutdown()
        asyncio.run(main())
        ''')

    def test_executor_call(self):
        # A task that awaits a call an executor runs (run_in_executor(),
        # to_thread()): the dump says which function, in which thread, and
        # what that thread runs now (where it blocks, when it does); or that
        # the call is still queued.
        out, err = self.run_script(self.EXECUTOR % 'text',
                                   'coro_origin=2,skip=asyncio')
        self.assertEqual(out, textwrap.dedent('''\
            Live coroutines (3 tracked, 3 asyncio tasks):

            Task 'Task-1' (pending)
              coroutine main() running at app.py:17
                Coroutine created at (most recent call last)
                  File "app.py", line 21, in <module>
                    asyncio.run(main())

            Task 'queued' (pending)
              coroutine call() suspended at app.py:10
                Coroutine created at (most recent call last)
                  File "app.py", line 21, in <module>
                    asyncio.run(main())
                  File "app.py", line 14, in main
                    queued = asyncio.create_task(call(pool, 2), name='queued')
              awaiting <Future pending cb=[_chain_future.<locals>._call_check_cancel() at <asyncio>/futures.py:N, Task.task_wakeup()]>
              waiting for a call queued in an executor, not started yet (its workers are busy)

            Task 'running' (pending)
              coroutine call() suspended at app.py:10
                Coroutine created at (most recent call last)
                  File "app.py", line 21, in <module>
                    asyncio.run(main())
                  File "app.py", line 13, in main
                    running = asyncio.create_task(call(pool, 1), name='running')
              awaiting <Future pending cb=[_chain_future.<locals>._call_check_cancel() at <asyncio>/futures.py:N, Task.task_wakeup()]>
            RUNNING
            End of live coroutines.
            1 2
            ''').replace('RUNNING\n', self.RUNNING))
        out, err = self.run_script(self.EXECUTOR % 'json',
                                   'coro_origin=2,skip=asyncio')
        doc = json.loads(out.splitlines()[0])
        calls = {t['name']: t.get('waiting_for_call') for t in doc['tasks']}
        self.assertEqual(calls['Task-1'], None)
        self.assertEqual(calls['queued'], {'function': None, 'thread': None,
                                           'running_calls': None})
        running = calls['running']
        if not sys._is_gil_enabled():
            self.assertIsNone(running)
            return
        self.assertEqual(running['running_calls'][-1], ['app.py', 6, 'slow'])
        self.assertEqual(running['function'], 'slow')
        self.assertEqual(running['thread'], 'worker_0')

    # What the running call adds: its thread's frames are read only with
    # the GIL (the free-threaded build adds nothing).
    RUNNING = (
        "  waiting for slow(), run by an executor in thread 'worker_0'\n"
        '    Running now (most recent call last):\n'
        '      File "app.py", line 6, in slow\n'
        '        gate.wait()\n'
        '      [2 frames folded: threading]\n'
        '\n') if sys._is_gil_enabled() else '\n'

    def test_idle_loop(self):
        # A loop run forever in a thread, with no task (the process cannot
        # exit): the dump says which thread runs it and where it started;
        # a loop whose tasks the dump shows gets no such line.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, threading, time, _coro_origin_request
            def serve(loop):
                loop.call_later(3600, print)
                loop.run_forever()
            loop = asyncio.new_event_loop()
            threading.Thread(target=serve, args=(loop,), name='server',
                             daemon=True).start()
            while not loop.is_running():
                time.sleep(0.01)
            async def main():
                _coro_origin_request.dump(sys.stdout)
                _coro_origin_request.dump(sys.stdout, 'json')
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        text, doc = out.split('End of live coroutines.\n')
        # (the timer's delay, from the time of the dump: just under 3600 s)
        text = re.sub(r'timer in 3[56]\d\d\.\d s', 'timer in N s', text)
        self.assertEqual(text.split('\n')[-4:], [
            "Event loop with no task, running in thread 'server' (started "
            "at app.py:4): 0 callbacks ready, 1 timer",
            "  timer in N s: print() scheduled at app.py:3", '', ''])
        loops = json.loads(doc)['idle_event_loops']
        when = loops[0]['pending'][0].pop('when')
        self.assertTrue(3500 < when <= 3600, when)
        self.assertEqual(loops, [
            {'thread': 'server', 'started_at': 'app.py:4', 'ready': 0,
             'timers': 1, 'pending': [{'callback': 'print()',
                                       'scheduled_at': 'app.py:3'}]}])

    def test_lock_owners(self):
        # A task waiting in Lock.acquire() says who holds the lock and
        # where it was acquired: a lock the task holds itself (re-entry),
        # and two tasks that each hold what the other waits for (the
        # deadlock named once); text and JSON.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def again(lock):
                async with lock:
                    async with lock:
                        pass
            async def pair(first, second, go):
                async with first:
                    await go.wait()
                    async with second:
                        pass
            async def main():
                a, b, c, go = (asyncio.Lock(), asyncio.Lock(),
                               asyncio.Lock(), asyncio.Event())
                ts = [asyncio.create_task(again(c), name='again'),
                      asyncio.create_task(pair(a, b, go), name='ab'),
                      asyncio.create_task(pair(b, a, go), name='ba')]
                await asyncio.sleep(0)
                go.set()
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                _coro_origin_request.dump(sys.stdout, 'json')
                for t in ts:
                    t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        text, doc = out.split('End of live coroutines.\n')
        lines = [line.strip(' \u2502\u251c\u2514\u2500') for line in
                 text.split('\n') if 'waiting for a Lock' in line
                 or line.lstrip(' \u2502').startswith('deadlock')]
        self.assertEqual(lines, [
            "waiting for a Lock (created at app.py:12), held by Task 'ba' "
            "(acquired at app.py:7)",
            "deadlock: Task 'ab' -> Task 'ba' -> Task 'ab' (each waits for "
            "a lock the next holds)",
            'waiting for a Lock (created at app.py:13) that this task holds '
            'itself (acquired at app.py:3)',
            "waiting for a Lock (created at app.py:12), held by Task 'ab' "
            "(acquired at app.py:7)"])
        tasks = json.loads(doc)['tasks']
        self.assertEqual([t['waiting_for_lock'] for t in tasks
                          if 'waiting_for_lock' in t], [
            "a Lock (created at app.py:12), held by Task 'ba' (acquired at "
            "app.py:7)",
            'a Lock (created at app.py:13) that this task holds itself '
            '(acquired at app.py:3)',
            "a Lock (created at app.py:12), held by Task 'ab' (acquired at "
            "app.py:7)"])

    def test_deadlocked_pairs_fold(self):
        # Three parents whose two children deadlock alike fold into one
        # subtree (x 3), the deadlock named once with how many more there
        # are; the two members of a deadlock never fold together, and a
        # wait line stands for asyncio's own waiter future (no "awaiting
        # <Future pending ...>" line under it).
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def take(first, second, go):
                async with first:
                    await go.wait()
                    async with second:
                        pass
            async def pair(go):
                x, y = asyncio.Lock(), asyncio.Lock()
                await asyncio.gather(take(x, y, go), take(y, x, go))
            async def main():
                go = asyncio.Event()
                t = asyncio.gather(pair(go), pair(go), pair(go))
                for _ in range(3):
                    await asyncio.sleep(0)
                go.set()
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        lines = [line.strip(' \u2502\u251c\u2514\u2500') for line in
                 out.split('\n') if line.lstrip(' \u2502\u251c\u2514\u2500')
                 .startswith(('Task', 'waiting for', 'deadlock', 'awaiting'))]
        self.assertEqual(lines, [
            "Task 'Task-1' (pending)",
            "Task 'Task-2' (pending) \u00d7 3, also 'Task-3', 'Task-4'",
            'awaiting <_GatheringFuture pending cb=[Task.task_wakeup()]>',
            "Task 'Task-5' (pending)",
            'awaiting _ContextManagerMixin.__aenter__() -> Lock.acquire() at '
            '<asyncio>/locks.py:N',
            "waiting for a Lock (created at app.py:8), held by Task 'Task-6' "
            "(acquired at app.py:3)",
            "deadlock: Task 'Task-5' -> Task 'Task-6' -> Task 'Task-5' (each "
            "waits for a lock the next holds; 2 more like it in the tasks "
            "counted with \u00d7 above)",
            "Task 'Task-6' (pending)",
            'awaiting _ContextManagerMixin.__aenter__() -> Lock.acquire() at '
            '<asyncio>/locks.py:N',
            "waiting for a Lock (created at app.py:8), held by Task 'Task-5' "
            "(acquired at app.py:3)"])

    def test_leaked_semaphore(self):
        # A holder that ended without release() (it failed after
        # acquire()): the wait line says so, and how it ended.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def upload(slots, n):
                await slots.acquire()
                if n == 0:
                    raise OSError('upload failed')
                await asyncio.sleep(10)
            async def main():
                slots = asyncio.Semaphore(1)
                failed = asyncio.create_task(upload(slots, 0), name='first')
                waiting = asyncio.create_task(upload(slots, 1), name='next')
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                waiting.cancel()
                return failed
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        lines = [line.strip() for line in out.split('\n')
                 if 'waiting for a Semaphore' in line]
        self.assertEqual(lines, [
            "waiting for a Semaphore (created at app.py:8), held by task "
            "'first' (acquired at app.py:3; it ended without releasing it, "
            "failed: OSError raised at app.py:5)"])

    def test_semaphore_holders(self):
        # A task waiting in Semaphore.acquire() names the tasks that hold
        # it, oldest first, and where each acquired it; a holder that
        # released it (by async with, or by another task's release()) is
        # gone; a BoundedSemaphore held by one task that waits for a Lock
        # the waiter holds is a deadlock, named once.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def hold(sem, go):
                async with sem:
                    await go.wait()
            async def take(sem):
                await sem.acquire()
            async def cross(lock, bsem, go):
                async with lock:
                    await go.wait()
                    async with bsem:
                        pass
            async def main():
                sem, go, stop = asyncio.Semaphore(2), asyncio.Event(), asyncio.Event()
                lock, bsem = asyncio.Lock(), asyncio.BoundedSemaphore(1)
                ts = [asyncio.create_task(hold(sem, stop), name='h1'),
                      asyncio.create_task(take(sem), name='gone'),
                      asyncio.create_task(hold(sem, stop), name='w')]
                await asyncio.sleep(0)
                sem.release()       # for 'gone', which left without
                await asyncio.sleep(0)
                ts += [asyncio.create_task(cross(lock, bsem, go), name='lb'),
                       asyncio.create_task(cross(bsem, lock, go), name='bl'),
                       asyncio.create_task(take(sem), name='last')]
                await asyncio.sleep(0)
                go.set()
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                for t in ts:
                    t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        lines = [line.strip(' \u2502\u251c\u2514\u2500') for line in
                 out.split('\n') if 'waiting for a' in line
                 or line.lstrip(' \u2502').startswith('deadlock')]
        self.assertEqual(lines, [
            "waiting for a Lock (created at app.py:14), held by Task 'lb' "
            "(acquired at app.py:8)",
            "deadlock: Task 'bl' -> Task 'lb' -> Task 'bl' (each waits for "
            "a lock the next holds)",
            'waiting for an Event (created at app.py:13) to be set',
            "waiting for a Semaphore (created at app.py:13), held by Task "
            "'h1' (acquired at app.py:3), Task 'w' (acquired at app.py:3)",
            "waiting for a BoundedSemaphore (created at app.py:14), held by "
            "Task 'bl' (acquired at app.py:8)",
            'waiting for an Event (created at app.py:13) to be set'])

    def test_wait_targets(self):
        # A task waiting for an Event, a Condition, an item from a Queue
        # or room in one says for which, and where that was created; not
        # for one made while the fork's tracking was off (the awaiting
        # line already says Event.wait()); a plain future awaited by the
        # program's coroutine, where it was made (not the future that
        # Event.wait() awaits); text and JSON.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def main():
                sys.set_coroutine_origin_tracking(0)
                quiet = asyncio.Event()
                sys.set_coroutine_origin_tracking(2)
                ev, cond = asyncio.Event(), asyncio.Condition()
                empty, full = asyncio.Queue(), asyncio.LifoQueue(1)
                full.put_nowait(1)
                fut = asyncio.get_running_loop().create_future()
                async def when_notified():
                    async with cond:
                        await cond.wait()
                async def on_future():
                    await fut
                ts = [asyncio.create_task(on_future(), name='fut'),
                      asyncio.create_task(ev.wait(), name='ev'),
                      asyncio.create_task(when_notified(), name='cond'),
                      asyncio.create_task(empty.get(), name='get'),
                      asyncio.create_task(full.put(2), name='put'),
                      asyncio.create_task(quiet.wait(), name='quiet')]
                await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                _coro_origin_request.dump(sys.stdout, 'json')
                for t in ts:
                    t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        text, doc = out.split('End of live coroutines.\n')
        lines = [line.strip(' \u2502\u251c\u2514\u2500') for line in
                 text.split('\n') if 'waiting for' in line]
        self.assertEqual(lines, [
            'waiting for a Condition (created at app.py:6) to be notified',
            'waiting for an Event (created at app.py:6) to be set',
            'waiting for an item from a Queue (created at app.py:7)',
            'waiting for room in a LifoQueue (created at app.py:7) '
            '(maxsize 1)'])
        tasks = json.loads(doc)['tasks']
        self.assertEqual({t['name']: t['waiting_for'] for t in tasks
                          if 'waiting_for' in t}, {
            'cond': 'a Condition (created at app.py:6) to be notified',
            'ev': 'an Event (created at app.py:6) to be set',
            'get': 'an item from a Queue (created at app.py:7)',
            'put': 'room in a LifoQueue (created at app.py:7) (maxsize 1)'})
        # A plain future the program's coroutine awaits: where it was made
        self.assertIn('\n  awaiting <Future pending cb=[Task.task_wakeup()]> '
                      '(created at app.py:9)\n', text)
        self.assertEqual({t['name']: t.get('awaiting_created_at')
                          for t in tasks if t['name'] in ('fut', 'ev')},
                         {'fut': 'app.py:9', 'ev': None})

    def test_queue_join(self):
        # Queue.join() (whose Event.wait() is the queue's own): how many
        # items were got and not marked done, how many are still queued.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def main():
                q = asyncio.Queue()
                for i in range(3):
                    q.put_nowait(i)
                q.get_nowait(), q.get_nowait()
                q.task_done()
                joining = asyncio.create_task(q.join(), name='join')
                await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                _coro_origin_request.dump(sys.stdout, 'json')
                joining.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        text, doc = out.split('End of live coroutines.\n')
        lines = [line.strip() for line in text.split('\n')
                 if 'waiting for' in line]
        self.assertEqual(lines, [
            'waiting for every item of a Queue (created at app.py:3) to be '
            'marked done: 1 item got but not marked done with task_done(), '
            '1 item not got yet'])
        tasks = json.loads(doc)['tasks']
        self.assertEqual([t.get('waiting_for') for t in tasks
                          if t['name'] == 'join'],
                         ['every item of a Queue (created at app.py:3) to be '
                          'marked done: 1 item got but not marked done with '
                          'task_done(), 1 item not got yet'])

    def test_no_asyncio(self):
        # plain coroutines driven by hand: the await chain of one that no
        # other awaits, through an async generator; identical ones
        # collapsed
        out, err = self.run_script(textwrap.dedent('''\
            import sys, types, _coro_origin_request
            @types.coroutine
            def pause():
                yield
            async def agen():
                await leaf()
                yield
            async def leaf():
                await pause()
            async def top():
                async for _ in agen():
                    pass
            coros = [top() for i in range(3)]
            for c in coros:
                c.send(None)
            waiting = [leaf() for i in range(250)]
            _coro_origin_request.dump(sys.stdout)
            '''), 'coro_origin=3,asyncgen')
        self.assertEqual(out, textwrap.dedent('''\
            Live coroutines (256 tracked, 0 asyncio tasks):

            Not in a task × 3
              coroutine top() suspended at app.py:11
                Coroutine created at (most recent call last)
                  File "app.py", line 13, in <module>
                    coros = [top() for i in range(3)]
              async generator agen() suspended at app.py:6
              coroutine leaf() suspended at app.py:9
              generator pause() suspended at app.py:4

            Not in a task × 250
              coroutine leaf() not started, defined at app.py:8
                Coroutine created at (most recent call last)
                  File "app.py", line 16, in <module>
                    waiting = [leaf() for i in range(250)]

            End of live coroutines.
            '''))

    def test_skip_all_frames(self):
        out, err = self.run_script(textwrap.dedent('''\
            import sys, _coro_origin_request
            async def idle():
                pass
            c = idle()
            _coro_origin_request.dump(sys.stdout)
            '''), 'coro_origin=2,skip=__main__')
        self.assertEqual(out, textwrap.dedent('''\
            Live coroutines (1 tracked, 0 asyncio tasks):

            Not in a task
              coroutine idle() not started, defined at app.py:2
                Coroutine created at (most recent call last)
                  (every frame of this site was skipped by skip=)

            End of live coroutines.
            '''))

    def test_chain(self):
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def child():
                await asyncio.sleep(0)
            async def main():
                c = child()
                _coro_origin_request.dump(sys.stdout)
                await c
            asyncio.run(main())
            '''), 'coro_origin=3,chain=2,skip=asyncio')
        self.assertIn(textwrap.dedent('''\
            Not in a task
              coroutine child() not started, defined at app.py:2
                Coroutine created at (most recent call last)
                  File "app.py", line 8, in <module>
                    asyncio.run(main())
                  File "app.py", line 5, in main
                    c = child()
                ... spawned from 'main', created at app.py:8 (shown above)
            '''), out)

    def test_machinery_collapsed(self):
        # asyncio's own coroutines under the program's collapse into one
        # 'awaiting' line; with the full setting every node is shown; a
        # task whose coroutine is asyncio's own keeps its nodes
        script = textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def holder(lock, go):
                async with lock:
                    await go.wait()
            async def main():
                lock, go = asyncio.Lock(), asyncio.Event()
                ts = [asyncio.create_task(holder(lock, go), name='h1'),
                      asyncio.create_task(holder(lock, go), name='h2'),
                      asyncio.create_task(asyncio.sleep(10), name='nap')]
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                for t in ts:
                    t.cancel()
            asyncio.run(main())
            ''')
        def nodes(spec):
            out, err = self.run_script(script, spec)
            return [l.strip(' \u2502\u251c\u2514\u2500') for l in
                    out.splitlines() if l.lstrip(' \u2502\u251c\u2514\u2500')
                    .startswith(('coroutine', 'awaiting', 'Task'))]
        self.assertEqual(nodes('coro_origin=1'), [
            "Task 'Task-1' (pending)",
            'coroutine main() running at app.py:12',
            "Task 'h1' (pending)",
            'coroutine holder() suspended at app.py:4',
            'awaiting Event.wait() at <asyncio>/locks.py:N',
            "Task 'h2' (pending)",
            'coroutine holder() suspended at app.py:3',
            'awaiting _ContextManagerMixin.__aenter__() -> Lock.acquire() '
            'at <asyncio>/locks.py:N',
            "Task 'nap' (pending)",
            'coroutine sleep() suspended at <asyncio>/tasks.py:N',
            'awaiting <Future pending cb=[Task.task_wakeup()]>'])
        self.assertEqual(nodes('coro_origin=1,full')[4:8], [
            'coroutine Event.wait() suspended at <asyncio>/locks.py:N',
            "Task 'h2' (pending)",
            'coroutine holder() suspended at app.py:3',
            'coroutine _ContextManagerMixin.__aenter__() suspended at '
            '<asyncio>/locks.py:N'])

    def test_chain_links_the_tree_shows(self):
        # With chain=, a task under another in the tree leaves out the
        # chain links from that task's coroutine on: the tree shows them
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def worker(go):
                await go.wait()
            async def crew(go):
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(worker(go), name='w')
            async def main():
                go = asyncio.Event()
                t = asyncio.create_task(crew(go), name='crew')
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=1,chain=8')
        lines = [l.strip(' \u2502\u251c\u2514\u2500') for l in
                 out.splitlines()]
        start = lines.index("Task 'w' (pending)")
        self.assertEqual(lines[start:start + 7], [
            "Task 'w' (pending)",
            'coroutine worker() suspended at app.py:3',
            'Coroutine created at (most recent call last)',
            'File "app.py", line 6, in crew',
            "tg.create_task(worker(go), name='w')",
            "... spawned from 'crew' (task 'crew', above)",
            'awaiting Event.wait() at <asyncio>/locks.py:N'])
        # the task above keeps its own chain: main() is no task above it
        start = lines.index("Task 'crew' (pending)")
        self.assertEqual(lines[start + 5], "... spawned from 'main', "
                         "created at (most recent call last)")

    def test_await_cycle_and_shared_child(self):
        # two tasks that await each other, and a task awaited by two
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, os, sys, _coro_origin_request
            async def wait_for(box):
                await asyncio.sleep(0)
                await box[0]
            async def shared():
                await asyncio.Event().wait()
            async def user(t):
                await t
            async def main():
                a_box, b_box = [], []
                a = asyncio.create_task(wait_for(b_box), name='a')
                b = asyncio.create_task(wait_for(a_box), name='b')
                a_box.append(a)
                b_box.append(b)
                s = asyncio.create_task(shared(), name='s')
                u1 = asyncio.create_task(user(s), name='u1')
                u2 = asyncio.create_task(user(s), name='u2')
                for _ in range(3):
                    await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout)
                # (cancelling tasks that await each other recurses
                # without end in asyncio)
                sys.stdout.flush()
                os._exit(0)
            asyncio.run(main())
            '''), 'coro_origin=1')
        lines = [l for l in out.splitlines()
                 if 'Task' in l or 'awaiting' in l or 'also' in l]
        self.assertEqual(lines, [
            "Task 'Task-1' (pending)",
            "Task 'u1' (pending)",
            "  awaiting Task 's'",
            "  └── Task 's' (pending)",
            "        awaiting Event.wait() at <asyncio>/locks.py:N",
            "Task 'u2' (pending)",
            "  awaiting Task 's'",
            "  also waits for Task 's' (shown elsewhere in this dump)",
            "Task 'a' (pending) (in an await cycle)",
            "  awaiting Task 'b'",
            "  └── Task 'b' (pending)",
            "        awaiting Task 'a'",
            "        also waits for Task 'a' (shown elsewhere in this dump)",
        ])


class LimitsTest(ScriptMixin, unittest.TestCase):
    maxDiff = None

    # 30 tasks from 30 different code objects: 30 entries, none collapsed
    SPREAD = textwrap.dedent('''\
        import asyncio, sys, _coro_origin_dump, _coro_origin_request as R
        _coro_origin_dump.{name} = {value}
        async def main():
            ev = asyncio.Event()
            makers = []
            for i in range(30):
                ns = {{'ev': ev}}
                exec(compile('async def w():\\n    await ev.wait()\\n',
                             f'<site-{{i}}>', 'exec'), ns)
                makers.append(ns['w'])
            tasks = [asyncio.create_task(m(), name=f't-{{i}}')
                     for i, m in enumerate(makers)]
            await asyncio.sleep(0)
            R.dump(sys.stdout, '{format}')
            for t in tasks:
                t.cancel()
        asyncio.run(main())
        ''')

    def test_entry_limit(self):
        out, err = self.run_script(
            self.SPREAD.format(name='MAX_ENTRIES', value=5, format='text'),
            'coro_origin=1')
        lines = out.splitlines()
        self.assertEqual(lines[0],
                         'Live coroutines (61 tracked, 31 asyncio tasks):')
        # the root list: Task-1, then t-0 ... t-3, then the cut
        roots = [l for l in lines if l.startswith('Task ')]
        self.assertEqual(roots, ["Task 'Task-1' (pending)", "Task 't-0' "
                                 "(pending)", "Task 't-1' (pending)",
                                 "Task 't-2' (pending)",
                                 "Task 't-3' (pending)"])
        self.assertEqual(lines[-3:], [
            'Output cut: 26 entries left out (26 tasks, 0 coroutine stacks '
            'outside tasks).', '', 'End of live coroutines.'])

    def test_size_limit(self):
        out, err = self.run_script(
            self.SPREAD.format(name='MAX_CHARS', value=1000, format='text'),
            'coro_origin=1')
        self.assertLess(len(out), 2000)
        m = re.search(r'Output cut: (\d+) entries left out \((\d+) tasks, '
                      r'0 coroutine stacks outside tasks\)\.\n\n'
                      r'End of live coroutines\.\n$', out)
        self.assertIsNotNone(m, out)
        shown = out.count("\nTask '")
        self.assertEqual(int(m.group(1)), 31 - shown)
        self.assertEqual(int(m.group(2)), 31 - shown)

    def test_json_left_out(self):
        out, err = self.run_script(
            self.SPREAD.format(name='MAX_ENTRIES', value=5, format='json'),
            'coro_origin=1')
        doc = json.loads(out)
        self.assertEqual([t['name'] for t in doc['tasks']],
                         ['Task-1', 't-0', 't-1', 't-2', 't-3'])
        self.assertEqual(doc['left_out'], {'entries': 26, 'tasks': 26,
                                           'coroutine_stacks': 0})

    def test_depth_limit(self):
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_dump, _coro_origin_request as R
            _coro_origin_dump.MAX_DEPTH = 3
            async def leaf():
                await asyncio.Event().wait()
            async def link(n):
                if n:
                    await asyncio.create_task(link(n - 1), name=f'd{n - 1}')
                else:
                    await leaf()
            async def main():
                t = asyncio.create_task(link(5), name='d5')
                for _ in range(10):
                    await asyncio.sleep(0)
                R.dump(sys.stdout)
                t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=1')
        lines = [l.strip(' │') for l in out.splitlines()
                 if "Task '" in l or 'left out' in l]
        self.assertEqual(lines, [
            "Task 'Task-1' (pending)",
            "Task 'd5' (pending)",
            "awaiting Task 'd4'",
            "└── Task 'd4' (pending)",
            "awaiting Task 'd3'",
            "└── Task 'd3' (pending)",
            "awaiting Task 'd2'",
            "└── Task 'd2' (pending)",
            "awaiting Task 'd1'",
            "└── ... 1 more entry (2 tasks) left out (depth limit)",
            "Output cut: 1 entry left out (2 tasks, 0 coroutine stacks "
            "outside tasks)."])


@unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
class JsonTest(ScriptMixin, unittest.TestCase):
    maxDiff = None

    def test_document(self):
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            async def worker(ev):
                await ev.wait()
            async def main():
                ev = asyncio.Event()
                idle = worker(ev)
                ts = [asyncio.create_task(worker(ev), name=f'w-{i}')
                      for i in range(3)]
                await asyncio.sleep(0)
                _coro_origin_request.dump(sys.stdout, 'json')
                idle.close()
                for t in ts:
                    t.cancel()
            asyncio.run(main())
            '''), 'coro_origin=2,skip=asyncio')
        doc = json.loads(out)
        self.assertEqual(out.count('\n'), 1)
        pid = doc.pop('pid')
        self.assertIsInstance(pid, int)
        main_site = [['app.py', 14, '<module>']]
        worker_site = [['app.py', 7, 'main'], ['app.py', 14, '<module>']]
        wait_site = [['app.py', 3, 'worker'], ['app.py', 14, '<module>']]
        self.assertEqual(doc, {
            'version': 1,
            'source': 'gc',
            'tracked': 8,
            'task_count': 4,
            'tasks': [
                {'name': 'Task-1', 'state': 'pending', 'count': 1,
                 'stack': [
                     {'kind': 'coroutine', 'qualname': 'main',
                      'state': 'running', 'filename': 'app.py', 'lineno': 10,
                      'origin': main_site, 'chain': None}],
                 'awaiting': None, 'also_awaits': [], 'children': []},
                {'name': 'w-0', 'state': 'pending', 'count': 3,
                 'names': ['w-0', 'w-1', 'w-2'],
                 'stack': [
                     {'kind': 'coroutine', 'qualname': 'worker',
                      'state': 'suspended', 'filename': 'app.py',
                      'lineno': 3, 'origin': worker_site, 'chain': None},
                     {'kind': 'coroutine', 'qualname': 'Event.wait',
                      'state': 'suspended',
                      'filename': '<asyncio>/locks.py',
                      'lineno': _event_wait_line(),
                      'origin': wait_site, 'chain': None}],
                 'awaiting': '<Future pending cb=[Task.task_wakeup()]>',
                 'also_awaits': [], 'children': [],
                 'waiting_for': 'an Event (created at app.py:5) to be set'}],
            'not_in_task': [
                {'count': 1,
                 'stack': [
                     {'kind': 'coroutine', 'qualname': 'worker',
                      'state': 'created', 'filename': 'app.py', 'lineno': 2,
                      'origin': [['app.py', 6, 'main'],
                                 ['app.py', 14, '<module>']],
                      'chain': None}],
                 'awaiting': None}],
            'failed_tasks': [],
            'failed_task_count': 0,
            'idle_event_loops': [],
            'left_out': {'entries': 0, 'tasks': 0, 'coroutine_stacks': 0},
            'missed_requests': 0,
            'previous_write_failed': None,
        })

    def test_bad_format(self):
        with self.assertRaises(ValueError):
            request.dump(io.StringIO(), 'xml')


class InProcessTest(unittest.TestCase):

    def test_unwrap_only_the_interpreters_wrappers(self):
        # The await chain goes through the interpreter's own wrappers (a
        # coroutine's __await__(), an async generator's asend()) to what
        # they drive, and not through a class that only has such a name.
        import _coro_origin_dump
        dumper = _coro_origin_dump._Dumper()

        async def work():
            pass

        coro = work()
        self.addCleanup(coro.close)
        self.assertIs(dumper.unwrap(coro.__await__()), coro)

        class coroutine_wrapper:
            def __init__(self, inner):
                self.inner = inner

        self.assertIsNone(dumper.unwrap(coroutine_wrapper(coro)))
        self.assertIsNone(dumper.unwrap(coro))

    def test_shared_future_read_once(self):
        # Many tasks that await one future: the future's callbacks are
        # read a fixed number of times per dump, not once per task (a C
        # future's _callbacks is a new list of them all each time: a dump
        # of 20,000 such tasks once took 25 s).
        import concurrent.futures.thread    # (the dump looks for its calls)
        reads = 0

        class Shared(asyncio.Future):
            @property
            def _callbacks(self):
                nonlocal reads
                reads += 1
                return super()._callbacks

        async def wait(fut):
            await fut

        async def main(n):
            fut = Shared()
            tasks = [asyncio.create_task(wait(fut)) for _ in range(n)]
            await asyncio.sleep(0)
            before = reads
            out = io.StringIO()
            request.dump(out)
            fut.set_result(None)
            await asyncio.gather(*tasks)
            return reads - before, out.getvalue()

        old = sys.get_coroutine_origin_tracking_depth()
        sys.set_coroutine_origin_tracking_depth(2)
        try:
            few, text = asyncio.run(main(5))
            many, text = asyncio.run(main(100))
        finally:
            sys.set_coroutine_origin_tracking_depth(old)
            asyncio.set_event_loop_policy(None)
        self.assertIn("Task 'Task-", text)
        self.assertEqual(many, few)

    @unittest.skipUnless(hasattr(signal, 'SIGUSR1'), 'needs SIGUSR1')
    def test_signal_while_writing(self):
        # A dump signal that comes once the dump is built, while it is
        # being written, is not lost: a second dump follows the first.
        import _coro_origin_request as R

        class Signalling(io.StringIO):
            sent = False

            def write(self, text):
                if not self.sent:
                    self.sent = True
                    os.kill(os.getpid(), signal.SIGUSR1)
                return super().write(text)

        previous = signal.getsignal(signal.SIGUSR1)
        self.addCleanup(signal.signal, signal.SIGUSR1, previous)
        R.install_signal_handler(signal.SIGUSR1)
        out = Signalling()
        with support.captured_stderr() as err:
            R.dump(out)
        self.assertTrue(out.sent)
        self.assertEqual(out.getvalue().count('End of live coroutines.'), 1)
        self.assertEqual(err.getvalue().count('End of live coroutines.'), 1)
        self.assertNotIn('arrived while dumping', err.getvalue())

    def test_default_stderr_and_file(self):
        with support.captured_stderr() as err:
            sys._dump_coroutines()
        self.assertTrue(err.getvalue().startswith('Live coroutines ('))
        self.assertTrue(err.getvalue().endswith(END))
        out = io.StringIO()
        request.dump(out)
        self.assertTrue(out.getvalue().endswith(END))

    def test_sys_function_json(self):
        out = io.StringIO()
        sys._dump_coroutines(out, format='json')
        doc = json.loads(out.getvalue())
        self.assertEqual((doc['version'], doc['pid']), (1, os.getpid()))
        self.assertEqual(doc['left_out'], {'entries': 0, 'tasks': 0,
                                           'coroutine_stacks': 0})

    def test_failing_file(self):
        class Broken:
            def write(self, text):
                raise OSError(5, 'broken')
        old = request._last_failure
        try:
            self.assertIsNone(request.dump(Broken()))
            self.assertEqual(request._last_failure, 'OSError: [Errno 5] broken')
            out = io.StringIO()
            request.dump(out)
            self.assertIn('\n(the previous dump could not be written: '
                          'OSError: [Errno 5] broken)\n', out.getvalue())
            self.assertIsNone(request._last_failure)
        finally:
            request._last_failure = old

    def test_building_fails(self):
        # whatever goes wrong inside becomes a line of the dump
        out = io.StringIO()
        old = _coro_origin_dump._Dumper.collect
        def collect(self):
            raise RuntimeError('inside')
        _coro_origin_dump._Dumper.collect = collect
        try:
            request.dump(out)
            request.dump(out, 'json')
        finally:
            _coro_origin_dump._Dumper.collect = old
        text, doc = out.getvalue().split(END)
        self.assertEqual(text, 'Live coroutines: the dump failed: '
                               'RuntimeError: inside\n\n')
        self.assertEqual(json.loads(doc), {
            'version': 1, 'error': 'RuntimeError: inside'})

    def test_building_fails_with_cause(self):
        # A C function that returns a result with an exception set (the C
        # json encoder does when memory runs out) raises a SystemError
        # from the real failure: the dump names both.
        out = io.StringIO()
        old = _coro_origin_dump._Dumper.collect
        def collect(self):
            try:
                raise MemoryError('inner')
            except MemoryError as exc:
                raise SystemError('returned a result with an exception '
                                  'set') from exc
        _coro_origin_dump._Dumper.collect = collect
        try:
            request.dump(out, 'json')
        finally:
            _coro_origin_dump._Dumper.collect = old
        self.assertEqual(json.loads(out.getvalue()), {
            'version': 1,
            'error': 'SystemError: returned a result with an exception set '
                     '(from MemoryError: inner)'})


@unittest.skipUnless(hasattr(signal, 'SIGUSR2'), 'needs SIGUSR1/SIGUSR2')
class SafetyTest(ScriptMixin, unittest.TestCase):
    """The signal dump never raises into the program: each child goes on
    after the dump, and says what the dump recorded."""
    maxDiff = None

    def test_hostile_failed_task(self):
        # A failed task whose name, exception text and traceback cannot be
        # read is still listed, with what can be.
        out, err = self.run_script(textwrap.dedent('''\
            import asyncio, sys, _coro_origin_request
            class Bad(Exception):
                def __str__(self): raise RuntimeError("no str")
                @property
                def __traceback__(self): raise RuntimeError("no tb")
            class Nameless(asyncio.Task):
                def get_name(self): raise RuntimeError("no name")
            async def fails():
                raise Bad()
            async def main():
                t = Nameless(fails(), loop=asyncio.get_running_loop())
                await asyncio.sleep(0.01)
                _coro_origin_request.dump(sys.stdout)
                try:
                    t.result()
                except Bad:
                    pass
            asyncio.run(main())
            '''), 'coro_origin=1')
        self.assertEqual(out.split('\n\n', 2)[2], textwrap.dedent('''\
            Task '?' (failed, its exception not retrieved)
              Bad: <str failed: RuntimeError>
              coroutine fails() done
                Coroutine created at (most recent call last)
                  File "app.py", line 11, in main
                    t = Nameless(fails(), loop=asyncio.get_running_loop())

            End of live coroutines.
            '''))
        self.assertEqual(err, '')

    def start(self, mode, stderr=subprocess.PIPE, env=None,
              spec='3,dump=SIGUSR1', collect_stderr=True):
        path = self.write(SAFE)
        child = Child(self, [sys.executable, '-X', f'coro_origin={spec}',
                             path, mode], stderr=stderr, env=env,
                      collect_stderr=collect_stderr)
        child.ready()
        return child

    def signal_and_finish(self, child, sends=1):
        for _ in range(sends):
            child.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        self.assertEqual(child.finish(), 0, child.failure('exit status'))
        return child.out.text()

    def test_dev_full(self):
        with open('/dev/full', 'wb') as full:
            child = self.start('plain', stderr=full)
            out = self.signal_and_finish(child)
        self.assertEqual(out, 'ready\nalive OSError: [Errno 28] No space '
                              'left on device 0\n')

    def test_closed_fd(self):
        child = self.start('closed-fd')
        out = self.signal_and_finish(child)
        self.assertEqual(out, 'ready\nalive OSError: [Errno 9] Bad file '
                              'descriptor 0\n')

    def test_closed_stream(self):
        child = self.start('closed-stream')
        out = self.signal_and_finish(child)
        self.assertEqual(out, 'ready\nalive ValueError: I/O operation on '
                              'closed file. 0\n')

    def test_stderr_none(self):
        # sys.stderr is None: the dump goes to sys.__stderr__
        child = self.start('none')
        child.dump_by_signal(resend=False)
        self.assertEqual(child.finish(), 0)
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')
        self.assertTrue(child.err.text().startswith('Live coroutines ('))

    def test_stderr_none_both(self):
        child = self.start('none-both')
        out = self.signal_and_finish(child)
        self.assertEqual(out, 'ready\nalive no sys.stderr 0\n')
        self.assertEqual(child.err.text(), '')

    def test_raising_repr(self):
        child = self.start('bad-repr')
        child.dump_by_signal(resend=False)
        self.assertEqual(child.finish(), 0)
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')
        self.assertIn("\nTask 'bad' (pending)\n", child.err.text())
        # (the future, a subclass whose __repr__ raises, was made by the
        # line that creates the task, which awaits it at its own line)
        self.assertRegex(child.err.text(), r'\n  awaiting <repr failed: '
                         r'ZeroDivisionError> \(created at .*app\.py:\d+\)\n')

    def test_signal_during_dump(self):
        # the second signal comes while the first dump is being built: it
        # is skipped, and the next dump says so
        child = self.start('resignal')
        child.dump_by_signal(resend=False)
        child.dump_by_signal(count=2, resend=False)
        self.assertEqual(child.finish(), 0)
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')
        first, second = child.err.text().split(END)[:2]
        self.assertNotIn('arrived while dumping', first)
        self.assertEqual(second.splitlines()[:2], [
            'Live coroutines (2 tracked, 2 asyncio tasks):',
            '(1 dump request arrived while dumping and was skipped)'])

    def test_double_signal(self):
        # two signals at once: two dumps, or one (the signals merged, or
        # the second came during the first dump and was skipped)
        child = self.start('plain')
        out = self.signal_and_finish(child, sends=2)
        dumps = child.err.text().count(END)
        self.assertIn((out, dumps), [('ready\nalive None 0\n', 2),
                                     ('ready\nalive None 0\n', 1),
                                     ('ready\nalive None 1\n', 1)])

    def test_buffered_partial_line(self):
        # without PYTHONUNBUFFERED: what the program left in sys.stderr's
        # buffer comes first, then the dump
        child = self.start('partial', env=child_env(PYTHONUNBUFFERED=None))
        child.dump_by_signal(resend=False)
        self.assertEqual(child.finish(), 0)
        self.assertTrue(child.err.text().startswith(
            'partial line Live coroutines ('), child.err.text()[:100])
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')

    def test_signal_during_blocked_write(self):
        # the signal comes while the program is inside sys.stderr.write()
        # (blocked on a full pipe): a nested write to the buffered stream
        # would raise "reentrant call"; the dump goes to the descriptor
        child = self.start('blocked-write', collect_stderr=False)
        time.sleep(0.3)
        child.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        child.collect_stderr()
        child.expect(child.err, END)
        self.assertEqual(child.finish(), 0, child.failure('exit status'))
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')
        # (what the write had not written when the signal came is lost,
        # as in stock CPython whatever the handler does)
        err = child.err.text()
        dump = first_dump(err)
        self.assertTrue(dump.startswith('Live coroutines (1 tracked, 1 '
                                        'asyncio task):\n'), dump)
        before = err[:err.index(dump)]
        self.assertGreater(len(before), 0)
        self.assertEqual(before, 'x' * len(before))


@unittest.skipUnless(hasattr(signal, 'SIGUSR2'), 'needs SIGUSR1/SIGUSR2')
class ChainingTest(ScriptMixin, unittest.TestCase):
    """For SIGINT and SIGTERM the handler that the dump's replaced runs
    after the dump."""

    def test_sigint_default(self):
        path = self.write(SAFE)
        # The child starts with SIGINT at its default, also when this test
        # runs with SIGINT ignored (a background job): a handler set here
        # is reset to the default by exec(), an ignored signal is not.
        old = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            child = Child(self, [sys.executable, '-X',
                                 'coro_origin=3,dump=SIGINT', path, 'plain'])
        finally:
            signal.signal(signal.SIGINT, old)
        child.ready()
        child.dump_by_signal(signal.SIGINT, resend=False)
        self.assertEqual(child.finish(None), 0)
        self.assertEqual(child.out.text(), 'ready\ninterrupted\n')

    def test_sigint_ignored(self):
        # SIGINT ignored when the program started: the dump, nothing else
        path = self.write(SAFE)
        wrapper = ('import os, signal, sys\n'
                   'signal.signal(signal.SIGINT, signal.SIG_IGN)\n'
                   'os.execv(sys.executable, [sys.executable] + '
                   'sys.argv[1:])\n')
        child = Child(self, [sys.executable, '-c', wrapper, '-X',
                             'coro_origin=3,dump=SIGINT', path, 'plain'])
        child.ready()
        child.dump_by_signal(signal.SIGINT, resend=False)
        self.assertEqual(child.finish(), 0)
        self.assertEqual(child.out.text(), 'ready\nalive None 0\n')

    def test_sigterm_default(self):
        path = self.write(SAFE)
        child = Child(self, [sys.executable, '-X',
                             'coro_origin=3,dump=SIGTERM', path, 'plain'])
        child.ready()
        child.proc.send_signal(signal.SIGTERM)
        self.assertEqual(child.finish(None), -signal.SIGTERM)
        self.assertTrue(child.err.text().endswith(END), child.err.text())
        self.assertEqual(child.out.text(), 'ready\n')

    def test_python_handler(self):
        out, err = self.run_script(textwrap.dedent('''\
            import os, signal, sys, _coro_origin_request
            def mine(signum, frame):
                print('mine', signum == signal.SIGUSR1)
            signal.signal(signal.SIGUSR1, mine)
            _coro_origin_request.install_signal_handler(signal.SIGUSR1)
            os.kill(os.getpid(), signal.SIGUSR1)
            print('after')
            '''))
        self.assertEqual(out, 'mine True\nafter\n')
        self.assertTrue(err.startswith('Live coroutines ('), err)


# The targets of the tests of which processes are signalled.  COUNTER
# counts the signals named by its arguments (default: SIGUSR1 and SIGUSR2)
# that it gets, with a handler of its own, and prints the count when its
# stdin ends (from a function, whose start runs the handlers of signals
# that came just before).
COUNTER = textwrap.dedent("""\
    import signal, sys
    count = 0
    def count_it(signum, frame):
        global count
        count += 1
    def report():
        print(f'count {count}', flush=True)
    for name in sys.argv[1:] or ['SIGUSR1', 'SIGUSR2']:
        signal.signal(getattr(signal, name), count_it)
    print('ready', flush=True)
    sys.stdin.readline()
    report()
    """)

# Waits for the end of its stdin.
WAITER = 'import sys; print("ready", flush=True); sys.stdin.readline()'

# A process that forks: the child counts SIGUSR1 with a handler of its
# own, and ends (running the atexit functions it inherited) when the
# parent's stdin gives a line; then the parent waits for the end of its
# stdin.  The child's first line, which may come at the same time as the
# parent's, is written with one write() (print() writes the end of the
# line apart when the stream is unbuffered).
FORKING = textwrap.dedent("""\
    import os, signal, sys
    r, w = os.pipe()
    kid = os.fork()
    if kid == 0:
        count = 0
        def count_it(signum, frame):
            global count
            count += 1
        def report():
            os.write(1, f'child count {count}\\n'.encode())
        signal.signal(signal.SIGUSR1, count_it)
        os.write(1, f'child {os.getpid()}\\n'.encode())
        os.read(r, 1)
        report()
        sys.exit(0)
    # one write (print() makes two when stdout is unbuffered, and the
    # child's line could come between them)
    os.write(1, b'ready\\n')
    sys.stdin.readline()
    os.write(w, b'x')
    os.waitpid(kid, 0)
    print('child done', flush=True)
    sys.stdin.readline()
    """)

HOWTO = ('no signal was sent.  To dump a program, start it with '
         '-X coro_origin=...,dump=SIGUSR1 (or the same in PYTHONCOROORIGIN)')


def proc_identity(pid):
    """The name and the start time (clock ticks since boot) of process
    *pid*, from /proc/PID/comm and field 22 of /proc/PID/stat."""
    with open(f'/proc/{pid}/comm', 'rb') as f:
        name = f.read().rstrip(b'\n').decode()
    with open(f'/proc/{pid}/stat', 'rb') as f:
        stat = f.read()
    return name, int(stat[stat.rindex(b')') + 1:].split()[19])


@unittest.skipUnless(HAS_PROC and hasattr(signal, 'SIGUSR2'),
                     'needs /proc and SIGUSR1/SIGUSR2')
class CommandLineTest(ScriptMixin, unittest.TestCase):
    maxDiff = None

    def cli(self, *args, env=None):
        return run_child([sys.executable, '-m', 'coro_origin', 'dump']
                         + [str(a) for a in args], text=True, env=env)

    def start_app(self, spec='10,asyncgen,dump=SIGUSR1', env=None):
        path = self.write(APP)
        child = Child(self, [sys.executable, '-X', f'coro_origin={spec}',
                             path], env=env)
        child.ready()
        return child, path

    def test_text(self):
        child, path = self.start_app()
        proc = self.cli(child.proc.pid)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, '')
        self.assertEqual(normalise(proc.stdout, path), APP_DUMP)
        # the dump went to the requester, not to the program's stderr
        self.assertEqual(child.err.text(), '')
        self.assertIsNone(child.proc.poll())

    def test_json_and_environment(self):
        # dump= in PYTHONCOROORIGIN; the announcement and the request
        # directory in the program's TMPDIR
        tmp = tempfile.mkdtemp()
        self.addCleanup(os_helper.rmtree, tmp)
        path = self.write(APP)
        child = Child(self, [sys.executable, path], env=child_env(
            PYTHONCOROORIGIN='10,asyncgen,dump=SIGUSR2', TMPDIR=tmp))
        child.ready()
        proc = self.cli(child.proc.pid, '--json')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = json.loads(proc.stdout)
        self.assertEqual(doc['version'], 1)
        self.assertEqual(doc['pid'], child.proc.pid)
        self.assertEqual(doc['source'], 'registry')
        self.assertEqual((doc['tracked'], doc['task_count']), (40, 20))
        root, = doc['tasks']
        self.assertEqual(root['name'], 'Task-1')
        self.assertEqual(
            [(t['name'], t['count']) for t in root['children']],
            [('consume', 1), ('crew', 1), ('guarded', 1), ('w-0', 12)])
        crew = root['children'][1]
        self.assertEqual([(t['name'], t['count'], t['names'])
                          for t in crew['children']],
                         [('crew-0', 3, ['crew-0', 'crew-1', 'crew-2'])])
        self.assertEqual(
            [(n['kind'], n['qualname'], n['state'])
             for n in root['children'][0]['stack']],
            [('coroutine', 'consume', 'suspended'),
             ('async generator', 'ticker', 'suspended'),
             ('coroutine', 'Event.wait', 'suspended')])
        origin = root['children'][3]['stack'][0]['origin']
        self.assertEqual(origin[0], [path, 30, 'main'])
        self.assertEqual(origin[-1], [path, 37, '<module>'])
        self.assertEqual(len(origin), 8)
        self.assertTrue(all(f[0].startswith(ASYNCIO) for f in origin[1:-1]))
        idle, = doc['not_in_task']
        self.assertEqual(idle['stack'][0]['origin'][0], [path, 26, 'main'])
        # what is left: the program's announcement, in its TMPDIR
        self.assertEqual(os.listdir(os.path.join(
            tmp, f'coro_origin-{os.getuid()}')),
            [f'{child.proc.pid}.{proc_identity(child.proc.pid)[1]}.announce'])

    def test_stale_request_ignored(self):
        # a request left behind by a requester that went away: the next
        # signal dumps to stderr as usual
        child, path = self.start_app()
        import coro_origin
        directory = coro_origin.request_dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        pid = child.proc.pid
        request = os.path.join(directory, f'{pid}.request')
        with open(request, 'w') as f:
            json.dump({'version': 1, 'format': 'text',
                       'output': f'{pid}.0123456789abcdef.out',
                       'created': time.time() - 3600}, f)
        self.addCleanup(os_helper.unlink, request)
        child.dump_by_signal()
        self.assertEqual(normalise(first_dump(child.err.text()), path),
                         APP_DUMP)
        self.assertFalse(os.path.exists(request))
        self.assertFalse(os.path.exists(os.path.join(
            directory, f'{pid}.0123456789abcdef.out')))

    # --- only processes that announced a dump signal are signalled --------
    #
    # The targets count the signals they get with handlers of their own
    # (COUNTER, FORKING).

    def start_counter(self, *xopts, handled=(), env=None, **popen):
        args = [sys.executable]
        for opt in xopts:
            args += ['-X', opt]
        child = Child(self, args + ['-c', COUNTER, *handled], env=env,
                      stdin=subprocess.PIPE, **popen)
        child.ready()
        return child

    def signals_received(self, child):
        """End a counting child; the number of signals it handled."""
        child.proc.stdin.close()
        self.assertEqual(child.finish(None), 0, child.failure('exit status'))
        match = re.fullmatch(r'ready\ncount (\d+)\n', child.out.text())
        self.assertIsNotNone(match, child.failure('no count'))
        return int(match.group(1))

    def announce(self, directory, target, started, name=None, **changes):
        """Write an announcement of process *target* started at *started*
        as the target would, with *changes* to its contents."""
        os.makedirs(directory, mode=0o700, exist_ok=True)
        doc = {'version': 1, 'implementation': 'origin-python',
               'origin_python': sys.implementation._origin_python,
               'pid': target, 'start_time': started,
               'signal': int(signal.SIGUSR1)}
        doc.update(changes)
        path = os.path.join(directory,
                            name or f'{target}.{started}.announce')
        with open(path, 'w') as f:
            json.dump(doc, f)
        self.addCleanup(os_helper.unlink, path)
        return path

    def assert_refused(self, res, message):
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertEqual(res.stdout, '')
        self.assertEqual(res.stderr,
                         f'python -m coro_origin dump: error: {message}\n')

    def not_announced(self, pid, directory=None):
        import coro_origin
        name, start = proc_identity(pid)
        path = os.path.join(directory or coro_origin.request_dir(),
                            f'{pid}.{start}.announce')
        return (f'process {pid} ({name}) has not announced a dump signal '
                f'(no {path}): it is not an origin-python process started '
                f'with dump=SIGNAL; {HOWTO}')

    def test_announcement(self):
        # A process started with dump= announces its signal, keyed by its
        # pid and start time, and removes the announcement at exit (and
        # the directory, left empty).
        import coro_origin
        tmp = tempfile.mkdtemp()
        self.addCleanup(os_helper.rmtree, tmp)
        directory = coro_origin.request_dir(tmp)
        child = Child(self, [sys.executable, '-X',
                             'coro_origin=3,dump=SIGUSR2', '-c', WAITER],
                      stdin=subprocess.PIPE, env=child_env(TMPDIR=tmp))
        child.ready()
        pid = child.proc.pid
        path = os.path.join(directory, f'{pid}.{proc_identity(pid)[1]}'
                                       f'.announce')
        st = os.lstat(path)
        self.assertEqual((st.st_uid, st.st_mode & 0o777),
                         (os.getuid(), 0o600))
        self.assertEqual(os.lstat(directory).st_mode & 0o777, 0o700)
        with open(path) as f:
            self.assertEqual(json.load(f), {
                'version': 1, 'implementation': 'origin-python',
                'origin_python': sys.implementation._origin_python,
                'pid': pid, 'start_time': proc_identity(pid)[1],
                'signal': int(signal.SIGUSR2)})
        res = self.cli(pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(res.stdout.startswith('Live coroutines ('),
                        res.stdout)
        self.assertTrue(res.stdout.endswith(END), res.stdout)
        child.proc.stdin.close()
        self.assertEqual(child.finish(None), 0, child.failure('exit status'))
        self.assertEqual(child.err.text(), '')
        self.assertEqual(os.listdir(tmp), [])

    def test_stale_announcements_removed(self):
        # A process that announces itself removes the announcements of
        # processes that have ended (a killed one leaves its own), and
        # only those.
        import coro_origin
        tmp = tempfile.mkdtemp()
        self.addCleanup(os_helper.rmtree, tmp)
        directory = coro_origin.request_dir(tmp)
        me = os.getpid()
        start = proc_identity(me)[1]
        with open('/proc/sys/kernel/pid_max') as f:
            no_pid = int(f.read()) + 1
        live = self.announce(directory, me, start)
        recycled = self.announce(directory, me, start - 1)
        ended = self.announce(directory, no_pid, 5)
        other = os.path.join(directory, 'notes.announce')
        with open(other, 'w'):
            pass
        res = run_child([sys.executable, '-X', 'coro_origin=3,dump=SIGUSR1',
                         '-c', 'pass'], env=child_env(TMPDIR=tmp))
        self.assertEqual((res.returncode, res.stderr), (0, b''))
        self.assertEqual(sorted(os.listdir(directory)),
                         sorted(map(os.path.basename, [live, other])))
        self.assertFalse(os.path.exists(recycled))
        self.assertFalse(os.path.exists(ended))

    def test_stock_handlers(self):
        # programs of stock Python with handlers of their own for SIGUSR1
        # or SIGUSR2 or both (the tool once sent SIGUSR1 five times to the
        # first)
        for handled in [('SIGUSR1',), ('SIGUSR2',), ()]:
            with self.subTest(handled=handled):
                child = self.start_counter(handled=handled)
                message = self.not_announced(child.proc.pid)
                res = self.cli(child.proc.pid, '--timeout', '0.5')
                self.assertEqual(self.signals_received(child), 0)
                self.assert_refused(res, message)

    def test_not_python(self):
        sleep = shutil.which('sleep')
        if sleep is None:
            self.skipTest('no sleep command')
        child = Child(self, [sleep, '600'])
        res = self.cli(child.proc.pid, '--timeout', '0.5')
        self.assert_refused(res, self.not_announced(child.proc.pid))
        # SIGUSR1 or SIGUSR2 would have ended it
        self.assertIsNone(child.proc.poll())
        child.proc.terminate()
        self.assertEqual(child.finish(None), -signal.SIGTERM)

    def test_no_such_process(self):
        proc = subprocess.Popen([sys.executable, '-c', 'pass'])
        proc.wait()
        res = self.cli(proc.pid)
        self.assert_refused(res, f'no such process: {proc.pid}')
        res = self.cli('--', '-1')
        self.assert_refused(res, 'not a process id: -1')

    @unittest.skipUnless(hasattr(os, 'getuid') and os.getuid() == 0,
                         'starting a process of another user needs root')
    def test_other_user(self):
        # A process of another user that announced itself in its own
        # directory: as root the tool could signal it, and does not.
        import pwd
        import coro_origin
        try:
            other = pwd.getpwnam('nobody')
        except KeyError:
            self.skipTest('no user nobody')
        # a temporary directory that the other user can reach (the one of
        # regrtest's worker may not be)
        tmp = tempfile.mkdtemp(dir='/tmp')
        self.addCleanup(os_helper.rmtree, tmp)
        os.chown(tmp, other.pw_uid, other.pw_gid)
        child = self.start_counter('coro_origin=3,dump=SIGUSR1',
                                   env=child_env(TMPDIR=tmp), cwd='/',
                                   user=other.pw_uid, group=other.pw_gid)
        pid = child.proc.pid
        name, start = proc_identity(pid)
        self.assertTrue(os.path.exists(os.path.join(
            coro_origin.request_dir(tmp, other.pw_uid),
            f'{pid}.{start}.announce')))
        # even with an announcement of this user's for it
        self.announce(coro_origin.request_dir(tmp), pid, start)
        res = self.cli(pid, '--timeout', '0.5')
        self.assertEqual(self.signals_received(child), 0)
        self.assert_refused(
            res, f'process {pid} ({name}) belongs to another user (uid '
                 f'{other.pw_uid}, effective uid {other.pw_uid}); no signal '
                 f'was sent: run this as that user')

    def test_recycled_pid(self):
        # An announcement left by an earlier process with the same pid
        # (another start time) does not make the tool signal this one.
        import coro_origin
        directory = coro_origin.request_dir()
        child = self.start_counter()
        pid = child.proc.pid
        name, start = proc_identity(pid)
        old = self.announce(directory, pid, start - 1)
        res = self.cli(pid, '--timeout', '0.5')
        self.assertEqual(self.signals_received(child), 0)
        self.assert_refused(
            res, f'process {pid} ({name}) has not announced a dump signal: '
                 f'{old} is the announcement of an earlier process with that '
                 f'pid (its start time is not {start}); {HOWTO}')

    def test_timeout(self):
        # The same announcement with the right start time: the tool sends
        # the signal, which the program's own handler takes, so no dump
        # comes (the counterpart of test_recycled_pid).
        import coro_origin
        directory = coro_origin.request_dir()
        child = self.start_counter()
        pid = child.proc.pid
        self.announce(directory, pid, proc_identity(pid)[1])
        res = self.cli(pid, '--timeout', '0.5')
        self.assert_refused(
            res, f'process {pid} did not answer within 0.5 s after SIGUSR1: '
                 f'its main thread runs no Python code (stopped, or blocked '
                 f'in C code that does not check for signals), or something '
                 f'else handles that signal')
        self.assertNotIn(f'{pid}.request', os.listdir(directory))
        self.assertGreaterEqual(self.signals_received(child), 1)

    def test_bad_announcements(self):
        # An announcement or a directory that is not right is refused, and
        # no signal is sent.  The program's TMPDIR is a directory of this
        # test's.
        import coro_origin
        tmp = tempfile.mkdtemp()
        self.addCleanup(os_helper.rmtree, tmp)
        child = self.start_counter(env=child_env(TMPDIR=tmp))
        pid = child.proc.pid
        start = proc_identity(pid)[1]
        directory = coro_origin.request_dir(tmp)
        path = os.path.join(directory, f'{pid}.{start}.announce')
        elsewhere = os.path.join(tmp, 'elsewhere')
        root = os.getuid() == 0

        def refused(reason):
            return (f'refusing the announcement {path}: {reason}; no signal '
                    f'was sent')

        def check(message):
            self.assert_refused(self.cli(pid, '--timeout', '0.5'), message)

        for signum, reason in [
                (signal.SIGSEGV, f'dump={int(signal.SIGSEGV)}: SIGSEGV '
                                 f'reports a crash; use a user signal such '
                                 f'as SIGUSR1'),
                (signal.SIGKILL, f'dump={int(signal.SIGKILL)}: SIGKILL '
                                 f'cannot be caught; use a user signal such '
                                 f'as SIGUSR1')]:
            with self.subTest(signal=signum):
                self.announce(directory, pid, start, signal=int(signum))
                check(refused(reason))
        for changes in [dict(pid=pid + 1), dict(start_time=start + 1),
                        dict(version=2), dict(implementation='cpython'),
                        dict(signal='SIGUSR1')]:
            with self.subTest(changes=changes):
                self.announce(directory, pid, start, **changes)
                check(refused('not an announcement of this process'))
        with self.subTest('not JSON'):
            with open(path, 'w') as f:
                f.write('SIGUSR1')
            check(refused('JSONDecodeError: Expecting value: line 1 column '
                          '1 (char 0)'))
        os.unlink(path)
        with self.subTest('symbolic link'):
            self.announce(tmp, pid, start, name='elsewhere')
            os.symlink(elsewhere, path)
            check(refused('it is a symbolic link'))
            os.unlink(path)
        with self.subTest('FIFO'):
            os.mkfifo(path, 0o600)
            check(refused('not a regular file'))
            os.unlink(path)
        if root:
            with self.subTest('file of another user'):
                self.announce(directory, pid, start)
                os.chown(path, 65534, -1)
                check(refused('it belongs to another user (uid 65534)'))
                os.unlink(path)
        self.announce(directory, pid, start)
        with self.subTest('directory open to others'):
            os.chmod(directory, 0o755)
            check(f'refusing to use {directory}: {directory} is open to '
                  f'other users (mode 755, not 700); no signal was sent')
            os.chmod(directory, 0o700)
        if root:
            with self.subTest('directory of another user'):
                os.chown(directory, 65534, -1)
                check(f'refusing to use {directory}: {directory} belongs to '
                      f'another user; no signal was sent')
                os.chown(directory, 0, -1)
        with self.subTest('directory is a symbolic link'):
            os.rename(directory, elsewhere + '.d')
            os.symlink(elsewhere + '.d', directory)
            check(f'refusing to use {directory}: {directory} is not a '
                  f'directory; no signal was sent')
        self.assertEqual(self.signals_received(child), 0)

    def test_fork_child(self):
        # A fork() child is not announced (the tool refuses it), and its
        # exit leaves the parent's announcement, which still serves.
        import coro_origin
        directory = coro_origin.request_dir()
        path = self.write(FORKING)
        child = Child(self, [sys.executable, '-X',
                             'coro_origin=3,dump=SIGUSR1', path],
                      stdin=subprocess.PIPE)
        child.ready()
        child.expect(child.out, 'child ')
        pid = child.proc.pid
        match = re.search(r'^child (\d+)$', child.out.text(), re.M)
        self.assertIsNotNone(match, child.failure('no child pid'))
        kid = int(match[1])
        announcement = os.path.join(
            directory, f'{pid}.{proc_identity(pid)[1]}.announce')
        self.assertTrue(os.path.exists(announcement))
        res = self.cli(kid, '--timeout', '0.5')
        self.assert_refused(res, self.not_announced(kid))
        child.proc.stdin.write(b'go\n')
        child.proc.stdin.flush()
        child.expect(child.out, 'child done\n')
        self.assertIn('child count 0\n', child.out.text())
        self.assertTrue(os.path.exists(announcement))
        res = self.cli(pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(res.stdout.endswith(END), res.stdout)
        child.proc.stdin.close()
        self.assertEqual(child.finish(None), 0, child.failure('exit status'))
        self.assertFalse(os.path.exists(announcement))

    def test_send_checks_start_time(self):
        # Without a pidfd, every signal waits for a check that the pid
        # still has the start time it had.
        import coro_origin
        child = self.start_counter()
        target = coro_origin._Target(child.proc.pid)
        self.addCleanup(target.close)
        target.close()
        target.start_time -= 1
        with self.assertRaises(ProcessLookupError):
            target.send(signal.SIGUSR1)
        target.start_time += 1
        target.send(signal.SIGUSR1)
        self.assertEqual(self.signals_received(child), 1)


if __name__ == '__main__':
    unittest.main()
