"""origin-python: dump requests, and writing a dump out.

Internal module of origin-python (not of upstream CPython).  A dump is
asked for by dump() (``sys._dump_coroutines()``), by the ``dump=SIGNAL``
signal of ``-X coro_origin`` (install_signal_handler()), and by
``python -m coro_origin dump PID`` from another terminal, which
leaves a request (see Lib/coro_origin/__init__.py) and sends that signal.
Here: one dump at a time per thread, a signal arriving during a dump
counted or served after it, the dump written in one go, nothing raised
into the program.  What the dump says is _coro_origin_dump's.
"""

import sys

from _coro_origin_dump import SIGNAL_HANDLER_CODES, build, failure_text

__all__ = ['dump', 'install_signal_handler']

# Which threads are inside a dump, as {thread id: frame of _run_dump()}.
# An entry counts only while its frame is still on that thread's stack:
# under memory pressure CPython may skip a finally block (it cannot
# allocate the int of the instruction offset), and the entry of a dump
# that ended that way must not block the next ones.
_active = {}                    # threads inside dump()
_delivering = {}                # ... of which writing a dump already built
_lock_holder = None             # (thread id, frame) holding _lock
_again = None                   # a signal that came while a dump was
                                # written (its number), to serve after
_lock = None
_missed = 0                     # requests skipped while a dump ran
_last_failure = None            # why the last dump could not be written


def _write_fd(fd, data):
    import os
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write(file, text):
    """Write *text* to *file* (None: sys.stderr).  Return None, or the
    reason it could not be written."""
    if file is None:
        file = sys.stderr
        if file is None:
            file = sys.__stderr__
        if file is None:
            return 'no sys.stderr'
    if file is sys.stderr or file is sys.__stderr__:
        # Write to the file descriptor in one go: a signal may have come
        # in the middle of a write to the buffered stream, which a nested
        # write would break ("reentrant call").
        fd = None
        try:
            fd = file.fileno()
        except Exception:
            fd = None
        if isinstance(fd, int) and fd >= 0:
            try:
                file.flush()
            except Exception:
                pass
            encoding = getattr(file, 'encoding', None) or 'utf-8'
            try:
                data = text.encode(encoding, 'backslashreplace')
            except Exception:
                data = text.encode('utf-8', 'backslashreplace')
            try:
                _write_fd(fd, data)
                return None
            except Exception as exc:
                return failure_text(exc)
    try:
        file.write(text)
        flush = getattr(file, 'flush', None)
        if flush is not None:
            flush()
        return None
    except Exception as exc:
        return failure_text(exc)


def _on_stack(frame, top):
    """Is *frame* *top* or one of its callers?"""
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


def _inside(table, me):
    """Is this thread inside the part of a dump that *table* marks?  A
    stale entry (see _active) is dropped."""
    frame = table.get(me)
    if frame is None:
        return False
    if _on_stack(frame, sys._getframe(1)):
        return True
    table.pop(me, None)
    return False


def _take_lock(me, frame):
    """Acquire the dump lock for *frame* of thread *me*; a lock left held
    by a dump whose frame is gone (see _active) is taken over."""
    global _lock, _lock_holder
    import _thread
    if _lock is None:
        _lock = _thread.allocate_lock()
    deadline = 30.0
    while not _lock.acquire(blocking=False):
        holder = _lock_holder
        if holder is not None:
            tid, held_by = holder
            top = sys._coroutine_origin_current_frames().get(tid)
            if not _on_stack(held_by, top):
                _lock_holder = (me, frame)      # stale: take it over
                return True
        if deadline <= 0:
            return False
        if _lock.acquire(timeout=min(deadline, 1.0)):
            break
        deadline -= 1.0
    _lock_holder = (me, frame)
    return True


def _release_lock():
    global _lock_holder
    _lock_holder = None
    _lock.release()


def _run_dump(format, deliver, *args):
    """Build the dump and pass it to deliver(*args, text) -> None or a
    failure reason (no closure: making a function is an allocation that
    upstream's MAKE_FUNCTION mishandles when it fails, gh-122752).  A call
    while this thread is already dumping (a signal that came during a
    dump) is counted and skipped.  Never raises an
    Exception, and a dump cut short (even without its finally blocks)
    leaves the next one working."""
    global _missed, _last_failure
    me = None
    try:
        import _thread
        me = _thread.get_ident()
        if _inside(_active, me):
            _missed += 1
            return False
        frame = sys._getframe()
        _active[me] = frame
    except Exception:
        if me is not None:
            _active.pop(me, None)
        return False
    try:
        if not _take_lock(me, frame):
            _missed += 1
            return False
        try:
            missed, _missed = _missed, 0
            failure, _last_failure = _last_failure, None
            text = build(format, missed, failure)
            _delivering[me] = frame
            failed = deliver(*args, text)
            if failed:
                _last_failure = failed
            return not failed
        finally:
            _release_lock()
    except Exception:
        return False
    finally:
        _delivering.pop(me, None)
        _active.pop(me, None)


def dump(file=None, format='text'):
    """Write every live, unfinished coroutine with a recorded origin, as a
    tree of asyncio tasks, to *file* (default sys.stderr), as text or, with
    format='json', one JSON document.  The whole dump is built first and
    written in one go; nothing raises into the caller (a write that fails
    is reported at the start of the next dump)."""
    if format not in ('text', 'json'):
        raise ValueError(f"format must be 'text' or 'json', not {format!r}")
    _run_dump(format, _write, file)
    _serve_deferred()


# --- signal handler --------------------------------------------------------

_previous_handlers = {}


def _chain(signum, frame):
    """Do what the handler that ours replaced would have done, for the
    signals whose default is to stop the program."""
    import signal
    prev = _previous_handlers.get(signum)
    if prev is _signal_handler:
        return
    if callable(prev):
        prev(signum, frame)
        return
    if prev == signal.SIG_IGN:
        return
    # SIG_DFL, or None (a handler not set from Python)
    if signum == signal.SIGINT:
        signal.default_int_handler(signum, frame)
    elif signum == getattr(signal, 'SIGTERM', None):
        import os
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _serve():
    """One dump for a dump signal: to the requester of a pending request
    (python -m coro_origin dump PID), else to stderr.  Return True if a
    request was served."""
    try:
        import coro_origin
        request = coro_origin._take_request()
    except Exception:
        request = None
    if request is not None:
        _run_dump(request.format, request.deliver)
        return True
    _run_dump('text', _write, None)
    return False


def _serve_deferred():
    """Signals that came while a finished dump was being written ask for
    a new one: serve them, once, now that the thread is out of it."""
    global _again
    while _again is not None:
        signum, _again = _again, None
        if not _serve():
            _chain(signum, None)


def _signal_handler(signum, frame):
    global _missed, _again
    try:
        import _thread
        me = _thread.get_ident()
        if _inside(_delivering, me):
            # The dump is built and being written: this is a new request,
            # served as soon as the write is over (then, for SIGINT and
            # SIGTERM, the previous handler runs).
            _again = signum
            return
        if _inside(_active, me):
            # This thread is building a dump: the signal came in the
            # middle of it.  Skip it, and leave a request where it is, for
            # the signal that its requester sends again.
            _missed += 1
            _chain(signum, frame)
            return
    except Exception:
        pass
    served = _serve()
    _serve_deferred()
    if not served:
        _chain(signum, frame)


SIGNAL_HANDLER_CODES.add(_signal_handler.__code__)


def install_signal_handler(signum):
    """Run dump() on signal *signum*, from the main thread at the
    interpreter's next safe point (a Python-level signal handler).  For
    SIGINT and SIGTERM, the handler it replaces still runs after the dump
    (SIG_DFL: KeyboardInterrupt, or the default action of SIGTERM).
    The process then announces the signal to python -m coro_origin dump,
    which signals no process that has not (nothing is said if that
    fails: the signal still dumps to stderr)."""
    import signal
    prev = signal.signal(signum, _signal_handler)
    if prev is not _signal_handler:
        _previous_handlers[signum] = prev
    try:
        import coro_origin
        coro_origin._announce(signum)
    except Exception:
        pass
