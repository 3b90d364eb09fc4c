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
#include "pycore_frame.h"         // _PyFrame_GetFirstComplete()
#include "pycore_import.h"        // _PyImport_GetModuleAttrString()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_pystate.h"       // _Py_IsMainInterpreter()
#include "pycore_pylifecycle.h"   // _Py_IsInterpreterFinalizing()

/* asyncio.constants.DEBUG_STACK_DEPTH: asyncio's C Future captured the
   whole stack (traceback.extract_stack()), the Python one 10 frames. */
#define WHOLE_STACK (-1)

PyObject *
_PyCoroOrigin_CaptureHandle(PyThreadState *tstate, int skip, int depth,
                            int origin)
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
    /* Debug mode's tracebacks keep every frame, as stock's do (asyncio
       drops its own frames from them by count); a future's origin follows
       the thread's skip= setting, as a coroutine's. */
    return _PyCoroOrigin_Capture(tstate, frame, depth, origin);
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
    PyObject *summary = _PyImport_GetModuleAttrString("traceback",
                                                      "StackSummary");
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
_PyCoroOrigin_FutureCaptureOrigin(PyObject **origin_tb)
{
    PyThreadState *tstate = _PyThreadState_GET();
    int depth = tstate->coroutine_origin_tracking_depth;
    if (depth <= 0 || _Py_IsInterpreterFinalizing(tstate->interp)) {
        return 0;
    }
    return store_handle(origin_tb,
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
_PyCoroOrigin_Dump(PyObject *file, const char *format)
{
    PyObject *mod = PyImport_ImportModule("_coro_origin_report");
    if (mod == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallMethod(mod, "dump", "Os", file, format);
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
