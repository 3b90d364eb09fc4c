/* origin-python: lazy coroutine origins.
 *
 * This header is part of origin-python, not of upstream CPython.
 *
 * When coroutine origin tracking is on, a new coroutine remembers where it
 * was created as a *frame stack*: n (code object, instruction offset)
 * pairs, immutable and interned per interpreter, so that every coroutine
 * created from the same stack shares one object.  Line numbers, file names
 * and stock's cr_origin tuple are made only when someone reads cr_origin.
 *
 * The coroutine's cr_origin_or_finalizer slot holds an *origin object*:
 * a bare frame stack, or an *origin record* (frame stack plus chain,
 * live-registry links, and for async generators the finalizer) when there
 * is more to keep.  Callers outside Python/coro_origin.c must treat it as
 * opaque and go through the functions below.
 */
#ifndef Py_INTERNAL_CORO_ORIGIN_H
#define Py_INTERNAL_CORO_ORIGIN_H
#ifdef __cplusplus
extern "C" {
#endif

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

/* The one header upstream files include for origin-python's hooks; the
   design and the list of hooks are in DESIGN.md of the origin-python
   repository. */
#include "pycore_coro_origin_config.h"   // settings, life-cycle hooks
#include "pycore_coro_origin_asyncio.h"  // asyncio's hooks, the dump
#include "pycore_coro_origin_strict.h"   // strict mode

struct _PyInterpreterFrame;
struct _PyCoroOrigin_FrameStack;
struct _PyCoroOrigin_Record;

/* Our Python modules that C calls (_PyCoroOrigin_Call()), each kept by
   the interpreter once imported. */
typedef enum {
    _PyCoroOrigin_REPORT,       /* Lib/_coro_origin_report.py: the renderer */
    _PyCoroOrigin_STRICT,       /* Lib/_coro_origin_strict.py */
    _PyCoroOrigin_REQUEST,      /* Lib/_coro_origin_request.py: dumps */
    _PyCoroOrigin_HANG,         /* Lib/_coro_origin_hang.py: the watchdog */
    _PyCoroOrigin_NMODULES
} _PyCoroOrigin_Module;

/* Number of dead frame stacks kept for reuse (GIL build). */
#define _Py_CORO_ORIGIN_PARKED 32

/* Per-interpreter intern table of frame stacks (PyInterpreterState
   member).  All zero is a valid, empty table.  The table does not own its
   entries: a frame stack unlinks itself when it is deallocated.  Chains
   are intrusive (each frame stack has a "next" pointer).  With the GIL,
   the GIL protects it; the free-threaded build locks "mutex". */
struct _Py_coro_origin_state {
    PyMutex mutex;              /* free-threaded build: protects the rest */
    size_t used;                /* frame stacks in the table */
    size_t mask;                /* number of buckets - 1; 0 if no buckets */
    struct _PyCoroOrigin_FrameStack **buckets;
    /* GIL build: frame stacks whose last coroutine died, still in the
       table but holding no references, reused if the same stack comes
       again (see "Parked frame stacks" in Python/coro_origin.c). */
    struct _PyCoroOrigin_FrameStack *parked[_Py_CORO_ORIGIN_PARKED];
    unsigned int park_cursor;
    /* The live registry: records of coroutines created while a dump
       signal was configured, newest first (see Python/coro_origin.c).
       The free-threaded build locks "live_mutex". */
    PyMutex live_mutex;
    struct _PyCoroOrigin_Record *live;
    /* Our modules once imported, kept so that reports made while the
       interpreter shuts down (when imports fail) still have them
       (_PyCoroOrigin_Call()); the origins of escaping exceptions
       whose type refuses new attributes: {id: (weakref, origin)} (see
       "Escaping exceptions" in Python/coro_origin.c).  Both set with
       "mutex" held; released by _PyCoroOrigin_FiniInterpreter(). */
    PyObject *modules[_PyCoroOrigin_NMODULES];
    PyObject *exc_origins;
    PyObject *stack_summary;    /* traceback.StackSummary, kept likewise */
    /* asyncio._origin.c_state() once made: what cancellation provenance
       needs on each cancel() (Python/coro_origin_asyncio.c). */
    PyObject *cancel_state;
    /* Callbacks scheduled while asyncio._origin watches, and of them the
       steps and wake-ups of tasks with the fork's tracking on
       (_PyCoroOrigin_ScheduledAt()): the hang watchdog's progress. */
    Py_ssize_t callbacks;
    Py_ssize_t task_steps;
    /* Set once an origin was recorded (a coroutine's, an async
       generator's or a future's; not debug mode's tracebacks): reports
       may then have sites to render. */
    int tracked;
};

/* Capture a bare frame stack: up to "depth" frames, starting at "frame"
   (the first complete frame to record, may be NULL) and walking with
   _PyFrame_GetFirstComplete(frame->previous), exactly as stock's
   compute_cr_origin().  "depth" must be > 0.  With "use_skip", the
   thread's skip= setting applies (a future's origin); otherwise every
   frame is kept (asyncio's debug-mode tracebacks, as stock's).  No chain,
   no registry.  Return a new reference to an interned frame stack (an
   origin object _PyCoroOrigin_AsTuple() accepts, and the handle asyncio
   keeps), or NULL with an exception set. */
extern PyObject *_PyCoroOrigin_Capture(PyThreadState *tstate,
                                       struct _PyInterpreterFrame *frame,
                                       int depth, int use_skip);

/* ---- Hooks in Objects/genobject.c ---------------------------------------

   The origin of the coroutine or async generator "gen" being created:
   as _PyCoroOrigin_Capture() with the thread's skip setting, plus the
   chain setting, the live registry when the thread's settings name a
   dump signal, and always a record for an async generator (whose slot
   must also hold the finalizer). */
extern PyObject * _PyCoroOrigin_CaptureFor(PyThreadState *tstate,
                                           struct _PyInterpreterFrame *frame,
                                           int depth, PyObject *gen);

/* _Py_MakeCoro(), on a new async generator: with the asyncgen setting,
   fill its slot with its origin record.  0, or -1 with an exception set
   (the slot stays NULL).  A macro, so that with tracking off it costs one
   test; _PyCoroOrigin_CaptureAsyncGen() reads the setting. */
#define _PyCoroOrigin_AsyncGenMade(agen) \
    (_PyThreadState_GET()->coroutine_origin_tracking_depth > 0 \
     ? _PyCoroOrigin_CaptureAsyncGen(_PyThreadState_GET(), (agen)) : 0)
extern int _PyCoroOrigin_CaptureAsyncGen(PyThreadState *tstate,
                                         PyAsyncGenObject *agen);

/* An async generator's slot holds its finalizer (stock) or, tracked, an
   origin record holding it; in strict mode either may be inside a watch.
   The finalizer (borrowed, may be NULL), and setting it (a new reference
   is taken).  A macro, so that an empty slot (a generator never iterated,
   or without hooks) costs what stock's field read costs: "agen" is
   evaluated twice. */
#define _PyCoroOrigin_AsyncGenFinalizer(agen) \
    ((agen)->ag_origin_or_finalizer == NULL ? NULL \
     : _PyCoroOrigin_AsyncGenSlotFinalizer(agen))
extern PyObject *_PyCoroOrigin_AsyncGenSlotFinalizer(PyAsyncGenObject *agen);
extern void _PyCoroOrigin_SetAsyncGenFinalizer(PyAsyncGenObject *agen,
                                               PyObject *finalizer);
/* Is "op" (may be NULL) an origin record? */
extern int _PyCoroOrigin_IsRecord(PyObject *op);
/* In strict mode, once an async generator's aclose() may have been lost,
   its slot holds a watch (Python/coro_origin_strict.c) around what it
   held before.  If "slot" (may be NULL) is a watch, the address of what
   it holds; else NULL. */
extern PyObject **_PyCoroOrigin_WatchedSlot(PyObject *slot);

/* Getters: cr_origin (stock's tuple, made on first read), cr_origin_chain
   (a tuple of (qualname, origin or None), nearest ancestor first, or
   None), ag_origin and ag_origin_chain (None when untracked). */
extern PyObject *_PyCoroOrigin_CoroGetOrigin(PyObject *, void *);
extern int _PyCoroOrigin_CoroSetOrigin(PyObject *, PyObject *, void *);
extern PyObject *_PyCoroOrigin_CoroGetChain(PyObject *, void *);
extern PyObject *_PyCoroOrigin_AsyncGenGetOrigin(PyObject *, void *);
extern PyObject *_PyCoroOrigin_AsyncGenGetChain(PyObject *, void *);
#define _PyCoroOrigin_CORO_GETSETS \
    {"cr_origin", _PyCoroOrigin_CoroGetOrigin, \
     _PyCoroOrigin_CoroSetOrigin, NULL}, \
    {"cr_origin_chain", _PyCoroOrigin_CoroGetChain, NULL, NULL},
#define _PyCoroOrigin_AGEN_GETSETS \
    {"ag_origin", _PyCoroOrigin_AsyncGenGetOrigin, NULL, NULL}, \
    {"ag_origin_chain", _PyCoroOrigin_AsyncGenGetChain, NULL, NULL},

/* The error path of gen_send_ex2(): the coroutine "coro" finished with
   the exception currently set.  With the notes setting, if "coro" is
   tracked and was not awaited by another coroutine, and the exception is
   an Exception other than StopIteration and StopAsyncIteration, record
   where "coro" was created in the exception's __dict__ as
   __coro_origin__, unless an earlier coroutine did (Lib/traceback.py
   prints it).  Never fails: the exception stays set. */
extern void _PyCoroOrigin_NoteException(PyThreadState *tstate,
                                        PyObject *coro);
/* gen_send_ex2(), when the generator "gen" raised: the above, for a
   tracked coroutine (a macro: stock's path costs one test; "gen" is
   evaluated more than once). */
#define _PyCoroOrigin_CoroRaised(tstate, gen) \
    do { \
        if (PyCoro_CheckExact(gen) \
            && ((PyCoroObject *)(gen))->cr_origin_or_finalizer != NULL) \
        { \
            _PyCoroOrigin_NoteException((tstate), (PyObject *)(gen)); \
        } \
    } while (0)

/* ---- Other hooks ---------------------------------------------------------*/

/* Python/_warnings.c: the renderer's text saying where the async
   generator "agen" was created (new reference), or NULL if it is not
   tracked or the text cannot be made.  Never sets an exception; keeps the
   current one. */
extern PyObject *_PyCoroOrigin_AsyncGenWhere(PyObject *agen);

/* Python/sysmodule.c, _PySys_Create(): add the fork's sys functions and
   sys.implementation._origin_python, ready their types
   (Python/coro_origin_sys.c).  _PySys_FiniTypes(): release the types. */
extern int _PyCoroOrigin_InitSys(PyInterpreterState *interp,
                                 PyObject *sysmod);
extern void _PyCoroOrigin_FiniSys(PyInterpreterState *interp);
/* The type of the frame stack handles (per interpreter). */
extern int _PyCoroOrigin_InitHandleType(PyInterpreterState *interp);
extern void _PyCoroOrigin_FiniHandleType(PyInterpreterState *interp);

/* Python/pylifecycle.c, Py_FinalizeEx(), after the atexit callbacks and
   before any module is torn down: if origins may exist (something was
   captured, or the start-up spec tracks), import the modules of the
   reports now (the renderer, strict mode's, the dump's), so that the
   reports of objects destroyed during finalisation can use them.  Never
   fails. */
extern void _PyCoroOrigin_BindReports(PyThreadState *tstate);

/* Python/pylifecycle.c, finalize_interp_types(): free the intern table. */
extern void _PyCoroOrigin_Fini(PyInterpreterState *interp);

/* Python/sysmodule.c, sys._clear_internal_caches(): free the parked frame
   stacks (a cache whose size varies with the order coroutines die in, which
   regrtest's refleak runs would count as leaked memory blocks). */
extern void _PyCoroOrigin_ClearCaches(PyInterpreterState *interp);

/* ---- For our own files ---------------------------------------------------*/

/* The one way from C into our Python modules: call the function "name"
   of "module" (imported on first use and then kept by the interpreter,
   for reports made while it shuts down) with "args".  New reference, or
   NULL with an exception set. */
extern PyObject *_PyCoroOrigin_Call(_PyCoroOrigin_Module module,
                                    const char *name,
                                    PyObject *const *args, size_t nargs);

/* traceback.StackSummary (new reference), kept once imported so that
   asyncio's debug-mode tracebacks can be made during shutdown; NULL with
   an exception set if it cannot be had. */
extern PyObject *_PyCoroOrigin_StackSummaryType(PyInterpreterState *interp);

/* Can a report have a site to render: was an origin ever recorded, or
   does the start-up spec track, dump or check strictly?  If not, reports
   are stock's and our modules are not imported. */
extern int _PyCoroOrigin_MayRender(PyInterpreterState *interp);

/* The origin recorded for the escaping exception "exc" (the tuple
   ('coroutine', qualname, cr_origin, cr_origin_chain)), as a new
   reference, or NULL without an exception set if there is none.  Runs no
   code of the exception's type. */
extern PyObject *_PyCoroOrigin_ExceptionOrigin(PyObject *exc);

/* cr_origin_chain for the origin object "origin" (may be NULL). */
extern PyObject *_PyCoroOrigin_Chain(PyObject *origin);

/* sys._coroutine_origin_live(): a new list of the registered coroutines
   that are alive and not finished, oldest first. */
extern PyObject *_PyCoroOrigin_Live(PyThreadState *tstate);

/* Stock's cr_origin value for the origin object "origin" (the content of
   the slot, may be NULL): None if NULL, otherwise a tuple of (filename,
   lineno, funcname) tuples, made on first use and cached.  New reference,
   or NULL with an exception set. */
extern PyObject *_PyCoroOrigin_AsTuple(PyObject *origin);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_H */
