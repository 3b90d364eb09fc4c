"""origin-python: the one renderer of coroutine origins.

Internal module of origin-python (not of upstream CPython).  Every report
that says where a coroutine was created goes through the functions of
this module, so that they all look the same:

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
* context_origin_text(), repr_site(): the blocks of asyncio's reports
  and the site of a Task's repr.

Its users, each a module of its own: strict mode's summary
(_coro_origin_strict), the live coroutine dump (_coro_origin_dump) and its
requests (_coro_origin_request: dump(), the dump signal, python -m
coro_origin dump PID).

Nothing here raises into its caller for odd input: a failing linecache, a
malformed tuple or a raising repr() give a placeholder instead.
"""

# Everything the reports use is imported here, once: a report made while
# the interpreter shuts down cannot import (the interpreter keeps this
# module and its users, see _PyCoroOrigin_BindReports()).
import gc
import linecache
import os
import sys
import textwrap
import traceback
import types

__all__ = ['site_lines', 'origin_block', 'coroutine_origin_text',
           'short_site', 'exception_origin_lines', 'unawaited_warning_lines',
           'context_origin_text', 'repr_site']

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
MAX_REPR = 300                  # characters of one repr() or str()


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
        return sys._coroutine_origin_folding()
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
        elif (isinstance(origin, tuple) and isinstance(previous, tuple)
              and 0 < len(origin) <= len(previous)
              and previous[len(previous) - len(origin):] == origin):
            # (all its frames are the oldest of the site above: the
            # asyncio.run(main()) line)
            lines.append(f"{indent}... spawned from '{qualname}', created "
                         f"at {short_site(origin, fold)} (shown above)")
            previous = origin
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
        if kind == 'bound':
            return _bound_lines(qualname, origin)
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


def _bound_lines(info, stack):
    """The block of asyncio's "... is bound to a different event loop":
    where the object was created, and where the loop it is bound to (the
    first it was used under) and the running one were started."""
    if not (isinstance(info, tuple) and len(info) == 3):
        return []
    name, bound, running = map(_safe_str, info)
    frames = _frames_of(stack) if stack is not None else None
    lines = []
    if isinstance(frames, tuple) and frames:
        lines += ([f'The {name} was created at (most recent call last)']
                  + _site_lines(frames, '  ', _folding(None)))
    loops = []
    if info[1] is not None:
        loops.append(f'bound to the event loop started at {bound} (its '
                     f'first use)')
    if info[2] is not None:
        loops.append(f'used now under the one started at {running}')
    if loops:
        text = '; '.join(loops)
        lines.append(f'  {text}' if lines else f'The {name} is {text}')
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
            handle = getattr(task, '_origin_stack', None)
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


# --- text of odd objects ---------------------------------------------------

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
