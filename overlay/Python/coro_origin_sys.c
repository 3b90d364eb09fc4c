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
#include "pycore_structseq.h"     // _PyStructSequence_InitBuiltinWithFlags()
#include "pycore_tuple.h"         // _PyTuple_ITEMS()

/*[clinic input]
module sys
[clinic start generated code]*/
/*[clinic end generated code: output=da39a3ee5e6b4b0d input=3726b388feee8cea]*/

/*[python input]
class coro_origin_count_converter(CConverter):
    """depth=, chain=: an int (not a bool) from 0 to 2**31-1, or None to
    keep the setting (-1)."""
    type = 'int'
    format_unit = ''            # parse_arg() does all the work

    def converter_init(self):
        self.c_default = '-1'

    def parse_arg(self, argname, displayname, *, limited_capi):
        return self.format_code("""
            if ({argname} != Py_None) {{{{
                if (PyBool_Check({argname}) || !PyIndex_Check({argname})) {{{{
                    {bad_argument}
                    goto exit;
                }}}}
                {paramname} = count_value({argname}, "{pyname}");
                if ({paramname} < 0) {{{{
                    goto exit;
                }}}}
            }}}}
            """,
            argname=argname, pyname=self.py_name,
            bad_argument=self.bad_argument(displayname, 'int or None',
                                           limited_capi=limited_capi))

class coro_origin_flag_converter(CConverter):
    """asyncgen=, tracebacks=, full=: True, False, or None to keep the setting
    (-1)."""
    type = 'int'
    format_unit = ''            # parse_arg() does all the work

    def converter_init(self):
        self.c_default = '-1'

    def parse_arg(self, argname, displayname, *, limited_capi):
        return self.format_code("""
            if ({argname} != Py_None) {{{{
                if (!PyBool_Check({argname})) {{{{
                    {bad_argument}
                    goto exit;
                }}}}
                {paramname} = ({argname} == Py_True);
            }}}}
            """,
            argname=argname,
            bad_argument=self.bad_argument(displayname, 'bool or None',
                                           limited_capi=limited_capi))

class coro_origin_skip_converter(CConverter):
    """skip=: see skip_converter()."""
    type = 'PyObject *'
    converter = 'skip_converter'

    def converter_init(self):
        self.c_default = 'NULL'

    def cleanup(self):
        return f"Py_XDECREF({self.parser_name});\n"
[python start generated code]*/
/*[python end generated code: output=da39a3ee5e6b4b0d input=fca6d7fd530142e8]*/

/* The value of a depth= or chain= argument, an int (the converter checked
   its type): from 0 to INT_MAX, or -1 with ValueError set. */
static int
count_value(PyObject *obj, const char *name)
{
    int overflow;
    long value = PyLong_AsLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow > 0 || value > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s is too large (at most %d)",
                     name, INT_MAX);
        return -1;
    }
    if (overflow < 0 || value < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0", name);
        return -1;
    }
    return (int)value;
}

/* skip=: None keeps the setting ("*result" stays NULL).  Otherwise set
   "*result" to a new reference to an ASCII str in the spec's form,
   "a:b.c", that set_tracking() checks further: "obj" itself if it is a
   str, or the module names of an iterable of str joined by ':'.  "" and
   an empty iterable skip nothing. */
static int
skip_converter(PyObject *obj, void *result)
{
    PyObject **names = (PyObject **)result;
    if (obj == Py_None) {
        return 1;
    }
    if (PyUnicode_Check(obj)) {
        if (!PyUnicode_IS_ASCII(obj)) {
            PyErr_Format(PyExc_ValueError, "skip: %R: non-ASCII character",
                         obj);
            return 0;
        }
        *names = Py_NewRef(obj);
        return 1;
    }
    if (PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "skip must be a str or an iterable of str, not %T", obj);
        return 0;
    }
    PyObject *seq = PySequence_Fast(
        obj, "skip must be a str or an iterable of str");
    if (seq == NULL) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "skip items must be str, not %T",
                         item);
            goto error;
        }
        /* One name each: joining them must not make more, or fewer. */
        Py_ssize_t len = PyUnicode_GET_LENGTH(item);
        if (!PyUnicode_IS_ASCII(item) || len == 0
            || PyUnicode_FindChar(item, ':', 0, len, 1) >= 0)
        {
            PyErr_Format(PyExc_ValueError, "skip: %R is not a module name",
                         item);
            goto error;
        }
    }
    *names = PyUnicode_Join(_Py_LATIN1_CHR(':'), seq);
    Py_DECREF(seq);
    return *names != NULL;

error:
    Py_DECREF(seq);
    return 0;
}

/* ---- Coroutine origin tracking settings ------------------------------- */

static PyTypeObject CoroOriginTrackingType;

PyDoc_STRVAR(coro_origin_tracking__doc__,
"sys.coroutine_origin_tracking\n\
\n\
Coroutine origin tracking settings, as returned by\n\
sys.get_coroutine_origin_tracking() and\n\
sys.get_coroutine_origin_tracking_default().");

static PyStructSequence_Field coro_origin_tracking_fields[] = {
    {"depth", "frames kept per coroutine (0 = off)"},
    {"chain", "ancestors whose creation sites are kept"},
    {"asyncgen", "True if async generators are tracked too"},
    {"tracebacks", "True if tracebacks of exceptions escaping a task say "
                   "where its coroutine was created"},
    {"full", "True if reports show every frame, the stdlib's included"},
    {"skip", "tuple of module names whose frames are not kept"},
    {"dump", "signal number that dumps live coroutines, or None"},
    {0}
};

static PyStructSequence_Desc coro_origin_tracking_desc = {
    "sys.coroutine_origin_tracking",    /* name */
    coro_origin_tracking__doc__,        /* doc */
    coro_origin_tracking_fields,        /* fields */
    Py_ARRAY_LENGTH(coro_origin_tracking_fields) - 1
};

static PyObject *
skip_as_tuple(const _PyCoroOriginSkip *skip)
{
    PyObject *tuple = PyTuple_New(skip == NULL ? 0 : skip->count);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        PyObject *name = PyUnicode_FromStringAndSize(skip->names[i].str,
                                                     skip->names[i].len);
        if (name == NULL) {
            goto error;
        }
        PyTuple_SET_ITEM(tuple, i, name);
    }
    return tuple;

error:
    Py_DECREF(tuple);
    return NULL;
}

/* sys.get_coroutine_origin_tracking[_default]() */
static PyObject *
get_tracking(int for_default)
{
    _PyCoroOriginSpec s = {0};
    _PyCoroOrigin_GetSettings(_PyThreadState_GET(), for_default, &s);
    PyObject *result = NULL;
    int dump = s.startup.dump_signal;
    PyObject *values = Py_BuildValue(
        "(iiNNNNN)", s.depth, s.thread.chain,
        PyBool_FromLong(s.thread.asyncgen),
        PyBool_FromLong(s.thread.tracebacks), PyBool_FromLong(s.thread.full),
        skip_as_tuple(s.thread.skip),
        dump ? PyLong_FromLong(dump) : Py_NewRef(Py_None));
    _PyCoroOrigin_ClearSpec(&s);
    if (values == NULL) {
        goto error;
    }
    result = PyStructSequence_New(&CoroOriginTrackingType);
    if (result == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(values); i++) {
        PyStructSequence_SET_ITEM(result, i,
                                  Py_NewRef(PyTuple_GET_ITEM(values, i)));
    }
    Py_DECREF(values);
    return result;

error:
    Py_XDECREF(values);
    return NULL;
}

/* sys.set_coroutine_origin_tracking[_default](), once Argument Clinic has
   converted the arguments: -1 keeps an int setting, and "skip" is NULL
   (keep it) or an ASCII str in the spec's form, "" for nothing.  The skip
   list is the one value left to check, before anything changes. */
static PyObject *
set_tracking(int for_default, int depth, int chain, int asyncgen,
             int tracebacks, int full, PyObject *skip)
{
    _PyCoroOriginThread change = {.chain = chain, .asyncgen = asyncgen,
                                  .tracebacks = tracebacks, .full = full};
    if (skip != NULL && PyUnicode_GET_LENGTH(skip) > 0) {
        char reason[200];
        Py_ssize_t len;
        wchar_t *names = PyUnicode_AsWideCharString(skip, &len);
        if (names == NULL) {
            return NULL;
        }
        int res = _PyCoroOrigin_ParseSkip(names, len, &change.skip, reason,
                                          sizeof(reason));
        PyMem_Free(names);
        if (res == -2) {
            return PyErr_NoMemory();
        }
        if (res < 0) {
            PyErr_Format(PyExc_ValueError, "skip: %s", reason);
            return NULL;
        }
    }
    _PyCoroOrigin_ChangeSettings(_PyThreadState_GET(), for_default, depth,
                                 &change, skip != NULL);
    Py_RETURN_NONE;
}

/*[clinic input]
sys.set_coroutine_origin_tracking

    depth: coro_origin_count = None
        Frames kept per coroutine (0 disables tracking), as
        set_coroutine_origin_tracking_depth() sets: an int.
    *
    chain: coro_origin_count = None
        Also keep the creation sites of up to this many ancestors.
    asyncgen: coro_origin_flag = None
        Whether async generators are tracked too (ag_origin): a bool.
    tracebacks: coro_origin_flag = None
        Whether tracebacks of an exception that escaped a tracked task
        say where its coroutine was created.
    full: coro_origin_flag = None
        Whether reports show every frame, without folding the frames of
        the standard library's async machinery.
    skip: coro_origin_skip = None
        Module names whose frames are neither kept nor counted: a str
        "a:b" or an iterable of str; "" or () skips nothing.

Change coroutine origin tracking settings of this thread.

An argument of None keeps that setting.  Nothing changes if any argument
is invalid.
[clinic start generated code]*/

static PyObject *
sys_set_coroutine_origin_tracking_impl(PyObject *module, int depth,
                                       int chain, int asyncgen,
                                       int tracebacks, int full,
                                       PyObject *skip)
/*[clinic end generated code: output=6571d96d324740b2 input=3d3c2ed3a7bebe75]*/
{
    return set_tracking(0, depth, chain, asyncgen, tracebacks, full, skip);
}

/*[clinic input]
sys.get_coroutine_origin_tracking

Return coroutine origin tracking settings of this thread.

The result is a named tuple with fields depth, chain, asyncgen,
tracebacks, full, skip (a tuple of module names) and dump (a signal number or None).
[clinic start generated code]*/

static PyObject *
sys_get_coroutine_origin_tracking_impl(PyObject *module)
/*[clinic end generated code: output=a9a48b4da929ea17 input=d1306198d292ab66]*/
{
    return get_tracking(0);
}

/*[clinic input]
sys.set_coroutine_origin_tracking_default = sys.set_coroutine_origin_tracking

Change the settings that threads created from now on start with.

The arguments are those of set_coroutine_origin_tracking().  Existing
threads, including the calling one, keep their settings.
[clinic start generated code]*/

static PyObject *
sys_set_coroutine_origin_tracking_default_impl(PyObject *module, int depth,
                                               int chain, int asyncgen,
                                               int tracebacks, int full,
                                               PyObject *skip)
/*[clinic end generated code: output=bf9675dc4b574890 input=fe528a1ecec4b0a1]*/
{
    return set_tracking(1, depth, chain, asyncgen, tracebacks, full, skip);
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
    return get_tracking(1);
}

/*[clinic input]
sys._coroutine_origin_dump_signal

    signal as sig: object
    /

Return the number of the signal that dump=signal would use.

signal is a name such as "SIGUSR1" or "SIGRTMIN+2", or a number.  Raise
ValueError if dump= would refuse it: an unknown signal, or one not meant
for users (SIGKILL and SIGSTOP cannot be caught; SIGSEGV, SIGBUS, SIGFPE,
SIGILL and SIGABRT report crashes).  For tools that send or catch the
dump signal.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_dump_signal(PyObject *module, PyObject *sig)
/*[clinic end generated code: output=5ac42acbccd772ed input=7a5a5df6622fe789]*/
{
    char reason[200];
    PyObject *text;
    if (PyUnicode_Check(sig)) {
        text = Py_NewRef(sig);
    }
    else if (PyLong_Check(sig) && !PyBool_Check(sig)) {
        text = PyNumber_ToBase(sig, 10);
        if (text == NULL) {
            return NULL;
        }
    }
    else {
        PyErr_Format(PyExc_TypeError,
                     "signal must be a str or an int, not %T", sig);
        return NULL;
    }
    Py_ssize_t len;
    int signum;
    wchar_t *s = PyUnicode_AsWideCharString(text, &len);
    if (s == NULL) {
        goto error;
    }
    int res = _PyCoroOrigin_ParseSignal(s, len, &signum, reason,
                                        sizeof(reason));
    PyMem_Free(s);
    if (res < 0) {
        PyErr_Format(PyExc_ValueError, "dump=%.100U: %s", text, reason);
        goto error;
    }
    Py_DECREF(text);
    return PyLong_FromLong(signum);

error:
    Py_DECREF(text);
    return NULL;
}

/*[clinic input]
sys._coroutine_origin_live

Return a list of the live, unfinished coroutines in the live registry.

Only coroutines created with origin tracking on in an interpreter whose
start-up spec names a dump signal (dump=) are registered.
For internal use (the coroutine dump).
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_live_impl(PyObject *module)
/*[clinic end generated code: output=914743ee5b12f630 input=f5d4ff9c1345483d]*/
{
    return _PyCoroOrigin_Live(_PyThreadState_GET());
}

/*[clinic input]
sys._coroutine_origin_configured -> bool

Return True if the fork's origin tracking is configured in this thread.

That is an item of the thread's settings beyond the depth, or a default
depth (a start-up spec, set_coroutine_origin_tracking_default()), not
only set_coroutine_origin_tracking_depth() as stock has it (asyncio's
debug mode).  Internal: the fork's additions to reports and to asyncio
follow it, so that stock's API alone gives stock's output.
[clinic start generated code]*/

static int
sys__coroutine_origin_configured_impl(PyObject *module)
/*[clinic end generated code: output=720f3b58873b6339 input=24a3705e211032ff]*/
{
    return _PyCoroOrigin_Configured(_PyThreadState_GET());
}

/*[clinic input]
sys._coroutine_origin_folding -> bool

Return True if the reports this thread makes fold asyncio's frames.

They fold the frames of the standard library's async machinery when the
fork's origin tracking is configured in this thread (as for
_coroutine_origin_configured()) and its full setting is off.  Internal:
the renderer asks once per report.
[clinic start generated code]*/

static int
sys__coroutine_origin_folding_impl(PyObject *module)
/*[clinic end generated code: output=4cb855abc1784dee input=abd3a2121cc60e42]*/
{
    return _PyCoroOrigin_Folding(_PyThreadState_GET());
}

/*[clinic input]
sys._coroutine_origin_scheduled_at

    callback: object
    /

Return where the user's code schedules the asyncio callback being made.

The frame stack of the first frame outside asyncio's package, captured as
a coroutine's origin is, or None if asyncio schedules the callback for
itself (Handle._run() comes first), if it is a task's first step
(create_task()) or a method of a future, or if the fork's tracking is off
in this thread.  Internal; asyncio's Handle keeps it, and a coroutine
created while the callback runs gets it as a chain link.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_scheduled_at(PyObject *module, PyObject *callback)
/*[clinic end generated code: output=abf73acc026bf3b6 input=0e634cb5d7a3200e]*/
{
    return _PyCoroOrigin_ScheduledAt(_PyThreadState_GET(), callback);
}

/*[clinic input]
sys._coroutine_origin_work_site

Return where the user's code hands the work item being made to an executor.

The frame stack of the first frame outside concurrent.futures and asyncio,
captured as a coroutine's origin is, or None if the fork's tracking is off
in this thread or asyncio was not set up for it.  Internal;
concurrent.futures.thread._WorkItem keeps it, and a coroutine created
while the work item runs gets it as a chain link.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_work_site_impl(PyObject *module)
/*[clinic end generated code: output=564c293be602c1d6 input=1cd1a26808d773cf]*/
{
    return _PyCoroOrigin_WorkSite(_PyThreadState_GET());
}

/*[clinic input]
sys._frame_stack_capture

    depth: int
        Frames to keep, innermost first; a negative number keeps all.
    frames_above: int(c_default="0") = 0
        Complete frames to leave out above the caller's frame.
    /
    *
    skip_modules: bool = False
        Leave out the frames of the thread's skip= modules, as a
        coroutine's origin does.

Capture the calling thread's stack as an opaque, cheap frame stack.

Internal; used by asyncio.  Return None if depth is 0 or there is no
frame to capture.  The frame stack's frames() method gives the frames
as cr_origin does; summary(drop) the traceback.StackSummary asyncio's
debug mode keeps.
[clinic start generated code]*/

static PyObject *
sys__frame_stack_capture_impl(PyObject *module, int depth, int frames_above,
                              int skip_modules)
/*[clinic end generated code: output=fe105329edbc9799 input=028b1141a3c5fef7]*/
{
    if (frames_above < 0) {
        PyErr_SetString(PyExc_ValueError, "frames_above must be >= 0");
        return NULL;
    }
    return _PyCoroOrigin_CaptureHandle(_PyThreadState_GET(), frames_above,
                                       depth, skip_modules);
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

/*[clinic input]
sys._dump_coroutines_later

    timeout: object
        Seconds (a number greater than 0).
    *
    repeat: bool = False
        Go on watching after a report (one report per episode).
    file: object = None
        Where reports go: None (stderr, as it is now), a file descriptor,
        or an object with write().
    exit: bool = False
        End the process with status 70 after a report.

Watch for a hung asyncio program, and report it with the coroutine dump.

A thread that threading.enumerate() does not list reports an event loop
that has run one callback for timeout seconds (blocked), a loop with
pending tasks of which none took a step for timeout seconds (stalled),
and a main thread that finished while a non-daemon thread runs an event
loop, for timeout seconds (cannot exit).  Replaces the watch started
before.  What -X coro_origin=hang=SECONDS starts.
[clinic start generated code]*/

static PyObject *
sys__dump_coroutines_later_impl(PyObject *module, PyObject *timeout,
                                int repeat, PyObject *file, int exit)
/*[clinic end generated code: output=7fc37f0383443e1f input=aa6c4f085558bc6e]*/
{
    PyObject *args[4] = {timeout, repeat ? Py_True : Py_False, file,
                         exit ? Py_True : Py_False};
    return _PyCoroOrigin_Call(_PyCoroOrigin_HANG, "start", args, 4);
}

/*[clinic input]
sys._cancel_dump_coroutines_later

Stop the watch that sys._dump_coroutines_later() started, if any.
[clinic start generated code]*/

static PyObject *
sys__cancel_dump_coroutines_later_impl(PyObject *module)
/*[clinic end generated code: output=8ea7139b38855723 input=a55e64b59db31cbe]*/
{
    return _PyCoroOrigin_Call(_PyCoroOrigin_HANG, "cancel", NULL, 0);
}

/*[clinic input]
sys._coroutine_origin_progress

Return (callbacks, task steps) that asyncio scheduled so far.

Counted while asyncio._origin watches (the fork's tracking on, or the
hang watchdog running): every callback given to the event loop, and of
them, with the fork's tracking on, the steps and wake-ups of tasks (0
otherwise).  The hang watchdog's measure of progress.  Internal.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_progress_impl(PyObject *module)
/*[clinic end generated code: output=a29adec0459a5338 input=04398c51d90c424d]*/
{
    Py_ssize_t callbacks, task_steps;
    _PyCoroOrigin_Progress(_PyInterpreterState_GET(), &callbacks,
                           &task_steps);
    return Py_BuildValue("(nn)", callbacks, task_steps);
}

/*[clinic input]
sys._coroutine_origin_hang_sentinel

    allowance: double
    fd: int
    exit: bool
    /

Check in with the hang watchdog's sentinel; an allowance <= 0 stops it.

If no check-in comes for allowance seconds (a thread keeps the GIL), the
sentinel writes the Python stacks of the threads to fd as faulthandler
does, and with exit ends the process with status 70.  Internal: the
watchdog calls it on each look.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_hang_sentinel_impl(PyObject *module, double allowance,
                                         int fd, int exit)
/*[clinic end generated code: output=e991a7cfb529b7fd input=e9105a9edb840cdd]*/
{
    if (_PyCoroOrigin_HangSentinel(allowance, fd, exit) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
sys._coroutine_origin_thread_stacks

    limit: int
    run_code: object(subclass_of='&PyCode_Type')
    /

Return {thread id: (code objects, handle)} for this interpreter's threads.

The code objects of each thread's stack, innermost first (at most limit),
and a weak reference to the first local (self) of the innermost frame
running run_code (asyncio's Handle._run), or None.  Makes no frame
object.  Internal: the hang watchdog's look.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_thread_stacks_impl(PyObject *module, int limit,
                                         PyObject *run_code)
/*[clinic end generated code: output=f1e3e4af485d4478 input=07af50261407a645]*/
{
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "limit must be >= 1");
        return NULL;
    }
    return _PyCoroOrigin_ThreadStacks(_PyThreadState_GET(), limit, run_code);
}

/*[clinic input]
sys._coroutine_origin_current_frames

Return {thread id: frame} for the threads of this interpreter.

What sys._current_frames() returns, without the threads of other
interpreters (whose frames it would make with this interpreter's
allocator).  Internal: the dump's and the watchdog's look at the
threads.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_current_frames_impl(PyObject *module)
/*[clinic end generated code: output=262e43446934c482 input=0ba1937052477ccd]*/
{
    return _PyCoroOrigin_CurrentFrames(_PyThreadState_GET());
}

/*[clinic input]
sys._coroutine_origin_problems

Return the lost asyncio work recorded so far, and forget it.

With "strict" in the start-up spec, each problem (a coroutine never
awaited, a task or future exception never retrieved, a task destroyed
while pending, an async generator never finalized) is recorded with
where it was created, and the problems left at exit are summarised and
fail the exit status.  Return a list of (kind, text, count) tuples,
identical problems once with their count; the problems returned no
longer count at exit.  Return None if strict mode is off.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_problems_impl(PyObject *module)
/*[clinic end generated code: output=937e2ddafcb67e3b input=358b693a5dfbf361]*/
{
    return _PyCoroOrigin_StrictTake();
}

/*[clinic input]
sys._coroutine_origin_note_problem

    kind: str
    obj: object
    /

Record one problem of lost work in strict mode (else do nothing).

Internal; asyncio's call_exception_handler() calls it for the reports
that strict mode counts, with obj the context.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_note_problem_impl(PyObject *module, const char *kind,
                                        PyObject *obj)
/*[clinic end generated code: output=479bfdab8c777de2 input=d9f4c85b57b85840]*/
{
    return _PyCoroOrigin_StrictNoteFromPython(kind, obj);
}

/*[clinic input]
sys._coroutine_origin_of_exception

    exc: object
    /

Where the coroutine that the exception escaped was created, or None.

With the tracebacks setting: the tuple ('coroutine', qualname, cr_origin,
cr_origin_chain) recorded when exc escaped a task's root coroutine (or
one driven by send() or throw()).  Runs no code of exc's type.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_of_exception(PyObject *module, PyObject *exc)
/*[clinic end generated code: output=a76a68222f8f865f input=fd5321749055712a]*/
{
    PyObject *origin = _PyCoroOrigin_ExceptionOrigin(exc);
    return origin != NULL ? origin : Py_NewRef(Py_None);
}

/*[clinic input]
sys._coroutine_origin_render

    name: str
    /
    *args: object

Call the renderer's function name (Lib/_coro_origin_report.py) with args.

Internal.  The interpreter keeps the renderer once imported, so that this
works while the interpreter shuts down, when imports fail.  Return None,
with no exception, if no origin was ever recorded (the renderer is then
not imported), if the renderer cannot be imported or if the call raises:
a report then says what stock says.
[clinic start generated code]*/

static PyObject *
sys__coroutine_origin_render_impl(PyObject *module, const char *name,
                                  PyObject *args)
/*[clinic end generated code: output=07a3c9181ecaec1d input=486ce713a9d7bd70]*/
{
    if (!_PyCoroOrigin_MayRender(_PyInterpreterState_GET())) {
        Py_RETURN_NONE;         /* nothing to render: stock's reports */
    }
    PyObject *res = _PyCoroOrigin_Call(_PyCoroOrigin_REPORT, name,
                                       _PyTuple_ITEMS(args),
                                       (size_t)PyTuple_GET_SIZE(args));
    if (res == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return res;
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
    SYS__COROUTINE_ORIGIN_DUMP_SIGNAL_METHODDEF
    SYS__COROUTINE_ORIGIN_LIVE_METHODDEF
    SYS__COROUTINE_ORIGIN_CONFIGURED_METHODDEF
    SYS__COROUTINE_ORIGIN_FOLDING_METHODDEF
    SYS__COROUTINE_ORIGIN_SCHEDULED_AT_METHODDEF
    SYS__COROUTINE_ORIGIN_WORK_SITE_METHODDEF
    SYS__FRAME_STACK_CAPTURE_METHODDEF
    SYS__DUMP_COROUTINES_METHODDEF
    SYS__DUMP_COROUTINES_LATER_METHODDEF
    SYS__CANCEL_DUMP_COROUTINES_LATER_METHODDEF
    SYS__COROUTINE_ORIGIN_PROGRESS_METHODDEF
    SYS__COROUTINE_ORIGIN_HANG_SENTINEL_METHODDEF
    SYS__COROUTINE_ORIGIN_THREAD_STACKS_METHODDEF
    SYS__COROUTINE_ORIGIN_CURRENT_FRAMES_METHODDEF
    SYS__COROUTINE_ORIGIN_PROBLEMS_METHODDEF
    SYS__COROUTINE_ORIGIN_NOTE_PROBLEM_METHODDEF
    SYS__COROUTINE_ORIGIN_OF_EXCEPTION_METHODDEF
    SYS__COROUTINE_ORIGIN_RENDER_METHODDEF
    {NULL, NULL}
};

int
_PyCoroOrigin_InitSys(PyInterpreterState *interp, PyObject *sysmod)
{
    if (_PyStructSequence_InitBuiltinWithFlags(
            interp, &CoroOriginTrackingType, &coro_origin_tracking_desc,
            Py_TPFLAGS_DISALLOW_INSTANTIATION) < 0
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
    _PyStructSequence_FiniBuiltin(interp, &CoroOriginTrackingType);
}
