/* origin-python: the fork's sys functions and attributes.
 *
 * This file is part of origin-python, not of upstream CPython; see
 * DESIGN.md in the origin-python repository.  _PySys_Create() calls
 * _PyCoroOrigin_InitSys() once the sys module is filled: it adds these
 * functions to the module (sys_methods itself is not patched, so that
 * Python/clinic/sysmodule.c.h stays stock's), readies the types they
 * return and sets sys.implementation._origin_python.
 */

#include "Python.h"
#include "pycore_coro_origin.h"
#include "pycore_originpython.h"  // _Py_ORIGIN_PYTHON_VERSION
#include "pycore_pystate.h"       // _PyThreadState_GET()

/*[clinic input]
module sys
[clinic start generated code]*/
/*[clinic end generated code: output=da39a3ee5e6b4b0d input=3726b388feee8cea]*/

/*[clinic input]
sys.set_coroutine_origin_tracking

    depth: object = None
        Frames kept per coroutine (0 disables tracking), as
        set_coroutine_origin_tracking_depth() sets.
    *
    chain: object = None
        Also keep the creation sites of up to this many ancestors.
    asyncgen: object = None
        Whether async generators are tracked too (ag_origin).
    notes: object = None
        Whether tracebacks of an exception that escaped a tracked task
        say where its coroutine was created.
    skip: object = None
        Module names whose frames are neither kept nor counted: a str
        "a:b" or an iterable of str; an empty iterable skips nothing.

Change coroutine origin tracking settings of this thread.

An argument of None keeps that setting.  Nothing changes if any argument
is invalid.
[clinic start generated code]*/

static PyObject *
sys_set_coroutine_origin_tracking_impl(PyObject *module, PyObject *depth,
                                       PyObject *chain, PyObject *asyncgen,
                                       PyObject *notes, PyObject *skip)
/*[clinic end generated code: output=0ba1a8b84b9fc187 input=8af77f16ca24451d]*/
{
    return _PyCoroOrigin_SetTracking(_PyThreadState_GET(), 0, depth, chain,
                                     asyncgen, notes, skip);
}

/*[clinic input]
sys.get_coroutine_origin_tracking

Return coroutine origin tracking settings of this thread.

The result is a named tuple with fields depth, chain, asyncgen, notes,
skip (a tuple of module names) and dump (a signal number or None).
[clinic start generated code]*/

static PyObject *
sys_get_coroutine_origin_tracking_impl(PyObject *module)
/*[clinic end generated code: output=a9a48b4da929ea17 input=faf7278eee648148]*/
{
    return _PyCoroOrigin_GetTracking(_PyThreadState_GET(), 0);
}

/*[clinic input]
sys.set_coroutine_origin_tracking_default

    depth: object = None
    *
    chain: object = None
    asyncgen: object = None
    notes: object = None
    skip: object = None

Change the settings that threads created from now on start with.

The arguments are those of set_coroutine_origin_tracking().  Existing
threads, including the calling one, keep their settings.
[clinic start generated code]*/

static PyObject *
sys_set_coroutine_origin_tracking_default_impl(PyObject *module,
                                               PyObject *depth,
                                               PyObject *chain,
                                               PyObject *asyncgen,
                                               PyObject *notes,
                                               PyObject *skip)
/*[clinic end generated code: output=5492ce29fbc346ad input=6ff993584984c6f0]*/
{
    return _PyCoroOrigin_SetTracking(_PyThreadState_GET(), 1, depth, chain,
                                     asyncgen, notes, skip);
}

/*[clinic input]
sys.get_coroutine_origin_tracking_default

Return the settings that threads created from now on start with.

At start-up they come from the build default, PYTHONCOROORIGIN and
-X coro_origin.
[clinic start generated code]*/

static PyObject *
sys_get_coroutine_origin_tracking_default_impl(PyObject *module)
/*[clinic end generated code: output=5b7c58eed5786263 input=82376b5e475630e9]*/
{
    return _PyCoroOrigin_GetTracking(_PyThreadState_GET(), 1);
}

/*[clinic input]
sys._coroutine_origin_live

Return a list of the live, unfinished coroutines in the live registry.

Only coroutines created with origin tracking on while the creating
thread's settings named a dump signal (dump= in the spec) are registered.
For internal use (the coroutine dump).
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_live_impl(PyObject *module)
/*[clinic end generated code: output=914743ee5b12f630 input=7031cff807096348]*/
{
    return _PyCoroOrigin_Live(_PyThreadState_GET());
}

/*[clinic input]
sys._frame_stack_capture

    depth: int
        Frames to keep, innermost first; a negative number keeps all.
    skip: int(c_default="0") = 0
        Complete frames to leave out above the caller's frame.
    /
    *
    origin: bool = False
        Apply the thread's skip= setting, as for a coroutine's origin.

Capture the calling thread's stack as an opaque, cheap frame stack.

Internal; used by asyncio.  Return None if depth is 0 or there is no
frame to capture.  The frame stack's frames() method gives the frames
as cr_origin does; summary(drop) the traceback.StackSummary asyncio's
debug mode keeps.
[clinic start generated code]*/

static PyObject *
sys__frame_stack_capture_impl(PyObject *module, int depth, int skip,
                              int origin)
/*[clinic end generated code: output=741e5076e1b429ba input=1628c2768adb4ce5]*/
{
    if (skip < 0) {
        PyErr_SetString(PyExc_ValueError, "skip must be >= 0");
        return NULL;
    }
    return _PyCoroOrigin_CaptureHandle(_PyThreadState_GET(), skip, depth,
                                       origin);
}

/*[clinic input]
sys._dump_coroutines

    file: object = None
    *
    format: str = "text"
        "text" (the await tree) or "json" (one JSON document).

Write every live, unfinished tracked coroutine to file (default stderr).

The await tree of asyncio tasks and coroutines: where each is suspended,
what it awaits, where it was created and its chain; identical subtrees
collapsed.  What -X coro_origin=dump=SIGNAL runs on that signal.  Never
raises because of the program's state: what cannot be written is left
out and said so.
[clinic start generated code]*/

static PyObject *
sys__dump_coroutines_impl(PyObject *module, PyObject *file,
                          const char *format)
/*[clinic end generated code: output=7abed0c2411374ac input=e81ee9a7764b2639]*/
{
    return _PyCoroOrigin_Dump(file, format);
}

/* The clinic output is used as an extension module's would be: its
   keyword tuples would need new _Py_ID() strings, that is, patches to
   generated files of upstream. */
#define Py_BUILD_CORE_MODULE
#include "clinic/coro_origin_sys.c.h"
#undef Py_BUILD_CORE_MODULE

static PyMethodDef coro_origin_sys_methods[] = {
    SYS_SET_COROUTINE_ORIGIN_TRACKING_METHODDEF
    SYS_GET_COROUTINE_ORIGIN_TRACKING_METHODDEF
    SYS_SET_COROUTINE_ORIGIN_TRACKING_DEFAULT_METHODDEF
    SYS_GET_COROUTINE_ORIGIN_TRACKING_DEFAULT_METHODDEF
    SYS__COROUTINE_ORIGIN_LIVE_METHODDEF
    SYS__FRAME_STACK_CAPTURE_METHODDEF
    SYS__DUMP_COROUTINES_METHODDEF
    {NULL, NULL}
};

int
_PyCoroOrigin_InitSys(PyInterpreterState *interp, PyObject *sysmod)
{
    if (_PyCoroOrigin_InitTypes(interp) < 0
        || _PyCoroOrigin_InitHandleType(interp) < 0)
    {
        return -1;
    }
    if (PyModule_AddFunctions(sysmod, coro_origin_sys_methods) < 0) {
        return -1;
    }
    PyObject *impl = PyObject_GetAttrString(sysmod, "implementation");
    if (impl == NULL) {
        return -1;
    }
    PyObject *version = PyUnicode_FromString(_Py_ORIGIN_PYTHON_VERSION);
    int rc = -1;
    if (version != NULL) {
        rc = PyObject_SetAttrString(impl, "_origin_python", version);
        Py_DECREF(version);
    }
    Py_DECREF(impl);
    return rc;
}

void
_PyCoroOrigin_FiniSys(PyInterpreterState *interp)
{
    _PyCoroOrigin_FiniHandleType(interp);
    _PyCoroOrigin_FiniTypes(interp);
}
