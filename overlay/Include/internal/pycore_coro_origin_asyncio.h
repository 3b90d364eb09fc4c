/* origin-python: asyncio's side of coroutine origins.
 *
 * This header is part of origin-python, not of upstream CPython.
 * Include it through pycore_coro_origin.h.
 *
 * asyncio records where each Future, Task and Handle was created (debug
 * mode's _source_traceback; with origin tracking on, where a plain Future
 * was created for its never-retrieved report).  Stock CPython builds a
 * list of FrameSummary objects at once; the fork keeps an interned frame
 * stack (pycore_coro_origin.h) as an opaque handle and builds the list
 * only when someone reads it.  The C Future and Task
 * (Modules/_asynciomodule.c) call the functions below; the Python ones
 * (Lib/asyncio/_origin.py) reach the same capture through
 * sys._frame_stack_capture() and the same materialisation through the
 * handle's summary() method.
 */
#ifndef Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H
#define Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H
#ifdef __cplusplus
extern "C" {
#endif

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

/* Capture up to "depth" frames (depth < 0: all frames) of the calling
   thread, innermost first, starting "frames_above" complete frames above
   the innermost complete Python frame; with "skip_modules", the frames of
   the thread's skip= modules are left out, as from a coroutine's origin.
   Return a new handle (a frame stack), None if there is nothing to
   capture (depth == 0 or no frame), or NULL with an exception set.
   sys._frame_stack_capture(). */
extern PyObject *_PyCoroOrigin_CaptureHandle(PyThreadState *tstate,
                                             int frames_above, int depth,
                                             int skip_modules);

/* Is "obj" a handle (a frame stack)? */
extern int _PyCoroOrigin_HandleCheck(PyObject *obj);

/* The one materialisation: the traceback.StackSummary of a handle, oldest
   frame first, without its "drop" innermost frames, as
   traceback.extract_stack() would have returned it at the capture.  New
   reference, or NULL with an exception set.  handle.summary(drop). */
extern PyObject *_PyCoroOrigin_StackSummary(PyObject *handle,
                                            int drop);

/* The C Future's and Task's fields: fut_source_tb (a handle until read,
   then the list), fut_source_drop (innermost frames to leave out while it
   is a handle) and fut_origin_stack (where a plain future was created).

   future_init() in debug mode: capture the whole stack into *source_tb. */
PyAPI_FUNC(int) _PyCoroOrigin_FutureCapture(PyObject **source_tb,
                                            int *source_drop);
/* Future.__init__() outside debug mode: with origin tracking on, capture
   the tracking depth into *origin_stack. */
PyAPI_FUNC(int) _PyCoroOrigin_FutureCaptureOrigin(PyObject **origin_stack);
/* Make *source_tb the list if it is a handle (debug mode's
   _source_traceback, when read or reported).  0, or -1 with an exception
   set.  The future's origin is reported by the default exception handler
   (Lib/asyncio/_origin.py), which reads it from the _origin_stack getter. */
PyAPI_FUNC(int) _PyCoroOrigin_FutureMaterialize(PyObject **source_tb,
                                                int *source_drop);
/* _source_traceback_drop(): stock's "del fut._source_traceback[-1]",
   lazily.  Returns None, or NULL with an exception set. */
PyAPI_FUNC(PyObject *) _PyCoroOrigin_FutureDrop(PyObject *source_tb,
                                                int *source_drop);

/* Scheduling sites (Python/coro_origin_asyncio.c): Handle.__init__() keeps
   ScheduledAt(), the user's line that scheduled "callback" as a new frame
   stack, or None (or NULL with an exception set that a signal handler
   raised meanwhile); sys._coroutine_origin_scheduled_at().
   WorkSite(): the same for work handed to an executor
   (sys._coroutine_origin_work_site(), _WorkItem.__init__()).
   RunsScheduled(): does "frame" run Handle._run() or _WorkItem.run()?
   ScheduledSite() is then the site of that handle or work item
   (borrowed), else NULL.  Neither runs code of the program nor fails. */
struct _PyInterpreterFrame;
extern PyObject *_PyCoroOrigin_ScheduledAt(PyThreadState *tstate,
                                           PyObject *callback);
extern PyObject *_PyCoroOrigin_WorkSite(PyThreadState *tstate);
extern int _PyCoroOrigin_RunsScheduled(PyInterpreterState *interp,
                                       struct _PyInterpreterFrame *frame);
extern PyObject *_PyCoroOrigin_ScheduledSite(
    PyInterpreterState *interp, struct _PyInterpreterFrame *frame);
/* How many callbacks ScheduledAt() saw so far, and of them steps and
   wake-ups of tasks with the fork's tracking on (the hang watchdog's
   progress): sys._coroutine_origin_progress(). */
extern void _PyCoroOrigin_Progress(PyInterpreterState *interp,
                                   Py_ssize_t *callbacks,
                                   Py_ssize_t *task_steps);

/* Cancellation provenance (Lib/asyncio/_origin.py): Future.cancel() and
   Task.cancel() call NoteCancel() first: 0 (go on), 1 (the fork's
   tracking is on and the future is done with an exception nobody
   retrieved: return False at once, keeping the flag that has asyncio
   report it if nobody ever does), or -1 with an exception set that a
   signal handler raised meanwhile;
   create_cancelled_error() passes the CancelledError it made (may be
   NULL) through NoteCancelledError(), which returns it, or NULL with an
   exception set (it is then released). */
PyAPI_FUNC(int) _PyCoroOrigin_NoteCancel(PyObject *fut, PyObject *msg);
PyAPI_FUNC(PyObject *) _PyCoroOrigin_NoteCancelledError(PyObject *fut,
                                                        PyObject *exc);

/* Where "coro" (may be NULL) was created: a new reference to the frame
   stack of its origin (or the tuple given to its cr_origin), or NULL,
   without an exception, if it is not a tracked coroutine. */
extern PyObject *_PyCoroOrigin_CoroSite(PyObject *coro);

/* The record of an exception that asyncio raised and asyncio._origin can
   explain from what it kept (where the loop was stopped, for
   run_until_complete()'s "Event loop stopped before Future completed."),
   as _PyCoroOrigin_ExceptionOrigin() returns it; or NULL, without an
   exception. */
extern PyObject *_PyCoroOrigin_AsyncioExceptionOrigin(PyObject *exc);

/* Is "coro" (may be NULL) a coroutine whose origin was recorded?  A task
   that fails during its eager start keeps such a coroutine (stock drops
   it) so that its report can say where it was created. */
PyAPI_FUNC(int) _PyCoroOrigin_IsTracked(PyObject *coro);

/* Write the live coroutine dump to "file" (None: sys.stderr) in "format"
   ("text" or "json") by calling _coro_origin_report.dump(); return its
   result or NULL with an exception set.  sys._dump_coroutines(). */
extern PyObject *_PyCoroOrigin_Dump(PyObject *file, const char *format);

/* The main interpreter's start-up services: with "dump=SIGNAL", register
   the dump as a Python-level handler of that signal; with "hang=SECONDS",
   start the hang watchdog (Lib/_coro_origin_hang.py).  Called once site
   has been imported; a failure is reported on stderr and start-up goes
   on. */
extern void _PyCoroOrigin_StartServices(PyThreadState *tstate);

/* The hang watchdog checks in with its sentinel, a C thread that writes
   the threads' Python stacks (faulthandler's way, without the GIL) to
   "fd" if no check-in comes for "allowance" seconds, and with "exit" ends
   the process with status 70; started by the first check-in, stopped
   (and joined) by an allowance <= 0.  0, or -1 with an exception set.
   sys._coroutine_origin_hang_sentinel(). */
extern int _PyCoroOrigin_HangSentinel(double allowance, int fd, int exit);

/* sys._coroutine_origin_current_frames(): {thread id: frame} of the
   threads of tstate's interpreter only, as sys._current_frames() gives
   them for every interpreter (which crashes with subinterpreters). */
extern PyObject *_PyCoroOrigin_CurrentFrames(PyThreadState *tstate);

/* {thread id: (code objects of its stack, innermost first, at most
   "limit"; a weak reference to the first local of the innermost frame
   that runs "run_code" (Handle._run(): its handle), or None)} for the
   threads of the interpreter; no frame object is made.
   sys._coroutine_origin_thread_stacks(), for the hang watchdog. */
extern PyObject *_PyCoroOrigin_ThreadStacks(PyThreadState *tstate,
                                            int limit, PyObject *run_code);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H */
