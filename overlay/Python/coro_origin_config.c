/* origin-python: coroutine origin tracking settings.
 *
 * This file is part of origin-python, not of upstream CPython.
 *
 * The spec language, the start-up layers (build default, PYTHONCOROORIGIN,
 * -X coro_origin), the interpreter default, the per-thread settings, and
 * what the sys API (Python/coro_origin_sys.c, whose Argument Clinic code
 * converts the arguments) reads and changes.  See Include/internal/
 * pycore_coro_origin_config.h and Doc/library/coro_origin.rst.
 */

#include "Python.h"
#include "pycore_coro_origin_config.h"
#include "pycore_initconfig.h"    // _Py_GetEnv(), _Py_get_xoption()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_lock.h"          // PyMutex_LockFlags()
#include "pycore_pystate.h"       // _PyInterpreterState_Main()
#include "pycore_signal.h"        // Py_NSIG
#include "pycore_structseq.h"     // _PyStructSequence_InitBuiltinWithFlags()
#include "pycore_tstate.h"        // _PyThreadStateImpl

#include <signal.h>               // SIGUSR1, ...
#include <stddef.h>               // offsetof()
#include <wchar.h>                // wcslen()

#define SPEC_OPTION L"coro_origin"
#define SPEC_ENVVAR "PYTHONCOROORIGIN"


/* ---- Skip lists --------------------------------------------------------- */

typedef struct {
    const char *str;            /* NUL-terminated, ASCII */
    Py_ssize_t len;
} skip_name;

struct _PyCoroOriginSkip {
    Py_ssize_t refcnt;          /* atomic */
    Py_ssize_t count;           /* >= 1 */
    skip_name names[];          /* "count" entries; their text follows */
};

static _PyCoroOriginSkip *
skip_incref(_PyCoroOriginSkip *skip)
{
    if (skip != NULL) {
        _Py_atomic_add_ssize(&skip->refcnt, 1);
    }
    return skip;
}

static void
skip_decref(_PyCoroOriginSkip *skip)
{
    if (skip != NULL && _Py_atomic_add_ssize(&skip->refcnt, -1) == 1) {
        PyMem_RawFree(skip);
    }
}

int
_PyCoroOrigin_SkipMatch(const _PyCoroOriginSkip *skip, PyObject *modname)
{
    if (skip == NULL || !PyUnicode_Check(modname)) {
        return 0;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(modname);
    int kind = PyUnicode_KIND(modname);
    const void *data = PyUnicode_DATA(modname);
    for (Py_ssize_t i = 0; i < skip->count; i++) {
        const skip_name *name = &skip->names[i];
        if (len < name->len
            || (len > name->len
                && PyUnicode_READ(kind, data, name->len) != '.'))
        {
            continue;
        }
        Py_ssize_t j = 0;
        while (j < name->len
               && PyUnicode_READ(kind, data, j) == (Py_UCS4)name->str[j])
        {
            j++;
        }
        if (j == name->len) {
            return 1;
        }
    }
    return 0;
}

/* Copy "src" to "dst" (taking a reference to src->skip). */
static void
copy_settings(_PyCoroOriginSettings *dst, const _PyCoroOriginSettings *src)
{
    _PyCoroOriginSkip *old = dst->skip;
    *dst = *src;
    skip_incref(dst->skip);
    skip_decref(old);
}

/* Release settings->skip and reset "*settings" to all zero. */
static void
clear_settings(_PyCoroOriginSettings *settings)
{
    _PyCoroOriginSkip *old = settings->skip;
    memset(settings, 0, sizeof(*settings));
    skip_decref(old);
}


/* ---- Pieces of a spec --------------------------------------------------- */

/* A spec, and each piece of it, is a span of wide characters, as the
   start-up layers give it; only ASCII is valid in it. */

static inline int
is_digit(wchar_t c)
{
    return L'0' <= c && c <= L'9';
}

static inline int
is_ident_start(wchar_t c)
{
    return (L'a' <= c && c <= L'z') || (L'A' <= c && c <= L'Z') || c == L'_';
}

/* Is s[0:len] the ASCII string "word"? */
static int
span_is(const wchar_t *s, Py_ssize_t len, const char *word)
{
    Py_ssize_t i = 0;
    while (i < len && word[i] != '\0' && s[i] == (unsigned char)word[i]) {
        i++;
    }
    return i == len && word[i] == '\0';
}

/* Write s[0:len] quoted to "buf" (at least 16 bytes), for an error
   message: printable ASCII as is, except quotes and backslashes; other
   characters as \xNN (also the undecodable byte that a surrogateescape
   character stands for), \uNNNN or \UNNNNNNNN.  Long text is cut
   ("..."). */
static void
quote(char *buf, size_t size, const wchar_t *s, Py_ssize_t len)
{
    size_t n = 0;
    assert(size >= 16);
    buf[n++] = '\'';
    for (Py_ssize_t i = 0; i < len; i++) {
        /* A character takes at most 10 bytes; "...'" and NUL 5 more. */
        if (i == 60 || n + 15 > size) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        unsigned long c = (unsigned long)s[i];
        if (0xdc80 <= c && c <= 0xdcff) {
            c -= 0xdc00;
        }
        if (c < 0x20 || (0x7f <= c && c <= 0xff) || c == '\'' || c == '\\') {
            n += PyOS_snprintf(buf + n, size - n, "\\x%02lx", c);
        }
        else if (c < 0x7f) {
            buf[n++] = (char)c;
        }
        else if (c <= 0xffff) {
            n += PyOS_snprintf(buf + n, size - n, "\\u%04lx", c);
        }
        else {
            n += PyOS_snprintf(buf + n, size - n, "\\U%08lx", c);
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

/* A decimal count, digits only.  Return 0 and set "*result", -1 if
   s[0:len] is not one, -2 if it is larger than INT_MAX (checked after the
   digits: "99999999999x" is not a number rather than too large a one). */
static int
parse_count(const wchar_t *s, Py_ssize_t len, int *result)
{
    int value = 0, res = (len > 0) ? 0 : -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        int digit = (int)(s[i] - L'0');
        if (value > (INT_MAX - digit) / 10) {
            res = -2;
        }
        else {
            value = value * 10 + digit;
        }
    }
    if (res == 0) {
        *result = value;
    }
    return res;
}

/* Is s[0:len] a dotted name of ASCII identifiers ("a", "a.b_c")? */
static int
is_module_name(const wchar_t *s, Py_ssize_t len)
{
    int start = 1;
    for (Py_ssize_t i = 0; i < len; i++) {
        wchar_t c = s[i];
        if (start ? !is_ident_start(c)
                  : (c != L'.' && !is_ident_start(c) && !is_digit(c)))
        {
            return 0;
        }
        start = (c == L'.');
    }
    return len > 0 && !start;
}

/* Parse a skip list "a:b.c".  Return 0 and set "*result" (a new
   reference); or write the reason to "errbuf" and return -1, or -2 if
   out of memory. */
static int
parse_skip(const wchar_t *s, Py_ssize_t len, _PyCoroOriginSkip **result,
           char *errbuf, size_t errsize)
{
    char quoted[100];
    Py_ssize_t count = 0, start = 0;
    if (len == 0) {
        PyOS_snprintf(errbuf, errsize, "no module name");
        return -1;
    }
    for (Py_ssize_t i = 0; i <= len; i++) {
        if (i < len && s[i] != L':') {
            continue;
        }
        if (i == start) {
            PyOS_snprintf(errbuf, errsize, "empty module name");
            return -1;
        }
        if (!is_module_name(s + start, i - start)) {
            quote(quoted, sizeof(quoted), s + start, i - start);
            PyOS_snprintf(errbuf, errsize, "%s is not a module name",
                          quoted);
            return -1;
        }
        count++;
        start = i + 1;
    }

    /* The names, NUL-terminated, take len + 1 bytes after the entries. */
    size_t head = sizeof(_PyCoroOriginSkip) + count * sizeof(skip_name);
    _PyCoroOriginSkip *skip = PyMem_RawMalloc(head + len + 1);
    if (skip == NULL) {
        PyOS_snprintf(errbuf, errsize, "out of memory");
        return -2;
    }
    skip->refcnt = 1;
    skip->count = count;
    char *text = (char *)skip + head;
    Py_ssize_t k = 0;
    start = 0;
    for (Py_ssize_t i = 0; i <= len; i++) {
        if (i < len && s[i] != L':') {
            text[i] = (char)s[i];
            continue;
        }
        text[i] = '\0';
        skip->names[k].str = text + start;
        skip->names[k].len = i - start;
        k++;
        start = i + 1;
    }
    assert(k == count);
    *result = skip;
    return 0;
}


/* ---- Signals ------------------------------------------------------------ */

#define UNCATCHABLE "cannot be caught"
#define CRASH "reports a crash"
#define ABORT "reports a crash (abort())"

/* The signal names, as in the signal module, each with why it cannot be
   a dump signal (NULL if it can).  A name for the number of an earlier
   one (SIGIOT, SIGCLD, SIGPOLL) comes after it. */
#define SIG(NAME, WHY) {#NAME, NAME, WHY}
static const struct {
    const char *name;
    int signum;
    const char *why;
} signal_table[] = {
    SIG(SIGABRT, ABORT), SIG(SIGFPE, CRASH), SIG(SIGILL, CRASH),
    SIG(SIGINT, NULL), SIG(SIGSEGV, CRASH), SIG(SIGTERM, NULL),
#ifndef MS_WINDOWS
    SIG(SIGALRM, NULL), SIG(SIGBUS, CRASH), SIG(SIGCHLD, NULL),
    SIG(SIGCONT, NULL), SIG(SIGHUP, NULL), SIG(SIGKILL, UNCATCHABLE),
    SIG(SIGPIPE, NULL), SIG(SIGPROF, NULL), SIG(SIGQUIT, NULL),
    SIG(SIGSTOP, UNCATCHABLE), SIG(SIGSYS, NULL), SIG(SIGTRAP, NULL),
    SIG(SIGTSTP, NULL), SIG(SIGTTIN, NULL), SIG(SIGTTOU, NULL),
    SIG(SIGURG, NULL), SIG(SIGUSR1, NULL), SIG(SIGUSR2, NULL),
    SIG(SIGVTALRM, NULL), SIG(SIGXCPU, NULL), SIG(SIGXFSZ, NULL),
#endif
#ifdef SIGBREAK
    SIG(SIGBREAK, NULL),
#endif
#ifdef SIGEMT
    SIG(SIGEMT, NULL),
#endif
#ifdef SIGINFO
    SIG(SIGINFO, NULL),
#endif
#ifdef SIGIO
    SIG(SIGIO, NULL),
#endif
#ifdef SIGPWR
    SIG(SIGPWR, NULL),
#endif
#ifdef SIGSTKFLT
    SIG(SIGSTKFLT, NULL),
#endif
#ifdef SIGWINCH
    SIG(SIGWINCH, NULL),
#endif
#ifdef SIGIOT
    SIG(SIGIOT, ABORT),
#endif
#ifdef SIGCLD
    SIG(SIGCLD, NULL),
#endif
#ifdef SIGPOLL
    SIG(SIGPOLL, NULL),
#endif
};

int
_PyCoroOrigin_ParseSignal(const wchar_t *s, Py_ssize_t len, int *signum,
                          char *errbuf, size_t errsize)
{
    int value = -1;
    if (len > 0 && (is_digit(s[0]) || s[0] == L'-')) {
        if (s[0] == L'-' || parse_count(s, len, &value) < 0
            || value < 1 || value >= Py_NSIG)
        {
            PyOS_snprintf(errbuf, errsize,
                          "signal number must be from 1 to %d",
                          Py_NSIG - 1);
            return -1;
        }
    }
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    else if (len >= 8 && (span_is(s, 8, "SIGRTMIN")
                          || span_is(s, 8, "SIGRTMAX")))
    {
        /* SIGRTMIN, SIGRTMIN+N, SIGRTMAX, SIGRTMAX-N */
        int min = (s[6] == L'I'), offset = 0;
        if (len > 8 && (s[8] != (min ? L'+' : L'-')
                        || parse_count(s + 9, len - 9, &offset) < 0
                        || offset > SIGRTMAX - SIGRTMIN))
        {
            PyOS_snprintf(errbuf, errsize,
                          "real-time signals are SIGRTMIN+N and SIGRTMAX-N "
                          "with N from 0 to %d", SIGRTMAX - SIGRTMIN);
            return -1;
        }
        value = min ? SIGRTMIN + offset : SIGRTMAX - offset;
    }
#endif
    for (size_t i = 0; i < Py_ARRAY_LENGTH(signal_table); i++) {
        if (value < 0 ? span_is(s, len, signal_table[i].name)
                      : value == signal_table[i].signum)
        {
            if (signal_table[i].why != NULL) {
                PyOS_snprintf(errbuf, errsize,
                              "%s %s; use a user signal such as SIGUSR1",
                              signal_table[i].name, signal_table[i].why);
                return -1;
            }
            value = signal_table[i].signum;
            break;
        }
    }
    if (value < 0) {
        PyOS_snprintf(errbuf, errsize, "unknown signal (use a name such as "
                      "SIGUSR1, or a number)");
        return -1;
    }
    *signum = value;
    return 0;
}


/* ---- The spec parser ---------------------------------------------------- */

enum { COUNT, FLAG, SKIP, SIGNAL };

/* The items, and where each one goes in _PyCoroOriginSettings. */
#define ITEM(NAME, KIND, FIELD) \
    {NAME, KIND, offsetof(_PyCoroOriginSettings, FIELD)}
static const struct {
    const char *name;
    int kind;
    size_t offset;
} spec_items[] = {
    ITEM("depth", COUNT, depth),        /* first: "N" is a depth */
    ITEM("chain", COUNT, chain),
    ITEM("asyncgen", FLAG, asyncgen),
    ITEM("notes", FLAG, notes),
    ITEM("full", FLAG, full),
    ITEM("skip", SKIP, skip),
    ITEM("dump", SIGNAL, dump_signal),
};
#define NITEMS Py_ARRAY_LENGTH(spec_items)

int
_PyCoroOrigin_ParseSpec(const wchar_t *spec, _PyCoroOriginSettings *result,
                        char *errbuf, size_t errsize)
{
    char item[100];             /* the item being read, quoted */
    char reason[200];
    _PyCoroOriginSettings settings = {0};
    int seen[NITEMS] = {0};

    assert(result->skip == NULL);
    Py_ssize_t len = (Py_ssize_t)wcslen(spec);
    if (len == 0) {
        PyOS_snprintf(errbuf, errsize, "empty spec");
        return -1;
    }
    Py_ssize_t start = 0;
    for (int number = 1; start <= len; number++) {
        const wchar_t *s = spec + start;
        Py_ssize_t n = 0, eq = -1;
        while (start + n < len && s[n] != L',') {
            n++;
        }
        int last = (start + n == len);
        start += n + 1;
        quote(item, sizeof(item), s, n);
        if (n == 0) {
            PyOS_snprintf(errbuf, errsize, "item %d is empty%s", number,
                          number == 1 ? " (leading comma)"
                          : last ? " (trailing comma)" : " (',,')");
            goto error;
        }
        for (Py_ssize_t i = n - 1; i >= 0; i--) {
            if ((unsigned long)s[i] >= 0x80) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: non-ASCII character", item);
                goto error;
            }
            eq = (s[i] == L'=') ? i : eq;
        }

        /* key[=value]; a bare number is a depth */
        Py_ssize_t keylen = (eq < 0) ? n : eq;
        const wchar_t *value = s + eq + 1;
        size_t key = 0;
        if (eq < 0 && (is_digit(s[0]) || s[0] == L'-' || s[0] == L'+')) {
            value = s;
        }
        else {
            while (key < NITEMS && !span_is(s, keylen, spec_items[key].name)) {
                key++;
            }
            if (key == NITEMS) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: unknown item (expected N, depth=N, "
                              "chain=M, asyncgen, notes, full, skip=MODULES "
                              "or dump=SIGNAL)", item);
                goto error;
            }
            if (spec_items[key].kind == FLAG && eq >= 0) {
                PyOS_snprintf(errbuf, errsize, "item %s: %s takes no value",
                              item, spec_items[key].name);
                goto error;
            }
            if (spec_items[key].kind != FLAG && eq < 0) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s needs a value (%s=...)", item,
                              spec_items[key].name, spec_items[key].name);
                goto error;
            }
        }
        const char *name = spec_items[key].name;
        Py_ssize_t valuelen = n - (value - s);
        void *field = (char *)&settings + spec_items[key].offset;
        if (seen[key]++) {
            PyOS_snprintf(errbuf, errsize, "item %s: %s is given twice",
                          item, name);
            goto error;
        }

        switch (spec_items[key].kind) {
        case COUNT:
            switch (parse_count(value, valuelen, (int *)field)) {
            case -1:
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s must be an integer >= 0",
                              item, name);
                goto error;
            case -2:
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s is too large (at most %d)",
                              item, name, INT_MAX);
                goto error;
            }
            break;
        case FLAG:
            *(int *)field = 1;
            break;
        case SKIP:
            if (parse_skip(value, valuelen, &settings.skip,
                           reason, sizeof(reason)) < 0)
            {
                goto bad_value;
            }
            break;
        case SIGNAL:
            if (_PyCoroOrigin_ParseSignal(value, valuelen,
                                          &settings.dump_signal,
                                          reason, sizeof(reason)) < 0)
            {
                goto bad_value;
            }
            break;
        }
    }
    *result = settings;
    return 0;

bad_value:
    PyOS_snprintf(errbuf, errsize, "item %s: %s", item, reason);
error:
    skip_decref(settings.skip);
    return -1;
}


/* ---- Start-up layers ---------------------------------------------------- */

/* The message of a start-up error status must outlive the call; start-up
   is single-threaded, and the message is only written on failure. */
static char startup_error[400];

/* Parse the spec of one layer into "*settings" (replacing what lower
   layers gave).  "layer" names the layer in error messages. */
static PyStatus
config_init_coro_origin_layer(const char *layer, const wchar_t *spec,
                              _PyCoroOriginSettings *settings)
{
    char reason[sizeof(startup_error) - 50];
    _PyCoroOriginSettings parsed = {0};
    if (_PyCoroOrigin_ParseSpec(spec, &parsed, reason, sizeof(reason)) < 0) {
        PyOS_snprintf(startup_error, sizeof(startup_error),
                      "%s: invalid spec: %s", layer, reason);
        return _PyStatus_ERR(startup_error);
    }
    clear_settings(settings);
    *settings = parsed;
    return _PyStatus_OK();
}

/* Read the start-up layers, lowest first; each one given replaces the
   whole result of the lower ones, but every layer given is checked. */
static PyStatus
config_init_coro_origin(const PyConfig *config,
                        _PyCoroOriginSettings *settings)
{
    PyStatus status = _PyStatus_OK();

#ifdef PY_CORO_ORIGIN_DEFAULT
    /* ./configure --with-coro-origin=SPEC */
    status = config_init_coro_origin_layer(
        "build default (--with-coro-origin)",
        L"" PY_CORO_ORIGIN_DEFAULT, settings);
    if (_PyStatus_EXCEPTION(status)) {
        return status;
    }
#endif

    /* PYTHONCOROORIGIN=SPEC; like other variables, an empty one is unset */
    const char *env = _Py_GetEnv(config->use_environment, SPEC_ENVVAR);
    if (env != NULL) {
        wchar_t *spec = Py_DecodeLocale(env, NULL);
        if (spec == NULL) {
            return _PyStatus_NO_MEMORY();
        }
        status = config_init_coro_origin_layer(SPEC_ENVVAR, spec, settings);
        PyMem_RawFree(spec);
        if (_PyStatus_EXCEPTION(status)) {
            return status;
        }
    }

    /* -X coro_origin=SPEC */
    const wchar_t *xoption = _Py_get_xoption(&config->xoptions, SPEC_OPTION);
    if (xoption != NULL) {
        const wchar_t *sep = wcschr(xoption, L'=');
        if (sep == NULL) {
            return _PyStatus_ERR("-X coro_origin: missing spec "
                                 "(use -X coro_origin=SPEC)");
        }
        status = config_init_coro_origin_layer("-X coro_origin", sep + 1,
                                               settings);
    }
    return status;
}


/* ---- Interpreter and thread life cycle --------------------------------- */

PyStatus
_PyCoroOrigin_InitInterpreter(PyInterpreterState *interp)
{
    struct _PyCoroOrigin_config_state *state = &interp->coro_origin_config;
    _PyCoroOriginSettings startup = {0};

    if (_Py_IsMainInterpreter(interp)) {
        PyStatus status = config_init_coro_origin(
            _PyInterpreterState_GetConfig(interp), &startup);
        if (_PyStatus_EXCEPTION(status)) {
            clear_settings(&startup);
            return status;
        }
    }
    else {
        /* The main interpreter's start-up settings never change after its
           start-up, so they can be read without its lock. */
        PyInterpreterState *main = _PyInterpreterState_Main();
        copy_settings(&startup, &main->coro_origin_config.startup);
    }

    /* No thread state of "interp" exists yet. */
    copy_settings(&state->startup, &startup);
    copy_settings(&state->default_settings, &startup);
    clear_settings(&startup);
    return _PyStatus_OK();
}

void
_PyCoroOrigin_FiniInterpreter(PyInterpreterState *interp)
{
    struct _PyCoroOrigin_config_state *state = &interp->coro_origin_config;
    PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    _PyCoroOriginSkip *skip = state->default_settings.skip;
    memset(&state->default_settings, 0, sizeof(state->default_settings));
    PyMutex_Unlock(&state->mutex);
    skip_decref(skip);
    clear_settings(&state->startup);
}

void
_PyCoroOrigin_InitThread(PyThreadState *tstate)
{
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginSettings *settings = _PyCoroOrigin_ThreadSettings(tstate);
    assert(settings->skip == NULL);

    PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    *settings = state->default_settings;
    skip_incref(settings->skip);
    PyMutex_Unlock(&state->mutex);

    tstate->coroutine_origin_tracking_depth = settings->depth;
    settings->depth = 0;        /* unused: see the header */
}

void
_PyCoroOrigin_ClearThread(PyThreadState *tstate)
{
    clear_settings(_PyCoroOrigin_ThreadSettings(tstate));
}


/* ---- What the sys API reads and changes -------------------------------- */

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
    {"notes", "True if escaping exceptions get a note naming the origin"},
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

int
_PyCoroOrigin_InitTypes(PyInterpreterState *interp)
{
    return _PyStructSequence_InitBuiltinWithFlags(
        interp, &CoroOriginTrackingType, &coro_origin_tracking_desc,
        Py_TPFLAGS_DISALLOW_INSTANTIATION);
}

void
_PyCoroOrigin_FiniTypes(PyInterpreterState *interp)
{
    _PyStructSequence_FiniBuiltin(interp, &CoroOriginTrackingType);
}

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

PyObject *
_PyCoroOrigin_GetTracking(PyThreadState *tstate, int for_default)
{
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginSettings s = {0};
    if (for_default) {
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
        copy_settings(&s, &state->default_settings);
        PyMutex_Unlock(&state->mutex);
    }
    else {
        copy_settings(&s, _PyCoroOrigin_ThreadSettings(tstate));
        s.depth = tstate->coroutine_origin_tracking_depth;
    }
    PyObject *result = NULL;
    PyObject *values = Py_BuildValue(
        "(iiNNNNN)", s.depth, s.chain, PyBool_FromLong(s.asyncgen),
        PyBool_FromLong(s.notes), PyBool_FromLong(s.full),
        skip_as_tuple(s.skip),
        s.dump_signal ? PyLong_FromLong(s.dump_signal) : Py_NewRef(Py_None));
    clear_settings(&s);
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

int
_PyCoroOrigin_SetTracking(PyThreadState *tstate, int for_default, int depth,
                          int chain, int asyncgen, int notes, int full,
                          PyObject *skip_names)
{
    /* The only value left to check is the skip list: do it first, so
       that nothing changes if it is bad. */
    _PyCoroOriginSkip *skip = NULL;
    if (skip_names != NULL && PyUnicode_GET_LENGTH(skip_names) > 0) {
        char reason[200];
        Py_ssize_t len;
        wchar_t *s = PyUnicode_AsWideCharString(skip_names, &len);
        if (s == NULL) {
            return -1;
        }
        int res = parse_skip(s, len, &skip, reason, sizeof(reason));
        PyMem_Free(s);
        if (res == -2) {
            PyErr_NoMemory();
            return -1;
        }
        if (res < 0) {
            PyErr_Format(PyExc_ValueError, "skip: %s", reason);
            return -1;
        }
    }

    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginSettings *settings;
    if (for_default) {
        settings = &state->default_settings;
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
        settings->depth = (depth >= 0) ? depth : settings->depth;
    }
    else {
        settings = _PyCoroOrigin_ThreadSettings(tstate);
        if (depth >= 0) {
            tstate->coroutine_origin_tracking_depth = depth;
        }
    }
    settings->chain = (chain >= 0) ? chain : settings->chain;
    settings->asyncgen = (asyncgen >= 0) ? asyncgen : settings->asyncgen;
    settings->notes = (notes >= 0) ? notes : settings->notes;
    settings->full = (full >= 0) ? full : settings->full;
    if (skip_names != NULL) {
        _PyCoroOriginSkip *old = settings->skip;
        settings->skip = skip;
        skip = old;             /* released below, outside the lock */
    }
    if (for_default) {
        PyMutex_Unlock(&state->mutex);
    }
    skip_decref(skip);
    return 0;
}
