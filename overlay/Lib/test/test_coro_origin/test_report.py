# Tests for Lib/_coro_origin_report.py, the one renderer of coroutine
# creation sites: site_lines(), origin_block(), coroutine_origin_text(),
# short_site(), exception_origin_lines(), unawaited_warning_lines().
# Expected lines are written out literally, or built with the stock
# traceback module where the renderer must equal stock's text.
# This module is part of origin-python, not of upstream CPython.

import asyncio
import linecache
import os
import sys
import tempfile
import threading
import traceback
import types
import unittest
from test import support
from unittest import mock

import _coro_origin_report as report
from test.test_coro_origin._util import corofn, here, marker, settings

FILE = __file__
ASYNCIO = os.path.dirname(asyncio.__file__)
BASE_EVENTS = os.path.join(ASYNCIO, 'base_events.py')
RUNNERS = os.path.join(ASYNCIO, 'runners.py')
EVENTS = os.path.join(ASYNCIO, 'events.py')
THREADING = threading.__file__


def line(name):
    return marker(FILE, name)


def source(name):
    return linecache.getline(FILE, line(name)).strip()


# Two lines of this file whose source the renderer shows.
def site_a():
    return 'a'  # marker: site-a


def site_b():
    return 'b'  # marker: site-b


def A(func='site_a'):
    return (FILE, line('site-a'), func)


def B(func='site_b'):
    return (FILE, line('site-b'), func)


def frame_lines(frame, indent='  '):
    f, n, name = frame
    out = [f'{indent}File "{f}", line {n}, in {name}']
    text = linecache.getline(f, n).strip()
    if text:
        out.append(f'{indent}  {text}')
    return out


def stock_block(origin):
    """What stock's warnings._warn_unawaited_coroutine() appends, as one
    str without the trailing newline."""
    def extract():
        for filename, lineno, funcname in reversed(origin):
            yield (filename, lineno, funcname,
                   linecache.getline(filename, lineno))
    lines = ["Coroutine created at (most recent call last)\n"]
    lines += traceback.format_list(list(extract()))
    return "".join(lines).rstrip("\n")


class SiteLinesTest(unittest.TestCase):

    def test_oldest_first_with_source(self):
        # cr_origin is innermost first; the lines are oldest first
        self.assertEqual(report.site_lines((A(), B())),
                         frame_lines(B()) + frame_lines(A()))
        self.assertEqual(report.site_lines((A(),)), [
            f'  File "{FILE}", line {line("site-a")}, in site_a',
            "    return 'a'  # marker: site-a"])

    def test_indent(self):
        self.assertEqual(report.site_lines((A(),), indent='>>'), [
            f'>>File "{FILE}", line {line("site-a")}, in site_a',
            ">>  return 'a'  # marker: site-a"])

    def test_no_source(self):
        self.assertEqual(
            report.site_lines((('<nowhere>', 3, 'f'), ('x.py', -1, 'g'))),
            ['  File "x.py", line -1, in g',
             '  File "<nowhere>", line 3, in f'])

    def test_stdin_name(self):
        # The interactive console's "<stdin-N>" files are named as this
        # release's traceback names them ("<stdin>" since 3.13.6 or so).
        import traceback
        stock = traceback.format_list([('<stdin-3>', 1, 'f', '')])
        self.assertEqual(report.site_lines((('<stdin-3>', 1, 'f'),)),
                         stock[0].splitlines())
        self.assertIn(stock[0], ('  File "<stdin>", line 1, in f\n',
                                 '  File "<stdin-3>", line 1, in f\n'))

    def test_none_and_all_skipped(self):
        self.assertEqual(report.site_lines(None),
                         ['  (creation site not recorded)'])
        self.assertEqual(report.site_lines(()),
                         ['  (every frame of this site was skipped by '
                          'skip=)'])
        self.assertEqual(report.site_lines((), indent=''),
                         ['(every frame of this site was skipped by skip=)'])

    def test_fold_runs(self):
        origin = (A(), (BASE_EVENTS, 10, '_run_once'),
                  (EVENTS, 20, '_run'), ('<frozen runpy>', 88, '_run_code'),
                  B(), (THREADING, 1012, 'run'), (RUNNERS, 5, 'run'))
        # oldest first: runners, threading | B | runpy, events, base_events
        # | A
        self.assertEqual(
            report.site_lines(origin, fold=True),
            ['  [2 frames folded: asyncio, threading]']
            + frame_lines(B())
            + ['  [3 frames folded: runpy, asyncio]']
            + frame_lines(A()))

    def test_fold_one_frame(self):
        self.assertEqual(
            report.site_lines((A(), (EVENTS, 20, '_run'), B()), fold=True),
            frame_lines(B()) + ['  [1 frame folded: asyncio]']
            + frame_lines(A()))

    def test_fold_modules(self):
        # each module of the machinery, by path under the standard library
        # or as a frozen module; not other standard modules, nor modules
        # whose names only begin alike
        stdlib = os.path.dirname(os.__file__)
        cases = {
            os.path.join(stdlib, 'asyncio', 'tasks.py'): 'asyncio',
            os.path.join(stdlib, 'asyncio', '__init__.py'): 'asyncio',
            os.path.join(stdlib, 'concurrent', 'futures', 'thread.py'):
                'concurrent.futures',
            os.path.join(stdlib, 'threading.py'): 'threading',
            os.path.join(stdlib, 'selectors.py'): 'selectors',
            os.path.join(stdlib, 'runpy.py'): 'runpy',
            '<frozen runpy>': 'runpy',
            '<frozen threading>': 'threading',
        }
        for filename, name in cases.items():
            with self.subTest(filename=filename):
                self.assertEqual(
                    report.site_lines(((filename, 1, 'f'), A()), fold=True),
                    frame_lines(A()) + [f'  [1 frame folded: {name}]'])
        for filename in (os.path.join(stdlib, 'os.py'),
                         os.path.join(stdlib, 'asyncio_extras.py'),
                         os.path.join(stdlib, 'concurrent', '__init__.py'),
                         '/elsewhere/asyncio/tasks.py', '<frozen os>',
                         '<string>'):
            with self.subTest(filename=filename):
                self.assertEqual(
                    report.site_lines(((filename, 1, 'f'), A()), fold=True),
                    frame_lines(A()) + frame_lines((filename, 1, 'f')))

    def test_fold_packages(self):
        # anyio (and sniffio), installed: a package of that name in a
        # directory of sys.path; not a module of that name elsewhere, nor
        # a package whose name only begins alike
        with tempfile.TemporaryDirectory() as tmp:
            site = os.path.join(tmp, 'site')
            inside = os.path.join(site, 'anyio', '_backends', '_asyncio.py')
            sniff = os.path.join(site, 'sniffio', '_impl.py')
            others = [os.path.join(tmp, 'anyio', 'x.py'),
                      os.path.join(site, 'anyio_extras', 'x.py')]
            with support.swap_attr(sys, 'path', [site] + sys.path):
                report._module_of_file.clear()
                for filename, name in ((inside, 'anyio'),
                                       (sniff, 'sniffio')):
                    with self.subTest(filename=filename):
                        self.assertEqual(
                            report.site_lines(((filename, 1, 'f'), A()),
                                              fold=True),
                            frame_lines(A())
                            + [f'  [1 frame folded: {name}]'])
                for filename in others:
                    with self.subTest(filename=filename):
                        self.assertEqual(
                            report.site_lines(((filename, 1, 'f'), A()),
                                              fold=True),
                            frame_lines(A())
                            + frame_lines((filename, 1, 'f')))
            report._module_of_file.clear()

    def test_fold_everything_keeps_innermost(self):
        origin = ((EVENTS, 20, '_run'), (BASE_EVENTS, 10, '_run_once'),
                  (RUNNERS, 5, 'run'))
        self.assertEqual(report.site_lines(origin, fold=True), [
            '  [2 frames folded: asyncio]',
            f'  File "{EVENTS}", line 20, in _run',
            '    ' + linecache.getline(EVENTS, 20).strip()])
        self.assertEqual(report.site_lines(((EVENTS, 20, '_run'),),
                                           fold=True),
                         [f'  File "{EVENTS}", line 20, in _run',
                          '    ' + linecache.getline(EVENTS, 20).strip()])

    def test_fold_off(self):
        origin = (A(), (EVENTS, 20, '_run'))
        expected = frame_lines((EVENTS, 20, '_run')) + frame_lines(A())
        self.assertEqual(report.site_lines(origin, fold=False), expected)

    def test_full_setting(self):
        # fold=None follows the interpreter: no folding with "full"
        origin = (A(), (EVENTS, 20, '_run'))
        with settings(depth=1, chain=1, full=True):
            self.assertEqual(report.site_lines(origin),
                             frame_lines((EVENTS, 20, '_run'))
                             + frame_lines(A()))
            self.assertEqual(report.site_lines(origin, fold=True),
                             ['  [1 frame folded: asyncio]']
                             + frame_lines(A()))
        # (folded once the fork's tracking is configured: a chain here)
        with settings(depth=1, chain=1):
            self.assertEqual(report.site_lines(origin),
                             ['  [1 frame folded: asyncio]']
                             + frame_lines(A()))

    @unittest.skipUnless(hasattr(sys.get_coroutine_origin_tracking(),
                                 'full'),
                         'the interpreter has no "full" setting yet')
    def test_full_setting_real(self):
        origin = (A(), (EVENTS, 20, '_run'))
        with settings(chain=1, full=True):
            self.assertEqual(report.site_lines(origin),
                             frame_lines((EVENTS, 20, '_run'))
                             + frame_lines(A()))
        with settings(chain=1):
            self.assertEqual(report.site_lines(origin),
                             ['  [1 frame folded: asyncio]']
                             + frame_lines(A()))

    def test_stock_depth_alone_does_not_fold(self):
        # What asyncio's debug mode does on stock: stock's text, every
        # frame listed (unless the fork's tracking is configured).
        origin = (A(), (EVENTS, 20, '_run'))
        default = sys.get_coroutine_origin_tracking_default()
        with settings():
            sys.set_coroutine_origin_tracking_depth(10)
            want = (frame_lines((EVENTS, 20, '_run')) + frame_lines(A())
                    if default.depth == 0 else
                    ['  [1 frame folded: asyncio]'] + frame_lines(A()))
            self.assertEqual(report.site_lines(origin), want)

    def test_recursion_cutoff_as_stock(self):
        # more than 3 identical consecutive frames: stock's
        # "[Previous line repeated N more times]"
        origin = (A(),) + (B(),) * 6
        lines = report.site_lines(origin)
        self.assertEqual(lines, frame_lines(B()) * 3 + [
            '  [Previous line repeated 3 more times]'] + frame_lines(A()))
        lines = report.site_lines((B(),) * 4)
        self.assertEqual(lines, frame_lines(B()) * 3 + [
            '  [Previous line repeated 1 more time]'])

    def test_odd_input_does_not_raise(self):
        self.assertEqual(report.site_lines(42),
                         ['  (creation site could not be read)'])
        self.assertEqual(report.site_lines((('only', 'two'), A())),
                         frame_lines(A()) + [
                             '  File "?", line ?, in ?'])
        self.assertEqual(report.site_lines(((None, None, None),)),
                         ['  File "None", line None, in None'])
        self.assertEqual(report.site_lines((([], 1, 'f'),)),
                         ['  File "[]", line 1, in f'])

    def test_failing_linecache(self):
        with mock.patch('linecache.getline', side_effect=OSError('boom')):
            self.assertEqual(report.site_lines((A(),)), [
                f'  File "{FILE}", line {line("site-a")}, in site_a'])
        with mock.patch('linecache.getline', return_value=None):
            self.assertEqual(report.site_lines((A(),)), [
                f'  File "{FILE}", line {line("site-a")}, in site_a'])


class OriginBlockTest(unittest.TestCase):

    def test_header_and_site(self):
        self.assertEqual(
            report.origin_block((A(), B()), None),
            ['Coroutine created at (most recent call last)']
            + frame_lines(B()) + frame_lines(A()))

    def test_chain(self):
        chain = (('parent', (B('parent'),)), ('untracked', None),
                 ('skipped', ()))
        self.assertEqual(report.origin_block((A(),), chain), [
            'Coroutine created at (most recent call last)',
            *frame_lines(A()),
            "... spawned from 'parent', created at (most recent call last)",
            *frame_lines(B('parent')),
            "... spawned from 'untracked' (creation site not recorded)",
            "... spawned from 'skipped', created at (most recent call last)",
            '  (every frame of this site was skipped by skip=)'])

    def test_indent_and_header(self):
        chain = (('parent', (B(),)),)
        self.assertEqual(
            report.origin_block((A(),), chain, indent='    ',
                                header='Thing made at (most recent call '
                                       'last)'),
            ['    Thing made at (most recent call last)',
             *frame_lines(A(), '      '),
             "    ... spawned from 'parent', created at (most recent call "
             "last)",
             *frame_lines(B(), '      ')])

    def test_none_and_empty(self):
        self.assertEqual(report.origin_block(None, None), [
            'Coroutine created at (most recent call last)',
            '  (creation site not recorded)'])
        self.assertEqual(report.origin_block((), ()), [
            'Coroutine created at (most recent call last)',
            '  (every frame of this site was skipped by skip=)'])

    def test_chain_folds(self):
        chain = (('parent', ((EVENTS, 20, '_run'), B())),)
        self.assertEqual(report.origin_block((A(),), chain, fold=True), [
            'Coroutine created at (most recent call last)',
            *frame_lines(A()),
            "... spawned from 'parent', created at (most recent call last)",
            *frame_lines(B()),
            '  [1 frame folded: asyncio]'])

    def test_odd_chain(self):
        self.assertEqual(report.origin_block((A(),), ('junk',)), [
            'Coroutine created at (most recent call last)',
            *frame_lines(A()),
            '... spawned from an ancestor that could not be read'])


class CoroutineOriginTextTest(unittest.TestCase):

    def test_coroutine(self):
        with settings(depth=1):
            coro, site = corofn(), here(1)
        try:
            self.assertEqual(report.coroutine_origin_text(coro), '\n'.join(
                ['Coroutine created at (most recent call last)']
                + frame_lines(site[0])))
        finally:
            coro.close()

    def test_untracked(self):
        with settings(depth=0):
            coro = corofn()
        self.assertIsNone(report.coroutine_origin_text(coro))
        coro.close()
        self.assertIsNone(report.coroutine_origin_text(object()))
        self.assertIsNone(report.coroutine_origin_text(None))

    def test_async_generator(self):
        async def agen():
            yield 1
        with settings(depth=1, asyncgen=True):
            ag, site = agen(), here(1)
        self.assertEqual(report.coroutine_origin_text(ag), '\n'.join(
            ['Async generator created at (most recent call last)']
            + frame_lines(site[0])))

    def test_task(self):
        async def main():
            with settings(depth=1):
                task, site = asyncio.ensure_future(corofn()), here(1)
            text = report.coroutine_origin_text(task)
            await task
            return text, site
        text, site = asyncio.run(main())
        self.assertEqual(text, '\n'.join(
            ['Coroutine created at (most recent call last)']
            + frame_lines(site[0])))

    def test_chain(self):
        async def parent():
            return corofn()
        with settings(depth=1, chain=2):
            p, p_site = parent(), here(1)
            try:
                p.send(None)
            except StopIteration as exc:
                child = exc.value
        try:
            self.assertEqual(
                report.coroutine_origin_text(child).splitlines()[-3:],
                ["... spawned from 'CoroutineOriginTextTest.test_chain."
                 "<locals>.parent', created at (most recent call last)",
                 *frame_lines(p_site[0])])
        finally:
            child.close()

    def test_getattr_raising(self):
        class Odd:
            @property
            def cr_origin(self):
                raise RuntimeError('no')
        self.assertIsNone(report.coroutine_origin_text(Odd()))


class ShortSiteTest(unittest.TestCase):

    def test_innermost(self):
        self.assertEqual(report.short_site((A(), B())),
                         f'{FILE}:{line("site-a")}')

    def test_skips_machinery(self):
        origin = ((BASE_EVENTS, 10, 'create_task'), (EVENTS, 5, '_run'),
                  B(), A())
        with settings(chain=1):
            self.assertEqual(report.short_site(origin),
                             f'{FILE}:{line("site-b")}')
        self.assertEqual(report.short_site(origin, fold=True),
                         f'{FILE}:{line("site-b")}')
        self.assertEqual(report.short_site(origin, fold=False),
                         f'{BASE_EVENTS}:10')

    def test_all_machinery(self):
        origin = ((BASE_EVENTS, 10, 'create_task'), (RUNNERS, 5, 'run'))
        self.assertEqual(report.short_site(origin), f'{BASE_EVENTS}:10')

    def test_nothing(self):
        self.assertIsNone(report.short_site(None))
        self.assertIsNone(report.short_site(()))
        self.assertIsNone(report.short_site(42))
        self.assertIsNone(report.short_site((('x',),)))


class ExceptionOriginLinesTest(unittest.TestCase):

    def test_lines(self):
        exc = ValueError('x')
        exc.__coro_origin__ = ('coroutine', 'main.<locals>.worker', (A(),),
                               (('main', (B('<module>'),)),))
        self.assertEqual(report.exception_origin_lines(exc), [
            "The exception escaped coroutine 'main.<locals>.worker'.",
            'Coroutine created at (most recent call last)',
            *frame_lines(A()),
            "... spawned from 'main', created at (most recent call last)",
            *frame_lines(B('<module>'))])

    def test_untracked_and_skipped(self):
        exc = ValueError('x')
        exc.__coro_origin__ = ('coroutine', 'w', (), None)
        self.assertEqual(report.exception_origin_lines(exc), [
            "The exception escaped coroutine 'w'.",
            'Coroutine created at (most recent call last)',
            '  (every frame of this site was skipped by skip=)'])

    def test_absent_or_malformed(self):
        self.assertEqual(report.exception_origin_lines(ValueError()), [])
        for value in (None, 'text', ('coroutine', 'w', (A(),)),
                      ('coroutine', 'w', 'not a tuple', None),
                      ('coroutine', 'w', (A(),), 'not a tuple'),
                      (1, 'w', (A(),), None), ('coroutine', 2, (), None),
                      ('', 'w', (), None)):
            with self.subTest(value=value):
                exc = ValueError()
                exc.__coro_origin__ = value
                self.assertEqual(report.exception_origin_lines(exc), [])

    def test_odd_objects(self):
        class NoDict(BaseException):
            @property
            def __dict__(self):
                raise RuntimeError('no dict')
        self.assertEqual(report.exception_origin_lines(NoDict()), [])
        self.assertEqual(report.exception_origin_lines(42), [])
        self.assertEqual(report.exception_origin_lines(None), [])


class UnawaitedWarningLinesTest(unittest.TestCase):

    def fake(self, origin, chain=None):
        return types.SimpleNamespace(cr_origin=origin, cr_origin_chain=chain)

    def test_equals_stock(self):
        # without a chain and with nothing to fold: stock's text exactly
        with settings(depth=3):
            coro = corofn()
        origins = [coro.cr_origin, (A(),), (A(), B()),
                   (A(),) + (B(),) * 7,
                   (('<stdin-2>', 1, '<module>'), ('<nowhere>', 5, 'f')),
                   (('x.py', -1, 'g'), B())]
        coro.close()
        for origin in origins:
            with self.subTest(origin=origin):
                self.assertEqual(
                    '\n'.join(report.unawaited_warning_lines(
                        self.fake(origin))),
                    stock_block(origin))

    def test_warning_text(self):
        # the warning that warnings.py issues with these lines
        with settings(depth=2):
            coro, site = corofn(), here(2)
        with self.assertWarns(RuntimeWarning) as cm:
            del coro
            import gc
            gc.collect()
        self.assertEqual(str(cm.warning),
                         f"coroutine '{corofn.__qualname__}' was never "
                         f"awaited\n" + stock_block(site))

    def test_chain(self):
        chain = (('parent', (B('parent'),)), ('gone', None))
        self.assertEqual(
            report.unawaited_warning_lines(self.fake((A(),), chain)),
            ['Coroutine created at (most recent call last)',
             *frame_lines(A()),
             "... spawned from 'parent', created at (most recent call "
             "last)",
             *frame_lines(B('parent')),
             "... spawned from 'gone' (creation site not recorded)"])

    def test_untracked(self):
        self.assertEqual(report.unawaited_warning_lines(self.fake(None)), [])
        self.assertEqual(report.unawaited_warning_lines(object()), [])



class WarningSourceOnceTest(unittest.TestCase):
    """A coroutine made and dropped on one line ("g()" without await): the
    warning prints that line's source after the block; the block does not
    print it too, once the fork's tracking is configured.  Stock's
    tracking alone keeps stock's text."""

    SCRIPT = (
        'import asyncio, sys\n'
        'async def g(): pass\n'
        'def main():\n'
        '    g()\n'
        'SETUP\n'
        'main()\n')

    def run_script(self, setup, *args):
        import tempfile
        from test.support import script_helper
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'prog.py')
            with open(path, 'w') as f:
                f.write(self.SCRIPT.replace('SETUP', setup))
            res = script_helper.assert_python_ok(*args, path)
        return res.err.decode().replace(path, 'PROG')

    def test_fork_tracking(self):
        err = self.run_script('pass', '-X', 'coro_origin=1')
        self.assertEqual(err.splitlines()[:4], [
            "PROG:4: RuntimeWarning: coroutine 'g' was never awaited",
            'Coroutine created at (most recent call last)',
            '  File "PROG", line 4, in main',
            '  g()'])

    def test_stock_tracking(self):
        err = self.run_script('sys.set_coroutine_origin_tracking_depth(1)',
                              '-E')
        self.assertEqual(err.splitlines()[:5], [
            "PROG:4: RuntimeWarning: coroutine 'g' was never awaited",
            'Coroutine created at (most recent call last)',
            '  File "PROG", line 4, in main',
            '    g()',
            '  g()'])

if __name__ == '__main__':
    unittest.main()
