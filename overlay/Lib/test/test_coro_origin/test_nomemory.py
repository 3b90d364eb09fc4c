"""Allocation failure in every tracking mode.

_testcapi.set_nomemory(start) makes every allocation from number "start"
on fail.  A sweep runs one step for start = 0, 1, 2, ... until a run
succeeds without reaching the window (an allocation made right after the
step still succeeds), then again with allocation "start" alone failing.
Every run must raise MemoryError or give the value computed outside the
window, from frames and line numbers, not from the origin being tested:

- creating a tracked coroutine at depth only, with chain=, an async
  generator with asyncgen, with notes (and an exception escaping it), with
  skip=;
- reading cr_origin, cr_origin_chain, ag_origin and ag_origin_chain;
- sys.set_coroutine_origin_tracking[_default](skip=...): MemoryError, not
  ValueError, and no change;
- a dump, sys._dump_coroutines(file), text and JSON, in a child process
  started with dump= (the live registry exists only then).

Each run gets new code (fresh()), so that nothing it captures is interned
or cached already, with line numbers above the small-int cache, so that
even reading an origin has to allocate.  No function is made inside a
window: upstream's MAKE_FUNCTION drops a reference that it does not own
when the function cannot be allocated (gh-122752), so every function a
step runs in this process exists beforehand; the dump, whose renderer
makes functions, runs in a child that works around it.
This module is part of origin-python, not of upstream CPython.
"""

import json
import operator
import sys
import textwrap
import unittest
import warnings
from test import support
from test.support import import_helper

from test.test_coro_origin._util import marker, run_python, stack_from

_testcapi = import_helper.import_module('_testcapi')

FILE = __file__
CAP = 2000          # allocations a step may make before the sweep gives up
DEPTH = 3
PAD = 400           # fresh code starts at this line


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
        # A coroutine whose creation failed is deallocated unawaited; its
        # warning, and an error while warning, are not what is tested.
        cm = warnings.catch_warnings()
        cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        warnings.simplefilter('ignore')
        cm = support.catch_unraisable_exception()
        cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        # Known settings, whatever the environment gave.
        saved = sys.get_coroutine_origin_tracking()
        self.addCleanup(
            sys.set_coroutine_origin_tracking, saved.depth,
            chain=saved.chain, asyncgen=saved.asyncgen, notes=saved.notes,
            full=saved.full, skip=saved.skip)
        sys.set_coroutine_origin_tracking(0, chain=0, asyncgen=False,
                                          notes=False, full=False, skip=())

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
        sys.set_coroutine_origin_tracking(DEPTH, notes=True)
        made = fresh('<nomem-notes>', corofn)

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
        # With notes, an exception escaping a coroutine driven by send()
        # records where the coroutine was created, in its __dict__.  Under
        # allocation failure the exception matters more: it is raised
        # without the record (only if the window was reached), or
        # MemoryError is.
        sys.set_coroutine_origin_tracking(DEPTH, notes=True)
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

        self.sweep(prepare, getter, check)

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


if __name__ == '__main__':
    unittest.main()
