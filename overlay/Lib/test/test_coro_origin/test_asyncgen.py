# Tests for origin-python's asyncgen mode: ag_origin and ag_origin_chain,
# with the finalizer kept working (Objects/genobject.c hooks).
# This module is part of origin-python, not of upstream CPython.

import gc
import sys
import unittest
import weakref

from test.test_coro_origin._util import assert_python_ok, here, settings


async def agenfn():
    yield 1


class AsyncGenTest(unittest.TestCase):

    def test_failed_finalization_report(self):
        # asyncio's report of an async generator whose aclose() failed at
        # shutdown names where the generator was created, with its chain.
        code = '\n'.join([
            'import asyncio',
            'async def agen():',
            '    try:',
            '        yield 1',
            '    finally:',
            '        raise ValueError("cleanup failed")',
            'async def main():',
            '    g = agen()',
            '    await g.__anext__()',
            'asyncio.run(main())',
        ])
        rc, out, err = assert_python_ok(
            '-X', 'coro_origin=5,asyncgen,chain=2', '-c', code)
        err = err.decode().replace('\r\n', '\n')
        self.assertIn('ValueError: cleanup failed', err)
        i = err.index('Async generator created at (most recent call last)\n')
        self.assertIn(
            '  File "<string>", line 8, in main\n'
            "... spawned from 'main', created at (most recent call last)\n"
            '  File "<string>", line 10, in <module>\n', err[i:])
        # Untracked generators: stock's report.
        rc, out, err = assert_python_ok('-X', 'coro_origin=5', '-c', code)
        self.assertNotIn(b'Async generator created at', err)

    def test_off(self):
        with settings(depth=3, asyncgen=False):
            agen = agenfn()
        self.assertIsNone(agen.ag_origin)
        self.assertIsNone(agen.ag_origin_chain)
        with settings(depth=0, asyncgen=True):
            agen = agenfn()
        self.assertIsNone(agen.ag_origin)

    def test_origin(self):
        with settings(depth=3, asyncgen=True):
            agen, expected = agenfn(), here(3)
        self.assertEqual(agen.ag_origin, expected)
        self.assertIsNone(agen.ag_origin_chain)

    def test_chain(self):
        async def parent():
            return agenfn()
        with settings(depth=1, chain=3, asyncgen=True):
            p, site = parent(), here(1)
            try:
                p.send(None)
            except StopIteration as exc:
                agen = exc.value
        self.assertEqual(agen.ag_origin_chain, (
            ('AsyncGenTest.test_chain.<locals>.parent', site),))

    def check_finalizer(self, tracked):
        finalized = []
        old = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=None,
                               finalizer=finalized.append)
        try:
            with settings(depth=2 if tracked else 0, asyncgen=True):
                agen = agenfn()
            it = agen.__anext__()
            with self.assertRaises(StopIteration):
                it.send(None)
            self.assertEqual(agen.ag_origin is not None, tracked)
            ref = weakref.ref(agen)
            del agen, it
            gc.collect()
            self.assertEqual(len(finalized), 1)
            self.assertIsNone(ref())      # cleared before finalizing
            self.assertEqual(finalized[0].__qualname__, 'agenfn')
            finalized.clear()
        finally:
            sys.set_asyncgen_hooks(*old)

    def test_finalizer(self):
        self.check_finalizer(tracked=True)
        self.check_finalizer(tracked=False)

    def test_finalizer_cycle(self):
        # The finalizer refers to the async generator: the GC sees the
        # cycle through the origin record and collects it.

        old = sys.get_asyncgen_hooks()
        try:
            with settings(depth=2, asyncgen=True):
                agen = agenfn()

            class Finalizer:
                def __call__(self, gen):
                    pass
            fin = Finalizer()
            fin.agen = agen
            sys.set_asyncgen_hooks(firstiter=None, finalizer=fin)
            it = agen.__anext__()
            with self.assertRaises(StopIteration):
                it.send(None)
            sys.set_asyncgen_hooks(*old)
            self.assertIn(fin, gc.get_referents(agen))
            ref = weakref.ref(fin)
            del agen, it, fin
            gc.collect()
            self.assertIsNone(ref())
        finally:
            sys.set_asyncgen_hooks(*old)


if __name__ == '__main__':
    unittest.main()
