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

struct _PyInterpreterFrame;
struct _PyCoroOrigin_FrameStack;
struct _PyCoroOrigin_Record;

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
};

/* Capture a bare frame stack: up to "depth" frames, starting at "frame"
   (the first complete frame to record, may be NULL) and walking with
   _PyFrame_GetFirstComplete(frame->previous), exactly as stock's
   compute_cr_origin().  "depth" must be > 0.  No setting applies (no skip
   list, no chain, no registry): asyncio's debug-mode tracebacks keep every
   frame, as stock's do.  Return a new reference to an interned frame stack
   (an origin object _PyCoroOrigin_AsTuple() accepts), or NULL with an
   exception set. */
PyAPI_FUNC(PyObject *) _PyCoroOrigin_Capture(PyThreadState *tstate,
                                       struct _PyInterpreterFrame *frame,
                                       int depth);

/* The origin of the coroutine or async generator "gen" being created:
   as _PyCoroOrigin_Capture(), but applies the thread's chain and skip
   settings, registers a coroutine in the live registry when the thread's
   settings name a dump signal, and always makes a record for an async
   generator (whose slot must also hold the finalizer). */
extern PyObject * _PyCoroOrigin_CaptureFor(PyThreadState *tstate,
                                           struct _PyInterpreterFrame *frame,
                                           int depth, PyObject *gen);

/* cr_origin_chain / ag_origin_chain for the origin object "origin" (may
   be NULL): None, or a tuple of (qualname, origin tuple or None) pairs,
   nearest ancestor first.  New reference, or NULL with an exception. */
extern PyObject *_PyCoroOrigin_Chain(PyObject *origin);

/* Async generators: the slot holds either the finalizer (untracked) or
   an origin record holding it.  "op" may be NULL. */
extern int _PyCoroOrigin_IsRecord(PyObject *op);
/* Borrowed finalizer of a record (may be NULL). */
extern PyObject *_PyCoroOrigin_RecordFinalizer(PyObject *record);
extern void _PyCoroOrigin_SetRecordFinalizer(PyObject *record,
                                             PyObject *finalizer);

/* The error path of gen_send_ex2(): the coroutine "coro" finished with
   the exception currently set.  If the thread's settings have notes on,
   the coroutine is tracked and was not resumed by another coroutine, and
   the exception is an Exception other than StopIteration and
   StopAsyncIteration, add one PEP 678 note saying where it was created
   (_PyCoroOrigin_FormatNote()).  Never fails: the exception stays set. */
extern void _PyCoroOrigin_NoteException(PyThreadState *tstate,
                                        PyObject *coro);
/* The note text for a coroutine (kind "coroutine") or an async generator
   (kind "async generator") named "qualname" with origin "origin": where
   it was created, then its chain, traceback style. */
extern PyObject *_PyCoroOrigin_FormatNote(const char *kind,
                                          PyObject *qualname,
                                          PyObject *origin);

/* For warnings about an async generator "agen": the note text saying
   where it was created (new reference), or NULL if it is not tracked or
   the text cannot be made.  Never sets an exception; keeps the current
   one. */
extern PyObject *_PyCoroOrigin_AsyncGenWhere(PyObject *agen);

/* sys._coroutine_origin_live(): a new list of the registered coroutines
   that are alive and not finished, oldest first. */
extern PyObject *_PyCoroOrigin_Live(PyThreadState *tstate);

/* Return stock's cr_origin value for the origin object "origin" (the
   content of the slot, may be NULL): None if NULL, otherwise a tuple of
   (filename, lineno, funcname) tuples, made on first use and cached.
   Return a new reference, or NULL with an exception set. */
PyAPI_FUNC(PyObject *) _PyCoroOrigin_AsTuple(PyObject *origin);

/* Free the intern table at interpreter finalization. */
extern void _PyCoroOrigin_Fini(PyInterpreterState *interp);

#ifdef __cplusplus
}
#endif
#endif /* !Py_INTERNAL_CORO_ORIGIN_H */
