"""The hang watchdog of origin-python: hang=SECONDS in -X coro_origin or
PYTHONCOROORIGIN, and sys._dump_coroutines_later().

This module is part of origin-python, not of upstream CPython.

A thread of its own, started with _thread (threading.enumerate() does not
list it), wakes up a few times per timeout and looks at the event loops
that run: those that asyncio._origin watches (run with the fork's tracking
on) and those of pending tasks.  It reports, with the live coroutine dump
(sys._dump_coroutines()):

- blocked: a loop has been running one callback for the timeout (nothing
  else on that loop can run); the dump shows, under the running task, the
  calls that block it;
- stalled: a loop has pending tasks, and no task was stepped or woken up
  for the timeout (counted where scheduling sites are kept, so only with
  the fork's tracking on: sys._coroutine_origin_progress());
- cannot exit: the main thread has finished, and the interpreter has been
  waiting for the timeout for a non-daemon thread that runs an event loop;
- deadlock, at once: a loop waits in select() with pending tasks and
  nothing that could ever wake it (_asleep_for_good()), twice in a row;
- ignored cancellation: a task is still pending the timeout after its
  cancellation was requested (task.cancelling() stayed above 0): it caught
  the CancelledError without re-raising it (or calling uncancel()), or its
  clean-up waits; it may go on taking steps, which no stall shows, and a
  loop with such a task is not called stalled.

A thread that keeps the GIL (C code that does not release it) keeps this
thread from looking: a C thread, the sentinel, then writes the threads'
Python stacks as faulthandler does and says why.

One report per episode: what was reported is reported again only after
progress (another callback, a task step, the thread gone).  Without
repeat, the watch ends after its first report; with exit, the process ends
with status 70 (os._exit(): buffers are not flushed) after it.  Like
faulthandler's watchdog, it ends at exit (atexit) and is not inherited by
a child made by fork().  Nothing here raises into the program.
"""

import _thread
import atexit
import os
import sys
import time
import weakref

EXIT_STATUS = 70
PREFIX = 'origin-python: hang: '
MAX_TICK = 1.0                  # seconds between looks, at most
TICKS = 4                       # looks per timeout, at least
MAX_FRAMES = 200                # frames looked through on a thread's stack
EXIT_WAIT = 5.0                 # seconds cancel() waits for the thread
CONFIRM = 0.1                   # seconds to the look that confirms a deadlock

_guard = _thread.allocate_lock()
_watch = None                   # the running _Watch
_hooks_set = False


class _Watch:
    def __init__(self, timeout, repeat, out, exit):
        self.timeout = timeout
        self.repeat = repeat
        self.out = out          # a file descriptor, or an object
        self.exit = exit
        self.wake = None        # a lock released to stop the thread
        self.thread = None      # the thread's handle
        self.loops = {}         # id(loop) -> _LoopWatch
        self.exit_since = None  # the main thread waits in _shutdown()
        self.soon = False       # look again soon (a deadlock to confirm)
        self.forced = False     # asyncio._origin.watching set by the watch
        self.exit_reported = set()
        self.cancels = {}       # id(task) -> [weak ref, since, reported]

    def launch(self):
        # The sentinel first, from this thread: the watchdog thread may
        # not run before a thread that keeps the GIL takes it.
        self.check_in()
        self.wake = _thread.allocate_lock()
        self.wake.acquire()
        self.thread = _thread.start_joinable_thread(
            lambda: _run(self), daemon=True)

    def stop(self):
        """Stop the thread and the sentinel, and wait until they are gone
        (without the GIL), so that nothing of them runs after the caller
        goes on (modules are torn down after atexit; fork() counts
        threads)."""
        self.wake.release()
        if self.thread.ident != _thread.get_ident():
            try:
                self.thread.join(EXIT_WAIT)
            except Exception:
                pass
        _sentinel(0, self)

    def check_in(self):
        """Tell the sentinel that this thread could take the GIL."""
        _sentinel(2 * self.timeout + 1, self)


def _sentinel(allowance, watch):
    """The C sentinel writes the threads' Python stacks if the watchdog
    does not check in for *allowance* seconds (a thread keeps the GIL)."""
    try:
        fd = watch.out
        if fd is None:
            fd = -1                 # (nowhere)
        elif not isinstance(fd, int):
            try:
                fd = fd.fileno()
            except Exception:
                fd = -1
        sys._coroutine_origin_hang_sentinel(allowance, fd, watch.exit)
    except Exception:
        pass


class _LoopWatch:
    def __init__(self, loop):
        self.ref = weakref.ref(loop)
        self.handle = None      # weak reference to the running handle
        self.handle_since = None
        self.handle_progress = None
        self.blocked_reported = False
        self.steps = None
        self.stall_since = None
        self.stall_reported = False
        self.asleep = None      # progress when last seen asleep for good
        self.sigint_only = False    # only SIGINT can wake it


def start(timeout, repeat=False, file=None, exit=False):
    """sys._dump_coroutines_later()."""
    global _watch, _hooks_set
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f'timeout must be a number, not '
                        f'{type(timeout).__name__}')
    timeout = float(timeout)
    if not timeout > 0:
        raise ValueError('timeout must be greater than 0')
    if timeout > 86400 * 365:
        raise OverflowError('timeout is too large')
    out = _output(file)
    with _guard:
        if not _hooks_set:
            atexit.register(cancel)
            if hasattr(os, 'register_at_fork'):
                os.register_at_fork(before=_pause, after_in_parent=_resume,
                                    after_in_child=_forget)
            _hooks_set = True
    watch = _Watch(timeout, bool(repeat), out, bool(exit))
    with _guard:            # (one watch at most, whoever calls)
        if _watch is not None:
            _watch.stop()
        _watch = None
        watch.launch()
        _watch = watch


def cancel():
    """sys._cancel_dump_coroutines_later()."""
    global _watch
    with _guard:
        watch, _watch = _watch, None
        if watch is not None:
            watch.stop()


def _pause():
    """Before fork(): no watchdog thread (os.fork() warns about threads,
    and the child would not have it)."""
    _guard.acquire()
    if _watch is not None:
        _watch.stop()


def _resume():
    try:
        if _watch is not None:
            _watch.launch()
    finally:
        _guard.release()


def _forget():
    """In a child made by fork(): no watch (the loops it knew are its
    parent's)."""
    global _watch, _guard
    _guard = _thread.allocate_lock()
    _watch = None


def _output(file):
    """Where reports go, fixed now: stderr's file descriptor for None
    (reports bypass a replaced sys.stderr, as faulthandler's do), or None
    (nowhere) if there is no sys.stderr: file descriptor 2 may then be a
    file of the program's."""
    if file is None:
        stderr = sys.__stderr__ if sys.stderr is None else sys.stderr
        try:
            fd = stderr.fileno()
        except Exception:
            return None
        return fd if isinstance(fd, int) and fd >= 0 else None
    if isinstance(file, int) and not isinstance(file, bool):
        if file < 0:
            raise ValueError('file is not a valid file descriptor')
        return file
    if not callable(getattr(file, 'write', None)):
        raise TypeError('file must be None, a file descriptor or an object '
                        'with a write() method')
    return file


# --- the watchdog thread ----------------------------------------------------

def _run(watch):
    wake = watch.wake
    tick = min(watch.timeout / TICKS, MAX_TICK)
    try:
        while not wake.acquire(timeout=CONFIRM if watch.soon else tick):
            watch.soon = False
            watch.check_in()
            try:
                found = _look(watch, time.monotonic())
            except Exception:
                found = None
            if found is None:
                continue
            _report(watch, found)
            if watch.exit:
                os._exit(EXIT_STATUS)
            if not watch.repeat:
                break
    finally:
        _sentinel(0, watch)


def _codes():
    """(Handle._run's code, threading._shutdown's code), or None before
    asyncio is imported."""
    events = sys.modules.get('asyncio.events')
    threading = sys.modules.get('threading')
    if events is None or threading is None:
        return None
    return events.Handle._run.__code__, threading._shutdown.__code__


def _loops_and_tasks():
    """({id(loop): [loop, pending tasks]} for the loops that run, the
    pending tasks)."""
    loops = {}
    origin = sys.modules.get('asyncio._origin')
    if origin is not None:
        for loop in list(origin.running_loops):
            loops[id(loop)] = [loop, 0]
    try:
        import _coro_origin_dump
        tasks = _coro_origin_dump._all_tasks()
    except Exception:
        tasks = ()
    for task in tasks:
        try:
            loop = task.get_loop()
        except Exception:
            continue
        entry = loops.get(id(loop))
        if entry is None:
            entry = loops[id(loop)] = [loop, 0]
        entry[1] += 1
    return loops, tasks


def _look(watch, now):
    """What to report now, as (kind, loop, thread id, details), or None.
    It looks at code objects, not frames (see _PyCoroOrigin_ThreadStacks()
    in Python/coro_origin_asyncio.c): it keeps nothing of the program."""
    codes = _codes()
    if codes is None:
        return None
    run_code, shutdown_code = codes
    stacks = sys._coroutine_origin_thread_stacks(MAX_FRAMES, run_code)
    loops, tasks = _loops_and_tasks()
    origin = sys.modules.get('asyncio._origin')
    if origin is not None and not origin.watching:
        # Count callbacks (progress) with the fork's tracking off too;
        # task steps are counted with it on only: no stall is judged.
        origin.watching = True
        watch.forced = True
    counted = origin is not None and origin.watching and not watch.forced
    progress = sys._coroutine_origin_progress()
    steps = progress[1]
    for key in [k for k in watch.loops if k not in loops]:
        del watch.loops[key]
    # A loop with a task whose cancellation is pending is not called
    # stalled: if the task swallowed it and waits, that is the report.
    ignored, cancelling = _ignored_cancel(watch, now, tasks)
    found = None
    for key, (loop, pending) in loops.items():
        lw = watch.loops.get(key)
        if lw is None or lw.ref() is not loop:
            lw = watch.loops[key] = _LoopWatch(loop)
        tid = loop._thread_id
        stack = stacks.get(tid) if tid is not None else None
        if stack is None or loop.is_closed():
            lw.handle = lw.stall_since = None
            continue
        stack_codes, handle = stack     # (handle: a weak reference)
        if handle is None:
            lw.handle = None
        elif lw.handle is not handle or lw.handle_progress != progress:
            # Another handle (one weak reference per object), or the same
            # run again: a reader's handle runs each time its fd is ready,
            # and what it runs schedules callbacks.
            lw.handle = handle
            lw.handle_since = now
            lw.handle_progress = progress
            lw.blocked_reported = False
        elif (now - lw.handle_since >= watch.timeout
              and not lw.blocked_reported and found is None):
            lw.blocked_reported = True
            found = ('blocked', loop, tid, (handle, now - lw.handle_since))
        asleep = (pending and handle is None and found is None
                  and not lw.stall_reported
                  and _asleep_for_good(loop, tid, stack_codes, stacks))
        lw.sigint_only = asleep == SIGINT_ONLY
        if asleep == FOR_GOOD:
            # Twice in a row with nothing scheduled in between: a deadlock.
            if lw.asleep == progress:
                lw.stall_reported = True
                found = ('deadlock', loop, tid, (pending,))
            else:
                watch.soon = True       # (look again in CONFIRM seconds)
            lw.asleep = progress
        else:
            lw.asleep = None
        if not pending or not counted or handle is not None:
            # (a callback that runs is the loop's, not its tasks', wait)
            lw.stall_since = None
        elif lw.stall_since is None or steps != lw.steps:
            lw.steps = steps
            lw.stall_since = now
            lw.stall_reported = False
        elif (now - lw.stall_since >= watch.timeout
              and not lw.stall_reported and found is None
              and key not in cancelling):
            lw.stall_reported = True
            found = ('stalled', loop, tid,
                     (pending, now - lw.stall_since, lw.sigint_only))
    if found is None:
        found = ignored
    if found is not None:
        return found
    return _cannot_exit(watch, now, stacks, loops, shutdown_code)


def _ignored_cancel(watch, now, tasks):
    """(('ignored', loop, thread id, (task, seconds)) for a task still
    pending the timeout after its cancellation was requested (once per
    episode: until its cancelling() count drops to 0), or None; the id()
    of the loops of the tasks whose cancellation is pending)."""
    found = None
    loops = set()
    seen, watch.cancels = watch.cancels, {}
    for task in tasks:
        try:
            if task.done() or not task.cancelling():
                continue
            loops.add(id(task.get_loop()))
            entry = seen.get(id(task))
            if entry is None or entry[0]() is not task:
                entry = [weakref.ref(task), now, False]
            watch.cancels[id(task)] = entry
            if (found is None and not entry[2]
                    and now - entry[1] >= watch.timeout):
                entry[2] = True
                loop = task.get_loop()
                found = ('ignored', loop, loop._thread_id,
                         (entry[0], now - entry[1]))
        except Exception:
            continue
    return found, loops


NOT_ASLEEP, FOR_GOOD, SIGINT_ONLY = 0, 1, 2


def _asleep_for_good(loop, tid, codes, stacks):
    """Does *loop* wait in select() (*codes*: its thread's stack) with
    nothing that could ever wake it?  No callback ready, no timer, no file
    descriptor but its own wake-up pipe, no add_signal_handler() handler,
    no Python-level signal handler, not stopping, and no other thread that
    runs (idle workers of an executor, with no work queued, and a main
    thread that waits for the loop's thread to end, do not run; a thread
    that Python does not know, or a Python thread in C code, may).  Return
    FOR_GOOD, SIGINT_ONLY if only SIGINT could (a loop in the main thread:
    Ctrl-C, or a supervisor's SIGINT, is a way out that the program may
    wait for), or NOT_ASLEEP.  Conservative: what cannot be read is not
    asleep; without /proc/self/task (Linux), nothing is."""
    try:
        origin = sys.modules['asyncio._origin']
        if (not codes or codes[0] not in origin._select_codes()
                or loop._ready or loop._scheduled or loop._stopping
                or getattr(loop, '_signal_handlers', None)):
            return NOT_ASLEEP
        own = loop._ssock.fileno()
        if any(key.fd != own for key in loop._selector.get_map().values()):
            return NOT_ASLEEP
        me = _thread.get_ident()
        for other, (other_codes, _) in stacks.items():
            if (other not in (tid, me)
                    and not _thread_asleep(other, other_codes, tid)):
                return NOT_ASLEEP
        # Every thread of the process is one of Python's, or the sentinel.
        if len(os.listdir('/proc/self/task')) > len(stacks) + 1:
            return NOT_ASLEEP
        import signal
        threading = sys.modules['threading']
        sigint = False
        for signum in signal.valid_signals():
            handler = signal.getsignal(signum)
            if not callable(handler) or getattr(
                    handler, '__module__', None) == '_coro_origin_request':
                continue
            if signum != signal.SIGINT:
                return NOT_ASLEEP
            sigint = tid == threading.main_thread().ident
        return SIGINT_ONLY if sigint else FOR_GOOD
    except Exception:
        return NOT_ASLEEP


def _thread_asleep(tid, codes, loop_tid):
    """Is thread *tid* (*codes*: its stack) an idle executor worker with
    no work queued, or a main thread waiting for the loop's thread to
    end?"""
    if not codes:
        return False        # (a Python thread in C code: it may run)
    threading = sys.modules['threading']
    worker = sys.modules.get('concurrent.futures.thread')
    if worker is not None and codes[0] is worker._worker.__code__:
        queue = worker._threads_queues.get(threading._active.get(tid))
        return queue is not None and queue.empty()
    if threading._shutdown.__code__ in codes:
        thread = threading._active.get(loop_tid)
        return thread is not None and not thread.daemon
    return False


def _cannot_exit(watch, now, stacks, loops, shutdown_code):
    threading = sys.modules['threading']
    main = threading.main_thread().ident
    if shutdown_code not in stacks.get(main, ((), None))[0]:
        watch.exit_since = None
        return None
    if watch.exit_since is None:
        watch.exit_since = now
    if now - watch.exit_since < watch.timeout:
        return None
    for loop, pending in loops.values():
        tid = loop._thread_id
        thread = threading._active.get(tid)
        if (tid is None or tid == main or tid not in stacks or thread is None
                or thread.daemon or id(loop) in watch.exit_reported):
            continue
        watch.exit_reported.add(id(loop))
        return ('cannot exit', loop, tid, (pending, now - watch.exit_since))
    return None


# --- the report -------------------------------------------------------------

def _thread_name(tid):
    threading = sys.modules.get('threading')
    try:
        thread = threading._active.get(tid)
        if thread is not None:
            return repr(thread.name)
    except Exception:
        pass
    return f'{tid}'


def _started_lines(loop):
    """Where the program started the loop, if a frame of its own says
    (asyncio.run() as a thread's target has none: nothing is said)."""
    try:
        import _coro_origin_report as report
        started = getattr(loop, '_origin_started', None)
        frames = () if started is None else started.frames()
        if any(not report._machinery(f[0]) for f in frames):
            return [f'  loop started at {report.short_site(frames, True)}']
    except Exception:
        pass
    return []


def _loop_lines(loop, pending):
    """Where the loop was started, and what it has to do (where, only if
    it has tasks: the dump's line for a loop with none says it)."""
    lines = _started_lines(loop) if pending else []
    try:
        import _coro_origin_dump as dump
        ready = len(loop._ready)
        timers = len(loop._scheduled)
        text = (f'  the loop has {dump._count(pending, "pending task")}, '
                f'{dump._count(ready, "callback")} ready, '
                f'{dump._count(timers, "timer")}')
        lines.append(text)
        if pending:     # (the dump lists a loop with no task itself)
            lines += dump.pending_lines(dump.pending_callbacks(loop), '    ')
    except Exception:
        pass
    return lines


def _callback_lines(handle, tid):
    """The callback that blocks its loop: its repr, where it was scheduled,
    and, if it is not a task's step (the dump shows a task's), the calls
    it is in."""
    import _coro_origin_dump as dump
    import _coro_origin_report as report
    callback = getattr(handle, '_callback', None)
    task = getattr(callback, '__self__', None)
    run_code = _codes()[0]
    frames = sys._coroutine_origin_current_frames()  # (the loop is blocked)
    calls, _ = dump.frames_down_to(frames.get(tid),
                                   lambda f: f.f_code is run_code)
    if dump._is_task(task):
        # The dump shows the task, and what it runs; here its innermost
        # frame, where it blocks.
        lines = [f'  callback: a step of Task '
                 f'{report._safe_str(task.get_name())!r} (below)']
        if calls:
            lines.append('  blocked in (innermost frame):')
            lines += report.site_lines(tuple(calls[:1]), '    ', False)
        return lines
    lines = [f'  callback: {report._safe_repr(handle)}']
    site = getattr(handle, '_site', None)
    if site is not None:
        lines.append(f'  scheduled at {report.short_site(site.frames())}')
    if calls:
        lines.append('  ' + dump.RUNNING_HEADER)
        lines += report.site_lines(tuple(calls), '    ')
    return lines


def _header(kind, loop, tid, details, timeout):
    name = _thread_name(tid)
    if kind == 'blocked':
        handle, since = details
        handle = handle()
        lines = [f'{PREFIX}the event loop of thread {name} has been running '
                 f'one callback for {since:.1f} s: nothing else on it runs '
                 f'(timeout {timeout:g} s)']
        lines += _callback_lines(handle, tid)
        lines += _started_lines(loop)
    elif kind == 'stalled':
        pending, since, sigint_only = details
        lines = [f'{PREFIX}no task of the event loop of thread {name} has '
                 f'taken a step for {since:.1f} s (timeout {timeout:g} s)']
        if sigint_only:
            lines.append('  nothing but a signal (SIGINT, Ctrl-C) can wake '
                         'it: a deadlock, unless the program waits for one')
        lines += _loop_lines(loop, pending)
    elif kind == 'ignored':
        ref, since = details
        task = ref()
        tname = 'A task' if task is None else _task_label(task)
        lines = [f'{PREFIX}{tname} of the event loop of thread {name} has '
                 f'gone on for {since:.1f} s since its cancellation was '
                 f'requested (timeout {timeout:g} s): it caught '
                 f'CancelledError without re-raising it (or calling '
                 f'uncancel()), or its clean-up waits'
                 + ('; who asked is shown under it below'
                    if _asked(task) else '')]
    elif kind == 'deadlock':
        pending, = details
        lines = [f'origin-python: deadlock: the event loop of thread {name} '
                 f'waits for ever with pending tasks: nothing can wake it '
                 f'(no callback ready, no timer, no file descriptor but its '
                 f'own, no signal handler, no other thread at work)']
        lines += _loop_lines(loop, pending)
    else:
        pending, since = details
        lines = [f'{PREFIX}the main thread has finished, and the '
                 f'interpreter has waited {since:.1f} s for thread {name}, '
                 f'which runs an event loop that nothing stops (timeout '
                 f'{timeout:g} s)']
        lines += _loop_lines(loop, pending)
    return lines


def _task_label(task):
    try:
        return f'Task {task.get_name()!r}'
    except Exception:
        return 'a task'


def _asked(task):
    """Does the dump say who asked *task* to cancel?"""
    try:
        import _coro_origin_dump
        return _coro_origin_dump._cancel_request(task) is not None
    except Exception:
        return False


def _report(watch, found):
    kind, loop, tid, details = found
    try:
        lines = _header(kind, loop, tid, details, watch.timeout)
    except Exception as exc:
        lines = [f'{PREFIX}{kind} (details could not be read: '
                 f'{type(exc).__name__})']
    try:
        import io
        buf = io.StringIO()
        sys._dump_coroutines(buf)
        dump = buf.getvalue()
    except Exception as exc:
        dump = f'(the dump failed: {type(exc).__name__})\n'
    text = '\n'.join(lines) + '\n' + dump
    if watch.exit:
        text += f'{PREFIX}exiting with status {EXIT_STATUS}\n'
    _write(watch.out, text)


def _write(out, text):
    try:
        if out is None:
            return
        if isinstance(out, int):
            import _coro_origin_request
            _coro_origin_request._write_fd(
                out, text.encode('utf-8', 'backslashreplace'))
        else:
            out.write(text)
            flush = getattr(out, 'flush', None)
            if flush is not None:
                flush()
    except Exception:
        pass
