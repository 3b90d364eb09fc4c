"""Allocation failure in every tracking mode.

_testcapi.set_nomemory(start) makes every allocation from number "start"
on fail.  A sweep runs one step for start = 0, 1, 2, ... until a run
succeeds without reaching the window (an allocation made right after the
step still succeeds), then again with allocation "start" alone failing.
Every run must raise MemoryError or give the value computed outside the
window, from frames and line numbers, not from the origin being tested:

- creating a tracked coroutine at depth only, with chain=, an async
  generator with asyncgen, with tracebacks (and an exception escaping it), with
  skip=;
- reading cr_origin, cr_origin_chain, ag_origin and ag_origin_chain;
- sys.set_coroutine_origin_tracking[_default](skip=...): MemoryError, not
  ValueError, and no change;
- a dump, sys._dump_coroutines(file), text and JSON, in a child process
  started with dump= (the live registry exists only then): a run raises
  MemoryError, writes nothing, or writes a whole dump that is the dump
  made without failures (identical tasks may be left uncollapsed) or says
  what failed; and the dump works again afterwards.  Skipped where
  upstream itself breaks under allocation failure (see DumpTest.report).

Each run gets new code (fresh()), so that nothing it captures is interned
or cached already, with line numbers above the small-int cache, so that
even reading an origin has to allocate.  No function is made inside a
window: upstream's MAKE_FUNCTION drops a reference that it does not own
when the function cannot be allocated (gh-122752), so every function a
step runs in this process exists beforehand; the dump, whose renderer
makes functions, runs in a child that works around it.

Older 3.13 releases (make rebase builds 3.13.5 too) have two more upstream
bugs under allocation failure, fixed in later 3.13 releases; the sweeps
work around them only on the releases that have them, and UpstreamTest
checks that each is there exactly where the version says:

- gh-100964 (fixed in 3.13.12): clearing a finished coroutine's frame that
  has a frame object makes its caller's frame object if there is none yet
  (Python/frame.c, take_ownership(), reached through clear_gen_frame(),
  which unlinks the caller only afterwards); if that allocation fails,
  the exception being raised is cleared, and coro.send() fails with
  "SystemError: error return without exception set".  escape() makes its
  own frame object first on those releases.
- gh-134163 (fixed in 3.13.8): when the eval loop cannot allocate the
  instruction offset that a cleanup handler (finally, with, the end of an
  except block) pushes, it unwinds to that same handler again
  (Python/ceval.c, exception_unwind): the loop lasts as long as
  allocations fail, so a dump with every allocation from N on failing
  never ends.  On those releases the dump's sweep lets allocations
  N..N+DUMP_FAILURES-1 fail instead of every one from N on.
A third, gh-109700 (fixed in 3.13.6: a dict.setdefault() that cannot grow
the dict counts the key it did not insert, and the dict is corrupt), the
renderer avoids; DumpTest checks that it does not call setdefault().
This module is part of origin-python, not of upstream CPython.
"""

import json
import operator
import os
import sys
import textwrap
import tokenize
import unittest
import warnings
from test import support
from test.support import import_helper

from test.test_coro_origin._util import (CHILD_TIMEOUT, marker,
                                        quiet_failed_creations, run_python,
                                        stack_from)

_testcapi = import_helper.import_module('_testcapi')

FILE = __file__
CAP = 2000          # allocations a step may make before the sweep gives up
DEPTH = 3
PAD = 400           # fresh code starts at this line

# The upstream bugs of older 3.13 releases (see the docstring).
LOSES_EXCEPTION = sys.version_info < (3, 13, 12)    # gh-100964
UNWIND_LOOPS = sys.version_info < (3, 13, 8)        # gh-134163
# With UNWIND_LOOPS, how many allocations from N on fail in the dump's
# sweep: far more than a dump makes (a few thousand), so that a run that
# does not loop fails as it would with every allocation from N on failing.
DUMP_FAILURES = 1_000_000


async def corofn():
    pass


async def agenfn():
    yield 1


async def raiser(exc):
    raise exc


# Fresh code: make() returns target(*args); start() makes a root coroutine
# outer() which, driven, makes inner() (a root's child) and returns it;
# inner(), driven, returns make().  Each function names the frames it is
# created in, as cr_origin would (stack_from()).
FRESH = '\n' * PAD + textwrap.dedent('''\
    def make(*args):
        return target(*args)
    async def inner():
        return make()
    async def outer():
        return inner(), stack_from(sys._getframe(), DEPTH)
    def start():
        return outer(), stack_from(sys._getframe(), DEPTH)
    ''')
MAKE_LINE, INNER_LINE, OUTER_LINE, START_LINE = (PAD + 2, PAD + 4, PAD + 6,
                                                 PAD + 8)


def fresh(prefix, target, module=None):
    """New code, one module namespace at a time, in file f"{prefix}-{i}",
    in a module named "module" (default: the file name)."""
    i = 0
    while True:
        filename = f'{prefix}-{i}'
        ns = {'target': target, '__name__': module or filename,
              'stack_from': stack_from, 'sys': sys, 'DEPTH': DEPTH,
              'FILE': filename}
        exec(compile(FRESH, filename, 'exec'), ns)
        yield ns
        i += 1


def create(maker):
    return maker()  # marker: nomem-create


def drive(coro):
    """Run coro to its end with send(None); return what it returned."""
    try:
        coro.send(None)  # marker: nomem-drive
    except StopIteration as exc:
        return exc.value
    return None


def escape(coro):
    """Run coro, which raises ValueError; return the exception."""
    if LOSES_EXCEPTION:
        # gh-100964: clearing coro's frame must not have to make this
        # frame's object (a MemoryError here is a run's MemoryError).
        sys._getframe()
    try:
        coro.send(None)
    except ValueError as exc:
        return exc
    return None


get_cr_origin = operator.attrgetter('cr_origin')
get_cr_origin_chain = operator.attrgetter('cr_origin_chain')
get_ag_origin = operator.attrgetter('ag_origin')
get_ag_origin_chain = operator.attrgetter('ag_origin_chain')


def attempt(step, arg, start, stop):
    """Run step(arg) with allocations [start, stop) failing (stop 0: from
    start on).  Return (raised, value, reached): raised is whether it
    raised MemoryError; reached whether the window was reached, that is an
    allocation right after the step fails (None when stop is not 0)."""
    reached = False
    _testcapi.set_nomemory(start, stop)
    try:
        try:
            value = step(arg)  # marker: nomem-step
        finally:
            try:
                object()
            except MemoryError:
                reached = True
            _testcapi.remove_mem_hooks()
    except MemoryError:
        return True, None, True
    return False, value, reached if stop == 0 else None


class Sweeps(unittest.TestCase):

    def setUp(self):
        quiet_failed_creations(self)
        # Known settings, whatever the environment gave.
        saved = sys.get_coroutine_origin_tracking()
        self.addCleanup(
            sys.set_coroutine_origin_tracking, saved.depth,
            chain=saved.chain, asyncgen=saved.asyncgen,
            tracebacks=saved.tracebacks, full=saved.full, skip=saved.skip)
        sys.set_coroutine_origin_tracking(0, chain=0, asyncgen=False,
                                          tracebacks=False, full=False,
                                          skip=())

    def site(self, name, func):
        return (FILE, marker(FILE, 'nomem-' + name), func)

    def run_one(self, prepare, step, check, start, stop, on_raise=None):
        """One run: prepare() -> (arg, context) outside the window,
        step(arg) in it, then check(value, context, reached), or
        on_raise(context) if it raised MemoryError.  Return (raised,
        reached)."""
        arg, context = prepare()
        failed, value, reached = attempt(step, arg, start, stop)  # marker: nomem-sweep
        if not failed:
            check(value, context, reached)
        elif on_raise is not None:
            on_raise(context)
        context.clear()
        return failed, reached

    def sweep(self, prepare, step, check, *, on_raise=None, cap=CAP):
        """Allocations from N on failing, for N = 0, 1, ... until a run
        does not reach the window; then allocation N alone failing, for
        the N below that.  Return that N."""
        raised = 0
        for start in range(cap):
            failed, reached = self.run_one(prepare, step, check, start, 0,
                                           on_raise)
            raised += failed
            if not failed and not reached:
                break
        else:
            self.fail(f'still reaching the window after {cap} allocations')
        self.assertGreater(raised, 0, 'no allocation failed')
        total = start
        for start in range(total):
            self.run_one(prepare, step, check, start, start + 1, on_raise)
        return total


class CreateTest(Sweeps):

    def expected(self, ns):
        return ((ns['FILE'], MAKE_LINE, 'make'),
                self.site('create', 'create'), self.site('step', 'attempt'))

    def check_coroutine(self, expected):
        def check(coro, context, reached):
            self.assertEqual(coro.cr_origin, expected(context['ns']))
            self.assertIsNone(coro.cr_origin_chain)
            coro.close()
        return check

    def test_depth(self):
        sys.set_coroutine_origin_tracking(DEPTH)
        made = fresh('<nomem-depth>', corofn)

        def prepare():
            ns = next(made)
            return ns['make'], {'ns': ns}

        self.sweep(prepare, create, self.check_coroutine(self.expected))

    def test_notes(self):
        sys.set_coroutine_origin_tracking(DEPTH, tracebacks=True)
        made = fresh('<nomem-tracebacks>', corofn)

        def prepare():
            ns = next(made)
            return ns['make'], {'ns': ns}

        self.sweep(prepare, create, self.check_coroutine(self.expected))

    def test_skip(self):
        # make() of a module in the skip list is neither kept nor counted:
        # the frames are the caller's (fresh code too) and below.
        sys.set_coroutine_origin_tracking(DEPTH, skip='nomem_skipped')
        skipped = fresh('<nomem-skipped>', corofn, 'nomem_skipped.sub')
        callers = fresh('<nomem-caller>', None)

        def prepare():
            ns = next(callers)
            ns['target'] = next(skipped)['make']
            return ns['make'], {'ns': ns}

        def expected(ns):
            return ((ns['FILE'], MAKE_LINE, 'make'),
                    self.site('create', 'create'),
                    self.site('step', 'attempt'))

        self.sweep(prepare, create, self.check_coroutine(expected))

    def prepare_root(self, made):
        """A root coroutine (inner), created by another root (outer), both
        made outside the window, and their creation sites."""
        ns = next(made)
        r1, r1_site = ns['start']()
        r2, r2_site = drive(r1)
        return r2, {'ns': ns, 'chain': (('inner', r2_site),
                                        ('outer', r1_site))}

    def inner_origin(self, ns):
        return ((ns['FILE'], MAKE_LINE, 'make'),
                (ns['FILE'], INNER_LINE, 'inner'),
                self.site('drive', 'drive'))

    def test_chain(self):
        sys.set_coroutine_origin_tracking(DEPTH, chain=2)
        made = fresh('<nomem-chain>', corofn)

        def check(child, context, reached):
            self.assertEqual(child.cr_origin,
                             self.inner_origin(context['ns']))
            self.assertEqual(child.cr_origin_chain, context['chain'])
            child.close()

        self.sweep(lambda: self.prepare_root(made), drive, check)

    def test_asyncgen(self):
        sys.set_coroutine_origin_tracking(DEPTH, chain=2, asyncgen=True)
        made = fresh('<nomem-agen>', agenfn)

        def check(agen, context, reached):
            self.assertEqual(agen.ag_origin, self.inner_origin(context['ns']))
            self.assertEqual(agen.ag_origin_chain, context['chain'])

        self.sweep(lambda: self.prepare_root(made), drive, check)

    def test_exception_escapes(self):
        # With tracebacks, an exception escaping a coroutine driven by send()
        # records where the coroutine was created, in its __dict__.  Under
        # allocation failure the exception matters more: it is raised
        # without the record (only if the window was reached), or
        # MemoryError is.
        sys.set_coroutine_origin_tracking(DEPTH, tracebacks=True)
        made = fresh('<nomem-escape>', raiser)
        recorded = []

        def prepare():
            ns = next(made)
            exc = ValueError('escaped')
            coro, site = ns['make'](exc), stack_from(sys._getframe(),
                                                     DEPTH - 1)
            expected = ('coroutine', 'raiser',
                        ((ns['FILE'], MAKE_LINE, 'make'),) + site, None)
            return coro, {'exc': exc, 'expected': expected}

        def check(exc, context, reached):
            self.assertIs(exc, context['exc'])
            record = exc.__dict__.get('__coro_origin__')
            if reached is False:
                self.assertIsNotNone(record)
            if record is not None:
                self.assertEqual(record, context['expected'])
                recorded.append(record)
            exc.__traceback__ = None

        self.sweep(prepare, escape, check)
        self.assertTrue(recorded)


class ReadTest(Sweeps):
    """Reading an origin that was never read (its frame stack is new)."""

    def sweep_read(self, getter, make, expected):
        def prepare():
            obj, context = make()
            context['obj'] = obj
            return obj, context

        def check(value, context, reached):
            self.assertEqual(value, expected(context))
            # the next read, outside the window, agrees
            self.assertEqual(getter(context['obj']), value)

        def next_read(context):
            # after a MemoryError, the next read works
            self.assertEqual(getter(context['obj']), expected(context))

        self.sweep(prepare, getter, check, on_raise=next_read)

    def test_cr_origin(self):
        sys.set_coroutine_origin_tracking(DEPTH)
        made = fresh('<nomem-read>', corofn)

        def make():
            ns = next(made)
            coro, site = ns['make'](), stack_from(sys._getframe(), DEPTH - 1)
            return coro, {'expected': ((ns['FILE'], MAKE_LINE, 'make'),)
                                      + site}

        self.sweep_read(get_cr_origin, make, lambda c: c['expected'])

    def child_of_root(self, made):
        """A coroutine or async generator made by a root coroutine that
        another root made, and their creation sites."""
        def make():
            ns = next(made)
            r1, r1_site = ns['start']()
            r2, r2_site = drive(r1)
            child = drive(r2)
            return child, {'ns': ns, 'chain': (('inner', r2_site),
                                               ('outer', r1_site))}
        return make

    def inner_origin(self, context):
        ns = context['ns']
        return ((ns['FILE'], MAKE_LINE, 'make'),
                (ns['FILE'], INNER_LINE, 'inner'),
                (FILE, marker(FILE, 'nomem-drive'), 'drive'))

    def test_cr_origin_chain(self):
        sys.set_coroutine_origin_tracking(DEPTH, chain=2)
        made = fresh('<nomem-read-chain>', corofn)
        self.sweep_read(get_cr_origin_chain, self.child_of_root(made),
                        lambda c: c['chain'])

    def test_ag_origin(self):
        sys.set_coroutine_origin_tracking(DEPTH, chain=2, asyncgen=True)
        made = fresh('<nomem-read-agen>', agenfn)
        self.sweep_read(get_ag_origin, self.child_of_root(made),
                        self.inner_origin)

    def test_ag_origin_chain(self):
        sys.set_coroutine_origin_tracking(DEPTH, chain=2, asyncgen=True)
        made = fresh('<nomem-read-agen-chain>', agenfn)
        self.sweep_read(get_ag_origin_chain, self.child_of_root(made),
                        lambda c: c['chain'])


class SetSkipTest(Sweeps):
    """sys.set_coroutine_origin_tracking[_default](skip='a:b:c'): running
    out of memory raises MemoryError (the names are not wrong) and changes
    nothing."""

    def check_set_skip(self, setter, getter):
        def prepare():
            setter(skip=('x.y',))
            return {'skip': 'a:b:c'}, {'before': getter()}

        def step(kwargs):
            try:
                return setter(**kwargs)
            except ValueError as exc:
                return exc

        def check(value, context, reached):
            self.assertNotIsInstance(value, ValueError,
                                     'ValueError under allocation failure')
            self.assertIsNone(value)
            self.assertEqual(getter().skip, ('a', 'b', 'c'))

        def unchanged(context):
            self.assertEqual(getter(), context['before'])

        self.sweep(prepare, step, check, on_raise=unchanged)

    def test_thread(self):
        self.check_set_skip(sys.set_coroutine_origin_tracking,
                            sys.get_coroutine_origin_tracking)

    def test_default(self):
        saved = sys.get_coroutine_origin_tracking_default()
        self.addCleanup(sys.set_coroutine_origin_tracking_default,
                        skip=saved.skip)
        self.check_set_skip(sys.set_coroutine_origin_tracking_default,
                            sys.get_coroutine_origin_tracking_default)


# The dump: a child started with dump= (the live registry exists only then)
# sweeps sys._dump_coroutines() over allocation failures and reports.
DUMP_CHILD = textwrap.dedent(r"""
    import asyncio, difflib, io, json, os, re, sys, warnings
    import _testcapi
    import _coro_origin_request as R

    FORMAT = sys.argv[1]
    # 0: a run fails every allocation from N on; else this many (gh-134163)
    FAILURES = int(sys.argv[2])
    END = 'End of live coroutines.\n'
    NOTE = re.compile(r'^\(the previous dump could not be written: '
                      r'MemoryError.*\)\n', re.M)

    async def ticker(ev):
        await ev.wait()
        yield 1

    async def consume(ev):
        async for _ in ticker(ev):
            pass

    async def worker(ev):
        await ev.wait()

    async def crew(ev):
        async with asyncio.TaskGroup() as tg:
            for i in range(3):
                tg.create_task(worker(ev), name=f'crew-{i}')

    async def setup():
        ev = asyncio.Event()
        tasks = [asyncio.create_task(consume(ev), name='consume'),
                 asyncio.create_task(crew(ev), name='crew')]
        tasks += [asyncio.create_task(worker(ev), name=f'w-{i}')
                  for i in range(4)]
        for _ in range(5):
            await asyncio.sleep(0)
        return ev, tasks

    PINS = []

    def pin_nested_code(extra):
        # gh-122752: a MAKE_FUNCTION that cannot allocate the function
        # drops a reference to its code object, which the renderer's
        # lambdas and generator expressions then use after it is freed.
        # Keep "extra" more references to every code object a running
        # function can make a function from; the child leaves with
        # os._exit(), so the references are never given back.
        code_type = type(pin_nested_code.__code__)
        seen = set()
        def nested(code):
            for const in code.co_consts:
                if isinstance(const, code_type) and id(const) not in seen:
                    seen.add(id(const))
                    PINS.append([const] * extra)
                    nested(const)
        def walk(obj, depth):
            if isinstance(obj, type):
                if depth < 3:
                    for value in list(vars(obj).values()):
                        walk(value, depth + 1)
                return
            code = getattr(obj, '__code__', None)
            if isinstance(code, code_type):
                nested(code)
            for attr in ('fget', 'fset', 'fdel', '__func__'):
                sub = getattr(obj, attr, None)
                if sub is not None:
                    walk(sub, depth + 1)
        for module in list(sys.modules.values()):
            for value in list(getattr(module, '__dict__', {}).values()):
                walk(value, 0)

    def dump():
        out = io.StringIO()
        sys._dump_coroutines(out, format=FORMAT)
        return out.getvalue()

    def attempt(start, stop):
        reached = False
        _testcapi.set_nomemory(start, stop)
        try:
            try:
                text = dump()
            finally:
                try:
                    object()
                except MemoryError:
                    reached = True
                _testcapi.remove_mem_hooks()
        except MemoryError:
            return None, True
        return text, reached

    def normal(text):
        # a note that the previous write failed (MemoryError) is allowed
        if FORMAT == 'text':
            return NOTE.sub('', text)
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        if str(doc.get('previous_write_failed')).startswith('MemoryError'):
            doc['previous_write_failed'] = None
        doc.pop('pid', None)
        return doc

    def expand(entries):
        # one entry per task of a group of identical ones
        result = []
        for entry in entries:
            entry = dict(entry, children=expand(entry.get('children', ())))
            names = entry.pop('names', None) or [entry['name']]
            for name in names[:entry.get('count', 1)]:
                result.append(dict(entry, name=name, count=1))
        return result

    def lines(text):
        # what a dump says, as a multiset of lines, identical tasks not
        # collapsed into one entry
        import collections
        if FORMAT == 'text':
            return collections.Counter(
                line.lstrip(' \u2502\u251c\u2514\u2500')
                for line in NOTE.sub('', text).splitlines()
                if '\u00d7' not in line)
        doc = normal(text)
        doc['tasks'] = expand(doc.get('tasks', ()))
        return collections.Counter(
            json.dumps(doc, indent=0, sort_keys=True).splitlines())

    def complete(text):
        if FORMAT == 'text':
            return text.endswith(END)
        try:
            return isinstance(json.loads(text), dict) and text.endswith('\n')
        except ValueError:
            return False

    def starts():
        start = 0
        while start < 100000:
            yield start
            start += 1 if start < 300 else start // 100

    def main():
        warnings.simplefilter('ignore')
        loop = asyncio.new_event_loop()
        ev, tasks = loop.run_until_complete(setup())
        pin_nested_code(5000)
        ref_text = dump()
        ref = normal(ref_text)
        ref_lines = lines(ref_text)
        report = {'outcomes': {}, 'bad': [], 'damage': [], 'damaged': 0,
                  'total': None}

        def run(start, stop):
            text, reached = attempt(start, stop)
            if text is None:
                kind = 'MemoryError'
            elif text == '':
                kind = 'nothing written'
            elif normal(text) == ref:
                kind = 'the dump'
            elif complete(text) and not ref_lines - lines(text):
                kind = 'the dump, identical tasks not collapsed'
            elif complete(text) and ('MemoryError' in text
                                     or 'could not be read' in text):
                kind = 'a dump that says what failed'
            elif complete(text):
                kind = 'BAD: a dump that differs without saying why'
            else:
                kind = 'BAD: an incomplete dump'
            report['outcomes'][kind] = report['outcomes'].get(kind, 0) + 1
            if kind.startswith('BAD') and len(report['bad']) < 3:
                got = normal(text)
                if FORMAT == 'json' and isinstance(got, dict):
                    got, want = (json.dumps(x, indent=0, sort_keys=True)
                                 for x in (got, ref))
                else:
                    want = ref if FORMAT == 'text' else json.dumps(ref)
                diff = list(difflib.unified_diff(
                    want.splitlines(), got.splitlines(), 'the dump',
                    'this run', lineterm='', n=1))
                report['bad'].append((start, stop, kind,
                                      '\n'.join(diff[:40])))
            # Nothing lasts: the next dump, outside the window, is the
            # whole dump (whatever state the failed one left: CPython may
            # skip a finally block when memory runs out), and it leaves
            # the state of the dump clean.
            damage = []
            if normal(dump()) != ref:
                damage.append('the next dump differs')
            if getattr(R, '_active', None):
                damage.append('the thread is still marked as dumping')
                R._active.clear()
            lock = getattr(R, '_lock', None)
            if lock is not None and lock.locked():
                damage.append('the dump lock is still held')
                lock.release()
            if damage:
                report['damaged'] += 1
                if len(report['damage']) < 50:
                    report['damage'].append((start, stop, kind, damage))
            return text is not None and normal(text) == ref, reached

        for start in starts():
            same, reached = run(start, start + FAILURES if FAILURES else 0)
            if same and not reached:
                report['total'] = start
                break
        for start in starts():
            if report['total'] is None or start >= report['total']:
                break
            run(start, start + 1)
        ev.set()
        loop.run_until_complete(asyncio.gather(*tasks))
        print(json.dumps(report), flush=True)
        os._exit(0)

    main()
    """)


class DumpTest(unittest.TestCase):
    """sys._dump_coroutines() under allocation failure, text and JSON.

    A run raises MemoryError, writes nothing (it could not even start),
    or writes a whole dump: the one written without failures, or one that
    says what failed ("MemoryError", "could not be read"); and every run
    leaves the dump working."""

    reports = {}

    def report(self, fmt):
        if support.Py_GIL_DISABLED:
            # Objects/listobject.c, PyList_New(): when the item array cannot
            # be allocated, the free-threaded build deallocates the list
            # before setting its ob_item, which frees the array of the
            # list's previous life (from the freelist) again.
            self.skipTest('upstream 3.13 free-threaded PyList_New() frees '
                          'a stale item array when out of memory')
        if fmt == 'json' and support.Py_DEBUG:
            self.skipTest("upstream's C json encoder returns a result with "
                          "an exception set when out of memory (a fatal "
                          "error in a debug build)")
        if support.Py_DEBUG:
            # Seen with gdb: dump()'s call of _run_dump(), specialized to
            # CALL_PY_GENERAL, fails for lack of memory and reaches the
            # eval loop's error label with no exception set, which a
            # debug build asserts (Python/ceval.c).  The release build
            # runs these sweeps.
            self.skipTest("upstream 3.13: a CALL_PY_GENERAL that fails "
                          "for lack of memory sets no exception (an "
                          "assertion in a debug build)")
        if fmt not in self.reports:
            failures = DUMP_FAILURES if UNWIND_LOOPS else 0
            try:
                res, cmd = run_python(
                    '-X', 'coro_origin=5,chain=2,asyncgen,dump=SIGUSR1',
                    '-c', DUMP_CHILD, fmt, str(failures), **child_env())
                if res.rc:
                    res.fail(cmd)
                self.reports[fmt] = json.loads(res.out.decode())
            except AssertionError as exc:
                # The other test of this format fails at once with it,
                # instead of running (and timing out) again.
                self.reports[fmt] = exc
        report = self.reports[fmt]
        if isinstance(report, AssertionError):
            self.fail(f'the {fmt} sweep failed: {report}')
        return report

    def check_outcomes(self, fmt):
        report = self.report(fmt)
        self.assertIsNotNone(report['total'],
                             f'no run without reaching the window: {report}')
        self.assertIn('MemoryError', report['outcomes'], report['outcomes'])
        bad = '\n'.join(f'set_nomemory({start}, {stop}): {kind}:\n{text}'
                        for start, stop, kind, text in report['bad'])
        self.assertEqual(report['bad'], [],
                         f'{report["outcomes"]}\nfirst ones:\n{bad}')

    def check_recovers(self, fmt):
        report = self.report(fmt)
        damage = report['damage']
        kinds = {}
        for start, stop, outcome, what in damage:
            for item in what:
                kinds.setdefault(f'{item} (after {outcome})', []).append(
                    f'set_nomemory({start}, {stop})')
        summary = '\n'.join(f'  {kind}: {len(runs)} runs, first '
                             f'{", ".join(runs[:3])}'
                             for kind, runs in kinds.items())
        self.assertEqual(report['damaged'], 0,
                         f'runs that left the dump broken (the first '
                         f'{len(damage)}):\n{summary}')

    def test_renderer_avoids_setdefault(self):
        # gh-109700 (see the module's docstring): the dump runs on 3.13
        # releases before 3.13.6 too.
        import importlib
        for name in ('_coro_origin_report', '_coro_origin_dump',
                     '_coro_origin_request', '_coro_origin_strict'):
            with self.subTest(name):
                module = importlib.import_module(name)
                with open(module.__file__, 'rb') as f:
                    tokens = list(tokenize.tokenize(f.readline))
                calls = [tok.start[0]
                         for prev, tok in zip(tokens, tokens[1:])
                         if prev.string == '.' and tok.string == 'setdefault']
                self.assertEqual(calls, [], f'lines of {name}.py that '
                                            f'call setdefault()')

    def test_text(self):
        self.check_outcomes('text')

    def test_json(self):
        self.check_outcomes('json')

    def test_text_recovers(self):
        self.check_recovers('text')

    def test_json_recovers(self):
        self.check_recovers('json')


# gh-134163: f()'s finally block starts after more than 256 instructions,
# so unwinding into its cleanup handler allocates the offset it pushes.
# Every allocation fails from set_nomemory(0) on.  faulthandler ends a
# child that loops.
UNWIND_SECONDS = 5
UNWIND_CHILD = textwrap.dedent(f"""
    import faulthandler, _testcapi
    faulthandler.dump_traceback_later({UNWIND_SECONDS}, exit=True)
    def g():
        return [None] * 1000
    exec('def f():\\n' + '    a = 1\\n' * 150
         + '    try:\\n        g()\\n    finally:\\n        pass\\n')
    _testcapi.set_nomemory(0)
    try:
        f()
    except MemoryError:
        _testcapi.remove_mem_hooks()
        print('MemoryError')
    """)


class UpstreamTest(Sweeps):
    """The upstream bugs that the sweeps work around on older releases (see
    the module's docstring) are there exactly on the releases that
    LOSES_EXCEPTION and UNWIND_LOOPS name, with tracking off (upstream's
    code alone): no workaround is missing, none is left over."""

    def test_gh100964_exception_lost(self):
        # A coroutine that raises, driven by send() from a frame that has
        # no frame object, each allocation failing in turn.
        def send(coro):
            try:
                coro.send(None)
            except ValueError as exc:
                return exc
            return None

        outcomes = set()
        for start in range(100):
            exc = ValueError('escaped')
            try:
                failed, value, _ = attempt(send, raiser(exc), start,
                                           start + 1)
            except SystemError as err:
                outcomes.add(f'SystemError: {err}')
                continue
            outcomes.add('MemoryError' if failed
                         else 'the ValueError' if value is exc
                         else f'something else: {value!r}')
        expected = {'MemoryError', 'the ValueError'}
        if LOSES_EXCEPTION:
            expected.add('SystemError: error return without exception set')
        self.assertEqual(outcomes, expected)

    def test_gh134163_unwind_loop(self):
        res, cmd = run_python('-c', UNWIND_CHILD,
                              timeout=UNWIND_SECONDS + CHILD_TIMEOUT)
        if UNWIND_LOOPS:
            self.assertEqual(res.rc, 1, res)
            self.assertEqual(res.out, b'')
            self.assertTrue(res.err.startswith(
                f'Timeout (0:00:0{UNWIND_SECONDS})!\n'.encode()), res.err)
        else:
            self.assertEqual((res.rc, res.out, res.err),
                             (0, b'MemoryError\n', b''))


def child_env():
    """A clean environment, with what a shared library build needs."""
    env = {'__cleanenv': True}
    if os.environ.get('LD_LIBRARY_PATH'):
        env['LD_LIBRARY_PATH'] = os.environ['LD_LIBRARY_PATH']
    return env


if __name__ == '__main__':
    unittest.main()
