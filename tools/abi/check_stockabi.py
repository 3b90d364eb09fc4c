"""Run by the fork with the stock-compiled stockabi module on sys.path."""
import sys
import threading

sys.path.insert(0, sys.argv[1])
import stockabi  # noqa: E402

# The depth the fork stores is where a stock-compiled extension reads it.
for depth in (0, 7, 1000):
    sys.set_coroutine_origin_tracking_depth(depth)
    assert stockabi.tstate_origin_depth() == depth, (depth, stockabi.tstate_origin_depth())
sys.set_coroutine_origin_tracking_depth(0)

result = []
t = threading.Thread(target=lambda: result.append(stockabi.tstate_origin_depth()))
t.start()
t.join()
assert result == [sys.get_coroutine_origin_tracking_depth()], result


async def coro_func():
    pass


async def agen_func():
    yield


def gen_func():
    yield


class C:
    async def method(self):
        pass


FRAME_CREATED = -3         # enum _framestate in stock's pycore_frame.h
sys.set_coroutine_origin_tracking_depth(5)
objs = [coro_func(), agen_func(), gen_func(), C().method()]
sys.set_coroutine_origin_tracking_depth(0)
try:
    for obj in objs:
        head = stockabi.gen_head(obj)
        assert head == (obj.__name__, obj.__qualname__, FRAME_CREATED), (head, obj)
        if hasattr(obj, 'cr_origin'):
            assert obj.cr_origin[0][2] == '<module>', obj.cr_origin
finally:
    for obj in objs:
        if hasattr(obj, 'close'):
            obj.close()

print('stock-compiled extension agrees with the fork:', stockabi.layout())
