/* origin-python: Python-visible handles to lazy frame stacks, used by
 * asyncio's debug mode (see Include/internal/pycore_coro_origin_asyncio.h).
 *
 * This file is part of origin-python, not of upstream CPython.
 */
#include "Python.h"
#include "pycore_coro_origin.h"
#include "pycore_coro_origin_config.h" // startup.dump_signal
#include "pycore_coro_origin_asyncio.h"
#include "pycore_frame.h"         // _PyFrame_GetFirstComplete()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_pystate.h"       // _Py_IsMainInterpreter()

static void
handle_destructor(PyObject *capsule)
{
    PyObject *stack = PyCapsule_GetPointer(capsule, _PyCoroOrigin_HANDLE_NAME);
    if (stack == NULL) {
        PyErr_WriteUnraisable(capsule);
        return;
    }
    Py_DECREF(stack);
}

PyObject *
_PyCoroOrigin_CaptureHandle(PyThreadState *tstate, int skip, int depth)
{
    if (depth == 0) {
        Py_RETURN_NONE;
    }
    if (depth < 0) {
        depth = INT_MAX;
    }
    _PyInterpreterFrame *frame = _PyFrame_GetFirstComplete(
        tstate->current_frame);
    for (int i = 0; i < skip && frame != NULL; i++) {
        frame = _PyFrame_GetFirstComplete(frame->previous);
    }
    if (frame == NULL) {
        Py_RETURN_NONE;
    }
    /* A bare frame stack: asyncio's tracebacks keep every frame, as
       stock's do (the "skip=" and "chain=" settings are for coroutine
       origins only; with skip, asyncio's "leave out my own frame"
       bookkeeping would drop the wrong frames). */
    PyObject *stack = _PyCoroOrigin_Capture(tstate, frame, depth);
    if (stack == NULL) {
        return NULL;
    }
    PyObject *handle = PyCapsule_New(stack, _PyCoroOrigin_HANDLE_NAME,
                                     handle_destructor);
    if (handle == NULL) {
        Py_DECREF(stack);
        return NULL;
    }
    return handle;
}

int
_PyCoroOrigin_HandleCheck(PyObject *obj)
{
    return (PyCapsule_CheckExact(obj)
            && PyCapsule_IsValid(obj, _PyCoroOrigin_HANDLE_NAME));
}

PyObject *
_PyCoroOrigin_HandleFrames(PyObject *handle)
{
    if (!_PyCoroOrigin_HandleCheck(handle)) {
        PyErr_Format(PyExc_TypeError, "expected a frame stack handle, not %T",
                     handle);
        return NULL;
    }
    PyObject *stack = PyCapsule_GetPointer(handle, _PyCoroOrigin_HANDLE_NAME);
    if (stack == NULL) {
        return NULL;
    }
    return _PyCoroOrigin_AsTuple(stack);
}

/* ---- Live coroutine dump ------------------------------------------------
 *
 * The dump itself is written in Python (Lib/_coro_origin_report.py).  With
 * "dump=SIGNAL" in the start-up spec, the main interpreter registers a
 * Python-level handler for that signal through the signal module once the
 * site module has been imported: the C handler of the signal module only
 * trips a flag, and the dump runs at the next safe point of the main
 * thread (between bytecodes, or when a blocking call such as select() is
 * interrupted and PEP 475 retries it after running handlers). */

PyObject *
_PyCoroOrigin_Dump(PyObject *file)
{
    PyObject *mod = PyImport_ImportModule("_coro_origin_report");
    if (mod == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallMethod(mod, "dump", "O", file);
    Py_DECREF(mod);
    return res;
}

void
_PyCoroOrigin_InstallDumpSignal(PyThreadState *tstate)
{
    PyInterpreterState *interp = tstate->interp;
    int signum = interp->coro_origin_config.startup.dump_signal;
    if (signum == 0 || !_Py_IsMainInterpreter(interp)) {
        return;
    }
    PyObject *mod = PyImport_ImportModule("_coro_origin_report");
    if (mod == NULL) {
        goto error;
    }
    PyObject *res = PyObject_CallMethod(mod, "install_signal_handler", "i",
                                        signum);
    Py_DECREF(mod);
    if (res == NULL) {
        goto error;
    }
    Py_DECREF(res);
    return;

error:
    /* Start-up goes on without the dump. */
    PySys_WriteStderr("origin-python: cannot install the coroutine dump "
                      "handler for signal %d:\n", signum);
    PyErr_Print();
}
