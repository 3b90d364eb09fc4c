"""A threading.Lock shared by coroutines (the shape of
Azure/azure-sdk-for-python#11591): the first request takes the lock and
awaits inside it; the second blocks the event loop's thread on the same
lock, so the first never resumes to release it.  Nothing is printed and
the process hangs; with hang=SECONDS the fork says which callback blocks
the loop, on which line, and what the other task holds."""
import asyncio
import threading

_token_lock = threading.Lock()
_token = None


async def fetch_token():
    await asyncio.sleep(0.05)           # the identity provider
    return 'secret'


async def get_token():
    global _token
    with _token_lock:                   # a thread lock in async code
        if _token is None:
            _token = await fetch_token()
        return _token


async def request(path):
    token = await get_token()
    return f'GET {path} with {token}'


async def main():
    print(await asyncio.gather(request('/a'), request('/b')))


asyncio.run(main())
