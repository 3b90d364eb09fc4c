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
  (:func:`context_origin_text` for asyncio's default exception handler).

Names are the same on both sides: ``_source_tb`` / ``fut_source_tb`` (the
debug-mode handle, or the materialised list once read), ``_source_drop`` /
``fut_source_drop`` (innermost frames asyncio asked to leave out, while it
is a handle) and ``_origin_tb`` / ``fut_origin_tb`` (where a plain future
was created, kept with origin tracking on outside debug mode, for its
never-retrieved report).
"""

import collections.abc
import functools
import sys
import types
import weakref

from . import constants

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
    return sys._frame_stack_capture(depth, skip + 1, origin=True)


def is_tracked(coro):
    """Is *coro* a coroutine whose origin was recorded?  A task that fails
    during its eager start keeps such a coroutine (stock drops it), so
    that its report can say where it was created."""
    return getattr(coro, 'cr_origin', None) is not None


def _get_source_traceback(obj):
    tb = obj._source_tb
    if type(tb) is FrameStack:
        tb = obj._source_tb = tb.summary(obj._source_drop)
    return tb


def _set_source_traceback(obj, value):
    obj._source_tb = value


source_traceback = property(
    _get_source_traceback, _set_source_traceback,
    doc="Where the object was created (debug mode), made when read.")


def drop_source_frame(obj):
    """What stock spells ``del obj._source_traceback[-1]``, kept lazy."""
    tb = obj._source_tb
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


def context_origin_text(context):
    """The creation site that asyncio's default exception handler adds to
    its report, or None (see _coro_origin_report.context_origin_text()).
    Never raises, and works while the interpreter shuts down: whatever
    happens here, the report still says what stock says."""
    return sys._coroutine_origin_render('context_origin_text', context)


def repr_site(task):
    """'created at FILE:LINE' for a pending task's repr, or None."""
    return sys._coroutine_origin_render('repr_site', task)


# Strict mode: the reports of call_exception_handler() that mean lost
# work, by their message (the same in the C and Python implementations).
_PENDING_MESSAGE = 'Task was destroyed but it is pending!'
_NOT_RETRIEVED = ' exception was never retrieved'


def note_unfinalized(agen):
    """In strict mode (else do nothing), *agen* is an async generator
    whose event loop was closed before its aclose() could be scheduled:
    it is recorded if it is freed still suspended in its body (see
    Python/coro_origin_asyncio.c).  Never raises."""
    try:
        sys._coroutine_origin_note_problem(
            'async generator never finalized', agen)
    except Exception:
        pass


def note_lost_work(context):
    """Record *context* with sys._coroutine_origin_note_problem() if it is
    a report of lost work (a task destroyed while pending, a task or future
    exception never retrieved).  Does nothing unless strict mode is on;
    never raises."""
    try:
        message = context.get('message')
        if message == _PENDING_MESSAGE:
            kind = 'task destroyed while pending'
        elif (isinstance(message, str) and message.endswith(_NOT_RETRIEVED)
                and 'exception' in context):
            future = context.get('future')
            if callable(getattr(future, 'get_coro', None)):
                kind = 'task exception never retrieved'
            else:
                kind = 'future exception never retrieved'
        else:
            return
        sys._coroutine_origin_note_problem(kind, context)
    except Exception:
        pass
