
# ---- origin-python: py-tasks ----------------------------------------------
#
# This part of python-gdb.py is origin-python's, not upstream CPython's: the
# build appends it to Tools/gdb/libpython.py (Makefile.pre.in) and uses the
# classes above (PyObjectPtr, PyFramePtr, PyCodeObjectPtr).
#
#   (gdb) py-tasks
#
# lists the asyncio tasks and the coroutines of the process or core file
# that gdb has: each task with the await chain of its coroutine, the line
# each coroutine is suspended at, what the innermost one awaits, the task
# that awaits it (as a tree), and where each coroutine was created when
# origin tracking recorded it.  Everything is read from the process's
# memory: no code runs in it, so it works on a process started without
# dump=, on one stuck in C code, and on a core file.  Objects are found in
# the cyclic collector's lists, which the free-threaded build does not
# keep.  A process stopped in the middle of a collection or of a change to
# a task may show it half done; py-tasks reads what is there and says so
# when a read fails.  See Doc/library/coro_origin_asyncio.rst.

import linecache as _co_linecache
import struct as _co_struct


class _CoroOriginTasks:
    """What py-tasks read from the inferior's memory."""

    # Frame states (Include/internal/pycore_frame.h).
    CREATED, SUSPENDED, YIELD_FROM, EXECUTING = -3, -2, -1, 0
    STATES = ('pending', 'cancelled', 'finished')   # fut_state
    MAX_OBJECTS = 50_000_000
    MAX_DEPTH = 64          # await chain, callback walk

    def __init__(self):
        self.inferior = gdb.selected_inferior()
        self.type_names = {}    # type address -> tp_name
        self.type_bases = {}    # type address -> tp_base address
        self.warnings = []
        # The first field after PyObject_HEAD (futureiterobject's future,
        # PyAsyncGenASend's ags_gen).
        self.head = gdb.lookup_type('PyObject').sizeof
        # asyncio's own files, folded as the renderer folds them.
        try:
            stdlib = (gdb.parse_and_eval('_PyRuntime')['interpreters']
                      ['main']['config']['stdlib_dir'].string())
        except (gdb.error, UnicodeDecodeError):
            stdlib = ''
        self.asyncio_dir = (stdlib.rstrip('/') + '/asyncio/' if stdlib
                            else '\0')

    # -- raw memory ---------------------------------------------------------

    def word(self, addr):
        return _co_struct.unpack(
            'P', bytes(self.inferior.read_memory(addr, _co_struct.calcsize('P'))))[0]

    def ptr(self, addr, typename):
        return gdb.Value(addr).cast(gdb.lookup_type(typename).pointer())

    def type_of(self, addr):
        return int(self.ptr(addr, 'PyObject').dereference()['ob_type'])

    def type_name(self, tp):
        name = self.type_names.get(tp)
        if name is None:
            t = self.ptr(tp, 'PyTypeObject').dereference()
            try:
                name = t['tp_name'].string()
            except (gdb.error, UnicodeDecodeError):
                name = '?'
            self.type_names[tp] = name
            self.type_bases[tp] = int(t['tp_base'])
        return name

    def is_kind(self, addr, tp_name):
        """Is the object at addr of the type tp_name or a subclass of it?"""
        tp = self.type_of(addr)
        for _ in range(self.MAX_DEPTH):
            if not tp:
                return False
            if self.type_name(tp) == tp_name:
                return True
            tp = self.type_bases[tp]
        return False

    def text(self, addr):
        """A str or int object as Python text, None for NULL."""
        if not addr:
            return None
        obj = PyObjectPtr.from_pyobject_ptr(self.ptr(addr, 'PyObject'))
        return obj.proxyval(set())

    # -- finding objects ----------------------------------------------------

    def interpreters(self):
        interp = gdb.parse_and_eval('_PyRuntime')['interpreters']['head']
        while int(interp):
            yield interp
            interp = interp['next']

    def gc_objects(self, interp):
        """Addresses of the objects in the collector's lists."""
        gc = interp['gc']
        if any(f.name == 'ob_tid' for f in gdb.lookup_type('PyObject').fields()):
            raise gdb.GdbError(
                'py-tasks: the free-threaded build keeps no list of its '
                'objects that py-tasks can read; ask the process itself '
                '(python -m coro_origin dump PID, with dump= in its spec)')
        if int(gc['collecting']):
            self.warnings.append('the process was stopped during a garbage '
                                 'collection: some objects may be missing')
        lists = [gc['generations'][i]['head'] for i in range(3)]
        lists.append(gc['permanent_generation']['head'])
        head_size = gdb.lookup_type('PyGC_Head').sizeof
        type_at = head_size + gdb.lookup_type('PyObject')['ob_type'].bitpos // 8
        size = _co_struct.calcsize('P')
        layout = '%dx' % (type_at - size)
        count = 0
        for head in lists:
            start = int(head.address)
            node = self.word(start) & ~3
            while node and node != start:
                # one read per object: its _gc_next and its ob_type
                raw = bytes(self.inferior.read_memory(node, type_at + size))
                following, tp = _co_struct.unpack('P' + layout + 'P', raw)
                yield node + head_size, tp
                count += 1
                if count > self.MAX_OBJECTS:
                    self.warnings.append('stopped after %d objects'
                                         % self.MAX_OBJECTS)
                    return
                node = following & ~3

    # -- coroutines ---------------------------------------------------------

    def frame_of(self, gen):
        g = self.ptr(gen, 'PyGenObject').dereference()
        return PyFramePtr(g['gi_iframe'].address.cast(
            gdb.lookup_type('_PyInterpreterFrame').pointer()))

    def gen_state(self, gen):
        return int(self.ptr(gen, 'PyGenObject').dereference()['gi_frame_state'])

    def awaited(self, gen):
        """What the suspended generator or coroutine gen awaits, or 0."""
        if self.gen_state(gen) != self.YIELD_FROM:
            return 0
        frame = self.frame_of(gen)._gdbval
        top = int(frame['stacktop'])
        return int(frame['localsplus'][top - 1])

    def where(self, gen):
        frame = self.frame_of(gen)
        line = frame.current_line_num()
        return '%s:%s' % (frame.filename(), line if line is not None else '?')

    def qualname(self, gen):
        return self.text(int(self.ptr(gen, 'PyGenObject').dereference()['gi_qualname']))

    def creation_site(self, gen):
        """The frames of gen's origin, outermost first: (file, line,
        function); None when it was not tracked."""
        slot = int(self.ptr(gen, 'PyGenObject').dereference()['gi_origin_or_finalizer'])
        if not slot:
            return None
        kind = self.type_name(self.type_of(slot))
        if kind == 'coroutine_origin_record':
            slot = int(self.ptr(slot, 'origin_record').dereference()['frames'])
            if not slot:
                return None
            kind = self.type_name(self.type_of(slot))
        if kind != 'coroutine_origin_frames':
            return None
        stack = self.ptr(slot, 'frame_stack').dereference()
        n = int(stack['ob_base']['ob_size'])
        frames = []
        for i in range(min(n, 256)):
            entry = stack['entries'][i]
            code = PyCodeObjectPtr.from_pyobject_ptr(
                entry['code'].cast(gdb.lookup_type('PyObject').pointer()))
            try:
                line = code.addr2line(int(entry['addr']) // 2)
            except Exception:
                line = None
            frames.append((code.pyop_field('co_filename').proxyval(set()),
                           line,
                           code.pyop_field('co_name').proxyval(set())))
        frames.reverse()
        return frames

    # -- futures and tasks --------------------------------------------------

    def future_label(self, fut):
        state = int(self.ptr(fut, 'FutureObj').dereference()['fut_state'])
        return '<%s %s>' % (self.type_name(self.type_of(fut)),
                            self.STATES[state] if 0 <= state < 3 else '?')

    def task_name(self, task):
        name = self.text(int(self.ptr(task, 'TaskObj').dereference()['task_name']))
        if isinstance(name, int):
            return 'Task-%d' % name
        return str(name)

    def task_state(self, task):
        state = int(self.ptr(task, 'TaskObj').dereference()['task_state'])
        return self.STATES[state] if 0 <= state < 3 else '?'

    def callbacks(self, fut):
        f = self.ptr(fut, 'FutureObj').dereference()
        found = []
        if int(f['fut_callback0']):
            found.append(int(f['fut_callback0']))
        lst = int(f['fut_callbacks'])
        if lst and self.type_name(self.type_of(lst)) == 'list':
            lo = self.ptr(lst, 'PyListObject').dereference()
            for i in range(min(int(lo['ob_base']['ob_size']), 1000)):
                item = int(lo['ob_item'][i])   # (callback, context)
                if item and self.type_name(self.type_of(item)) == 'tuple':
                    to = self.ptr(item, 'PyTupleObject').dereference()
                    found.append(int(to['ob_item'][0]))
        return found

    def waiters(self, fut, depth=0):
        """The tasks that fut's done callbacks wake up: a task's wake-up
        method, or a future (gather's) held by a callback's closure whose
        own callbacks do."""
        tasks = []
        if depth > 4:
            return tasks
        for cb in self.callbacks(fut):
            kind = self.type_name(self.type_of(cb))
            owner = 0
            if kind == 'builtin_function_or_method':
                owner = int(self.ptr(cb, 'PyCFunctionObject').dereference()['m_self'])
            elif kind == 'method':
                owner = int(self.ptr(cb, 'PyMethodObject').dereference()['im_self'])
            elif kind == 'function':
                closure = int(self.ptr(cb, 'PyFunctionObject').dereference()['func_closure'])
                if closure:
                    to = self.ptr(closure, 'PyTupleObject').dereference()
                    for i in range(min(int(to['ob_base']['ob_size']), 32)):
                        cell = int(to['ob_item'][i])
                        ref = int(self.ptr(cell, 'PyCellObject').dereference()['ob_ref'])
                        if ref and ref != fut and self.is_kind(ref, '_asyncio.Future'):
                            tasks.extend(self.waiters(ref, depth + 1))
                continue
            if owner and owner != fut:
                if self.is_kind(owner, '_asyncio.Task'):
                    tasks.append(owner)
        return tasks

    def chain(self, coro):
        """The await chain from coro down, as (label, gen, state) nodes,
        and the innermost awaited future or task (0 if none, or a type
        name when it is something else)."""
        nodes = []
        obj = coro
        label = 'coroutine'
        for _ in range(self.MAX_DEPTH):
            if any(obj == n[1] for n in nodes):
                break
            kind = self.type_name(self.type_of(obj))
            if kind == 'async_generator_asend':
                obj = self.word(obj + self.head)      # ags_gen
                label = 'async generator'
                continue
            if kind not in ('coroutine', 'generator', 'async_generator'):
                if kind == '_asyncio.FutureIter':
                    obj = self.word(obj + self.head)  # future
                if obj and self.is_kind(obj, '_asyncio.Future'):
                    return nodes, obj
                return nodes, kind
            nodes.append((label, obj, self.gen_state(obj)))
            self.reached.add(obj)
            obj = self.awaited(obj)
            if not obj:
                break
            label = 'awaiting'
        return nodes, 0

    def machinery(self, gen):
        """Is gen's code asyncio's own (the dump folds it likewise)?"""
        filename = self.frame_of(gen).filename()
        return (filename.startswith(self.asyncio_dir)
                or filename.startswith('<frozen '))

    def node_text(self, label, gen, state):
        name = self.qualname(gen)
        if state == self.CREATED:
            return '%s %s() created, not started' % (label, name)
        if state == self.EXECUTING:
            return '%s %s() running at %s' % (label, name, self.where(gen))
        if state in (self.SUSPENDED, self.YIELD_FROM):
            return '%s %s() suspended at %s' % (label, name, self.where(gen))
        return '%s %s() finished' % (label, name)

    # -- the listing --------------------------------------------------------

    def site_lines(self, frames):
        out = ['Coroutine created at (most recent call last)']
        folded = 0
        for filename, line, func in frames:
            if (filename.startswith(self.asyncio_dir)
                    or filename.startswith('<frozen ')):
                folded += 1
                continue
            if folded:
                out.append('  [%d frame%s folded: asyncio]'
                           % (folded, 's' if folded > 1 else ''))
                folded = 0
            out.append('  File "%s", line %s, in %s' % (filename, line, func))
            source = _co_linecache.getline(filename, line or 0).strip()
            if source:
                out.append('    ' + source)
        if folded:
            out.append('  [%d frame%s folded: asyncio]'
                       % (folded, 's' if folded > 1 else ''))
        return out

    def coroutine_block(self, coro):
        """Lines for the await chain from coro, the first one's creation
        site under it, and asyncio's own coroutines under the program's
        collapsed into one line as the dump does."""
        out = []
        nodes, end = self.chain(coro)
        tail = 0
        for node in reversed(nodes):
            if not self.machinery(node[1]):
                break
            tail += 1
        if tail == len(nodes):
            tail = 0
        keep = nodes[:len(nodes) - tail]
        for i, (label, gen, state) in enumerate(keep):
            out.append(self.node_text(label, gen, state))
            site = self.creation_site(gen) if i == 0 else None
            if site:
                out.extend('  ' + s for s in self.site_lines(site))
        if tail:
            inner = nodes[len(nodes) - tail:]
            out.append('awaiting %s at %s' % (
                ' -> '.join('%s()' % self.qualname(n[1]) for n in inner),
                self.where(inner[-1][1])))
        if isinstance(end, str):
            out.append('awaiting <%s>' % end)
            end = 0
        return out, end

    def task_block(self, task):
        t = self.ptr(task, 'TaskObj').dereference()
        out = ["Task '%s' (%s)" % (self.task_name(task), self.task_state(task))]
        coro = int(t['task_coro'])
        body, fut = self.coroutine_block(coro) if coro else ([], 0)
        out.extend('  ' + s for s in body)
        waiter = int(t['task_fut_waiter'])
        if waiter and waiter != fut:
            fut = waiter
        if fut:
            if self.is_kind(fut, '_asyncio.Task'):
                out.append("  awaiting Task '%s'" % self.task_name(fut))
            else:
                out.append('  awaiting ' + self.future_label(fut))
        return out

    def tree(self, task, children, prefix, out, seen):
        seen.add(task)
        kids = [c for c in children.get(task, ()) if c not in seen]
        try:
            lines = self.task_block(task)
        except (gdb.MemoryError, gdb.error) as exc:
            lines = ['Task at 0x%x: could not be read (%s)' % (task, exc)]
        out.append(prefix[0] + lines[0])
        out.extend(prefix[1] + line for line in lines[1:])
        for n, kid in enumerate(kids):
            last = n == len(kids) - 1
            self.tree(kid, children,
                      (prefix[1] + ('└── ' if last else '├── '),
                       prefix[1] + ('    ' if last else '│   ')),
                      out, seen)

    def report(self):
        coros, tasks = [], []
        kinds = {}              # type address -> coros, tasks or None
        for interp in self.interpreters():
            for obj, tp in self.gc_objects(interp):
                found = kinds.get(tp, 0)
                if found == 0:
                    try:
                        found = kinds[tp] = (
                            coros if self.type_name(tp) == 'coroutine'
                            else tasks if self.is_kind(obj, '_asyncio.Task')
                            else None)
                    except gdb.MemoryError:
                        self.warnings.append('an object at 0x%x could not '
                                             'be read' % obj)
                        continue
                if found is not None:
                    found.append(obj)
        self.reached = set()
        pending = [t for t in tasks if self.task_state(t) == 'pending']
        children, parent = {}, {}
        for t in pending:
            for w in self.waiters(t):
                if w != t and w not in parent.get(t, ()):
                    parent.setdefault(t, []).append(w)
                    children.setdefault(w, []).append(t)
        out = []
        seen = set()
        roots = [t for t in pending if not parent.get(t)]
        for t in roots + pending:
            if t not in seen:
                out.append('')
                self.tree(t, children, ('', ''), out, seen)
        loose = [c for c in coros if c not in self.reached
                 and self.gen_state(c) <= self.EXECUTING]
        # A coroutine awaited by another loose one is shown under it.
        inner = set()
        for c in loose:
            nxt = self.awaited(c)
            while nxt and nxt not in inner:
                inner.add(nxt)
                nxt = (self.awaited(nxt) if self.type_name(self.type_of(nxt))
                       in ('coroutine', 'generator') else 0)
        loose = [c for c in loose if c not in inner]
        if loose:
            out.append('')
            out.append('Not in a task:')
            for c in loose:
                try:
                    body, fut = self.coroutine_block(c)
                    if fut:
                        body.append('awaiting ' + self.future_label(fut))
                except (gdb.MemoryError, gdb.error) as exc:
                    body = ['coroutine at 0x%x: could not be read (%s)'
                            % (c, exc)]
                out.extend('  ' + line for line in body)
        head = ('Asyncio tasks and coroutines, read from memory by py-tasks '
                '(%d pending task%s):'
                % (len(pending), '' if len(pending) == 1 else 's'))
        out.insert(0, head)
        for w in self.warnings:
            out.append('py-tasks: ' + w)
        out.append('')
        out.append('End of tasks.')
        return '\n'.join(out)


class PyTasks(gdb.Command):
    '''List the asyncio tasks and coroutines of the process, with their
await chains and creation sites, read from its memory (origin-python).'''

    def __init__(self):
        gdb.Command.__init__(self, 'py-tasks', gdb.COMMAND_DATA,
                             gdb.COMPLETE_NONE)

    def invoke(self, args, from_tty):
        try:
            text = _CoroOriginTasks().report()
        except gdb.MemoryError as exc:
            raise gdb.GdbError('py-tasks: memory could not be read (%s); '
                               'the process may be in the middle of a '
                               'collection: try again' % exc)
        except RuntimeError as exc:
            if 'No symbol' in str(exc) or 'No type' in str(exc):
                raise gdb.GdbError('py-tasks: %s (a build without debug '
                                   'information?)' % exc)
            raise
        print(text)

PyTasks()
