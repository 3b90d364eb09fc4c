/*[clinic input]
preserve
[clinic start generated code]*/

#if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)
#  include "pycore_gc.h"          // PyGC_Head
#  include "pycore_runtime.h"     // _Py_ID()
#endif
#include "pycore_modsupport.h"    // _PyArg_UnpackKeywords()

PyDoc_STRVAR(sys_set_coroutine_origin_tracking__doc__,
"set_coroutine_origin_tracking($module, /, depth=None, *, chain=None,\n"
"                              asyncgen=None, tracebacks=None,\n"
"                              full=None, skip=None)\n"
"--\n"
"\n"
"Change coroutine origin tracking settings of this thread.\n"
"\n"
"  depth\n"
"    Frames kept per coroutine (0 disables tracking), as\n"
"    set_coroutine_origin_tracking_depth() sets: an int.\n"
"  chain\n"
"    Also keep the creation sites of up to this many ancestors.\n"
"  asyncgen\n"
"    Whether async generators are tracked too (ag_origin): a bool.\n"
"  tracebacks\n"
"    Whether tracebacks of an exception that escaped a tracked task\n"
"    say where its coroutine was created.\n"
"  full\n"
"    Whether reports show every frame, without folding the frames of\n"
"    the standard library\'s async machinery.\n"
"  skip\n"
"    Module names whose frames are neither kept nor counted: a str\n"
"    \"a:b\" or an iterable of str; \"\" or () skips nothing.\n"
"\n"
"An argument of None keeps that setting.  Nothing changes if any argument\n"
"is invalid.");

#define SYS_SET_COROUTINE_ORIGIN_TRACKING_METHODDEF    \
    {"set_coroutine_origin_tracking", _PyCFunction_CAST(sys_set_coroutine_origin_tracking), METH_FASTCALL|METH_KEYWORDS, sys_set_coroutine_origin_tracking__doc__},

static PyObject *
sys_set_coroutine_origin_tracking_impl(PyObject *module, int depth,
                                       int chain, int asyncgen,
                                       int tracebacks, int full,
                                       PyObject *skip);

static PyObject *
sys_set_coroutine_origin_tracking(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    #if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)

    #define NUM_KEYWORDS 6
    static struct {
        PyGC_Head _this_is_not_used;
        PyObject_VAR_HEAD
        PyObject *ob_item[NUM_KEYWORDS];
    } _kwtuple = {
        .ob_base = PyVarObject_HEAD_INIT(&PyTuple_Type, NUM_KEYWORDS)
        .ob_item = { &_Py_ID(depth), &_Py_ID(chain), &_Py_ID(asyncgen), &_Py_ID(tracebacks), &_Py_ID(full), &_Py_ID(skip), },
    };
    #undef NUM_KEYWORDS
    #define KWTUPLE (&_kwtuple.ob_base.ob_base)

    #else  // !Py_BUILD_CORE
    #  define KWTUPLE NULL
    #endif  // !Py_BUILD_CORE

    static const char * const _keywords[] = {"depth", "chain", "asyncgen", "tracebacks", "full", "skip", NULL};
    static _PyArg_Parser _parser = {
        .keywords = _keywords,
        .fname = "set_coroutine_origin_tracking",
        .kwtuple = KWTUPLE,
    };
    #undef KWTUPLE
    PyObject *argsbuf[6];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    int depth = -1;
    int chain = -1;
    int asyncgen = -1;
    int tracebacks = -1;
    int full = -1;
    PyObject *skip = NULL;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_pos;
    }
    if (args[0]) {
        if (args[0] != Py_None) {
            if (PyBool_Check(args[0]) || !PyIndex_Check(args[0])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking", "argument 'depth'", "int or None", args[0]);
                goto exit;
            }
            depth = count_value(args[0], "depth");
            if (depth < 0) {
                goto exit;
            }
        }
        if (!--noptargs) {
            goto skip_optional_pos;
        }
    }
skip_optional_pos:
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    if (args[1]) {
        if (args[1] != Py_None) {
            if (PyBool_Check(args[1]) || !PyIndex_Check(args[1])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking", "argument 'chain'", "int or None", args[1]);
                goto exit;
            }
            chain = count_value(args[1], "chain");
            if (chain < 0) {
                goto exit;
            }
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[2]) {
        if (args[2] != Py_None) {
            if (!PyBool_Check(args[2])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking", "argument 'asyncgen'", "bool or None", args[2]);
                goto exit;
            }
            asyncgen = (args[2] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[3]) {
        if (args[3] != Py_None) {
            if (!PyBool_Check(args[3])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking", "argument 'tracebacks'", "bool or None", args[3]);
                goto exit;
            }
            tracebacks = (args[3] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[4]) {
        if (args[4] != Py_None) {
            if (!PyBool_Check(args[4])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking", "argument 'full'", "bool or None", args[4]);
                goto exit;
            }
            full = (args[4] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (!skip_converter(args[5], &skip)) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = sys_set_coroutine_origin_tracking_impl(module, depth, chain, asyncgen, tracebacks, full, skip);

exit:
    /* Cleanup for skip */
    Py_XDECREF(skip);

    return return_value;
}

PyDoc_STRVAR(sys_get_coroutine_origin_tracking__doc__,
"get_coroutine_origin_tracking($module, /)\n"
"--\n"
"\n"
"Return coroutine origin tracking settings of this thread.\n"
"\n"
"The result is a named tuple with fields depth, chain, asyncgen,\n"
"tracebacks, full, skip (a tuple of module names) and dump (a signal number or None).");

#define SYS_GET_COROUTINE_ORIGIN_TRACKING_METHODDEF    \
    {"get_coroutine_origin_tracking", (PyCFunction)sys_get_coroutine_origin_tracking, METH_NOARGS, sys_get_coroutine_origin_tracking__doc__},

static PyObject *
sys_get_coroutine_origin_tracking_impl(PyObject *module);

static PyObject *
sys_get_coroutine_origin_tracking(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys_get_coroutine_origin_tracking_impl(module);
}

PyDoc_STRVAR(sys_set_coroutine_origin_tracking_default__doc__,
"set_coroutine_origin_tracking_default($module, /, depth=None, *,\n"
"                                      chain=None, asyncgen=None,\n"
"                                      tracebacks=None, full=None,\n"
"                                      skip=None)\n"
"--\n"
"\n"
"Change the settings that threads created from now on start with.\n"
"\n"
"  depth\n"
"    Frames kept per coroutine (0 disables tracking), as\n"
"    set_coroutine_origin_tracking_depth() sets: an int.\n"
"  chain\n"
"    Also keep the creation sites of up to this many ancestors.\n"
"  asyncgen\n"
"    Whether async generators are tracked too (ag_origin): a bool.\n"
"  tracebacks\n"
"    Whether tracebacks of an exception that escaped a tracked task\n"
"    say where its coroutine was created.\n"
"  full\n"
"    Whether reports show every frame, without folding the frames of\n"
"    the standard library\'s async machinery.\n"
"  skip\n"
"    Module names whose frames are neither kept nor counted: a str\n"
"    \"a:b\" or an iterable of str; \"\" or () skips nothing.\n"
"\n"
"The arguments are those of set_coroutine_origin_tracking().  Existing\n"
"threads, including the calling one, keep their settings.");

#define SYS_SET_COROUTINE_ORIGIN_TRACKING_DEFAULT_METHODDEF    \
    {"set_coroutine_origin_tracking_default", _PyCFunction_CAST(sys_set_coroutine_origin_tracking_default), METH_FASTCALL|METH_KEYWORDS, sys_set_coroutine_origin_tracking_default__doc__},

static PyObject *
sys_set_coroutine_origin_tracking_default_impl(PyObject *module, int depth,
                                               int chain, int asyncgen,
                                               int tracebacks, int full,
                                               PyObject *skip);

static PyObject *
sys_set_coroutine_origin_tracking_default(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    #if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)

    #define NUM_KEYWORDS 6
    static struct {
        PyGC_Head _this_is_not_used;
        PyObject_VAR_HEAD
        PyObject *ob_item[NUM_KEYWORDS];
    } _kwtuple = {
        .ob_base = PyVarObject_HEAD_INIT(&PyTuple_Type, NUM_KEYWORDS)
        .ob_item = { &_Py_ID(depth), &_Py_ID(chain), &_Py_ID(asyncgen), &_Py_ID(tracebacks), &_Py_ID(full), &_Py_ID(skip), },
    };
    #undef NUM_KEYWORDS
    #define KWTUPLE (&_kwtuple.ob_base.ob_base)

    #else  // !Py_BUILD_CORE
    #  define KWTUPLE NULL
    #endif  // !Py_BUILD_CORE

    static const char * const _keywords[] = {"depth", "chain", "asyncgen", "tracebacks", "full", "skip", NULL};
    static _PyArg_Parser _parser = {
        .keywords = _keywords,
        .fname = "set_coroutine_origin_tracking_default",
        .kwtuple = KWTUPLE,
    };
    #undef KWTUPLE
    PyObject *argsbuf[6];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    int depth = -1;
    int chain = -1;
    int asyncgen = -1;
    int tracebacks = -1;
    int full = -1;
    PyObject *skip = NULL;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_pos;
    }
    if (args[0]) {
        if (args[0] != Py_None) {
            if (PyBool_Check(args[0]) || !PyIndex_Check(args[0])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking_default", "argument 'depth'", "int or None", args[0]);
                goto exit;
            }
            depth = count_value(args[0], "depth");
            if (depth < 0) {
                goto exit;
            }
        }
        if (!--noptargs) {
            goto skip_optional_pos;
        }
    }
skip_optional_pos:
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    if (args[1]) {
        if (args[1] != Py_None) {
            if (PyBool_Check(args[1]) || !PyIndex_Check(args[1])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking_default", "argument 'chain'", "int or None", args[1]);
                goto exit;
            }
            chain = count_value(args[1], "chain");
            if (chain < 0) {
                goto exit;
            }
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[2]) {
        if (args[2] != Py_None) {
            if (!PyBool_Check(args[2])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking_default", "argument 'asyncgen'", "bool or None", args[2]);
                goto exit;
            }
            asyncgen = (args[2] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[3]) {
        if (args[3] != Py_None) {
            if (!PyBool_Check(args[3])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking_default", "argument 'tracebacks'", "bool or None", args[3]);
                goto exit;
            }
            tracebacks = (args[3] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[4]) {
        if (args[4] != Py_None) {
            if (!PyBool_Check(args[4])) {
                _PyArg_BadArgument("set_coroutine_origin_tracking_default", "argument 'full'", "bool or None", args[4]);
                goto exit;
            }
            full = (args[4] == Py_True);
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (!skip_converter(args[5], &skip)) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = sys_set_coroutine_origin_tracking_default_impl(module, depth, chain, asyncgen, tracebacks, full, skip);

exit:
    /* Cleanup for skip */
    Py_XDECREF(skip);

    return return_value;
}

PyDoc_STRVAR(sys_get_coroutine_origin_tracking_default__doc__,
"get_coroutine_origin_tracking_default($module, /)\n"
"--\n"
"\n"
"Return the settings that threads created from now on start with.\n"
"\n"
"At start-up they come from the build default, PYTHONCOROORIGIN and\n"
"-X coro_origin.");

#define SYS_GET_COROUTINE_ORIGIN_TRACKING_DEFAULT_METHODDEF    \
    {"get_coroutine_origin_tracking_default", (PyCFunction)sys_get_coroutine_origin_tracking_default, METH_NOARGS, sys_get_coroutine_origin_tracking_default__doc__},

static PyObject *
sys_get_coroutine_origin_tracking_default_impl(PyObject *module);

static PyObject *
sys_get_coroutine_origin_tracking_default(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys_get_coroutine_origin_tracking_default_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_dump_signal__doc__,
"_coroutine_origin_dump_signal($module, signal, /)\n"
"--\n"
"\n"
"Return the number of the signal that dump=signal would use.\n"
"\n"
"signal is a name such as \"SIGUSR1\" or \"SIGRTMIN+2\", or a number.  Raise\n"
"ValueError if dump= would refuse it: an unknown signal, or one not meant\n"
"for users (SIGKILL and SIGSTOP cannot be caught; SIGSEGV, SIGBUS, SIGFPE,\n"
"SIGILL and SIGABRT report crashes).  For tools that send or catch the\n"
"dump signal.");

#define SYS__COROUTINE_ORIGIN_DUMP_SIGNAL_METHODDEF    \
    {"_coroutine_origin_dump_signal", (PyCFunction)sys__coroutine_origin_dump_signal, METH_O, sys__coroutine_origin_dump_signal__doc__},

PyDoc_STRVAR(sys__coroutine_origin_live__doc__,
"_coroutine_origin_live($module, /)\n"
"--\n"
"\n"
"Return a list of the live, unfinished coroutines in the live registry.\n"
"\n"
"Only coroutines created with origin tracking on in an interpreter whose\n"
"start-up spec names a dump signal (dump=) are registered.\n"
"For internal use (the coroutine dump).");

#define SYS__COROUTINE_ORIGIN_LIVE_METHODDEF    \
    {"_coroutine_origin_live", (PyCFunction)sys__coroutine_origin_live, METH_NOARGS, sys__coroutine_origin_live__doc__},

static PyObject *
sys__coroutine_origin_live_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_live(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__coroutine_origin_live_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_configured__doc__,
"_coroutine_origin_configured($module, /)\n"
"--\n"
"\n"
"Return True if the fork\'s origin tracking is configured in this thread.\n"
"\n"
"That is an item of the thread\'s settings beyond the depth, or a default\n"
"depth (a start-up spec, set_coroutine_origin_tracking_default()), not\n"
"only set_coroutine_origin_tracking_depth() as stock has it (asyncio\'s\n"
"debug mode).  Internal: the fork\'s additions to reports and to asyncio\n"
"follow it, so that stock\'s API alone gives stock\'s output.");

#define SYS__COROUTINE_ORIGIN_CONFIGURED_METHODDEF    \
    {"_coroutine_origin_configured", (PyCFunction)sys__coroutine_origin_configured, METH_NOARGS, sys__coroutine_origin_configured__doc__},

static int
sys__coroutine_origin_configured_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_configured(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *return_value = NULL;
    int _return_value;

    _return_value = sys__coroutine_origin_configured_impl(module);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__coroutine_origin_folding__doc__,
"_coroutine_origin_folding($module, /)\n"
"--\n"
"\n"
"Return True if the reports this thread makes fold asyncio\'s frames.\n"
"\n"
"They fold the frames of the standard library\'s async machinery when the\n"
"fork\'s origin tracking is configured in this thread (as for\n"
"_coroutine_origin_configured()) and its full setting is off.  Internal:\n"
"the renderer asks once per report.");

#define SYS__COROUTINE_ORIGIN_FOLDING_METHODDEF    \
    {"_coroutine_origin_folding", (PyCFunction)sys__coroutine_origin_folding, METH_NOARGS, sys__coroutine_origin_folding__doc__},

static int
sys__coroutine_origin_folding_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_folding(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *return_value = NULL;
    int _return_value;

    _return_value = sys__coroutine_origin_folding_impl(module);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__coroutine_origin_scheduled_at__doc__,
"_coroutine_origin_scheduled_at($module, callback, /)\n"
"--\n"
"\n"
"Return where the user\'s code schedules the asyncio callback being made.\n"
"\n"
"The frame stack of the first frame outside asyncio\'s package, captured as\n"
"a coroutine\'s origin is, or None if asyncio schedules the callback for\n"
"itself (Handle._run() comes first), if it is a task\'s first step\n"
"(create_task()) or a method of a future, or if the fork\'s tracking is off\n"
"in this thread.  Internal; asyncio\'s Handle keeps it, and a coroutine\n"
"created while the callback runs gets it as a chain link.");

#define SYS__COROUTINE_ORIGIN_SCHEDULED_AT_METHODDEF    \
    {"_coroutine_origin_scheduled_at", (PyCFunction)sys__coroutine_origin_scheduled_at, METH_O, sys__coroutine_origin_scheduled_at__doc__},

PyDoc_STRVAR(sys__coroutine_origin_work_site__doc__,
"_coroutine_origin_work_site($module, /)\n"
"--\n"
"\n"
"Return where the user\'s code hands the work item being made to an executor.\n"
"\n"
"The frame stack of the first frame outside concurrent.futures and asyncio,\n"
"captured as a coroutine\'s origin is, or None if the fork\'s tracking is off\n"
"in this thread or asyncio was not set up for it.  Internal;\n"
"concurrent.futures.thread._WorkItem keeps it, and a coroutine created\n"
"while the work item runs gets it as a chain link.");

#define SYS__COROUTINE_ORIGIN_WORK_SITE_METHODDEF    \
    {"_coroutine_origin_work_site", (PyCFunction)sys__coroutine_origin_work_site, METH_NOARGS, sys__coroutine_origin_work_site__doc__},

static PyObject *
sys__coroutine_origin_work_site_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_work_site(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__coroutine_origin_work_site_impl(module);
}

PyDoc_STRVAR(sys__frame_stack_capture__doc__,
"_frame_stack_capture($module, depth, frames_above=0, /, *,\n"
"                     skip_modules=False)\n"
"--\n"
"\n"
"Capture the calling thread\'s stack as an opaque, cheap frame stack.\n"
"\n"
"  depth\n"
"    Frames to keep, innermost first; a negative number keeps all.\n"
"  frames_above\n"
"    Complete frames to leave out above the caller\'s frame.\n"
"  skip_modules\n"
"    Leave out the frames of the thread\'s skip= modules, as a\n"
"    coroutine\'s origin does.\n"
"\n"
"Internal; used by asyncio.  Return None if depth is 0 or there is no\n"
"frame to capture.  The frame stack\'s frames() method gives the frames\n"
"as cr_origin does; summary(drop) the traceback.StackSummary asyncio\'s\n"
"debug mode keeps.");

#define SYS__FRAME_STACK_CAPTURE_METHODDEF    \
    {"_frame_stack_capture", _PyCFunction_CAST(sys__frame_stack_capture), METH_FASTCALL|METH_KEYWORDS, sys__frame_stack_capture__doc__},

static PyObject *
sys__frame_stack_capture_impl(PyObject *module, int depth, int frames_above,
                              int skip_modules);

static PyObject *
sys__frame_stack_capture(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    #if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)

    #define NUM_KEYWORDS 1
    static struct {
        PyGC_Head _this_is_not_used;
        PyObject_VAR_HEAD
        PyObject *ob_item[NUM_KEYWORDS];
    } _kwtuple = {
        .ob_base = PyVarObject_HEAD_INIT(&PyTuple_Type, NUM_KEYWORDS)
        .ob_item = { &_Py_ID(skip_modules), },
    };
    #undef NUM_KEYWORDS
    #define KWTUPLE (&_kwtuple.ob_base.ob_base)

    #else  // !Py_BUILD_CORE
    #  define KWTUPLE NULL
    #endif  // !Py_BUILD_CORE

    static const char * const _keywords[] = {"", "", "skip_modules", NULL};
    static _PyArg_Parser _parser = {
        .keywords = _keywords,
        .fname = "_frame_stack_capture",
        .kwtuple = KWTUPLE,
    };
    #undef KWTUPLE
    PyObject *argsbuf[3];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 1;
    int depth;
    int frames_above = 0;
    int skip_modules = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 2, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    depth = PyLong_AsInt(args[0]);
    if (depth == -1 && PyErr_Occurred()) {
        goto exit;
    }
    if (nargs < 2) {
        goto skip_optional_posonly;
    }
    noptargs--;
    frames_above = PyLong_AsInt(args[1]);
    if (frames_above == -1 && PyErr_Occurred()) {
        goto exit;
    }
skip_optional_posonly:
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    skip_modules = PyObject_IsTrue(args[2]);
    if (skip_modules < 0) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = sys__frame_stack_capture_impl(module, depth, frames_above, skip_modules);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__dump_coroutines__doc__,
"_dump_coroutines($module, /, file=None, *, format=\'text\')\n"
"--\n"
"\n"
"Write every live, unfinished tracked coroutine to file (default stderr).\n"
"\n"
"  format\n"
"    \"text\" (the await tree) or \"json\" (one JSON document).\n"
"\n"
"The await tree of asyncio tasks and coroutines: where each is suspended,\n"
"what it awaits, where it was created and its chain; identical subtrees\n"
"collapsed.  What -X coro_origin=dump=SIGNAL runs on that signal.  Never\n"
"raises because of the program\'s state: what cannot be written is left\n"
"out and said so.");

#define SYS__DUMP_COROUTINES_METHODDEF    \
    {"_dump_coroutines", _PyCFunction_CAST(sys__dump_coroutines), METH_FASTCALL|METH_KEYWORDS, sys__dump_coroutines__doc__},

static PyObject *
sys__dump_coroutines_impl(PyObject *module, PyObject *file,
                          const char *format);

static PyObject *
sys__dump_coroutines(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    #if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)

    #define NUM_KEYWORDS 2
    static struct {
        PyGC_Head _this_is_not_used;
        PyObject_VAR_HEAD
        PyObject *ob_item[NUM_KEYWORDS];
    } _kwtuple = {
        .ob_base = PyVarObject_HEAD_INIT(&PyTuple_Type, NUM_KEYWORDS)
        .ob_item = { &_Py_ID(file), &_Py_ID(format), },
    };
    #undef NUM_KEYWORDS
    #define KWTUPLE (&_kwtuple.ob_base.ob_base)

    #else  // !Py_BUILD_CORE
    #  define KWTUPLE NULL
    #endif  // !Py_BUILD_CORE

    static const char * const _keywords[] = {"file", "format", NULL};
    static _PyArg_Parser _parser = {
        .keywords = _keywords,
        .fname = "_dump_coroutines",
        .kwtuple = KWTUPLE,
    };
    #undef KWTUPLE
    PyObject *argsbuf[2];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    PyObject *file = Py_None;
    const char *format = "text";

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_pos;
    }
    if (args[0]) {
        file = args[0];
        if (!--noptargs) {
            goto skip_optional_pos;
        }
    }
skip_optional_pos:
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    if (!PyUnicode_Check(args[1])) {
        _PyArg_BadArgument("_dump_coroutines", "argument 'format'", "str", args[1]);
        goto exit;
    }
    Py_ssize_t format_length;
    format = PyUnicode_AsUTF8AndSize(args[1], &format_length);
    if (format == NULL) {
        goto exit;
    }
    if (strlen(format) != (size_t)format_length) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        goto exit;
    }
skip_optional_kwonly:
    return_value = sys__dump_coroutines_impl(module, file, format);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__dump_coroutines_later__doc__,
"_dump_coroutines_later($module, /, timeout, *, repeat=False, file=None,\n"
"                       exit=False)\n"
"--\n"
"\n"
"Watch for a hung asyncio program, and report it with the coroutine dump.\n"
"\n"
"  timeout\n"
"    Seconds (a number greater than 0).\n"
"  repeat\n"
"    Go on watching after a report (one report per episode).\n"
"  file\n"
"    Where reports go: None (stderr, as it is now), a file descriptor,\n"
"    or an object with write().\n"
"  exit\n"
"    End the process with status 70 after a report.\n"
"\n"
"A thread that threading.enumerate() does not list reports an event loop\n"
"that has run one callback for timeout seconds (blocked), a loop with\n"
"pending tasks of which none took a step for timeout seconds (stalled),\n"
"and a main thread that finished while a non-daemon thread runs an event\n"
"loop, for timeout seconds (cannot exit).  Replaces the watch started\n"
"before.  What -X coro_origin=hang=SECONDS starts.");

#define SYS__DUMP_COROUTINES_LATER_METHODDEF    \
    {"_dump_coroutines_later", _PyCFunction_CAST(sys__dump_coroutines_later), METH_FASTCALL|METH_KEYWORDS, sys__dump_coroutines_later__doc__},

static PyObject *
sys__dump_coroutines_later_impl(PyObject *module, PyObject *timeout,
                                int repeat, PyObject *file, int exit);

static PyObject *
sys__dump_coroutines_later(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    #if defined(Py_BUILD_CORE) && !defined(Py_BUILD_CORE_MODULE)

    #define NUM_KEYWORDS 4
    static struct {
        PyGC_Head _this_is_not_used;
        PyObject_VAR_HEAD
        PyObject *ob_item[NUM_KEYWORDS];
    } _kwtuple = {
        .ob_base = PyVarObject_HEAD_INIT(&PyTuple_Type, NUM_KEYWORDS)
        .ob_item = { &_Py_ID(timeout), &_Py_ID(repeat), &_Py_ID(file), &_Py_ID(exit), },
    };
    #undef NUM_KEYWORDS
    #define KWTUPLE (&_kwtuple.ob_base.ob_base)

    #else  // !Py_BUILD_CORE
    #  define KWTUPLE NULL
    #endif  // !Py_BUILD_CORE

    static const char * const _keywords[] = {"timeout", "repeat", "file", "exit", NULL};
    static _PyArg_Parser _parser = {
        .keywords = _keywords,
        .fname = "_dump_coroutines_later",
        .kwtuple = KWTUPLE,
    };
    #undef KWTUPLE
    PyObject *argsbuf[4];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 1;
    PyObject *timeout;
    int repeat = 0;
    PyObject *file = Py_None;
    int exit = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    timeout = args[0];
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    if (args[1]) {
        repeat = PyObject_IsTrue(args[1]);
        if (repeat < 0) {
            goto exit;
        }
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    if (args[2]) {
        file = args[2];
        if (!--noptargs) {
            goto skip_optional_kwonly;
        }
    }
    exit = PyObject_IsTrue(args[3]);
    if (exit < 0) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = sys__dump_coroutines_later_impl(module, timeout, repeat, file, exit);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__cancel_dump_coroutines_later__doc__,
"_cancel_dump_coroutines_later($module, /)\n"
"--\n"
"\n"
"Stop the watch that sys._dump_coroutines_later() started, if any.");

#define SYS__CANCEL_DUMP_COROUTINES_LATER_METHODDEF    \
    {"_cancel_dump_coroutines_later", (PyCFunction)sys__cancel_dump_coroutines_later, METH_NOARGS, sys__cancel_dump_coroutines_later__doc__},

static PyObject *
sys__cancel_dump_coroutines_later_impl(PyObject *module);

static PyObject *
sys__cancel_dump_coroutines_later(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__cancel_dump_coroutines_later_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_progress__doc__,
"_coroutine_origin_progress($module, /)\n"
"--\n"
"\n"
"Return (callbacks, task steps) that asyncio scheduled so far.\n"
"\n"
"Counted while asyncio._origin watches (the fork\'s tracking on, or the\n"
"hang watchdog running): every callback given to the event loop, and of\n"
"them, with the fork\'s tracking on, the steps and wake-ups of tasks (0\n"
"otherwise).  The hang watchdog\'s measure of progress.  Internal.");

#define SYS__COROUTINE_ORIGIN_PROGRESS_METHODDEF    \
    {"_coroutine_origin_progress", (PyCFunction)sys__coroutine_origin_progress, METH_NOARGS, sys__coroutine_origin_progress__doc__},

static PyObject *
sys__coroutine_origin_progress_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_progress(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__coroutine_origin_progress_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_hang_sentinel__doc__,
"_coroutine_origin_hang_sentinel($module, allowance, fd, exit, /)\n"
"--\n"
"\n"
"Check in with the hang watchdog\'s sentinel; an allowance <= 0 stops it.\n"
"\n"
"If no check-in comes for allowance seconds (a thread keeps the GIL), the\n"
"sentinel writes the Python stacks of the threads to fd as faulthandler\n"
"does, and with exit ends the process with status 70.  Internal: the\n"
"watchdog calls it on each look.");

#define SYS__COROUTINE_ORIGIN_HANG_SENTINEL_METHODDEF    \
    {"_coroutine_origin_hang_sentinel", _PyCFunction_CAST(sys__coroutine_origin_hang_sentinel), METH_FASTCALL, sys__coroutine_origin_hang_sentinel__doc__},

static PyObject *
sys__coroutine_origin_hang_sentinel_impl(PyObject *module, double allowance,
                                         int fd, int exit);

static PyObject *
sys__coroutine_origin_hang_sentinel(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    double allowance;
    int fd;
    int exit;

    if (!_PyArg_CheckPositional("_coroutine_origin_hang_sentinel", nargs, 3, 3)) {
        goto exit;
    }
    if (PyFloat_CheckExact(args[0])) {
        allowance = PyFloat_AS_DOUBLE(args[0]);
    }
    else
    {
        allowance = PyFloat_AsDouble(args[0]);
        if (allowance == -1.0 && PyErr_Occurred()) {
            goto exit;
        }
    }
    fd = PyLong_AsInt(args[1]);
    if (fd == -1 && PyErr_Occurred()) {
        goto exit;
    }
    exit = PyObject_IsTrue(args[2]);
    if (exit < 0) {
        goto exit;
    }
    return_value = sys__coroutine_origin_hang_sentinel_impl(module, allowance, fd, exit);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__coroutine_origin_thread_stacks__doc__,
"_coroutine_origin_thread_stacks($module, limit, run_code, /)\n"
"--\n"
"\n"
"Return {thread id: (code objects, handle)} for this interpreter\'s threads.\n"
"\n"
"The code objects of each thread\'s stack, innermost first (at most limit),\n"
"and a weak reference to the first local (self) of the innermost frame\n"
"running run_code (asyncio\'s Handle._run), or None.  Makes no frame\n"
"object.  Internal: the hang watchdog\'s look.");

#define SYS__COROUTINE_ORIGIN_THREAD_STACKS_METHODDEF    \
    {"_coroutine_origin_thread_stacks", _PyCFunction_CAST(sys__coroutine_origin_thread_stacks), METH_FASTCALL, sys__coroutine_origin_thread_stacks__doc__},

static PyObject *
sys__coroutine_origin_thread_stacks_impl(PyObject *module, int limit,
                                         PyObject *run_code);

static PyObject *
sys__coroutine_origin_thread_stacks(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int limit;
    PyObject *run_code;

    if (!_PyArg_CheckPositional("_coroutine_origin_thread_stacks", nargs, 2, 2)) {
        goto exit;
    }
    limit = PyLong_AsInt(args[0]);
    if (limit == -1 && PyErr_Occurred()) {
        goto exit;
    }
    if (!PyObject_TypeCheck(args[1], &PyCode_Type)) {
        _PyArg_BadArgument("_coroutine_origin_thread_stacks", "argument 2", (&PyCode_Type)->tp_name, args[1]);
        goto exit;
    }
    run_code = args[1];
    return_value = sys__coroutine_origin_thread_stacks_impl(module, limit, run_code);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__coroutine_origin_current_frames__doc__,
"_coroutine_origin_current_frames($module, /)\n"
"--\n"
"\n"
"Return {thread id: frame} for the threads of this interpreter.\n"
"\n"
"What sys._current_frames() returns, without the threads of other\n"
"interpreters (whose frames it would make with this interpreter\'s\n"
"allocator).  Internal: the dump\'s and the watchdog\'s look at the\n"
"threads.");

#define SYS__COROUTINE_ORIGIN_CURRENT_FRAMES_METHODDEF    \
    {"_coroutine_origin_current_frames", (PyCFunction)sys__coroutine_origin_current_frames, METH_NOARGS, sys__coroutine_origin_current_frames__doc__},

static PyObject *
sys__coroutine_origin_current_frames_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_current_frames(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__coroutine_origin_current_frames_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_problems__doc__,
"_coroutine_origin_problems($module, /)\n"
"--\n"
"\n"
"Return the lost asyncio work recorded so far, and forget it.\n"
"\n"
"With \"strict\" in the start-up spec, each problem (a coroutine never\n"
"awaited, a task or future exception never retrieved, a task destroyed\n"
"while pending, an async generator never finalized) is recorded with\n"
"where it was created, and the problems left at exit are summarised and\n"
"fail the exit status.  Return a list of (kind, text, count) tuples,\n"
"identical problems once with their count; the problems returned no\n"
"longer count at exit.  Return None if strict mode is off.");

#define SYS__COROUTINE_ORIGIN_PROBLEMS_METHODDEF    \
    {"_coroutine_origin_problems", (PyCFunction)sys__coroutine_origin_problems, METH_NOARGS, sys__coroutine_origin_problems__doc__},

static PyObject *
sys__coroutine_origin_problems_impl(PyObject *module);

static PyObject *
sys__coroutine_origin_problems(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return sys__coroutine_origin_problems_impl(module);
}

PyDoc_STRVAR(sys__coroutine_origin_note_problem__doc__,
"_coroutine_origin_note_problem($module, kind, obj, /)\n"
"--\n"
"\n"
"Record one problem of lost work in strict mode (else do nothing).\n"
"\n"
"Internal; asyncio\'s call_exception_handler() calls it for the reports\n"
"that strict mode counts, with obj the context.");

#define SYS__COROUTINE_ORIGIN_NOTE_PROBLEM_METHODDEF    \
    {"_coroutine_origin_note_problem", _PyCFunction_CAST(sys__coroutine_origin_note_problem), METH_FASTCALL, sys__coroutine_origin_note_problem__doc__},

static PyObject *
sys__coroutine_origin_note_problem_impl(PyObject *module, const char *kind,
                                        PyObject *obj);

static PyObject *
sys__coroutine_origin_note_problem(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    const char *kind;
    PyObject *obj;

    if (!_PyArg_CheckPositional("_coroutine_origin_note_problem", nargs, 2, 2)) {
        goto exit;
    }
    if (!PyUnicode_Check(args[0])) {
        _PyArg_BadArgument("_coroutine_origin_note_problem", "argument 1", "str", args[0]);
        goto exit;
    }
    Py_ssize_t kind_length;
    kind = PyUnicode_AsUTF8AndSize(args[0], &kind_length);
    if (kind == NULL) {
        goto exit;
    }
    if (strlen(kind) != (size_t)kind_length) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        goto exit;
    }
    obj = args[1];
    return_value = sys__coroutine_origin_note_problem_impl(module, kind, obj);

exit:
    return return_value;
}

PyDoc_STRVAR(sys__coroutine_origin_of_exception__doc__,
"_coroutine_origin_of_exception($module, exc, /)\n"
"--\n"
"\n"
"Where the coroutine that the exception escaped was created, or None.\n"
"\n"
"With the tracebacks setting: the tuple (\'coroutine\', qualname, cr_origin,\n"
"cr_origin_chain) recorded when exc escaped a task\'s root coroutine (or\n"
"one driven by send() or throw()).  Runs no code of exc\'s type.");

#define SYS__COROUTINE_ORIGIN_OF_EXCEPTION_METHODDEF    \
    {"_coroutine_origin_of_exception", (PyCFunction)sys__coroutine_origin_of_exception, METH_O, sys__coroutine_origin_of_exception__doc__},

PyDoc_STRVAR(sys__coroutine_origin_render__doc__,
"_coroutine_origin_render($module, name, /, *args)\n"
"--\n"
"\n"
"Call the renderer\'s function name (Lib/_coro_origin_report.py) with args.\n"
"\n"
"Internal.  The interpreter keeps the renderer once imported, so that this\n"
"works while the interpreter shuts down, when imports fail.  Return None,\n"
"with no exception, if no origin was ever recorded (the renderer is then\n"
"not imported), if the renderer cannot be imported or if the call raises:\n"
"a report then says what stock says.");

#define SYS__COROUTINE_ORIGIN_RENDER_METHODDEF    \
    {"_coroutine_origin_render", _PyCFunction_CAST(sys__coroutine_origin_render), METH_FASTCALL, sys__coroutine_origin_render__doc__},

static PyObject *
sys__coroutine_origin_render_impl(PyObject *module, const char *name,
                                  PyObject *args);

static PyObject *
sys__coroutine_origin_render(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    const char *name;
    PyObject *__clinic_args = NULL;

    if (!_PyArg_CheckPositional("_coroutine_origin_render", nargs, 1, PY_SSIZE_T_MAX)) {
        goto exit;
    }
    if (!PyUnicode_Check(args[0])) {
        _PyArg_BadArgument("_coroutine_origin_render", "argument 1", "str", args[0]);
        goto exit;
    }
    Py_ssize_t name_length;
    name = PyUnicode_AsUTF8AndSize(args[0], &name_length);
    if (name == NULL) {
        goto exit;
    }
    if (strlen(name) != (size_t)name_length) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        goto exit;
    }
    __clinic_args = PyTuple_New(nargs - 1);
    if (!__clinic_args) {
        goto exit;
    }
    for (Py_ssize_t i = 0; i < nargs - 1; ++i) {
        PyTuple_SET_ITEM(__clinic_args, i, Py_NewRef(args[1 + i]));
    }
    return_value = sys__coroutine_origin_render_impl(module, name, __clinic_args);

exit:
    Py_XDECREF(__clinic_args);
    return return_value;
}
/*[clinic end generated code: output=448f859015d535d7 input=a9049054013a1b77]*/
