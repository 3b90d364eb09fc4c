"""origin-python: with origin tracking on, "Future exception was never
retrieved" says where the future was created, for the C and the Python
Future, outside debug mode; tasks and untracked runs are unchanged."""

import textwrap
import unittest
from test.test_coro_origin._util import run_python

PROGRAM = textwrap.dedent('''\
    import asyncio, asyncio.futures, gc, sys

    async def producer(make):
        fut = make()
        fut.set_exception(RuntimeError("lost"))

    async def main():
        loop = asyncio.get_running_loop()
        if sys.argv[1] == "c":
            make = loop.create_future
        else:
            make = lambda: asyncio.futures._PyFuture(loop=loop)
        await producer(make)
        gc.collect()
        task = asyncio.create_task(asyncio.sleep(0))
        print("task source traceback:", task._source_traceback)
        await task

    asyncio.run(main())
    ''')


class FutureOriginTest(unittest.TestCase):

    def run_program(self, impl, *xoptions):
        args = []
        for x in xoptions:
            args += ['-X', x]
        res = run_python(*args, '-c', PROGRAM, impl)[0]
        self.assertEqual(res.rc, 0, res.err)
        return res.out.decode(), res.err.decode()

    def future_block(self, err):
        i = err.index('Future exception was never retrieved\n')
        j = err.index('Future created at (most recent call last)\n', i)
        k = err.index('RuntimeError: lost', j)
        return err[j:k]

    def check_tracked(self, impl):
        out, err = self.run_program(impl, 'coro_origin=10')
        self.assertEqual(out, 'task source traceback: None\n')
        # Through the renderer, not as a stock source_traceback.
        self.assertNotIn('source_traceback', err)
        block = self.future_block(err)
        # The coroutine that made the future, and the line, are named.
        self.assertIn('  File "<string>", line 4, in producer\n', block)
        self.assertIn('  File "<string>", line 13, in main\n', block)
        self.assertTrue(err.rstrip().endswith('RuntimeError: lost'), err)

    def test_c_future(self):
        self.check_tracked('c')

    def test_python_future(self):
        self.check_tracked('py')

    def test_honours_skip(self):
        # "full" shows every frame: asyncio's own are there without skip=
        # and gone with it (the future's creation site is captured with
        # the thread's skip setting, as a coroutine's).
        import asyncio, os
        asyncio_dir = os.path.dirname(asyncio.__file__)
        for impl in ('c', 'py'):
            with self.subTest(impl=impl):
                out, err = self.run_program(impl, 'coro_origin=10,full')
                self.assertIn(asyncio_dir, self.future_block(err))
                out, err = self.run_program(
                    impl, 'coro_origin=10,full,skip=asyncio')
                block = self.future_block(err)
                self.assertNotIn(asyncio_dir, block)
                self.assertIn('  File "<string>", line 4, in producer\n',
                              block)

    def test_untracked_is_stock(self):
        for impl in ('c', 'py'):
            with self.subTest(impl=impl):
                out, err = self.run_program(impl)
                self.assertEqual(out, 'task source traceback: None\n')
                self.assertIn('Future exception was never retrieved\n', err)
                self.assertNotIn('created at', err)
                self.assertNotIn('source_traceback', err)


if __name__ == '__main__':
    unittest.main()
