/* origin-python: lazy coroutine origins.
 *
 * This file is part of origin-python, not of upstream CPython.  See
 * Include/internal/pycore_coro_origin.h for the interface.
 *
 * Stock CPython builds cr_origin eagerly: at each coroutine creation it
 * makes one (filename, lineno, funcname) tuple per frame, decoding the line
 * table each time.  Here a coroutine keeps a *frame stack*: the code
 * objects and instruction offsets of the frames stock would have walked.
 * PyCode_Addr2Line() is a pure function of the code object and the offset,
 * so decoding later gives exactly the line stock decoded at creation.
 *
 * Frame stacks are immutable and interned per interpreter: coroutines
 * created from the same stack share one object, and creating a coroutine
 * from a stack already seen allocates nothing.  The tuple stock would have
 * built is made on the first read of cr_origin and cached in the frame
 * stack.
 *
 * A frame stack refers only to code objects and to its cached tuple (of
 * strings and ints); none of them can refer back to it, so it cannot be
 * part of a reference cycle and is not tracked by the GC.  Its type is a
 * private static type: coroutine slots (gen_traverse does not visit the
 * slot) and the intern table hold frame stacks, and asyncio gets them as
 * the opaque handles of sys._frame_stack_capture(), with two methods:
 * frames() (cr_origin's form) and summary(drop) (debug mode's
 * _source_traceback).  Design: DESIGN.md in the origin-python repository.
 */

#include "Python.h"
#include "pycore_code.h"          // _PyCode_DEF()
#include "pycore_coro_origin.h"
#include "pycore_frame.h"         // _PyFrame_GetFirstComplete()
#include "pycore_modsupport.h"    // _PyArg_CheckPositional()
#include "pycore_import.h"        // _PyImport_GetModuleAttrString()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin
#include "pycore_object.h"        // _Py_TryIncrefFast()
#include "pycore_pyatomic_ft_wrappers.h"  // FT_ATOMIC_LOAD_PTR_ACQUIRE()
#include "pycore_pystate.h"       // _PyInterpreterState_GET()
#include "pycore_coro_origin_config.h" // _PyCoroOrigin_ThreadSettings()
#include "pycore_genobject.h"
#include "pycore_opcode_metadata.h" // _PyOpcode_Deopt
#include "pycore_typeobject.h"    // _PyStaticType_InitBuiltin()
#include "pycore_tstate.h"        // _PyThreadStateImpl
#include "pycore_runtime.h"       // _Py_ID()
#include "pycore_setobject.h"     // _PySet_NextEntry()


typedef struct {
    PyCodeObject *code;     /* strong reference */
    intptr_t addr;          /* byte offset of the frame's current
                               instruction, as PyUnstable_InterpreterFrame_
                               GetLasti() returns it (an int); intptr_t so
                               that entries have no padding and compare
                               with memcmp() */
} origin_entry;

typedef struct _PyCoroOrigin_FrameStack {
    PyObject_VAR_HEAD                       /* ob_size: number of entries */
    size_t hash;
    struct _PyCoroOrigin_FrameStack *next;  /* intern table chain */
    PyObject *tuple;                        /* cached cr_origin, or NULL */
    int park_slot;                          /* index in state->parked, or
                                               -1 if not parked */
    origin_entry entries[1];                /* innermost frame first */
} frame_stack;

static void frame_stack_dealloc(PyObject *op);
static PyMethodDef frame_stack_methods[];

static PyTypeObject FrameStack_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "coroutine_origin_frames",
    .tp_basicsize = offsetof(frame_stack, entries),
    .tp_itemsize = sizeof(origin_entry),
    .tp_dealloc = frame_stack_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .tp_methods = frame_stack_methods,
};

#define FrameStack_CAST(op) (assert(Py_IS_TYPE((op), &FrameStack_Type)), \
                             (frame_stack *)(op))

/* Number of buckets the intern table starts with; a power of two. */
#define TABLE_MIN_SIZE 64

/* Frames collected on the C stack while hashing, then compared with
   memcmp() and copied; deeper stacks are walked again instead. */
#define CAPTURE_BUFFER 64

/* Only frame stacks this small are parked (which bounds the memory parked
   stacks keep: _Py_CORO_ORIGIN_PARKED of them). */
#define PARK_MAX_FRAMES CAPTURE_BUFFER

/* The intern table is shared by the threads of an interpreter.  With the
   GIL it is protected by the GIL: the critical sections below never
   release it (they call no Python code and do not block).  The
   free-threaded build locks state->mutex. */
#ifdef Py_GIL_DISABLED
#  define TABLE_LOCK(state) PyMutex_Lock(&(state)->mutex)
#  define TABLE_UNLOCK(state) PyMutex_Unlock(&(state)->mutex)
#else
#  define TABLE_LOCK(state) ((void)(state))
#  define TABLE_UNLOCK(state) ((void)(state))
#endif


/* ---- Walking frames ---------------------------------------------------- */

static inline intptr_t
frame_addr(_PyInterpreterFrame *frame)
{
    /* Same value as PyUnstable_InterpreterFrame_GetLasti(frame), which
       PyUnstable_InterpreterFrame_GetLine() passes to PyCode_Addr2Line(). */
    return _PyInterpreterFrame_LASTI(frame) * (int)sizeof(_Py_CODEUNIT);
}

/* The shim frame that CALL_ALLOC_AND_ENTER_INIT pushes below __init__
   (Python/specialize.c; ceval.c declares it the same way). */
extern const struct _PyCode_DEF(8) _Py_InitCleanup;

static inline _PyInterpreterFrame *
next_frame(_PyInterpreterFrame *frame)
{
    /* The step of stock's compute_cr_origin(),
       _PyFrame_GetFirstComplete(frame->previous), for a frame that is
       itself complete.  The frames below a complete frame are all in the
       middle of a call, so the only incomplete ones among them are shims:
       C-stack entry frames and the __init__ cleanup frame.  Recognising
       them from the frame alone spares a load from each code object, a
       dependent load on the hottest loop of capture.  The assertion checks
       the claim in debug builds. */
    _PyInterpreterFrame *previous = frame->previous;
    while (previous != NULL
           && (previous->owner == FRAME_OWNED_BY_CSTACK
               || previous->f_executable == (PyObject *)&_Py_InitCleanup))
    {
        previous = previous->previous;
    }
    assert(previous == _PyFrame_GetFirstComplete(frame->previous));
    return previous;
}

#if SIZEOF_SIZE_T > 4
#  define ORIGIN_HASH_MULT ((size_t)0x9e3779b97f4a7c15ULL)
#  define ORIGIN_HASH_ADDR_MULT ((size_t)0xc2b2ae3d27d4eb4fULL)
#else
#  define ORIGIN_HASH_MULT ((size_t)0x9e3779b1UL)
#  define ORIGIN_HASH_ADDR_MULT ((size_t)0x85ebca77UL)
#endif
#define ORIGIN_HASH_HALF (4 * SIZEOF_SIZE_T)

/* This runs for every frame of every tracked coroutine creation, in a
   loop whose other dependency chain is the frame->previous pointer chase:
   keep the multiplications off the hash's own chain, which is only a
   rotation and an addition per frame. */
static inline size_t
hash_entry(size_t h, PyCodeObject *code, intptr_t addr)
{
    size_t x = ((size_t)(uintptr_t)code + (size_t)addr * ORIGIN_HASH_ADDR_MULT)
               * ORIGIN_HASH_MULT;
    h = (h << 7) | (h >> (8 * SIZEOF_SIZE_T - 7));
    return h + x;
}

static inline size_t
hash_finish(size_t h, Py_ssize_t n)
{
    /* Mix every bit into the low ones, which index the buckets. */
    h ^= (size_t)n;
    h ^= h >> ORIGIN_HASH_HALF;
    h *= ORIGIN_HASH_ADDR_MULT;
    h ^= h >> ORIGIN_HASH_HALF;
    return h;
}

/* Does "stack" hold exactly the frames from "frame" on? The caller has
   checked that the sizes agree. */
static int
stack_matches(frame_stack *stack, _PyInterpreterFrame *frame)
{
    Py_ssize_t n = Py_SIZE(stack);
    for (Py_ssize_t i = 0; i < n; i++) {
        assert(frame != NULL);
        origin_entry *entry = &stack->entries[i];
        if (entry->code != _PyFrame_GetCode(frame)
            || entry->addr != frame_addr(frame))
        {
            return 0;
        }
        frame = next_frame(frame);
    }
    return 1;
}


/* A frame stack holds one reference to the code object of each run of
   consecutive entries with the same code: recursion repeats a code object,
   and its refcount would otherwise be a chain of dependent updates.
   entries_decref() must follow the same rule as entries_incref(). */
static inline void
entries_incref(origin_entry *entries, Py_ssize_t n)
{
    PyCodeObject *previous = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyCodeObject *code = entries[i].code;
        if (code != previous) {
            Py_INCREF(code);
            previous = code;
        }
    }
}

static inline void
entries_decref(origin_entry *entries, Py_ssize_t n)
{
    /* Only pointers are compared after a Py_DECREF(), never followed. */
    PyCodeObject *previous = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyCodeObject *code = entries[i].code;
        if (code != previous) {
            previous = code;
            Py_DECREF(code);
        }
    }
}


/* ---- The intern table ---------------------------------------------------
 *
 * Chained hash table with intrusive chains, protected by TABLE_LOCK().
 * It holds borrowed references: a frame stack unlinks itself in its
 * dealloc.  Nothing below calls Python code, releases the GIL, triggers a
 * garbage collection or runs a destructor, so the critical sections cannot
 * re-enter the table.
 */

/* Take a new reference to a frame stack found in the table, unless it is
   being deallocated (its refcount already dropped to zero and it has not
   unlinked itself yet). */
static inline int
frame_stack_try_incref(frame_stack *stack)
{
    PyObject *op = (PyObject *)stack;
#ifdef Py_GIL_DISABLED
    return _Py_TryIncrefFast(op) || _Py_TryIncRefShared(op);
#else
    if (Py_REFCNT(op) == 0) {
        return 0;
    }
    Py_INCREF(op);
    return 1;
#endif
}

/* The frames being captured: the first "n" frames from "frame" on; if
   "buffered", they are also in "entries". */
typedef struct {
    _PyInterpreterFrame *frame;
    Py_ssize_t n;
    int buffered;
    origin_entry *entries;
} capture_key;

static inline int
stack_equals_key(frame_stack *stack, const capture_key *key)
{
    if (Py_SIZE(stack) != key->n) {
        return 0;
    }
    if (key->buffered) {
        return memcmp(stack->entries, key->entries,
                      (size_t)key->n * sizeof(origin_entry)) == 0;
    }
    return stack_matches(stack, key->frame);
}

static void unpark(struct _Py_coro_origin_state *state, frame_stack *stack);

/* Return a new reference to the frame stack equal to "key", or NULL. */
static frame_stack *
table_lookup(struct _Py_coro_origin_state *state, size_t hash,
             const capture_key *key)
{
    if (state->buckets == NULL) {
        return NULL;
    }
    frame_stack *stack = state->buckets[hash & state->mask];
    for (; stack != NULL; stack = stack->next) {
        if (stack->hash == hash && stack_equals_key(stack, key)) {
            if (stack->park_slot >= 0) {
                unpark(state, stack);
                return stack;
            }
            if (frame_stack_try_incref(stack)) {
                return stack;
            }
        }
    }
    return NULL;
}

/* Rehash into "size" buckets (a power of two).  Return -1 if the memory
   cannot be had, without setting an exception; the table is unchanged. */
static int
table_resize(struct _Py_coro_origin_state *state, size_t size)
{
    assert(size > 0 && (size & (size - 1)) == 0);
    frame_stack **buckets = PyMem_Calloc(size, sizeof(frame_stack *));
    if (buckets == NULL) {
        return -1;
    }
    if (state->buckets != NULL) {
        for (size_t i = 0; i <= state->mask; i++) {
            frame_stack *stack = state->buckets[i];
            while (stack != NULL) {
                frame_stack *next = stack->next;
                frame_stack **head = &buckets[stack->hash & (size - 1)];
                stack->next = *head;
                *head = stack;
                stack = next;
            }
        }
        PyMem_Free(state->buckets);
    }
    state->buckets = buckets;
    state->mask = size - 1;
    return 0;
}

static void
table_insert(struct _Py_coro_origin_state *state, frame_stack *stack)
{
    assert(state->buckets != NULL);
    if (state->used > state->mask) {
        /* Load factor above 1: grow.  If that fails, chains get longer but
           everything keeps working. */
        size_t size = state->mask + 1;
        if (size <= ((size_t)PY_SSIZE_T_MAX / sizeof(frame_stack *)) / 2) {
            (void)table_resize(state, size * 2);
        }
    }
    frame_stack **head = &state->buckets[stack->hash & state->mask];
    stack->next = *head;
    *head = stack;
    state->used++;
}

static void
table_remove(struct _Py_coro_origin_state *state, frame_stack *stack)
{
    if (state->buckets == NULL) {
        /* The interpreter is being finalized. */
        return;
    }
    frame_stack **link = &state->buckets[stack->hash & state->mask];
    for (; *link != NULL; link = &(*link)->next) {
        if (*link == stack) {
            *link = stack->next;
            state->used--;
            return;
        }
    }
}


/* ---- Parked frame stacks ------------------------------------------------
 *
 * Code often creates a coroutine, awaits it, and creates the next one from
 * the same place only after the first died.  To spare that pattern an
 * allocation, an insertion, a removal and a free per coroutine, the GIL
 * build parks a frame stack whose last coroutine died: it drops its
 * references (code objects and cached tuple, exactly when it would have
 * been freed), stays in the intern table and in state->parked, a ring of
 * _Py_CORO_ORIGIN_PARKED slots, and is evicted (unlinked and freed) when
 * its slot is reused.  A lookup that matches a parked stack takes its code
 * objects from the live frames it was compared with: its entries hold
 * pointers that may be stale, but they are equal to the live ones, so the
 * stack is exactly the one that would be made.  It is brought back to life
 * as a freelist object is, with _Py_NewReference().
 *
 * The free-threaded build does not park (its lookups may run concurrently
 * with a dealloc; see frame_stack_try_incref()).
 */

#ifndef Py_GIL_DISABLED
static void
park(struct _Py_coro_origin_state *state, frame_stack *stack)
{
    unsigned int slot = state->park_cursor;
    state->park_cursor = (slot + 1) % _Py_CORO_ORIGIN_PARKED;
    frame_stack *evicted = state->parked[slot];
    if (evicted != NULL) {
        table_remove(state, evicted);
        PyObject_Free(evicted);
    }
    state->parked[slot] = stack;
    stack->park_slot = (int)slot;
}
#endif

/* Unlink and free every parked frame stack.  Called with the table
   locked. */
static void
evict_parked(struct _Py_coro_origin_state *state)
{
    for (int i = 0; i < _Py_CORO_ORIGIN_PARKED; i++) {
        frame_stack *parked = state->parked[i];
        if (parked != NULL) {
            state->parked[i] = NULL;
            table_remove(state, parked);
            PyObject_Free(parked);
        }
    }
    state->park_cursor = 0;
}

static void
unpark(struct _Py_coro_origin_state *state, frame_stack *stack)
{
    assert(stack->park_slot >= 0);
    assert(state->parked[stack->park_slot] == stack);
    assert(stack->tuple == NULL);
    state->parked[stack->park_slot] = NULL;
    stack->park_slot = -1;
    _Py_NewReference((PyObject *)stack);
    entries_incref(stack->entries, Py_SIZE(stack));
}


/* ---- Frame stacks ------------------------------------------------------ */

static void
frame_stack_dealloc(PyObject *op)
{
    frame_stack *stack = FrameStack_CAST(op);
    struct _Py_coro_origin_state *state =
        &_PyInterpreterState_GET()->coro_origin;
    assert(stack->park_slot < 0);

    /* Drop the references first, outside the lock: dropping a code object
       may run Python code (weak reference callbacks), which may create
       coroutines.  Meanwhile lookups skip this stack: its refcount is zero
       and it is not parked. */
    entries_decref(stack->entries, Py_SIZE(stack));
    Py_CLEAR(stack->tuple);

#ifndef Py_GIL_DISABLED
    if (Py_SIZE(stack) <= PARK_MAX_FRAMES && state->buckets != NULL) {
        park(state, stack);
        return;
    }
#endif
    TABLE_LOCK(state);
    table_remove(state, stack);
    TABLE_UNLOCK(state);
    PyObject_Free(stack);
}

/* Find or make the frame stack equal to "key" (hash "hash").  Return a
   new reference, or NULL with MemoryError set. */
static inline frame_stack *
intern_key(struct _Py_coro_origin_state *state, size_t hash,
           const capture_key *key)
{
    Py_ssize_t n = key->n;
    TABLE_LOCK(state);

    frame_stack *stack = table_lookup(state, hash, key);
    if (stack != NULL) {
        goto done;
    }

    /* A new stack.  Get the table first, so that there is nothing to undo
       when memory runs out. */
    if (state->buckets == NULL && table_resize(state, TABLE_MIN_SIZE) < 0) {
        goto nomemory;
    }
    stack = (frame_stack *)PyObject_Malloc(
        _PyObject_VAR_SIZE(&FrameStack_Type, n));
    if (stack == NULL) {
        goto nomemory;
    }
    PyObject_InitVar((PyVarObject *)stack, &FrameStack_Type, n);
    stack->hash = hash;
    stack->next = NULL;
    stack->tuple = NULL;
    stack->park_slot = -1;
    if (key->buffered) {
        memcpy(stack->entries, key->entries, (size_t)n * sizeof(origin_entry));
    }
    else {
        _PyInterpreterFrame *f = key->frame;
        for (Py_ssize_t i = 0; i < n; i++) {
            assert(f != NULL);
            stack->entries[i].code = _PyFrame_GetCode(f);
            stack->entries[i].addr = frame_addr(f);
            f = next_frame(f);
        }
    }
    entries_incref(stack->entries, n);
#ifdef Py_GIL_DISABLED
    /* Other threads find it in the table and take references with
       _Py_TryIncRefShared(), which needs this flag to see a live object. */
    _PyObject_SetMaybeWeakref((PyObject *)stack);
#endif
    table_insert(state, stack);

done:
    TABLE_UNLOCK(state);
    return stack;

nomemory:
    TABLE_UNLOCK(state);
    PyErr_NoMemory();
    return NULL;
}

/* The frame stack of up to "depth" frames from "frame" on (no skip list):
   a new reference, or NULL with an exception set. */
static inline frame_stack *
capture_frames(PyThreadState *tstate, _PyInterpreterFrame *frame, int depth)
{
    assert(depth > 0);
    origin_entry buffer[CAPTURE_BUFFER];

    /* Count and hash the frames stock's compute_cr_origin() would walk, so
       that a huge depth allocates only for the frames that exist, and so
       that a stack seen before is found without allocating.  Keep the
       first frames in "buffer" to compare and copy them without walking
       again. */
    size_t hash = 0;
    Py_ssize_t n = 0;
    _PyInterpreterFrame *f = frame;
    for (; f != NULL && n < depth && n < CAPTURE_BUFFER; n++) {
        PyCodeObject *code = _PyFrame_GetCode(f);
        intptr_t addr = frame_addr(f);
        buffer[n].code = code;
        buffer[n].addr = addr;
        hash = hash_entry(hash, code, addr);
        f = next_frame(f);
    }
    capture_key key = {
        .frame = frame,
        .buffered = (f == NULL || n == depth),
        .entries = buffer,
    };
    for (; f != NULL && n < depth; n++) {
        hash = hash_entry(hash, _PyFrame_GetCode(f), frame_addr(f));
        f = next_frame(f);
    }
    key.n = n;
    hash = hash_finish(hash, n);
    return intern_key(&tstate->interp->coro_origin, hash, &key);
}

/* Is "frame" in a module of the skip list?  The module is the frame's
   globals' __name__.  "cache" remembers the last globals looked at. */
typedef struct {
    PyObject *globals;      /* borrowed, compared only */
    int skipped;
} skip_cache;

static int
frame_skipped(const _PyCoroOriginSkip *skip, _PyInterpreterFrame *frame,
              skip_cache *cache)
{
    PyObject *globals = frame->f_globals;
    if (globals == cache->globals) {
        return cache->skipped;
    }
    int skipped = 0;
    if (globals != NULL && PyDict_Check(globals)) {
        PyObject *name;
        if (PyDict_GetItemRef(globals, &_Py_ID(__name__), &name) < 0) {
            PyErr_Clear();
        }
        else if (name != NULL) {
            skipped = _PyCoroOrigin_SkipMatch(skip, name);
            Py_DECREF(name);
        }
    }
    cache->globals = globals;
    cache->skipped = skipped;
    return skipped;
}

/* As capture_frames(), leaving out (and not counting) the frames of the
   modules in "skip". */
static frame_stack *
capture_frames_skip(PyThreadState *tstate, _PyInterpreterFrame *frame,
                    int depth, const _PyCoroOriginSkip *skip)
{
    assert(depth > 0);
    origin_entry buffer[CAPTURE_BUFFER];
    origin_entry *entries = buffer;
    Py_ssize_t size = CAPTURE_BUFFER;
    skip_cache cache = {NULL, 0};
    size_t hash = 0;
    Py_ssize_t n = 0;
    frame_stack *stack = NULL;

    /* Fetching __name__ does not run Python code: the frames stay put. */
    for (_PyInterpreterFrame *f = frame; f != NULL && n < depth;
         f = next_frame(f))
    {
        if (frame_skipped(skip, f, &cache)) {
            continue;
        }
        if (n == size) {
            Py_ssize_t newsize = size * 2;
            origin_entry *bigger = PyMem_Malloc(
                (size_t)newsize * sizeof(origin_entry));
            if (bigger == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            memcpy(bigger, entries, (size_t)n * sizeof(origin_entry));
            if (entries != buffer) {
                PyMem_Free(entries);
            }
            entries = bigger;
            size = newsize;
        }
        PyCodeObject *code = _PyFrame_GetCode(f);
        intptr_t addr = frame_addr(f);
        entries[n].code = code;
        entries[n].addr = addr;
        hash = hash_entry(hash, code, addr);
        n++;
    }
    capture_key key = {
        .frame = NULL,
        .n = n,
        .buffered = 1,
        .entries = entries,
    };
    hash = hash_finish(hash, n);
    stack = intern_key(&tstate->interp->coro_origin, hash, &key);

done:
    if (entries != buffer) {
        PyMem_Free(entries);
    }
    return stack;
}


/* ---- Origin records -------------------------------------------------------
 *
 * A coroutine's slot holds a bare frame stack unless it needs more: an
 * *origin record* is made only when the coroutine has an ancestor to
 * remember (chain), is registered in the live registry (dump signal), or
 * is an async generator (whose slot also holds the finalizer).
 *
 * The chain is copied, not linked: a record holds at most "chain" pairs
 * (ancestor qualname, ancestor's frame stack or NULL), its creator's
 * followed by its creator's own chain, cut.  So a record keeps no
 * coroutine and no other record alive, and the memory a chain retains is
 * bounded however long the line of ancestors is.
 *
 * Records are not GC objects and never reach Python code: an async
 * generator's finalizer (which can be anything) is visited by
 * async_gen_traverse() as the slot's content was in stock CPython, through
 * _PyCoroOrigin_AsyncGenFinalizer().  Records never take part in a cycle
 * otherwise: they refer only to frame stacks and strings.
 */

typedef struct {
    PyObject *qualname;     /* strong */
    PyObject *frames;       /* strong frame stack, or NULL if the ancestor
                               was not tracked */
} chain_entry;

typedef struct _PyCoroOrigin_Record {
    PyObject_VAR_HEAD                   /* ob_size: chain entries */
    PyObject *frames;                   /* strong frame stack */
    PyObject *finalizer;                /* async generators, or NULL */
    PyObject *gen;                      /* borrowed; registered coroutine,
                                           or NULL if not registered */
    struct _PyCoroOrigin_Record *live_next;
    struct _PyCoroOrigin_Record **live_prev;
    /* The coroutine frame this coroutine was created in, if it was
       created in one and has a chain; compared, never dereferenced.  While
       that frame awaits this coroutine, chain[0] is still the root of
       the await chain: see find_chain(). */
    _PyInterpreterFrame *creator;
    chain_entry chain[1];               /* nearest ancestor first */
} origin_record;

static void record_dealloc(PyObject *op);

PyTypeObject _PyCoroOrigin_RecordType = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "coroutine_origin_record",
    .tp_basicsize = offsetof(origin_record, chain),
    .tp_itemsize = sizeof(chain_entry),
    .tp_dealloc = record_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

#define Record_Check(op) Py_IS_TYPE((op), &_PyCoroOrigin_RecordType)
#define Record_CAST(op) (assert(Record_Check(op)), (origin_record *)(op))

/* What the slot of the async generator "agen" holds (its finalizer, or
   its origin record), looking through strict mode's watch if there is
   one (see "Async generators and getters"). */
static inline PyObject **
agen_slot(PyAsyncGenObject *agen)
{
    PyObject **inner =
        _PyCoroOrigin_WatchedSlot(agen->ag_origin_or_finalizer);
    return inner != NULL ? inner : &agen->ag_origin_or_finalizer;
}

#ifdef Py_GIL_DISABLED
#  define LIVE_LOCK(state) PyMutex_Lock(&(state)->live_mutex)
#  define LIVE_UNLOCK(state) PyMutex_Unlock(&(state)->live_mutex)
#else
#  define LIVE_LOCK(state) ((void)(state))
#  define LIVE_UNLOCK(state) ((void)(state))
#endif

static void
live_insert(struct _Py_coro_origin_state *state, origin_record *rec)
{
    LIVE_LOCK(state);
    rec->live_next = state->live;
    if (state->live != NULL) {
        state->live->live_prev = &rec->live_next;
    }
    state->live = rec;
    rec->live_prev = &state->live;
    LIVE_UNLOCK(state);
}

static void
live_remove(struct _Py_coro_origin_state *state, origin_record *rec)
{
    LIVE_LOCK(state);
    if (rec->live_prev != NULL) {
        *rec->live_prev = rec->live_next;
        if (rec->live_next != NULL) {
            rec->live_next->live_prev = rec->live_prev;
        }
        rec->live_prev = NULL;
        rec->live_next = NULL;
    }
    LIVE_UNLOCK(state);
}

static void
record_dealloc(PyObject *op)
{
    origin_record *rec = Record_CAST(op);
    if (rec->gen != NULL) {
        live_remove(&_PyInterpreterState_GET()->coro_origin, rec);
        rec->gen = NULL;
    }
    Py_CLEAR(rec->finalizer);
    Py_CLEAR(rec->frames);
    for (Py_ssize_t i = 0; i < Py_SIZE(rec); i++) {
        Py_CLEAR(rec->chain[i].qualname);
        Py_CLEAR(rec->chain[i].frames);
    }
    PyObject_Free(op);
}

/* The frame stack held in the origin object "origin" (may be NULL). */
static inline PyObject *
origin_frames(PyObject *origin)
{
    if (origin != NULL && Record_Check(origin)) {
        return Record_CAST(origin)->frames;
    }
    return origin;
}

static inline int
is_coroutine_frame(_PyInterpreterFrame *frame)
{
    return (frame->owner == FRAME_OWNED_BY_GENERATOR
            && (_PyFrame_GetCode(frame)->co_flags & CO_COROUTINE));
}

/* Where the chain of a coroutine created from "frame" comes from.  Its
   ancestor is the coroutine that was running: walking out from "frame",
   the first coroutine frame met among the first "limit" frames (the
   frames the depth walk visits), then on while the frames are coroutine
   frames (one await chain, whatever its length): the outermost of those,
   the root.  Its chain is then the root's (qualname, frames) followed by
   the root's own chain.

   Walking a whole await chain at every creation would make creation
   quadratic in its length (a 32,000-deep recursion of awaits).  So when
   the first coroutine met, G, is awaited by the very frame it was created
   in (the usual "await f()"), and G has a chain, the root G saw is the
   root now: the new chain is G's chain, copied, and nothing more is
   walked.  A coroutine created in one await chain and resumed by another
   takes the walk.

   A callback that asyncio's Handle._run() runs, or a function that an
   executor's _WorkItem.run() runs, met before any coroutine frame makes
   the ancestor the line that scheduled it, if its handle or work item
   kept one.

   On return, "*root" is the root coroutine (borrowed), or NULL with
   "*same_as" set to the record whose chain to copy, or "*scheduled" to
   that line's frame stack (borrowed), or all NULL when there is no
   ancestor. */
static void
find_chain(PyInterpreterState *interp, _PyInterpreterFrame *frame,
           int limit, PyGenObject **root, origin_record **same_as,
           PyObject **scheduled)
{
    *root = NULL;
    *same_as = NULL;
    *scheduled = NULL;
    for (int i = 0; frame != NULL && i < limit; i++) {
        if (is_coroutine_frame(frame)) {
            break;
        }
        if (_PyCoroOrigin_RunsScheduled(interp, frame)) {
            *scheduled = _PyCoroOrigin_ScheduledSite(interp, frame);
            return;
        }
        frame = next_frame(frame);
    }
    if (frame == NULL || !is_coroutine_frame(frame)) {
        return;
    }
    _PyInterpreterFrame *outer = next_frame(frame);
    if (outer != NULL && is_coroutine_frame(outer)) {
        PyObject *origin =
            ((PyCoroObject *)_PyFrame_GetGenerator(frame))
                ->cr_origin_or_finalizer;
        if (origin != NULL && Record_Check(origin)
            && Record_CAST(origin)->creator == outer)
        {
            *same_as = Record_CAST(origin);
            return;
        }
    }
    _PyInterpreterFrame *top = frame;
    for (; outer != NULL && is_coroutine_frame(outer);
         outer = next_frame(outer))
    {
        top = outer;
    }
    *root = _PyFrame_GetGenerator(top);
}

static origin_record *
record_new(PyObject *frames, PyGenObject *root, origin_record *same_as,
           PyObject *scheduled, int chain)
{
    /* How many entries: the root, then its own chain; or a copy of
       "same_as"'s chain; at most "chain" in all; or the one line that
       scheduled the callback that runs (None for its qualname). */
    Py_ssize_t n = 0;
    origin_record *parent = NULL;
    if (scheduled != NULL) {
        n = 1;
    }
    else if (root != NULL && chain > 0) {
        PyObject *origin = ((PyCoroObject *)root)->cr_origin_or_finalizer;
        parent = (origin != NULL && Record_Check(origin))
                 ? Record_CAST(origin) : NULL;
        n = 1 + (parent != NULL ? Py_SIZE(parent) : 0);
    }
    else if (same_as != NULL && chain > 0) {
        n = Py_SIZE(same_as);
    }
    if (n > chain && scheduled == NULL) {
        n = chain;
    }
    origin_record *rec = PyObject_NewVar(origin_record,
                                         &_PyCoroOrigin_RecordType, n);
    if (rec == NULL) {
        return NULL;
    }
    rec->frames = Py_NewRef(frames);
    rec->finalizer = NULL;
    rec->gen = NULL;
    rec->live_next = NULL;
    rec->live_prev = NULL;
    rec->creator = NULL;
    Py_ssize_t i = 0;
    if (scheduled != NULL) {
        rec->chain[0].qualname = Py_NewRef(Py_None);
        rec->chain[0].frames = Py_NewRef(scheduled);
        return rec;
    }
    if (root != NULL && n > 0) {
        PyObject *origin = ((PyCoroObject *)root)->cr_origin_or_finalizer;
        rec->chain[0].qualname = Py_NewRef(root->gi_qualname);
        rec->chain[0].frames = Py_XNewRef(origin_frames(origin));
        i = 1;
        same_as = parent;
    }
    for (Py_ssize_t j = 0; i < n; i++, j++) {
        rec->chain[i].qualname = Py_NewRef(same_as->chain[j].qualname);
        rec->chain[i].frames = Py_XNewRef(same_as->chain[j].frames);
    }
    return rec;
}

/* An origin is being recorded: reports may have sites to render from now
   on (see "The renderer"). */
static inline void
mark_tracked(PyInterpreterState *interp)
{
    if (!FT_ATOMIC_LOAD_INT_RELAXED(interp->coro_origin.tracked)) {
        FT_ATOMIC_STORE_INT_RELAXED(interp->coro_origin.tracked, 1);
    }
}

PyObject *
_PyCoroOrigin_CaptureFor(PyThreadState *tstate, _PyInterpreterFrame *frame,
                         int depth, PyObject *gen)
{
    assert(depth > 0);
    mark_tracked(tstate->interp);
    const _PyCoroOriginThread *settings =
        _PyCoroOrigin_ThreadSettings(tstate);
    frame_stack *stack;
    if (settings->skip == NULL) {
        stack = capture_frames(tstate, frame, depth);
    }
    else {
        stack = capture_frames_skip(tstate, frame, depth, settings->skip);
    }
    if (stack == NULL) {
        return NULL;
    }
    int is_agen = (gen != NULL && PyAsyncGen_CheckExact(gen));
    int chain = settings->chain;
    PyInterpreterState *interp = tstate->interp;
    int registered = (_PyCoroOrigin_Startup(interp)->dump_signal != 0
                      && gen != NULL && PyCoro_CheckExact(gen));
    PyGenObject *root = NULL;
    origin_record *same_as = NULL;
    PyObject *scheduled = NULL;
    if (chain > 0) {
        find_chain(interp, frame, depth, &root, &same_as, &scheduled);
    }
    else if (frame != NULL && _PyCoroOrigin_RunsScheduled(interp, frame)) {
        /* The callback itself is a coroutine function: whatever the chain
           setting, its coroutine's own frames are all asyncio's. */
        scheduled = _PyCoroOrigin_ScheduledSite(interp, frame);
    }
    if (root == NULL && same_as == NULL && scheduled == NULL
        && !registered && !is_agen)
    {
        return (PyObject *)stack;
    }
    origin_record *rec = record_new((PyObject *)stack, root, same_as,
                                    scheduled, chain);
    Py_DECREF(stack);
    if (rec == NULL) {
        return NULL;
    }
    if (Py_SIZE(rec) > 0 && frame != NULL && is_coroutine_frame(frame)) {
        rec->creator = frame;
    }
    if (registered) {
        rec->gen = gen;
#ifdef Py_GIL_DISABLED
        /* _PyCoroOrigin_Live() takes references from the registry with
           _Py_TryIncrefCompare(), which fails for an object owned by
           another thread whose shared count is 0 unless this flag says it
           may be reached through a borrowed pointer (as for weakrefs). */
        _PyObject_SetMaybeWeakref(gen);
#endif
        live_insert(&tstate->interp->coro_origin, rec);
    }
    return (PyObject *)rec;
}

PyObject *
_PyCoroOrigin_Capture(PyThreadState *tstate, _PyInterpreterFrame *frame,
                      int depth, int use_skip)
{
    if (use_skip) {
        mark_tracked(tstate->interp);
    }
    const _PyCoroOriginSkip *skip =
        use_skip ? _PyCoroOrigin_ThreadSettings(tstate)->skip : NULL;
    if (skip != NULL) {
        return (PyObject *)capture_frames_skip(tstate, frame, depth, skip);
    }
    return (PyObject *)capture_frames(tstate, frame, depth);
}

/* Build stock's cr_origin tuple, as compute_cr_origin() did. */
static PyObject *
frame_stack_build_tuple(frame_stack *stack)
{
    Py_ssize_t n = Py_SIZE(stack);
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyCodeObject *code = stack->entries[i].code;
        int line = PyCode_Addr2Line(code, stack->entries[i].addr);
        PyObject *frameinfo = Py_BuildValue("OiO", code->co_filename, line,
                                            code->co_name);
        if (frameinfo == NULL) {
            goto error;
        }
        PyTuple_SET_ITEM(tuple, i, frameinfo);
    }
    return tuple;

error:
    Py_XDECREF(tuple);
    return NULL;
}

PyObject *
_PyCoroOrigin_AsTuple(PyObject *origin)
{
    origin = origin_frames(origin);
    if (origin == NULL) {
        Py_RETURN_NONE;
    }
    frame_stack *stack = FrameStack_CAST(origin);
    PyObject *tuple = FT_ATOMIC_LOAD_PTR_ACQUIRE(stack->tuple);
    if (tuple != NULL) {
        return Py_NewRef(tuple);
    }
    tuple = frame_stack_build_tuple(stack);
    if (tuple == NULL) {
        return NULL;
    }
    /* In the free-threaded build another thread may have cached one
       meanwhile: keep the first.  (With the GIL nothing runs while the
       tuple is made, as allocations only schedule a collection; the check
       is kept for safety.) */
    PyObject *expected = NULL;
#ifdef Py_GIL_DISABLED
    if (!_Py_atomic_compare_exchange_ptr(&stack->tuple, &expected, tuple)) {
        Py_DECREF(tuple);
        return Py_NewRef(expected);
    }
#else
    expected = stack->tuple;
    if (expected != NULL) {
        Py_DECREF(tuple);
        return Py_NewRef(expected);
    }
    stack->tuple = tuple;
#endif
    return Py_NewRef(tuple);
}

/* The frame stack type seen from Python, as the handles asyncio keeps. */

static PyObject *
frame_stack_frames(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return _PyCoroOrigin_AsTuple(self);
}

/* A pickled or copied frame stack (the record of a CancelledError holds
   one) is the tuple of its frames, which every reader accepts. */
static PyObject *
frame_stack_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *frames = frame_stack_frames(self, NULL);
    if (frames == NULL) {
        return NULL;
    }
    return Py_BuildValue("(O(N))", (PyObject *)&PyTuple_Type, frames);
}

static PyObject *
frame_stack_summary(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int drop = 0;
    if (!_PyArg_CheckPositional("summary", nargs, 0, 1)) {
        return NULL;
    }
    if (nargs == 1) {
        drop = PyLong_AsInt(args[0]);
        if (drop == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    return _PyCoroOrigin_StackSummary(self, drop);
}

static PyMethodDef frame_stack_methods[] = {
    {"frames", frame_stack_frames, METH_NOARGS,
     PyDoc_STR("frames($self, /)\n--\n\n"
               "The frames as cr_origin gives them, innermost first.")},
    {"summary", _PyCFunction_CAST(frame_stack_summary), METH_FASTCALL,
     PyDoc_STR("summary($self, drop=0, /)\n--\n\n"
               "A traceback.StackSummary, oldest frame first, without the\n"
               "drop innermost frames (asyncio's _source_traceback).")},
    {"__reduce__", frame_stack_reduce, METH_NOARGS, NULL},
    {NULL, NULL}
};

int
_PyCoroOrigin_HandleCheck(PyObject *obj)
{
    return Py_IS_TYPE(obj, &FrameStack_Type);
}

int
_PyCoroOrigin_InitHandleType(PyInterpreterState *interp)
{
    return _PyStaticType_InitBuiltin(interp, &FrameStack_Type);
}

void
_PyCoroOrigin_FiniHandleType(PyInterpreterState *interp)
{
    _PyStaticType_FiniBuiltin(interp, &FrameStack_Type);
}

PyObject *
_PyCoroOrigin_AsyncGenWhere(PyObject *agen)
{
    if (!_PyCoroOrigin_IsRecord(*agen_slot((PyAsyncGenObject *)agen))) {
        return NULL;
    }
    /* The one renderer, as for every other report. */
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *text = _PyCoroOrigin_Call(_PyCoroOrigin_REPORT,
                                        "coroutine_origin_text", &agen, 1);
    if (text != NULL && !PyUnicode_Check(text)) {
        Py_CLEAR(text);
    }
    if (text == NULL) {
        PyErr_Clear();
    }
    PyErr_SetRaisedException(exc);
    return text;
}


/* ---- Our Python modules ---------------------------------------------------
 *
 * Lib/_coro_origin_report.py renders every report; strict mode's text and
 * the dump have modules of their own, which use it.  The interpreter keeps
 * each once imported: reports of objects destroyed while the interpreter
 * shuts down come after sys.modules was emptied, when no import works, and
 * they must still say what stock says, and where.  Py_FinalizeEx() calls
 * _PyCoroOrigin_BindReports() before that, while imports work.
 */

static const char *const module_names[_PyCoroOrigin_NMODULES] = {
    [_PyCoroOrigin_REPORT] = "_coro_origin_report",
    [_PyCoroOrigin_STRICT] = "_coro_origin_strict",
    [_PyCoroOrigin_REQUEST] = "_coro_origin_request",
    [_PyCoroOrigin_HANG] = "_coro_origin_hang",
};

/* *slot, or else module *modname* (attr NULL) or its attribute *attr*,
   kept in *slot* from then on: a new reference, or NULL with an exception
   set. */
static PyObject *
bound_object(struct _Py_coro_origin_state *state, PyObject **slot,
             const char *modname, const char *attr)
{
    TABLE_LOCK(state);
    PyObject *obj = Py_XNewRef(*slot);
    TABLE_UNLOCK(state);
    if (obj != NULL) {
        return obj;
    }
    /* No collection while the module is half imported: a finalizer it
       would run (a task destroyed pending) could report through it, and
       find it without its functions. */
    int gc_enabled = PyGC_Disable();
    obj = (attr == NULL ? PyImport_ImportModule(modname)
           : _PyImport_GetModuleAttrString(modname, attr));
    if (gc_enabled) {
        PyGC_Enable();
    }
    if (obj == NULL) {
        return NULL;
    }
    TABLE_LOCK(state);
    if (*slot == NULL) {
        *slot = Py_NewRef(obj);
    }
    TABLE_UNLOCK(state);
    return obj;
}

static PyObject *
kept_module(PyInterpreterState *interp, _PyCoroOrigin_Module module)
{
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    return bound_object(state, &state->modules[module], module_names[module],
                        NULL);
}

PyObject *
_PyCoroOrigin_Call(_PyCoroOrigin_Module module, const char *name,
                   PyObject *const *args, size_t nargs)
{
    PyObject *mod = kept_module(_PyInterpreterState_GET(), module);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *func = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    if (func == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_Vectorcall(func, args, nargs, NULL);
    Py_DECREF(func);
    return res;
}

int
_PyCoroOrigin_MayRender(PyInterpreterState *interp)
{
    const _PyCoroOriginSpec *spec = &interp->coro_origin_config.spec;
    return (FT_ATOMIC_LOAD_INT_RELAXED(interp->coro_origin.tracked)
            || spec->depth != 0 || spec->startup.strict
            || spec->startup.dump_signal != 0);
}

PyObject *
_PyCoroOrigin_StackSummaryType(PyInterpreterState *interp)
{
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    return bound_object(state, &state->stack_summary, "traceback",
                        "StackSummary");
}

/* At most this many source files are read at exit (warm_linecache()). */
#define LINECACHE_FILES 256

/* Read the source files of the frames in the intern table into linecache:
   a frame stack made into a traceback while modules are torn down (asyncio
   debug mode's _source_traceback, a report's site) could not read them
   then, where stock's debug mode registered them with linecache when it
   captured.  Parked frame stacks hold no code objects and are skipped. */
static void
warm_linecache(struct _Py_coro_origin_state *state)
{
    PyObject *files = PySet_New(NULL);
    if (files == NULL) {
        return;
    }
    TABLE_LOCK(state);
    for (size_t i = 0; state->buckets != NULL && i <= state->mask; i++) {
        for (frame_stack *s = state->buckets[i]; s != NULL; s = s->next) {
            for (Py_ssize_t j = 0; s->park_slot < 0 && j < Py_SIZE(s); j++) {
                if (PySet_GET_SIZE(files) >= LINECACHE_FILES
                    || PySet_Add(files,
                                 s->entries[j].code->co_filename) < 0)
                {
                    goto done;
                }
            }
        }
    }
done:
    TABLE_UNLOCK(state);
    PyObject *getlines = _PyImport_GetModuleAttrString("linecache",
                                                       "getlines");
    Py_ssize_t pos = 0;
    PyObject *name;
    Py_hash_t hash;
    while (getlines != NULL && _PySet_NextEntry(files, &pos, &name, &hash)) {
        PyObject *lines = PyObject_CallOneArg(getlines, name);
        if (lines == NULL) {
            break;
        }
        Py_DECREF(lines);
    }
    Py_XDECREF(getlines);
    Py_DECREF(files);
}

void
_PyCoroOrigin_BindReports(PyThreadState *tstate)
{
    PyInterpreterState *interp = tstate->interp;
    PyObject *exc = PyErr_GetRaisedException();
    if (interp->coro_origin.buckets != NULL) {
        /* Frame stacks exist (asyncio's debug mode keeps them for its
           _source_traceback, made when read): keep traceback.StackSummary
           (traceback is imported already: asyncio imports it). */
        Py_XDECREF(_PyCoroOrigin_StackSummaryType(interp));
        warm_linecache(&interp->coro_origin);
        PyErr_Clear();
    }
    /* If no origin can exist, the reports are stock's: nothing to bind. */
    if (_PyCoroOrigin_MayRender(interp)) {
        Py_XDECREF(kept_module(interp, _PyCoroOrigin_REPORT));
        Py_XDECREF(kept_module(interp, _PyCoroOrigin_STRICT));
        Py_XDECREF(kept_module(interp, _PyCoroOrigin_REQUEST));
    }
    /* What failed is left out: the reports print stock's text. */
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

PyObject *
_PyCoroOrigin_Chain(PyObject *origin)
{
    if (origin == NULL || !Record_Check(origin) || Py_SIZE(origin) == 0) {
        Py_RETURN_NONE;
    }
    origin_record *rec = Record_CAST(origin);
    Py_ssize_t n = Py_SIZE(rec);
    PyObject *chain = PyTuple_New(n);
    if (chain == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tuple = _PyCoroOrigin_AsTuple(rec->chain[i].frames);
        if (tuple == NULL) {
            goto error;
        }
        PyObject *pair = PyTuple_Pack(2, rec->chain[i].qualname, tuple);
        Py_DECREF(tuple);
        if (pair == NULL) {
            goto error;
        }
        PyTuple_SET_ITEM(chain, i, pair);
    }
    return chain;

error:
    Py_DECREF(chain);
    return NULL;
}


/* ---- Async generators and getters ---------------------------------------
 *
 * An async generator's slot holds its finalizer (stock), or, when it is
 * tracked, an origin record holding the finalizer.  In strict mode, once
 * the generator's aclose() may have been lost, either is held by a watch
 * (Python/coro_origin_strict.c) that judges when the generator is freed;
 * agen_slot() looks through it.
 */

int
_PyCoroOrigin_IsRecord(PyObject *op)
{
    return op != NULL && Record_Check(op);
}

PyObject *
_PyCoroOrigin_AsyncGenSlotFinalizer(PyAsyncGenObject *agen)
{
    PyObject *slot = *agen_slot(agen);
    return (slot != NULL && Record_Check(slot))
           ? Record_CAST(slot)->finalizer : slot;
}

void
_PyCoroOrigin_SetAsyncGenFinalizer(PyAsyncGenObject *agen,
                                   PyObject *finalizer)
{
    PyObject **slot = agen_slot(agen);
    if (*slot != NULL && Record_Check(*slot)) {
        Py_XSETREF(Record_CAST(*slot)->finalizer, Py_XNewRef(finalizer));
    }
    else {
        Py_XSETREF(*slot, Py_XNewRef(finalizer));
    }
}

int
_PyCoroOrigin_CaptureAsyncGen(PyThreadState *tstate, PyAsyncGenObject *agen)
{
    if (!_PyCoroOrigin_ThreadSettings(tstate)->asyncgen) {
        return 0;
    }
    _PyInterpreterFrame *frame = tstate->current_frame;
    assert(frame != NULL && _PyFrame_IsIncomplete(frame));
    frame = _PyFrame_GetFirstComplete(frame->previous);
    PyObject *origin = _PyCoroOrigin_CaptureFor(
        tstate, frame, tstate->coroutine_origin_tracking_depth,
        (PyObject *)agen);
    if (origin == NULL) {
        return -1;
    }
    agen->ag_origin_or_finalizer = origin;
    return 0;
}

PyObject *
_PyCoroOrigin_CoroSite(PyObject *coro)
{
    if (coro == NULL || !PyCoro_CheckExact(coro)) {
        return NULL;
    }
    return Py_XNewRef(
        origin_frames(((PyCoroObject *)coro)->cr_origin_or_finalizer));
}

PyObject *
_PyCoroOrigin_CoroGetOrigin(PyObject *coro, void *Py_UNUSED(closure))
{
    PyCoroObject *cr = (PyCoroObject *)coro;
    return _PyCoroOrigin_AsTuple(cr->cr_origin_or_finalizer);
}

int
_PyCoroOrigin_CoroSetOrigin(PyObject *coro, PyObject *value,
                            void *Py_UNUSED(closure))
{
    /* Same error as when cr_origin was a read-only member. */
    PyErr_SetString(PyExc_AttributeError, "readonly attribute");
    return -1;
}

PyObject *
_PyCoroOrigin_CoroGetChain(PyObject *coro, void *Py_UNUSED(closure))
{
    return _PyCoroOrigin_Chain(((PyCoroObject *)coro)->cr_origin_or_finalizer);
}

PyObject *
_PyCoroOrigin_AsyncGenGetOrigin(PyObject *agen, void *Py_UNUSED(closure))
{
    PyObject *slot = *agen_slot((PyAsyncGenObject *)agen);
    if (!_PyCoroOrigin_IsRecord(slot)) {
        Py_RETURN_NONE;
    }
    return _PyCoroOrigin_AsTuple(slot);
}

PyObject *
_PyCoroOrigin_AsyncGenGetChain(PyObject *agen, void *Py_UNUSED(closure))
{
    PyObject *slot = *agen_slot((PyAsyncGenObject *)agen);
    if (!_PyCoroOrigin_IsRecord(slot)) {
        Py_RETURN_NONE;
    }
    return _PyCoroOrigin_Chain(slot);
}


/* ---- Escaping exceptions ------------------------------------------------
 *
 * With the "tracebacks" setting, an Exception (not StopIteration or
 * StopAsyncIteration) that escapes a tracked coroutine that was not
 * awaited by another coroutine (a task's root coroutine, an eager task's
 * coroutine running inside create_task(), or a coroutine driven by
 * send()/throw()) records where that coroutine was created, in the
 * exception's __dict__ as
 *
 *     __coro_origin__ = ('coroutine', qualname, cr_origin, cr_origin_chain)
 *
 * (plain tuples and strings: the exception still pickles and copies).
 * Only the first coroutine an exception escapes records it: one exception
 * awaited by 200 tasks, or raised 300 times, carries one.  str(), args
 * and __notes__ are untouched; Lib/traceback.py prints the record through
 * the renderer (Lib/_coro_origin_report.py) after the notes.
 */

/* Is the coroutine being resumed by "caller" awaited by it?  A coroutine
   or async generator frame resumes another by await (SEND, or a throw()
   passed down a "yield from"): then the awaiting coroutine reports.  A
   coroutine frame that is in the middle of a call (create_task() running
   an eager task's first step, or an explicit coro.send()) is not awaiting
   it. */
static int
awaited_by(_PyInterpreterFrame *caller)
{
    if (caller == NULL || caller->owner != FRAME_OWNED_BY_GENERATOR
        || !(_PyFrame_GetCode(caller)->co_flags
             & (CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR)))
    {
        return 0;
    }
    int opcode = _PyOpcode_Deopt[caller->instr_ptr->op.code];
    return !(opcode == CALL || opcode == CALL_KW
             || opcode == CALL_FUNCTION_EX
             || opcode == INSTRUMENTED_CALL
             || opcode == INSTRUMENTED_CALL_KW
             || opcode == INSTRUMENTED_CALL_FUNCTION_EX);
}

static PyObject *
escaped_record(PyObject *coro, PyObject *origin)
{
    PyObject *frames = _PyCoroOrigin_AsTuple(origin);
    if (frames == NULL) {
        return NULL;
    }
    PyObject *chain = _PyCoroOrigin_Chain(origin);
    if (chain == NULL) {
        Py_DECREF(frames);
        return NULL;
    }
    PyObject *record = Py_BuildValue("(sONN)", "coroutine",
                                     ((PyCoroObject *)coro)->cr_qualname,
                                     frames, chain);
    return record;
}

/* Origins kept aside, for exceptions whose type overrides __setattr__:
   interp->coro_origin.exc_origins maps id(exc) to (weakref to exc,
   record); the weak reference's callback removes the entry when the
   exception dies, before its id can be reused.  An exception that cannot
   be weakly referenced keeps no origin. */

static PyObject *
exc_origins(PyInterpreterState *interp, int create)
{
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    TABLE_LOCK(state);
    if (state->exc_origins == NULL && create) {
        state->exc_origins = PyDict_New();
    }
    PyObject *table = Py_XNewRef(state->exc_origins);
    TABLE_UNLOCK(state);
    return table;
}

static PyObject *
forget_aside(PyObject *key, PyObject *Py_UNUSED(ref))
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *table = exc_origins(_PyInterpreterState_GET(), 0);
    if (table != NULL && PyDict_Pop(table, key, NULL) < 0) {
        PyErr_Clear();
    }
    Py_XDECREF(table);
    PyErr_SetRaisedException(exc);
    Py_RETURN_NONE;
}

static PyMethodDef forget_aside_def = {
    "_forget_exception_origin", forget_aside, METH_O, NULL
};

static int
keep_aside(PyObject *coro, PyObject *origin, PyObject *exc)
{
    if (!_PyType_SUPPORTS_WEAKREFS(Py_TYPE(exc))) {
        return 0;
    }
    PyObject *table = exc_origins(_PyInterpreterState_GET(), 1);
    if (table == NULL) {
        return -1;
    }
    PyObject *key = PyLong_FromVoidPtr(exc);
    PyObject *callback = NULL, *ref = NULL, *record = NULL, *entry = NULL;
    int res = -1;
    if (key == NULL) {
        goto error;
    }
    int present = PyDict_Contains(table, key);
    if (present != 0) {
        res = present < 0 ? -1 : 0;     /* the first coroutine's is kept */
        goto error;
    }
    callback = PyCFunction_New(&forget_aside_def, key);
    if (callback == NULL) {
        goto error;
    }
    ref = PyWeakref_NewRef(exc, callback);
    if (ref == NULL) {
        goto error;
    }
    record = escaped_record(coro, origin);
    if (record == NULL) {
        goto error;
    }
    entry = PyTuple_Pack(2, ref, record);
    if (entry == NULL) {
        goto error;
    }
    res = PyDict_SetItem(table, key, entry);
error:
    Py_XDECREF(entry);
    Py_XDECREF(record);
    Py_XDECREF(ref);
    Py_XDECREF(callback);
    Py_XDECREF(key);
    Py_DECREF(table);
    return res;
}

PyObject *
_PyCoroOrigin_ExceptionOrigin(PyObject *exc)
{
    if (!PyExceptionInstance_Check(exc)) {
        return NULL;
    }
    PyObject *exc_now = PyErr_GetRaisedException();
    PyObject *found = NULL;
    PyObject **dictptr = _PyObject_GetDictPtr(exc);
    if (dictptr != NULL && *dictptr != NULL) {
        PyObject *key = PyUnicode_InternFromString("__coro_origin__");
        if (key == NULL
            || PyDict_GetItemRef(*dictptr, key, &found) < 0) {
            found = NULL;
        }
        Py_XDECREF(key);
    }
    PyObject *table = NULL;
    if (found == NULL
        && (table = exc_origins(_PyInterpreterState_GET(), 0)) != NULL)
    {
        PyObject *key = PyLong_FromVoidPtr(exc);
        PyObject *entry = NULL;
        if (key != NULL && PyDict_GetItemRef(table, key, &entry) > 0
            && PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 2)
        {
            found = Py_NewRef(PyTuple_GET_ITEM(entry, 1));
        }
        Py_XDECREF(entry);
        Py_XDECREF(key);
        Py_DECREF(table);
    }
    if (found == NULL) {
        found = _PyCoroOrigin_AsyncioExceptionOrigin(exc);
    }
    PyErr_Clear();
    PyErr_SetRaisedException(exc_now);
    return found;
}

void
_PyCoroOrigin_NoteException(PyThreadState *tstate, PyObject *coro)
{
    if (!PyErr_Occurred()) {
        /* 3.13 before 3.13.12 can lose the exception while clearing the
           coroutine's frame when memory runs out (gh-100964): the caller
           then gets stock's SystemError, which this must not turn into a
           failed assertion. */
        return;
    }
    PyObject *origin = ((PyCoroObject *)coro)->cr_origin_or_finalizer;
    if (origin == NULL || !_PyCoroOrigin_ThreadSettings(tstate)->tracebacks) {
        return;
    }
    _PyInterpreterFrame *caller = tstate->current_frame;
    if (caller != NULL) {
        caller = _PyFrame_GetFirstComplete(caller);
    }
    if (awaited_by(caller)) {
        return;
    }
    PyObject *exc = PyErr_GetRaisedException();
    if (!PyErr_GivenExceptionMatches(exc, PyExc_Exception)
        || PyErr_GivenExceptionMatches(exc, PyExc_StopIteration)
        || PyErr_GivenExceptionMatches(exc, PyExc_StopAsyncIteration))
    {
        goto done;
    }
    if (Py_TYPE(exc)->tp_setattro != PyObject_GenericSetAttr) {
        /* The type refuses some attributes, perhaps this one: unpickling
           or copying the exception would set it again.  Keep the origin
           outside the exception. */
        if (keep_aside(coro, origin, exc) < 0) {
            PyErr_Clear();
        }
        goto done;
    }
    /* The exception's own dict, not setattr(): no user __setattr__ runs
       on this path, and a record already there is kept. */
    PyObject **dictptr = _PyObject_GetDictPtr(exc);
    if (dictptr == NULL) {
        goto done;
    }
    if (*dictptr == NULL) {
        *dictptr = PyDict_New();
        if (*dictptr == NULL) {
            PyErr_Clear();
            goto done;
        }
    }
    PyObject *key = PyUnicode_InternFromString("__coro_origin__");
    int present = key == NULL ? -1 : PyDict_Contains(*dictptr, key);
    if (present == 0) {
        PyObject *record = escaped_record(coro, origin);
        if (record == NULL || PyDict_SetItem(*dictptr, key, record) < 0) {
            present = -1;
        }
        Py_XDECREF(record);
    }
    Py_XDECREF(key);
    if (present < 0) {
        /* The exception being raised matters more than its origin. */
        PyErr_Clear();
    }
done:
    PyErr_SetRaisedException(exc);
}


/* ---- The live registry ----------------------------------------------------
 *
 * Tracked coroutines created while the creating thread's settings name a
 * dump signal get a record linked in a per-interpreter doubly linked list
 * (O(1) insert and remove; locked in the free-threaded build).  A record
 * unlinks itself when it is deallocated, that is when its coroutine is.
 */

PyObject *
_PyCoroOrigin_Live(PyThreadState *tstate)
{
    struct _Py_coro_origin_state *state = &tstate->interp->coro_origin;
    PyObject **items = NULL;
    Py_ssize_t count = 0;
    for (;;) {
        /* Count, allocate, then take references, none of which runs
           Python code, so the list cannot change meanwhile with the GIL;
           the free-threaded build holds the lock over the last pass and
           retries if the list grew. */
        Py_ssize_t size = 0;
        LIVE_LOCK(state);
        for (origin_record *rec = state->live; rec; rec = rec->live_next) {
            size++;
        }
        LIVE_UNLOCK(state);
        items = PyMem_Malloc((size_t)(size ? size : 1) * sizeof(PyObject *));
        if (items == NULL) {
            return PyErr_NoMemory();
        }
        LIVE_LOCK(state);
        Py_ssize_t seen = 0;
        for (origin_record *rec = state->live; rec; rec = rec->live_next) {
            seen++;
        }
        if (seen > size) {
            LIVE_UNLOCK(state);
            PyMem_Free(items);
            continue;
        }
        for (origin_record *rec = state->live; rec; rec = rec->live_next) {
            PyGenObject *gen = (PyGenObject *)rec->gen;
            if (gen->gi_frame_state >= FRAME_COMPLETED) {
                continue;
            }
#ifdef Py_GIL_DISABLED
            if (!_Py_TryIncrefCompare((PyObject **)&rec->gen,
                                      (PyObject *)gen)) {
                continue;
            }
#else
            if (Py_REFCNT(gen) == 0) {
                continue;
            }
            Py_INCREF(gen);
#endif
            items[count++] = (PyObject *)gen;
        }
        LIVE_UNLOCK(state);
        break;
    }
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_DECREF(items[i]);
        }
        PyMem_Free(items);
        return NULL;
    }
    /* Oldest first. */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyList_SET_ITEM(list, i, items[count - 1 - i]);
    }
    PyMem_Free(items);
    return list;
}

void
_PyCoroOrigin_Fini(PyInterpreterState *interp)
{
    /* Parked frame stacks are freed.  Frame stacks still alive (held by
       leaked coroutines) are forgotten: their dealloc, if it ever runs,
       finds no table and frees them. */
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    TABLE_LOCK(state);
    evict_parked(state);
    frame_stack **buckets = state->buckets;
    state->buckets = NULL;
    state->mask = 0;
    state->used = 0;
    TABLE_UNLOCK(state);
    PyMem_Free(buckets);
}

void
_PyCoroOrigin_ClearCaches(PyInterpreterState *interp)
{
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    TABLE_LOCK(state);
    evict_parked(state);
    TABLE_UNLOCK(state);
}
