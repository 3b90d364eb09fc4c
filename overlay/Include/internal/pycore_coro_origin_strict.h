/* origin-python: strict mode.
 *
 * This header is part of origin-python, not of upstream CPython.
 * Include it through pycore_coro_origin.h.
 *
 * With "strict" in the start-up spec, lost asyncio work (a coroutine never
 * awaited, an async generator whose aclose() was lost, a task destroyed
 * while pending, an exception never retrieved) is recorded with its
 * creation site, summarised at exit, and fails the exit status.  See
 * Python/coro_origin_strict.c.
 */
#ifndef Py_INTERNAL_CORO_ORIGIN_STRICT_H
#define Py_INTERNAL_CORO_ORIGIN_STRICT_H
#ifdef __cplusplus
extern "C" {
#endif

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

/* The exit status of a run that would have exited 0 but lost work. */
#define _Py_CORO_ORIGIN_STRICT_EXIT 70

/* Is strict mode on (the main interpreter's start-up spec)? */
extern int _PyCoroOrigin_StrictEnabled(void);

/* Record one problem of kind "kind" ("coroutine never awaited", ...)
   about "obj" if strict mode is on.  Never raises; keeps the exception
   being handled.  For C hooks (_warnings.c, genobject.c).  An async
   generator (its finalizer hook raised) is not recorded at once: it is
   rendered now and recorded when it is freed, if still suspended in its
   body (see "An async generator whose aclose() may be lost"). */
extern void _PyCoroOrigin_StrictNote(const char *kind, PyObject *obj);
/* _PyGen_Finalize(): the finalizer hook of the async generator "agen"
   raised, so its aclose() may be lost (strict mode judges when the
   generator is freed). */
#define _PyCoroOrigin_AsyncGenNotFinalized(agen) \
    _PyCoroOrigin_StrictNote("async generator never finalized", (agen))

/* sys._coroutine_origin_note_problem(): the same (an async generator:
   asyncio's hook found its loop closed), returns None. */
extern PyObject *_PyCoroOrigin_StrictNoteFromPython(const char *kind,
                                                    PyObject *obj);

/* sys._coroutine_origin_problems(): None if strict mode is off, else the
   list of (kind, text, count) recorded so far by this process, which are
   then forgotten (they no longer count at exit). */
extern PyObject *_PyCoroOrigin_StrictTake(void);

/* Called by Py_RunMain() after Py_FinalizeEx(), and by Py_Exit() after
   _Py_Finalize() (SystemExit ends the process there when a script or -c
   raises it before 3.13.15, gh-152132): write the summary of the
   problems this process recorded to file descriptor 2, and return the
   exit status: "exitcode", or _Py_CORO_ORIGIN_STRICT_EXIT instead of 0
   if there were any. */
extern int _PyCoroOrigin_StrictExit(int exitcode);

/* The id of this process (a problem, the hang sentinel: a child made by
   fork() does not act for its parent). */
extern long _PyCoroOrigin_CurrentPid(void);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_STRICT_H */
