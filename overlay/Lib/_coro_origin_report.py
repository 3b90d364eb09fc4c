"""origin-python: the one renderer of coroutine origins, and the live
coroutine dump.

Internal module of origin-python (not of upstream CPython).  Every report
that says where a coroutine was created goes through the functions of the
first part of this module, so that they all look the same:

* site_lines(), origin_block(): a creation site (``cr_origin``) and its
  chain (``cr_origin_chain``) in traceback.format_list() style, with the
  frames of the standard library's async machinery folded;
* coroutine_origin_text(): the block for a coroutine, an async generator or
  an asyncio Task (asyncio's "Task was destroyed but it is pending!" and
  "Task exception was never retrieved" reports);
* short_site(): "FILE:LINE" for a Task's repr;
* exception_origin_lines(): the block of an exception that escaped a task's
  root coroutine (traceback);
* unawaited_warning_lines(): the block of the "coroutine ... was never
  awaited" RuntimeWarning (warnings);
* problem_text(): one problem of strict mode's summary (lost asyncio work).

The second part writes the live coroutine dump of ``sys._dump_coroutines()``
and of the ``dump=SIGNAL`` signal of ``-X coro_origin``, as text or JSON,
and serves the dump requests of ``python -m coro_origin dump PID``.  The
formats are described in Doc/library/coro_origin_asyncio.rst.

Nothing here raises into its caller for odd input: a failing linecache, a
malformed tuple or a raising repr() give a placeholder instead.
"""

# Everything the reports use is imported here, once: a report made while
# the interpreter shuts down cannot import (the interpreter keeps this
# module, see _PyCoroOrigin_Call()).
import gc
import linecache
import os
import sys
import textwrap
import threading
import traceback
import types

__all__ = ['site_lines', 'origin_block', 'coroutine_origin_text',
           'short_site', 'exception_origin_lines', 'unawaited_warning_lines',
           'dump', 'install_signal_handler']

HEADER = 'Coroutine created at (most recent call last)'
AGEN_HEADER = 'Async generator created at (most recent call last)'

# The standard library's async machinery: runs of frames of these modules
# are folded into one marker line.
FOLDED_MODULES = ('asyncio', 'concurrent.futures', 'threading', 'selectors',
                  'runpy')
# Installed libraries that run on asyncio and cancel, schedule and run
# tasks for the program (anyio's cancel scopes reach Task.cancel()):
# folded the same way, found as packages of these names on sys.path.
FOLDED_PACKAGES = ('anyio', 'sniffio')

# Lines shown for sites without frames.
NOT_RECORDED = '(creation site not recorded)'
ALL_SKIPPED = '(every frame of this site was skipped by skip=)'
UNREADABLE = '(creation site could not be read)'

_RECURSIVE_CUTOFF = 3           # as traceback.StackSummary.format()


# --- creation sites ------------------------------------------------------

_module_of_file = {}            # filename -> folded module name or None
_stdlib_prefix = None


def _get_stdlib_prefix():
    global _stdlib_prefix
    if _stdlib_prefix is None:
        stdlib = getattr(sys, '_stdlib_dir', None)
        if not stdlib:
            stdlib = os.path.dirname(getattr(os, '__file__', '') or '')
        _stdlib_prefix = os.path.join(stdlib, '') if stdlib else ''
    return _stdlib_prefix


def _package_of(filename):
    """The one of FOLDED_PACKAGES that *filename* is a file of, as a
    package directory on sys.path, or None."""
    for name in FOLDED_PACKAGES:
        marker = os.sep + name + os.sep
        if marker not in filename:
            continue
        for entry in sys.path:
            if entry and filename.startswith(os.path.join(entry, name, '')):
                return name
    return None


def _classify(filename):
    if filename.startswith('<frozen ') and filename.endswith('>'):
        module = filename[len('<frozen '):-1]
    else:
        prefix = _get_stdlib_prefix()
        if not prefix or not filename.startswith(prefix):
            return _package_of(filename)
        rel = filename[len(prefix):]
        if os.altsep:
            rel = rel.replace(os.altsep, os.sep)
        parts = rel.split(os.sep)
        if not parts[-1].endswith('.py'):
            return None
        parts[-1] = parts[-1][:-3]
        if parts[-1] == '__init__':
            del parts[-1]
        module = '.'.join(parts)
    for name in FOLDED_MODULES:
        if module == name or module.startswith(name + '.'):
            return name
    return None


def _machinery(filename):
    """The name of the async machinery module (one of FOLDED_MODULES, or
    FOLDED_PACKAGES) that the file *filename* belongs to, or None."""
    try:
        return _module_of_file[filename]
    except KeyError:
        pass
    except TypeError:           # unhashable: not a file name
        return None
    if not isinstance(filename, str):
        return None
    try:
        name = _classify(filename)
    except Exception:
        name = None
    if len(_module_of_file) >= 10000:
        _module_of_file.clear()
    _module_of_file[filename] = name
    return name


def _folding(fold):
    """Whether to fold: *fold* if it is True or False, otherwise the
    interpreter's setting: off with the "full" item, and off when only
    stock's sys.set_coroutine_origin_tracking_depth() turned tracking on
    (asyncio's debug mode does), so that stock's programs print stock's
    text; on when the fork's tracking is configured (a start-up spec, the
    default, or any item beyond the depth)."""
    if fold is not None:
        return bool(fold)
    try:
        return (not sys.get_coroutine_origin_tracking().full
                and _fork_configured())
    except Exception:
        return True


def _fork_configured():
    """Is the fork's tracking configured (a start-up spec, the default, or
    an item of this thread's settings beyond the depth), not only stock's
    sys.set_coroutine_origin_tracking_depth()?"""
    try:
        return sys._coroutine_origin_configured()
    except Exception:
        return True


def _source_line(filename, lineno):
    """The stripped source line, as traceback prints it, or ''."""
    if not isinstance(filename, str) or type(lineno) is not int:
        return ''
    try:
        line = linecache.getline(filename, lineno)
    except Exception:
        return ''
    if not isinstance(line, str):
        return ''
    return line.partition('\n')[0].strip()


def _shown_name(filename):
    """The file name as this release's traceback prints it: the REPL's
    '<stdin-N>' names are shown as '<stdin>' (the rule changed within
    3.13, so ask traceback itself rather than repeat it)."""
    if not (isinstance(filename, str) and filename.startswith('<stdin')):
        return filename
    try:
        line = traceback.StackSummary().format_frame_summary(
            traceback.FrameSummary(filename, 1, 'f', line=''))
        return line.split('"')[1]
    except Exception:
        return filename


def _frame_lines(filename, lineno, funcname, indent):
    name = _shown_name(filename)
    lines = [f'{indent}File "{name}", line {lineno}, in {funcname}']
    source = _source_line(filename, lineno)
    if source:
        pad = indent + '  '
        if len(source.splitlines()) > 1:
            # traceback indents each piece that str.splitlines() makes
            lines.append(textwrap.indent(source, pad))
        else:
            lines.append(pad + source)
    return lines


def _repeated(count, indent):
    count -= _RECURSIVE_CUTOFF
    return (f'{indent}[Previous line repeated {count} more '
            f'time{"s" if count > 1 else ""}]')


def _site_lines(origin, indent, fold):
    if origin is None:
        return [indent + NOT_RECORDED]
    if not isinstance(origin, (tuple, list)):
        return [indent + UNREADABLE]
    if not origin:
        return [indent + ALL_SKIPPED]
    frames = []                 # oldest first: (filename, lineno, funcname)
    for entry in reversed(origin):
        if isinstance(entry, tuple) and len(entry) == 3:
            frames.append(entry)
        else:
            frames.append(('?', '?', '?'))
    modules = [_machinery(f[0]) if fold else None for f in frames]
    if fold and all(modules):
        modules[-1] = None      # never a site that is only a marker
    lines = []
    last = None
    count = 0
    i = 0
    n = len(frames)
    while i < n:
        if modules[i] is not None:
            j = i
            names = []
            while j < n and modules[j] is not None:
                if modules[j] not in names:
                    names.append(modules[j])
                j += 1
            if count > _RECURSIVE_CUTOFF:
                lines.append(_repeated(count, indent))
            last = None
            count = 0
            k = j - i
            lines.append(f'{indent}[{k} frame{"s" if k > 1 else ""} '
                         f'folded: {", ".join(names)}]')
            i = j
            continue
        filename, lineno, funcname = frames[i]
        key = (filename, lineno, funcname)
        if (last is None or filename is None or lineno is None
                or funcname is None or key != last):
            if count > _RECURSIVE_CUTOFF:
                lines.append(_repeated(count, indent))
            last = key
            count = 0
        count += 1
        if count <= _RECURSIVE_CUTOFF:
            lines += _frame_lines(filename, lineno, funcname, indent)
        i += 1
    if count > _RECURSIVE_CUTOFF:
        lines.append(_repeated(count, indent))
    return lines


def site_lines(origin, indent='  ', fold=None):
    """The lines (without newlines) of a creation site.

    *origin* is a cr_origin tuple of (filename, lineno, funcname), innermost
    first; the lines show it oldest frame first, in the style of
    traceback.format_list(): 'File "f.py", line 3, in g', then the source
    line (from linecache) indented by two more spaces, each line prefixed
    by *indent*.  With folding (the default unless the interpreter's "full"
    setting is on; *fold* True or False forces it), each run of frames of
    the async machinery (FOLDED_MODULES) becomes one line
    '[N frames folded: asyncio, runpy]'; the innermost frame is always
    shown.  None gives '(creation site not recorded)', an empty tuple
    '(every frame of this site was skipped by skip=)'.
    """
    try:
        return _site_lines(origin, indent, _folding(fold))
    except Exception:
        return [indent + UNREADABLE]


def _as_above(origin, previous):
    """How many of the oldest frames of *origin* are the oldest frames of
    *previous* too (both cr_origin tuples, innermost first), leaving at
    least the innermost frame of *origin*."""
    if not (isinstance(origin, tuple) and isinstance(previous, tuple)):
        return 0
    n = 0
    limit = min(len(origin), len(previous)) - 1
    while n < limit and origin[-1 - n] == previous[-1 - n]:
        n += 1
    return n


def _chain_lines(chain, indent, fold, previous=None):
    """The blocks of *chain*'s entries; *previous* is the site printed just
    above the first (the object's own).  A site's oldest frames that the
    site above it shows too are one line, "... N frames as above"."""
    lines = []
    if not chain:
        return lines
    if not isinstance(chain, (tuple, list)):
        return [f'{indent}... spawned from an ancestor that could not be '
                f'read']
    for entry in chain:
        if not (isinstance(entry, tuple) and len(entry) == 2):
            lines.append(f'{indent}... spawned from an ancestor that could '
                         f'not be read')
            previous = None
            continue
        qualname, origin = entry
        if qualname is None:
            lines.append(f"{indent}... in a callback scheduled at (most "
                         f"recent call last)")
        elif origin is None:
            lines.append(f"{indent}... spawned from '{qualname}' "
                         f"(creation site not recorded)")
            previous = None
            continue
        else:
            lines.append(f"{indent}... spawned from '{qualname}', created "
                         f"at (most recent call last)")
        same = _as_above(origin, previous)
        if same >= 2:
            lines.append(f'{indent}  ... {same} frames as above')
            lines += _site_lines(origin[:len(origin) - same], indent + '  ',
                                 fold)
        else:
            lines += _site_lines(origin, indent + '  ', fold)
        previous = origin
    return lines


SCHEDULED_HEADERS = {
    ('loop', HEADER): 'Coroutine created by the event loop, calling the '
                      'callback scheduled at (most recent call last)',
    ('loop', AGEN_HEADER): 'Async generator created by the event loop, '
                           'calling the callback scheduled at (most recent '
                           'call last)',
    ('executor', HEADER): "Coroutine created by an executor's worker "
                          'thread, calling the function submitted at (most '
                          'recent call last)',
    ('executor', AGEN_HEADER): "Async generator created by an executor's "
                               'worker thread, calling the function '
                               'submitted at (most recent call last)',
}

# Who calls a scheduled callable: (module, function) of its innermost frame.
_SCHEDULERS = {('asyncio.events', '_run'): 'loop',
               ('concurrent.futures.thread', 'run'): 'executor'}


def _as_scheduled(header, origin, chain):
    """(header, origin, chain) to show: for an object that asyncio's
    Handle._run() or an executor's _WorkItem.run() made itself (a
    coroutine function given as the callback or the work: its own frames
    are all theirs), the line that scheduled it, which *chain* starts
    with, is its site."""
    kind = _run_by(origin, chain)
    if (kind, header) in SCHEDULED_HEADERS:
        return SCHEDULED_HEADERS[kind, header], chain[0][1], chain[1:]
    return header, origin, chain


def _run_by(origin, chain):
    """'loop' or 'executor' if *origin*'s innermost frame is the one that
    runs a scheduled callable and *chain* starts with where it was
    scheduled, else None."""
    if not (chain and isinstance(chain, (tuple, list))
            and isinstance(chain[0], tuple) and len(chain[0]) == 2
            and chain[0][0] is None
            and isinstance(origin, (tuple, list)) and origin
            and isinstance(origin[0], tuple) and len(origin[0]) == 3):
        return None
    filename, _, funcname = origin[0]
    for (module, func), kind in _SCHEDULERS.items():
        mod = sys.modules.get(module)
        if (mod is not None and funcname == func
                and filename == getattr(mod, '__file__', None)):
            return kind
    return None


def origin_block(origin, chain, indent='', header=HEADER, fold=None):
    """The header line, the site_lines() of *origin*, then one block per
    entry of *chain* (cr_origin_chain: (qualname, origin) pairs, nearest
    ancestor first): "... spawned from 'QUALNAME', created at (most recent
    call last)" and its site, "... spawned from 'QUALNAME' (creation site
    not recorded)", or for (None, origin), the line that scheduled the
    asyncio callback that ran, "... in a callback scheduled at (most recent
    call last)".  An object that the event loop made by calling the
    callback (a coroutine function) shows that line as its own site, under
    SCHEDULED_HEADERS.  Every line is prefixed by *indent*."""
    try:
        fold = _folding(fold)
        header, origin, chain = _as_scheduled(header, origin, chain)
        lines = [indent + header]
        lines += _site_lines(origin, indent + '  ', fold)
        lines += _chain_lines(chain, indent, fold, origin)
        return lines
    except Exception:
        return [indent + str(header), indent + '  ' + UNREADABLE]


def _origin_and_chain(obj):
    """(origin, chain, header) of a coroutine or an async generator, or
    None if *obj* is neither."""
    if hasattr(obj, 'cr_origin'):
        return (obj.cr_origin, getattr(obj, 'cr_origin_chain', None),
                HEADER)
    if hasattr(obj, 'ag_origin'):
        return (obj.ag_origin, getattr(obj, 'ag_origin_chain', None),
                AGEN_HEADER)
    return None


def coroutine_origin_text(obj):
    """Where *obj* was created, as a block of text (no trailing newline),
    or None if no origin was recorded.  *obj* is a coroutine, an async
    generator, or an asyncio Task or Future (its get_coro())."""
    try:
        get_coro = getattr(obj, 'get_coro', None)
        if get_coro is not None and callable(get_coro):
            obj = get_coro()
        found = _origin_and_chain(obj)
        if found is None or found[0] is None:
            return None
        origin, chain, header = found
        return '\n'.join(origin_block(origin, chain, header=header))
    except Exception:
        return None


def short_site(origin, fold=None, raises=False):
    """'FILE:LINE' of the innermost frame of *origin* that is not folded
    async machinery (the innermost frame if all are, or if folding is
    off), or None for None or ().  None too if it cannot be made, unless
    *raises*."""
    try:
        if not origin:
            return None
        frames = [f for f in origin
                  if isinstance(f, tuple) and len(f) == 3]
        if not frames:
            return None
        chosen = frames[0]
        if _folding(fold):
            for frame in frames:
                if _machinery(frame[0]) is None:
                    chosen = frame
                    break
        return f'{chosen[0]}:{chosen[1]}'
    except Exception:
        if raises:
            raise
        return None


def exception_origin_lines(exc, dedupe=True):
    """The lines that say which coroutine an exception escaped and where
    that coroutine was created, from the record (kind, qualname, origin,
    chain) that sys._coroutine_origin_of_exception() reads without running
    code of the exception's type; [] if there is none or it is
    malformed."""
    try:
        info = sys._coroutine_origin_of_exception(exc)
        if not (isinstance(info, tuple) and len(info) == 4):
            return []
        kind, qualname, origin, chain = info
        if kind == 'cancelled':
            return _cancelled_lines(qualname, origin)
        if kind == 'stopped':
            return _cancelled_lines(qualname, origin, STOP_HEADER)
        if not (isinstance(kind, str) and kind
                and isinstance(qualname, str)):
            return []
        if origin is not None and not isinstance(origin, tuple):
            return []
        if chain is not None and not isinstance(chain, tuple):
            return []
        if dedupe and _traceback_shows(exc, origin, chain):
            return []
        if kind == 'coroutine':
            header = HEADER
        elif kind == 'async generator':
            header = AGEN_HEADER
        else:
            header = f'{kind[0].upper()}{kind[1:]} created at ' \
                     f'(most recent call last)'
        return ([f"The exception escaped {kind} '{qualname}'."]
                + origin_block(origin, chain, header=header))
    except Exception:
        return []


def _traceback_shows(exc, origin, chain):
    """Does *exc*'s own traceback already show every frame that its origin
    block would (each user frame of the site and of its chain, the folded
    ones aside)?  Then the block says nothing new: asyncio.run(main())
    where main() raises prints the asyncio.run() line in both."""
    try:
        if not origin or not _folding(None):
            return False
        shown = set()
        # (the slot itself: no code of the exception's type runs)
        tb = BaseException.__traceback__.__get__(exc)
        while tb is not None:
            shown.add((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
            tb = tb.tb_next
    except Exception:
        return False
    sites = [origin] + [site for _, site in chain or ()]
    for site in sites:
        if not isinstance(site, tuple) or not site:
            return False
        for frame in site:
            if not (isinstance(frame, tuple) and len(frame) == 3):
                return False
            if (_machinery(frame[0]) is None
                    and (frame[0], frame[1]) not in shown):
                return False
    return True


CANCEL_HEADER = 'Cancellation requested at (most recent call last)'
STOP_HEADER = 'Event loop stopped at (most recent call last)'


def _frames_of(stack):
    """The frames (cr_origin's format) of a frame stack, or *stack* if it
    is already such a tuple (or None)."""
    return stack if stack is None or isinstance(stack, tuple) \
        else stack.frames()


def cancel_by_text(by):
    """Who asked for a cancellation, from the "by" that asyncio._origin
    keeps (see there): "by task 'NAME' (created at FILE:LINE)", "outside
    any task (by an event loop callback)" or "outside any task (no event
    loop running)", and ", thread 'NAME'" for another thread than the main
    one."""
    name, site, in_loop, thread = by
    if name is not None:
        text = f"by task '{_safe_str(name)}'"
        where = short_site(_frames_of(site))
        if where is not None:
            text += f' (created at {where})'
    elif in_loop:
        text = 'outside any task (by an event loop callback)'
    else:
        text = 'outside any task (no event loop running)'
    if thread is not None:
        text += f", thread '{_safe_str(thread)}'"
    return text


def _cancelled_lines(info, stack, header=CANCEL_HEADER):
    """The block of a CancelledError whose cancellation asyncio._origin
    recorded: where it was requested, by which task (or none) and thread,
    why when asyncio itself asked, and how many requests there were; with
    STOP_HEADER, where an event loop was stopped and by whom."""
    if not (isinstance(info, tuple) and len(info) == 3):
        return []
    by, reason, count = info
    frames = _frames_of(stack)
    if not isinstance(frames, tuple):
        return []
    lines = [header] + _site_lines(frames, '  ', _folding(None))
    lines.append(f'  {cancel_by_text(by)}')
    if reason is not None:
        lines.append(f'  because {_safe_str(reason)}')
    if type(count) is int and count > 1:
        lines.append(f'  ({count} requests; the first is shown)')
    return lines


def unawaited_warning_lines(coro):
    """The lines (no newlines) that the "coroutine ... was never awaited"
    RuntimeWarning adds after its first line: [] if the coroutine's origin
    was not recorded, else origin_block(cr_origin, cr_origin_chain).
    Without a chain and with nothing folded, '\\n'.join() of them is
    stock's text exactly."""
    try:
        origin = coro.cr_origin
        if origin is None:
            return []
        chain = getattr(coro, 'cr_origin_chain', None)
        if not _fork_configured():
            return origin_block(origin, chain, fold=False)
        fold = _folding(None)
        header, origin, chain = _as_scheduled(HEADER, origin, chain)
        lines = [header] + _site_lines(origin, '  ', fold)
        # The warning's own line follows the block (warnings prints the
        # source of where the coroutine was dropped): a coroutine made and
        # dropped on one line ("g()" without await) would show that source
        # line twice.  The block's copy goes.
        where = _warning_location()
        if (where is not None and isinstance(origin[0], tuple)
                and origin[0][:2] == where and len(lines) >= 3
                and lines[-2].startswith('  File ')
                and lines[-1] == '    ' + _source_line(*where)):
            del lines[-1]
        return lines + _chain_lines(chain, '', fold, origin)
    except Exception:
        return []


def _warning_location():
    """(filename, lineno) that warnings._warn_unawaited_coroutine() gives
    the warning (its caller, stacklevel=2), or None."""
    try:
        frame = sys._getframe(2)    # (1: unawaited_warning_lines)
        if frame.f_code.co_name != '_warn_unawaited_coroutine':
            return None
        frame = frame.f_back
        if frame is None:
            return None
        return (frame.f_code.co_filename, frame.f_lineno)
    except Exception:
        return None


# --- asyncio's reports ----------------------------------------------------

# The type of the frame stacks that sys._frame_stack_capture() returns.
FrameStack = type(sys._frame_stack_capture(1))
_AGEN_AWAITABLES = ('async_generator_athrow', 'async_generator_asend')


def _context_origin_text(context):
    if 'source_traceback' in context:
        return None
    obj = context.get('asyncgen')
    if obj is None:
        task = context.get('task')
        if task is None:
            task = context.get('future')
        if getattr(task, '_source_traceback', None):
            # Debug mode: the task's repr already says where it was made.
            return None
        get_coro = getattr(task, 'get_coro', None)
        if get_coro is None:
            # A plain future: where it was created, with origin tracking on.
            handle = getattr(task, '_origin_tb', None)
            if type(handle) is not FrameStack:
                return None
            return '\n'.join(origin_block(
                handle.frames(), None,
                header='Future created at (most recent call last)'))
        obj = get_coro()
    if type(obj).__name__ in _AGEN_AWAITABLES:
        for ref in gc.get_referents(obj):
            if type(ref) is types.AsyncGeneratorType:
                obj = ref
                break
    origin = getattr(obj, 'cr_origin', None)
    if origin is None:
        origin = getattr(obj, 'ag_origin', None)
    if origin is None:
        return None
    escaped = sys._coroutine_origin_of_exception(context.get('exception'))
    if (escaped is not None and escaped[1] == obj.__qualname__
            and escaped[2] == origin):
        return None
    text = coroutine_origin_text(obj)
    if context.get('message') == 'Task was destroyed but it is pending!':
        # cancel() was asked for, and the loop went away before the task
        # ran again: who asked
        request = _cancel_lines(task) + _stop_lines(task)
        if request:
            text = '\n'.join(([text] if text else []) + request)
    return text


def _cancel_lines(task):
    """The "Cancellation requested at" block of *task*'s kept request, or
    []."""
    entry = _cancel_entry(task)
    if entry is None:
        return []
    stack, by, because, count = entry
    return _cancelled_lines((by, because, count), stack)


def context_origin_text(context):
    """The creation site that asyncio's default exception handler adds to
    a report (*context* is its dict): the coroutine of the context's task
    (or of a future that is a task), the async generator of a failed
    aclose() (also when a task runs that aclose()), or a plain future's own
    site.  None when nothing was recorded, when the report already shows
    it (debug mode's source traceback, or the exception's own creation
    site, see Lib/traceback.py), or when it cannot be read."""
    try:
        return _context_origin_text(context)
    except Exception:
        return None


def repr_site(task, cancel_frames=None, info=None):
    """What a task's repr adds: 'created at FILE:LINE' while it is pending
    (not in debug mode, whose repr says it already), and 'cancel requested
    at FILE:LINE' once a cancellation was requested (*cancel_frames*, from
    asyncio._origin), or None.  In debug mode, with the fork's tracking
    configured, stock's 'created at' item of *info* (the repr's items),
    the innermost frame of _source_traceback and so often asyncio's own
    create_task(), is replaced by the user's line."""
    try:
        parts = []
        if not task.done():
            where = short_site(getattr(task.get_coro(), 'cr_origin', None))
            tb = task._source_traceback
            if not tb:
                if where is not None:
                    parts.append(f'created at {where}')
            elif (where is not None and isinstance(info, list)
                    and _fork_configured()):
                stock = f'created at {tb[-1][0]}:{tb[-1][1]}'
                if stock in info:
                    info[info.index(stock)] = f'created at {where}'
        where = short_site(cancel_frames)
        if where is not None:
            parts.append(f'cancel requested at {where}')
        return ' '.join(parts) or None
    except Exception:
        return None


# --- strict mode ---------------------------------------------------------

def _raised_at_lines(exc):
    """'Raised at' and the innermost frame of *exc*'s traceback, or []."""
    tb = getattr(exc, '__traceback__', None)
    if tb is None:
        return []
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return ['Raised at'] + _frame_lines(code.co_filename, tb.tb_lineno,
                                        code.co_name, '  ')


def _context_problem_lines(context):
    """The lines of an asyncio report of lost work (its context dict)."""
    message = _safe_str(context.get('message'))
    exc = context.get('exception')
    if exc is not None:
        # The exception's own line (not its notes), as traceback shows it.
        first = traceback.format_exception_only(type(exc), exc)[0]
        message += ': ' + _safe_str(first.rstrip('\n'))
    # The task's or future's repr is left out: it names the object, so
    # that identical problems of many tasks would not be counted together.
    lines = [message]
    dropped = context.get('dropped_by')
    if isinstance(dropped, str):
        # asyncio._origin: cancel() would have dropped it silently
        lines.append(f'Dropped by {dropped}')
    if exc is not None:
        lines += _raised_at_lines(exc)
        # (a record shows one frame of the traceback: the block stays)
        escaped = exception_origin_lines(exc, dedupe=False)
        if escaped:
            return lines + escaped
    text = context_origin_text(context)
    if text is not None:
        return lines + text.split('\n')
    source = context.get('source_traceback')
    if source:
        header = ('Object created at (most recent call last)'
                  if 'task' not in context and 'future' not in context
                  else ('Task' if 'task' in context else 'Future')
                  + ' created at (most recent call last)')
        return lines + [header] + site_lines(
            tuple((f.filename, f.lineno, f.name) for f in reversed(source)))
    return lines + [NOT_RECORDED]


def problem_text(kind, obj, hook_raised=False):
    """The text that strict mode keeps for one problem of *kind* about
    *obj*: a coroutine never awaited, an async generator never finalized
    (*hook_raised*: its finalizer hook raised; else its event loop was
    closed), or asyncio's report context (a dict) for the others.  The
    first line is the report's own message; then where the object was
    created, as every other report shows it.  Lines have no indentation
    of their own beyond the block's; no trailing newline."""
    try:
        if isinstance(obj, dict):
            lines = _context_problem_lines(obj)
        else:
            qualname = _safe_str(getattr(obj, '__qualname__', '?'))
            if hasattr(obj, 'ag_origin'):
                if hook_raised:
                    why = ('its finalizer hook raised, and it was freed '
                           'before it finished')
                else:
                    why = 'its event loop could not run its aclose()'
                lines = [f"async generator '{qualname}' was never "
                         f"finalized: {why}"]
                if obj.ag_origin is None:
                    lines.append(NOT_RECORDED[:-1] + ': track async '
                                 'generators with the asyncgen item)')
                else:
                    lines += origin_block(obj.ag_origin,
                                          getattr(obj, 'ag_origin_chain',
                                                  None),
                                          header=AGEN_HEADER)
            else:
                lines = [f"coroutine '{qualname}' was never awaited"]
                lines += (unawaited_warning_lines(obj)
                          or [HEADER[:-len(' (most recent call last)')]
                              + ': ' + NOT_RECORDED[1:-1]])
        return '\n'.join(lines)
    except Exception:
        return f'{kind}: {UNREADABLE}'


# --- live coroutine dump -------------------------------------------------

# Bounds of the dump.  Entries are tasks or coroutine stacks after identical
# ones were collapsed.
MAX_CHARS = 900_000             # text dump (JSON: the same, estimated)
MAX_ENTRIES = 1000              # entries of one list (roots or children)
MAX_DEPTH = 100                 # levels of tasks awaiting tasks
MAX_REPR = 300                  # characters of one repr()
MAX_STACK = 1000                # coroutines in one await chain
MAX_NAMES = 3                   # other names shown for identical tasks
MAX_CALLS = 200                 # frames looked through under a running one
RUNNING_HEADER = 'Running now (most recent call last):'


def _live_coroutines():
    """(unfinished coroutines with a recorded origin, where from): the
    interpreter's registry (sys._coroutine_origin_live(), kept when a dump
    signal is configured) if there is one, otherwise the objects the
    garbage collector tracks."""
    import types
    live = getattr(sys, '_coroutine_origin_live', None)
    # The registry holds coroutines only when a dump signal is configured.
    get = getattr(sys, 'get_coroutine_origin_tracking', None)
    if get is None or getattr(get(), 'dump', None) is None:
        live = None
    if live is not None:
        # (unfinished ones only)
        return list(live()), 'registry'
    import gc
    coro_type = types.CoroutineType
    coros = [o for o in gc.get_objects()
             if type(o) is coro_type and o.cr_origin is not None]
    return [c for c in coros if c.cr_frame is not None], 'gc'


def _safe_repr(obj):
    try:
        text = repr(obj)
    except Exception as exc:
        return f'<repr failed: {type(exc).__name__}>'
    if not isinstance(text, str):
        return '<repr failed: not a str>'
    if len(text) > MAX_REPR:
        text = text[:MAX_REPR - 3] + '...'
    return text


def _exc_name(exc):
    """The name of an exception's type, without running its code."""
    try:
        return type(exc).__name__
    except Exception:
        return 'Exception'


def _safe_str(obj):
    try:
        text = str(obj)
    except Exception as exc:
        return f'<str failed: {type(exc).__name__}>'
    if len(text) > MAX_REPR:
        text = text[:MAX_REPR - 3] + '...'
    return text


_plain_heads = {}


def _site_order(group):
    """A sort key for a group of stacks not in a task: the innermost
    frame of its first coroutine's creation site; untracked ones last."""
    try:
        coro = group[0][0]
        frame = (getattr(coro, 'cr_origin', None)
                 or getattr(coro, 'ag_origin', None))[0]
        return (0, str(frame[0]), int(frame[1]))
    except Exception:
        return (1, '', 0)


def _sort_key(name):
    """A str that sorts task names naturally ('Task-2' before 'Task-10'):
    each run of ASCII digits is padded with zeros to 20 digits."""
    head, sep, tail = name.rpartition('-')
    if sep and tail.isdigit() and tail.isascii() and len(tail) <= 20:
        plain = _plain_heads.get(head)
        if plain is None:
            import re
            plain = re.search('[0-9]', head) is None
            if len(_plain_heads) < 1000:
                _plain_heads[head] = plain
        if plain:
            return f'{head}-{tail:0>20}'
    import re
    return re.sub('[0-9]+', lambda m: m.group().rjust(20, '0'), name)


def _is_future(obj):
    try:
        return getattr(type(obj), '_asyncio_future_blocking', None) \
            is not None
    except Exception:
        return False


def _is_task(obj):
    return _is_future(obj) and hasattr(type(obj), 'get_coro')


def _all_tasks():
    """Unfinished asyncio tasks of every loop and thread (deduplicated)."""
    tasks_mod = sys.modules.get('asyncio.tasks')
    if tasks_mod is None:
        return []
    parts = []
    for name in ('_scheduled_tasks', '_eager_tasks'):
        coll = getattr(tasks_mod, name, None)
        if coll is None:
            continue
        refs = getattr(coll, 'data', None)      # a WeakSet's weakrefs
        for attempt in range(10):
            try:
                if isinstance(refs, set):
                    found = [ref() for ref in list(refs)]
                    parts.append([t for t in found if t is not None])
                else:
                    parts.append(list(coll))
                break
            except RuntimeError:    # changed size during iteration
                continue
    parts = [part for part in parts if part]
    if len(parts) == 1:
        unique = parts[0]   # (each collection holds a task once)
    else:
        tasks = [task for part in parts for task in part]
        unique = dict(zip(map(id, tasks), tasks)).values()
    try:
        return [task for task in unique if not task.done()]
    except Exception:       # a done() that raises: leave that task out
        result = []
        for task in unique:
            try:
                if not task.done():
                    result.append(task)
            except Exception:
                pass
        return result


class _Dumper:
    """Collects the live coroutines and tasks, groups identical subtrees,
    and renders them."""

    def __init__(self):
        import types
        self.coro_type = types.CoroutineType
        self.agen_type = types.AsyncGeneratorType
        self.gen_type = types.GeneratorType
        self.has_chain = hasattr(types.CoroutineType, 'cr_origin_chain')
        self.keep = []              # objects whose id() is used as a key
        self.origin_by_id = {}
        self.origin_by_value = {}
        self.chain_keys = {}
        self.node_keys = {}         # node signature -> small int
        self.task_keys = {}         # task signature -> small int
        self.block_cache = {}
        self.unwrap_types = {}
        self.repr_cache = {}
        self.callback_parents = {}  # id(callback) -> [records]
        self.future_parents = {}    # id(future) -> [records]
        self.records = {}           # id(task) -> _TaskRecord
        self.lock_cycles = set()    # deadlocks shown (their tasks' ids)
        self.in_task = set()        # id() of coroutines shown in tasks
        self.all_records = ()
        self.roots = self.loose = ()
        self.source = None
        self.tracked = 0
        self.fold = _folding(None)
        self.thread_frames = None   # this interpreter's frames, when needed
        self.callees = {}           # id(running coroutine) -> the one it runs
        self.running_frames = set() # id() of running coroutines' frames

    def release(self):
        """Break the reference cycles between task records."""
        try:
            for rec in self.all_records:
                if rec.refs:
                    rec.refs = ()
        except Exception:
            pass

    # -- keys -------------------------------------------------------------

    def origin_key(self, origin):
        if origin is None:
            return -1
        key = self.origin_by_id.get(id(origin))
        if key is None:
            try:
                # Not dict.setdefault(): before 3.13.6, one that cannot
                # grow the dict returns as if it had inserted the key and
                # counts it, corrupting the dict (gh-109700).
                key = self.origin_by_value.get(origin)
                if key is None:
                    key = self.origin_by_value[origin] = len(
                        self.origin_by_value)
            except TypeError:
                key = ('unhashable', id(origin))
            self.origin_by_id[id(origin)] = key
            self.keep.append(origin)
        return key

    def chain_key(self, chain):
        if not chain:
            return -1
        try:
            parts = tuple([(q, self.origin_key(o)) for q, o in chain])
        except Exception:
            self.keep.append(chain)
            return ('unreadable', id(chain))
        key = self.chain_keys.get(parts)
        if key is None:
            key = self.chain_keys[parts] = len(self.chain_keys)
        return key

    # -- await chains -----------------------------------------------------

    def unwrap(self, obj):
        """What an awaitable wrapper (an async generator's asend/athrow,
        anext()'s awaitable, a coroutine's __await__()) drives, or None."""
        tp = type(obj)
        follow = self.unwrap_types.get(tp)
        if follow is None:
            name = getattr(tp, '__name__', '')
            follow = name in ('async_generator_asend',
                              'async_generator_athrow', 'anext_awaitable',
                              'coroutine_wrapper')
            self.unwrap_types[tp] = follow
        if not follow:
            return None
        import gc
        for ref in gc.get_referents(obj):
            if type(ref) in (self.coro_type, self.agen_type,
                             self.gen_type):
                return ref
        return None

    def agen_node(self, obj):
        """(key, node, awaited) of an async generator in an await chain."""
        frame = obj.ag_frame
        origin = getattr(obj, 'ag_origin', None)
        chain = getattr(obj, 'ag_origin_chain', None)
        if frame is None:
            state, where = 'closed', -3
        elif getattr(obj, 'ag_suspended', False):
            # (an async generator is "running" while an asend() or
            # athrow() of it is awaited, even when it is suspended)
            state, where = 'suspended', frame.f_lasti
        elif obj.ag_running:
            state, where = 'running', -2
        else:
            state, where = 'created', -1
        sig = ('a', id(obj.ag_code), where, self.origin_key(origin),
               self.chain_key(chain) if chain else -1)
        key = self.node_keys.get(sig)
        if key is None:
            key = self.node_keys[sig] = len(self.node_keys)
        return (key, (key, 'async generator', obj, origin, chain, state),
                obj.ag_await)

    def walk(self, obj, mark=None, mark_first=True, build=False):
        """Follow the await chain from *obj* inwards.

        Return (keys, tail, nodes): keys, a tuple of small ints, one per
        frame of the chain (coroutine, async generator or generator),
        equal when two frames are suspended at the same instruction and
        were created at the same site; tail, the awaited object at the end
        that is none of these (or None); nodes, with *build*, the frames
        as (key, kind, obj, origin, chain, state), else None (only the
        entries that are printed need them).  The id() of each coroutine
        passed goes into *mark* (but the first one's, unless
        *mark_first*)."""
        keys = []
        nodes = [] if build else None
        tail = None
        coro_type = self.coro_type
        gen_type = self.gen_type
        node_keys = self.node_keys
        origin_by_id = self.origin_by_id
        has_chain = self.has_chain
        unwrap_types = self.unwrap_types
        room = MAX_STACK
        while obj is not None and room:
            room -= 1
            tp = type(obj)
            if tp is coro_type:
                # the dump spends most of its time here
                if mark is not None and (mark_first or keys):
                    mark.add(id(obj))
                # A suspension point is an instruction (several may share
                # a line: the line is looked up when a frame is printed).
                # A coroutine that is not started gets no frame object
                # (and a finished one has no place here: a task that holds
                # one is done, and the live list has none).
                if obj.cr_suspended:
                    state = 'suspended'
                    where = obj.cr_frame.f_lasti
                elif obj.cr_running:
                    state = 'running'
                    where = -2
                    # (it awaits nothing while it runs: the coroutine it
                    # runs now, if any, is the next of the chain)
                    callee = self.callees.get(id(obj))
                else:
                    state = 'created'
                    where = -1
                origin = obj.cr_origin
                if origin is None:
                    okey = -1
                else:
                    okey = origin_by_id.get(id(origin))
                    if okey is None:
                        okey = self.origin_key(origin)
                chain = obj.cr_origin_chain if has_chain else None
                sig = (id(obj.cr_code), where, okey,
                       self.chain_key(chain) if chain else -1)
                key = node_keys.get(sig)
                if key is None:
                    key = node_keys[sig] = len(node_keys)
                keys.append(key)
                if build:
                    nodes.append((key, 'coroutine', obj, origin, chain,
                                  state))
                obj = obj.cr_await if where != -2 else callee
            elif tp is gen_type:
                # a generator-based awaitable: @types.coroutine, or an
                # __await__() written as a generator
                if obj.gi_suspended:
                    state = 'suspended'
                    where = obj.gi_frame.f_lasti
                elif obj.gi_running:
                    state = 'running'
                    where = -2
                else:
                    state = 'created'
                    where = -1
                sig = ('g', id(obj.gi_code), where)
                key = node_keys.get(sig)
                if key is None:
                    key = node_keys[sig] = len(node_keys)
                keys.append(key)
                if build:
                    nodes.append((key, 'generator', obj, None, None, state))
                obj = obj.gi_yieldfrom
            elif tp is self.agen_type:
                key, node, obj = self.agen_node(obj)
                keys.append(key)
                if build:
                    nodes.append(node)
            elif unwrap_types.get(tp) is False:     # (the usual end)
                tail = obj
                break
            else:
                inner = self.unwrap(obj)
                if inner is None:
                    tail = obj
                    break
                obj = inner
        return tuple(keys), tail, nodes

    def nodes(self, obj):
        """(nodes, error): the frames of the await chain from *obj*, for
        printing, and None; or (), and the name of the exception that
        stopped reading them, which the dump prints."""
        try:
            return self.walk(obj, build=True)[2], None
        except Exception as exc:
            return (), _exc_name(exc)

    # -- who waits for whom -----------------------------------------------

    def callback_targets(self, cb, depth):
        """The task records that a done callback wakes up or stands for:
        a task's wake-up method, a TaskGroup's callback (its parent task),
        or a bound method or closure holding a future (not a task) that
        tasks wait for, such as gather()'s or shield()'s outer future."""
        cached = self.callback_parents.get(id(cb))
        if cached is not None:
            return cached
        self.keep.append(cb)
        self.callback_parents[id(cb)] = found = []     # (cycle guard)
        records = self.records
        owner = getattr(cb, '__self__', None)
        futures = []
        if owner is not None:
            rec = records.get(id(owner))
            if rec is not None and rec.task is owner:
                found.append(rec)
                return found
            parent = getattr(owner, '_parent_task', None)
            if parent is not None:
                rec = records.get(id(parent))
                if rec is not None and rec.task is parent:
                    found.append(rec)
                    return found
            futures.append(owner)
        else:
            cells = getattr(cb, '__closure__', None)
            if cells:
                for cell in cells:
                    try:
                        futures.append(cell.cell_contents)
                    except ValueError:
                        pass
            else:
                args = getattr(cb, 'args', None)     # functools.partial
                if isinstance(args, tuple) and hasattr(cb, 'func'):
                    futures.extend(args)
        for fut in futures:
            if _is_future(fut) and not _is_task(fut):
                for rec in self.future_targets(fut, depth + 1):
                    if rec not in found:
                        found.append(rec)
        return found

    def future_targets(self, fut, depth):
        cached = self.future_parents.get(id(fut))
        if cached is not None:
            return cached
        self.keep.append(fut)
        self.future_parents[id(fut)] = found = []
        if depth > 20:
            return found
        try:
            callbacks = fut._callbacks
        except Exception:
            return found
        for entry in callbacks or ():
            cb = entry[0] if isinstance(entry, tuple) else entry
            for rec in self.callback_targets(cb, depth):
                if rec not in found:
                    found.append(rec)
        return found

    def parents_of(self, rec):
        try:
            callbacks = rec.task._callbacks
        except Exception:
            return []
        if not callbacks:
            return []
        found = []
        for entry in callbacks:
            cb = entry[0] if isinstance(entry, tuple) else entry
            targets = self.callback_parents.get(id(cb))
            if targets is None:
                targets = self.callback_targets(cb, 0)
            for parent in targets:
                if parent is not rec and parent not in found:
                    found.append(parent)
        return found

    # -- collecting -------------------------------------------------------

    def collect(self):
        coros, self.source = _live_coroutines()
        self.tracked = len(coros)
        self.find_callees(coros)
        tasks = _all_tasks()
        try:
            names = [task.get_name() for task in tasks]
        except Exception:
            names = [None] * len(tasks)
            for i, task in enumerate(tasks):
                try:
                    names[i] = task.get_name()
                except Exception:
                    names[i] = '?'
        keys = []
        plain_heads = _plain_heads
        for i, name in enumerate(names):
            if type(name) is not str:
                name = names[i] = _safe_str(name)
            # _sort_key(), its usual case inlined
            head, sep, tail = name.rpartition('-')
            if sep and plain_heads.get(head) and tail.isdigit() \
                    and tail.isascii() and len(tail) <= 20:
                keys.append(f'{head}-{tail:0>20}')
            else:
                keys.append(_sort_key(name))
        order = sorted(range(len(tasks)), key=keys.__getitem__)
        records = self.records
        recs = []
        in_task = self.in_task
        for i in order:
            task = tasks[i]
            rec = _TaskRecord(task, names[i])
            try:
                if task.cancelling():
                    rec.state = 'cancelling'
                    rec.cancel = _cancel_request(task)
                rec.keys, rec.tail, _ = self.walk(task.get_coro(), in_task)
                rec.waiter = task._fut_waiter
            except Exception as exc:
                rec.error = type(exc).__name__
            records[id(task)] = rec
            recs.append(rec)
        for rec in recs:
            rec.lock = _lock_wait(rec, records)
        parents = {}
        for rec in recs:
            try:
                found = self.parents_of(rec)
            except Exception:
                found = None
            if found:
                parents[id(rec)] = found
        self.all_records = recs
        self.roots = self.build_tree(recs, parents)
        # Coroutines in no task: the ones that no other of them awaits
        # are the roots of their stacks.
        awaited = set()
        stacks = []
        walk = self.walk
        for coro in coros:
            if id(coro) in in_task or id(coro) in awaited:
                continue
            try:
                keys, tail, _ = walk(coro, awaited, False)
            except Exception:
                continue
            stacks.append((coro, keys, tail))
        self.loose = self.group_stacks(
            [s for s in stacks if id(s[0]) not in awaited])
        # in the order of their creation sites in the source (the order
        # the collector lists objects in changes with its collections)
        self.loose.sort(key=_site_order)

    def build_tree(self, recs, all_parents):
        """Give each task its children (the tasks it waits for, each
        under the first of its waiters, *all_parents* mapping id() of a
        record to the records of its waiters) and return the root
        groups.  Children point down only, so that the records make no
        reference cycles but in the rare "refs" (a task waited for by
        several, or in an await cycle)."""
        roots = []
        for rec in recs:
            parents = all_parents.get(id(rec))
            if parents:
                parent = parents[0]
                if parent.children:
                    parent.children.append(rec)
                else:
                    parent.children = [rec]
                for other in parents[1:]:
                    if other.refs:
                        other.refs.append(rec)
                    else:
                        other.refs = [rec]
            else:
                roots.append(rec)
        # Breadth first from the roots; a task has one parent in the
        # tree, so none is met twice.  Tasks never met are in await
        # cycles: the first of them by name becomes a root and the edge
        # from its parent a reference.
        order = list(roots)
        for rec in order:
            if rec.children:
                order.extend(rec.children)
        if len(order) < len(recs):
            reached = set(map(id, order))
            for rec in recs:
                if id(rec) in reached:
                    continue
                rec.cycle = True
                parent = all_parents[id(rec)][0]
                parent.children.remove(rec)
                parent.refs = list(parent.refs) + [rec]
                roots.append(rec)
                start = len(order)
                order.append(rec)
                reached.add(id(rec))
                i = start
                while i < len(order):
                    for child in order[i].children:
                        reached.add(id(child))
                        order.append(child)
                    i += 1
        task_keys = self.task_keys
        for rec in reversed(order):
            # (rec.signature(), inlined for the usual leaf task)
            if (rec.children or rec.refs or rec.error or rec.cycle
                    or rec.cancel or rec.lock):
                rec.signature(self)
                continue
            keys = rec.keys
            sig = (rec.state, keys[0] if len(keys) == 1 else keys,
                   type(rec.waiter), type(rec.tail))
            key = task_keys.get(sig)
            if key is None:
                key = task_keys[sig] = len(task_keys)
            rec.sig = key
        return self.group_tasks(roots)

    @staticmethod
    def group_tasks(recs):
        groups = {}
        for rec in recs:
            group = groups.get(rec.sig)
            if group is None:
                groups[rec.sig] = [rec]
            else:
                group.append(rec)
        return list(groups.values())

    @staticmethod
    def group_stacks(stacks):
        groups = {}
        for item in stacks:
            coro, keys, tail = item
            sig = keys if tail is None else (keys, type(tail))
            group = groups.get(sig)
            if group is None:
                groups[sig] = [item]
            else:
                group.append(item)
        return list(groups.values())

    # -- rendering helpers ------------------------------------------------

    def block(self, node):
        """The creation lines of a node (cached per site), or []."""
        key, kind, obj, origin, chain, state = node
        if origin is None and not chain:
            return []
        sig = (self.origin_key(origin), self.chain_key(chain), kind)
        lines = self.block_cache.get(sig)
        if lines is None:
            header = AGEN_HEADER if kind == 'async generator' else HEADER
            lines = origin_block(origin, chain, header=header,
                                 fold=self.fold)
            self.block_cache[sig] = lines
        return lines

    @staticmethod
    def node_where(node):
        """(qualname, filename, lineno) of a node; lineno is where it is
        suspended or running, or its first line if not started."""
        key, kind, obj, origin, chain, state = node
        try:
            qualname = _safe_str(obj.__qualname__)
        except Exception:
            qualname = '?'
        filename = lineno = None
        try:
            if kind == 'coroutine':
                code, frame = obj.cr_code, obj.cr_frame
            elif kind == 'async generator':
                code, frame = obj.ag_code, obj.ag_frame
            else:
                code, frame = obj.gi_code, obj.gi_frame
            filename = code.co_filename
            if state == 'created':
                lineno = code.co_firstlineno
            elif frame is not None:
                lineno = frame.f_lineno
        except Exception:
            pass
        return qualname, filename, lineno

    def node_line(self, node):
        kind, state = node[1], node[5]
        qualname, filename, lineno = self.node_where(node)
        where = f'{filename}:{lineno}'
        if state == 'created':
            what = f'not started, defined at {where}'
        elif state == 'closed':
            what = 'closed'
        else:
            what = f'{state} at {where}'
        return f'{kind} {qualname}() {what}'

    def repr(self, obj):
        text = self.repr_cache.get(id(obj))
        if text is None:
            self.keep.append(obj)
            text = self.repr_cache[id(obj)] = _safe_repr(obj)
        return text

    def awaited_future(self, tail):
        """The future behind a future's __await__ iterator, or None."""
        if tail is None:
            return None
        if _is_future(tail):
            return tail
        import gc
        try:
            for ref in gc.get_referents(tail):
                if _is_future(ref):
                    return ref
        except Exception:
            pass
        return None

    def future_site(self, nodes, waiter, tail):
        """'FILE:LINE' where the plain future that the program's own
        innermost coroutine awaits was created (its _origin_tb, kept with
        tracking on), or None: not for a task, nor for a future made on
        the line that awaits it (gather()'s), nor for one that asyncio's
        own coroutines (sleep(), Event.wait(), ...) await, whose site
        would be the line of the program that awaits them."""
        try:
            if not nodes or _machinery(self.node_where(nodes[-1])[1]):
                return None
            fut = waiter if waiter is not None else self.awaited_future(tail)
            handle = getattr(fut, '_origin_tb', None)
            if _is_task(fut) or type(handle) is not FrameStack:
                return None
            site = short_site(handle.frames(), self.fold, raises=True)
            _, filename, lineno = self.node_where(nodes[-1])
            # (made on the line that awaits it, by gather() for one: said)
            return None if site == f'{filename}:{lineno}' else site
        except Exception as exc:
            return f'? (could not be read: {_exc_name(exc)})'

    def awaited(self, waiter, tail):
        """What a stack waits for, as text (or None)."""
        if waiter is None:
            waiter = self.awaited_future(tail)
        if waiter is not None:
            if _is_task(waiter):
                rec = self.records.get(id(waiter))
                if rec is not None and rec.task is waiter:
                    return f'Task {rec.name!r}'
            return self.repr(waiter)
        if tail is not None:
            return self.repr(tail)
        return None

    @staticmethod
    def frames_json(origin):
        if origin is None:
            return None
        try:
            return [[f[0], f[1], f[2]] for f in origin]
        except Exception as exc:
            return f'(could not be read: {_exc_name(exc)})'

    def chain_json(self, chain):
        if not chain:
            return None
        try:
            return [[q, self.frames_json(o)] for q, o in chain]
        except Exception as exc:
            return f'(could not be read: {_exc_name(exc)})'

    def node_json(self, node):
        key, kind, obj, origin, chain, state = node
        qualname, filename, lineno = self.node_where(node)
        entry = {'kind': kind, 'qualname': qualname, 'state': state,
                 'filename': filename, 'lineno': lineno,
                 'origin': self.frames_json(origin),
                 'chain': self.chain_json(chain)}
        calls = self.running_calls(node)
        if calls:
            entry['running_calls'] = self.frames_json(calls)
        return entry

    def find_callees(self, coros):
        """A running coroutine awaits nothing (cr_await is None): the
        coroutine that it runs now is the one whose frame it called."""
        try:
            running = {}
            for coro in coros:
                if coro.cr_running:
                    running[id(coro.cr_frame)] = coro
            for coro in running.values():
                caller = running.get(id(coro.cr_frame.f_back))
                if caller is not None:
                    self.callees[id(caller)] = coro
            self.running_frames = set(running)
        except Exception:
            pass

    def running_calls(self, node):
        """The frames that a running coroutine calls without awaiting
        (what blocks its event loop), innermost first as cr_origin has
        them, read from the stack of the thread that runs it; () if there
        are none, or if it runs in the dumping thread and the dump was not
        made by a signal that interrupted it (a program that dumps knows
        where it is)."""
        key, kind, obj, origin, chain, state = node
        if kind != 'coroutine' or state != 'running':
            return ()
        try:
            frame = obj.cr_frame
            if self.thread_frames is None:
                self.thread_frames = sys._coroutine_origin_current_frames()
            me = threading.get_ident()
            running = self.running_frames
            for tid, top in self.thread_frames.items():
                if tid == me:
                    top = _interrupted_frame(top)
                # (another running coroutine's frame: the chain goes on
                # in that one)
                calls, end = frames_down_to(
                    top, lambda f: f is frame or id(f) in running)
                if end is frame:
                    return calls
        except Exception:
            pass
        return ()


def frames_down_to(top, stop):
    """((filename, lineno, funcname), ...) of the frames from *top* down
    to the first for which stop(frame) is true, left out, innermost first
    as cr_origin has them; and that frame, or None if none was met within
    MAX_CALLS frames."""
    calls = []
    for _ in range(MAX_CALLS):
        if top is None or stop(top):
            break
        code = top.f_code
        calls.append((code.co_filename, top.f_lineno, code.co_name))
        top = top.f_back
    else:
        top = None
    return tuple(calls), top


# The code objects of the signal handlers that dump (this module's, and
# the pytest plugin's timeout): the frame under one is the program's that
# the signal interrupted.
SIGNAL_HANDLER_CODES = set()


def _interrupted_frame(top):
    """The program's frame that a dump signal interrupted, under the
    dump's frames from *top*; None if the dump was not made by one."""
    for _ in range(MAX_CALLS):
        if top is None:
            return None
        if top.f_code in SIGNAL_HANDLER_CODES:
            return top.f_back
        top = top.f_back
    return None


def _cancel_request(task):
    """(site, by, because, requests) of the cancellation request that
    asyncio._origin kept for *task*, or None.  Read from the module if it
    is loaded; nothing is imported."""
    entry = _cancel_entry(task)
    if entry is None:
        return None
    stack, by, because, count = entry
    return (short_site(stack.frames()), cancel_by_text(by), because, count)


def _stop_lines(task):
    """The "Event loop stopped at" block of the loop of *task* (pending,
    destroyed), if that loop is not running and was last stopped by
    someone else than run_until_complete(), or []."""
    origin = sys.modules.get('asyncio._origin')
    loop = task.get_loop()
    if origin is None or loop.is_running():
        return []
    entry = origin.stop_entry(loop)
    if entry is None:
        return []
    return _cancelled_lines((entry[2], entry[3], 1), entry[1], STOP_HEADER)


def _cancel_entry(task):
    """[stack, by, because, count] that asyncio._origin kept for *task*'s
    cancellation, or None; read from the module if it is loaded (nothing
    is imported)."""
    origin = sys.modules.get('asyncio._origin')
    if origin is None:
        return None
    entry = origin._kept(origin._cancels, task)
    return None if entry is None else entry[1]


def _cancel_text(cancel):
    site, by, because, count = cancel
    text = f'cancel requested at {site} {by}'
    if because:
        text += f', because {because}'
    if count > 1:
        text += f' ({count} requests; the first is shown)'
    return text


class _TaskRecord:
    """A task: its await chain, the tasks it waits for, its group key."""

    __slots__ = ('task', 'name', 'state', 'keys', 'children', 'refs',
                 'tail', 'waiter', 'sig', 'error', 'size', 'cycle',
                 'cancel', 'lock')

    def __init__(self, task, name):
        self.task = task
        self.name = name
        self.state = 'pending'
        self.keys = self.children = self.refs = ()
        self.tail = self.waiter = self.sig = self.error = None
        self.size = 1
        self.cycle = False
        self.cancel = None
        self.lock = None        # [text line, holder's record or None]

    def signature(self, dumper):
        keys = self.keys
        state = (self.state, self.cancel) if self.cancel else self.state
        if self.lock:
            state = (state, self.lock[0])
        stack = keys[0] if len(keys) == 1 else keys
        children = self.children
        if children or self.refs:
            counts = {}
            size = 1
            for child in children:
                counts[child.sig] = counts.get(child.sig, 0) + 1
                size += child.size
            self.size = size
            sig = (state, stack, type(self.waiter), type(self.tail),
                   self.error, self.cycle, tuple(sorted(counts.items())),
                   tuple([id(r) for r in self.refs]))
        elif self.error or self.cycle:
            sig = (state, stack, type(self.waiter), type(self.tail),
                   self.error, self.cycle)
        else:
            sig = (state, stack, type(self.waiter), type(self.tail))
        key = dumper.task_keys.get(sig)
        if key is None:
            key = dumper.task_keys[sig] = len(dumper.task_keys)
        self.sig = key


class _Budget:
    """What the dump may still print, and what it left out."""

    def __init__(self, limit):
        self.limit = limit
        self.used = 0
        self.tasks_left = 0
        self.stacks_left = 0
        self.entries_left = 0

    def over(self):
        return self.used >= self.limit

    def stop(self, groups, i, depth, tasks):
        """Whether to leave out groups[i:]; if so, count them."""
        why = None
        if depth > MAX_DEPTH:
            why = 'depth limit'
        elif i >= MAX_ENTRIES:
            why = 'entry limit'
        elif self.used >= self.limit:
            why = 'size limit'
        if why is None:
            return None
        left = groups[i:]
        self.entries_left += len(left)
        if tasks:
            n = sum(len(g) * g[0].size for g in left)
            self.tasks_left += n
        else:
            n = sum(len(g) for g in left)
            self.stacks_left += n
        return why, len(left), n


def _count(n, noun):
    if n == 1:
        return f'1 {noun}'
    plural = noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'
    return f'{n} {plural}'


_TEE = '\u251c\u2500\u2500 '        # "├── "
_ELL = '\u2514\u2500\u2500 '        # "└── "
_BAR = '\u2502   '                  # "│   "
_TIMES = '\u00d7'                   # "×"


def _machinery_tail(d, nodes):
    """How many of the innermost *nodes* are coroutines of the async
    machinery (asyncio's Lock.acquire(), sleep(), ...) awaited by the
    program's own: those collapse into one 'awaiting' line.  0 when
    folding is off (the "full" setting) or when every node is the
    machinery's."""
    if not d.fold:
        return 0
    n = 0
    for node in reversed(nodes):
        if node[1] != 'coroutine' or _machinery(d.node_where(node)[1]) is None:
            break
        n += 1
    return n if n < len(nodes) else 0


def _shown_task(rec, nodes):
    """((qualname, origin, name),) of the task *rec* whose await chain is
    *nodes*, for the chains of the tasks below it; () if unknown."""
    if not nodes or nodes[0][1] != 'coroutine':
        return ()
    key, kind, obj, origin, chain, state = nodes[0]
    try:
        return ((obj.__qualname__, origin, rec.name),)
    except Exception:
        return ()


def _cut_chain(node, above):
    """(*node* with its chain cut before the first link that a task above
    it in the tree shows, that task's (qualname, name)), or (*node*,
    None)."""
    key, kind, obj, origin, chain, state = node
    if not above or not isinstance(chain, tuple):
        return node, None
    for k, entry in enumerate(chain):
        for qualname, site, name in above:
            if entry == (qualname, site):
                return (key, kind, obj, origin, chain[:k], state), (
                    qualname, name)
    return node, None


def _stack_lines(d, nodes, awaited, pad, out, above=(), site=None):
    """The lines of a stack; *site*: where the future that its innermost
    coroutine awaits was created (d.future_site())."""
    inner = _machinery_tail(d, nodes)
    for i, node in enumerate(nodes[:len(nodes) - inner]):
        shown = None
        if i == 0:
            node, shown = _cut_chain(node, above)
        out.append(pad + d.node_line(node))
        for line in d.block(node):
            out.append(pad + '  ' + line)
        calls = d.running_calls(node)
        if calls:
            out.append(pad + '  ' + RUNNING_HEADER)
            out += _site_lines(calls, pad + '    ', d.fold)
        if shown is not None:
            out.append(f"{pad}  ... spawned from {shown[0]!r} (task "
                       f"{shown[1]!r}, above)")
    if inner:
        names = ' -> '.join(f'{d.node_where(node)[0]}()'
                            for node in nodes[-inner:])
        _, filename, lineno = d.node_where(nodes[-1])
        out.append(f'{pad}awaiting {names} at {filename}:{lineno}')
    if awaited is not None:
        out.append(f'{pad}awaiting {awaited}'
                   + (f' (created at {site})' if site else ''))


def _text_task(d, group, first, rest, lines, budget, depth, above=()):
    """A group of identical tasks: the first by name, with the count.
    *above*: (qualname, origin, task name) of the coroutines of the tasks
    above it in the tree, whose chain links it leaves out."""
    rec = group[0]
    head = f'Task {rec.name!r} ({rec.state})'
    if len(group) > 1:
        # a few of the other names, to tell the tasks apart
        others = ', '.join(repr(r.name) for r in group[1:1 + MAX_NAMES])
        more = ', ...' if len(group) > 1 + MAX_NAMES else ''
        head += f' {_TIMES} {len(group)}, also {others}{more}'
    if rec.cycle:
        head += ' (in an await cycle)'
    out = [first + head]
    pad = rest + '  '
    if rec.cancel:
        out.append(pad + _cancel_text(rec.cancel))
    if rec.error:
        out.append(f'{pad}(could not be read: {rec.error})')
        nodes = ()
    else:
        nodes, error = d.nodes(rec.task.get_coro())
        if error:
            out.append(f'{pad}(await chain could not be read: {error})')
    _stack_lines(d, nodes, d.awaited(rec.waiter, rec.tail), pad, out,
                 above, d.future_site(nodes, rec.waiter, rec.tail))
    if rec.lock:
        out.append(pad + rec.lock[0])
        cycle = _lock_cycle(rec)
        if cycle and cycle[0] not in d.lock_cycles:
            d.lock_cycles.add(cycle[0])     # (once per deadlock)
            out.append(pad + cycle[1])
    for ref in rec.refs:
        out.append(f'{pad}also waits for Task {ref.name!r} (shown '
                   f'elsewhere in this dump)')
    budget.used += sum(map(len, out)) + len(out)
    lines += out
    if rec.children:
        groups = _Dumper.group_tasks(rec.children)
        n = len(groups)
        for i, child in enumerate(groups):
            cut = budget.stop(groups, i, depth + 1, True)
            if cut:
                why, entries, tasks = cut
                lines.append(f'{pad}{_ELL}... '
                             f'{_count(entries, "more entry")} '
                             f'({_count(tasks, "task")}) left out ({why})')
                break
            last = i == n - 1
            _text_task(d, child, pad + (_ELL if last else _TEE),
                       pad + ('    ' if last else _BAR), lines, budget,
                       depth + 1, above + _shown_task(rec, nodes))


def _lock_wait(rec, records):
    """[line, holder's record or None, is it a lock] if *rec*'s task waits
    in asyncio's Lock.acquire() or Semaphore.acquire() for a lock whose
    holders asyncio._origin kept, or in Event.wait(), Condition.wait(),
    Queue.get(), Queue.put() or Queue.join() for an object whose creation
    site it kept; else None.  The record is that of a lock's one holder
    (a cycle can only be named through a single holder)."""
    origin = sys.modules.get('asyncio._origin')
    if origin is None or rec.error:
        return None
    try:
        locks = sys.modules.get('asyncio.locks')
        queues = sys.modules.get('asyncio.queues')
        if locks is None or queues is None:
            return None
        coro = rec.task.get_coro()
        join = None             # Queue.join(), whose Event.wait() is its own
        for _ in range(MAX_DEPTH):
            if getattr(coro, 'cr_code', None) is queues.Queue.join.__code__:
                join = coro
            inner = getattr(coro, 'cr_await', None)
            if getattr(inner, 'cr_code', None) is None:
                break
            coro = inner
        if join is not None:
            coro = join
        kind = {locks.Lock.acquire.__code__: 'Lock',
                locks.Semaphore.acquire.__code__: 'Semaphore',
                locks.Event.wait.__code__: 'Event',
                locks.Condition.wait.__code__: 'Condition',
                queues.Queue.get.__code__: 'get',
                queues.Queue.put.__code__: 'put',
                queues.Queue.join.__code__: 'join'}.get(coro.cr_code)
        if kind is None:
            return None
        obj = coro.cr_frame.f_locals.get('self')
        stack = origin.created_at(obj)
        site = (None if stack is None
                else short_site(stack.frames(), raises=True))
        created = '' if site is None else f' (created at {site})'
        name = type(obj).__name__
        if kind in ('Lock', 'Semaphore'):
            return _holders_line(rec, records, name, created,
                                 origin.lock_holders(obj))
        if not created:
            return None
        if kind == 'get':
            text = f'waiting for an item from {_a(name)}{created}'
        elif kind == 'put':
            text = (f'waiting for room in {_a(name)}{created} (maxsize '
                    f'{obj.maxsize})')
        elif kind == 'join':
            queued = obj.qsize()
            got = obj._unfinished_tasks - queued
            text = (f'waiting for every item of {_a(name)}{created} to be '
                    f'marked done: {_count(got, "item")} got but not '
                    f'marked done with task_done()')
            if queued:
                text += f', {_count(queued, "item")} not got yet'
            if got <= 0 and not queued:
                text = f'waiting for {_a(name)}{created} to be joined'
        elif kind == 'Event':
            text = f'waiting for {_a(name)}{created} to be set'
        else:
            text = f'waiting for {_a(name)}{created} to be notified'
        return [text, None, False]
    except Exception as exc:
        return [f'(what it waits for could not be read: {_exc_name(exc)})',
                None, False]


def _a(name):
    return ('an ' if name[:1] in 'AEIOU' else 'a ') + name


def _holders_line(rec, records, name, created, holders):
    """_lock_wait()'s result for a lock named *name* held by *holders*
    ((task or None, frame stack) each), or None if there are none."""
    if not holders:
        return None
    shown, record = [], None
    for task, stack in holders[:MAX_HOLDERS_SHOWN]:
        where = short_site(stack.frames(), raises=True)
        holder = records.get(id(task)) if task is not None else None
        if holder is not None and holder.task is not task:
            holder = None
        if task is rec.task:
            who = 'this task itself'
        elif holder is not None:
            who = f'Task {holder.name!r}'
        elif task is not None:
            who = f"task {_safe_str(task.get_name())!r}"
        else:
            who = 'code outside any task'
        shown.append((who, where))
        record = holder
    if len(holders) == 1 and holders[0][0] is rec.task:
        text = (f'waiting for {_a(name)}{created} that this task holds '
                f'itself (acquired at {shown[0][1]})')
    else:
        names = [f'{who} (acquired at {where})' for who, where in shown]
        if len(holders) > MAX_HOLDERS_SHOWN:
            names.append(f'{len(holders) - MAX_HOLDERS_SHOWN} more')
        text = (f'waiting for {_a(name)}{created}{"," if created else ""} '
                f'held by {", ".join(names)}')
    return [text, record if len(holders) == 1 else None, True]


# Holders of one semaphore named in a wait line.
MAX_HOLDERS_SHOWN = 3


def _lock_cycle(rec):
    """(its tasks' ids, 'deadlock: ...') if following who holds the lock
    each task waits for leads back to *rec*, else None."""
    path = [rec]
    cur = rec
    for _ in range(MAX_DEPTH):
        holder = cur.lock[1] if cur.lock else None
        if holder is None:
            return None
        if holder is rec:
            if len(path) == 1:
                return None     # (its line says: "holds itself")
            names = ' -> '.join(f'Task {r.name!r}' for r in path + [rec])
            return (frozenset(id(r) for r in path),
                    f'deadlock: {names} (each waits for a lock the next '
                    f'holds)')
        if holder in path:
            return None
        path.append(holder)
        cur = holder
    return None


def _idle_loops(d):
    """The event loops that run (started with the fork's tracking on) and
    have no task in the dump: [{'thread', 'started_at', 'ready',
    'timers'}].  Read from asyncio._origin if it is loaded (nothing is
    imported); what cannot be read is left out."""
    origin = sys.modules.get('asyncio._origin')
    if origin is None:
        return []
    busy = set()
    for rec in d.all_records:
        try:
            busy.add(id(rec.task.get_loop()))
        except Exception:
            pass
    names = {t.ident: t.name for t in threading.enumerate()}
    loops = []
    for loop in list(origin.running_loops):
        try:
            owner = loop._thread_id
            if owner is None or id(loop) in busy or loop.is_closed():
                continue
            started = getattr(loop, '_origin_started', None)
            loops.append({
                'thread': names.get(owner, str(owner)),
                'started_at': (None if started is None
                               else short_site(started.frames(), True)),
                'ready': len(loop._ready),
                'timers': len(loop._scheduled),
                'pending': pending_callbacks(loop)})
        except Exception:
            pass
    return loops


# Pending callbacks listed per loop (ready ones, then the next timers).
MAX_PENDING = 5


def pending_callbacks(loop):
    """[{'when': seconds from now or None (ready), 'callback': name,
    'scheduled_at': FILE:LINE or None}] for the first MAX_PENDING ready
    callbacks and timers of *loop* (cancelled ones left out), read from
    its queues; where each was scheduled is known with the fork's tracking
    on (scheduling sites)."""
    result = []
    try:
        now = loop.time()
        ready = [h for h in list(loop._ready) if not h.cancelled()]
        timers = sorted((h for h in list(loop._scheduled)
                         if not h.cancelled()), key=lambda h: h.when())
        for handle in ready[:MAX_PENDING] + timers[:MAX_PENDING]:
            site = getattr(handle, '_site', None)
            when = getattr(handle, '_when', None)
            result.append({
                'when': None if when is None else round(when - now, 3),
                'callback': _callback_name(handle._callback),
                'scheduled_at': (None if site is None
                                 else short_site(site.frames()))})
    except Exception:
        pass
    return result


def _callback_name(callback):
    """'qualname()' of a callback, as asyncio's reprs name it."""
    name = None
    try:
        inner = getattr(callback, 'func', None)      # functools.partial
        name = getattr(inner if inner is not None else callback,
                       '__qualname__', None)
    except Exception:
        pass
    if not isinstance(name, str):
        name = type(callback).__qualname__      # (a callable object's)
    return f'{name}()'


def pending_lines(pending, pad):
    lines = []
    for entry in pending:
        when = ('ready' if entry['when'] is None
                else f"timer in {entry['when']:.1f} s")
        line = f"{pad}{when}: {entry['callback']}"
        if entry['scheduled_at']:
            line += f" scheduled at {entry['scheduled_at']}"
        lines.append(line)
    return lines


def _idle_loop_line(info):
    line = (f"Event loop with no task, running in thread "
            f"'{_safe_str(info['thread'])}'")
    if info['started_at']:
        line += f" (started at {info['started_at']})"
    line = (f"{line}: {_count(info['ready'], 'callback')} ready, "
            f"{_count(info['timers'], 'timer')}")
    return '\n'.join([line] + pending_lines(info.get('pending', ()), '  '))


def _render_text(d, notes):
    budget = _Budget(MAX_CHARS)
    lines = [f'Live coroutines ({d.tracked} tracked, '
             f'{len(d.all_records)} asyncio tasks):']
    lines += notes
    for i, group in enumerate(d.roots):
        if budget.stop(d.roots, i, 0, True):
            break
        lines.append('')
        _text_task(d, group, '', '', lines, budget, 0)
    for i, group in enumerate(d.loose):
        if budget.stop(d.loose, i, 0, False):
            break
        coro, keys, tail = group[0]
        head = 'Not in a task'
        if len(group) > 1:
            head += f' {_TIMES} {len(group)}'
        out = ['', head]
        nodes, error = d.nodes(coro)
        if error:
            out.append(f'  (await chain could not be read: {error})')
        _stack_lines(d, nodes, d.awaited(None, tail), '  ', out,
                     site=d.future_site(nodes, None, tail))
        budget.used += sum(map(len, out)) + len(out)
        lines += out
    idle = _idle_loops(d)
    if idle:
        lines.append('')
        lines += [_idle_loop_line(info) for info in idle]
    if budget.entries_left:
        lines.append('')
        lines.append(f'Output cut: {_count(budget.entries_left, "entry")} '
                     f'left out ({_count(budget.tasks_left, "task")}, '
                     f'{_count(budget.stacks_left, "coroutine stack")} '
                     f'outside tasks).')
    lines.append('')
    lines.append('End of live coroutines.')
    return '\n'.join(lines) + '\n'


def _json_task(d, group, budget, depth):
    rec = group[0]
    entry = {'name': rec.name, 'state': rec.state, 'count': len(group)}
    if len(group) > 1:
        entry['names'] = [r.name for r in group[:10]]
    if rec.cycle:
        entry['cycle'] = True
    if rec.cancel:
        site, by, because, count = rec.cancel
        entry['cancel_requested'] = {'site': site,
                                     'by': by.removeprefix('by '),
                                     'because': because, 'requests': count}
    if rec.error:
        entry['error'] = rec.error
        nodes = ()
    else:
        nodes, error = d.nodes(rec.task.get_coro())
        if error:
            entry['error'] = f'await chain could not be read: {error}'
    entry['stack'] = [d.node_json(n) for n in nodes]
    entry['awaiting'] = d.awaited(rec.waiter, rec.tail)
    site = d.future_site(nodes, rec.waiter, rec.tail)
    if site:
        entry['awaiting_created_at'] = site
    entry['also_awaits'] = [r.name for r in rec.refs]
    if rec.lock:
        entry['waiting_for_lock' if rec.lock[2] else 'waiting_for'] = (
            rec.lock[0].removeprefix('waiting for '))
    budget.used += _json_size(entry)
    children = []
    if rec.children:
        groups = _Dumper.group_tasks(rec.children)
        for i, child in enumerate(groups):
            if budget.stop(groups, i, depth + 1, True):
                break
            children.append(_json_task(d, child, budget, depth + 1))
    entry['children'] = children
    return entry


def _json_size(entry):
    import json
    try:
        return len(json.dumps(entry))
    except Exception:
        return 1000


def _render_json(d, missed, failure):
    import json
    import os
    budget = _Budget(MAX_CHARS)
    tasks = []
    for i, group in enumerate(d.roots):
        if budget.stop(d.roots, i, 0, True):
            break
        tasks.append(_json_task(d, group, budget, 0))
    loose = []
    for i, group in enumerate(d.loose):
        if budget.stop(d.loose, i, 0, False):
            break
        coro, keys, tail = group[0]
        nodes, error = d.nodes(coro)
        entry = {'count': len(group),
                 'stack': [d.node_json(n) for n in nodes],
                 'awaiting': d.awaited(None, tail)}
        site = d.future_site(nodes, None, tail)
        if site:
            entry['awaiting_created_at'] = site
        if error:
            entry['error'] = f'await chain could not be read: {error}'
        budget.used += _json_size(entry)
        loose.append(entry)
    doc = {
        'version': 1,
        'pid': os.getpid(),
        'source': d.source,
        'tracked': d.tracked,
        'task_count': len(d.all_records),
        'tasks': tasks,
        'not_in_task': loose,
        'idle_event_loops': _idle_loops(d),
        'left_out': {'entries': budget.entries_left,
                     'tasks': budget.tasks_left,
                     'coroutine_stacks': budget.stacks_left},
        'missed_requests': missed,
        'previous_write_failed': failure,
    }
    return json.dumps(doc, ensure_ascii=False) + '\n'


# --- dump: safety and output -----------------------------------------------

# Which threads are inside a dump, as {thread id: frame of _run_dump()}.
# An entry counts only while its frame is still on that thread's stack:
# under memory pressure CPython may skip a finally block (it cannot
# allocate the int of the instruction offset), and the entry of a dump
# that ended that way must not block the next ones.
_active = {}                    # threads inside dump()
_delivering = {}                # ... of which writing a dump already built
_lock_holder = None             # (thread id, frame) holding _lock
_again = None                   # a signal that came while a dump was
                                # written (its number), to serve after
_lock = None
_missed = 0                     # requests skipped while a dump ran
_last_failure = None            # why the last dump could not be written


def _notes(missed, failure):
    notes = []
    if missed:
        notes.append(f'({missed} dump request{"s" if missed > 1 else ""} '
                     f'arrived while dumping and '
                     f'{"were" if missed > 1 else "was"} skipped)')
    if failure:
        notes.append(f'(the previous dump could not be written: '
                     f'{failure})')
    return notes


def _build(format, missed, failure):
    """The whole dump as a str; never raises an Exception."""
    import gc
    gc_was_enabled = gc.isenabled()
    d = None
    try:
        # The dump makes many small objects: the collections that they
        # would start walk every object of the program, again and again.
        gc.disable()
        d = _Dumper()
        d.collect()
        if format == 'json':
            return _render_json(d, missed, failure)
        return _render_text(d, _notes(missed, failure))
    except Exception as exc:
        try:
            why = _failure_text(exc)
        except Exception:
            why = 'unknown error'
        if format == 'json':
            import json
            return json.dumps({'version': 1, 'error': why}) + '\n'
        return (f'Live coroutines: the dump failed: {why}\n\n'
                f'End of live coroutines.\n')
    finally:
        if d is not None:
            d.release()
        if gc_was_enabled:
            gc.enable()


def _failure_text(exc):
    """'Type: message', and the exception it was raised from: a C
    function that returns a result with an exception set, which upstream's
    json encoder does when memory runs out, gives a SystemError whose
    cause is what really failed."""
    text = f'{type(exc).__name__}: {_safe_str(exc)}'
    cause = exc.__cause__
    if cause is not None:
        text += f' (from {type(cause).__name__}: {_safe_str(cause)})'
    return text


def _write_fd(fd, data):
    import os
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write(file, text):
    """Write *text* to *file* (None: sys.stderr).  Return None, or the
    reason it could not be written."""
    if file is None:
        file = sys.stderr
        if file is None:
            file = sys.__stderr__
        if file is None:
            return 'no sys.stderr'
    if file is sys.stderr or file is sys.__stderr__:
        # Write to the file descriptor in one go: a signal may have come
        # in the middle of a write to the buffered stream, which a nested
        # write would break ("reentrant call").
        fd = None
        try:
            fd = file.fileno()
        except Exception:
            fd = None
        if isinstance(fd, int) and fd >= 0:
            try:
                file.flush()
            except Exception:
                pass
            encoding = getattr(file, 'encoding', None) or 'utf-8'
            try:
                data = text.encode(encoding, 'backslashreplace')
            except Exception:
                data = text.encode('utf-8', 'backslashreplace')
            try:
                _write_fd(fd, data)
                return None
            except Exception as exc:
                return _failure_text(exc)
    try:
        file.write(text)
        flush = getattr(file, 'flush', None)
        if flush is not None:
            flush()
        return None
    except Exception as exc:
        return _failure_text(exc)


def _on_stack(frame, top):
    """Is *frame* *top* or one of its callers?"""
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


def _inside(table, me):
    """Is this thread inside the part of a dump that *table* marks?  A
    stale entry (see _active) is dropped."""
    frame = table.get(me)
    if frame is None:
        return False
    if _on_stack(frame, sys._getframe(1)):
        return True
    table.pop(me, None)
    return False


def _take_lock(me, frame):
    """Acquire the dump lock for *frame* of thread *me*; a lock left held
    by a dump whose frame is gone (see _active) is taken over."""
    global _lock, _lock_holder
    import _thread
    if _lock is None:
        _lock = _thread.allocate_lock()
    deadline = 30.0
    while not _lock.acquire(blocking=False):
        holder = _lock_holder
        if holder is not None:
            tid, held_by = holder
            top = sys._coroutine_origin_current_frames().get(tid)
            if not _on_stack(held_by, top):
                _lock_holder = (me, frame)      # stale: take it over
                return True
        if deadline <= 0:
            return False
        if _lock.acquire(timeout=min(deadline, 1.0)):
            break
        deadline -= 1.0
    _lock_holder = (me, frame)
    return True


def _release_lock():
    global _lock_holder
    _lock_holder = None
    _lock.release()


def _run_dump(format, deliver, *args):
    """Build the dump and pass it to deliver(*args, text) -> None or a
    failure reason (no closure: making a function is an allocation that
    upstream's MAKE_FUNCTION mishandles when it fails, gh-122752).  A call while this thread is already dumping (a signal that
    came during a dump) is counted and skipped.  Never raises an
    Exception, and a dump cut short (even without its finally blocks)
    leaves the next one working."""
    global _missed, _last_failure
    me = None
    try:
        import _thread
        me = _thread.get_ident()
        if _inside(_active, me):
            _missed += 1
            return False
        frame = sys._getframe()
        _active[me] = frame
    except Exception:
        if me is not None:
            _active.pop(me, None)
        return False
    try:
        if not _take_lock(me, frame):
            _missed += 1
            return False
        try:
            missed, _missed = _missed, 0
            failure, _last_failure = _last_failure, None
            text = _build(format, missed, failure)
            _delivering[me] = frame
            failed = deliver(*args, text)
            if failed:
                _last_failure = failed
            return not failed
        finally:
            _release_lock()
    except Exception:
        return False
    finally:
        _delivering.pop(me, None)
        _active.pop(me, None)


def dump(file=None, format='text'):
    """Write every live, unfinished coroutine with a recorded origin, as a
    tree of asyncio tasks, to *file* (default sys.stderr), as text or, with
    format='json', one JSON document.  The whole dump is built first and
    written in one go; nothing raises into the caller (a write that fails
    is reported at the start of the next dump)."""
    if format not in ('text', 'json'):
        raise ValueError(f"format must be 'text' or 'json', not {format!r}")
    _run_dump(format, _write, file)
    _serve_deferred()


# --- signal handler --------------------------------------------------------

_previous_handlers = {}


def _chain(signum, frame):
    """Do what the handler that ours replaced would have done, for the
    signals whose default is to stop the program."""
    import signal
    prev = _previous_handlers.get(signum)
    if prev is _signal_handler:
        return
    if callable(prev):
        prev(signum, frame)
        return
    if prev == signal.SIG_IGN:
        return
    # SIG_DFL, or None (a handler not set from Python)
    if signum == signal.SIGINT:
        signal.default_int_handler(signum, frame)
    elif signum == getattr(signal, 'SIGTERM', None):
        import os
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _serve():
    """One dump for a dump signal: to the requester of a pending request
    (python -m coro_origin dump PID), else to stderr.  Return True if a
    request was served."""
    try:
        import coro_origin
        request = coro_origin._take_request()
    except Exception:
        request = None
    if request is not None:
        _run_dump(request.format, request.deliver)
        return True
    _run_dump('text', _write, None)
    return False


def _serve_deferred():
    """Signals that came while a finished dump was being written ask for
    a new one: serve them, once, now that the thread is out of it."""
    global _again
    while _again is not None:
        signum, _again = _again, None
        if not _serve():
            _chain(signum, None)


def _signal_handler(signum, frame):
    global _missed, _again
    try:
        import _thread
        me = _thread.get_ident()
        if _inside(_delivering, me):
            # The dump is built and being written: this is a new request,
            # served as soon as the write is over (then, for SIGINT and
            # SIGTERM, the previous handler runs).
            _again = signum
            return
        if _inside(_active, me):
            # This thread is building a dump: the signal came in the
            # middle of it.  Skip it, and leave a request where it is, for
            # the signal that its requester sends again.
            _missed += 1
            _chain(signum, frame)
            return
    except Exception:
        pass
    served = _serve()
    _serve_deferred()
    if not served:
        _chain(signum, frame)


SIGNAL_HANDLER_CODES.add(_signal_handler.__code__)


def install_signal_handler(signum):
    """Run dump() on signal *signum*, from the main thread at the
    interpreter's next safe point (a Python-level signal handler).  For
    SIGINT and SIGTERM, the handler it replaces still runs after the dump
    (SIG_DFL: KeyboardInterrupt, or the default action of SIGTERM).
    The process then announces the signal to python -m coro_origin dump,
    which signals no process that has not (nothing is said if that
    fails: the signal still dumps to stderr)."""
    import signal
    prev = signal.signal(signum, _signal_handler)
    if prev is not _signal_handler:
        _previous_handlers[signum] = prev
    try:
        import coro_origin
        coro_origin._announce(signum)
    except Exception:
        pass
