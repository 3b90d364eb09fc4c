# Tests for origin-python's chain mode: cr_origin_chain lists the creation
# sites of a coroutine's ancestors (Python/coro_origin.c).
# This module is part of origin-python, not of upstream CPython.

import asyncio
import linecache
import gc
import sys
import textwrap
import tempfile
import os
import unittest
import warnings
import weakref

from test.test_coro_origin._util import run_python, corofn, here, marker, settings


def drive(coro):
    """Run "coro" to completion with send(None); return its result."""
    try:
        while True:
            coro.send(None)
    except StopIteration as exc:
        return exc.value


def tearDownModule():
    asyncio.set_event_loop_policy(None)


class ChainTest(unittest.TestCase):

    def test_no_ancestor(self):
        with settings(depth=3, chain=8):
            coro, expected = corofn(), here(3)
        self.assertEqual(coro.cr_origin, expected)
        self.assertIsNone(coro.cr_origin_chain)
        coro.close()

    def test_chain_off(self):
        async def parent():
            return corofn()
        with settings(depth=3, chain=0):
            child = drive(parent())
        self.assertIsNone(child.cr_origin_chain)
        child.close()

    def test_untracked(self):
        coro = corofn()
        self.assertIsNone(coro.cr_origin_chain)
        coro.close()

    def test_parent_and_grandparent(self):
        results = {}

        async def child():
            return 1

        async def parent():
            c, results['child'] = child(), here(2)
            c.close()
            return c

        async def grandparent():
            p, results['parent'] = parent(), here(2)
            return await p

        with settings(depth=2, chain=8):
            g, results['grandparent'] = grandparent(), here(2)
            c = drive(g)
            self.assertEqual(c.cr_origin, results['child'])
        # parent was awaited by grandparent: the root of the await chain
        # that created child is grandparent.
        self.assertEqual(
            c.cr_origin_chain,
            (('ChainTest.test_parent_and_grandparent.<locals>.grandparent',
              results['grandparent']),))

    def test_deep_await_chain(self):
        # Deep in one await chain, the ancestor is the chain's root, found
        # without walking the chain (each coroutine is awaited by the frame
        # that created it; see find_chain() in Python/coro_origin.c).
        made = []

        async def f(n):
            if n:
                await f(n - 1)
            else:
                leaf = corofn()
                made.append(leaf)
                leaf.close()

        async def root():
            await f(500)

        with settings(depth=2, chain=2):
            r, site = root(), here(2)
            drive(r)
        chain = made[0].cr_origin_chain
        self.assertEqual(chain, (
            ('ChainTest.test_deep_await_chain.<locals>.root', site),))

    def test_resumed_by_another_chain(self):
        # A coroutine created in one await chain and awaited in another:
        # what it creates has the second chain's root as ancestor.
        holder = []

        async def grandchild():
            pass

        async def child():
            g = grandchild()
            g.close()
            return g.cr_origin_chain

        async def first_root():
            holder.append(child())

        async def second_root():
            return await holder[0]

        with settings(depth=1, chain=1):
            first = first_root()
            drive(first)
            second, site = second_root(), here(1)
            chain = drive(second)
        self.assertEqual(chain, (
            ('ChainTest.test_resumed_by_another_chain.<locals>.second_root',
             site),))

    def test_cut(self):
        names = []

        async def level(n):
            if n == 0:
                return corofn()
            return drive(level(n - 1))

        with settings(depth=1, chain=2):
            coro = drive(level(5))
        chain = coro.cr_origin_chain
        self.assertEqual(len(chain), 2)
        qualname = 'ChainTest.test_cut.<locals>.level'
        self.assertEqual([q for q, _ in chain], [qualname, qualname])
        coro.close()

    def test_untracked_ancestor(self):
        async def parent():
            sys.set_coroutine_origin_tracking(3, chain=4)
            return corofn()

        with settings(depth=0, chain=0):
            p = parent()
            child = drive(p)
        self.assertEqual(
            child.cr_origin_chain,
            (('ChainTest.test_untracked_ancestor.<locals>.parent', None),))
        child.close()

    def test_keeps_no_ancestor_alive(self):
        async def parent():
            return corofn()

        with settings(depth=3, chain=8):
            p = parent()
            origin = p.cr_origin
            ref = weakref.ref(p)
            child = drive(p)
            del p
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(
            child.cr_origin_chain,
            (('ChainTest.test_keeps_no_ancestor_alive.<locals>.parent',
              origin),))
        child.close()

    def test_bounded(self):
        # An endless line of coroutines, each created while the previous
        # one runs: every chain is cut at "chain" entries, and no ancestor
        # survives.
        refs = []

        async def spawn():
            return spawn()

        with settings(depth=2, chain=3):
            c = spawn()
            for _ in range(1000):
                refs.append(weakref.ref(c))
                c = drive(c)
        gc.collect()
        self.assertEqual([r for r in refs if r() is not None], [])
        qualname = 'ChainTest.test_bounded.<locals>.spawn'
        self.assertEqual([q for q, _ in c.cr_origin_chain], [qualname] * 3)
        c.close()

    def test_asyncio_tasks(self):
        sites = {}

        async def b():
            await asyncio.sleep(0)

        async def a():
            coro, sites['b'] = b(), here(2)
            task = asyncio.create_task(coro)
            await task
            return coro

        async def main():
            coro, sites['a'] = a(), here(2)
            task = asyncio.create_task(coro)
            return coro, await task

        with settings(depth=2, chain=8):
            m, sites['main'] = main(), here(2)
            coro_a, coro_b = asyncio.run(m)
        prefix = 'ChainTest.test_asyncio_tasks.<locals>.'
        self.assertEqual(coro_b.cr_origin, sites['b'])
        self.assertEqual(coro_b.cr_origin_chain,
                         ((prefix + 'a', sites['a']),
                          (prefix + 'main', sites['main'])))
        self.assertEqual(coro_a.cr_origin_chain,
                         ((prefix + 'main', sites['main']),))

    def test_unawaited_warning(self):
        async def parent():
            corofn()

        with settings(depth=1, chain=4):
            p, site = parent(), here(1)
            with self.assertWarns(RuntimeWarning) as cm:
                drive(p)
                gc.collect()
        filename, lineno, funcname = site[0]
        self.assertEqual(
            str(cm.warning).splitlines()[-3:],
            ["... spawned from 'ChainTest.test_unawaited_warning.<locals>"
             ".parent', created at (most recent call last)",
             f'  File "{filename}", line {lineno}, in {funcname}',
             "    p, site = parent(), here(1)"])

    def test_frames_as_above(self):
        # A site's oldest frames that the site printed above it shows too
        # are one line (two frames or more; the innermost always shown),
        # and a site that is all such frames is its link's line alone
        from _coro_origin_report import origin_block
        own = (('app.py', 9, 'child'), ('app.py', 20, 'main'),
               ('app.py', 5, 'run'), ('app.py', 30, '<module>'))
        parent = (('app.py', 25, 'main'), ('app.py', 5, 'run'),
                  ('app.py', 30, '<module>'))
        grand = (('app.py', 5, 'run'), ('app.py', 30, '<module>'))
        other = (('b.py', 1, 'f'), ('app.py', 30, '<module>'))
        chain = (('main', parent), ('run', grand), ('f', other))
        self.assertEqual(origin_block(own, chain, fold=False), [
            'Coroutine created at (most recent call last)',
            '  File "app.py", line 30, in <module>',
            '  File "app.py", line 5, in run',
            '  File "app.py", line 20, in main',
            '  File "app.py", line 9, in child',
            "... spawned from 'main', created at (most recent call last)",
            '  ... 2 frames as above',
            '  File "app.py", line 25, in main',
            # (every frame of it shown above: one line)
            "... spawned from 'run', created at app.py:5 (shown above)",
            "... spawned from 'f', created at (most recent call last)",
            '  File "app.py", line 30, in <module>',
            '  File "b.py", line 1, in f'])


class ScheduledTest(unittest.TestCase):
    """A coroutine created while an asyncio callback runs, with no
    coroutine between, has (None, the line that scheduled the callback)
    as its chain's first link: always when the callback is the coroutine
    function itself, with chain= when the callback creates it."""
    maxDiff = None

    def tearDown(self):
        asyncio.set_event_loop_policy(None)

    def test_sync_callback(self):
        made = []

        def on_tick():
            made.append(corofn())

        async def main():
            loop = asyncio.get_running_loop()
            loop.call_soon(on_tick); site = here(2)
            await asyncio.sleep(0)
            return site

        with settings(depth=2, chain=8):
            site = asyncio.run(main())
        coro = made.pop()
        self.assertEqual(coro.cr_origin_chain, ((None, site),))
        coro.close()
        # without chain=, the callback's own line is the site: no link
        with settings(depth=2, tracebacks=True):
            asyncio.run(main())
        coro = made.pop()
        self.assertIsNone(coro.cr_origin_chain)
        coro.close()

    def test_coroutine_function_as_callback(self):
        async def on_tick():
            pass

        async def main():
            loop = asyncio.get_running_loop()
            loop.call_later(0.001, on_tick)  # marker: call-later
            await asyncio.sleep(0.05)

        with settings(depth=2, tracebacks=True):
            with self.assertWarns(RuntimeWarning) as cm:
                asyncio.run(main())
                gc.collect()
        line = marker(__file__, 'call-later')
        self.assertEqual(str(cm.warning).splitlines(), [
            "coroutine 'ScheduledTest.test_coroutine_function_as_callback."
            "<locals>.on_tick' was never awaited",
            'Coroutine created by the event loop, calling the callback '
            'scheduled at (most recent call last)',
            '  [1 frame folded: asyncio]',
            f'  File "{__file__}", line {line}, in main',
            '    loop.call_later(0.001, on_tick)  # marker: call-later'])

    def test_coroutine_function_in_executor(self):
        # An async function handed to an executor (run_in_executor(),
        # to_thread(), Executor.submit()): its coroutine is made by the
        # worker thread, and the line that handed it over is its site.
        # (A child: the worker threads take the start-up spec.)
        source = textwrap.dedent('''\
            import asyncio, concurrent.futures, gc

            async def job():
                pass

            async def main():
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, job)
                await asyncio.to_thread(job)
                with concurrent.futures.ThreadPoolExecutor(1) as pool:
                    pool.submit(job).result()

            asyncio.run(main())
            gc.collect()
            ''')
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'app.py')
            with open(path, 'w') as f:
                f.write(source)
            res, cmd = run_python('-X', 'coro_origin=2', '-W', 'always',
                                  path, __isolated=False)
        err = res.err.decode().replace(path, 'app.py')
        blocks = [b for b in err.split('RuntimeWarning: coroutine ')[1:]]
        header = ("Coroutine created by an executor's worker thread, "
                  "calling the function submitted at (most recent call "
                  "last)")
        expected = []
        for line in (8, 9, 11):
            # (depth 2: the line, and the task's step that runs main())
            text = source.splitlines()[line - 1].strip()
            expected.append(["'job' was never awaited", header,
                             '  [1 frame folded: asyncio]',
                             f'  File "app.py", line {line}, in main',
                             '    ' + text])
        # (in the order the coroutines are collected; one collected on
        # the very line that made it has that line as the warning's own,
        # as stock prints it, and the block leaves its copy out)
        got = []
        for b in blocks:
            lines = b.splitlines()
            if len(lines) > 4 and not lines[4].startswith('    '):
                lines.insert(4, '  ' + lines[4])
            got.append(lines)
        got.sort()
        self.assertEqual(len(got), 3, err)
        self.assertEqual([g[:len(e)] for g, e in zip(got, sorted(expected))],
                         sorted(expected), err)

    def test_executor_tracking_off(self):
        import concurrent.futures
        with settings(), concurrent.futures.ThreadPoolExecutor(1) as pool:
            self.assertIsNone(sys._coroutine_origin_work_site())
            self.assertEqual(pool.submit(lambda: 42).result(), 42)

    def test_asyncio_schedules_for_itself(self):
        # A handle that asyncio makes while it runs a callback of its own
        # (here a future's done callback, scheduled by set_result() that
        # asyncio's helper calls) keeps no site, nor does a method of a
        # future (a task's steps and wake-ups); a callback that the user
        # schedules keeps the user's line
        from asyncio import futures

        def done(fut):
            pass

        def mine():
            pass

        async def main():
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            fut.add_done_callback(done)
            loop.call_soon(futures._set_result_unless_cancelled, fut, 1)
            method = loop.call_soon(fut.cancelled)
            handle = loop.call_soon(mine); site = here(1)
            await asyncio.sleep(0)
            theirs = [h for h in loop._ready if h._callback is done]
            return handle, method, theirs, site

        with settings(depth=1, tracebacks=True):
            handle, method, theirs, site = asyncio.run(main())
        self.assertEqual(handle._site.frames(), site)
        self.assertIsNone(method._site)
        self.assertEqual(len(theirs), 1)
        self.assertIsNone(theirs[0]._site)

    def test_tracking_off(self):
        async def main():
            return asyncio.get_running_loop().call_soon(done)

        def done():
            pass

        with settings():
            handle = asyncio.run(main())
            self.assertIsNone(sys._coroutine_origin_scheduled_at(print))
        self.assertIsNone(getattr(handle, '_site', None))


if __name__ == '__main__':
    unittest.main()
