/* origin-python: coroutine origin tracking settings.
 *
 * This file is part of origin-python, not of upstream CPython.
 *
 * The spec language, the start-up layers (build default, PYTHONCOROORIGIN,
 * -X coro_origin), the interpreter default, the per-thread settings and
 * the logic behind the sys API.  See Include/internal/
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

/* Make a skip list from "count" names given as (pointer, length) spans;
   the names must be valid already.  Return NULL if out of memory. */
static _PyCoroOriginSkip *
skip_new(const skip_name *spans, Py_ssize_t count)
{
    assert(count > 0);
    size_t size = sizeof(_PyCoroOriginSkip) + count * sizeof(skip_name);
    size_t text = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        text += (size_t)spans[i].len + 1;
    }
    _PyCoroOriginSkip *skip = PyMem_RawMalloc(size + text);
    if (skip == NULL) {
        return NULL;
    }
    skip->refcnt = 1;
    skip->count = count;
    char *p = (char *)skip + size;
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(p, spans[i].str, spans[i].len);
        p[spans[i].len] = '\0';
        skip->names[i].str = p;
        skip->names[i].len = spans[i].len;
        p += spans[i].len + 1;
    }
    return skip;
}

Py_ssize_t
_PyCoroOrigin_SkipCount(const _PyCoroOriginSkip *skip)
{
    return skip == NULL ? 0 : skip->count;
}

const char *
_PyCoroOrigin_SkipName(const _PyCoroOriginSkip *skip, Py_ssize_t i)
{
    assert(skip != NULL && 0 <= i && i < skip->count);
    return skip->names[i].str;
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


/* ---- Settings values ---------------------------------------------------- */

void
_PyCoroOrigin_CopySettings(_PyCoroOriginSettings *dst,
                           const _PyCoroOriginSettings *src)
{
    _PyCoroOriginSkip *old = dst->skip;
    *dst = *src;
    skip_incref(dst->skip);
    skip_decref(old);
}

void
_PyCoroOrigin_ClearSettings(_PyCoroOriginSettings *settings)
{
    _PyCoroOriginSkip *old = settings->skip;
    memset(settings, 0, sizeof(*settings));
    skip_decref(old);
}

void
_PyCoroOrigin_GetThreadSettings(PyThreadState *tstate,
                                _PyCoroOriginSettings *settings)
{
    *settings = *_PyCoroOrigin_ThreadSettings(tstate);
    settings->depth = tstate->coroutine_origin_tracking_depth;
}


/* ---- Checking values ---------------------------------------------------- */

static inline int
is_ascii_digit(int c)
{
    return '0' <= c && c <= '9';
}

static inline int
is_ident_start(int c)
{
    return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_';
}

/* Parse a decimal count (digits only).  Return 0 and set "*result", -1 if
   "s" is not a non-negative integer, -2 if it is larger than INT_MAX. */
static int
parse_count(const char *s, Py_ssize_t len, int *result)
{
    if (len == 0) {
        return -1;
    }
    int value = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        if (!is_ascii_digit(s[i])) {
            return -1;
        }
        int digit = s[i] - '0';
        if (value > (INT_MAX - digit) / 10) {
            /* Keep checking that the rest is digits: "9999999999x" is not
               a number rather than too large a one. */
            for (i++; i < len; i++) {
                if (!is_ascii_digit(s[i])) {
                    return -1;
                }
            }
            return -2;
        }
        value = value * 10 + digit;
    }
    *result = value;
    return 0;
}

/* Is s[0:len] a dotted name of ASCII identifiers ("a", "a.b_c")? */
static int
is_module_name(const char *s, Py_ssize_t len)
{
    int start = 1;
    for (Py_ssize_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (start) {
            if (!is_ident_start(c)) {
                return 0;
            }
            start = 0;
        }
        else if (c == '.') {
            start = 1;
        }
        else if (!is_ident_start(c) && !is_ascii_digit(c)) {
            return 0;
        }
    }
    return len > 0 && !start;
}

/* Write s[0:len] (ASCII, or with bytes >= 0x80 that stand for non-ASCII
   characters) quoted and escaped to "buf". */
static void
quote_ascii(char *buf, size_t size, const char *s, Py_ssize_t len)
{
    size_t n = 0;
    const Py_ssize_t maxlen = 60;
    if (size < 8) {
        if (size > 0) {
            buf[0] = '\0';
        }
        return;
    }
    buf[n++] = '\'';
    for (Py_ssize_t i = 0; i < len && n + 8 < size; i++) {
        if (i == maxlen) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
            n += PyOS_snprintf(buf + n, size - n, "\\x%02x", c);
        }
        else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

/* The same for a span of wide characters: non-ASCII characters are shown
   as \xNN (or the byte a surrogateescape character stands for), \uNNNN or
   \UNNNNNNNN. */
static void
quote_wide(char *buf, size_t size, const wchar_t *s, Py_ssize_t len)
{
    size_t n = 0;
    const Py_ssize_t maxlen = 60;
    if (size < 16) {
        if (size > 0) {
            buf[0] = '\0';
        }
        return;
    }
    buf[n++] = '\'';
    for (Py_ssize_t i = 0; i < len && n + 14 < size; i++) {
        if (i == maxlen) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        unsigned long c = (unsigned long)s[i];
        if (0xdc80 <= c && c <= 0xdcff) {
            c -= 0xdc00;        /* an undecodable byte (surrogateescape) */
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

/* Parse a skip list "a:b.c" (ASCII).  Return 0 and set "*result" (a new
   reference), or -1 and write the reason to "errbuf". */
static int
parse_skip(const char *s, Py_ssize_t len, _PyCoroOriginSkip **result,
           char *errbuf, size_t errsize)
{
    char quoted[100];
    if (len == 0) {
        PyOS_snprintf(errbuf, errsize, "no module name");
        return -1;
    }
    Py_ssize_t count = 1;
    for (Py_ssize_t i = 0; i < len; i++) {
        count += (s[i] == ':');
    }
    skip_name *spans = PyMem_RawMalloc(count * sizeof(skip_name));
    if (spans == NULL) {
        PyOS_snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    Py_ssize_t start = 0, k = 0;
    for (Py_ssize_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ':') {
            continue;
        }
        Py_ssize_t n = i - start;
        if (n == 0) {
            PyOS_snprintf(errbuf, errsize, "empty module name");
            goto error;
        }
        if (!is_module_name(s + start, n)) {
            quote_ascii(quoted, sizeof(quoted), s + start, n);
            PyOS_snprintf(errbuf, errsize, "%s is not a module name",
                          quoted);
            goto error;
        }
        spans[k].str = s + start;
        spans[k].len = n;
        k++;
        start = i + 1;
    }
    assert(k == count);
    *result = skip_new(spans, count);
    PyMem_RawFree(spans);
    if (*result == NULL) {
        PyOS_snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    return 0;

error:
    PyMem_RawFree(spans);
    return -1;
}

/* Signal names, as in the signal module. */
static const struct {
    const char *name;
    int signum;
} signal_names[] = {
#ifdef SIGABRT
    {"SIGABRT", SIGABRT},
#endif
#ifdef SIGALRM
    {"SIGALRM", SIGALRM},
#endif
#ifdef SIGBREAK
    {"SIGBREAK", SIGBREAK},
#endif
#ifdef SIGBUS
    {"SIGBUS", SIGBUS},
#endif
#ifdef SIGCHLD
    {"SIGCHLD", SIGCHLD},
#endif
#ifdef SIGCLD
    {"SIGCLD", SIGCLD},
#endif
#ifdef SIGCONT
    {"SIGCONT", SIGCONT},
#endif
#ifdef SIGEMT
    {"SIGEMT", SIGEMT},
#endif
#ifdef SIGFPE
    {"SIGFPE", SIGFPE},
#endif
#ifdef SIGHUP
    {"SIGHUP", SIGHUP},
#endif
#ifdef SIGILL
    {"SIGILL", SIGILL},
#endif
#ifdef SIGINFO
    {"SIGINFO", SIGINFO},
#endif
#ifdef SIGINT
    {"SIGINT", SIGINT},
#endif
#ifdef SIGIO
    {"SIGIO", SIGIO},
#endif
#ifdef SIGIOT
    {"SIGIOT", SIGIOT},
#endif
#ifdef SIGKILL
    {"SIGKILL", SIGKILL},
#endif
#ifdef SIGPIPE
    {"SIGPIPE", SIGPIPE},
#endif
#ifdef SIGPOLL
    {"SIGPOLL", SIGPOLL},
#endif
#ifdef SIGPROF
    {"SIGPROF", SIGPROF},
#endif
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
#ifdef SIGQUIT
    {"SIGQUIT", SIGQUIT},
#endif
#ifdef SIGSEGV
    {"SIGSEGV", SIGSEGV},
#endif
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
#ifdef SIGSTOP
    {"SIGSTOP", SIGSTOP},
#endif
#ifdef SIGSYS
    {"SIGSYS", SIGSYS},
#endif
#ifdef SIGTERM
    {"SIGTERM", SIGTERM},
#endif
#ifdef SIGTRAP
    {"SIGTRAP", SIGTRAP},
#endif
#ifdef SIGTSTP
    {"SIGTSTP", SIGTSTP},
#endif
#ifdef SIGTTIN
    {"SIGTTIN", SIGTTIN},
#endif
#ifdef SIGTTOU
    {"SIGTTOU", SIGTTOU},
#endif
#ifdef SIGURG
    {"SIGURG", SIGURG},
#endif
#ifdef SIGUSR1
    {"SIGUSR1", SIGUSR1},
#endif
#ifdef SIGUSR2
    {"SIGUSR2", SIGUSR2},
#endif
#ifdef SIGVTALRM
    {"SIGVTALRM", SIGVTALRM},
#endif
#ifdef SIGWINCH
    {"SIGWINCH", SIGWINCH},
#endif
#ifdef SIGXCPU
    {"SIGXCPU", SIGXCPU},
#endif
#ifdef SIGXFSZ
    {"SIGXFSZ", SIGXFSZ},
#endif
};

/* Parse "dump=" value: a signal name (SIGUSR1) or number.  Return 0 and
   set "*signum", or -1 and write the reason to "errbuf". */
static int
parse_signal(const char *s, Py_ssize_t len, int *signum,
             char *errbuf, size_t errsize)
{
    int value = -1;
    if (len > 0 && is_ascii_digit(s[0])) {
        if (parse_count(s, len, &value) < 0 || value < 1
            || value >= Py_NSIG)
        {
            PyOS_snprintf(errbuf, errsize,
                          "signal number must be from 1 to %d",
                          Py_NSIG - 1);
            return -1;
        }
    }
    else {
#if defined(SIGRTMIN) && defined(SIGRTMAX)
        if (len == 8 && memcmp(s, "SIGRTMIN", 8) == 0) {
            value = SIGRTMIN;
        }
        else if (len == 8 && memcmp(s, "SIGRTMAX", 8) == 0) {
            value = SIGRTMAX;
        }
#endif
        for (size_t i = 0; value < 0 && i < Py_ARRAY_LENGTH(signal_names);
             i++)
        {
            const char *name = signal_names[i].name;
            if ((size_t)len == strlen(name) && memcmp(s, name, len) == 0) {
                value = signal_names[i].signum;
            }
        }
        if (value < 0) {
            PyOS_snprintf(errbuf, errsize,
                          "unknown signal (use a name such as SIGUSR1, "
                          "or a number)");
            return -1;
        }
    }
#ifdef SIGKILL
    if (value == SIGKILL) {
        PyOS_snprintf(errbuf, errsize, "SIGKILL cannot be caught");
        return -1;
    }
#endif
#ifdef SIGSTOP
    if (value == SIGSTOP) {
        PyOS_snprintf(errbuf, errsize, "SIGSTOP cannot be caught");
        return -1;
    }
#endif
    *signum = value;
    return 0;
}


/* ---- The spec parser ---------------------------------------------------- */

enum {
    KEY_DEPTH,
    KEY_CHAIN,
    KEY_ASYNCGEN,
    KEY_NOTES,
    KEY_SKIP,
    KEY_DUMP,
    KEY_COUNT
};

static const struct {
    const char *name;
    int takes_value;
} spec_keys[KEY_COUNT] = {
    [KEY_DEPTH] = {"depth", 1},
    [KEY_CHAIN] = {"chain", 1},
    [KEY_ASYNCGEN] = {"asyncgen", 0},
    [KEY_NOTES] = {"notes", 0},
    [KEY_SKIP] = {"skip", 1},
    [KEY_DUMP] = {"dump", 1},
};

int
_PyCoroOrigin_ParseSpec(const wchar_t *spec, _PyCoroOriginSettings *result,
                        char *errbuf, size_t errsize)
{
    char item[100];             /* the bad item, quoted */
    char reason[200];
    _PyCoroOriginSettings settings = {0};
    char *text = NULL;
    int seen[KEY_COUNT] = {0};

    assert(result->skip == NULL);
    size_t len = wcslen(spec);
    if (len == 0) {
        PyOS_snprintf(errbuf, errsize, "empty spec");
        return -1;
    }

    /* An ASCII copy of "spec" where 0x80 stands for any other character,
       so that positions in both strings match. */
    text = PyMem_RawMalloc(len + 1);
    if (text == NULL) {
        PyOS_snprintf(errbuf, errsize, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        text[i] = (spec[i] < 0x80) ? (char)spec[i] : (char)0x80;
    }
    text[len] = '\0';

    Py_ssize_t start = 0;
    int number = 0;
    while ((size_t)start <= len) {
        number++;
        const char *s = text + start;
        const char *comma = strchr(s, ',');
        Py_ssize_t n = comma ? comma - s : (Py_ssize_t)strlen(s);
        quote_wide(item, sizeof(item), spec + start, n);
        start += n + 1;

        if (n == 0) {
            PyOS_snprintf(errbuf, errsize, "item %d is empty%s", number,
                          number == 1 ? " (leading comma)"
                          : comma == NULL ? " (trailing comma)"
                          : " (',,')");
            goto error;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if ((unsigned char)s[i] >= 0x80) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: non-ASCII character", item);
                goto error;
            }
        }

        /* key[=value]; a bare number is a depth */
        const char *eq = memchr(s, '=', n);
        Py_ssize_t keylen = eq ? eq - s : n;
        const char *value = eq ? eq + 1 : NULL;
        Py_ssize_t valuelen = eq ? n - keylen - 1 : 0;
        int key = -1;
        if (eq == NULL && (is_ascii_digit(s[0]) || s[0] == '-'
                           || s[0] == '+'))
        {
            key = KEY_DEPTH;
            value = s;
            valuelen = n;
        }
        else {
            for (int k = 0; k < KEY_COUNT; k++) {
                if ((size_t)keylen == strlen(spec_keys[k].name)
                    && memcmp(s, spec_keys[k].name, keylen) == 0)
                {
                    key = k;
                    break;
                }
            }
            if (key < 0) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: unknown item (expected N, depth=N, "
                              "chain=M, asyncgen, notes, skip=MODULES or "
                              "dump=SIGNAL)", item);
                goto error;
            }
            if (spec_keys[key].takes_value && eq == NULL) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s needs a value (%s=...)",
                              item, spec_keys[key].name,
                              spec_keys[key].name);
                goto error;
            }
            if (!spec_keys[key].takes_value && eq != NULL) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s takes no value",
                              item, spec_keys[key].name);
                goto error;
            }
        }
        if (seen[key]) {
            PyOS_snprintf(errbuf, errsize,
                          "item %s: %s is given twice",
                          item, spec_keys[key].name);
            goto error;
        }
        seen[key] = 1;

        switch (key) {
        case KEY_DEPTH:
        case KEY_CHAIN: {
            int count;
            int res = parse_count(value, valuelen, &count);
            if (res == -1) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s must be an integer >= 0",
                              item, spec_keys[key].name);
                goto error;
            }
            if (res == -2) {
                PyOS_snprintf(errbuf, errsize,
                              "item %s: %s is too large (at most %d)",
                              item, spec_keys[key].name, INT_MAX);
                goto error;
            }
            if (key == KEY_DEPTH) {
                settings.depth = count;
            }
            else {
                settings.chain = count;
            }
            break;
        }
        case KEY_ASYNCGEN:
            settings.asyncgen = 1;
            break;
        case KEY_NOTES:
            settings.notes = 1;
            break;
        case KEY_SKIP:
            if (parse_skip(value, valuelen, &settings.skip,
                           reason, sizeof(reason)) < 0)
            {
                PyOS_snprintf(errbuf, errsize, "item %s: %s", item, reason);
                goto error;
            }
            break;
        case KEY_DUMP:
            if (parse_signal(value, valuelen, &settings.dump_signal,
                             reason, sizeof(reason)) < 0)
            {
                PyOS_snprintf(errbuf, errsize, "item %s: %s", item, reason);
                goto error;
            }
            break;
        default:
            Py_UNREACHABLE();
        }
    }

    PyMem_RawFree(text);
    *result = settings;
    return 0;

error:
    PyMem_RawFree(text);
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
    _PyCoroOrigin_ClearSettings(settings);
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
        if (_PyStatus_EXCEPTION(status)) {
            return status;
        }
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
            _PyCoroOrigin_ClearSettings(&startup);
            return status;
        }
    }
    else {
        /* The main interpreter's start-up settings never change after its
           start-up, so they can be read without its lock. */
        PyInterpreterState *main = _PyInterpreterState_Main();
        _PyCoroOrigin_CopySettings(&startup,
                                   &main->coro_origin_config.startup);
    }

    /* No thread state of "interp" exists yet. */
    _PyCoroOrigin_CopySettings(&state->startup, &startup);
    _PyCoroOrigin_CopySettings(&state->default_settings, &startup);
    _PyCoroOrigin_ClearSettings(&startup);
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
    _PyCoroOrigin_ClearSettings(&state->startup);
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
    _PyCoroOrigin_ClearSettings(_PyCoroOrigin_ThreadSettings(tstate));
}


/* ---- The sys API -------------------------------------------------------- */

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
    {"skip", "tuple of module names whose frames are not kept"},
    {"dump", "signal number that dumps live coroutines, or None"},
    {0}
};

static PyStructSequence_Desc coro_origin_tracking_desc = {
    "sys.coroutine_origin_tracking",    /* name */
    coro_origin_tracking__doc__,        /* doc */
    coro_origin_tracking_fields,        /* fields */
    6
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
    Py_ssize_t count = _PyCoroOrigin_SkipCount(skip);
    PyObject *tuple = PyTuple_New(count);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyUnicode_FromStringAndSize(skip->names[i].str,
                                                     skip->names[i].len);
        if (name == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, name);
    }
    return tuple;
}

PyObject *
_PyCoroOrigin_GetTracking(PyThreadState *tstate, int for_default)
{
    _PyCoroOriginSettings settings = {0};
    if (for_default) {
        struct _PyCoroOrigin_config_state *state =
            &tstate->interp->coro_origin_config;
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
        _PyCoroOrigin_CopySettings(&settings, &state->default_settings);
        PyMutex_Unlock(&state->mutex);
    }
    else {
        _PyCoroOrigin_GetThreadSettings(tstate, &settings);
        skip_incref(settings.skip);
    }

    PyObject *result = PyStructSequence_New(&CoroOriginTrackingType);
    if (result == NULL) {
        goto done;
    }
    PyObject *skip = skip_as_tuple(settings.skip);
    if (skip == NULL) {
        Py_CLEAR(result);
        goto done;
    }
    PyObject *dump;
    if (settings.dump_signal) {
        dump = PyLong_FromLong(settings.dump_signal);
        if (dump == NULL) {
            Py_DECREF(skip);
            Py_CLEAR(result);
            goto done;
        }
    }
    else {
        dump = Py_None;
    }
    PyObject *depth = PyLong_FromLong(settings.depth);
    PyObject *chain = PyLong_FromLong(settings.chain);
    if (depth == NULL || chain == NULL) {
        Py_XDECREF(depth);
        Py_XDECREF(chain);
        Py_DECREF(skip);
        Py_DECREF(dump);
        Py_CLEAR(result);
        goto done;
    }
    PyStructSequence_SET_ITEM(result, 0, depth);
    PyStructSequence_SET_ITEM(result, 1, chain);
    PyStructSequence_SET_ITEM(result, 2, PyBool_FromLong(settings.asyncgen));
    PyStructSequence_SET_ITEM(result, 3, PyBool_FromLong(settings.notes));
    PyStructSequence_SET_ITEM(result, 4, skip);
    PyStructSequence_SET_ITEM(result, 5, dump);

done:
    _PyCoroOrigin_ClearSettings(&settings);
    return result;
}

/* depth=, chain=: an int (not a bool) from 0 to INT_MAX. */
static int
convert_count(PyObject *obj, const char *name, int *result)
{
    if (PyBool_Check(obj) || !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.200s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *index = PyNumber_Index(obj);
    if (index == NULL) {
        return -1;
    }
    int overflow;
    long value = PyLong_AsLongAndOverflow(index, &overflow);
    Py_DECREF(index);
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
    *result = (int)value;
    return 0;
}

/* asyncgen=, notes=: True, False, 1 or 0. */
static int
convert_flag(PyObject *obj, const char *name, int *result)
{
    if (PyBool_Check(obj)) {
        *result = (obj == Py_True);
        return 0;
    }
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a bool, not %.200s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long value = PyLong_AsLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || (value != 0 && value != 1)) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be True, False, 1 or 0", name);
        return -1;
    }
    *result = (int)value;
    return 0;
}

/* skip=: a str "a:b" or an iterable of str module names.  Set "*result"
   to a new reference, or to NULL for an empty iterable. */
static int
convert_skip(PyObject *obj, _PyCoroOriginSkip **result)
{
    char reason[200];
    if (PyUnicode_Check(obj)) {
        if (!PyUnicode_IS_ASCII(obj)) {
            PyErr_Format(PyExc_ValueError,
                         "skip: %R: non-ASCII character", obj);
            return -1;
        }
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (s == NULL) {
            return -1;
        }
        if (parse_skip(s, len, result, reason, sizeof(reason)) < 0) {
            PyErr_Format(PyExc_ValueError, "skip: %s", reason);
            return -1;
        }
        return 0;
    }
    if (PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "skip must be a str or an iterable of str, not %.200s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }

    PyObject *seq = PySequence_Fast(
        obj, "skip must be a str or an iterable of str");
    if (seq == NULL) {
        return -1;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (count == 0) {
        Py_DECREF(seq);
        *result = NULL;
        return 0;
    }
    skip_name *spans = PyMem_Malloc(count * sizeof(skip_name));
    if (spans == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError,
                         "skip items must be str, not %.200s",
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        if (!PyUnicode_IS_ASCII(item)) {
            PyErr_Format(PyExc_ValueError,
                         "skip: %R is not a module name "
                         "(non-ASCII character)", item);
            goto error;
        }
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(item, &len);
        if (s == NULL) {
            goto error;
        }
        if (!is_module_name(s, len)) {
            PyErr_Format(PyExc_ValueError,
                         "skip: %R is not a module name", item);
            goto error;
        }
        /* "seq" keeps the str objects, and so their UTF-8, alive */
        spans[i].str = s;
        spans[i].len = len;
    }
    *result = skip_new(spans, count);
    PyMem_Free(spans);
    Py_DECREF(seq);
    if (*result == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;

error:
    PyMem_Free(spans);
    Py_DECREF(seq);
    return -1;
}

PyObject *
_PyCoroOrigin_SetTracking(PyThreadState *tstate, int for_default,
                          PyObject *depth_obj, PyObject *chain_obj,
                          PyObject *asyncgen_obj, PyObject *notes_obj,
                          PyObject *skip_obj)
{
    /* -1: keep the current value */
    int depth = -1, chain = -1, asyncgen = -1, notes = -1;
    _PyCoroOriginSkip *skip = NULL;
    int set_skip = (skip_obj != Py_None);

    /* Check everything before changing anything. */
    if (depth_obj != Py_None
        && convert_count(depth_obj, "depth", &depth) < 0)
    {
        return NULL;
    }
    if (chain_obj != Py_None
        && convert_count(chain_obj, "chain", &chain) < 0)
    {
        return NULL;
    }
    if (asyncgen_obj != Py_None
        && convert_flag(asyncgen_obj, "asyncgen", &asyncgen) < 0)
    {
        return NULL;
    }
    if (notes_obj != Py_None
        && convert_flag(notes_obj, "notes", &notes) < 0)
    {
        return NULL;
    }
    if (set_skip && convert_skip(skip_obj, &skip) < 0) {
        return NULL;
    }

    struct _PyCoroOrigin_config_state *state =
        &tstate->interp->coro_origin_config;
    _PyCoroOriginSettings *settings;
    if (for_default) {
        settings = &state->default_settings;
        PyMutex_LockFlags(&state->mutex, _Py_LOCK_DONT_DETACH);
        if (depth >= 0) {
            settings->depth = depth;
        }
    }
    else {
        settings = _PyCoroOrigin_ThreadSettings(tstate);
        if (depth >= 0) {
            tstate->coroutine_origin_tracking_depth = depth;
        }
    }
    if (chain >= 0) {
        settings->chain = chain;
    }
    if (asyncgen >= 0) {
        settings->asyncgen = asyncgen;
    }
    if (notes >= 0) {
        settings->notes = notes;
    }
    if (set_skip) {
        _PyCoroOriginSkip *old = settings->skip;
        settings->skip = skip;
        skip = old;             /* released below, outside the lock */
    }
    if (for_default) {
        PyMutex_Unlock(&state->mutex);
    }
    skip_decref(skip);
    Py_RETURN_NONE;
}
