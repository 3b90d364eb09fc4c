/* origin-python: coroutine origin tracking settings.
 *
 * This header is part of origin-python, not of upstream CPython.
 *
 * The settings say what a coroutine remembers of where it was created.
 * They come, lowest layer first, from the build (./configure
 * --with-coro-origin=SPEC), the environment (PYTHONCOROORIGIN=SPEC), the
 * command line (-X coro_origin=SPEC) and the sys API.  A higher start-up
 * layer replaces a lower one as a whole.  The result of the start-up
 * layers is the interpreter default; every thread state starts from the
 * interpreter default of its interpreter, and the sys API changes either
 * the calling thread's settings or the default (for threads made later).
 *
 * They are of three kinds, each kept where it is used:
 *  - what a thread records (_PyCoroOriginThread: chain, asyncgen,
 *    tracebacks, skip) and how the reports it makes show it (full): in
 *    _PyThreadStateImpl.coro_origin, and the depth in the public
 *    PyThreadState.coroutine_origin_tracking_depth, so that coroutine
 *    creation with tracking off costs what stock costs; the sys API
 *    changes them, for the calling thread or for threads made later;
 *  - what the interpreter does for the whole process, decided once at
 *    start-up (_PyCoroOriginStartup: dump=, strict, hang=), which nothing
 *    changes afterwards;
 *  - the interpreter's default for new threads, and the start-up spec as
 *    a whole: PyInterpreterState.coro_origin_config.
 *
 * Nothing here holds a Python object: the settings of a thread state are
 * copied from the interpreter default when the thread state is created,
 * and PyThreadState_New() may be called without an attached thread state
 * (PyGILState_Ensure() does so).  The module names to skip are therefore
 * kept in an immutable, atomically reference-counted C block.
 */
#ifndef Py_INTERNAL_CORO_ORIGIN_CONFIG_H
#define Py_INTERNAL_CORO_ORIGIN_CONFIG_H
#ifdef __cplusplus
extern "C" {
#endif

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

#include <stddef.h>               // size_t, wchar_t

/* An immutable list of module names ("skip=a:b"), shared between settings
   by reference counting (Python/coro_origin_config.c makes and releases
   them; read the names anywhere). */
typedef struct {
    const char *str;            /* NUL-terminated, ASCII */
    Py_ssize_t len;
} _PyCoroOriginSkipName;

typedef struct _PyCoroOriginSkip {
    Py_ssize_t refcnt;          /* atomic */
    Py_ssize_t count;           /* >= 1 */
    _PyCoroOriginSkipName names[];  /* "count" entries; their text follows */
} _PyCoroOriginSkip;

/* A thread's settings besides its depth. */
typedef struct {
    /* What a new coroutine of the thread records. */
    int chain;          /* ancestors' creation sites kept; 0 = none */
    int asyncgen;       /* 1: async generators are tracked too */
    int tracebacks;     /* 1: an exception escaping a task's coroutine
                           keeps where that coroutine was created */
    _PyCoroOriginSkip *skip;  /* NULL (skip nothing) or a strong reference */
    /* How the reports the thread makes show it. */
    int full;           /* 1: reports fold no frames of the stdlib */
} _PyCoroOriginThread;

/* What the interpreter does for the whole process: read at start-up,
   never changed afterwards. */
typedef struct {
    int dump_signal;    /* signal that dumps live coroutines; 0 = none */
    int strict;         /* 1: record lost asyncio work, report it at exit
                           and fail the exit status */
    int hang_ms;        /* hang=SECONDS: the hang watchdog's timeout in
                           milliseconds; 0 = none */
} _PyCoroOriginStartup;

/* What a spec gives: the depth, a thread's settings, the start-up part. */
typedef struct {
    int depth;          /* frames kept per coroutine; 0 = off */
    _PyCoroOriginThread thread;
    _PyCoroOriginStartup startup;
} _PyCoroOriginSpec;

/* PyInterpreterState member.  All zero (stock behaviour) is valid. */
struct _PyCoroOrigin_config_state {
    /* Protects the default: it is read when a thread state is created,
       possibly without an attached thread state. */
    PyMutex mutex;
    /* What thread states created from now on start with. */
    int default_depth;
    _PyCoroOriginThread default_thread;
    /* What the start-up layers gave (main interpreter); subinterpreters
       copy the main interpreter's.  Never changes after start-up. */
    _PyCoroOriginSpec spec;
};


/* ---- The settings of a thread ------------------------------------------ */

/* The settings of "tstate" other than its depth (which is
   tstate->coroutine_origin_tracking_depth), as a _PyCoroOriginThread
   pointer into its _PyThreadStateImpl.  Only the thread that owns
   "tstate" changes them.  A macro because pycore_tstate.h includes this
   header for the type. */
#define _PyCoroOrigin_ThreadSettings(tstate) \
    (&((_PyThreadStateImpl *)(tstate))->coro_origin)

/* The start-up part of the settings of "interp" (never changes after
   start-up, so read without a lock). */
#define _PyCoroOrigin_Startup(interp) \
    (&(interp)->coro_origin_config.spec.startup)

/* Return 1 if the module named "modname" (a str; anything else never
   matches) is one of the names in "skip" or inside one of those packages
   ("a" matches "a" and "a.b", not "ab"), else 0.  "skip" may be NULL.
   Never fails, never allocates. */
extern int _PyCoroOrigin_SkipMatch(const _PyCoroOriginSkip *skip,
                                   PyObject *modname);


/* ---- The spec language -------------------------------------------------- */

/* Parse a spec (DESIGN.md section 4): comma-separated items "N",
   "depth=N", "chain=M", "asyncgen", "tracebacks" (or its older name
   "notes"), "full", "skip=a:b", "dump=SIGNAL", "strict", "hang=SECONDS".
   Items that are not given are 0 in the result; a spec that names no
   depth gets 10.

   Return 0 and fill "*spec" (which must not hold a skip reference), or
   return -1 and write a message naming the bad item to "errbuf" (at most
   "errsize" bytes, NUL-terminated).  "*spec" is left unchanged
   on error.  Needs no thread state and no Python object: only the raw
   memory allocator is used (out of memory is reported as an error).
   The functions below are its parts for a skip list and a signal, and
   write the reason alone to "errbuf". */
extern int _PyCoroOrigin_ParseSpec(const wchar_t *text,
                                   _PyCoroOriginSpec *spec,
                                   char *errbuf, size_t errsize);

/* The value of "skip=": s[0:len] is "a:b.c", non-empty dotted names of
   ASCII identifiers.  Return 0 and set "*skip" (a new reference), -1 with
   the reason in "errbuf", or -2 if out of memory. */
extern int _PyCoroOrigin_ParseSkip(const wchar_t *s, Py_ssize_t len,
                                   _PyCoroOriginSkip **skip,
                                   char *errbuf, size_t errsize);

/* The value of "dump=": s[0:len] is a signal name ("SIGUSR1",
   "SIGRTMIN+2", "SIGRTMAX-1") or a decimal number.  Only signals meant
   for users are accepted: not SIGKILL or SIGSTOP (they cannot be caught)
   nor the signals that report a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
   SIGABRT).  Return 0 and set "*signum", or -1 with the reason in
   "errbuf".  Its one table of signal names serves every check of a dump
   signal (sys._coroutine_origin_dump_signal() too). */
extern int _PyCoroOrigin_ParseSignal(const wchar_t *s, Py_ssize_t len,
                                     int *signum,
                                     char *errbuf, size_t errsize);


/* ---- Hooks in the interpreter life cycle -------------------------------- */

/* init_interp_settings() (Python/pylifecycle.c), which returns what this
   returns: set the interpreter default, before the first thread state
   copies it.  For the main interpreter read the start-up layers (build
   default, PYTHONCOROORIGIN unless -E/-I, -X coro_origin) from the
   interpreter's PyConfig; a malformed spec is an error status naming the
   layer and the item.  A subinterpreter copies the main interpreter's
   start-up settings. */
extern PyStatus _PyCoroOrigin_InitInterpreter(PyInterpreterState *interp);
/* interpreter_clear() (Python/pystate.c). */
extern void _PyCoroOrigin_FiniInterpreter(PyInterpreterState *interp);

/* init_threadstate() (Python/pystate.c): copy the interpreter default
   into a new thread state.  May be called without an attached thread
   state. */
extern void _PyCoroOrigin_InitThread(PyThreadState *tstate);
/* PyThreadState_Clear() (Python/pystate.c). */
extern void _PyCoroOrigin_ClearThread(PyThreadState *tstate);


/* ---- For the sys API (Python/coro_origin_sys.c) ------------------------- */

/* Copy into "*spec" (which must hold no skip reference) the depth and
   the settings of the calling thread "tstate" (for_default == 0) or the
   interpreter default (for_default == 1), with a new reference to the
   skip list, and the interpreter's start-up part. */
extern void _PyCoroOrigin_GetSettings(PyThreadState *tstate, int for_default,
                                      _PyCoroOriginSpec *spec);
/* Is the fork's tracking configured for "tstate" (the calling thread):
   an item of its settings beyond the depth, or a default depth (a
   start-up spec, sys.set_coroutine_origin_tracking_default()), not only
   stock's sys.set_coroutine_origin_tracking_depth()?  1 or 0; the depth
   itself is not looked at.  The fork's additions to reports and to
   asyncio (folding, cancellation provenance) follow it: with stock's
   depth alone (asyncio's debug mode), output is stock's. */
extern int _PyCoroOrigin_Configured(PyThreadState *tstate);
/* Release spec->thread.skip and reset "*spec" to all zero. */
extern void _PyCoroOrigin_ClearSpec(_PyCoroOriginSpec *spec);
/* Change the settings of the calling thread "tstate" or the interpreter
   default: "depth" and the int fields of "change" that are >= 0, and, if
   "set_skip", the skip list, which takes over the reference change->skip
   (NULL: skip nothing).  Never fails. */
extern void _PyCoroOrigin_ChangeSettings(PyThreadState *tstate,
                                         int for_default, int depth,
                                         const _PyCoroOriginThread *change,
                                         int set_skip);
/* Do the reports "tstate" makes fold the frames of the standard library's
   async machinery: is the fork's tracking configured for it, and is its
   "full" setting off?  1 or 0. */
extern int _PyCoroOrigin_Folding(PyThreadState *tstate);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_CONFIG_H */
