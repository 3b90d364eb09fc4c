/* origin-python: Python-visible handles to lazy frame stacks.
 *
 * This header is part of origin-python, not of upstream CPython.
 *
 * asyncio's debug mode records where each Future, Task and Handle was
 * created (_source_traceback).  Stock CPython builds a list of
 * FrameSummary objects at once; the fork keeps an interned frame stack
 * (see pycore_coro_origin.h) in an opaque handle and builds the list
 * only when someone reads it.
 *
 * A handle is a PyCapsule named _PyCoroOrigin_HANDLE_NAME that owns a
 * reference to the frame stack.  Python code gets one from
 * sys._frame_stack_capture() and reads it with sys._frame_stack_frames().
 */
#ifndef Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H
#define Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H
#ifdef __cplusplus
extern "C" {
#endif

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

#define _PyCoroOrigin_HANDLE_NAME "coro_origin.frame_stack"

/* Capture up to "depth" frames (depth < 0: all frames) of the calling
   thread, innermost first, starting "skip" complete frames above the
   innermost complete Python frame.  The thread's "skip=" setting does
   not apply (all frames are kept, as in stock's tracebacks).  Return a
   new handle, None if there
   is nothing to capture (depth == 0 or no frame), or NULL with an
   exception set. */
PyAPI_FUNC(PyObject *) _PyCoroOrigin_CaptureHandle(PyThreadState *tstate,
                                                   int skip, int depth);

/* Is "obj" a handle made by _PyCoroOrigin_CaptureHandle()? */
PyAPI_FUNC(int) _PyCoroOrigin_HandleCheck(PyObject *obj);

/* The frames of a handle as stock's cr_origin tuple: a tuple of
   (filename, lineno, funcname), innermost first; cached in the frame
   stack.  New reference, or NULL with an exception set (TypeError if
   "handle" is not a handle). */
PyAPI_FUNC(PyObject *) _PyCoroOrigin_HandleFrames(PyObject *handle);

/* Write the live coroutine dump to "file" (None: sys.stderr) by calling
   _coro_origin_report.dump(); return its result or NULL with an
   exception set.  sys._dump_coroutines(). */
extern PyObject *_PyCoroOrigin_Dump(PyObject *file);

/* If the main interpreter's start-up spec has "dump=SIGNAL", register the
   dump as a Python-level handler of that signal.  Called once site has
   been imported; a failure is reported on stderr and start-up goes on. */
extern void _PyCoroOrigin_InstallDumpSignal(PyThreadState *tstate);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_ASYNCIO_H */
