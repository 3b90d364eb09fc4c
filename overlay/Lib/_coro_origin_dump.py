"""origin-python: the live coroutine dump.

Internal module of origin-python (not of upstream CPython).  build() makes the
dump of every live, unfinished coroutine with a recorded origin, as a tree
of asyncio tasks, in text or JSON (the formats are described in
Doc/library/coro_origin_asyncio.rst): collect() walks the program's
tasks, coroutines, locks and loops, _render_text() and _render_json()
print what it found.  Who asks for a dump, and how it is written out
safely, is _coro_origin_request's.  Creation sites are rendered by
_coro_origin_report, as in every other report.
"""

import sys
import threading

from _coro_origin_report import (
    AGEN_HEADER, HEADER, FrameStack, _cancel_entry, _exc_name, _folding,
    _machinery, _safe_repr, _safe_str, _site_lines, cancel_by_text,
    origin_block, short_site)

__all__ = ['build']

# Bounds of the dump.  Entries are tasks or coroutine stacks after identical
# ones were collapsed.
MAX_CHARS = 900_000             # text dump (JSON: the same, estimated)
MAX_ENTRIES = 1000              # entries of one list (roots or children)
MAX_DEPTH = 100                 # levels of tasks awaiting tasks
MAX_STACK = 1000                # coroutines in one await chain
MAX_NAMES = 3                   # other names shown for identical tasks
MAX_CALLS = 200                 # frames looked through under a running one
MAX_FAILED = 20                 # failed tasks listed (the rest counted)
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


def _failed_tasks(every):
    """The tasks that failed and whose exception nobody has retrieved yet,
    by name.  asyncio reports such a task only when it is collected, which
    never happens while something refers to it: in a program that hangs,
    it is often the one that should have done what the others wait for.
    Nothing is retrieved here (exception() would clear the task's flag,
    and its report would be lost).  A task whose exception is about to be
    delivered (a callback ready to run on its loop is given the task: an
    awaiting task's wake-up) is not one."""
    failed = []
    soon = {}                   # id(loop) -> what its ready callbacks get
    for task in every:
        try:
            if (task.done() and not task.cancelled()
                    and task._log_traceback is True
                    and id(task) not in _given_soon(task.get_loop(), soon)):
                failed.append((_sort_key(_task_name(task)), task))
        except Exception:
            pass
    failed.sort(key=lambda item: item[0])
    return [task for _, task in failed]


def _task_name(task):
    try:
        return _safe_str(task.get_name())
    except Exception:
        return '?'


def _given_soon(loop, cache):
    """id() of the first argument of each callback ready to run on *loop*
    (cached in *cache*)."""
    ids = cache.get(id(loop))
    if ids is None:
        ids = cache[id(loop)] = set()
        for handle in list(loop._ready):
            args = getattr(handle, '_args', None)
            if args:
                ids.add(id(args[0]))
    return ids


def _raise_site(exc):
    """(filename, lineno, funcname) of where *exc* was raised (the
    innermost frame of its traceback), or None."""
    try:
        tb = exc.__traceback__
        if tb is None:
            return None
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        return (code.co_filename, tb.tb_lineno, code.co_name)
    except Exception:
        return None


def _failed_info(task):
    """{'name', 'exception', 'raised_at', 'coroutine', 'origin', 'chain'}
    of a failed task; what cannot be read is None."""
    info = {'name': _task_name(task), 'exception': None, 'raised_at': None,
            'coroutine': None, 'origin': None, 'chain': None}
    try:
        exc = task._exception
        text = _safe_str(exc)
        info['exception'] = _exc_name(exc) + (f': {text}' if text else '')
        info['raised_at'] = _raise_site(exc)
        coro = task.get_coro()
        info['coroutine'] = _safe_str(coro.__qualname__)
        info['origin'] = coro.cr_origin
        info['chain'] = getattr(coro, 'cr_origin_chain', None)
    except Exception:
        pass
    return info


def _failed_lines(d, failed):
    """The text dump's lines for the failed tasks (_failed_tasks())."""
    lines = []
    for task in failed[:MAX_FAILED]:
        info = _failed_info(task)
        lines += ['', f"Task {info['name']!r} (failed, its exception not "
                      f"retrieved)"]
        if info['exception'] is not None:
            lines.append(f"  {info['exception']}")
        where = info['raised_at']
        if where is not None:
            lines.append(f'  raised at {where[0]}:{where[1]}, in {where[2]}')
        if info['coroutine'] is not None:
            lines.append(f"  coroutine {info['coroutine']}() done")
            if info['origin'] is not None or info['chain']:
                lines += ['    ' + line for line in origin_block(
                    info['origin'], info['chain'], fold=d.fold)]
    if len(failed) > MAX_FAILED:
        left = len(failed) - MAX_FAILED
        lines += ['', f'... {_count(left, "more failed task")} left out']
    return lines


def _failed_json(d, failed):
    entries = []
    for task in failed[:MAX_FAILED]:
        info = _failed_info(task)
        where = info['raised_at']
        entries.append({
            'name': info['name'], 'exception': info['exception'],
            'raised_at': None if where is None else list(where),
            'coroutine': info['coroutine'],
            'origin': d.frames_json(info['origin']),
            'chain': d.chain_json(info['chain'])})
    return entries


def _is_future(obj):
    try:
        return getattr(type(obj), '_asyncio_future_blocking', None) \
            is not None
    except Exception:
        return False


def _is_task(obj):
    return _is_future(obj) and hasattr(type(obj), 'get_coro')


def _every_task():
    """asyncio's tasks of every loop and thread, done ones too (as long as
    something refers to them), deduplicated."""
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
        return parts[0]     # (each collection holds a task once)
    tasks = [task for part in parts for task in part]
    return list(dict(zip(map(id, tasks), tasks)).values())


def _all_tasks(every=None):
    """Unfinished asyncio tasks of every loop and thread (deduplicated);
    *every*: what _every_task() returned, if it was called already."""
    unique = _every_task() if every is None else every
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
        self.parent_of = {}         # id(record) -> its parent's record
        self.in_task = set()        # id() of coroutines shown in tasks
        self.all_records = ()
        self.roots = self.loose = ()
        self.failed = []            # _failed_tasks()
        self.chain_codes = None     # asyncio's future chaining closures
        self.calls = {}             # id(future) -> executor_call()
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
            # The interpreter's own wrapper types (not subclassable, so a
            # builtin type of that name is that type).
            follow = (getattr(tp, '__module__', None) == 'builtins'
                      and getattr(tp, '__name__', '') in (
                'async_generator_asend', 'async_generator_athrow',
                'anext_awaitable', 'coroutine_wrapper'))
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
        every = _every_task()
        tasks = _all_tasks(every)
        self.failed = _failed_tasks(every)
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
        kinds = _wait_kinds()
        for rec in recs:
            rec.lock = _lock_wait(rec, records, kinds)
            if rec.lock is None and rec.waiter is not None:
                rec.call = self.executor_call(rec.waiter)
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
        parent_of = self.parent_of
        for rec in order:
            for child in rec.children:
                parent_of[id(child)] = rec
        task_keys = self.task_keys
        for rec in reversed(order):
            # (rec.signature(), inlined for the usual leaf task)
            if (rec.children or rec.refs or rec.error or rec.cycle
                    or rec.cancel or rec.lock or rec.call):
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
        where = _file_line(filename, lineno)
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
        innermost coroutine awaits was created (its _origin_stack, kept with
        tracking on), or None: not for a task, nor for a future made on
        the line that awaits it (gather()'s), nor for one that asyncio's
        own coroutines (sleep(), Event.wait(), ...) await, whose site
        would be the line of the program that awaits them."""
        try:
            if not nodes or _machinery(self.node_where(nodes[-1])[1]):
                return None
            fut = waiter if waiter is not None else self.awaited_future(tail)
            handle = getattr(fut, '_origin_stack', None)
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

    def executor_call(self, waiter):
        """If *waiter* (a task's future) is the asyncio side of a call run
        by a concurrent.futures executor (loop.run_in_executor(),
        asyncio.to_thread(), wrap_future()): (function, thread name or
        None, calls): the function that runs and the thread that runs it
        in this interpreter, with its frames from that function down,
        innermost first; function and thread None if it has not started
        (queued), calls () if it runs elsewhere.  Else None.  Known by
        code objects (asyncio's future chaining, the thread pool's work
        item), not by names.  Asked once per future: many tasks may wait
        for one (and a C future's _callbacks is a new list each time)."""
        known = self.calls.get(id(waiter), self)
        if known is not self:
            return known
        self.keep.append(waiter)
        known = self.calls[id(waiter)] = self.find_call(waiter)
        return known

    def find_call(self, waiter):
        thread_mod = sys.modules.get('concurrent.futures.thread')
        futures_mod = sys.modules.get('asyncio.futures')
        if thread_mod is None or futures_mod is None:
            return None
        try:
            chained = self.chain_codes
            if chained is None:
                chain_code = futures_mod._chain_future.__code__
                chained = self.chain_codes = [
                    c for c in chain_code.co_consts
                    if isinstance(c, type(chain_code))]
            # (the chaining's callback is the future's first: wrap_future()
            # adds it before returning the future)
            callbacks = waiter._callbacks
            if not callbacks:
                return None
            cb = callbacks[0]
            cb = cb[0] if isinstance(cb, tuple) else cb
            code = getattr(cb, '__code__', None)
            if code not in chained or 'source' not in code.co_freevars:
                return None
            cell = cb.__closure__[code.co_freevars.index('source')]
            source = cell.cell_contents
            if source is None or _is_future(source):
                return None
            # (another thread's frame locals are read only while it cannot
            # run: with the GIL)
            if not sys._is_gil_enabled():
                return (None, None, ()) if source._state == 'PENDING' else None
            if self.thread_frames is None:
                self.thread_frames = sys._coroutine_origin_current_frames()
            run_code = thread_mod._WorkItem.run.__code__
            for tid, top in self.thread_frames.items():
                calls, end = frames_down_to(
                    top, lambda f: f.f_code is run_code)
                item = None if end is None else end.f_locals.get('self')
                if getattr(item, 'future', None) is source and calls:
                    names = {t.ident: t.name for t in threading.enumerate()}
                    return (calls[-1][2], names.get(tid, str(tid)), calls)
            if source._state == 'PENDING':
                return (None, None, ())
            return None
        except Exception:
            return None

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
                 'cancel', 'lock', 'call')

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
        self.call = None        # Dumper.executor_call() of its waiter

    def lock_key(self, dumper):
        """What its wait line says, for telling identical subtrees: the
        line itself, but a holder that is its sibling in the tree (both
        wait in one parent task, as in a deadlocked pair) is named by that
        relation and the length of the lock cycle they make, so that
        several parents whose children deadlock alike fold into one."""
        text, holder = self.lock[0], self.lock[1]
        parent_of = dumper.parent_of
        parent = parent_of.get(id(self))
        if (holder is None or holder is self or parent is None
                or parent_of.get(id(holder)) is not parent):
            return text
        cycle = _lock_cycle(self)
        if cycle is None:
            return (text.replace(f'Task {holder.name!r}', 'Task ?'),
                    'sibling')
        # The members of one deadlock never fold together: each shows
        # what it holds.  Its place among them (by name) tells them apart.
        order = sorted(cycle[2], key=lambda r: _sort_key(r.name))
        return (text.replace(f'Task {holder.name!r}', 'Task ?'), 'sibling',
                len(order), order.index(self))

    def signature(self, dumper):
        keys = self.keys
        state = (self.state, self.cancel) if self.cancel else self.state
        if self.lock:
            state = (state, self.lock_key(dumper))
        if self.call:
            state = (state, self.call[0], self.call[1])
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
    n = 0
    for node in reversed(nodes):
        if not _is_machinery(d, node):
            break
        n += 1
    return n if n < len(nodes) else 0


def _is_machinery(d, node):
    """Is *node* a coroutine of the async machinery, folding on?"""
    return (d.fold and node[1] == 'coroutine'
            and _machinery(d.node_where(node)[1]) is not None)


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


def _file_line(filename, lineno):
    """'FILE:LINE', or 'FILE' when the frame's line cannot be read (seen
    in the hang watchdog's dump of a task that keeps stepping)."""
    return filename if lineno is None else f'{filename}:{lineno}'


def _made_where_awaited(d, node, above):
    """Was the coroutine of *node* created on the very line where one of
    the coroutines *above* it in its stack is suspended (and has no chain
    left to show)?  Then its creation block says nothing that the stack
    does not: the usual "await inner()".  (An asyncio coroutine between
    the program's, such as wait_for()'s, is left out likewise.)"""
    key, kind, obj, origin, chain, state = node
    if chain or not origin:
        return False
    try:
        filename, lineno = origin[0][0], origin[0][1]
    except Exception:
        return False
    for other in above:
        _, where, line = d.node_where(other)
        if where == filename and line == lineno:
            return True
    return False


def _coroutines_shown(nodes):
    """((qualname, origin, None),) of the coroutines among *nodes*."""
    shown = []
    for key, kind, obj, origin, chain, state in nodes:
        if kind == 'coroutine':
            try:
                shown.append((obj.__qualname__, origin, None))
            except Exception:
                pass
    return tuple(shown)


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
        else:
            # its chain from the coroutines above it in this stack on is
            # shown right above it (they awaited it)
            node, _ = _cut_chain(node, _coroutines_shown(nodes[:i]))
        out.append(pad + d.node_line(node))
        if i == 0 or not (_is_machinery(d, node)
                          or _made_where_awaited(d, node, nodes[:i])):
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
        out.append(f'{pad}awaiting {names} at '
                   f'{_file_line(filename, lineno)}')
    if awaited is not None:
        out.append(f'{pad}awaiting {awaited}'
                   + (f' (created at {site})' if site else ''))


def _text_task(d, group, first, rest, lines, budget, depth, above=(),
               alike=1):
    """A group of identical tasks: the first by name, with the count.
    *above*: (qualname, origin, task name) of the coroutines of the tasks
    above it in the tree, whose chain links it leaves out; *alike*: how
    many subtrees the groups above it stand for."""
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
    awaited = d.awaited(rec.waiter, rec.tail)
    if rec.lock and not rec.lock[0].startswith('('):
        awaited = None  # (asyncio's own future: the wait line says it all)
    _stack_lines(d, nodes, awaited, pad, out,
                 above, d.future_site(nodes, rec.waiter, rec.tail))
    if rec.lock:
        out.append(pad + rec.lock[0])
        cycle = _lock_cycle(rec)
        if cycle and cycle[0] not in d.lock_cycles:
            d.lock_cycles.add(cycle[0])     # (once per deadlock)
            more = alike * len(group) - 1
            text = cycle[1]
            if more:        # (the same deadlock in the groups' others)
                text = (f'{text[:-1]}; {more} more like it in the tasks '
                        f'counted with {_TIMES} above)')
            out.append(pad + text)
    if rec.call:
        out += _call_lines(d, rec.call, pad)
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
                       depth + 1, above + _shown_task(rec, nodes),
                       alike * len(group))


def _call_lines(d, call, pad):
    """The lines of a task's wait for a call an executor runs."""
    function, thread, calls = call
    if function is None:
        return [f'{pad}waiting for a call queued in an executor, not '
                f'started yet (its workers are busy)']
    lines = [f"{pad}waiting for {function}(), run by an executor in "
             f"thread {thread!r}"]
    lines.append(f'{pad}  {RUNNING_HEADER}')
    return lines + _site_lines(calls, pad + '    ', d.fold)


def _wait_kinds():
    """{code object: kind} of the asyncio methods _lock_wait() knows; None
    if asyncio._origin, asyncio.locks or asyncio.queues is not loaded
    (nothing is imported); the exception if it could not be made."""
    locks = sys.modules.get('asyncio.locks')
    queues = sys.modules.get('asyncio.queues')
    if (locks is None or queues is None
            or sys.modules.get('asyncio._origin') is None):
        return None
    try:
        return {locks.Lock.acquire.__code__: 'Lock',
                locks.Semaphore.acquire.__code__: 'Semaphore',
                locks.Event.wait.__code__: 'Event',
                locks.Condition.wait.__code__: 'Condition',
                queues.Queue.get.__code__: 'get',
                queues.Queue.put.__code__: 'put',
                queues.Queue.join.__code__: 'join'}
    except Exception as exc:
        return exc


def _lock_wait(rec, records, kinds):
    """[line, holder's record or None, is it a lock] if *rec*'s task waits
    in asyncio's Lock.acquire() or Semaphore.acquire() for a lock whose
    holders asyncio._origin kept, or in Event.wait(), Condition.wait(),
    Queue.get(), Queue.put() or Queue.join() for an object whose creation
    site it kept; else None.  The record is that of a lock's one holder
    (a cycle can only be named through a single holder).  *kinds*:
    _wait_kinds(), once per dump."""
    if kinds is None or rec.error:
        return None
    origin = sys.modules.get('asyncio._origin')
    try:
        if isinstance(kinds, Exception):
            kinds = _wait_kinds()       # (it failed once: again, per task)
            if isinstance(kinds, Exception):
                raise kinds
        coro = rec.task.get_coro()
        join = None             # Queue.join(), whose Event.wait() is its own
        for _ in range(MAX_DEPTH):
            if kinds.get(getattr(coro, 'cr_code', None)) == 'join':
                join = coro
            inner = getattr(coro, 'cr_await', None)
            if getattr(inner, 'cr_code', None) is None:
                break
            coro = inner
        if join is not None:
            coro = join
        kind = kinds.get(coro.cr_code)
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
            where += _ended_text(task)
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


def _ended_text(task):
    """'; it ended without releasing it ...' for a holder that is done (a
    lock or semaphore leaked: acquired, then the task failed or returned
    without release()), else ''."""
    try:
        if not task.done():
            return ''
        if task.cancelled():
            how = ', cancelled'
        else:
            exc = task._exception
            site = None if exc is None else _raise_site(exc)
            how = ('' if exc is None else f', failed: {_exc_name(exc)}'
                   + ('' if site is None else f' raised at {site[0]}:'
                      f'{site[1]}'))
        return f'; it ended without releasing it{how}'
    except Exception:
        return ''


# Holders of one semaphore named in a wait line.
MAX_HOLDERS_SHOWN = 3


def _lock_cycle(rec):
    """(its tasks' ids, 'deadlock: ...', its task records) if following
    who holds the lock each task waits for leads back to *rec*, else
    None."""
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
                    f'holds)', path)
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
             f'{_count(len(d.all_records), "asyncio task")}):']
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
    lines += _failed_lines(d, d.failed)
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
    if rec.call:
        function, thread, calls = rec.call
        entry['waiting_for_call'] = {
            'function': function, 'thread': thread,
            'running_calls': d.frames_json(calls) if calls else None}
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
        'failed_tasks': _failed_json(d, d.failed),
        'failed_task_count': len(d.failed),
        'idle_event_loops': _idle_loops(d),
        'left_out': {'entries': budget.entries_left,
                     'tasks': budget.tasks_left,
                     'coroutine_stacks': budget.stacks_left},
        'missed_requests': missed,
        'previous_write_failed': failure,
    }
    return json.dumps(doc, ensure_ascii=False) + '\n'


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


def build(format, missed, failure):
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
            why = failure_text(exc)
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


def failure_text(exc):
    """'Type: message', and the exception it was raised from: a C
    function that returns a result with an exception set, which upstream's
    json encoder does when memory runs out, gives a SystemError whose
    cause is what really failed."""
    text = f'{type(exc).__name__}: {_safe_str(exc)}'
    cause = exc.__cause__
    if cause is not None:
        text += f' (from {type(cause).__name__}: {_safe_str(cause)})'
    return text


