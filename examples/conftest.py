# pytest + origin-python strict mode: fail the test that lost asyncio work.
#   python -X coro_origin=10,strict -m pytest examples/test_strict_pytest.py
import gc, sys, pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    gc.collect()                             # let dropped tasks be reported
    problems = sys._coroutine_origin_problems() or []   # None: strict is off
    if problems:
        pytest.fail("\n\n".join(text for _, text, _ in problems), pytrace=False)
