"""An event loop run forever in a thread, fed with
run_coroutine_threadsafe(), and never stopped (the shape of
python/asyncio#312): the main thread finishes, and the process waits for
the loop's thread for ever.  Stock prints nothing (Ctrl-C shows
threading._shutdown()); with hang=SECONDS the fork names the thread, where
its loop was started, and that nothing stops it."""
import asyncio
import threading


async def on_request(data):
    await asyncio.sleep(0.01)
    print('handled', data)


def serve(loop):
    asyncio.set_event_loop(loop)
    loop.run_forever()


loop = asyncio.new_event_loop()
threading.Thread(target=serve, args=(loop,), name='asyncio-worker').start()
asyncio.run_coroutine_threadsafe(on_request(4), loop).result()
# missing: loop.call_soon_threadsafe(loop.stop)
