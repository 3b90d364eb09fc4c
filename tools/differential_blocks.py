"""What tools/differential compares: normalisation, and the parser that
removes the fork's own report blocks from its output.

The parser knows the exact layouts that Lib/_coro_origin_report.py, the
asyncio reports (Lib/asyncio/_origin.py, base_tasks.py) and strict mode's
summary (Python/coro_origin_strict.c) print, and removes a block only if
every line of it has that layout.  Anything else stays, so that a line the
fork prints instead of stock's, or a block in a shape nobody wrote down,
shows up in the comparison.  Its layouts:

* a creation-site block (the unawaited-coroutine warning, asyncio's
  reports "Task was destroyed but it is pending!" / "... exception was
  never retrieved", the warning of an async generator method never
  awaited):

      PHeader
      P  File "FILE", line N, in FUNC
      P    SOURCE LINE            (only if it is that line of FILE)
      P  [K frames folded: asyncio, runpy]
      P  [Previous line repeated K more times]
      P... spawned from 'QUALNAME', created at (most recent call last)
      P  File ...                 (a site, as above)
      P... spawned from 'QUALNAME' (creation site not recorded)
      P... in a callback scheduled at (most recent call last)
      P  File ...                 (a site, as above)

  A chain entry's site may start with "P  ... N frames as above" (N >= 2:
  the oldest frames that the site above it shows too); an entry whose
  site the site above shows whole is one line, "P... spawned from
  'QUALNAME', created at FILE:LINE (shown above)".

  where Header is "Coroutine created at (most recent call last)", "Async
  generator created at (most recent call last)", "Future created at
  (most recent call last)", or for a coroutine or async generator that
  the event loop made by calling its function as a callback, "... created
  by the event loop, calling the callback scheduled at (most recent call
  last)" (or by an executor's worker thread, "... created by an
  executor's worker thread, calling the function submitted at (most recent
  call last)"), and P is the line prefix of where it is printed
  ("" in reports and warnings; spaces and "|" margins inside exception
  groups).  A site may also be one of the lines "(creation site not
  recorded)", "(every frame of this site was skipped by skip=)" or
  "(creation site could not be read)".

* the exception-origin block of a traceback ("tracebacks"): the line
  "PThe exception escaped coroutine 'QUALNAME'." followed by a
  creation-site block with the same prefix;

* the cancellation block of a CancelledError's traceback (the request
  that asyncio._origin kept):

      PCancellation requested at (most recent call last)
      P  File ...                 (a site, as above)
      P  by task 'NAME' (created at FILE:LINE)[, thread 'NAME']
         or: P  by task 'NAME'[, thread 'NAME']
         or: P  outside any task (by an event loop callback)[, thread 'NAME']
         or: P  outside any task (no event loop running)[, thread 'NAME']
      P  because REASON           (only if asyncio itself asked)
      P  (N requests; the first is shown)    (only if N > 1)

* the block of "Event loop stopped before Future completed." (where
  loop.stop() was called), and of "Task was destroyed but it is
  pending!" of a task whose loop was stopped, as a cancellation block
  with "PEvent loop stopped at (most recent call last)" for its header
  (no "because" or count lines in practice);

* the report of a call_soon() or call_at() from another thread than the
  loop's (or from a signal handler run during the loop's select()): its
  message line, "called_at: FILE:LINE" and "loop_thread:
  'NAME', loop started at FILE:LINE";

* the report of a wait on a run_coroutine_threadsafe() future from its
  own loop's thread: its message line, "scheduled_at: 'FILE:LINE'" and
  "waited_at: 'FILE:LINE'";

* the report of an exception that a run_coroutine_threadsafe() future
  dropped: "Future exception was never retrieved", "dropped_by: 'the
  concurrent.futures.Future that run_coroutine_threadsafe() at FILE:LINE
  returned was collected (or: was still referenced at exit) without its
  result() or exception() read'" and a whole traceback;

* the report of an exception that cancel() would drop (stock clears the
  flag that reports it when the task or future is collected, and prints
  nothing), logged by the loop's exception handler:

      Task exception was never retrieved      (or "Future ...")
      dropped_by: 'cancel() called at FILE:LINE after it failed'
      future: <...>
      (creation-site block, as above)
      Traceback (most recent call last):      (a whole traceback, chained
        ...                                    ones included, to its last
      ExcType: message                         exception line)

* " created at FILE:LINE" at the end of a task's repr (right before its
  closing ">"), where FILE:LINE is a line of an existing file; only when
  the program does not use asyncio's debug mode, whose reprs have stock's
  own "created at"; and " cancel requested at FILE:LINE" there, in every
  mode;

* strict mode's summary, the last thing written to stderr:

      (empty line)
      origin-python strict: N problem(s) of lost asyncio work (exit status S)
        N KIND                    (one line per kind)
      (empty line)
      [1] MESSAGE
          INDENTED LINES
      ...
"""

import linecache
import os
import re

HEADERS = ('Coroutine created at (most recent call last)',
           'Async generator created at (most recent call last)',
           'Future created at (most recent call last)',
           'Coroutine created by the event loop, calling the callback '
           'scheduled at (most recent call last)',
           'Async generator created by the event loop, calling the '
           'callback scheduled at (most recent call last)',
           "Coroutine created by an executor's worker thread, calling the "
           'function submitted at (most recent call last)',
           "Async generator created by an executor's worker thread, "
           'calling the function submitted at (most recent call last)')
ESCAPED = re.compile(r"The exception escaped coroutine '[^'\n]*'\.")
FRAME = re.compile(r'File "(?P<file>[^"\n]+)", line (?P<line>\d+), '
                   r'in (?P<func>\S.*)')
FOLDED = re.compile(r'\[(?P<n>\d+) frames? folded: '
                    r'(?P<mods>[a-z.]+(?:, [a-z.]+)*)\]')
FOLDED_MODULES = {'asyncio', 'concurrent.futures', 'threading', 'selectors',
                  'runpy'}
REPEATED = re.compile(r'\[Previous line repeated \d+ more times?\]')
SITE_SPECIAL = ('(creation site not recorded)',
                '(every frame of this site was skipped by skip=)',
                '(creation site could not be read)')
CHAIN_SITE = re.compile(r"\.\.\. spawned from '[^'\n]*', created at "
                        r"\(most recent call last\)")
CHAIN_NONE = re.compile(r"\.\.\. spawned from '[^'\n]*' "
                        r"\(creation site not recorded\)")
CHAIN_SHOWN = re.compile(r"\.\.\. spawned from '[^'\n]*', created at "
                         r"\S+:\d+ \(shown above\)")
CHAIN_UNREADABLE = ('... spawned from an ancestor that could not be read')
CHAIN_SCHEDULED = '... in a callback scheduled at (most recent call last)'
AS_ABOVE = re.compile(r'\.\.\. [2-9]\d* frames as above|\.\.\. [1-9]\d+ frames '
                      r'as above')
PREFIX = re.compile(r'[ |]*')
REPR_SITE = re.compile(r' created at (?P<file>[^\s<>]+):(?P<line>\d+)(?=>)')
REPR_CANCEL = re.compile(r' cancel requested at (?P<file>[^\s<>]+):'
                         r'(?P<line>\d+)(?=>)')
CANCEL_HEADER = 'Cancellation requested at (most recent call last)'
STOP_HEADER = 'Event loop stopped at (most recent call last)'
DROPPED_HEADS = ('Task exception was never retrieved',
                 'Future exception was never retrieved')
DROPPED_BY = re.compile(r"dropped_by: 'cancel\(\) called at \S+:\d+ after it "
                        r"failed'")
DROPPED_BY_THREADSAFE = re.compile(
    r"dropped_by: 'the concurrent\.futures\.Future that "
    r"run_coroutine_threadsafe\(\) at \S+:\d+ returned (?:was collected|was "
    r"still referenced at exit) without its result\(\) or exception\(\) "
    r"read'")
LOOP_THREAD_WAIT = (
    'A run_coroutine_threadsafe() future is waited for on the thread of its '
    'own event loop, which cannot run the coroutine meanwhile: the wait can '
    'only time out or hang')
WRONG_THREAD = (
    re.compile(r"Non-thread-safe call_(?:soon|at)\(\) of an event loop called "
               r"from thread '[^'\n]*', not from the loop's own thread: the "
               r"loop may not wake up for it \(use "
               r"loop\.call_soon_threadsafe\(\), or "
               r"asyncio\.run_coroutine_threadsafe\(\)\)"
               r"|call_(?:soon|at)\(\) of an event loop called from a "
               r"signal\.signal\(\) handler while the loop waits in "
               r"select\(\): the loop does not wake up for it \(use "
               r"loop\.add_signal_handler\(\)\)"),
    re.compile(r"called_at: \S+:\d+"),
    re.compile(r"loop_thread: '[^'\n]*'(?:, loop started at \S+:\d+)?"))
LOOP_THREAD_WAIT_SITES = (re.compile(r"scheduled_at: '\S+:\d+'"),
                          re.compile(r"waited_at: '\S+:\d+'"))
TRACEBACK_HEADS = ('Traceback (most recent call last):',
                   '  + Exception Group Traceback (most recent call last):')
CHAINED = ('During handling of the above exception, another exception '
           'occurred:',
           'The above exception was the direct cause of the following '
           'exception:')
CANCEL_BY = re.compile(r"  (?:by task '[^'\n]*'(?: \(created at \S+:\d+\))?"
                       r"|outside any task \((?:by an event loop callback"
                       r"|no event loop running)\))"
                       r"(?:, thread '[^'\n]*')?")
CANCEL_BECAUSE = re.compile(r'  because \S.*')
CANCEL_COUNT = re.compile(r'  \(\d+ requests; the first is shown\)')

STRICT_HEAD = re.compile(r'origin-python strict: (?P<n>\d+) problems? of '
                         r'lost asyncio work \((?:exit status '
                         r'(?P<status>-?\d+)|(?P<sigint>ended by SIGINT))\)')
STRICT_KINDS = ('coroutine never awaited', 'task exception never retrieved',
                'future exception never retrieved',
                'task destroyed while pending',
                'async generator never finalized',
                'async generator finalizer raised')
STRICT_KIND = re.compile(r'  (?P<n>\d+) (?P<kind>.+)')
STRICT_NOT_KEPT = re.compile(r'  (?P<n>\d+) not kept \(more than \d+ '
                             r'different problems\)')
STRICT_ITEM = re.compile(r'\[(?P<i>\d+)\] \S.*')


def _source(filename, lineno):
    """The stripped line *lineno* of *filename*, as the renderer prints it,
    or '' (the renderer then prints no source line)."""
    line = linecache.getline(filename, int(lineno))
    return line.partition('\n')[0].strip()


def _site(lines, j, indent):
    """Parse a site (at least one line) at *indent* from lines[j]; return
    the index after it, or None if lines[j] is not a site line."""
    start = j
    while j < len(lines) and lines[j].startswith(indent):
        content = lines[j][len(indent):]
        m = FRAME.fullmatch(content)
        if m:
            j += 1
            source = _source(m['file'], m['line'])
            if (source and j < len(lines)
                    and lines[j] == indent + '  ' + source):
                j += 1
            continue
        m = FOLDED.fullmatch(content)
        if m and set(m['mods'].split(', ')) <= FOLDED_MODULES:
            j += 1
            continue
        if REPEATED.fullmatch(content) or content in SITE_SPECIAL:
            j += 1
            continue
        break
    return j if j > start else None


def _origin_block(lines, i, prefix):
    """Parse a creation-site block whose header is lines[i]; return the
    index after it or None."""
    j = _site(lines, i + 1, prefix + '  ')
    if j is None:
        return None
    while j < len(lines) and (lines[j].startswith(prefix + '... spawned')
                              or lines[j] == prefix + CHAIN_SCHEDULED):
        content = lines[j][len(prefix):]
        if CHAIN_SITE.fullmatch(content) or content == CHAIN_SCHEDULED:
            k = j + 1
            if k < len(lines) and AS_ABOVE.fullmatch(lines[k]
                                                     [len(prefix) + 2:]):
                if not lines[k].startswith(prefix + '  '):
                    break
                k += 1
            k = _site(lines, k, prefix + '  ')
            if k is None:
                break
            j = k
        elif (CHAIN_NONE.fullmatch(content) or CHAIN_SHOWN.fullmatch(content)
              or content == CHAIN_UNREADABLE):
            j += 1
        else:
            break
    return j


def _cancel_block(lines, i, prefix):
    """Parse a cancellation block whose header is lines[i]; return the
    index after it or None."""
    j = _site(lines, i + 1, prefix + '  ')
    if j is None or j >= len(lines):
        return None
    if not (lines[j].startswith(prefix)
            and CANCEL_BY.fullmatch(lines[j][len(prefix):])):
        return None
    j += 1
    for pattern in (CANCEL_BECAUSE, CANCEL_COUNT):
        if (j < len(lines) and lines[j].startswith(prefix)
                and pattern.fullmatch(lines[j][len(prefix):])):
            j += 1
    return j


def _traceback_end(lines, j):
    """The index after a traceback (chained ones included) that starts at
    lines[j], or None."""
    if j >= len(lines) or lines[j] not in TRACEBACK_HEADS:
        return None
    while True:
        j += 1
        while j < len(lines) and lines[j].startswith(' '):
            j += 1
        if j >= len(lines):
            return None
        j += 1                              # the exception's line
        found = _block_at(lines, j) if j < len(lines) else None
        while found:                        # its origin blocks
            j = found[0]
            found = _block_at(lines, j) if j < len(lines) else None
        if (j + 2 < len(lines) and lines[j] == ''
                and lines[j + 1] in CHAINED
                and lines[j + 2] == '' and j + 3 < len(lines)
                and lines[j + 3] in TRACEBACK_HEADS):
            j += 3
            continue
        return j


def _dropped_report(lines, i):
    """The index after a report of an exception that cancel() dropped, or
    that a run_coroutine_threadsafe() future dropped, whose first line is
    lines[i], or None."""
    if (lines[i] == DROPPED_HEADS[1] and i + 1 < len(lines)
            and DROPPED_BY_THREADSAFE.fullmatch(lines[i + 1])):
        return _traceback_end(lines, i + 2)
    if (lines[i] not in DROPPED_HEADS or i + 2 >= len(lines)
            or not DROPPED_BY.fullmatch(lines[i + 1])
            or not lines[i + 2].startswith('future: ')):
        return None
    j = i + 3
    found = _block_at(lines, j) if j < len(lines) else None
    if found:
        j = found[0]
    return _traceback_end(lines, j)


def _block_at(lines, i):
    """(end, kind) if a fork block starts at lines[i], else None."""
    line = lines[i]
    end = _dropped_report(lines, i)
    if end is not None:
        return end, 'dropped exception report'
    if (i + 2 < len(lines)
            and all(pattern.fullmatch(lines[i + k])
                    for k, pattern in enumerate(WRONG_THREAD))):
        return i + 3, 'wrong-thread call'
    if (line == LOOP_THREAD_WAIT and i + 2 < len(lines)
            and all(pattern.fullmatch(lines[i + 1 + k])
                    for k, pattern in enumerate(LOOP_THREAD_WAIT_SITES))):
        return i + 3, 'wait on the loop thread'
    prefix = PREFIX.match(line).group()
    content = line[len(prefix):]
    if content == CANCEL_HEADER:
        end = _cancel_block(lines, i, prefix)
        return None if end is None else (end, 'cancellation')
    if content == STOP_HEADER:
        end = _cancel_block(lines, i, prefix)
        return None if end is None else (end, 'loop stop')
    if ESCAPED.fullmatch(content):
        if i + 1 < len(lines) and lines[i + 1] in [prefix + h
                                                   for h in HEADERS]:
            end = _origin_block(lines, i + 1, prefix)
            if end is not None:
                return end, 'exception origin'
        return None
    if content in HEADERS:
        end = _origin_block(lines, i, prefix)
        if end is not None:
            return end, content.split(' created')[0].lower() + ' origin'
    return None


def _strip_repr_sites(line, removed, pattern):
    def sub(m):
        if _source(m['file'], m['line']) or os.path.isfile(m['file']):
            removed.append(('repr site', [m.group()]))
            return ''
        return m.group()
    return pattern.sub(sub, line)


def strict_summary(text):
    """If *text* (stderr) ends with strict mode's summary, return (text
    without it, the summary's lines, its exit status); else (text, None,
    None).  The summary must have the whole layout, or it stays."""
    lines = text.split('\n')
    # text ends with '\n': the last element is ''
    if not lines or lines[-1] != '':
        return text, None, None
    for h in range(len(lines) - 2, 0, -1):
        m = STRICT_HEAD.fullmatch(lines[h])
        if m and lines[h - 1] == '':
            break
    else:
        return text, None, None
    body = lines[h + 1:-1]
    j = 0
    counted = 0
    while j < len(body):
        k = STRICT_KIND.fullmatch(body[j])
        n = STRICT_NOT_KEPT.fullmatch(body[j])
        if n:
            counted += int(n['n'])
        elif k and k['kind'] in STRICT_KINDS:
            counted += int(k['n'])
        else:
            break
        j += 1
    if j == 0 or counted != int(m['n']):
        return text, None, None
    item = 0
    while j < len(body):
        if body[j] != '' or j + 1 >= len(body):
            return text, None, None
        im = STRICT_ITEM.fullmatch(body[j + 1])
        if not im or int(im['i']) != item + 1:
            return text, None, None
        item += 1
        j += 2
        while j < len(body) and body[j].startswith('    '):
            j += 1
    if item == 0:
        return text, None, None
    kept = '\n'.join(lines[:h - 1]) + ('\n' if h > 1 else '')
    # "ended by SIGINT": an unhandled KeyboardInterrupt, the process
    # kills itself with SIGINT (status -2 as subprocess reports it).
    return kept, lines[h - 1:-1], (-2 if m['sigint'] else int(m['status']))


def strip(text, repr_sites=True):
    """(text without the fork's blocks, [(kind, lines) removed])."""
    lines = text.split('\n')
    out = []
    removed = []
    i = 0
    while i < len(lines):
        found = _block_at(lines, i)
        if found:
            end, kind = found
            removed.append((kind, lines[i:end]))
            i = end
            continue
        line = lines[i]
        if ' cancel requested at ' in line:
            line = _strip_repr_sites(line, removed, REPR_CANCEL)
        if repr_sites and ' created at ' in line:
            line = _strip_repr_sites(line, removed, REPR_SITE)
        out.append(line)
        i += 1
    return '\n'.join(out), removed


SOURCE_TRACEBACK = 'source_traceback: Object created at (most recent call last):'
# asyncio's words, with the class's name ("Task", "Future", a subclass's)
UNRETRIEVED_HEAD = re.compile(r'\w+ exception was never retrieved')


def unretrieved_reports(text):
    """(text without asyncio's reports of an exception never retrieved,
    [the text of each]): "Task exception was never retrieved" (or
    "Future ..."), its "future: " line, debug mode's source traceback if
    any, and its traceback (or the exception's line alone, for an
    exception that was set, not raised).
    With tracking on, the fork reports a failed task or future still
    referenced at exit then, instead of during the teardown (when stock
    reports it, if it does): the same text elsewhere, or one more."""
    lines = text.split('\n')
    out, found = [], []
    i = 0
    while i < len(lines):
        if (UNRETRIEVED_HEAD.fullmatch(lines[i]) and i + 2 < len(lines)
                and lines[i + 1].startswith('future: ')):
            k = i + 2
            if lines[k] == SOURCE_TRACEBACK:     # debug mode's
                k += 1
                while k < len(lines) and lines[k].startswith('  '):
                    k += 1
            j = _traceback_end(lines, k)
            if j is None:
                j = k + 1
            found.append('\n'.join(lines[i:j]))
            i = j
            continue
        out.append(lines[i])
        i += 1
    return '\n'.join(out), found


# --- normalisation -----------------------------------------------------------

ADDRESS = re.compile(r'0x[0-9a-fA-F]+')


# reprlib.repr() cuts long reprs in the middle: "<Future finis...events.py:460>"
CUT_PATH = re.compile(r'\.\.\.([^\s:"\'<>]*\.py):\d+')


def normaliser(stdlib_dir):
    """A function that normalises one interpreter's output: its standard
    library directory becomes <stdlib>, line numbers of files there become
    N (the fork patches them), also where reprlib cut the directory off
    ("...events.py:460", when the rest names a file of the standard
    library), and addresses become 0x?."""
    prefix = os.path.join(stdlib_dir, '')
    # a traceback's 'File "<stdlib>/x.py", line 3', a repr's
    # '<stdlib>/x.py:3' and a FrameSummary's '<stdlib>/x.py, line 3 in f'
    line = re.compile(r'(<stdlib>/[^\s"\':,<>]+\.py)("?)(, line |:)\d+')
    files = []
    for top, dirs, names in os.walk(stdlib_dir):
        dirs[:] = [d for d in dirs if d not in ('test', 'idlelib', '__pycache__')]
        files += [os.path.join(top, n) for n in names if n.endswith('.py')]

    def stdlib_tail(tail):
        return any(f.endswith(tail) for f in files)

    def normalise(text):
        text = text.replace(prefix, '<stdlib>/')
        text = line.sub(r'\1\2\3N', text)
        text = CUT_PATH.sub(lambda m: f'...{m[1]}:N' if stdlib_tail('/' + m[1])
                            or stdlib_tail(m[1]) else m.group(), text)
        return ADDRESS.sub('0x?', text)
    return normalise
