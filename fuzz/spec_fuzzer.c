/* origin-python: libFuzzer target for the coroutine origin spec parser.
 *
 * This file is part of origin-python, not of upstream CPython.  tools/fuzz
 * builds it with clang -fsanitize=fuzzer,address,undefined together with
 * Python/coro_origin_config.c (instrumented the same way) and the release
 * build's libpython without its own coro_origin_config.o.
 *
 * Each input is bytes, decoded as UTF-8 where it is valid and with
 * surrogateescape (U+DC80..U+DCFF) where it is not, as Py_DecodeLocale()
 * does with a UTF-8 locale; code points up to U+10FFFF and NUL can occur.
 * The parsers get it three ways:
 *
 *  - _PyCoroOrigin_ParseSpec() on the text up to the first NUL (the spec
 *    of a start-up layer), then again with a small error buffer of exactly
 *    the size it is told, and again with the raw allocator failing;
 *  - _PyCoroOrigin_ParseSkip() and _PyCoroOrigin_ParseSignal() on the
 *    whole text, NULs included (the sys API passes a length).
 *
 * What is checked (a violation aborts, which libFuzzer reports as a crash
 * with the input saved):
 *
 *  - success: every field is in range, the skip list is well formed, the
 *    result agrees with an independent reading of the items (below), and
 *    a canonical spec made from the result parses to the same result;
 *  - failure: the result is untouched, the message is NUL-terminated
 *    within the buffer and names the first bad item (its number for an
 *    empty item, else its text, quoted), and a smaller buffer gets a
 *    prefix of the same message;
 *  - allocation failure: reported as an error ("out of memory", -2 from
 *    ParseSkip), never as success or as a syntax error;
 *  - memory: ASan/LSan see every block; what a successful parse returns
 *    is released, so a leak in the parser is a leak here.
 */

#include "Python.h"
#include "pycore_coro_origin_config.h"
#include "pycore_signal.h"        // Py_NSIG

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define MAX_CHARS 4096            /* longer inputs are cut */
#define ERRSIZE 512               /* ample for every message */

static void
fail(const char *what, const wchar_t *text, size_t len, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\nspec_fuzzer: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ninput (%zu characters):", len);
    for (size_t i = 0; i < len && i < 200; i++) {
        fprintf(stderr, " %lx", (unsigned long)text[i]);
    }
    fprintf(stderr, "\n");
    abort();
}

#define CHECK(cond, text, len, ...) \
    do { if (!(cond)) fail(#cond, text, len, __VA_ARGS__); } while (0)


/* ---- A raw allocator that can be told to fail --------------------------- */

static PyMemAllocatorEx raw_orig;
static int raw_failing;           /* 1: every raw allocation fails */
static long raw_live;             /* blocks allocated and not yet freed */

static void *
raw_malloc(void *ctx, size_t size)
{
    if (raw_failing) {
        return NULL;
    }
    void *p = raw_orig.malloc(raw_orig.ctx, size);
    raw_live += (p != NULL);
    return p;
}

static void *
raw_calloc(void *ctx, size_t nelem, size_t elsize)
{
    if (raw_failing) {
        return NULL;
    }
    void *p = raw_orig.calloc(raw_orig.ctx, nelem, elsize);
    raw_live += (p != NULL);
    return p;
}

static void *
raw_realloc(void *ctx, void *ptr, size_t size)
{
    if (raw_failing) {
        return NULL;
    }
    void *p = raw_orig.realloc(raw_orig.ctx, ptr, size);
    raw_live += (ptr == NULL && p != NULL);
    return p;
}

static void
raw_free(void *ctx, void *ptr)
{
    raw_live -= (ptr != NULL);
    raw_orig.free(raw_orig.ctx, ptr);
}

/* Flags (items without a value) that the parser lists in its "unknown
   item (expected ...)" message besides asyncgen, tracebacks and full: an item
   added to the language is accepted here without a change to this file;
   only its own setting goes unchecked. */
#define MAX_EXTRA 8
static char extra_flags[MAX_EXTRA][32];
static int n_extra;

static void
learn_flags(void)
{
    char errbuf[ERRSIZE];
    _PyCoroOriginSpec s = {0};
    const char *list;
    if (_PyCoroOrigin_ParseSpec(L"?", &s, errbuf, sizeof(errbuf)) != -1
        || (list = strstr(errbuf, "(expected ")) == NULL)
    {
        fprintf(stderr, "spec_fuzzer: unexpected message for '?': %s\n",
                errbuf);
        abort();
    }
    list += strlen("(expected ");
    while (*list != '\0' && *list != ')') {
        size_t n = strcspn(list, ",)");
        const char *word = list;
        if (n > 3 && strncmp(word, "or ", 3) == 0) {
            word += 3;
            n -= 3;
        }
        if (memchr(word, '=', n) == NULL && n < sizeof(extra_flags[0])
            && !(n == 1 && word[0] == 'N')
            && !(n == 8 && strncmp(word, "asyncgen", 8) == 0)
            && !(n == 10 && strncmp(word, "tracebacks", 10) == 0)
            && !(n == 4 && strncmp(word, "full", 4) == 0)
            && n_extra < MAX_EXTRA)
        {
            memcpy(extra_flags[n_extra], word, n);
            extra_flags[n_extra++][n] = '\0';
        }
        list += n;
        list += strspn(list, ", ");
    }
}

static int
is_extra_flag(const wchar_t *s, size_t len)
{
    for (int i = 0; i < n_extra; i++) {
        size_t n = strlen(extra_flags[i]);
        size_t k = 0;
        while (k < n && k < len && s[k] == (wchar_t)extra_flags[i][k]) {
            k++;
        }
        if (k == n && n == len) {
            return 1;
        }
    }
    return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* The parsers need no interpreter: only the raw allocator, which
       works before Python is initialised. */
    PyMemAllocatorEx alloc = {NULL, raw_malloc, raw_calloc, raw_realloc,
                              raw_free};
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw_orig);
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &alloc);
    learn_flags();
    return 0;
}


/* ---- Decoding ------------------------------------------------------------ */

/* UTF-8 where valid (no overlong forms, no surrogates, at most U+10FFFF),
   else one U+DC80..U+DCFF per byte.  Return the number of characters. */
static size_t
decode(const uint8_t *data, size_t size, wchar_t *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < size && n < max) {
        uint8_t b = data[i];
        unsigned long c = 0;
        size_t more = 0;
        if (b < 0x80) {
            out[n++] = b;
            i++;
            continue;
        }
        if (0xc2 <= b && b <= 0xdf) { c = b & 0x1f; more = 1; }
        else if (0xe0 <= b && b <= 0xef) { c = b & 0x0f; more = 2; }
        else if (0xf0 <= b && b <= 0xf4) { c = b & 0x07; more = 3; }
        size_t j = 1;
        while (more && j <= more && i + j < size
               && (data[i + j] & 0xc0) == 0x80)
        {
            c = (c << 6) | (data[i + j] & 0x3f);
            j++;
        }
        if (more == 0 || j != more + 1
            || (more == 2 && c < 0x800) || (more == 3 && c < 0x10000)
            || (0xd800 <= c && c <= 0xdfff) || c > 0x10ffff)
        {
            out[n++] = (wchar_t)(0xdc00 + b);
            i++;
            continue;
        }
        out[n++] = (wchar_t)c;
        i += more + 1;
    }
    return n;
}


/* ---- An independent reading of a spec ------------------------------------ */

static int
span_eq(const wchar_t *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] != (wchar_t)(unsigned char)word[i]) {
            return 0;
        }
    }
    return 1;
}

static int
starts_with(const wchar_t *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && span_eq(s, n, word);
}

/* Digits only, at most INT_MAX: the value, else -1. */
static long long
number(const wchar_t *s, size_t len)
{
    long long v = 0;
    if (len == 0) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < L'0' || s[i] > L'9') {
            return -1;
        }
        v = v * 10 + (s[i] - L'0');
        if (v > INT_MAX) {
            return -1;
        }
    }
    return v;
}

static int
is_refused(int sig)
{
    return sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV
           || sig == SIGBUS || sig == SIGFPE || sig == SIGILL
           || sig == SIGABRT
           /* below the real-time signals, a number the C library gives no
              name: kept for itself (glibc's 32 and 33) */
           || (sig >= 1 && sig < SIGRTMIN && sigabbrev_np(sig) == NULL);
}

/* The signal a dump= value names, for the forms this reading knows (a
   number, a few names, SIGRTMIN+N, SIGRTMAX-N); 0 if it does not know. */
static int
known_signal(const wchar_t *s, size_t len)
{
    static const struct { const char *name; int sig; } names[] = {
        {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGHUP", SIGHUP},
        {"SIGINT", SIGINT}, {"SIGTERM", SIGTERM}, {"SIGQUIT", SIGQUIT},
        {"SIGALRM", SIGALRM}, {"SIGWINCH", SIGWINCH}, {"SIGCHLD", SIGCHLD},
        {"SIGPIPE", SIGPIPE}, {"SIGKILL", SIGKILL}, {"SIGSEGV", SIGSEGV},
    };
    long long v = number(s, len);
    if (v >= 0) {
        return (int)v;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (span_eq(s, len, names[i].name)) {
            return names[i].sig;
        }
    }
    if (span_eq(s, len, "SIGRTMIN")) {
        return SIGRTMIN;
    }
    if (span_eq(s, len, "SIGRTMAX")) {
        return SIGRTMAX;
    }
    if ((starts_with(s, len, "SIGRTMIN+") || starts_with(s, len, "SIGRTMAX-"))
        && (v = number(s + 9, len - 9)) >= 0 && v <= SIGRTMAX - SIGRTMIN)
    {
        return s[6] == L'I' ? SIGRTMIN + (int)v : SIGRTMAX - (int)v;
    }
    return 0;
}

/* Does the skip list hold exactly the names of s[0:len] ("a:b.c")? */
static int
skip_is(const _PyCoroOriginSkip *skip, const wchar_t *s, size_t len)
{
    size_t pos = 0;
    for (Py_ssize_t k = 0; k < skip->count; k++) {
        size_t n = (size_t)skip->names[k].len;
        if (k > 0) {
            if (pos >= len || s[pos] != L':') {
                return 0;
            }
            pos++;
        }
        if (pos + n > len) {
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (s[pos + i] != (wchar_t)(unsigned char)skip->names[k].str[i]) {
                return 0;
            }
        }
        pos += n;
    }
    return pos == len;
}

/* A well-formed skip list: count >= 1, each name a non-empty dotted name
   of ASCII identifiers, NUL-terminated at its length. */
static void
check_skip(const _PyCoroOriginSkip *skip, const wchar_t *text, size_t len)
{
    CHECK(skip->refcnt == 1, text, len, "refcnt %zd", skip->refcnt);
    CHECK(skip->count >= 1, text, len, "count %zd", skip->count);
    for (Py_ssize_t k = 0; k < skip->count; k++) {
        const char *name = skip->names[k].str;
        Py_ssize_t n = skip->names[k].len;
        CHECK(n >= 1 && (Py_ssize_t)strlen(name) == n, text, len,
              "name %zd: len %zd, strlen %zu", k, n, strlen(name));
        int dot = 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            char c = name[i];
            int ident = (c == '_' || ('a' <= c && c <= 'z')
                         || ('A' <= c && c <= 'Z'));
            int digit = ('0' <= c && c <= '9');
            CHECK(dot ? ident : (ident || digit || c == '.'), text, len,
                  "name %zd: %s", k, name);
            dot = (c == '.');
        }
        CHECK(!dot, text, len, "name %zd ends with a dot: %s", k, name);
    }
}

/* Check a successful parse of spec[0:len] against the items. */
static void
check_accepted(const wchar_t *spec, size_t len,
               const _PyCoroOriginSpec *s)
{
    /* a spec that names no depth gets 10 (asyncio's DEBUG_STACK_DEPTH) */
    int depth = 10, chain = 0, asyncgen = 0, tracebacks = 0, full = 0;
    int dump = 0, dump_known = 1;
    const wchar_t *skip = NULL;
    size_t skiplen = 0;
    const _PyCoroOriginThread *t = &s->thread;

    CHECK(len > 0, spec, len, "empty spec accepted");
    CHECK(s->depth >= 0 && t->chain >= 0, spec, len, "depth %d chain %d",
          s->depth, t->chain);
    CHECK((t->asyncgen | t->tracebacks | t->full) <= 1
          && (t->asyncgen | t->tracebacks | t->full) >= 0, spec, len,
          "flags %d %d %d", t->asyncgen, t->tracebacks, t->full);
    CHECK(s->startup.dump_signal == 0
          || (s->startup.dump_signal >= 1 && s->startup.dump_signal < Py_NSIG
              && !is_refused(s->startup.dump_signal)), spec, len,
          "dump signal %d", s->startup.dump_signal);
    if (t->skip != NULL) {
        check_skip(t->skip, spec, len);
    }
    for (size_t start = 0; start <= len; ) {
        size_t n = 0;
        while (start + n < len && spec[start + n] != L',') {
            n++;
        }
        const wchar_t *item = spec + start;
        CHECK(n > 0, spec, len, "empty item at %zu accepted", start);
        for (size_t i = 0; i < n; i++) {
            CHECK(item[i] > 0 && item[i] < 0x80, spec, len,
                  "non-ASCII character accepted");
        }
        long long v;
        if ((v = number(item, n)) >= 0) {
            depth = (int)v;
        }
        else if (starts_with(item, n, "depth=")
                 && (v = number(item + 6, n - 6)) >= 0)
        {
            depth = (int)v;
        }
        else if (starts_with(item, n, "chain=")
                 && (v = number(item + 6, n - 6)) >= 0)
        {
            chain = (int)v;
        }
        else if (span_eq(item, n, "asyncgen")) {
            asyncgen = 1;
        }
        else if (span_eq(item, n, "tracebacks")
                 || span_eq(item, n, "notes"))   /* its earlier name */
        {
            tracebacks = 1;
        }
        else if (span_eq(item, n, "full")) {
            full = 1;
        }
        else if (starts_with(item, n, "skip=")) {
            skip = item + 5;
            skiplen = n - 5;
        }
        else if (starts_with(item, n, "dump=")) {
            dump = known_signal(item + 5, n - 5);
            dump_known = (dump != 0);
        }
        else if (is_extra_flag(item, n)) {
            /* a flag this file does not know; its setting is not checked */
        }
        else {
            fail("unknown item accepted", spec, len, "at %zu", start);
        }
        start += n + 1;
    }
    CHECK(s->depth == depth && t->chain == chain && t->asyncgen == asyncgen
          && t->tracebacks == tracebacks && t->full == full, spec, len,
          "got %d %d %d %d %d, items say %d %d %d %d %d",
          s->depth, t->chain, t->asyncgen, t->tracebacks, t->full,
          depth, chain, asyncgen, tracebacks, full);
    CHECK((skip == NULL) == (t->skip == NULL)
          && (skip == NULL || skip_is(t->skip, skip, skiplen)), spec, len,
          "skip list differs from the item");
    CHECK(!dump_known || s->startup.dump_signal == dump, spec, len,
          "dump signal %d, item says %d", s->startup.dump_signal, dump);
}

/* Make a canonical spec from "s": every setting, explicitly. */
static size_t
canonical(const _PyCoroOriginSpec *s, wchar_t *out, size_t size)
{
    const _PyCoroOriginThread *t = &s->thread;
    char buf[MAX_CHARS + 200];
    int n = snprintf(buf, sizeof(buf), "depth=%d,chain=%d%s%s%s",
                     s->depth, t->chain, t->asyncgen ? ",asyncgen" : "",
                     t->tracebacks ? ",tracebacks" : "",
                     t->full ? ",full" : "");
    if (t->skip != NULL) {
        n += snprintf(buf + n, sizeof(buf) - n, ",skip=");
        for (Py_ssize_t k = 0; k < t->skip->count; k++) {
            n += snprintf(buf + n, sizeof(buf) - n, "%s%s", k ? ":" : "",
                          t->skip->names[k].str);
        }
    }
    if (s->startup.dump_signal) {
        n += snprintf(buf + n, sizeof(buf) - n, ",dump=%d",
                      s->startup.dump_signal);
    }
    size_t i;
    for (i = 0; buf[i] != '\0' && i + 1 < size; i++) {
        out[i] = (unsigned char)buf[i];
    }
    out[i] = L'\0';
    return i;
}

static int
same_settings(const _PyCoroOriginSpec *a, const _PyCoroOriginSpec *b)
{
    const _PyCoroOriginThread *ta = &a->thread, *tb = &b->thread;
    if (a->depth != b->depth || ta->chain != tb->chain
        || ta->asyncgen != tb->asyncgen || ta->tracebacks != tb->tracebacks
        || ta->full != tb->full
        || a->startup.dump_signal != b->startup.dump_signal
        || (ta->skip == NULL) != (tb->skip == NULL))
    {
        return 0;
    }
    if (ta->skip == NULL) {
        return 1;
    }
    if (ta->skip->count != tb->skip->count) {
        return 0;
    }
    for (Py_ssize_t k = 0; k < ta->skip->count; k++) {
        if (ta->skip->names[k].len != tb->skip->names[k].len
            || strcmp(ta->skip->names[k].str, tb->skip->names[k].str) != 0)
        {
            return 0;
        }
    }
    return 1;
}


/* ---- Error messages ------------------------------------------------------ */

static int
hexval(char c)
{
    if ('0' <= c && c <= '9') return c - '0';
    if ('a' <= c && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Does the quoted text q[0:qlen] (between the quotes) stand for the item
   s[0:n], or for its beginning if the quote was cut ("...")?  \xNN stands
   for U+00NN or for the surrogateescape character of byte NN. */
static int
quote_matches(const char *q, size_t qlen, const wchar_t *s, size_t n)
{
    size_t i = 0, k = 0;
    int cut = qlen >= 3 && memcmp(q + qlen - 3, "...", 3) == 0;
    if (cut) {
        qlen -= 3;
    }
    while (i < qlen) {
        unsigned long c;
        if (q[i] == '\\') {
            size_t digits = 0;
            if (i + 1 < qlen) {
                digits = q[i + 1] == 'x' ? 2 : q[i + 1] == 'u' ? 4
                         : q[i + 1] == 'U' ? 8 : 0;
            }
            if (digits == 0 || i + 2 + digits > qlen) {
                return 0;
            }
            c = 0;
            for (size_t d = 0; d < digits; d++) {
                int h = hexval(q[i + 2 + d]);
                if (h < 0) {
                    return 0;
                }
                c = c * 16 + h;
            }
            i += 2 + digits;
            if (k >= n) {
                return 0;
            }
            unsigned long actual = (unsigned long)s[k];
            if (!(actual == c
                  || (digits == 2 && c >= 0x80 && actual == 0xdc00 + c)))
            {
                return 0;
            }
        }
        else {
            if (q[i] == '\'' || (unsigned char)q[i] < 0x20
                || (unsigned char)q[i] >= 0x7f || k >= n
                || s[k] != (wchar_t)q[i])
            {
                return 0;
            }
            i++;
        }
        k++;
    }
    return cut ? k < n : k == n;
}

/* Check the message of a rejected spec[0:len]. */
static void
check_rejected(const wchar_t *spec, size_t len, const char *msg)
{
    CHECK(memchr(msg, '\0', ERRSIZE) != NULL, spec, len, "no NUL");
    if (len == 0) {
        CHECK(strcmp(msg, "empty spec") == 0, spec, len, "%s", msg);
        return;
    }
    CHECK(strncmp(msg, "item ", 5) == 0, spec, len, "message: %s", msg);
    const char *p = msg + 5;
    /* The items, in order: which one does the message name? */
    size_t number = 0, item_start = 0, item_len = 0;
    int found = 0;
    if ('1' <= *p && *p <= '9') {
        char *end;
        unsigned long want = strtoul(p, &end, 10);
        CHECK(strncmp(end, " is empty (", 11) == 0, spec, len, "%s", msg);
        for (size_t start = 0, k = 1; start <= len; k++) {
            size_t n = 0;
            while (start + n < len && spec[start + n] != L',') {
                n++;
            }
            if (n == 0) {
                /* the first empty item is the one reported */
                CHECK(k == want, spec, len, "item %zu is the first empty "
                      "one: %s", k, msg);
                const char *why = k == 1 ? "(leading comma)"
                                  : start + n == len ? "(trailing comma)"
                                  : "(',,')";
                CHECK(strcmp(end + 10, why) == 0, spec, len, "%s", msg);
                return;
            }
            start += n + 1;
        }
        fail("no empty item", spec, len, "%s", msg);
    }
    CHECK(*p == '\'', spec, len, "message: %s", msg);
    const char *close = strchr(p + 1, '\'');
    CHECK(close != NULL && strncmp(close, "': ", 3) == 0 && close[3] != '\0',
          spec, len, "message: %s", msg);
    for (size_t start = 0; start <= len; ) {
        size_t n = 0;
        while (start + n < len && spec[start + n] != L',') {
            n++;
        }
        number++;
        /* an empty item before the named one would have been named */
        CHECK(n > 0, spec, len, "item %zu is empty, yet: %s", number, msg);
        if (quote_matches(p + 1, (size_t)(close - p - 1), spec + start, n)) {
            found = 1;
            item_start = start;
            item_len = n;
            break;
        }
        start += n + 1;
    }
    CHECK(found, spec, len, "no item matches: %s", msg);
    (void)item_start;
    (void)item_len;
}


/* ---- The three parsers --------------------------------------------------- */

static void
fuzz_spec(const wchar_t *spec, size_t len)
{
    char errbuf[ERRSIZE];
    _PyCoroOriginSpec sentinel, result;
    memset(&sentinel, 0x5a, sizeof(sentinel));
    sentinel.thread.skip = NULL;
    result = sentinel;
    memset(errbuf, 0x7f, sizeof(errbuf));
    long live = raw_live;

    int rc = _PyCoroOrigin_ParseSpec(spec, &result, errbuf, sizeof(errbuf));
    if (rc == 0) {
        check_accepted(spec, len, &result);
        CHECK(raw_live == live + (result.thread.skip != NULL), spec, len,
              "blocks: %ld before, %ld after", live, raw_live);
        /* round trip through a canonical spec */
        static wchar_t again[MAX_CHARS + 200];
        size_t n = canonical(&result, again, sizeof(again) / sizeof(again[0]));
        _PyCoroOriginSpec parsed = {0};
        int rc2 = _PyCoroOrigin_ParseSpec(again, &parsed, errbuf,
                                          sizeof(errbuf));
        CHECK(rc2 == 0 && same_settings(&result, &parsed), again, n,
              "canonical spec does not round-trip (rc %d: %s)", rc2,
              rc2 ? errbuf : "");
        _PyCoroOrigin_ClearSpec(&parsed);

        /* out of memory: an error, never a success, when a list is made */
        if (result.thread.skip != NULL) {
            _PyCoroOriginSpec failed = sentinel;
            raw_failing = 1;
            rc2 = _PyCoroOrigin_ParseSpec(spec, &failed, errbuf,
                                          sizeof(errbuf));
            raw_failing = 0;
            CHECK(rc2 == -1 && memcmp(&failed, &sentinel,
                                      sizeof(failed)) == 0, spec, len,
                  "allocation failure: rc %d", rc2);
            CHECK(strstr(errbuf, "skip=") != NULL
                  && strstr(errbuf, ": out of memory") != NULL, spec, len,
                  "allocation failure: %s", errbuf);
        }
        _PyCoroOrigin_ClearSpec(&result);
        CHECK(raw_live == live, spec, len, "leak: %ld blocks",
              raw_live - live);
        return;
    }
    CHECK(rc == -1, spec, len, "rc %d", rc);
    CHECK(memcmp(&result, &sentinel, sizeof(result)) == 0, spec, len,
          "result changed on error: %s", errbuf);
    CHECK(raw_live == live, spec, len, "leak on error: %ld blocks",
          raw_live - live);
    check_rejected(spec, len, errbuf);

    /* A buffer of exactly "size" bytes gets a prefix of the message. */
    size_t full = strlen(errbuf);
    size_t size = 1 + (len * 7 + full) % (full + 2);
    char *small = malloc(size);
    rc = _PyCoroOrigin_ParseSpec(spec, &result, small, size);
    CHECK(rc == -1 && memcmp(&result, &sentinel, sizeof(result)) == 0
          && strlen(small) == (size - 1 < full ? size - 1 : full)
          && strncmp(small, errbuf, strlen(small)) == 0, spec, len,
          "size %zu: '%s' vs '%s'", size, small, errbuf);
    free(small);

    /* The raw allocator failing changes nothing for a spec that is bad
       anyway, unless its first bad item comes after a valid skip=. */
    raw_failing = 1;
    rc = _PyCoroOrigin_ParseSpec(spec, &result, errbuf, sizeof(errbuf));
    raw_failing = 0;
    CHECK(rc == -1 && memcmp(&result, &sentinel, sizeof(result)) == 0,
          spec, len, "rc %d", rc);
    CHECK(raw_live == live, spec, len, "leak: %ld blocks", raw_live - live);
}

static void
fuzz_skip(const wchar_t *s, size_t len)
{
    char errbuf[ERRSIZE];
    _PyCoroOriginSkip *skip = (_PyCoroOriginSkip *)&errbuf;  /* sentinel */
    _PyCoroOriginSkip *sentinel = skip;
    int rc = _PyCoroOrigin_ParseSkip(s, (Py_ssize_t)len, &skip, errbuf,
                                     sizeof(errbuf));
    if (rc == 0) {
        CHECK(skip != sentinel, s, len, "no result");
        check_skip(skip, s, len);
        CHECK(skip_is(skip, s, len), s, len, "names differ from the text");
        /* and the spec item says the same */
        static wchar_t item[MAX_CHARS + 8];
        wcscpy(item, L"skip=");
        wmemcpy(item + 5, s, len);
        item[5 + len] = L'\0';
        _PyCoroOriginSpec parsed = {0};
        char err2[ERRSIZE];
        int rc2 = _PyCoroOrigin_ParseSpec(item, &parsed, err2, sizeof(err2));
        CHECK(rc2 == 0 && parsed.thread.skip != NULL
              && skip_is(parsed.thread.skip, s, len), s, len,
              "skip= item: rc %d %s", rc2, rc2 ? err2 : "");
        _PyCoroOrigin_ClearSpec(&parsed);
        _PyCoroOriginSpec tmp = {0};
        tmp.thread.skip = skip;
        _PyCoroOrigin_ClearSpec(&tmp);
        /* out of memory is -2, never a success */
        skip = sentinel;
        raw_failing = 1;
        rc = _PyCoroOrigin_ParseSkip(s, (Py_ssize_t)len, &skip, errbuf,
                                     sizeof(errbuf));
        raw_failing = 0;
        CHECK(rc == -2 && skip == sentinel
              && strcmp(errbuf, "out of memory") == 0, s, len,
              "allocation failure: rc %d", rc);
        return;
    }
    CHECK(rc == -1 && skip == sentinel, s, len, "rc %d", rc);
    CHECK(errbuf[0] != '\0' && strlen(errbuf) < sizeof(errbuf), s, len,
          "message");
    CHECK(strcmp(errbuf, "no module name") == 0
          || strcmp(errbuf, "empty module name") == 0
          || strstr(errbuf, "' is not a module name") != NULL, s, len,
          "message: %s", errbuf);
}

static void
fuzz_signal(const wchar_t *s, size_t len)
{
    char errbuf[ERRSIZE];
    int signum = -12345;
    int rc = _PyCoroOrigin_ParseSignal(s, (Py_ssize_t)len, &signum, errbuf,
                                       sizeof(errbuf));
    if (rc == 0) {
        CHECK(signum >= 1 && signum < Py_NSIG && !is_refused(signum),
              s, len, "signal %d", signum);
        int known = known_signal(s, len);
        CHECK(known == 0 || known == signum, s, len, "signal %d, not %d",
              signum, known);
        CHECK(len > 0 && (number(s, len) >= 0 || s[0] == L'S'), s, len,
              "accepted text");
        return;
    }
    CHECK(rc == -1 && signum == -12345, s, len, "rc %d", rc);
    CHECK(errbuf[0] != '\0' && strlen(errbuf) < sizeof(errbuf), s, len,
          "message");
    /* a signal that this reading knows and that is meant for users */
    int known = known_signal(s, len);
    CHECK(known < 1 || known >= Py_NSIG || is_refused(known), s, len,
          "signal %d refused: %s", known, errbuf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wchar_t text[MAX_CHARS + 1];
    size_t len = decode(data, size, text, MAX_CHARS);
    text[len] = L'\0';
    fuzz_spec(text, wcslen(text));
    fuzz_skip(text, len);
    fuzz_signal(text, len);
    return 0;
}
