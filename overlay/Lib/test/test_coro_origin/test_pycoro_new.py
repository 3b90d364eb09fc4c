"""PyCoro_New(), the creation path for coroutines made from C.

Nothing in CPython calls PyCoro_New() (asyncio's C Task does not), and
neither _testcapi nor _testinternalcapi exposes it, so it is called here
through ctypes with a frame from PyFrame_New().  Stock's
gen_new_with_qualname() asserts both f->f_frame->frame_obj == NULL and,
after copying the same frame, frame->frame_obj == f: no frame can satisfy
both, so in builds with assertions (pydebug) PyCoro_New() aborts whatever
its arguments, and these tests are skipped there.

PyCoro_New() starts from _PyEval_GetFrame(), the innermost complete Python
frame: during a ctypes call that is the frame making the call.
"""

import sysconfig
import unittest
from contextlib import closing
from test import support
from test.support import import_helper

from test.test_coro_origin._util import corofn, tracking, here

ctypes = import_helper.import_module('ctypes')

ASSERTIONS = (support.Py_DEBUG or
              '--with-assertions' in (sysconfig.get_config_var('CONFIG_ARGS')
                                      or ''))


@unittest.skipIf(ASSERTIONS, "PyCoro_New() cannot pass its own assertions")
class PyCoroNewTest(unittest.TestCase):

    def setUp(self):
        api = ctypes.pythonapi      # PyDLL: calls keep the GIL
        api.PyThreadState_Get.restype = ctypes.c_void_p
        api.PyThreadState_Get.argtypes = []
        api.PyFrame_New.restype = ctypes.c_void_p
        api.PyFrame_New.argtypes = [ctypes.c_void_p, ctypes.py_object,
                                    ctypes.py_object, ctypes.c_void_p]
        api.PyCoro_New.restype = ctypes.py_object
        api.PyCoro_New.argtypes = [ctypes.c_void_p, ctypes.py_object,
                                   ctypes.py_object]
        self.api = api

    def new_coro(self):
        # PyCoro_New() steals the new frame reference PyFrame_New() gave.
        api = self.api
        frame = api.PyFrame_New(api.PyThreadState_Get(), corofn.__code__,
                                globals(), None)
        self.assertTrue(frame)
        return api.PyCoro_New(frame, 'from_c', 'from_c_qual')

    def test_depth_zero(self):
        with tracking(0):
            with closing(self.new_coro()) as coro:
                self.assertEqual(coro.__name__, 'from_c')
                self.assertIsNone(coro.cr_origin)

    def test_origin(self):
        def nested(depth):
            return self.new_coro(), here(depth)
        for depth in (1, 2, 3, 10**6):
            with self.subTest(depth=depth), tracking(depth):
                coro, expected = nested(depth)
                with closing(coro):
                    # new_coro() is the innermost Python frame.
                    self.assertEqual(coro.cr_origin[0][2], 'new_coro')
                    self.assertEqual(coro.cr_origin[1:], expected[:depth - 1])
                    self.assertEqual(len(coro.cr_origin),
                                     min(depth, len(expected) + 1))

    def test_shared_with_each_other(self):
        with tracking(3):
            coros = [self.new_coro() for _ in range(3)]
        try:
            self.assertIs(coros[0].cr_origin, coros[1].cr_origin)
            self.assertIs(coros[0].cr_origin, coros[2].cr_origin)
        finally:
            for coro in coros:
                coro.close()


if __name__ == '__main__':
    unittest.main()
