/* origin-python: strict mode.
 *
 * This file is part of origin-python, not of upstream CPython; see
 * Include/internal/pycore_coro_origin_strict.h for the interface and
 * DESIGN.md in the origin-python repository for the design.
 */
#include "Python.h"
#include "pycore_coro_origin.h"
#include "pycore_fileutils.h"     // _Py_write_noraise()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_lock.h"          // PyMutex_LockFlags()
#include "pycore_pystate.h"       // _PyInterpreterState_Main()
#include "pycore_runtime.h"       // _PyRuntime.signals

#ifdef MS_WINDOWS
#  include <process.h>            // _getpid()
#endif

/* ---- Strict mode ----------------------------------------------------------
 *
 * With "strict" in the start-up spec, lost asyncio work is recorded where
 * it is detected: a coroutine never awaited (_warnings.c), an async
 * generator whose aclose() could not be scheduled (genobject.c), and
 * asyncio's never-retrieved and destroyed-pending reports (its
 * call_exception_handler(), through sys._coroutine_origin_note_problem()).
 * Each is rendered at once by _coro_origin_report.problem_text() and kept
 * here as UTF-8 text, outside any interpreter, so that problems found
 * while the interpreter shuts down count too.  Py_RunMain() calls
 * _PyCoroOrigin_StrictExit() after Py_FinalizeEx(): it writes one summary
 * to file descriptor 2 and makes a successful exit status
 * _Py_CORO_ORIGIN_STRICT_EXIT.
 *
 * Identical problems (same kind and text) are kept once with a count; at
 * most STRICT_MAX_KEPT distinct ones are kept, the others only counted.
 * Each problem remembers the process that recorded it, so that a child
 * made by fork() neither reports nor fails for its parent's problems. */

#define STRICT_MAX_KEPT 1000

typedef struct strict_problem {
    struct strict_problem *next;
    long pid;
    Py_ssize_t count;
    char *kind;
    char *text;
} strict_problem;

static struct {
    PyMutex mutex;
    strict_problem *head;
    strict_problem **tail;
    Py_ssize_t kept;
    Py_ssize_t not_kept;        /* beyond STRICT_MAX_KEPT */
    long not_kept_pid;
} strict;

long
_PyCoroOrigin_CurrentPid(void)
{
#ifdef MS_WINDOWS
    return (long)_getpid();
#else
    return (long)getpid();
#endif
}

int
_PyCoroOrigin_StrictEnabled(void)
{
    PyInterpreterState *main = _PyInterpreterState_Main();
    return main != NULL && _PyCoroOrigin_Startup(main)->strict;
}

static char *
strict_strdup(const char *s, Py_ssize_t len)
{
    char *copy = PyMem_RawMalloc((size_t)len + 1);
    if (copy != NULL) {
        memcpy(copy, s, (size_t)len);
        copy[len] = '\0';
    }
    return copy;
}

static void
strict_free(strict_problem *p)
{
    PyMem_RawFree(p->kind);
    PyMem_RawFree(p->text);
    PyMem_RawFree(p);
}

/* Keep one problem.  Never fails: what cannot be kept is counted. */
static void
strict_store(const char *kind, const char *text, Py_ssize_t textlen)
{
    long pid = _PyCoroOrigin_CurrentPid();
    PyMutex_LockFlags(&strict.mutex, _Py_LOCK_DONT_DETACH);
    for (strict_problem *p = strict.head; p != NULL; p = p->next) {
        if (p->pid == pid && strcmp(p->kind, kind) == 0
            && strlen(p->text) == (size_t)textlen
            && memcmp(p->text, text, (size_t)textlen) == 0)
        {
            p->count++;
            goto done;
        }
    }
    strict_problem *p = NULL;
    if (strict.kept < STRICT_MAX_KEPT) {
        p = PyMem_RawCalloc(1, sizeof(strict_problem));
    }
    if (p != NULL) {
        p->kind = strict_strdup(kind, (Py_ssize_t)strlen(kind));
        p->text = strict_strdup(text, textlen);
    }
    if (p == NULL || p->kind == NULL || p->text == NULL) {
        if (p != NULL) {
            strict_free(p);
        }
        if (strict.not_kept_pid != pid) {
            strict.not_kept_pid = pid;
            strict.not_kept = 0;
        }
        strict.not_kept++;
        goto done;
    }
    p->pid = pid;
    p->count = 1;
    if (strict.tail == NULL) {
        strict.tail = &strict.head;
    }
    *strict.tail = p;
    strict.tail = &p->next;
    strict.kept++;

done:
    PyMutex_Unlock(&strict.mutex);
}

/* Render and keep one problem; "obj" is what the renderer describes (a
   coroutine, an async generator, or asyncio's context dict).  Never
   raises; the exception being handled, if any, is kept. */
static void
strict_note(const char *kind, PyObject *obj)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *args[2] = {PyUnicode_FromString(kind), obj};
    PyObject *text = NULL;
    if (args[0] != NULL) {
        text = _PyCoroOrigin_Call(_PyCoroOrigin_STRICT, "problem_text",
                                  args, 2);
        Py_DECREF(args[0]);
    }
    Py_ssize_t len;
    const char *utf8 = NULL;
    if (text != NULL && PyUnicode_Check(text)) {
        utf8 = PyUnicode_AsUTF8AndSize(text, &len);
    }
    PyErr_Clear();
    if (utf8 != NULL) {
        strict_store(kind, utf8, len);
    }
    else {
        /* Shutting down, or out of memory: the kind alone. */
        static const char fallback[] = "(the report could not be rendered: "
                                       "see the message printed above)";
        strict_store(kind, fallback, (Py_ssize_t)sizeof(fallback) - 1);
    }
    Py_XDECREF(text);
    PyErr_SetRaisedException(exc);
}

/* ---- An async generator whose aclose() may be lost -----------------------
 *
 * When an async generator's finalizer hook raised (genobject.c), or
 * asyncio's hook found its loop closed (Lib/asyncio/_origin.py), its
 * aclose() may be lost, but need not be: trio's hook schedules aclose()
 * and then issues a ResourceWarning, which an "error" warning filter
 * turns into an exception; a hook may keep the generator to close it
 * later.  What decides is how the generator ends.  So strict mode renders
 * the problem at once (while the generator can still be read) and puts a
 * *watch* in the generator's slot, holding what the slot held (its origin
 * record or its finalizer: Python/coro_origin.c looks through the watch).
 * The generator's slot is cleared only when the generator is freed
 * (gen_dealloc(), before its frame is), and only the slot refers to the
 * watch, so the watch's dealloc sees the generator's last state: still
 * suspended in its body means its finally blocks and "async with" exits
 * never ran, and the problem is kept; finished (someone ran aclose(), or
 * the hook closed it) or never started means nothing was lost.
 *
 * A generator that stays alive is not judged: one that a hook kept and
 * that outlives the run, or one referenced by the exception that its
 * hook raised, which an unraisable hook may keep (pytest does, until the
 * end of the test), is judged when that reference goes. */

typedef struct {
    PyObject_HEAD
    PyObject *inner;            /* strong: what the slot held, or NULL */
    PyAsyncGenObject *agen;     /* borrowed: the generator whose slot holds
                                   this watch */
    char *kind;                 /* PyMem_Raw copies */
    char *text;
    Py_ssize_t len;
    long pid;                   /* the process that made the watch */
} agen_watch;

static void
watch_dealloc(PyObject *op)
{
    agen_watch *w = (agen_watch *)op;
    /* A fork() child frees its copy of a generator its parent watched:
       the parent judges its own. */
    if (w->agen != NULL && FRAME_STATE_SUSPENDED(w->agen->ag_frame_state)
        && w->pid == _PyCoroOrigin_CurrentPid())
    {
        strict_store(w->kind, w->text, w->len);
    }
    PyMem_RawFree(w->kind);
    PyMem_RawFree(w->text);
    Py_CLEAR(w->inner);
    PyObject_Free(op);
}

/* Not a GC type and never given to Python code: async_gen_traverse()
   visits the finalizer the watch holds (_PyCoroOrigin_AsyncGenFinalizer()
   looks through it), not the watch. */
static PyTypeObject AsyncGenWatch_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "async_generator_strict_watch",
    .tp_basicsize = sizeof(agen_watch),
    .tp_dealloc = watch_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

PyObject **
_PyCoroOrigin_WatchedSlot(PyObject *slot)
{
    if (slot != NULL && Py_IS_TYPE(slot, &AsyncGenWatch_Type)) {
        return &((agen_watch *)slot)->inner;
    }
    return NULL;
}

/* The problem "kind" about the async generator "obj", whose aclose() may
   be lost ("hook_raised": its finalizer hook raised; else asyncio's loop
   was closed).  Never raises; keeps the exception being handled. */
static void
strict_note_agen(const char *kind, PyObject *obj, int hook_raised)
{
    PyAsyncGenObject *agen = (PyAsyncGenObject *)obj;
    if (FRAME_STATE_FINISHED(agen->ag_frame_state)
        || _PyCoroOrigin_WatchedSlot(agen->ag_origin_or_finalizer) != NULL)
    {
        /* The hook closed it before it raised; or it is already watched
           (the first reason is kept). */
        return;
    }
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *args[3] = {PyUnicode_FromString(kind), obj,
                         hook_raised ? Py_True : Py_False};
    PyObject *text = NULL;
    if (args[0] != NULL) {
        text = _PyCoroOrigin_Call(_PyCoroOrigin_STRICT, "problem_text",
                                  args, 3);
        Py_DECREF(args[0]);
    }
    static const char fallback[] = "(the report could not be rendered: "
                                   "see the message printed above)";
    const char *utf8 = fallback;
    Py_ssize_t len = (Py_ssize_t)sizeof(fallback) - 1;
    if (text != NULL && PyUnicode_Check(text)) {
        const char *s = PyUnicode_AsUTF8AndSize(text, &len);
        if (s != NULL) {
            utf8 = s;
        }
        else {
            len = (Py_ssize_t)sizeof(fallback) - 1;
        }
    }
    PyErr_Clear();
    agen_watch *w = PyObject_New(agen_watch, &AsyncGenWatch_Type);
    if (w != NULL) {
        w->inner = NULL;
        w->agen = NULL;             /* not in the slot yet */
        w->kind = strict_strdup(kind, (Py_ssize_t)strlen(kind));
        w->text = strict_strdup(utf8, len);
        w->len = len;
        if (w->kind == NULL || w->text == NULL) {
            Py_CLEAR(w);
        }
    }
    if (w == NULL) {
        /* Cannot watch (out of memory): keep the problem now. */
        PyErr_Clear();
        strict_store(kind, utf8, len);
    }
    else {
        w->pid = _PyCoroOrigin_CurrentPid();
        w->agen = agen;
        w->inner = agen->ag_origin_or_finalizer;    /* moved */
        agen->ag_origin_or_finalizer = (PyObject *)w;
    }
    Py_XDECREF(text);
    PyErr_SetRaisedException(exc);
}

void
_PyCoroOrigin_StrictNote(const char *kind, PyObject *obj)
{
    if (_PyCoroOrigin_StrictEnabled()) {
        if (PyAsyncGen_CheckExact(obj)) {
            /* genobject.c: its finalizer hook raised */
            strict_note_agen(kind, obj, 1);
        }
        else {
            strict_note(kind, obj);
        }
    }
}

PyObject *
_PyCoroOrigin_StrictNoteFromPython(const char *kind, PyObject *obj)
{
    if (_PyCoroOrigin_StrictEnabled()) {
        if (PyAsyncGen_CheckExact(obj)) {
            /* asyncio's hook: its loop is closed */
            strict_note_agen(kind, obj, 0);
        }
        else {
            strict_note(kind, obj);
        }
    }
    Py_RETURN_NONE;
}

PyObject *
_PyCoroOrigin_StrictTake(void)
{
    if (!_PyCoroOrigin_StrictEnabled()) {
        Py_RETURN_NONE;
    }
    long pid = _PyCoroOrigin_CurrentPid();
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    /* Detach this process's problems, then build the list; on failure they
       are put back, so nothing is lost. */
    strict_problem *mine = NULL, **mine_tail = &mine;
    PyMutex_Lock(&strict.mutex);
    strict_problem **link = &strict.head;
    strict.tail = NULL;
    while (*link != NULL) {
        strict_problem *p = *link;
        if (p->pid == pid) {
            *link = p->next;
            p->next = NULL;
            *mine_tail = p;
            mine_tail = &p->next;
            strict.kept--;
        }
        else {
            link = &p->next;
        }
    }
    strict.tail = link;
    Py_ssize_t not_kept = (strict.not_kept_pid == pid) ? strict.not_kept : 0;
    if (strict.not_kept_pid == pid) {
        strict.not_kept = 0;
    }
    PyMutex_Unlock(&strict.mutex);

    for (strict_problem *p = mine; p != NULL; p = p->next) {
        PyObject *item = Py_BuildValue("(ssn)", p->kind, p->text, p->count);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto error;
        }
        Py_DECREF(item);
    }
    if (not_kept > 0) {
        PyObject *item = Py_BuildValue(
            "(ssn)", "not kept",
            "(more problems than origin-python keeps: counted only)",
            not_kept);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto error;
        }
        Py_DECREF(item);
    }
    while (mine != NULL) {
        strict_problem *next = mine->next;
        strict_free(mine);
        mine = next;
    }
    return list;

error:
    Py_DECREF(list);
    PyMutex_Lock(&strict.mutex);
    if (mine != NULL) {
        *mine_tail = strict.head;
        if (strict.head == NULL) {
            strict.tail = mine_tail;
        }
        strict.head = mine;
        for (strict_problem *p = mine; p != *mine_tail; p = p->next) {
            strict.kept++;
        }
    }
    if (not_kept > 0) {
        strict.not_kept_pid = pid;
        strict.not_kept += not_kept;
    }
    PyMutex_Unlock(&strict.mutex);
    return NULL;
}

/* The summary writer: file descriptor 2, after the interpreter is gone
   (_Py_write_noraise() retries EINTR; a short write goes on here).
   Errors (a closed or full stderr) are ignored. */
static void
strict_write(const char *s, size_t len)
{
    while (len > 0) {
        Py_ssize_t n = _Py_write_noraise(2, s, len);
        if (n <= 0) {
            return;
        }
        s += n;
        len -= (size_t)n;
    }
}

static void
strict_puts(const char *s)
{
    strict_write(s, strlen(s));
}

/* Each line of "text" with "indent" in front of it. */
static void
strict_write_indented(const char *text, const char *indent)
{
    while (*text != '\0') {
        const char *end = strchr(text, '\n');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        strict_puts(indent);
        strict_write(text, len);
        strict_puts("\n");
        text += len + (end != NULL);
    }
}

int
_PyCoroOrigin_StrictExit(int exitcode)
{
    long pid = _PyCoroOrigin_CurrentPid();
    char buf[200];
    PyMutex_LockFlags(&strict.mutex, _Py_LOCK_DONT_DETACH);
    strict_problem *all = strict.head;
    Py_ssize_t not_kept = (strict.not_kept_pid == pid) ? strict.not_kept : 0;
    strict.head = NULL;
    strict.tail = NULL;
    strict.kept = 0;
    strict.not_kept = 0;
    PyMutex_Unlock(&strict.mutex);

    Py_ssize_t total = not_kept, distinct = 0;
    for (strict_problem *p = all; p != NULL; p = p->next) {
        if (p->pid == pid) {
            total += p->count;
            distinct++;
        }
    }
    if (total > 0) {
        int status = exitcode ? exitcode : _Py_CORO_ORIGIN_STRICT_EXIT;
        /* After an unhandled KeyboardInterrupt, Py_RunMain() ends the
           process with SIGINT whatever the status: say so. */
        char how[40];
        if (_PyRuntime.signals.unhandled_keyboard_interrupt) {
            PyOS_snprintf(how, sizeof(how), "ended by SIGINT");
        }
        else {
            PyOS_snprintf(how, sizeof(how), "exit status %d", status);
        }
        PyOS_snprintf(buf, sizeof(buf),
                      "\norigin-python strict: %zd problem%s of lost asyncio "
                      "work (%s)\n",
                      total, total == 1 ? "" : "s", how);
        strict_puts(buf);
        /* The count of each kind, in the order first seen. */
        for (strict_problem *p = all; p != NULL; p = p->next) {
            if (p->pid != pid) {
                continue;
            }
            strict_problem *q = all;
            while (q != p && (q->pid != pid || strcmp(q->kind, p->kind))) {
                q = q->next;
            }
            if (q != p) {
                continue;       /* counted with an earlier one */
            }
            Py_ssize_t n = 0;
            for (q = p; q != NULL; q = q->next) {
                if (q->pid == pid && strcmp(q->kind, p->kind) == 0) {
                    n += q->count;
                }
            }
            PyOS_snprintf(buf, sizeof(buf), "  %zd %s\n", n, p->kind);
            strict_puts(buf);
        }
        if (not_kept > 0) {
            PyOS_snprintf(buf, sizeof(buf), "  %zd not kept (more than %d "
                          "different problems)\n", not_kept, STRICT_MAX_KEPT);
            strict_puts(buf);
        }
        Py_ssize_t i = 0;
        for (strict_problem *p = all; p != NULL; p = p->next) {
            if (p->pid != pid) {
                continue;
            }
            /* "[N] " and the text's first line (the report's message),
               then the rest of the text indented under it. */
            const char *rest = strchr(p->text, '\n');
            size_t first = rest ? (size_t)(rest - p->text) : strlen(p->text);
            PyOS_snprintf(buf, sizeof(buf), "\n[%zd] ", ++i);
            strict_puts(buf);
            strict_write(p->text, first);
            if (p->count > 1) {
                PyOS_snprintf(buf, sizeof(buf), " (%zd times)", p->count);
                strict_puts(buf);
            }
            strict_puts("\n");
            if (rest != NULL) {
                strict_write_indented(rest + 1, "    ");
            }
        }
        exitcode = status;
    }
    while (all != NULL) {
        strict_problem *next = all->next;
        strict_free(all);
        all = next;
    }
    return exitcode;
}
