/* origin-python: asyncio's side of coroutine origins.
 *
 * This file is part of origin-python, not of upstream CPython; see
 * Include/internal/pycore_coro_origin_asyncio.h for the interface and
 * DESIGN.md in the origin-python repository for the data path.
 *
 * asyncio records where Futures, Tasks and Handles are created: in debug
 * mode for their _source_traceback, and with origin tracking on for the
 * never-retrieved report of a plain Future.  Stock CPython builds a list
 * of FrameSummary objects at once.  Here both the C and the Python
 * implementations keep an interned frame stack (Python/coro_origin.c), the
 * same object a coroutine's origin is made of, and turn it into stock's
 * list when someone reads it, in one place: _PyCoroOrigin_StackSummary().
 */
#include "Python.h"
#include "pycore_coro_origin.h"
#include "pycore_fileutils.h"     // _Py_write_noraise()
#include "pycore_frame.h"         // _PyFrame_GetFirstComplete()
#include "pycore_import.h"        // _PyImport_GetModuleAttrString()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_pystate.h"       // _Py_IsMainInterpreter()
#include "pycore_lock.h"          // PyMutex_LockFlags()
#include "pycore_long.h"          // _PyLong_GetOne()
#include "pycore_pyatomic_ft_wrappers.h"  // FT_ATOMIC_LOAD_PTR_ACQUIRE()
#include "pycore_pylifecycle.h"   // _Py_IsInterpreterFinalizing()
#include "pycore_pythread.h"      // PyThread_start_joinable_thread()
#include "pycore_runtime.h"       // _PyRuntime.signals
#include "pycore_traceback.h"     // _Py_DumpTracebackThreads()

#include <stdlib.h>               // _Exit()

/* asyncio.constants.DEBUG_STACK_DEPTH: asyncio's C Future captured the
   whole stack (traceback.extract_stack()), the Python one 10 frames. */
#define WHOLE_STACK (-1)

PyObject *
_PyCoroOrigin_CaptureHandle(PyThreadState *tstate, int frames_above,
                            int depth, int skip_modules)
{
    if (depth == 0) {
        Py_RETURN_NONE;
    }
    if (depth < 0) {
        depth = INT_MAX;
    }
    _PyInterpreterFrame *frame = _PyFrame_GetFirstComplete(
        tstate->current_frame);
    for (int i = 0; i < frames_above && frame != NULL; i++) {
        frame = _PyFrame_GetFirstComplete(frame->previous);
    }
    if (frame == NULL) {
        Py_RETURN_NONE;
    }
    /* Debug mode's tracebacks keep every frame, as stock's do (asyncio
       drops its own frames from them by count); a future's origin follows
       the thread's skip= setting, as a coroutine's. */
    return _PyCoroOrigin_Capture(tstate, frame, depth, skip_modules);
}

PyObject *
_PyCoroOrigin_StackSummary(PyObject *handle, int drop)
{
    if (!_PyCoroOrigin_HandleCheck(handle)) {
        PyErr_Format(PyExc_TypeError, "expected a frame stack, not %T",
                     handle);
        return NULL;
    }
    PyObject *frames = _PyCoroOrigin_AsTuple(handle);
    if (frames == NULL) {
        return NULL;
    }
    PyObject *from_list = NULL, *list = NULL, *result = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(frames) - (drop > 0 ? drop : 0);
    list = PyList_New(n > 0 ? n : 0);
    if (list == NULL) {
        goto done;
    }
    /* cr_origin's (filename, lineno, name), innermost first, become
       StackSummary.from_list()'s (filename, lineno, name, line), oldest
       first; a frame without a line number has lineno None, as in
       traceback.extract_stack(). */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *info = PyTuple_GET_ITEM(frames,
                                          PyTuple_GET_SIZE(frames) - 1 - i);
        PyObject *lineno = PyTuple_GET_ITEM(info, 1);
        if (PyLong_AsLong(lineno) < 0) {
            lineno = Py_None;
        }
        PyObject *entry = PyTuple_Pack(4, PyTuple_GET_ITEM(info, 0), lineno,
                                       PyTuple_GET_ITEM(info, 2), Py_None);
        if (entry == NULL) {
            goto done;
        }
        PyList_SET_ITEM(list, i, entry);
    }
    PyObject *summary = _PyCoroOrigin_StackSummaryType(
        _PyInterpreterState_GET());
    if (summary == NULL) {
        goto done;
    }
    from_list = PyObject_GetAttrString(summary, "from_list");
    Py_DECREF(summary);
    if (from_list != NULL) {
        result = PyObject_CallOneArg(from_list, list);
    }
done:
    Py_XDECREF(from_list);
    Py_XDECREF(list);
    Py_DECREF(frames);
    return result;
}

/* ---- The C Future and Task (Modules/_asynciomodule.c) ------------------ */

/* Keep a new handle from _PyCoroOrigin_CaptureHandle() in *slot (None:
   nothing to keep).  0, or -1 if the capture failed. */
static int
store_handle(PyObject **slot, PyObject *handle)
{
    if (handle == NULL) {
        return -1;
    }
    if (handle == Py_None) {
        Py_DECREF(handle);
    }
    else {
        Py_XSETREF(*slot, handle);
    }
    return 0;
}

int
_PyCoroOrigin_FutureCapture(PyObject **source_tb, int *source_drop)
{
    *source_drop = 0;
    return store_handle(source_tb, _PyCoroOrigin_CaptureHandle(
        _PyThreadState_GET(), 0, WHOLE_STACK, 0));
}

int
_PyCoroOrigin_FutureCaptureOrigin(PyObject **origin_stack)
{
    PyThreadState *tstate = _PyThreadState_GET();
    int depth = tstate->coroutine_origin_tracking_depth;
    if (depth <= 0 || _Py_IsInterpreterFinalizing(tstate->interp)) {
        return 0;
    }
    return store_handle(origin_stack,
                        _PyCoroOrigin_CaptureHandle(tstate, 0, depth, 1));
}

int
_PyCoroOrigin_FutureMaterialize(PyObject **source_tb, int *source_drop)
{
    if (*source_tb == NULL || !_PyCoroOrigin_HandleCheck(*source_tb)) {
        return 0;
    }
    PyObject *tb = _PyCoroOrigin_StackSummary(*source_tb, *source_drop);
    if (tb == NULL) {
        return -1;
    }
    *source_drop = 0;
    Py_SETREF(*source_tb, tb);
    return 0;
}

PyObject *
_PyCoroOrigin_FutureDrop(PyObject *source_tb, int *source_drop)
{
    if (source_tb == NULL) {
        Py_RETURN_NONE;
    }
    if (_PyCoroOrigin_HandleCheck(source_tb)) {
        (*source_drop)++;
        Py_RETURN_NONE;
    }
    /* Already a list: stock's "if tb: del tb[-1]". */
    int is_true = PyObject_IsTrue(source_tb);
    if (is_true <= 0) {
        return is_true < 0 ? NULL : Py_NewRef(Py_None);
    }
    PyObject *index = PyLong_FromLong(-1);
    if (index == NULL) {
        return NULL;
    }
    int rc = PyObject_DelItem(source_tb, index);
    Py_DECREF(index);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

int
_PyCoroOrigin_IsTracked(PyObject *coro)
{
    return (coro != NULL && PyCoro_CheckExact(coro)
            && ((PyCoroObject *)coro)->cr_origin_or_finalizer != NULL);
}

/* ---- Cancellation provenance ----------------------------------------------
 *
 * Future.cancel() and Task.cancel() of the C Future and Task call
 * _PyCoroOrigin_NoteCancel(), and create_cancelled_error() calls
 * _PyCoroOrigin_NoteCancelledError(): who asked is kept in
 * asyncio._origin._cancels, in the format that Lib/asyncio/_origin.py
 * describes and uses for the Python Future and Task.  A cancel() is common
 * enough to be done here: a frame stack, a few lookups, nothing rendered
 * (the renderer makes the text when it is shown).  What is rare goes to
 * asyncio._origin.note_cancel(): a future already done (its exception may
 * be dropped), a cancel() that asyncio makes for a reason (the text of
 * which names a TaskGroup's failed child), another thread than the main
 * one (its name), and what is not set up yet.  The future that a C
 * Task's cancel() cancels for it, the one it waits on, gets no entry: its
 * CancelledError, made when the task wakes up, takes the task's (see
 * _PyCoroOrigin_NoteCancelledError()); a task it waits on shares the
 * task's.  Nothing runs unless the
 * fork's tracking is on in the thread.  Errors of our own are cleared: the
 * program's cancel() goes on; only what asyncio._origin.note_cancel() lets
 * escape (raised by a signal handler that ran meanwhile, such as
 * KeyboardInterrupt) is passed on, as a Python cancel() would: the callers
 * return NULL.
 */

/* The items of asyncio._origin.c_state(). */
enum {
    CANCELS, STEP_CODE, RUN_CODE, REASON_CODES, REASON_FRAMES,
    GET_RUNNING_LOOP, CURRENT_TASK,
    NAME_DONE, NAME_GET_NAME, NAME_GET_CORO, NAME_FUT_WAITER, NAME_ORIGIN,
    KIND_CANCELLED, LAST_BY, GC_STATE, DYING,
    HANDLE_TYPE, HANDLE_SITE, HANDLE_CALLBACK, ASYNCIO_DIR, CREATE_TASK_CODE,
    FUTURE_TYPES,
    WORK_RUN_CODE, WORK_DIR, NAME_WORK_SITE,
    CANCEL_STATE_SIZE
};
#define CANCEL_STATE(state, item) PyTuple_GET_ITEM((state), (item))

static PyObject *running_handle_slot(PyObject *, _PyInterpreterFrame *, int);

/* A slot of Handle (its member descriptor), read by offset. */
static int
handle_slot_ok(PyObject *descr)
{
    return (Py_IS_TYPE(descr, &PyMemberDescr_Type)
            && ((PyMemberDescrObject *)descr)->d_member->type
               == Py_T_OBJECT_EX);
}

static int
cancel_state_ok(PyObject *state)
{
    if (!PyTuple_CheckExact(state)
        || PyTuple_GET_SIZE(state) != CANCEL_STATE_SIZE
        || !PyDict_CheckExact(CANCEL_STATE(state, CANCELS))
        || !PyTuple_CheckExact(CANCEL_STATE(state, REASON_CODES))
        || !PyLong_CheckExact(CANCEL_STATE(state, REASON_FRAMES))
        || !PyList_CheckExact(CANCEL_STATE(state, LAST_BY))
        || PyList_GET_SIZE(CANCEL_STATE(state, LAST_BY)) != 2
        || !PyList_CheckExact(CANCEL_STATE(state, GC_STATE))
        || PyList_GET_SIZE(CANCEL_STATE(state, GC_STATE)) != 1
        || !PyDict_CheckExact(CANCEL_STATE(state, DYING))
        || !PyCode_Check(CANCEL_STATE(state, RUN_CODE))
        || !PyType_Check(CANCEL_STATE(state, HANDLE_TYPE))
        || !handle_slot_ok(CANCEL_STATE(state, HANDLE_SITE))
        || !handle_slot_ok(CANCEL_STATE(state, HANDLE_CALLBACK))
        || !PyUnicode_CheckExact(CANCEL_STATE(state, ASYNCIO_DIR))
        || !PyTuple_CheckExact(CANCEL_STATE(state, FUTURE_TYPES))
        || !PyCode_Check(CANCEL_STATE(state, WORK_RUN_CODE))
        || !PyUnicode_CheckExact(CANCEL_STATE(state, WORK_DIR))
        || !PyUnicode_CheckExact(CANCEL_STATE(state, NAME_WORK_SITE)))
    {
        return 0;
    }
    for (int i = NAME_DONE; i <= KIND_CANCELLED; i++) {
        if (!PyUnicode_CheckExact(CANCEL_STATE(state, i))) {
            return 0;
        }
    }
    PyObject *types = CANCEL_STATE(state, FUTURE_TYPES);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(types); i++) {
        if (!PyType_Check(PyTuple_GET_ITEM(types, i))) {
            return 0;
        }
    }
    return 1;
}

/* asyncio._origin.c_state() (a new reference), made on first use and kept
   by the interpreter; or NULL (with an exception if it failed; without
   one if asyncio._origin is not imported). */
static PyObject *
cancel_state(void)
{
    struct _Py_coro_origin_state *ours =
        &_PyInterpreterState_GET()->coro_origin;
    PyMutex_LockFlags(&ours->mutex, _Py_LOCK_DONT_DETACH);
    PyObject *state = Py_XNewRef(ours->cancel_state);
    PyMutex_Unlock(&ours->mutex);
    if (state != NULL) {
        return state;
    }
    PyObject *module = NULL;
    if (PyMapping_GetOptionalItemString(PyImport_GetModuleDict(),
                                        "asyncio._origin", &module) <= 0)
    {
        return NULL;
    }
    state = PyObject_CallMethod(module, "c_state", NULL);
    Py_DECREF(module);
    if (state != NULL && !cancel_state_ok(state)) {
        Py_CLEAR(state);
        PyErr_SetString(PyExc_TypeError, "malformed asyncio._origin state");
    }
    if (state != NULL) {
        PyMutex_LockFlags(&ours->mutex, _Py_LOCK_DONT_DETACH);
        if (ours->cancel_state == NULL) {
            /* (read without the lock by made_state()) */
            FT_ATOMIC_STORE_PTR_RELEASE(ours->cancel_state,
                                        Py_NewRef(state));
        }
        PyMutex_Unlock(&ours->mutex);
    }
    return state;
}

/* Entries of _cancels: [ref, info, shared]; info: [stack, by, reason,
   count]. */
enum { ENTRY_REF, ENTRY_INFO, ENTRY_SHARED };
enum { INFO_STACK, INFO_BY, INFO_REASON, INFO_COUNT };

/* The entry (a new reference) of "fut" in "cancels", or NULL (with an
   exception if the lookup failed).  "key": id(fut), or NULL to make it. */
static PyObject *
cancel_entry(PyObject *cancels, PyObject *key, PyObject *fut)
{
    PyObject *entry = NULL, *made = key ? NULL : PyLong_FromVoidPtr(fut);
    int found = (key || made) ? PyDict_GetItemRef(cancels, key ? key : made,
                                                  &entry) : -1;
    Py_XDECREF(made);
    if (found <= 0) {
        return NULL;
    }
    if (PyList_CheckExact(entry) && PyList_GET_SIZE(entry) == 3
        && PyWeakref_CheckRef(PyList_GET_ITEM(entry, ENTRY_REF))
        && PyList_CheckExact(PyList_GET_ITEM(entry, ENTRY_INFO))
        && PyList_GET_SIZE(PyList_GET_ITEM(entry, ENTRY_INFO)) == 4)
    {
        PyObject *referent;
        if (PyWeakref_GetRef(PyList_GET_ITEM(entry, ENTRY_REF),
                             &referent) > 0)
        {
            Py_DECREF(referent);
            if (referent == fut) {
                return entry;
            }
        }
    }
    Py_DECREF(entry);
    return NULL;                /* a dead future's, or not ours */
}

static PyObject *
forget_cancel(PyObject *key, PyObject *ref)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *state = cancel_state();
    PyObject *entry = NULL;
    if (state != NULL
        && PyDict_Pop(CANCEL_STATE(state, CANCELS), key, &entry) > 0
        && !(PyList_CheckExact(entry) && PyList_GET_SIZE(entry) == 3
             && PyList_GET_ITEM(entry, ENTRY_REF) == ref))
    {
        /* a newer entry, for another object at that address: put back */
        (void)PyDict_SetItem(CANCEL_STATE(state, CANCELS), key, entry);
    }
    else if (entry != NULL
             && PyList_GET_ITEM(CANCEL_STATE(state, GC_STATE), 0) == Py_True)
    {
        /* A collection runs: readable until it ends (see _kept() in
           Lib/asyncio/_origin.py), by (id(_cancels), key). */
        PyObject *table_id = PyLong_FromVoidPtr(CANCEL_STATE(state, CANCELS));
        PyObject *dying_key = table_id ? PyTuple_Pack(2, table_id, key)
                                       : NULL;
        if (dying_key != NULL) {
            (void)PyDict_SetItem(CANCEL_STATE(state, DYING), dying_key,
                                 entry);
        }
        Py_XDECREF(dying_key);
        Py_XDECREF(table_id);
    }
    Py_XDECREF(entry);
    Py_XDECREF(state);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    Py_RETURN_NONE;
}

static PyMethodDef forget_cancel_def = {
    "_forget_cancel", forget_cancel, METH_O, NULL
};

/* _cancels[id(fut)] = [weakref(fut, forget), info, shared].  "key":
   id(fut), or NULL to make it. */
static int
remember_cancel(PyObject *cancels, PyObject *key, PyObject *fut,
                PyObject *info, int shared)
{
    PyObject *callback = NULL, *ref = NULL, *entry = NULL;
    int res = -1;
    key = key ? Py_NewRef(key) : PyLong_FromVoidPtr(fut);
    if (key == NULL) {
        goto error;
    }
    callback = PyCFunction_New(&forget_cancel_def, key);
    if (callback == NULL) {
        goto error;
    }
    ref = PyWeakref_NewRef(fut, callback);
    if (ref == NULL) {
        goto error;
    }
    entry = PyList_New(3);
    if (entry == NULL) {
        goto error;
    }
    PyList_SET_ITEM(entry, ENTRY_REF, Py_NewRef(ref));
    PyList_SET_ITEM(entry, ENTRY_INFO, Py_NewRef(info));
    PyList_SET_ITEM(entry, ENTRY_SHARED, PyBool_FromLong(shared));
    /* (it holds nothing that can refer back: no cycle to look for) */
    PyObject_GC_UnTrack(entry);
    res = PyDict_SetItem(cancels, key, entry);
error:
    Py_XDECREF(entry);
    Py_XDECREF(ref);
    Py_XDECREF(callback);
    Py_XDECREF(key);
    return res;
}

/* The running loop and its current task (new references, or NULL for
   none).  0, or -1 with an exception set. */
static int
running_task(PyObject *state, PyObject **loop, PyObject **task)
{
    *loop = PyObject_CallNoArgs(CANCEL_STATE(state, GET_RUNNING_LOOP));
    if (*loop == NULL) {
        return -1;
    }
    if (*loop == Py_None) {
        Py_CLEAR(*loop);
        return 0;
    }
    *task = PyObject_CallOneArg(CANCEL_STATE(state, CURRENT_TASK), *loop);
    if (*task == NULL) {
        return -1;
    }
    if (*task == Py_None) {
        Py_CLEAR(*task);
    }
    return 0;
}

/* "by" of a new request (see Lib/asyncio/_origin.py): (task name or None,
   where that task's coroutine was created or None, was a loop running,
   None: the main thread). */
static PyObject *
cancel_by(PyObject *state, PyObject *loop, PyObject *task)
{
    PyObject *name = NULL, *coro = NULL, *site = NULL, *by = NULL;
    PyObject *last = CANCEL_STATE(state, LAST_BY), *ref;
    if (task != NULL) {
        PyObject *was;
        ref = PyList_GET_ITEM(last, 0);
        if (PyWeakref_CheckRef(ref) && PyWeakref_GetRef(ref, &was) > 0) {
            Py_DECREF(was);
            if (was == task) {
                return Py_NewRef(PyList_GET_ITEM(last, 1));
            }
        }
        name = PyObject_CallMethodNoArgs(
            task, CANCEL_STATE(state, NAME_GET_NAME));
        if (name == NULL) {
            goto error;
        }
        coro = PyObject_CallMethodNoArgs(
            task, CANCEL_STATE(state, NAME_GET_CORO));
        if (coro == NULL) {
            goto error;
        }
        site = _PyCoroOrigin_CoroSite(coro);
    }
    by = PyTuple_Pack(4, name ? name : Py_None, site ? site : Py_None,
                      loop ? Py_True : Py_False, Py_None);
    if (by != NULL && task != NULL
        && (ref = PyWeakref_NewRef(task, NULL)) != NULL)
    {
        PyList_SetItem(last, 0, ref);
        PyList_SetItem(last, 1, Py_NewRef(by));
    }
    PyErr_Clear();              /* (a task that refuses weak references) */
error:
    Py_XDECREF(site);
    Py_XDECREF(coro);
    Py_XDECREF(name);
    return by;
}

/* Is the code of "frame" (may be NULL) one of the items of "codes" (a
   tuple)? */
static int
frame_code_in(_PyInterpreterFrame *frame, PyObject *codes)
{
    if (frame == NULL) {
        return 0;
    }
    PyObject *code = (PyObject *)_PyFrame_GetCode(frame);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(codes); i++) {
        if (PyTuple_GET_ITEM(codes, i) == code) {
            return 1;
        }
    }
    return 0;
}

static inline _PyInterpreterFrame *
caller_frame(_PyInterpreterFrame *frame)
{
    return frame ? _PyFrame_GetFirstComplete(frame->previous) : NULL;
}

/* The future that the last Task.cancel() of the main thread waits on,
   which that call cancels next, and the instruction that called it: that
   cancel() is no request of its own.  Compared, never dereferenced (a
   stale pointer can only match a future made at the same address and
   cancelled by the same instruction, next). */
static _Py_thread_local struct {
    void *fut;
    void *instr;
} cancelled_waiter;

static int
skip_waiter(PyObject *fut, _PyInterpreterFrame *caller)
{
    int skip = (cancelled_waiter.fut == (void *)fut
                && cancelled_waiter.instr
                   == (caller ? (void *)caller->instr_ptr : NULL));
    cancelled_waiter.fut = NULL;
    return skip;
}

/* A task's cancel() cancels the future it waits on, whose CancelledError
   is the one the task gets: a task it waits on shares the request
   ("info"), and its cancel(), which comes next, counts as none; a future's
   cancel() keeps nothing (see skip_waiter()), and its CancelledError takes
   the task's request (see _PyCoroOrigin_NoteCancelledError()).  "fut" may
   be a plain future (no waiter).  0, or -1 with an exception set. */
static int
pass_to_waiter(PyObject *state, PyObject *fut, PyObject *info,
               _PyInterpreterFrame *caller)
{
    PyObject *waiter = NULL;
    if (PyObject_GetOptionalAttr(
            fut, CANCEL_STATE(state, NAME_FUT_WAITER), &waiter) < 0) {
        return -1;
    }
    if (waiter == NULL || waiter == Py_None) {
        Py_XDECREF(waiter);
        return 0;
    }
    int res = -1;
    PyObject *done = PyObject_CallMethodNoArgs(
        waiter, CANCEL_STATE(state, NAME_DONE));
    int is_done = done ? PyObject_IsTrue(done) : -1;
    Py_XDECREF(done);
    if (is_done != 0) {
        res = is_done < 0 ? -1 : 0;
        goto finally;
    }
    int is_task = PyObject_HasAttrWithError(
        waiter, CANCEL_STATE(state, NAME_GET_CORO));
    if (is_task < 0) {
        goto finally;
    }
    res = 0;
    if (is_task) {
        res = remember_cancel(CANCEL_STATE(state, CANCELS), NULL, waiter,
                              info, 1);
    }
    else {
        cancelled_waiter.fut = waiter;
        cancelled_waiter.instr = caller ? caller->instr_ptr : NULL;
    }
finally:
    Py_DECREF(waiter);
    return res;
}

/* What note_cancel() in Lib/asyncio/_origin.py does, for the C Future and
   Task.  0: done; 1: leave it to note_cancel(); -1: an error (to be
   cleared). */
static int
note_cancel(PyThreadState *tstate, int depth, PyObject *state,
            PyObject *fut)
{
    PyObject *cancels = CANCEL_STATE(state, CANCELS);
    PyObject *step_code = CANCEL_STATE(state, STEP_CODE);
    PyObject *run_code = CANCEL_STATE(state, RUN_CODE);
    PyObject *reasons = CANCEL_STATE(state, REASON_CODES);
    if (!_Py_IsMainThread()) {
        return 1;               /* its name: see note_cancel() */
    }
    _PyInterpreterFrame *caller =
        _PyFrame_GetFirstComplete(tstate->current_frame);
    if (skip_waiter(fut, caller)) {
        return 0;
    }
    PyObject *done = PyObject_CallMethodNoArgs(
        fut, CANCEL_STATE(state, NAME_DONE));
    if (done == NULL) {
        return -1;
    }
    int is_done = PyObject_IsTrue(done);
    Py_DECREF(done);
    if (is_done != 0) {
        return is_done < 0 ? -1 : 1;    /* its exception may be dropped */
    }
    long nframes = PyLong_AsLong(CANCEL_STATE(state, REASON_FRAMES));
    _PyInterpreterFrame *frame = caller;
    for (long i = 0; i < nframes && frame != NULL; i++) {
        if (frame_code_in(frame, reasons)) {
            return 1;           /* why: see note_cancel() */
        }
        frame = caller_frame(frame);
    }

    int res = -1, asked = 0;
    PyObject *loop = NULL, *task = NULL, *entry = NULL, *info = NULL;
    PyObject *stack = NULL, *by = NULL, *key = NULL;
    PyObject *code = caller ? (PyObject *)_PyFrame_GetCode(caller) : NULL;
    if (code != NULL && (code == step_code || code == run_code)) {
        if (running_task(state, &loop, &task) < 0) {
            goto error;
        }
        asked = 1;
        if (code == step_code || task != NULL) {
            /* A task's step passes a pending cancellation on to the future
               its coroutine awaited: no new request, the task's own goes
               on. */
            res = 0;
            if (task != NULL && task != fut
                && (entry = cancel_entry(cancels, NULL, task)) != NULL)
            {
                res = remember_cancel(cancels, NULL, fut,
                                      PyList_GET_ITEM(entry, ENTRY_INFO), 0);
            }
            goto error;
        }
    }
    key = PyLong_FromVoidPtr(fut);
    if (key == NULL) {
        goto error;
    }
    entry = cancel_entry(cancels, key, fut);
    if (entry != NULL) {
        /* Asked again: the first request is kept, and counted. */
        res = 0;
        if (PyList_GET_ITEM(entry, ENTRY_SHARED) == Py_True) {
            /* the cancel() of the task that awaits "fut": "fut" a task
               too, it passes that request on to what it awaits */
            PyList_SetItem(entry, ENTRY_SHARED, Py_NewRef(Py_False));
            res = pass_to_waiter(state, fut,
                                 PyList_GET_ITEM(entry, ENTRY_INFO), caller);
            goto error;
        }
        info = PyList_GET_ITEM(entry, ENTRY_INFO);
        PyObject *count = PyNumber_Add(PyList_GET_ITEM(info, INFO_COUNT),
                                       _PyLong_GetOne());
        res = count ? PyList_SetItem(info, INFO_COUNT, count) : -1;
        info = NULL;
        goto error;
    }
    if (PyErr_Occurred()
        || (!asked && running_task(state, &loop, &task) < 0))
    {
        goto error;
    }
    stack = _PyCoroOrigin_Capture(tstate, caller, depth, 1);
    if (stack == NULL) {
        goto error;
    }
    by = cancel_by(state, loop, task);
    if (by == NULL) {
        goto error;
    }
    info = PyList_New(4);
    if (info == NULL) {
        goto error;
    }
    PyList_SET_ITEM(info, INFO_STACK, Py_NewRef(stack));
    PyList_SET_ITEM(info, INFO_BY, Py_NewRef(by));
    PyList_SET_ITEM(info, INFO_REASON, Py_NewRef(Py_None));
    PyList_SET_ITEM(info, INFO_COUNT, PyLong_FromLong(1));
    PyObject_GC_UnTrack(info);  /* as an entry (remember_cancel()) */
    if (remember_cancel(cancels, key, fut, info, 0) < 0) {
        goto error;
    }
    res = pass_to_waiter(state, fut, info, caller);
error:
    Py_XDECREF(key);
    Py_XDECREF(info);
    Py_XDECREF(by);
    Py_XDECREF(stack);
    Py_XDECREF(entry);
    Py_XDECREF(task);
    Py_XDECREF(loop);
    return res;
}

/* The depth to capture if the fork's tracking is on in the calling
   thread and the interpreter is not shutting down, else 0. */
static int
cancel_depth(PyThreadState *tstate)
{
    int depth = tstate->coroutine_origin_tracking_depth;
    if (depth <= 0 || _Py_IsInterpreterFinalizing(tstate->interp)
        || !_PyCoroOrigin_Configured(tstate))
    {
        return 0;
    }
    return depth;
}

int
_PyCoroOrigin_NoteCancel(PyObject *fut, PyObject *msg)
{
    PyThreadState *tstate = _PyThreadState_GET();
    int depth = cancel_depth(tstate);
    if (depth == 0) {
        return 0;
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *state = cancel_state();
    int res = state ? note_cancel(tstate, depth, state, fut) : 0;
    Py_XDECREF(state);
    PyErr_Clear();              /* ours: the program's cancel() goes on */
    if (res == 1) {
        PyObject *func = _PyImport_GetModuleAttrString("asyncio._origin",
                                                       "note_cancel");
        PyObject *ret = func ? PyObject_CallFunctionObjArgs(
                                   func, fut, msg ? msg : Py_None, NULL)
                             : NULL;
        Py_XDECREF(func);
        if (ret == NULL && func != NULL) {
            /* what note_cancel() let escape (see above) */
            Py_XDECREF(exc);
            return -1;
        }
        /* True: done with an exception nobody retrieved, whose report
           cancel() must keep (it returns False at once) */
        res = (ret == Py_True);
        Py_XDECREF(ret);
        PyErr_Clear();
    }
    else {
        res = 0;
    }
    PyErr_SetRaisedException(exc);
    return res;
}

PyObject *
_PyCoroOrigin_NoteCancelledError(PyObject *fut, PyObject *exc)
{
    PyThreadState *tstate = _PyThreadState_GET();
    if (exc == NULL || tstate->coroutine_origin_tracking_depth <= 0
        || _Py_IsInterpreterFinalizing(tstate->interp))
    {
        return exc;
    }
    PyObject *raised = PyErr_GetRaisedException();
    PyObject *state = cancel_state();
    PyObject *entry = NULL, *record = NULL, *reqs = NULL;
    PyObject **dictptr;
    if (state == NULL || (dictptr = _PyObject_GetDictPtr(exc)) == NULL) {
        goto done;
    }
    if (*dictptr != NULL) {
        int has = PyDict_Contains(*dictptr, CANCEL_STATE(state, NAME_ORIGIN));
        if (has != 0) {
            goto done;          /* the first is kept */
        }
    }
    entry = cancel_entry(CANCEL_STATE(state, CANCELS), NULL, fut);
    if (entry == NULL && !PyErr_Occurred()) {
        /* The future a task waited on, which that task's cancel()
           cancelled: the task's wake-up reads it (C Task: a bound C
           function of the task, run by Handle._run()). */
        PyObject *wakeup = running_handle_slot(
            state, _PyFrame_GetFirstComplete(tstate->current_frame),
            HANDLE_CALLBACK);
        PyObject *task = (wakeup != NULL && PyCFunction_Check(wakeup))
                         ? PyCFunction_GET_SELF(wakeup) : NULL;
        if (task != NULL && task != fut) {
            entry = cancel_entry(CANCEL_STATE(state, CANCELS), NULL, task);
        }
    }
    if (entry == NULL) {
        goto done;
    }
    PyObject *info = PyList_GET_ITEM(entry, ENTRY_INFO);
    reqs = PyTuple_Pack(3, PyList_GET_ITEM(info, INFO_BY),
                        PyList_GET_ITEM(info, INFO_REASON),
                        PyList_GET_ITEM(info, INFO_COUNT));
    if (reqs == NULL) {
        goto done;
    }
    record = PyTuple_Pack(4, CANCEL_STATE(state, KIND_CANCELLED), reqs,
                          PyList_GET_ITEM(info, INFO_STACK), Py_None);
    if (record != NULL) {
        (void)PyObject_SetAttr(exc, CANCEL_STATE(state, NAME_ORIGIN), record);
    }
done:
    Py_XDECREF(record);
    Py_XDECREF(reqs);
    Py_XDECREF(entry);
    Py_XDECREF(state);
    PyErr_Clear();
    PyErr_SetRaisedException(raised);
    return exc;
}


/* ---- asyncio's RuntimeErrors ------------------------------------------------
 *
 * "Event loop stopped before Future completed." (run_until_complete()) and
 * "... is bound to a different event loop" (a Lock, Event, Queue, ... used
 * under a second loop) are RuntimeErrors: the record that traceback prints
 * for them (where loop.stop() was called; where the object was made and
 * its loops started) is made when it is read, by
 * asyncio._origin.exception_record(), which knows them by the code object
 * of the frame that raised them.  Only a RuntimeError, and only once
 * asyncio._origin is imported (nothing is imported here).
 */

PyObject *
_PyCoroOrigin_AsyncioExceptionOrigin(PyObject *exc)
{
    if (!Py_IS_TYPE(exc, (PyTypeObject *)PyExc_RuntimeError)) {
        return NULL;
    }
    PyObject *module = NULL, *record = NULL;
    if (PyMapping_GetOptionalItemString(PyImport_GetModuleDict(),
                                        "asyncio._origin", &module) > 0)
    {
        record = PyObject_CallMethod(module, "exception_record", "O", exc);
        Py_DECREF(module);
    }
    if (record == Py_None) {
        Py_CLEAR(record);
    }
    PyErr_Clear();
    return record;
}


/* ---- Live coroutine dump ------------------------------------------------
 *
 * The dump itself is written in Python (Lib/_coro_origin_report.py).  With
 * "dump=SIGNAL" in the start-up spec, the main interpreter registers a
 * Python-level handler for that signal through the signal module once the
 * site module has been imported: the C handler of the signal module only
 * trips a flag, and the dump runs at the next safe point of the main
 * thread (between bytecodes, or when a blocking call such as select() is
 * interrupted and PEP 475 retries it after running handlers).
 *
 * With "hang=SECONDS", it starts the hang watchdog (Lib/_coro_origin_hang.py,
 * also sys._dump_coroutines_later()): a thread of its own that reports an
 * event loop blocked in one callback, a loop whose tasks take no step, or
 * an interpreter that cannot exit because a thread runs a loop, with the
 * dump.  The step count it judges progress by is counted here, where
 * scheduling sites are (_PyCoroOrigin_ScheduledAt()). */

PyObject *
_PyCoroOrigin_Dump(PyObject *file, const char *format)
{
    PyObject *args[2] = {file, PyUnicode_FromString(format)};
    if (args[1] == NULL) {
        return NULL;
    }
    PyObject *res = _PyCoroOrigin_Call(_PyCoroOrigin_REQUEST, "dump", args, 2);
    Py_DECREF(args[1]);
    return res;
}

/* The dump signal's handler: 0, or -1 with an exception set. */
static int
install_dump_signal(int signum)
{
    PyObject *num = PyLong_FromLong(signum);
    if (num == NULL) {
        return -1;
    }
    PyObject *res = _PyCoroOrigin_Call(_PyCoroOrigin_REQUEST,
                                       "install_signal_handler", &num, 1);
    Py_DECREF(num);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

/* The hang watchdog of hang=SECONDS: every episode is reported (repeat),
   to stderr, and ends the process with status 70 under strict. */
static int
start_hang_watchdog(const _PyCoroOriginStartup *startup)
{
    PyObject *args[4] = {PyFloat_FromDouble(startup->hang_ms / 1000.0),
                         Py_True, Py_None,
                         startup->strict ? Py_True : Py_False};
    if (args[0] == NULL) {
        return -1;
    }
    PyObject *res = _PyCoroOrigin_Call(_PyCoroOrigin_HANG, "start", args, 4);
    Py_DECREF(args[0]);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

void
_PyCoroOrigin_StartServices(PyThreadState *tstate)
{
    PyInterpreterState *interp = tstate->interp;
    const _PyCoroOriginStartup *startup = _PyCoroOrigin_Startup(interp);
    if (!_Py_IsMainInterpreter(interp)) {
        return;
    }
    /* Start-up goes on without what fails. */
    if (startup->dump_signal != 0
        && install_dump_signal(startup->dump_signal) < 0)
    {
        PySys_WriteStderr("origin-python: cannot install the coroutine dump "
                          "handler for signal %d:\n", startup->dump_signal);
        PyErr_Print();
    }
    if (startup->hang_ms != 0 && start_hang_watchdog(startup) < 0) {
        PySys_WriteStderr("origin-python: cannot start the hang watchdog "
                          "(hang=%d.%03d):\n", startup->hang_ms / 1000,
                          startup->hang_ms % 1000);
        PyErr_Print();
    }
}

/* ---- Scheduling sites -----------------------------------------------------
 *
 * With the fork's tracking on (asyncio._origin.watching), asyncio's
 * Handle.__init__() keeps in its _site slot the user's line that scheduled
 * the callback: _PyCoroOrigin_ScheduledAt() walks out of asyncio's own
 * frames (its package directory) to the first frame of another module,
 * and captures from there as a coroutine's origin is captured.  A handle
 * that asyncio schedules for itself (a future's callbacks, called from a
 * callback that Handle._run() runs) meets Handle._run() first and keeps
 * nothing: that costs a few frames' walk, no capture.  Nor do the steps
 * and wake-ups of tasks, and any method of a future, whoever schedules
 * them: no coroutine is created by them, and a task's first step is
 * scheduled where its coroutine's origin already is (create_task()).
 * Scheduling sites cost a task no capture.
 *
 * A coroutine created while a callback runs, with no coroutine frame
 * between its creation and Handle._run(), gets that site as a chain link
 * (Python/coro_origin.c), read from the running frame with
 * _PyCoroOrigin_ScheduledSite(): no Python code runs there.
 */

/* Frames of asyncio looked through for the user's line; a handle made
   deeper inside asyncio than this keeps no site. */
#define SCHEDULE_MAX_FRAMES 16

/* asyncio._origin.c_state() if it was made (borrowed; kept until the
   interpreter is finalised), else NULL.  Never makes it. */
static inline PyObject *
made_state(PyInterpreterState *interp)
{
    return FT_ATOMIC_LOAD_PTR_ACQUIRE(interp->coro_origin.cancel_state);
}

int
_PyCoroOrigin_RunsScheduled(PyInterpreterState *interp,
                            _PyInterpreterFrame *frame)
{
    PyObject *state = made_state(interp);
    return (state != NULL
            && (frame->f_executable == CANCEL_STATE(state, RUN_CODE)
                || frame->f_executable == CANCEL_STATE(state, WORK_RUN_CODE)));
}

/* Slot "item" of c_state() (HANDLE_SITE or HANDLE_CALLBACK) of the Handle
   that "frame", Handle._run(self), runs (borrowed: kept alive by the
   handle while it runs), or NULL. */
static PyObject *
running_handle_slot(PyObject *state, _PyInterpreterFrame *frame, int item)
{
    if (frame == NULL
        || frame->f_executable != CANCEL_STATE(state, RUN_CODE))
    {
        return NULL;
    }
    /* Handle._run(self): its first local, valid while it runs. */
    PyObject *handle = frame->localsplus[0];
    PyTypeObject *type = (PyTypeObject *)CANCEL_STATE(state, HANDLE_TYPE);
    if (handle == NULL || !PyObject_TypeCheck(handle, type)) {
        return NULL;
    }
    PyMemberDescrObject *slot =
        (PyMemberDescrObject *)CANCEL_STATE(state, item);
    return FT_ATOMIC_LOAD_PTR_RELAXED(
        *(PyObject **)((char *)handle + slot->d_member->offset));
}

PyObject *
_PyCoroOrigin_ScheduledSite(PyInterpreterState *interp,
                            _PyInterpreterFrame *frame)
{
    PyObject *state = made_state(interp);
    if (state == NULL) {
        return NULL;
    }
    if (frame->f_executable == CANCEL_STATE(state, WORK_RUN_CODE)) {
        /* _WorkItem.run(self): the site in its instance dict (a plain
           attribute: no code of the program runs for it), kept alive by
           the work item while it runs. */
        PyObject *item = frame->localsplus[0], *site = NULL;
        if (item == NULL
            || PyObject_GetOptionalAttr(
                   item, CANCEL_STATE(state, NAME_WORK_SITE), &site) < 0)
        {
            PyErr_Clear();
            return NULL;
        }
        Py_XDECREF(site);       /* (borrowed from the work item) */
        return site != NULL && _PyCoroOrigin_HandleCheck(site) ? site : NULL;
    }
    PyObject *site = running_handle_slot(state, frame, HANDLE_SITE);
    return site != NULL && _PyCoroOrigin_HandleCheck(site) ? site : NULL;
}

/* Is "callback" a method of a future (a task's step or wake-up, or
   set_result() and the like)?  Only bound methods of the exact kinds that
   asyncio makes are looked into: nothing of the program's runs. */
static int
future_method(PyObject *state, PyObject *callback)
{
    PyObject *self;
    if (PyMethod_Check(callback)) {
        self = PyMethod_GET_SELF(callback);
    }
    else if (PyCFunction_Check(callback)) {
        self = PyCFunction_GET_SELF(callback);
    }
    else {
        /* The C Task's own step (a bare "yield", and its first step):
           _asynciomodule.c's wrapper type, which it does not export. */
        return (!PyFunction_Check(callback)
                && strcmp(Py_TYPE(callback)->tp_name,
                          "_asyncio.TaskStepMethWrapper") == 0);
    }
    if (self == NULL) {
        return 0;
    }
    PyObject *types = CANCEL_STATE(state, FUTURE_TYPES);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(types); i++) {
        if (PyObject_TypeCheck(self,
                               (PyTypeObject *)PyTuple_GET_ITEM(types, i)))
        {
            return 1;
        }
    }
    return 0;
}

/* Is "code" asyncio's?  Its own events.py and base_events.py, where
   handles are made, are known by their file name object (shared by the
   code objects of a module); others by the package directory. */
static inline int
asyncio_code(PyObject *state, PyCodeObject *code)
{
    PyObject *filename = code->co_filename;
    if (filename == ((PyCodeObject *)CANCEL_STATE(state, RUN_CODE))
                        ->co_filename
        || filename == ((PyCodeObject *)CANCEL_STATE(state, CREATE_TASK_CODE))
                           ->co_filename)
    {
        return 1;
    }
    return PyUnicode_Tailmatch(filename, CANCEL_STATE(state, ASYNCIO_DIR),
                               0, PY_SSIZE_T_MAX, -1) == 1;
}

void
_PyCoroOrigin_Progress(PyInterpreterState *interp, Py_ssize_t *callbacks,
                       Py_ssize_t *task_steps)
{
    *callbacks = FT_ATOMIC_LOAD_SSIZE_RELAXED(interp->coro_origin.callbacks);
    *task_steps = FT_ATOMIC_LOAD_SSIZE_RELAXED(
        interp->coro_origin.task_steps);
}

/* One more of *counter (a progress count; relaxed). */
static inline void
count(Py_ssize_t *counter)
{
#ifdef Py_GIL_DISABLED
    _Py_atomic_add_ssize(counter, 1);
#else
    (*counter)++;
#endif
}

PyObject *
_PyCoroOrigin_ScheduledAt(PyThreadState *tstate, PyObject *callback)
{
    count(&tstate->interp->coro_origin.callbacks);  /* (for the watchdog) */
    int depth = cancel_depth(tstate);
    if (depth == 0) {
        Py_RETURN_NONE;
    }
    /* Borrowed: kept until the interpreter is finalised, made once. */
    PyObject *state = made_state(tstate->interp);
    if (state == NULL) {
        state = cancel_state();
        if (state == NULL) {
            /* Ours: the program's call_soon() goes on (a signal handler's
               exception that ran meanwhile is passed on). */
            if (PyErr_Occurred()
                && !PyErr_ExceptionMatches(PyExc_Exception))
            {
                return NULL;
            }
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        Py_DECREF(state);
        /* (the one the interpreter kept, should another thread have made
           one at the same time) */
        state = made_state(tstate->interp);
        if (state == NULL) {
            Py_RETURN_NONE;
        }
    }
    if (future_method(state, callback)) {
        /* a task's step or wake-up: progress, for the hang watchdog */
        count(&tstate->interp->coro_origin.task_steps);
        Py_RETURN_NONE;
    }
    PyObject *run_code = CANCEL_STATE(state, RUN_CODE);
    PyObject *create_task_code = CANCEL_STATE(state, CREATE_TASK_CODE);
    _PyInterpreterFrame *frame =
        _PyFrame_GetFirstComplete(tstate->current_frame);
    for (int i = 0; frame != NULL && i < SCHEDULE_MAX_FRAMES; i++) {
        if (frame->f_executable == run_code
            || frame->f_executable == create_task_code)
        {
            break;
        }
        if (!asyncio_code(state, _PyFrame_GetCode(frame))) {
            PyObject *site = _PyCoroOrigin_Capture(tstate, frame, depth, 1);
            if (site == NULL) {
                /* No memory for it: the callback is scheduled without. */
                PyErr_Clear();
                site = Py_NewRef(Py_None);
            }
            return site;
        }
        frame = _PyFrame_GetFirstComplete(frame->previous);
    }
    Py_RETURN_NONE;
}


/* Work handed to an executor (concurrent.futures.thread._WorkItem, made
   by ThreadPoolExecutor.submit(), which asyncio's run_in_executor() and
   to_thread() call): the first frame outside concurrent.futures and
   asyncio, captured as a scheduling site, if the fork's tracking is on
   and asyncio._origin was set up (this never imports asyncio); else
   None.  A coroutine that _WorkItem.run() makes gets it as a chain link,
   as one that Handle._run() makes gets its handle's site. */
PyObject *
_PyCoroOrigin_WorkSite(PyThreadState *tstate)
{
    int depth = cancel_depth(tstate);
    PyObject *state = depth ? made_state(tstate->interp) : NULL;
    if (state == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *work_dir = CANCEL_STATE(state, WORK_DIR);
    _PyInterpreterFrame *frame =
        _PyFrame_GetFirstComplete(tstate->current_frame);
    for (int i = 0; frame != NULL && i < SCHEDULE_MAX_FRAMES; i++) {
        PyCodeObject *code = _PyFrame_GetCode(frame);
        if (!asyncio_code(state, code)
            && PyUnicode_Tailmatch(code->co_filename, work_dir, 0,
                                   PY_SSIZE_T_MAX, -1) != 1)
        {
            PyObject *site = _PyCoroOrigin_Capture(tstate, frame, depth, 1);
            if (site == NULL) {
                PyErr_Clear();  /* the work goes on without */
                site = Py_NewRef(Py_None);
            }
            return site;
        }
        frame = _PyFrame_GetFirstComplete(frame->previous);
    }
    Py_RETURN_NONE;
}


/* ---- The hang watchdog's sentinel -----------------------------------------
 *
 * The hang watchdog (Lib/_coro_origin_hang.py) needs the GIL to look.  A
 * thread that keeps the GIL (C code that does not release it) stops it
 * without a word.  The sentinel is a C thread that never takes the GIL:
 * the watchdog checks in on each look (sys._coroutine_origin_hang_sentinel()
 * with its allowance), and when it has not for that long, the sentinel
 * writes the Python stacks of the threads as faulthandler does, without
 * the GIL, and says why; with "exit", the process then ends with status
 * 70.  Once per episode: a check-in starts a new one.  One per process; a
 * child made by fork() has none until its watchdog checks in. */

/* How often the sentinel looks at the last check-in. */
#define SENTINEL_POLL_US 100000

static struct {
    PyMutex mutex;              /* start and stop */
    int running;
    long pid;                   /* the process that started it */
    PyThread_handle_t handle;
    PyThread_type_lock stop;    /* held while it runs; released: stop */
    PyInterpreterState *interp;
    int fd;
    int exit;
    PyTime_t allowance;         /* ns without a check-in */
    PyTime_t last;              /* the last check-in (monotonic, ns) */
} sentinel;

static void
sentinel_run(void *Py_UNUSED(arg))
{
    PyTime_t seen = -1;
    int reported = 0;
    while (PyThread_acquire_lock_timed(sentinel.stop, SENTINEL_POLL_US, 0)
           != PY_LOCK_ACQUIRED)
    {
        PyTime_t last = _Py_atomic_load_int64_relaxed(&sentinel.last);
        PyTime_t now;
        if (last != seen) {
            seen = last;
            reported = 0;
            continue;
        }
        if (reported || PyTime_MonotonicRaw(&now) < 0
            || now - last < _Py_atomic_load_int64_relaxed(&sentinel.allowance))
        {
            continue;
        }
        reported = 1;
        int fd = _Py_atomic_load_int_relaxed(&sentinel.fd);
        char text[400];
#ifdef Py_GIL_DISABLED
        const char *could = "stop the other threads to look";
        const char *keeps = "running attached to the interpreter";
#else
        const char *could = "take the GIL";
        const char *keeps = "it";
#endif
        PyOS_snprintf(text, sizeof(text),
                      "origin-python: hang: the watchdog could not %s for "
                      "%.1f s: a thread keeps %s (C code that does not "
                      "release it), so instead of the await tree, the "
                      "Python stacks of the threads:\n",
                      could, (double)(now - last) / 1e9, keeps);
        if (fd >= 0) {
            _Py_write_noraise(fd, text, strlen(text));
            _Py_DumpTracebackThreads(fd, sentinel.interp, NULL);
        }
        if (_Py_atomic_load_int_relaxed(&sentinel.exit)) {
            PyOS_snprintf(text, sizeof(text), "origin-python: hang: exiting "
                          "with status %d\n", _Py_CORO_ORIGIN_STRICT_EXIT);
            if (fd >= 0) {
                _Py_write_noraise(fd, text, strlen(text));
            }
            _Exit(_Py_CORO_ORIGIN_STRICT_EXIT);
        }
    }
    PyThread_release_lock(sentinel.stop);
}

/* Stop the sentinel (with sentinel.mutex held), and wait for it. */
static void
sentinel_stop(void)
{
    if (!sentinel.running) {
        return;
    }
    sentinel.running = 0;
    if (sentinel.pid != _PyCoroOrigin_CurrentPid()) {
        /* made by fork(): its thread is the parent's */
        return;
    }
    PyThread_release_lock(sentinel.stop);
    Py_BEGIN_ALLOW_THREADS
    PyThread_join_thread(sentinel.handle);
    Py_END_ALLOW_THREADS
    PyThread_free_lock(sentinel.stop);
    sentinel.stop = NULL;
}

int
_PyCoroOrigin_HangSentinel(double allowance, int fd, int exit)
{
    PyTime_t now;
    if (PyTime_MonotonicRaw(&now) < 0) {
        now = 0;
    }
    PyMutex_Lock(&sentinel.mutex);
    if (allowance <= 0 || sentinel.pid != _PyCoroOrigin_CurrentPid()) {
        sentinel_stop();
    }
    if (allowance <= 0) {
        PyMutex_Unlock(&sentinel.mutex);
        return 0;
    }
    _Py_atomic_store_int64_relaxed(&sentinel.allowance,
                                   (PyTime_t)(allowance * 1e9));
    _Py_atomic_store_int_relaxed(&sentinel.fd, fd);
    _Py_atomic_store_int_relaxed(&sentinel.exit, exit);
    _Py_atomic_store_int64_relaxed(&sentinel.last, now);
    if (!sentinel.running) {
        sentinel.stop = PyThread_allocate_lock();
        if (sentinel.stop == NULL) {
            goto no_memory;
        }
        (void)PyThread_acquire_lock(sentinel.stop, WAIT_LOCK);
        sentinel.interp = _PyInterpreterState_Main();
        sentinel.pid = _PyCoroOrigin_CurrentPid();
        PyThread_ident_t ident;
        if (PyThread_start_joinable_thread(sentinel_run, NULL, &ident,
                                           &sentinel.handle) != 0)
        {
            PyThread_free_lock(sentinel.stop);
            sentinel.stop = NULL;
            PyMutex_Unlock(&sentinel.mutex);
            PyErr_SetString(PyExc_RuntimeError,
                            "cannot start the hang watchdog's sentinel");
            return -1;
        }
        sentinel.running = 1;
    }
    PyMutex_Unlock(&sentinel.mutex);
    return 0;

no_memory:
    PyMutex_Unlock(&sentinel.mutex);
    PyErr_NoMemory();
    return -1;
}


/* ---- A look at this interpreter's threads ----------------------------------
 *
 * {thread id: item(thread)} for the threads of tstate's interpreter, made
 * with the world stopped, as sys._current_frames() does.  "item" returns
 * a new reference, or NULL: with an exception set, an error; without,
 * leave the thread out.
 *
 * sys._current_frames() itself looks at the threads of every interpreter
 * and makes their frame objects with the allocator of the one that calls
 * it: with subinterpreters (each with its own obmalloc) the frame object
 * of a thread of another interpreter is later freed by that interpreter's,
 * and the process crashes (upstream: stock 3.13 to 3.15 do it; see
 * test_hang's subinterpreter test).  The dump and the watchdog use these
 * instead. */

typedef PyObject *(*thread_item)(PyThreadState *t, void *arg);

static PyObject *
map_threads(PyThreadState *tstate, thread_item item, void *arg)
{
    PyInterpreterState *interp = tstate->interp;
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    _PyEval_StopTheWorld(interp);
    HEAD_LOCK(&_PyRuntime);
    for (PyThreadState *t = interp->threads.head; t != NULL; t = t->next) {
        PyObject *value = item(t, arg);
        if (value == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            continue;
        }
        PyObject *id = PyLong_FromUnsignedLong(t->thread_id);
        int res = id ? PyDict_SetItem(result, id, value) : -1;
        Py_XDECREF(id);
        Py_DECREF(value);
        if (res < 0) {
            goto error;
        }
    }
    HEAD_UNLOCK(&_PyRuntime);
    _PyEval_StartTheWorld(interp);
    return result;

error:
    HEAD_UNLOCK(&_PyRuntime);
    _PyEval_StartTheWorld(interp);
    Py_DECREF(result);
    return NULL;
}

/* sys._coroutine_origin_current_frames(): the thread's innermost complete
   frame, as a frame object; threads running no Python code left out. */
static PyObject *
current_frame(PyThreadState *t, void *Py_UNUSED(arg))
{
    _PyInterpreterFrame *frame = _PyFrame_GetFirstComplete(t->current_frame);
    return frame ? Py_XNewRef((PyObject *)_PyFrame_GetFrameObject(frame))
                 : NULL;
}

PyObject *
_PyCoroOrigin_CurrentFrames(PyThreadState *tstate)
{
    return map_threads(tstate, current_frame, NULL);
}

/* The hang watchdog looks at every thread's stack a few times per timeout.
   Frame objects would keep the locals of a frame that returns meanwhile
   alive until the watchdog drops them (a program that checks that an
   object was freed could see it still alive).  This gives (code objects,
   innermost first, at most "limit"; a weak reference to the handle that
   the innermost Handle._run() runs, or None), which hold nothing of the
   program. */
struct stacks_arg {
    int limit;
    PyObject *run_code;
};

static PyObject *
thread_stack(PyThreadState *t, void *arg)
{
    struct stacks_arg *a = (struct stacks_arg *)arg;
    _PyInterpreterFrame *top = _PyFrame_GetFirstComplete(t->current_frame);
    Py_ssize_t n = 0;
    for (_PyInterpreterFrame *f = top; f != NULL && n < a->limit;
         f = _PyFrame_GetFirstComplete(f->previous))
    {
        n++;
    }
    PyObject *codes = PyTuple_New(n);   /* (empty: in C code only) */
    if (codes == NULL) {
        return NULL;
    }
    PyObject *handle = NULL;
    _PyInterpreterFrame *f = top;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(codes, i, Py_NewRef(f->f_executable));
        if (handle == NULL && f->f_executable == a->run_code) {
            handle = f->localsplus[0];
        }
        f = _PyFrame_GetFirstComplete(f->previous);
    }
    PyObject *ref = handle != NULL ? PyWeakref_NewRef(handle, NULL)
                                   : Py_NewRef(Py_None);
    if (ref == NULL) {
        PyErr_Clear();          /* (not weakly referenceable: no handle) */
        ref = Py_NewRef(Py_None);
    }
    PyObject *value = PyTuple_Pack(2, codes, ref);
    Py_DECREF(codes);
    Py_DECREF(ref);
    return value;
}

PyObject *
_PyCoroOrigin_ThreadStacks(PyThreadState *tstate, int limit,
                           PyObject *run_code)
{
    struct stacks_arg arg = {limit, run_code};
    return map_threads(tstate, thread_stack, &arg);
}
