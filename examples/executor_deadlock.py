"""A coroutine holds a threading.Lock while it awaits a function run in an
executor thread that needs the same lock (the shape of apache/airflow#51279):
neither can go on.  Stock prints nothing; with hang=SECONDS the fork's dump
shows the task waiting for that function, the thread that runs it, and the
line where it blocks."""
import asyncio
import threading

state_lock = threading.Lock()
state = {}


def save_state(key, value):
    with state_lock:                    # held by update() meanwhile
        state[key] = value


async def update(key, value):
    loop = asyncio.get_running_loop()
    with state_lock:
        await loop.run_in_executor(None, save_state, key, value)


async def main():
    await update("answer", 42)


asyncio.run(main())
