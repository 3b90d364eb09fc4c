"""origin-python: asyncio's use of coroutine origins.

Internal module of origin-python, not of upstream CPython; the design is
described in DESIGN.md of the origin-python repository.  The C Future and
Task of Modules/_asynciomodule.c and the Python ones of futures.py,
tasks.py and events.py share one data path:

* Capture: ``sys._frame_stack_capture()`` (C: ``_PyCoroOrigin_CaptureHandle()``)
  returns an interned frame stack, the same object that keeps a coroutine's
  ``cr_origin``: code objects and instruction offsets, no line numbers.
* Materialise: ``handle.summary(drop)`` (C: ``_PyCoroOrigin_StackSummary()``)
  makes the ``traceback.StackSummary`` that stock's debug mode stores in
  ``_source_traceback``, without the *drop* innermost frames, when someone
  reads it.
* Render: ``Lib/_coro_origin_report.py``, for every report, through
  ``sys._coroutine_origin_render()``, which works during shutdown too
  (:func:`context_origin_lines` for asyncio's default exception handler).

Names: ``_source_stack`` (Python) / ``fut_source_tb`` (C, upstream's
field) hold the debug-mode frame stack, or the materialised list once
read; ``_source_drop`` / ``fut_source_drop`` the innermost frames asyncio
asked to leave out, while it is a frame stack; ``_origin_stack`` /
``fut_origin_stack`` where a plain future was created, kept with origin
tracking on outside debug mode, for its never-retrieved report.
"""

import collections.abc
import functools
import sys
import threading
import types
import weakref

from . import constants
from .base_futures import isfuture

# The type of what sys._frame_stack_capture() returns.
FrameStack = type(sys._frame_stack_capture(1))


def capture(skip=1):
    """Debug mode: where the caller's caller is, as stock's extract_stack(
    sys._getframe(1)) would see it, but lazily."""
    return sys._frame_stack_capture(constants.DEBUG_STACK_DEPTH, skip + 1)


def capture_origin(skip=1):
    """With origin tracking on (outside debug mode): where the caller's
    caller creates a future, with the thread's tracking depth and skip=
    setting.  None when tracking is off."""
    depth = sys.get_coroutine_origin_tracking_depth()
    if not depth:
        return None
    return sys._frame_stack_capture(depth, skip + 1, skip_modules=True)


def keeps_coro(task):
    """Does the done Python *task* keep its coroutine?  One that failed
    keeps it (stock drops it) if its origin was recorded, so that its
    report can say where it was created, unless debug mode's traceback
    says so."""
    return (task._exception is not None and not task._source_stack
            and getattr(task._coro, 'cr_origin', None) is not None)


def _get_source_traceback(obj):
    tb = obj._source_stack
    if type(tb) is FrameStack:
        tb = obj._source_stack = tb.summary(obj._source_drop)
    return tb


def _set_source_traceback(obj, value):
    obj._source_stack = value


source_traceback = property(
    _get_source_traceback, _set_source_traceback,
    doc="Where the object was created (debug mode), made when read.")


def drop_source_frame(obj):
    """What stock spells ``del obj._source_traceback[-1]``, kept lazy."""
    tb = obj._source_stack
    if type(tb) is FrameStack:
        obj._source_drop += 1
    elif tb:
        del tb[-1]


# Debug mode checks every callback given to call_soon(), call_at() and
# call_later() with inspect.iscoroutinefunction(), which is most of what
# debug mode costs once tracebacks are lazy: asyncio's C Task schedules
# each step and wake-up that way (TaskStepMethWrapper objects and builtin
# methods).  Whether a type's instances can be coroutine functions at all
# is decided once per type, and kept in a dict with weak keys: no class
# is kept alive by it.
_plain_types = weakref.WeakKeyDictionary()
_FUNCTIONLIKE = (types.FunctionType, types.MethodType, functools.partial,
                 functools.partialmethod)


def _plain_type(cls):
    """Can no instance of *cls* be a coroutine (function)?  True for types
    whose instances have no __dict__ (so no per-instance marker) and that
    are not, and do not look like, functions, methods or partials:
    inspect.iscoroutinefunction() and asyncio's checks are then always
    False for them, and callable() True."""
    return (cls.__dictoffset__ == 0
            and not issubclass(cls, _FUNCTIONLIKE)
            and not issubclass(cls, (collections.abc.Coroutine,
                                     types.GeneratorType))
            and any('__call__' in vars(k) for k in cls.__mro__)
            and not any(hasattr(cls, name) for name in (
                '_is_coroutine_mark', '_is_coroutine', '__code__',
                '__func__', '__wrapped__', '__await__')))


def plain_callback(callback):
    """Debug mode's callback check: True when *callback* is of a type that
    can be neither a coroutine nor a coroutine function (nothing to
    check); False means: check as stock does."""
    cls = type(callback)
    try:
        return _plain_types[cls]
    except KeyError:
        pass
    except TypeError:           # a type without weak references
        return False
    plain = _plain_types[cls] = _plain_type(cls)
    return plain


def context_origin_lines(context):
    """[the creation site that asyncio's default exception handler adds to
    its report], or [] (see _coro_origin_report.context_origin_text()).
    Never raises, and works while the interpreter shuts down: whatever
    happens here, the report still says what stock says."""
    text = sys._coroutine_origin_render('context_origin_text', context)
    return [text] if text else []


def repr_site(task, info=None):
    """'created at FILE:LINE' for a pending task's repr, and 'cancel
    requested at FILE:LINE' once its cancellation was requested, or
    None.  In debug mode, with the fork's tracking configured, stock's
    'created at' item of *info*, the repr's items, is made the user's
    line."""
    return sys._coroutine_origin_render('repr_site', task,
                                        cancel_frames(task), info)


def note_unfinalized(agen):
    """In strict mode (else do nothing), *agen* is an async generator
    whose event loop was closed before its aclose() could be scheduled:
    it is recorded if it is freed still suspended in its body (see
    Python/coro_origin_strict.c).  Never raises."""
    try:
        sys._coroutine_origin_note_problem(
            'async generator never finalized', agen)
    except Exception:
        pass


def note_lost_work(context):
    """Record *context* with sys._coroutine_origin_note_problem() if it is
    a report of lost work (a task destroyed while pending, a task or future
    exception never retrieved); that does nothing unless strict mode is on.
    A future whose cancel() would have dropped its exception's report
    (note_cancel()) gets "dropped_by" in *context*, saying where cancel()
    was called, for every handler.  Never raises.

    Told by what the report holds, not by its message: a task still
    pending (asyncio reports one only as it is destroyed), or a future
    done with the very exception that the report gives (asyncio reports
    that only when nobody retrieved it; "dropped_by": a report of ours,
    of an exception that cancel() or a dropped run_coroutine_threadsafe()
    future would lose)."""
    try:
        dropped = _kept(_dropped, context.get('future')) if _dropped else None
        if dropped is not None and 'dropped_by' not in context:
            context['dropped_by'] = dropped[1]
        exc = context.get('exception')
        if exc is None:
            task = context.get('task')
            if task is None or not isfuture(task) or task.done():
                return
            kind = 'task destroyed while pending'
        elif 'future' in context:
            future = context['future']
            if (not isfuture(future) or not future.done()
                    or future.cancelled() or future._exception is not exc):
                return
            if callable(getattr(future, 'get_coro', None)):
                kind = 'task exception never retrieved'
            else:
                kind = 'future exception never retrieved'
        elif 'dropped_by' in context:
            kind = 'future exception never retrieved'
        else:
            return
        sys._coroutine_origin_note_problem(kind, context)
    except Exception:
        pass


# Cancellation provenance.  With the fork's tracking on, Future.cancel()
# and Task.cancel() (C and Python) note who asked: the C ones in
# Python/coro_origin_asyncio.c (_PyCoroOrigin_NoteCancel(), which calls
# note_cancel() below only for what is rare: a future already done, a
# cancel() that asyncio itself makes for a reason, another thread), the
# Python ones here.  Both keep it in _cancels, keyed by id() of the future
# with a weak reference whose callback removes the entry, so that nothing
# is kept alive and nothing is added to the future.  When asyncio makes
# the CancelledError it delivers (C: create_cancelled_error(), Python:
# _make_cancelled_error()), the request goes onto the exception, where
# traceback prints it (one block, after the notes): ('cancelled', (by,
# reason, count), stack, None), read by sys._coroutine_origin_of_exception()
# like the "tracebacks" record (a CancelledError is a BaseException:
# "tracebacks" never records one).  Nothing is rendered when cancel() is
# called: the stack is a frame stack (line numbers come when shown), and
# "by" a tuple (task name or None, the frame stack where that task's
# coroutine was created or None, was an event loop running, thread name or
# None (main thread)) that _coro_origin_report.cancel_by_text() renders.
_cancels = {}

# entries of _cancels: [ref, info, shared]; info: [stack, by, reason,
# count], one list for a task and the future it waits on when the task's
# cancel() cancels that future (the CancelledError the task then gets is
# the future's); shared: that entry was made for that call, which counts
# as no new request.
_STACK, _BY, _REASON, _COUNT = range(4)


def _forget(table, key):
    """A weak reference's callback that removes table[key], if that is
    still the reference's entry.  It may run while the interpreter shuts
    down, after this module's globals became None (the free-threaded
    collector's order): it holds what it uses, and never raises."""
    gc_state, dying = _gc_state, _dying
    def forget(ref):
        try:
            entry = table.get(key)
            if entry is not None and entry[0] is ref:
                del table[key]
                if gc_state[0]:
                    dying[id(table), key] = entry
        except Exception:
            pass
    return forget


# A task that the cyclic garbage collector finds dead loses its weak
# references (and so its entries) before its finalizer runs, which is
# where "Task was destroyed but it is pending!" is reported: during a
# collection, the entries that it removes stay readable here, by table and
# id() (an object being finalized still holds its address), until the
# collection ends (gc.callbacks, added with the first entry).  The C side
# (Python/coro_origin_asyncio.c) reads and fills them too.
_gc_state = [False]             # [a collection runs]
_dying = {}
_gc_watched = False


def _gc_phase(phase, info):
    _gc_state[0] = phase == 'start'
    if not _gc_state[0]:
        _dying.clear()


def _gc_watch():
    global _gc_watched
    if not _gc_watched:
        import gc
        gc.callbacks.append(_gc_phase)
        _gc_watched = True


def _keep(table, obj, *values):
    """table[id(obj)] = [weak reference to obj, *values], removed with
    *obj*: nothing is kept alive, nothing is added to *obj*."""
    _gc_watch()
    key = id(obj)
    table[key] = [weakref.ref(obj, _forget(table, key)), *values]


def _kept(table, obj):
    """The entry that _keep() made for *obj* in *table*, or None (also
    while a collection finalizes *obj*, see above)."""
    entry = table.get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry
    if _gc_state[0]:
        return _dying.get((id(table), id(obj)))
    return None


def _fork_depth():
    """The tracking depth if the fork's tracking is on in this thread, else
    0: stock's sys.set_coroutine_origin_tracking_depth() alone (asyncio's
    debug mode) is stock, and records nothing more."""
    if sys._coroutine_origin_configured():
        return sys.get_coroutine_origin_tracking_depth()
    return 0


def _by(task, loop):
    """Who calls cancel(): "by" of an entry (see above)."""
    thread = threading.current_thread()
    thread = None if thread is threading.main_thread() else thread.name
    if task is None:
        return (None, None, loop is not None, thread)
    site = getattr(task.get_coro(), 'cr_origin', None)
    return (task.get_name(), site, True, thread)


# code object of an asyncio function that calls cancel() -> why (None: a
# TaskGroup's failed task, described from the frame); made on first use
_REASONS = None
# how many callers of cancel() are looked at: asyncio calls it from the
# function that knows why, or one that it calls (TaskGroup._abort())
_REASON_FRAMES = 2


def _reasons():
    global _REASONS, _ON_TIMEOUT_CODE, _AENTER_CODE, _WAIT_FOR_CODE
    global _SIGINT_CODE
    if _REASONS is None:
        from . import runners, taskgroups, timeouts
        _task_step_code()
        _SIGINT_CODE = runners.Runner._on_sigint.__code__
        _ON_TIMEOUT_CODE = timeouts.Timeout._on_timeout.__code__
        _AENTER_CODE = timeouts.Timeout.__aenter__.__code__
        _WAIT_FOR_CODE = _tasks.wait_for.__code__
        _REASONS = {
            taskgroups.TaskGroup._on_task_done.__code__: None,
            timeouts.Timeout._on_timeout.__code__:
                'its asyncio.timeout() expired (asyncio.timeout(), '
                'timeout_at() or wait_for())',
            runners._cancel_all_tasks.__code__:
                'asyncio.run() or Runner cancels the tasks left at its end',
            runners.Runner._on_sigint.__code__:
                'Ctrl-C (SIGINT) under asyncio.run() or Runner',
        }
    return _REASONS


def _failed_child(frame):
    child = frame.f_locals.get('task')
    text = 'a task of its TaskGroup failed'
    try:
        exc = child.exception()
        text = (f"task '{child.get_name()}' of its TaskGroup failed "
                f"with {type(exc).__name__}")
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            text += f' at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}'
    except Exception:
        pass
    return text


def _reason(frame):
    """Why asyncio itself cancels, from the asyncio function that called
    cancel() (its code object, never a message's text): (text, the frame
    stack to show instead of the caller's, or None), or (None, None)."""
    reasons = _reasons()
    for _ in range(_REASON_FRAMES):
        if frame is None:
            break
        code = frame.f_code
        if code in reasons:
            if code is _ON_TIMEOUT_CODE:
                expired = _expired_timeout(frame)
                if expired is not None:
                    return expired
            return reasons[code] or _failed_child(frame), None
        frame = frame.f_back
    return None, None


# Timeouts: with the fork's tracking on, Timeout.reschedule() (which
# __aenter__() calls) keeps where the deadline was set and how far away it
# was: {id(timeout): [weak reference, frame stack, delay]}, an entry
# removed with its timeout.  When the timeout expires, its cancellation is
# shown at that site.
_timeouts = {}
_ON_TIMEOUT_CODE = _AENTER_CODE = _WAIT_FOR_CODE = _SIGINT_CODE = None


def note_timeout(timeout, when):
    """*timeout*'s deadline was set to *when* (loop time, or None): keep
    where (asyncio's reschedule() and __aenter__() left out) and the delay,
    if the fork's tracking is on.  Never raises."""
    try:
        depth = _fork_depth()
        if not depth:
            return
        key = id(timeout)
        if when is None:
            _timeouts.pop(key, None)
            return
        _reasons()
        # note_timeout(), reschedule(), and the asyncio functions that
        # call it for the user: __aenter__(), then wait_for()
        skip = 2
        for code in (_AENTER_CODE, _WAIT_FOR_CODE):
            if sys._getframe(skip).f_code is code:
                skip += 1
        stack = sys._frame_stack_capture(depth, skip, skip_modules=True)
        delay = when - _events.get_running_loop().time()
        _keep(_timeouts, timeout, stack, delay)
    except Exception:
        pass


def _expired_timeout(frame):
    """(text, site) for the Timeout whose _on_timeout() *frame* runs, if
    note_timeout() kept its deadline, else None."""
    entry = _kept(_timeouts, frame.f_locals.get('self'))
    if entry is None:
        return None
    delay = round(entry[2], 3)      # (the loop's clock moved meanwhile)
    if delay > 0:
        text = f'the timeout set there expired ({delay:g} s)'
    else:
        text = 'the timeout set there expired (its deadline had passed)'
    return text, entry[1]


# Loop stops: with the fork's tracking on, a loop's stop() (see
# watch_thread()) keeps who asked, {id(loop): [weak reference, frame
# stack, by, why]} ("by" as for a cancellation; "why" when stop() was
# itself a callback), an entry removed with its loop; the stop that
# run_until_complete() makes once its future is done is not kept (it
# explains nothing, and asyncio.run() makes several after a failure).
# "Event loop stopped before Future completed." and "Task was destroyed
# but it is pending!" then say where the loop was stopped.
_stops = {}
_UNTIL_COMPLETE_CB_CODE = _UNTIL_COMPLETE_CODE = None


def _noted_stop(loop):
    """stop() of a loop that watch_thread() watches."""
    note_stop(loop)
    return type(loop).stop(loop)


def _watch_stop(loop):
    """Give *loop* a stop attribute of its own: its class's stop() that
    notes the caller first, named as that method (a handle's repr reads as
    on stock).  A stop() scheduled before the loop ran (call_soon(),
    call_later(), add_signal_handler() of loop.stop then) is the class's
    bound method: its handles are pointed at the new one."""
    if 'stop' in vars(loop):
        return
    cls_stop = type(loop).stop
    func = types.FunctionType(_noted_stop.__code__, _noted_stop.__globals__,
                              'stop')
    func.__qualname__ = getattr(cls_stop, '__qualname__', 'stop')
    loop.stop = types.MethodType(func, loop)
    handles = list(loop._ready) + list(loop._scheduled)
    handles += getattr(loop, '_signal_handlers', {}).values()
    for handle in handles:
        callback = getattr(handle, '_callback', None)
        if (type(callback) is types.MethodType
                and callback.__self__ is loop
                and callback.__func__ is cls_stop):
            handle._callback = loop.stop


def note_stop(loop):
    """*loop*.stop() is being called (by _noted_stop()): keep where and by
    whom, if the fork's tracking is on.  Never raises."""
    global _UNTIL_COMPLETE_CB_CODE, _UNTIL_COMPLETE_CODE
    try:
        depth = _fork_depth()
        if not depth:
            return
        if _UNTIL_COMPLETE_CB_CODE is None:
            from . import base_events
            _UNTIL_COMPLETE_CB_CODE = (
                base_events._run_until_complete_cb.__code__)
            _UNTIL_COMPLETE_CODE = (
                base_events.BaseEventLoop.run_until_complete.__code__)
        caller = sys._getframe(2)
        if caller.f_code is _UNTIL_COMPLETE_CB_CODE:
            return              # run_until_complete()'s own, once done
        _task_step_code()
        stack = sys._frame_stack_capture(depth, 2, skip_modules=True)
        running = _events._get_running_loop()
        task = _tasks.current_task(running) if running is not None else None
        why = None
        if task is None and caller.f_code is _HANDLE_RUN_CODE:
            why, site = _stop_callback(loop, caller.f_locals.get('self'))
            stack = site or stack
        _keep(_stops, loop, stack, _by(task, running), why)
    except Exception:
        pass


def _stop_callback(loop, handle):
    """(why *loop* stopped, where) when stop() was itself the callback
    that *handle* ran: where is the line that scheduled it, if the handle
    kept it, else None."""
    site = getattr(handle, '_site', None)
    if type(site) is not FrameStack:
        site = None
    return _stop_why(loop, handle, site is not None), site


def _stop_why(loop, handle, there):
    at = ', set there' if there else ''
    for signum, handler in getattr(loop, '_signal_handlers', {}).items():
        if handler is handle:
            import signal
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = str(signum)
            return (f'{name} arrived: loop.stop() is its handler{at} '
                    f'(loop.add_signal_handler())')
    at = ' scheduled there' if there else ''
    if isinstance(handle, _events.TimerHandle):
        return (f'loop.stop() was a timer callback{at} (call_later() or '
                f'call_at())')
    return f'loop.stop() was a callback{at} (call_soon() or the like)'


def stop_entry(loop):
    """[ref, stack, by, why] that note_stop() kept for *loop*, or None."""
    return _kept(_stops, loop)


def exception_record(exc):
    """The record that sys._coroutine_origin_of_exception() gives *exc*, a
    RuntimeError that asyncio raised, known by the code object of the
    frame that raised it, never by its message; else None:
    * run_until_complete()'s when its loop was stopped: ('stopped', (by,
      None, 1), stack, None), where loop.stop() was called;
    * "... is bound to a different event loop" (a Lock, Event, Condition,
      Semaphore or Queue used under a second loop): ('bound', (type name,
      site of the loop it is bound to, site of the running one), stack or
      None, None), where it was created and where both loops were
      started, when the fork's tracking kept any of them."""
    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None:
            return None
        code = tb.tb_frame.f_code
        if code is _UNTIL_COMPLETE_CODE and _stops:
            entry = stop_entry(tb.tb_frame.f_locals.get('self'))
            if entry is None:
                return None
            return ('stopped', (entry[2], entry[3], 1), entry[1], None)
        mixins = sys.modules.get('asyncio.mixins')
        if (mixins is None
                or code is not mixins._LoopBoundMixin._get_loop.__code__):
            return None
        local = tb.tb_frame.f_locals
        obj = local.get('self')
        stack = created_at(obj)
        bound, running = (_started_site(getattr(obj, '_loop', None)),
                          _started_site(local.get('loop')))
        if stack is None and bound is None and running is None:
            return None
        return ('bound', (type(obj).__name__, bound, running), stack, None)
    except Exception:
        return None


def _started_site(loop):
    """'FILE:LINE' where the program started *loop* (run with the fork's
    tracking on), or None."""
    started = getattr(loop, '_origin_started', None)
    if started is None:
        return None
    return sys._coroutine_origin_render('short_site', started.frames())


# run_coroutine_threadsafe(): with the fork's tracking on, the
# concurrent.futures.Future it returns gets a condition of its own (the
# Future's private _condition, replaced before anyone holds it), which
# reports two mistakes when they happen, through the loop's exception
# handler as asyncio reports lost work:
# * a result() or exception() that waits on the thread of the loop that
#   must run the coroutine: the loop cannot run it meanwhile, so the wait
#   can only time out or hang (reported before it blocks);
# * an exception that nobody retrieved (result(), exception(), or a done
#   callback, which hands it on) when the future is collected, or at exit
#   if it is still referenced then.  Stock drops both silently.
_threadsafe_live = weakref.WeakSet()
_threadsafe_atexit = False
_CF_RETRIEVE_CODES = _CF_SET_EXCEPTION_CODE = _CHAIN_FUTURE_CODE = None


class _ThreadsafeCondition(threading.Condition):

    def __init__(self, loop, site):
        super().__init__()
        self._origin_loop = weakref.ref(loop)
        self._origin_site = site
        self._origin_retrieved = False
        self._origin_waited = False
        self._origin_exception = None

    def __enter__(self):
        try:
            caller = sys._getframe(1)
            if caller.f_code in _CF_RETRIEVE_CODES:
                # (run_coroutine_threadsafe()'s own done callback, which
                # asyncio's _chain_future() adds to it, hands nothing on)
                chain = caller.f_back
                if not (chain.f_code is _CHAIN_FUTURE_CODE
                        and chain.f_locals.get('destination')
                        is caller.f_locals.get('self')):
                    self._origin_retrieved = True
        except Exception:
            pass
        return super().__enter__()

    def wait(self, timeout=None):
        if not self._origin_waited:
            self._origin_waited = True
            _report_loop_thread_wait(self)
        return super().wait(timeout)

    def notify_all(self):
        try:
            caller = sys._getframe(1)
            if caller.f_code is _CF_SET_EXCEPTION_CODE:
                self._origin_exception = caller.f_locals['exception']
        except Exception:
            pass
        super().notify_all()

    def __del__(self):
        try:
            _report_threadsafe_dropped(self, 'was collected')
        except Exception:
            pass    # (at shutdown, when this module's globals are None)


def watch_threadsafe(future, loop):
    """run_coroutine_threadsafe() made *future* (a concurrent.futures
    Future) for *loop*: watch it (see above) if the fork's tracking is on.
    Never raises."""
    global _CF_RETRIEVE_CODES, _CF_SET_EXCEPTION_CODE, _CHAIN_FUTURE_CODE
    global _threadsafe_atexit
    try:
        depth = _fork_depth()
        if not depth:
            return
        if _CF_RETRIEVE_CODES is None:
            from . import futures
            _task_step_code()
            _CHAIN_FUTURE_CODE = futures._chain_future.__code__
            cls = type(future)
            _CF_RETRIEVE_CODES = frozenset(
                getattr(cls, name).__code__
                for name in ('result', 'exception', 'add_done_callback'))
            _CF_SET_EXCEPTION_CODE = cls.set_exception.__code__
        site = sys._frame_stack_capture(depth, 2, skip_modules=True)
        condition = _ThreadsafeCondition(loop, site)
        future._condition = condition
        _threadsafe_live.add(condition)
        if not _threadsafe_atexit:
            import atexit
            atexit.register(_threadsafe_at_exit)
            _threadsafe_atexit = True
    except Exception:
        pass


def _site_text(stack):
    """'FILE:LINE' of the user's innermost frame of *stack* (asyncio's
    own frames folded whatever this thread's settings: a report made in
    another thread than the one that set tracking up)."""
    return sys._coroutine_origin_render('short_site', stack.frames(), True)


def _report_loop_thread_wait(condition):
    try:
        loop = condition._origin_loop()
        if loop is None or _events._get_running_loop() is not loop:
            return
        depth = _fork_depth() or constants.DEBUG_STACK_DEPTH
        # _report_loop_thread_wait(), wait(), result() or exception()
        waited = sys._frame_stack_capture(depth, 3, skip_modules=True)
        loop.call_exception_handler({
            'message': (
                'A run_coroutine_threadsafe() future is waited for on the '
                "thread of its own event loop, which cannot run the "
                'coroutine meanwhile: the wait can only time out or hang'),
            'waited_at': _site_text(waited),
            'scheduled_at': _site_text(condition._origin_site),
        })
    except Exception:
        pass


def _report_threadsafe_dropped(condition, how):
    try:
        exc = condition._origin_exception
        if exc is None or condition._origin_retrieved:
            return
        condition._origin_exception = None      # once
        if not isinstance(exc, Exception):
            return      # (KeyboardInterrupt, SystemExit: not lost)
        context = {
            'message': 'Future exception was never retrieved',
            'exception': exc,
            'dropped_by': (
                'the concurrent.futures.Future that '
                'run_coroutine_threadsafe() at '
                f'{_site_text(condition._origin_site)} returned {how} '
                'without its result() or exception() read'),
        }
        loop = condition._origin_loop()
        if loop is not None:
            loop.call_exception_handler(context)
        else:
            from .log import logger
            logger.error('%s\ndropped_by: %s', context['message'],
                         context['dropped_by'],
                         exc_info=(type(exc), exc, exc.__traceback__))
            note_lost_work(context)
    except Exception:
        pass


def _threadsafe_at_exit():
    for condition in list(_threadsafe_live):
        _report_threadsafe_dropped(condition, 'was still referenced at exit')


# Tasks and futures that failed and are still referenced at exit: asyncio
# reports an exception nobody retrieved when the object is collected,
# which for one kept in a global or a class attribute comes during the
# interpreter's teardown, when the report is lost (stock prints nothing),
# or never.  With the fork's tracking on when a loop ran, they are
# reported at exit (an atexit callback, registered by watch_thread()),
# through their loop's exception handler with the context asyncio would
# give (the text stock prints at teardown when it prints anything), and
# marked retrieved, so that they are reported once.  Those of a loop
# still running (in a daemon thread) are left alone.
_at_exit_registered = False


def _unretrieved_at_exit():
    try:
        from . import futures
        import gc
        classes = (futures.Future, futures._PyFuture)   # (C, Python)
        # (by type: isinstance() would read a proxy's __class__)
        found = [o for o in gc.get_objects()
                 if issubclass(type(o), classes)]
    except Exception:
        return
    for fut in found:
        try:
            if (not fut.done() or fut.cancelled() or not fut._log_traceback
                    or fut.get_loop().is_running()):
                continue
            exc = fut.exception()      # (marks it retrieved: reported once)
            # (asyncio's own context: the class's name, and debug mode's
            # traceback of where it was created)
            context = {
                'message': f'{type(fut).__name__} exception was never '
                           f'retrieved',
                'exception': exc,
                'future': fut,
            }
            if fut._source_traceback:
                context['source_traceback'] = fut._source_traceback
            fut.get_loop().call_exception_handler(context)
        except Exception:
            pass


# Wake-ups from the wrong thread: call_soon() and call_at() (call_later())
# are not thread-safe; from another thread, the callback waits in the
# loop's queue while the loop may sleep in select() until some other event
# comes.  Future.set_result(), Event.set(), Queue.put_nowait() and the
# like reach call_soon() when someone waits.  With the fork's tracking on
# in the loop's thread, _run_forever_setup() sets loop._origin_watch and
# those calls (outside debug mode, which raises) call check_thread() when
# they find nothing ready, which is when the loop may be asleep: a call
# from another thread, or from a signal handler run during the loop's
# select(), is reported once per loop and line, through asyncio's logger
# (not the loop's exception handler, which expects the loop's thread),
# and goes on as on stock.
_wrong_thread_seen = weakref.WeakKeyDictionary()  # loop -> {'FILE:LINE'}


# The loops that watch_thread() watches (the dump lists those that run
# with no task: a loop run forever in a thread keeps a process alive).
running_loops = weakref.WeakSet()
# Set when asyncio is imported with the fork's tracking on, or once a loop
# ran with it: asyncio.Lock.acquire() then calls note_locked(), and
# Handle.__init__() keeps scheduled_at(), the user's line that scheduled
# its callback (see Python/coro_origin_asyncio.c); with tracking off, one
# global read each.
watching = bool(sys._coroutine_origin_configured()
                and sys.get_coroutine_origin_tracking_depth())
scheduled_at = sys._coroutine_origin_scheduled_at

# Holders of locks and semaphores: {id(lock): [weak reference, [(weak
# reference to the task that acquired it (or None), frame stack of where),
# ...]]}, for the dump.  A Lock has one holder; a Semaphore as many as
# acquired it and did not release it yet (at most MAX_HOLDERS kept).
_lock_owners = {}
_ACQUIRE_CODES = None
MAX_HOLDERS = 64


def note_locked(lock):
    """*lock* (an asyncio.Lock or Semaphore) was just acquired: keep by
    which task and where (asyncio's acquire() and __aenter__() left out),
    if the fork's tracking is on in this thread.  Never raises."""
    global _ACQUIRE_CODES
    try:
        depth = _fork_depth()
        if not depth:
            return
        if _ACQUIRE_CODES is None:
            from . import locks
            _ACQUIRE_CODES = (locks._ContextManagerMixin.__aenter__.__code__,)
        skip = 2                # note_locked(), acquire()
        if sys._getframe(2).f_code in _ACQUIRE_CODES:
            skip += 1
        task = _tasks.current_task()
        holder = (None if task is None else weakref.ref(task),
                  sys._frame_stack_capture(depth, skip, skip_modules=True))
        entry = _kept(_lock_owners, lock)
        if entry is None or not hasattr(lock, '_value'):
            _keep(_lock_owners, lock, [holder])     # a Lock: the last one
        elif len(entry[1]) < MAX_HOLDERS:
            entry[1].append(holder)
    except Exception:
        pass


# Where asyncio's locks, events, conditions, semaphores and queues were
# created: {id(obj): [weak reference, frame stack]}, for the dump.
_created = {}


def note_created(obj):
    """*obj* (an asyncio Lock, Event, Condition, Semaphore or Queue) was
    just made: keep where, if the fork's tracking is on in this thread and
    asyncio watches (the hooks skip the call otherwise, but Queue's).
    Never raises."""
    if not watching:
        return
    try:
        depth = _fork_depth()
        if depth:
            _keep(_created, obj,
                  sys._frame_stack_capture(depth, 2, skip_modules=True))
    except Exception:
        pass


def created_at(obj):
    """The frame stack of where note_created() saw *obj* made, or None."""
    entry = _kept(_created, obj)
    return None if entry is None else entry[1]


def note_released(semaphore):
    """*semaphore* was just released: forget the holder that the current
    task is; when another task releases it, the oldest holder that has
    ended, or else the oldest.  Never raises."""
    try:
        entry = _kept(_lock_owners, semaphore)
        if not entry or not entry[1]:
            return
        holders = entry[1]
        tasks = [None if ref is None else ref() for ref, _ in holders]
        current = _tasks.current_task()
        for i, task in enumerate(tasks):
            if task is current and current is not None:
                break
        else:
            for i, task in enumerate(tasks):
                if task is not None and task.done():
                    break
            else:
                i = 0
        del holders[i]
    except Exception:
        pass


def lock_holders(lock):
    """[(task or None, frame stack), ...] of whoever holds *lock* (a Lock
    or a Semaphore), oldest first, as note_locked() kept them; [] when it
    kept none or *lock* is not locked."""
    entry = _kept(_lock_owners, lock)
    if entry is None or not lock.locked():
        return []
    return [(None if ref is None else ref(), stack)
            for ref, stack in entry[1]]


def _register_at_exit():
    global _at_exit_registered
    import atexit
    atexit.register(_unretrieved_at_exit)
    _at_exit_registered = True


def watch_thread(loop):
    """Should *loop*, about to run in this thread, check the threads of
    its call_soon() and call_at()?  Keeps where it was started."""
    global watching
    try:
        if not _fork_depth():
            return False
        # watch_thread(), _run_forever_setup(), run_forever(); as many
        # frames as debug mode keeps, for the user's line past asyncio's
        loop._origin_started = sys._frame_stack_capture(
            constants.DEBUG_STACK_DEPTH, 3, skip_modules=True)
        running_loops.add(loop)
        watching = True
        if not _at_exit_registered:
            _register_at_exit()
        # Who calls stop(): this loop's stop is a method of its own that
        # notes it first (no line in BaseEventLoop.stop(), whose docstring
        # differs between 3.13 releases: a hook there cannot apply to all).
        _watch_stop(loop)
        _task_step_code()
        return True
    except Exception:
        return False


_SELECT_CODES = None
# frames looked at above call_soon() for a signal handler's: the handler
# (or asyncio's Event.set(), Queue.put_nowait() and the like, which it
# calls, and what they call) runs on top of the interrupted select()
_SIGNAL_FRAMES = 5


def _select_codes():
    global _SELECT_CODES
    if _SELECT_CODES is None:
        import selectors
        _SELECT_CODES = frozenset(
            cls.select.__code__ for cls in vars(selectors).values()
            if isinstance(cls, type)
            and issubclass(cls, selectors.BaseSelector)
            and hasattr(cls.select, '__code__'))
    return _SELECT_CODES


def _in_signal_handler():
    """Is a frame just above the caller's caller a selector's select(),
    that is, does a signal handler run on top of the loop's wait?  Not
    asyncio's own (Runner's Ctrl-C handler wakes the loop itself)."""
    codes = _select_codes()
    own = _reasons() and _SIGINT_CODE
    frame = sys._getframe(3)
    for _ in range(_SIGNAL_FRAMES):
        if frame is None or frame.f_code is own:
            return False
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


def check_thread(loop, method):
    """*loop*.*method*() was called outside debug mode and found nothing
    ready (only then can the loop be asleep in select(), and miss it):
    report it if that was from another thread than the one running
    *loop*, or from a signal handler that interrupted the loop's wait in
    select().  About once per loop iteration otherwise.  Never raises."""
    try:
        owner = loop._thread_id
        if owner is None:
            return
        if owner == threading.get_ident():
            if _in_signal_handler():
                _report_wrong_place(loop, method, True)
            return
        _report_wrong_place(loop, method, False)
    except Exception:
        pass


def _report_wrong_place(loop, method, signal_handler):
    try:
        # _report_wrong_place(), check_thread(), call_soon() or call_at();
        # as many frames as in watch_thread()
        stack = sys._frame_stack_capture(constants.DEBUG_STACK_DEPTH, 3,
                                         skip_modules=True)
        where = _site_text(stack)
        seen = _wrong_thread_seen.setdefault(loop, set())
        if where in seen:
            return
        seen.add(where)
        started = getattr(loop, '_origin_started', None)
        started = (_site_text(started) if started is not None else None)
        owner = loop._thread_id
        owner_name = next((t.name for t in threading.enumerate()
                           if t.ident == owner), str(owner))
        if signal_handler:
            head = (
                f'{method}() of an event loop called from a signal.signal() '
                "handler while the loop waits in select(): the loop does "
                'not wake up for it (use loop.add_signal_handler())')
        else:
            head = (
                f'Non-thread-safe {method}() of an event loop called from '
                f"thread '{threading.current_thread().name}', not from the "
                "loop's own thread: the loop may not wake up for it (use "
                'loop.call_soon_threadsafe(), or '
                'asyncio.run_coroutine_threadsafe())')
        lines = [
            head,
            f'called_at: {where}',
            f"loop_thread: '{owner_name}'"
            + (f', loop started at {started}' if started else '')]
        from .log import logger
        logger.error('\n'.join(lines))
    except Exception:
        pass


def c_state():
    """What the C side of note_cancel() needs, made once per interpreter
    (see Python/coro_origin_asyncio.c for the order): _cancels, the
    step's and Handle._run()'s code objects, the code objects of
    _reasons(), how many callers to look at, asyncio's _get_running_loop()
    and current_task(), the names it looks up, the record's kind, and
    [weak reference to a task, its "by"]: the last task that asked, which
    often cancels many things in a row; _gc_state and _dying (see
    _kept()); Handle, its _site and _callback slots (scheduling sites,
    and the wake-up of a task whose CancelledError is made); asyncio's
    directory, create_task()'s code and the Future classes,
    and an executor's _WorkItem.run()'s code, concurrent.futures'
    directory and the name of the work item's site."""
    _task_step_code()
    _gc_watch()
    import os
    import concurrent.futures.thread as executors
    from . import base_events, futures
    return (_cancels, _STEP_CODE, _HANDLE_RUN_CODE, tuple(_reasons()),
            _REASON_FRAMES, _events._get_running_loop, _tasks.current_task,
            'done', 'get_name', 'get_coro', '_fut_waiter', '__coro_origin__',
            'cancelled', [None, None], _gc_state, _dying,
            _events.Handle, _events.Handle._site, _events.Handle._callback,
            os.path.dirname(_events.__file__) + os.sep,
            base_events.BaseEventLoop.create_task.__code__,
            tuple({futures.Future, futures._PyFuture}),
            executors._WorkItem.run.__code__,
            os.path.dirname(executors.__file__) + os.sep, 'origin_site')


def note_cancel(fut, msg, skip=1):
    """*fut*.cancel(msg) was called: keep who asked (the first request,
    and a count), if the fork's tracking is on and *fut* is pending.
    *skip*: asyncio's frames of the call (note_cancel() itself included).

    Return True if *fut* is done with an exception nobody retrieved and
    the fork's tracking is on: cancel() then returns False at once,
    without clearing the flag that has asyncio report the exception if it
    is never retrieved (stock clears it, losing that report); the report,
    if it comes, says where cancel() was called (note_lost_work()).  Else
    return False: cancel() goes on as stock's.  Never raises."""
    try:
        depth = _fork_depth()
        if not depth:
            return False
        if fut.done():
            # (a KeyboardInterrupt or SystemExit that a task stored went on
            # out of the loop: it was not lost)
            if (fut._log_traceback and not fut.cancelled()
                    and isinstance(fut._exception, Exception)):
                _note_dropped(fut, depth, skip + 1)
                return True
            return False
        caller = sys._getframe(skip)
        step = _task_step_code()
        if caller.f_code is step or (caller.f_code is _HANDLE_RUN_CODE
                                     and _tasks.current_task() is not None):
            # A task's step (Python, or the C one run by Handle._run()):
            # it ends a coroutine that raised CancelledError, or passes a
            # pending cancellation on to the future its coroutine just
            # awaited: no new request, the task's own goes on.
            task = _tasks.current_task()
            entry = _kept(_cancels, task)
            if fut is not task and entry is not None:
                _remember(fut, entry[1], False)
            return
        entry = _kept(_cancels, fut)
        if entry is not None:
            if entry[2]:
                # the cancel() of the task that awaits *fut*: *fut* a task
                # too, it passes that request on to what it awaits
                entry[2] = False
                _pass_to_waiter(fut, entry[1])
            else:
                entry[1][_COUNT] += 1
            return
        stack = sys._frame_stack_capture(depth, skip, skip_modules=True)
        loop = _events._get_running_loop()
        task = _tasks.current_task(loop) if loop is not None else None
        reason, site = _reason(caller)
        info = [site or stack, _by(task, loop), reason, 1]
        _remember(fut, info, False)
        _pass_to_waiter(fut, info)
    except Exception:
        pass


def _pass_to_waiter(task, info):
    """A task's cancel() cancels the future it waits on, whose
    CancelledError is the one the task gets: that future shares the
    request (*info*), and its cancel(), which comes next, counts as none."""
    waiter = getattr(task, '_fut_waiter', None)
    if waiter is not None and not waiter.done():
        _remember(waiter, info, True)


# Futures whose cancel() found them done with an exception nobody had
# retrieved (note_cancel()): {id: [weak reference, where cancel() was
# called]}.  asyncio reports the exception when such a future is collected
# (or at exit) if nobody retrieves it after all; the report says where.
_dropped = {}


def _note_dropped(fut, depth, skip):
    frames = sys._frame_stack_capture(depth, skip, skip_modules=True).frames()
    where = sys._coroutine_origin_render('short_site', frames)
    _keep(_dropped, fut, f'cancel() called at {where} after it failed')


def _remember(fut, info, shared):
    _keep(_cancels, fut, info, shared)


def note_cancelled_error(fut, exc):
    """*exc* is the CancelledError that asyncio made for *fut*: give it
    the request kept by note_cancel(), if any.  Never raises."""
    try:
        entry = _kept(_cancels, fut)
        if entry is None:
            return
        if '__coro_origin__' in vars(exc):
            return
        info = entry[1]
        exc.__coro_origin__ = ('cancelled',
                               (info[_BY], info[_REASON], info[_COUNT]),
                               info[_STACK], None)
    except Exception:
        pass


def cancel_frames(fut):
    """The frames (cr_origin's format) where *fut*'s first cancellation
    was requested, or None."""
    try:
        entry = _kept(_cancels, fut)
        if entry is None:
            return None
        return entry[1][_STACK].frames()
    except Exception:
        return None


_STEP_CODE = _HANDLE_RUN_CODE = None


def _task_step_code():
    global _STEP_CODE, _HANDLE_RUN_CODE, _events, _tasks
    if _STEP_CODE is None:
        from . import events, tasks
        _events, _tasks = events, tasks
        _HANDLE_RUN_CODE = events.Handle._run.__code__
        _STEP_CODE = tasks._PyTask._Task__step_run_and_handle_result.__code__
    return _STEP_CODE
