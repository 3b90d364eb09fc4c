/* An extension module compiled against *stock* CPython 3.13.15 headers
 * (build/pristine/Include) and loaded into the fork, the way a binary wheel
 * built for stock CPython would be.  It reads public structs directly, so
 * a layout change in the fork shows up as wrong values.
 * Used by tools/check-abi.
 */
#define PY_SSIZE_T_CLEAN
#include "Python.h"
#include <stddef.h>                 // offsetof()

/* PyThreadState.coroutine_origin_tracking_depth, read at stock's offset. */
static PyObject *
tstate_origin_depth(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(PyThreadState_Get()->coroutine_origin_tracking_depth);
}

/* Fields of a generator-like object read through stock's PyGenObject. */
static PyObject *
gen_head(PyObject *self, PyObject *gen)
{
    if (!PyGen_Check(gen) && !PyCoro_CheckExact(gen) && !PyAsyncGen_CheckExact(gen)) {
        PyErr_SetString(PyExc_TypeError, "need a generator, coroutine or async generator");
        return NULL;
    }
    PyGenObject *g = (PyGenObject *)gen;
    return Py_BuildValue("(OOi)", g->gi_name, g->gi_qualname,
                         (int)g->gi_frame_state);
}

/* Sizes and offsets as stock's headers define them. */
static PyObject *
layout(PyObject *self, PyObject *unused)
{
    return Py_BuildValue(
        "{s:n,s:n,s:n,s:n}",
        "PyThreadState.coroutine_origin_tracking_depth",
        (Py_ssize_t)offsetof(PyThreadState, coroutine_origin_tracking_depth),
        "PyGenObject.gi_qualname", (Py_ssize_t)offsetof(PyGenObject, gi_qualname),
        "PyCoroObject.cr_origin_or_finalizer",
        (Py_ssize_t)offsetof(PyCoroObject, cr_origin_or_finalizer),
        "PyAsyncGenObject.ag_hooks_inited",
        (Py_ssize_t)offsetof(PyAsyncGenObject, ag_hooks_inited));
}

static PyMethodDef stockabi_methods[] = {
    {"tstate_origin_depth", tstate_origin_depth, METH_NOARGS, NULL},
    {"gen_head", gen_head, METH_O, NULL},
    {"layout", layout, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef stockabi_module = {
    PyModuleDef_HEAD_INIT, "stockabi", NULL, 0, stockabi_methods,
};

PyMODINIT_FUNC
PyInit_stockabi(void)
{
    return PyModule_Create(&stockabi_module);
}
