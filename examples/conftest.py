# pytest + origin-python: fail the test that lost asyncio work (strict
# mode), and a hung test with its tasks (--coro-origin-timeout=SECONDS):
#   python -X coro_origin=10,strict -m pytest examples/test_strict_pytest.py
# The same as "python -m pytest -p coro_origin.pytest".
pytest_plugins = ['coro_origin.pytest']
