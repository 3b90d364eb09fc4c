"""origin-python: text reports about coroutine origins.

Internal module of origin-python (not of upstream CPython).  It formats
where coroutines were created (``cr_origin``, and ``cr_origin_chain`` when
the interpreter has it) for asyncio's error reports and task reprs, and
writes the live coroutine dump of ``sys._dump_coroutines()`` (also run on
the ``dump=SIGNAL`` signal of ``-X coro_origin``).  The output format is
described in Doc/library/coro_origin_asyncio.rst.
"""

import sys

__all__ = ['origin_lines', 'coroutine_origin_text', 'short_origin',
           'live_coroutines', 'dump', 'install_signal_handler']


def _origin_of(obj):
    origin = getattr(obj, 'cr_origin', None)
    if origin is None:
        origin = getattr(obj, 'ag_origin', None)
    return origin


def _chain_of(obj):
    chain = getattr(obj, 'cr_origin_chain', None)
    if chain is None:
        chain = getattr(obj, 'ag_origin_chain', None)
    return chain


def short_origin(origin):
    """'file:line' of the innermost frame of a cr_origin tuple, or None."""
    if not origin:
        return None
    filename, lineno, _funcname = origin[0]
    return f'{filename}:{lineno}'


def origin_lines(origin, indent='  '):
    """Lines (without newlines) of a cr_origin tuple in traceback style,
    oldest frame first, as warnings prints an unawaited coroutine."""
    import linecache
    lines = []
    for filename, lineno, funcname in reversed(origin):
        lines.append(f'{indent}File "{filename}", line {lineno}, in {funcname}')
        line = linecache.getline(filename, lineno).strip()
        if line:
            lines.append(f'{indent}  {line}')
    return lines


def _chain_lines(chain, indent='  '):
    lines = []
    for qualname, origin in chain:
        where = short_origin(origin) or 'an unknown place'
        lines.append(f'{indent}{qualname}() created at {where}')
    return lines


def coroutine_origin_text(coro):
    """Where *coro* was created, as a block of text, or None if it has no
    recorded origin.  Used by asyncio's default exception handler."""
    origin = _origin_of(coro)
    if origin is None:
        return None
    lines = ['Coroutine created at (most recent call last):']
    lines += origin_lines(origin)
    chain = _chain_of(coro)
    if chain:
        lines.append('Coroutine chain (nearest ancestor first):')
        lines += _chain_lines(chain)
    return '\n'.join(lines)


# --- live coroutine dump -------------------------------------------------

def live_coroutines():
    """Unfinished coroutines with a recorded origin: from the interpreter's
    registry (sys._coroutine_origin_live(), kept when a dump signal is
    configured) if there is one, otherwise found among the objects the
    garbage collector tracks."""
    import inspect
    live = getattr(sys, '_coroutine_origin_live', None)
    # The registry holds coroutines only when a dump signal is configured.
    get = getattr(sys, 'get_coroutine_origin_tracking', None)
    if get is None or getattr(get(), 'dump', None) is None:
        live = None
    if live is not None:
        coros = list(live())
    else:
        import gc
        import types
        coros = [o for o in gc.get_objects()
                 if type(o) is types.CoroutineType
                 and o.cr_origin is not None]
    return [c for c in coros
            if inspect.getcoroutinestate(c) != inspect.CORO_CLOSED]


def _all_tasks():
    tasks_mod = sys.modules.get('asyncio.tasks')
    if tasks_mod is None:
        return []
    tasks = []
    for name in ('_scheduled_tasks', '_eager_tasks'):
        coll = getattr(tasks_mod, name, None)
        if coll is not None:
            try:
                tasks.extend(list(coll))
            except RuntimeError:    # changed size during iteration
                pass
    seen = set()
    result = []
    # The task sets are weak sets: order by name (numbers compared as
    # numbers, so Task-2 comes before Task-10) for a stable dump.
    import re
    def key(task):
        try:
            name = str(task.get_name())
        except Exception:
            name = ''
        return [(0, int(p), '') if p.isdigit() else (1, 0, p)
                for p in re.split(r'(\d+)', name)]
    tasks.sort(key=key)
    for task in tasks:
        if id(task) not in seen and not task.done():
            seen.add(id(task))
            result.append(task)
    return result


def _state(coro):
    import inspect
    return {
        inspect.CORO_CREATED: 'created',
        inspect.CORO_RUNNING: 'running',
        inspect.CORO_SUSPENDED: 'suspended',
        inspect.CORO_CLOSED: 'closed',
    }[inspect.getcoroutinestate(coro)]


def _where(frame):
    if frame is None:
        return None
    return f'{frame.f_code.co_filename}:{frame.f_lineno}'


def _coro_lines(coro, indent):
    state = _state(coro)
    lines = [f'{indent}coroutine {coro.__qualname__}() [{state}]']
    where = _where(coro.cr_frame)
    if where is not None:
        verb = 'running at' if state == 'running' else 'at'
        lines.append(f'{indent}  {verb} {where}')
    origin = coro.cr_origin
    if origin:
        lines.append(f'{indent}  created at (most recent call last):')
        lines += origin_lines(origin, indent + '    ')
    chain = _chain_of(coro)
    if chain:
        lines.append(f'{indent}  chain (nearest ancestor first):')
        lines += _chain_lines(chain, indent + '    ')
    return lines


def _await_chain(coro):
    """The coroutine, then what it awaits (cr_await), innermost last."""
    chain = [coro]
    seen = {id(coro)}
    awaited = coro.cr_await
    while awaited is not None and id(awaited) not in seen:
        chain.append(awaited)
        seen.add(id(awaited))
        awaited = getattr(awaited, 'cr_await', None)
        if awaited is None:
            awaited = getattr(chain[-1], 'gi_yieldfrom', None)
    return chain


def _chain_block(coro, indent, done):
    lines = []
    for depth, obj in enumerate(_await_chain(coro)):
        sub = indent + '  ' * min(depth, 1)
        if depth:
            lines.append(f'{indent}awaiting:')
        if hasattr(obj, 'cr_frame'):
            done.add(id(obj))
            lines += _coro_lines(obj, sub)
        elif hasattr(obj, 'gi_frame'):
            where = _where(obj.gi_frame)
            lines.append(f'{sub}generator {obj.__qualname__}() at {where}')
        else:
            lines.append(f'{sub}{type(obj).__qualname__} object')
    return lines


def dump(file=None):
    """Write every live, unfinished coroutine with a recorded origin to
    *file* (default sys.stderr): grouped by asyncio task when asyncio is in
    use, each with its state, the line it is at, what it awaits, where it
    was created and its chain."""
    if file is None:
        file = sys.stderr
    coros = live_coroutines()
    tasks = _all_tasks()
    done = set()
    out = [f'Live coroutines ({len(coros)} tracked, '
           f'{len(tasks)} asyncio tasks):']
    for task in tasks:
        coro = task.get_coro()
        try:
            name = task.get_name()
        except Exception:
            name = '?'
        state = 'cancelling' if task.cancelling() else 'pending'
        out.append('')
        out.append(f'Task {name!r} ({state}):')
        if coro is None or not hasattr(coro, 'cr_frame'):
            out.append(f'  {coro!r}')
            continue
        out += _chain_block(coro, '  ', done)
        waiter = getattr(task, '_fut_waiter', None)
        if waiter is not None:
            out.append(f'  waiting for: {waiter!r}')
    rest = [c for c in coros if id(c) not in done]
    # Coroutines awaited by another coroutine of "rest" show in its block.
    awaited = set()
    for c in rest:
        for obj in _await_chain(c)[1:]:
            awaited.add(id(obj))
    for coro in rest:
        if id(coro) in awaited or id(coro) in done:
            continue
        out.append('')
        out.append('Not in a task:')
        out += _chain_block(coro, '  ', done)
    out.append('')
    out.append('End of live coroutines.')
    file.write('\n'.join(out) + '\n')
    flush = getattr(file, 'flush', None)
    if flush is not None:
        flush()


def _signal_handler(signum, frame):
    dump()


def install_signal_handler(signum):
    """Run dump() on signal *signum*, from the main thread at the
    interpreter's next safe point (a Python-level signal handler)."""
    import signal
    signal.signal(signum, _signal_handler)
