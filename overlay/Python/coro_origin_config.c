/* origin-python: coroutine origin tracking settings.
 *
 * This file is part of origin-python, not of upstream CPython.
 *
 * The spec language (skip lists, the one table of signal names, the parser
 * of every start-up layer), the interpreter default and the per-thread
 * settings, which the sys API (Python/coro_origin_sys.c) reads and changes
 * through the functions at the end.  See pycore_coro_origin_config.h.
 */

#include "Python.h"
#include "pycore_coro_origin_config.h"
#include "pycore_initconfig.h"    // _Py_GetEnv(), _Py_get_xoption()
#include "pycore_interp.h"        // PyInterpreterState.coro_origin_config
#include "pycore_lock.h"          // PyMutex_LockFlags()
#include "pycore_pystate.h"       // _PyInterpreterState_Main()
#include "pycore_signal.h"        // Py_NSIG
#include "pycore_tstate.h"        // _PyThreadStateImpl

#include <signal.h>               // SIGUSR1, ...
#include <wchar.h>                // wcslen()

/* ---- Skip lists --------------------------------------------------------- */

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
        const char *name = skip->names[i].str;
        Py_ssize_t j = 0, n = skip->names[i].len;
        if (len < n || (len > n && PyUnicode_READ(kind, data, n) != '.')) {
            continue;
        }
        while (j < n && PyUnicode_READ(kind, data, j) == (Py_UCS4)name[j]) {
            j++;
        }
        if (j == n) {
            return 1;
        }
    }
    return 0;
}

/* Copy "src" to "dst" (taking a reference to src->skip). */
static void
copy_thread(_PyCoroOriginThread *dst, const _PyCoroOriginThread *src)
{
    _PyCoroOriginSkip *old = dst->skip;
    *dst = *src;
    if (dst->skip != NULL) {
        _Py_atomic_add_ssize(&dst->skip->refcnt, 1);
    }
    skip_decref(old);
}

static void
clear_thread(_PyCoroOriginThread *settings)
{
    _PyCoroOriginSkip *old = settings->skip;
    memset(settings, 0, sizeof(*settings));
    skip_decref(old);
}

void
_PyCoroOrigin_ClearSpec(_PyCoroOriginSpec *spec)
{
    clear_thread(&spec->thread);
    memset(spec, 0, sizeof(*spec));
}

/* ---- Pieces of a spec --------------------------------------------------- */

/* A spec is wide characters, as the start-up layers give it; only ASCII
   is valid in it. */
#define is_digit(c) (L'0' <= (c) && (c) <= L'9')
#define is_ident_start(c) \
    ((L'a' <= (c) && (c) <= L'z') || (L'A' <= (c) && (c) <= L'Z') \
     || (c) == L'_')

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

/* Write s[0:len] quoted to "buf" (at least 16 bytes) for an error message:
   printable ASCII as is but quotes and backslashes, other characters as
   \xNN (also the undecodable byte that a surrogateescape character stands
   for), \uNNNN or \UNNNNNNNN; long text is cut ("..."). */
static void
quote(char *buf, size_t size, const wchar_t *s, Py_ssize_t len)
{
    size_t n = 0;
    assert(size >= 16);
    buf[n++] = '\'';
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned long c = (unsigned long)s[i];
        c -= (0xdc80 <= c && c <= 0xdcff) ? 0xdc00 : 0;
        if (i == 60 || n + 15 > size) {     /* 10 bytes, then "...'" */
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (0x20 <= c && c < 0x7f && c != '\'' && c != '\\') {
            buf[n++] = (char)c;
            continue;
        }
        n += PyOS_snprintf(buf + n, size - n,
                           c <= 0xff ? "\\x%02lx"
                           : c <= 0xffff ? "\\u%04lx" : "\\U%08lx", c);
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

/* A decimal count, digits only.  Return 0 and set "*result", -1 if
   s[0:len] is not one, -2 if it is larger than INT_MAX ("99999999999x"
   is not a number rather than too large a one). */
static int
parse_count(const wchar_t *s, Py_ssize_t len, int *result)
{
    long long value = 0;        /* stops growing at INT_MAX + 1 */
    for (Py_ssize_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        value = Py_MIN(value * 10 + (s[i] - L'0'), (long long)INT_MAX + 1);
    }
    if (len == 0 || value > INT_MAX) {
        return (len == 0) ? -1 : -2;
    }
    *result = (int)value;
    return 0;
}

int
_PyCoroOrigin_ParseSkip(const wchar_t *s, Py_ssize_t len,
                        _PyCoroOriginSkip **result,
                        char *errbuf, size_t errsize)
{
    char quoted[100];
    Py_ssize_t count = 1, k = 0, start = 0;
    int bad = 0, dot = 1;       /* in a name: is it bad, was "." last? */
    for (Py_ssize_t i = 0; i < len; i++) {
        count += (s[i] == L':');
    }
    /* The names, NUL-terminated, take len + 1 bytes after the entries. */
    size_t head = sizeof(_PyCoroOriginSkip)
                  + count * sizeof(_PyCoroOriginSkipName);
    _PyCoroOriginSkip *skip = PyMem_RawMalloc(head + len + 1);
    if (skip == NULL) {
        PyOS_snprintf(errbuf, errsize, "out of memory");
        return -2;
    }
    char *text = (char *)skip + head;
    for (Py_ssize_t i = 0; i <= len; i++) {
        /* a name is a dotted name of ASCII identifiers ("a", "a.b_c") */
        if (i < len && s[i] != L':') {
            wchar_t c = s[i];
            bad |= dot ? !is_ident_start(c)
                       : (c != L'.' && !is_ident_start(c) && !is_digit(c));
            dot = (c == L'.');
            text[i] = (char)c;
            continue;
        }
        if (len == 0 || i == start) {
            PyOS_snprintf(errbuf, errsize, len ? "empty module name"
                                               : "no module name");
            goto error;
        }
        if (bad || dot) {
            quote(quoted, sizeof(quoted), s + start, i - start);
            PyOS_snprintf(errbuf, errsize, "%s is not a module name",
                          quoted);
            goto error;
        }
        text[i] = '\0';
        skip->names[k].str = text + start;
        skip->names[k++].len = i - start;
        start = i + 1;
        dot = 1;
    }
    skip->refcnt = 1;
    skip->count = count;
    *result = skip;
    return 0;

error:
    PyMem_RawFree(skip);
    return -1;
}

/* ---- Signals ------------------------------------------------------------ */

#define UNCATCHABLE "cannot be caught"
#define CRASH "reports a crash"
#define ABORT "reports a crash (abort())"

/* The signal names of the signal module, each with why it cannot be a
   dump signal (NULL if it can).  A second name for a number (SIGIOT,
   SIGCLD, SIGPOLL) comes after the first. */
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
    SIG(SIGCONT, NULL), SIG(SIGHUP, NULL), SIG(SIGIO, NULL),
    SIG(SIGKILL, UNCATCHABLE), SIG(SIGPIPE, NULL), SIG(SIGPROF, NULL),
    SIG(SIGQUIT, NULL), SIG(SIGSTOP, UNCATCHABLE), SIG(SIGSYS, NULL),
    SIG(SIGTRAP, NULL), SIG(SIGTSTP, NULL), SIG(SIGTTIN, NULL),
    SIG(SIGTTOU, NULL), SIG(SIGURG, NULL), SIG(SIGUSR1, NULL),
    SIG(SIGUSR2, NULL), SIG(SIGVTALRM, NULL), SIG(SIGWINCH, NULL),
    SIG(SIGXCPU, NULL), SIG(SIGXFSZ, NULL), SIG(SIGIOT, ABORT),
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
#ifdef SIGPWR
    SIG(SIGPWR, NULL),
#endif
#ifdef SIGSTKFLT
    SIG(SIGSTKFLT, NULL),
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
        if (parse_count(s, len, &value) < 0 || value < 1
            || value >= Py_NSIG)
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
    int named = 0;
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
            named = 1;
            break;
        }
    }
#if defined(SIGRTMIN)
    /* A number that no signal name has and that is below the real-time
       signals: the C library keeps it for itself (glibc's 32 and 33). */
    if (value > 0 && !named && value < SIGRTMIN) {
        PyOS_snprintf(errbuf, errsize,
                      "signal %d is reserved by the C library (real-time "
                      "signals start at SIGRTMIN = %d)", value, SIGRTMIN);
        return -1;
    }
#endif
    if (value < 0) {
        PyOS_snprintf(errbuf, errsize, "unknown signal (use a name such as "
                      "SIGUSR1, or a number)");
        return -1;
    }
    *signum = value;
    return 0;
}

/* ---- The spec parser ---------------------------------------------------- */

/* The depth of a spec that names none (asyncio.constants'
   DEBUG_STACK_DEPTH, what debug mode gives stock's tracking). */
#define SPEC_DEFAULT_DEPTH 10

/* The items: counts, then flags, then the others. */
enum {
    DEPTH, CHAIN, ASYNCGEN, TRACEBACKS, FULL, STRICT, SKIP, DUMP, HANG,
    NITEMS
};
static const char *const item_names[NITEMS] = {
    "depth", "chain", "asyncgen", "tracebacks", "full", "strict", "skip",
    "dump", "hang",
};
/* The earlier name of "tracebacks", still accepted. */
#define TRACEBACKS_OLD_NAME "notes"

/* hang=SECONDS: at most this many seconds (a day), to the millisecond. */
#define HANG_MAX_SECONDS 86400

/* Parse "SECONDS" (digits, optionally "." and at most three more digits),
   greater than 0, into milliseconds.  Return 0, or -1. */
static int
parse_seconds(const wchar_t *s, Py_ssize_t len, int *result)
{
    long long ms = 0;
    int point = -1, digits = 0;     /* digits after the point */
    for (Py_ssize_t i = 0; i < len; i++) {
        if (s[i] == L'.' && point < 0 && i > 0) {
            point = (int)i;
        }
        else if (!is_digit(s[i]) || (point >= 0 && ++digits > 3)) {
            return -1;
        }
        else {
            ms = Py_MIN(ms * 10 + (s[i] - L'0'),
                        (long long)HANG_MAX_SECONDS * 1000 + 1);
        }
    }
    if (len == 0 || point == len - 1) {
        return -1;
    }
    for (; digits < 3; digits++) {
        ms = Py_MIN(ms * 10, (long long)HANG_MAX_SECONDS * 1000 + 1);
    }
    if (ms < 1 || ms > (long long)HANG_MAX_SECONDS * 1000) {
        return -1;
    }
    *result = (int)ms;
    return 0;
}

int
_PyCoroOrigin_ParseSpec(const wchar_t *text, _PyCoroOriginSpec *result,
                        char *errbuf, size_t errsize)
{
    char item[100];             /* the item being read, quoted */
    char reason[200];
    _PyCoroOriginSpec spec = {0};
    int *ints[SKIP] = {&spec.depth, &spec.thread.chain,
                       &spec.thread.asyncgen, &spec.thread.tracebacks,
                       &spec.thread.full, &spec.startup.strict};
    int seen[NITEMS] = {0};
    Py_ssize_t len = (Py_ssize_t)wcslen(text), start = 0;

    assert(result->thread.skip == NULL);
    if (len == 0) {
        PyOS_snprintf(errbuf, errsize, "empty spec");
        return -1;
    }
    for (int number = 1; start <= len; number++) {
        const wchar_t *s = text + start;
        Py_ssize_t n = 0, eq = -1;
        while (start + n < len && s[n] != L',') {
            n++;
        }
        start += n + 1;
        quote(item, sizeof(item), s, n);
        if (n == 0) {
            PyOS_snprintf(errbuf, errsize, "item %d is empty%s", number,
                          number == 1 ? " (leading comma)"
                          : start > len ? " (trailing comma)" : " (',,')");
            goto error;
        }
        for (Py_ssize_t i = n - 1; i >= 0; i--) {
            if ((unsigned long)s[i] >= 0x80) {
                PyOS_snprintf(reason, sizeof(reason), "non-ASCII character");
                goto bad_item;
            }
            eq = (s[i] == L'=') ? i : eq;
        }

        /* key[=value]; a bare number is a depth */
        int bare = (eq < 0 && (is_digit(s[0]) || s[0] == L'-'
                               || s[0] == L'+'));
        int key = DEPTH;
        while (!bare && key < NITEMS
               && !span_is(s, eq < 0 ? n : eq, item_names[key]))
        {
            key++;
        }
        const char *name = key < NITEMS ? item_names[key] : NULL;
        if (key == NITEMS
            && span_is(s, eq < 0 ? n : eq, TRACEBACKS_OLD_NAME))
        {
            key = TRACEBACKS;
            name = TRACEBACKS_OLD_NAME;
        }
        if (key == NITEMS) {
            PyOS_snprintf(reason, sizeof(reason), "unknown item (expected "
                          "N, depth=N, chain=M, asyncgen, tracebacks, "
                          "full, strict, skip=MODULES, dump=SIGNAL or "
                          "hang=SECONDS)");
            goto bad_item;
        }
        const wchar_t *value = s + eq + 1;
        Py_ssize_t valuelen = n - eq - 1;
        int res = -1;
        if (ASYNCGEN <= key && key <= STRICT && eq >= 0) {
            PyOS_snprintf(reason, sizeof(reason), "%s takes no value", name);
        }
        else if ((key < ASYNCGEN || key > STRICT) && eq < 0 && !bare) {
            PyOS_snprintf(reason, sizeof(reason), "%s needs a value (%s=...)",
                          name, name);
        }
        else if (seen[key]++) {
            PyOS_snprintf(reason, sizeof(reason), "%s is given twice", name);
        }
        else if (key <= CHAIN) {
            res = parse_count(value, valuelen, ints[key]);
            if (res == -1) {
                PyOS_snprintf(reason, sizeof(reason),
                              "%s must be an integer >= 0", name);
            }
            else if (res == -2) {
                PyOS_snprintf(reason, sizeof(reason),
                              "%s is too large (at most %d)", name, INT_MAX);
            }
        }
        else if (key < SKIP) {
            *ints[key] = 1;
            res = 0;
        }
        else if (key == SKIP) {
            res = _PyCoroOrigin_ParseSkip(value, valuelen, &spec.thread.skip,
                                          reason, sizeof(reason));
        }
        else if (key == DUMP) {
            res = _PyCoroOrigin_ParseSignal(value, valuelen,
                                            &spec.startup.dump_signal,
                                            reason, sizeof(reason));
        }
        else {
            res = parse_seconds(value, valuelen, &spec.startup.hang_ms);
            if (res < 0) {
                PyOS_snprintf(reason, sizeof(reason),
                              "hang must be a number of seconds, from "
                              "0.001 to %d, with at most 3 decimals",
                              HANG_MAX_SECONDS);
            }
        }
        if (res < 0) {
            goto bad_item;
        }
    }
    if (!seen[DEPTH]) {
        /* Every other item works on tracked coroutines: a spec that names
           no depth ("chain=8,tracebacks") gets asyncio's debug depth. */
        spec.depth = SPEC_DEFAULT_DEPTH;
    }
    *result = spec;
    return 0;

bad_item:
    PyOS_snprintf(errbuf, errsize, "item %s: %s", item, reason);
error:
    skip_decref(spec.thread.skip);
    return -1;
}

/* ---- Start-up layers ---------------------------------------------------- */

/* The message of a start-up error status must outlive the call; start-up
   is single-threaded, and the message is only written on failure. */
static char startup_error[400];

/* Parse the spec of one layer into "*spec" (replacing what lower layers
   gave).  "layer" names the layer in error messages. */
static PyStatus
config_init_coro_origin_layer(const char *layer, const wchar_t *text,
                              _PyCoroOriginSpec *spec)
{
    char reason[sizeof(startup_error) - 50];
    _PyCoroOriginSpec parsed = {0};
    if (_PyCoroOrigin_ParseSpec(text, &parsed, reason, sizeof(reason)) < 0) {
        PyOS_snprintf(startup_error, sizeof(startup_error),
                      "%s: invalid spec: %s", layer, reason);
        return _PyStatus_ERR(startup_error);
    }
    _PyCoroOrigin_ClearSpec(spec);
    *spec = parsed;
    return _PyStatus_OK();
}

/* Read the start-up layers, lowest first; each one given replaces the
   whole result of the lower ones, but every layer given is checked. */
static PyStatus
config_init_coro_origin(const PyConfig *config, _PyCoroOriginSpec *spec)
{
    PyStatus status = _PyStatus_OK();
#ifdef PY_CORO_ORIGIN_DEFAULT
    /* ./configure --with-coro-origin=SPEC */
    status = config_init_coro_origin_layer(
        "build default (--with-coro-origin)",
        L"" PY_CORO_ORIGIN_DEFAULT, spec);
    if (_PyStatus_EXCEPTION(status)) {
        return status;
    }
#endif
    /* PYTHONCOROORIGIN=SPEC; like other variables, an empty one is unset */
    const char *env = _Py_GetEnv(config->use_environment, "PYTHONCOROORIGIN");
    if (env != NULL) {
        wchar_t *text = Py_DecodeLocale(env, NULL);
        if (text == NULL) {
            return _PyStatus_NO_MEMORY();
        }
        status = config_init_coro_origin_layer("PYTHONCOROORIGIN", text,
                                               spec);
        PyMem_RawFree(text);
        if (_PyStatus_EXCEPTION(status)) {
            return status;
        }
    }
    /* -X coro_origin=SPEC */
    const wchar_t *xoption = _Py_get_xoption(&config->xoptions,
                                             L"coro_origin");
    if (xoption != NULL) {
        const wchar_t *sep = wcschr(xoption, L'=');
        if (sep == NULL) {
            return _PyStatus_ERR("-X coro_origin: missing spec "
                                 "(use -X coro_origin=SPEC)");
        }
        status = config_init_coro_origin_layer("-X coro_origin", sep + 1,
                                               spec);
    }
    return status;
}

/* ---- Interpreter and thread life cycle --------------------------------- */

PyStatus
_PyCoroOrigin_InitInterpreter(PyInterpreterState *interp)
{
    struct _PyCoroOrigin_config_state *state = &interp->coro_origin_config;
    _PyCoroOriginSpec spec = {0};

    if (_Py_IsMainInterpreter(interp)) {
        PyStatus status = config_init_coro_origin(
            _PyInterpreterState_GetConfig(interp), &spec);
        if (_PyStatus_EXCEPTION(status)) {
            _PyCoroOrigin_ClearSpec(&spec);
            return status;
        }
    }
    else {
        /* The main interpreter's start-up spec never changes after its
           start-up, so it can be read without its lock. */
        const _PyCoroOriginSpec *main =
            &_PyInterpreterState_Main()->coro_origin_config.spec;
        spec = *main;
        spec.thread.skip = NULL;
        copy_thread(&spec.thread, &main->thread);
    }
    /* No thread state of "interp" exists yet. */
    assert(state->spec.thread.skip == NULL);
    state->default_depth = spec.depth;
    copy_thread(&state->default_thread, &spec.thread);
    state->spec = spec;         /* takes the reference */
    return _PyStatus_OK();
}

void
_PyCoroOrigin_FiniInterpreter(PyInterpreterState *interp)
{
    struct _PyCoroOrigin_config_state *state = &interp->coro_origin_config;
    PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    state->default_depth = 0;
    clear_thread(&state->default_thread);
    PyMutex_Unlock(&state->mutex);
    _PyCoroOrigin_ClearSpec(&state->spec);
    for (int i = 0; i < _PyCoroOrigin_NMODULES; i++) {
        Py_CLEAR(interp->coro_origin.modules[i]);
    }
    Py_CLEAR(interp->coro_origin.exc_origins);
    Py_CLEAR(interp->coro_origin.stack_summary);
    Py_CLEAR(interp->coro_origin.cancel_state);
}

void
_PyCoroOrigin_InitThread(PyThreadState *tstate)
{
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginThread *settings = _PyCoroOrigin_ThreadSettings(tstate);
    assert(settings->skip == NULL);
    PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    copy_thread(settings, &state->default_thread);
    tstate->coroutine_origin_tracking_depth = state->default_depth;
    PyMutex_Unlock(&state->mutex);
}

void
_PyCoroOrigin_ClearThread(PyThreadState *tstate)
{
    clear_thread(_PyCoroOrigin_ThreadSettings(tstate));
}

/* ---- For the sys API ---------------------------------------------------- */

void
_PyCoroOrigin_GetSettings(PyThreadState *tstate, int for_default,
                          _PyCoroOriginSpec *spec)
{
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    assert(spec->thread.skip == NULL);
    if (for_default) {
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
        copy_thread(&spec->thread, &state->default_thread);
        spec->depth = state->default_depth;
        PyMutex_Unlock(&state->mutex);
    }
    else {
        copy_thread(&spec->thread, _PyCoroOrigin_ThreadSettings(tstate));
        spec->depth = tstate->coroutine_origin_tracking_depth;
    }
    spec->startup = state->spec.startup;
}

int
_PyCoroOrigin_Configured(PyThreadState *tstate)
{
    const _PyCoroOriginThread *settings =
        _PyCoroOrigin_ThreadSettings(tstate);
    if (settings->chain || settings->asyncgen || settings->tracebacks
        || settings->full || settings->skip != NULL)
    {
        return 1;
    }
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    int depth = state->default_depth;
    PyMutex_Unlock(&state->mutex);
    return depth != 0;
}

int
_PyCoroOrigin_Folding(PyThreadState *tstate)
{
    return (!_PyCoroOrigin_ThreadSettings(tstate)->full
            && _PyCoroOrigin_Configured(tstate));
}

void
_PyCoroOrigin_ChangeSettings(PyThreadState *tstate, int for_default,
                             int depth, const _PyCoroOriginThread *change,
                             int set_skip)
{
    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginThread *settings = _PyCoroOrigin_ThreadSettings(tstate);
    int *depth_field = &tstate->coroutine_origin_tracking_depth;
    if (for_default) {
        settings = &state->default_thread;
        depth_field = &state->default_depth;
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
    }
    int *fields[] = {depth_field, &settings->chain, &settings->asyncgen,
                     &settings->tracebacks, &settings->full};
    const int values[] = {depth, change->chain, change->asyncgen,
                          change->tracebacks, change->full};
    for (size_t i = 0; i < Py_ARRAY_LENGTH(fields); i++) {
        *fields[i] = (values[i] >= 0) ? values[i] : *fields[i];
    }
    _PyCoroOriginSkip *old = NULL;
    assert(set_skip || change->skip == NULL);
    if (set_skip) {
        old = settings->skip;
        settings->skip = change->skip;
    }
    if (for_default) {
        PyMutex_Unlock(&state->mutex);
    }
    skip_decref(old);           /* outside the lock */
}
