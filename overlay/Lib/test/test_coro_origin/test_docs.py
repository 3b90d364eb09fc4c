"""The documentation of origin-python's sys additions agrees with the code.

The pages are read from the source tree this interpreter was built from
(sysconfig's srcdir, else the tree this file is in): the overlay's
Doc/library/coro_origin.rst and coro_origin_asyncio.rst, and the entries
that patch 0006 adds to Doc/library/sys.rst.  Checked:

- every ``sys.NAME`` the overlay's pages mention exists;
- every documented function and method (``.. function::``,
  ``.. method::``) has exactly the documented signature, as
  inspect.signature() reads it (Argument Clinic's __text_signature__);
- the documented attributes of coroutines and async generators exist;
- each documented function returns and does what its entry says: one
  check per function below, and a documented function without a check
  fails, so that a new entry comes with one.

Only an interpreter without its source tree (an installed one) skips.
This module is part of origin-python, not of upstream CPython.
"""

import inspect
import json
import os
import re
import signal
import sys
import sysconfig
import threading
import traceback
import unittest

from test.test_coro_origin._util import (assert_python_ok, corofn, settings,
                                        stack_from)

PAGES = ('coro_origin.rst', 'coro_origin_asyncio.rst')
# The public functions patch 0006 documents in Doc/library/sys.rst.
SYS_RST_FUNCTIONS = {
    'sys.get_coroutine_origin_tracking',
    'sys.get_coroutine_origin_tracking_default',
    'sys.set_coroutine_origin_tracking',
    'sys.set_coroutine_origin_tracking_default',
}
# Names the pages give as "sys.NAME" that are types, not attributes.
DOCUMENTED_TYPES = {
    'coroutine_origin_tracking':
        lambda: type(sys.get_coroutine_origin_tracking()),
}

def doc_dir():
    """Doc/library of the source tree, or None."""
    candidates = []
    srcdir = sysconfig.get_config_var('srcdir')
    if srcdir:
        candidates.append(os.path.join(srcdir, 'Doc', 'library'))
    # Lib/test/test_coro_origin/ of a source tree (a symbolic link to the
    # overlay's file in build/src: not resolved, so this is the tree's).
    here = os.path.dirname(os.path.abspath(__file__))
    candidates.append(os.path.join(here, os.pardir, os.pardir, os.pardir,
                                   'Doc', 'library'))
    for path in candidates:
        if os.path.isdir(path):
            return os.path.normpath(path)
    return None


DIRECTIVE = re.compile(r'^\.\. (function|method|attribute)::\s*(.*?)\s*$')


def directives(text, prefix=''):
    """[(kind, target), ...] of the page's function, method and attribute
    entries, continuation lines (a trailing backslash, or more targets
    indented under the first) joined; "prefix" qualifies bare names."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = DIRECTIVE.match(lines[i])
        i += 1
        if not m:
            continue
        kind, target = m.groups()
        targets = []
        while True:
            while target.endswith('\\'):
                target = target[:-1] + ' ' + lines[i].strip()
                i += 1
            targets.append(target)
            # another target of the same entry, aligned under the first
            if (i < len(lines) and lines[i].startswith('   ')
                    and lines[i].strip()
                    and not lines[i].strip().startswith(':')):
                target = lines[i].strip()
                i += 1
                continue
            break
        for target in targets:
            if prefix and '.' not in target.split('(')[0]:
                target = prefix + target
            found.append((kind, target))
    return found


def split_target(target):
    """'sys.f(a, b=1)' -> ('sys.f', '(a, b=1)'), whitespace normalised;
    an attribute has the signature None."""
    name, paren, rest = target.partition('(')
    if not paren:
        return name.strip(), None
    sig = re.sub(r'\s+', ' ', '(' + rest.strip())
    return name.strip(), sig.replace('( ', '(').replace(' )', ')')


def flat(text):
    """The text with each run of white space made one space (literals in
    the pages may be wrapped)."""
    return re.sub(r'\s+', ' ', text)


class DocsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = doc_dir()
        if cls.dir is None:
            raise unittest.SkipTest(
                'no Doc/library directory: this interpreter was not built '
                'in a source tree (an installed Python), so the '
                'documentation is not there to compare')
        cls.pages = {}
        for page in PAGES:
            with open(os.path.join(cls.dir, page), encoding='utf-8') as f:
                cls.pages[page] = f.read()
        with open(os.path.join(cls.dir, 'sys.rst'), encoding='utf-8') as f:
            cls.sys_rst = f.read()
        cls.text = flat('\n'.join(cls.pages.values()))
        cls.entries = {}        # target name -> (kind, signature, page)
        for page, text in cls.pages.items():
            for kind, target in directives(text):
                name, sig = split_target(target)
                cls.entries.setdefault(name, []).append((kind, sig, page))
        cls.sys_entries = {}
        for kind, target in directives(cls.sys_rst, prefix='sys.'):
            name, sig = split_target(target)
            if 'coroutine_origin' in name:
                cls.sys_entries.setdefault(name, []).append(
                    (kind, sig, 'sys.rst'))

    def documented(self, text):
        """Assert that the pages say "text" (white space aside)."""
        self.assertIn(flat(text), self.text)

    # -- what the pages name ---------------------------------------------

    def test_pages_parsed(self):
        # The parser finds what the pages hold, so that the checks below
        # run over something.
        functions = {name for name, found in self.entries.items()
                     if found[0][0] == 'function'}
        self.assertGreaterEqual(functions, SYS_RST_FUNCTIONS | {
            'sys._frame_stack_capture', 'sys._dump_coroutines'})
        self.assertGreaterEqual(set(self.sys_entries), SYS_RST_FUNCTIONS)

    def test_sys_names_exist(self):
        names = set(re.findall(r'(?<![\w.])sys\.([A-Za-z_]\w*)',
                               '\n'.join(self.pages.values())))
        self.assertIn('_frame_stack_capture', names)
        for name in sorted(names):
            with self.subTest(name=name):
                if name in DOCUMENTED_TYPES:
                    tp = DOCUMENTED_TYPES[name]()
                    self.assertEqual((tp.__module__, tp.__name__),
                                     ('sys', name))
                else:
                    self.assertTrue(hasattr(sys, name),
                                    f'the documentation names sys.{name}, '
                                    f'which does not exist')

    def target(self, name):
        """The object a documented name stands for."""
        owner, _, attr = name.rpartition('.')
        if owner == 'sys':
            return getattr(sys, attr)
        if owner == 'coroutine_origin_frames':
            handle = sys._frame_stack_capture(1)
            self.assertEqual(type(handle).__name__, owner)
            return getattr(handle, attr)        # bound: no self
        if owner == 'coroutine':
            coro = corofn()
            self.addCleanup(coro.close)
            return getattr(coro, attr)
        if owner == 'agen':
            async def agen():
                yield
            return getattr(agen(), attr)
        self.fail(f'the test does not know what {name!r} is')

    def test_signatures(self):
        every = {}
        for entries in (self.entries, self.sys_entries):
            for name, found in entries.items():
                every.setdefault(name, []).extend(found)
        for name, found in sorted(every.items()):
            for kind, sig, page in found:
                with self.subTest(name=name, page=page):
                    obj = self.target(name)
                    if kind == 'attribute':
                        self.assertIsNone(sig)
                        continue
                    self.assertTrue(callable(obj))
                    self.assertEqual(
                        str(inspect.signature(obj)), sig,
                        f'{page} documents {name}{sig}')

    def test_every_function_checked(self):
        documented = {name for name, found in self.entries.items()
                      if found[0][0] in ('function', 'method')}
        checks = {name.replace('check_', '').replace('__', '.', 1)
                  for name in dir(self) if name.startswith('check_')}
        self.assertEqual(documented - checks, set(),
                         'documented functions without a check below')
        self.assertEqual(checks - documented, set(),
                         'checks of functions that are not documented')

    def test_behaviour(self):
        for name in sorted(self.entries):
            if self.entries[name][0][0] == 'attribute':
                continue
            check = getattr(self, 'check_' + name.replace('.', '__', 1),
                            None)
            if check is None:
                continue        # test_every_function_checked says so
            with self.subTest(name=name), settings():
                check()

    # -- the spec's items --------------------------------------------------

    def spec_items(self):
        """The items of the spec table of coro_origin.rst, in order."""
        page = self.pages['coro_origin.rst']
        table = page[page.index('The spec language'):
                     page.index('Items that are not given')]
        items = []
        for cell in re.findall(r'^   \* - (.*)$', table, re.M)[1:]:
            items += re.findall(r'(?:``|:samp:`)([a-z]+)(?:=|``)', cell)
        return items

    def test_spec_items_accepted(self):
        items = self.spec_items()
        self.assertEqual(items, ['depth', 'chain', 'asyncgen', 'tracebacks',
                                 'full', 'strict', 'skip', 'dump', 'hang'])
        values = {'depth': '=2', 'chain': '=1', 'skip': '=a.b',
                  'dump': '=SIGUSR1', 'hang': '=86400'}
        spec = ','.join(item + values.get(item, '') for item in items)
        res = assert_python_ok(
            '-X', f'coro_origin={spec}', '-c',
            'import sys; print(tuple(sys.get_coroutine_origin_tracking()))')
        self.assertEqual(res.out.decode().strip(),
                         f"(2, 1, True, True, True, ('a.b',), "
                         f"{int(signal.SIGUSR1)})")

    def test_spec_items_listed(self):
        # Every place that lists the items of -X coro_origin lists them all.
        def paragraph(text, start):
            i = text.index(start)
            return text[i:text.index('\n\n', i)]
        cmdline = os.path.join(self.dir, os.pardir, 'using', 'cmdline.rst')
        man = os.path.join(self.dir, os.pardir, os.pardir, 'Misc',
                           'python.man')
        with open(cmdline, encoding='utf-8') as f:
            cmdline = paragraph(f.read(), ':samp:`-X coro_origin={spec}`')
        with open(man, encoding='utf-8') as f:
            man = paragraph(f.read(), r'\fB\-X coro_origin=')
        man = re.sub(r'\\f[BIRP]', '', man).replace('\\-', '-')
        res = assert_python_ok('--help-xoptions')
        xoptions = re.search(r'^-X coro_origin=.*?(?=^-X )',
                             res.out.decode(), re.M | re.S).group()
        missing = set()
        for where, text in [('Doc/using/cmdline.rst', cmdline),
                            ('Misc/python.man', man),
                            ('--help-xoptions', xoptions)]:
            for item in self.spec_items():
                if not re.search(r'\b' + item + r'\b', text):
                    missing.add((where, item))
        self.assertEqual(missing, set())

    # -- attributes ------------------------------------------------------

    def test_attributes(self):
        async def agen():
            yield
        with settings():        # untracked, whatever the environment says
            coro, g = corofn(), agen()
        self.addCleanup(coro.close)
        self.assertIsNone(coro.cr_origin_chain)
        self.assertIsNone(g.ag_origin)
        self.assertIsNone(g.ag_origin_chain)
        with settings(depth=1, asyncgen=True):
            g, expected = agen(), stack_from(sys._getframe(), 1)
        self.assertEqual(g.ag_origin, expected)

    # -- one check per documented function -------------------------------
    # check_<owner>__<name>: the entry's return type and behaviour.

    def check_sys__set_coroutine_origin_tracking(self):
        f = sys.set_coroutine_origin_tracking
        self.assertIsNone(f(7, chain=3, asyncgen=True, tracebacks=True,
                            full=True, skip='a:b.c'))
        now = sys.get_coroutine_origin_tracking()
        self.assertEqual(now[:6], (7, 3, True, True, True, ('a', 'b.c')))
        self.assertEqual(sys.get_coroutine_origin_tracking_depth(), 7)
        # None keeps a setting
        f()
        f(None, chain=None, skip=None)
        self.assertEqual(sys.get_coroutine_origin_tracking(), now)
        # int from 0 to 2**31-1, __index__ accepted; skip forms
        f(2**31 - 1)
        self.assertEqual(sys.get_coroutine_origin_tracking().depth,
                         2**31 - 1)

        class Index:
            def __index__(self):
                return 5
        f(Index(), skip=['x', 'y.z'])
        now5 = sys.get_coroutine_origin_tracking()
        self.assertEqual((now5.depth, now5.skip), (5, ('x', 'y.z')))
        f(skip=now.skip)
        self.assertEqual(sys.get_coroutine_origin_tracking().skip,
                         ('a', 'b.c'))
        for nothing in ('', (), []):
            f(skip='a')
            f(skip=nothing)
            self.assertEqual(sys.get_coroutine_origin_tracking().skip, ())
        # checked before anything changes, with the documented messages
        before = sys.get_coroutine_origin_tracking()
        for kwargs, exc, message in [
                ({'tracebacks': 1}, TypeError,
                 "set_coroutine_origin_tracking() argument 'tracebacks' must "
                 "be bool or None, not int"),
                ({'depth': -1}, ValueError, 'depth must be >= 0'),
                ({'skip': 'a..b'}, ValueError,
                 "skip: 'a..b' is not a module name")]:
            self.documented(message)
            with self.assertRaises(exc) as cm:
                f(**{'chain': 9, 'full': False, **kwargs})
            self.assertEqual(str(cm.exception), message)
            self.assertEqual(sys.get_coroutine_origin_tracking(), before)
        for kwargs in [{'depth': True}, {'chain': False}, {'asyncgen': 1},
                       {'full': 0}, {'skip': 3}]:
            with self.assertRaises(TypeError):
                f(**{'tracebacks': True, **kwargs})
        for kwargs in [{'depth': 2**31}, {'chain': -1},
                       {'skip': ['a:b']}]:
            with self.assertRaises(ValueError):
                f(**{'tracebacks': True, **kwargs})
        self.assertEqual(sys.get_coroutine_origin_tracking(), before)

    def check_sys__get_coroutine_origin_tracking(self):
        now = sys.get_coroutine_origin_tracking()
        self.assertEqual(type(now).__module__ + '.' + type(now).__name__,
                         'sys.coroutine_origin_tracking')
        fields = ('depth', 'chain', 'asyncgen', 'tracebacks', 'full', 'skip',
                  'dump')
        self.assertEqual(len(now), len(fields))
        self.assertEqual(tuple(getattr(now, name) for name in fields), now)
        self.assertEqual([type(x) for x in now[:6]],
                         [int, int, bool, bool, bool, tuple])
        self.assertIn(type(now.dump), (int, type(None)))
        self.assertEqual(now.depth,
                         sys.get_coroutine_origin_tracking_depth())
        # The page's example, in a process started with tracking off.
        m = re.search(r'>>> sys\.get_coroutine_origin_tracking\(\)\n'
                      r'\s*(.*)\n', self.pages['coro_origin.rst'])
        self.assertIsNotNone(m)
        res = assert_python_ok(
            '-X', 'coro_origin=0', '-c',
            'import sys; print(repr(sys.get_coroutine_origin_tracking()))')
        self.assertEqual(res.out.decode().strip(), m.group(1))
        # dump is a signal number when one was given at start-up
        res = assert_python_ok(
            '-X', 'coro_origin=1,dump=SIGUSR1', '-c',
            'import sys; print(sys.get_coroutine_origin_tracking().dump)')
        self.assertEqual(int(res.out), signal.SIGUSR1)

    def check_sys__set_coroutine_origin_tracking_default(self):
        saved = sys.get_coroutine_origin_tracking_default()
        self.addCleanup(
            sys.set_coroutine_origin_tracking_default, saved.depth,
            chain=saved.chain, asyncgen=saved.asyncgen,
            tracebacks=saved.tracebacks, full=saved.full, skip=saved.skip)
        mine = sys.get_coroutine_origin_tracking()
        self.assertIsNone(sys.set_coroutine_origin_tracking_default(
            6, chain=2, asyncgen=True, tracebacks=False, full=True, skip='q'))
        # the calling thread keeps its settings, a new thread starts so
        self.assertEqual(sys.get_coroutine_origin_tracking(), mine)
        seen = []
        t = threading.Thread(
            target=lambda: seen.append(sys.get_coroutine_origin_tracking()))
        t.start()
        t.join()
        self.assertEqual(seen[0][:6], (6, 2, True, False, True, ('q',)))
        with self.assertRaises(ValueError):
            sys.set_coroutine_origin_tracking_default(chain=-1)
        self.assertEqual(sys.get_coroutine_origin_tracking_default()[:6],
                         (6, 2, True, False, True, ('q',)))

    def check_sys__get_coroutine_origin_tracking_default(self):
        default = sys.get_coroutine_origin_tracking_default()
        self.assertIs(type(default), type(sys.get_coroutine_origin_tracking()))
        # at start-up: the start-up layers, which the main thread has too
        code = ('import sys; print(sys.get_coroutine_origin_tracking_default()'
                ' == sys.get_coroutine_origin_tracking(), '
                'tuple(sys.get_coroutine_origin_tracking_default()))')
        res = assert_python_ok('-X',
                               'coro_origin=3,chain=1,tracebacks,skip=a:b',
                               '-c', code)
        self.assertEqual(res.out.decode().strip(),
                         "True (3, 1, False, True, False, ('a', 'b'), None)")

    @unittest.skipUnless(hasattr(signal, 'SIGRTMIN'), 'needs SIGRTMIN')
    def check_sys___coroutine_origin_dump_signal(self):
        f = sys._coroutine_origin_dump_signal
        self.assertEqual(f('SIGUSR1'), signal.SIGUSR1)
        self.assertIs(type(f('SIGUSR1')), int)
        self.assertEqual(f('SIGRTMIN+2'), signal.SIGRTMIN + 2)
        self.assertEqual(f(int(signal.SIGUSR2)), signal.SIGUSR2)
        message = ('dump=SIGSEGV: SIGSEGV reports a crash; use a user '
                   'signal such as SIGUSR1')
        self.documented(message)
        with self.assertRaises(ValueError) as cm:
            f('SIGSEGV')
        self.assertEqual(str(cm.exception), message)
        for refused in ('SIGKILL', 'SIGSTOP', 'SIGBUS', 'SIGFPE', 'SIGILL',
                        'SIGABRT', 'SIGIOT', int(signal.SIGSEGV), 'SIGNOPE'):
            with self.assertRaises(ValueError):
                f(refused)
        with self.assertRaises(TypeError):
            f(1.5)

    def check_sys___coroutine_origin_problems(self):
        code = ('import sys\n'
                'async def f(): pass\n'
                'print(sys._coroutine_origin_problems())\n'
                'f()\n'
                'p = sys._coroutine_origin_problems()\n'
                'print([(type(x).__name__, len(x), x[0], x[2]) for x in p])\n'
                'print(sys._coroutine_origin_problems())\n')
        res = assert_python_ok('-X', 'coro_origin=2,strict', '-c', code)
        self.assertEqual(res.out.decode().splitlines(), [
            '[]', "[('tuple', 3, 'coroutine never awaited', 1)]", '[]'])
        # taken: they no longer count at exit (status 0, no summary)
        self.assertNotIn(b'origin-python strict', res.err)
        res = assert_python_ok('-X', 'coro_origin=2', '-c',
                               'import sys\n'
                               'print(sys._coroutine_origin_problems())')
        self.assertEqual(res.out.strip(), b'None')

    def check_sys___coroutine_origin_live(self):
        code = ('import sys\n'
                'async def f(): pass\n'
                'a, b = f(), f()\n'
                'live = sys._coroutine_origin_live()\n'
                'print(type(live).__name__, live == [a, b], '
                'live is sys._coroutine_origin_live())\n'
                'a.close()\n'
                'print(sys._coroutine_origin_live() == [b])\n'
                'b.close()\n')
        res = assert_python_ok('-X', 'coro_origin=2,dump=SIGUSR1', '-c',
                               code)
        self.assertEqual(res.out.decode().splitlines(),
                         ['list True False', 'True'])
        # without a dump signal nothing is registered
        res = assert_python_ok('-X', 'coro_origin=2', '-c',
                               'import sys\nasync def f(): pass\n'
                               'c = f()\nprint(sys._coroutine_origin_live())'
                               '\nc.close()')
        self.assertEqual(res.out.strip(), b'[]')

    def check_sys___coroutine_origin_render(self):
        # No origin ever recorded: None, and the renderer not imported.
        res = assert_python_ok(
            '-X', 'coro_origin=0', '-c',
            'import sys\n'
            "print(sys._coroutine_origin_render('site_lines', (('f', 1, "
            "'g'),)), '_coro_origin_report' in sys.modules)")
        self.assertEqual(res.out.strip(), b'None False')
        # Otherwise the renderer's function's result; None if it raises.
        import _coro_origin_report
        sys.set_coroutine_origin_tracking(2)
        coro = corofn()
        self.addCleanup(coro.close)
        origin = coro.cr_origin
        self.assertEqual(sys._coroutine_origin_render('site_lines', origin),
                         _coro_origin_report.site_lines(origin))
        self.assertIsInstance(
            sys._coroutine_origin_render('site_lines', origin), list)
        self.assertIsNone(sys._coroutine_origin_render('no_such_function'))
        self.assertIsNone(sys._coroutine_origin_render('site_lines'))

    def check_sys___coroutine_origin_of_exception(self):
        of = sys._coroutine_origin_of_exception
        self.assertIsNone(of(42))
        self.assertIsNone(of(ValueError('no record')))

        async def raiser(exc):
            raise exc
        exc = ValueError('escaped')
        sys.set_coroutine_origin_tracking(2, tracebacks=True)
        coro, origin = raiser(exc), stack_from(sys._getframe(), 2)
        with self.assertRaises(ValueError):
            coro.send(None)
        self.assertEqual(of(exc), ('coroutine', raiser.__qualname__,
                                   origin, None))

    def check_sys___frame_stack_capture(self):
        capture = sys._frame_stack_capture
        self.assertIsNone(capture(0))
        handle = capture(2)
        self.assertEqual(type(handle).__name__, 'coroutine_origin_frames')
        with self.assertRaises(TypeError):
            type(handle)()
        # the same frames: the same object
        self.assertIs(*[capture(2) for _ in range(2)])
        # negative depth: every frame; skip: frames above the caller
        self.assertEqual(len(capture(-1).frames()),
                         len(traceback.extract_stack()))

        def inner():
            return capture(1, 1)
        handle, expected = inner(), stack_from(sys._getframe(), 1)
        self.assertEqual(handle.frames(), expected)
        with self.assertRaises(ValueError):
            capture(1, -1)
        # skip_modules=True applies this thread's skip= setting
        sys.set_coroutine_origin_tracking(1, skip=(__name__,))
        self.assertEqual(capture(1).frames(), stack_from(sys._getframe(), 1))
        self.assertNotIn(__file__, [f[0] for f in
                                    capture(1, skip_modules=True).frames()])

    def check_sys___coroutine_origin_scheduled_at(self):
        import asyncio
        at = sys._coroutine_origin_scheduled_at

        def plain():
            pass
        # tracking off: None; on, outside asyncio: the caller's frames
        self.assertIsNone(at(plain))
        sys.set_coroutine_origin_tracking(2, tracebacks=True)
        site, expected = at(plain), stack_from(sys._getframe(), 2)
        self.assertEqual(site.frames(), expected)
        # a method of a future: None
        loop = asyncio.SelectorEventLoop()     # (no policy made)
        try:
            fut = loop.create_future()
            self.assertIsNone(at(fut.cancel))
        finally:
            loop.close()
        with self.assertRaises(TypeError):
            at()

    def check_coroutine_origin_frames__frames(self):
        def f():
            return sys._frame_stack_capture(3), stack_from(sys._getframe(), 3)
        handle, expected = f()
        self.assertEqual(handle.frames(), expected)
        self.assertIs(type(handle.frames()), tuple)

    def check_coroutine_origin_frames__summary(self):
        def f():
            return sys._frame_stack_capture(-1), traceback.extract_stack()
        handle, ref = f()
        summary = handle.summary()
        self.assertIs(type(summary), traceback.StackSummary)
        def frames(stack):
            return [(s.filename, s.lineno, s.name) for s in stack]
        self.assertEqual(frames(summary), frames(ref))
        self.assertEqual(frames(handle.summary(1)), frames(ref)[:-1])
        self.assertEqual(summary.format(), ref.format())
        self.assertEqual(list(handle.summary(10**6)), [])

    def check_sys___dump_coroutines(self):
        import io
        for fmt in ('text', 'json'):
            out = io.StringIO()
            self.assertIsNone(sys._dump_coroutines(out, format=fmt))
            text = out.getvalue()
            if fmt == 'text':
                self.assertTrue(text.startswith('Live coroutines ('), text)
                self.assertTrue(text.endswith('End of live coroutines.\n'))
            else:
                self.assertEqual(text.count('\n'), 1)
                self.assertTrue(text.endswith('\n'))
                self.assertEqual(json.loads(text)['version'], 1)
        # file=None: sys.stderr
        res = assert_python_ok('-c', 'import sys; sys._dump_coroutines()')
        self.assertTrue(res.err.decode().endswith(
            'End of live coroutines.\n'), res.err)
        self.assertEqual(res.out, b'')

    def check_sys___dump_coroutines_later(self):
        # (test_hang checks each kind of report)
        code = ('import asyncio, io, sys, time, threading\n'
                'n = len(threading.enumerate())\n'
                'buf = io.StringIO()\n'
                'sys._dump_coroutines_later(0.2, file=buf)\n'
                'async def main():\n'
                '    time.sleep(0.6)\n'
                'asyncio.run(main())\n'
                'print(n == len(threading.enumerate()),\n'
                '      buf.getvalue().count("End of live coroutines."))\n')
        res = assert_python_ok('-X', 'coro_origin=10', '-c', code)
        self.assertEqual(res.out.decode(), 'True 1\n')
        for timeout, exc in [(0, ValueError), ('1', TypeError)]:
            with self.assertRaises(exc):
                sys._dump_coroutines_later(timeout)
        with self.assertRaises(TypeError):
            sys._dump_coroutines_later(1, file=1.5)

    def check_sys___cancel_dump_coroutines_later(self):
        code = ('import asyncio, sys, time\n'
                'sys._dump_coroutines_later(0.2, exit=True)\n'
                'sys._cancel_dump_coroutines_later()\n'
                'async def main():\n'
                '    time.sleep(0.6)\n'
                'asyncio.run(main())\n'
                'print("ok")\n')
        res = assert_python_ok('-X', 'coro_origin=10', '-c', code)
        self.assertEqual((res.out, res.err), (b'ok\n', b''))
        self.assertIsNone(sys._cancel_dump_coroutines_later())

    def check_sys___coroutine_origin_progress(self):
        code = ('import asyncio, sys\n'
                'async def main():\n'
                '    c, n = sys._coroutine_origin_progress()\n'
                '    for i in range(5):\n'
                '        await asyncio.sleep(0)\n'
                '    asyncio.get_running_loop().call_soon(int)\n'
                '    c2, n2 = sys._coroutine_origin_progress()\n'
                '    print(c2 - c, n2 - n)\n'
                'asyncio.run(main())\n')
        for spec, expected in (('10', '6 5\n'), ('0', '0 0\n')):
            res = assert_python_ok('-X', f'coro_origin={spec}', '-c', code)
            self.assertEqual(res.out.decode(), expected)


if __name__ == '__main__':
    unittest.main()
