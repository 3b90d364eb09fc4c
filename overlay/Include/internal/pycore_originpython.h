/* origin-python: the fork's identity.
 *
 * This header is part of origin-python, not of upstream CPython.  The
 * version below names the fork's release; CPython's own version
 * (PY_VERSION) stays untouched so that wheel tags, sysconfig and
 * platform's parsing of sys.version keep working.
 */
#ifndef Py_INTERNAL_ORIGINPYTHON_H
#define Py_INTERNAL_ORIGINPYTHON_H

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

/* Shown after the compiler in sys.version (and `python -VV`), and as
   sys.implementation._origin_python. */
#define _Py_ORIGIN_PYTHON_NAME "origin-python"
#define _Py_ORIGIN_PYTHON_VERSION "0.1.0"

#endif /* !Py_INTERNAL_ORIGINPYTHON_H */
