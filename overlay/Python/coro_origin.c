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
 * part of a reference cycle and is not tracked by the GC.  Its type is an
 * internal static type whose instances never reach Python code: they live
 * only in coroutine slots (gen_traverse does not visit the slot) and in the
 * intern table.
 */

#include "Python.h"
#include "pycore_code.h"          // _PyCode_DEF()
#include "pycore_coro_origin.h"
#include "pycore_frame.h"         // _PyFrame_GetFirstComplete()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin
#include "pycore_object.h"        // _Py_TryIncrefFast()
#include "pycore_pyatomic_ft_wrappers.h"  // FT_ATOMIC_LOAD_PTR_ACQUIRE()
#include "pycore_pystate.h"       // _PyInterpreterState_GET()


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

static PyTypeObject FrameStack_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "coroutine_origin_frames",
    .tp_basicsize = offsetof(frame_stack, entries),
    .tp_itemsize = sizeof(origin_entry),
    .tp_dealloc = frame_stack_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
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


/* ---- Frame stacks -------------------------------------------------------- */

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

PyObject *
_PyCoroOrigin_Capture(PyThreadState *tstate, _PyInterpreterFrame *frame,
                      int depth)
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

    struct _Py_coro_origin_state *state = &tstate->interp->coro_origin;
    TABLE_LOCK(state);

    frame_stack *stack = table_lookup(state, hash, &key);
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
    if (key.buffered) {
        memcpy(stack->entries, buffer, (size_t)n * sizeof(origin_entry));
    }
    else {
        f = frame;
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
    return (PyObject *)stack;

nomemory:
    TABLE_UNLOCK(state);
    return PyErr_NoMemory();
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

PyObject *
_PyCoroOrigin_Entries(PyObject *origin)
{
    frame_stack *stack = FrameStack_CAST(origin);
    Py_ssize_t n = Py_SIZE(stack);
    PyObject *entries = PyTuple_New(n);
    if (entries == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = Py_BuildValue("On", stack->entries[i].code,
                                       (Py_ssize_t)stack->entries[i].addr);
        if (pair == NULL) {
            Py_DECREF(entries);
            return NULL;
        }
        PyTuple_SET_ITEM(entries, i, pair);
    }
    return entries;
}

void
_PyCoroOrigin_Fini(PyInterpreterState *interp)
{
    /* Parked frame stacks are freed.  Frame stacks still alive (held by
       leaked coroutines) are forgotten: their dealloc, if it ever runs,
       finds no table and frees them. */
    struct _Py_coro_origin_state *state = &interp->coro_origin;
    TABLE_LOCK(state);
    frame_stack **buckets = state->buckets;
    state->buckets = NULL;
    state->mask = 0;
    state->used = 0;
    for (int i = 0; i < _Py_CORO_ORIGIN_PARKED; i++) {
        frame_stack *parked = state->parked[i];
        state->parked[i] = NULL;
        PyObject_Free(parked);
    }
    state->park_cursor = 0;
    TABLE_UNLOCK(state);
    PyMem_Free(buckets);
}
