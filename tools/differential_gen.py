"""The program generator of tools/differential.

generate(seed) returns the text of a small asyncio program and the set of
features it uses.  The same seed gives the same program with any Python 3
(only random.Random(seed) decides).  A program is a few "scenes" (async
functions that each exercise one part of asyncio and print what happened),
run one after the other by main(), then how the program ends and what it
leaves alive for the interpreter's exit.

Determinism rules (two runs of the same interpreter must print the same
thing, and fork and stock must too):

* tasks are ordered by counted `await asyncio.sleep(0)`, events, queues and
  locks, never by timers racing each other;
* a timer is either sure to fire (0.01 s around an await that never ends)
  or sure not to (30 s around an await that ends after a few sleep(0));
* threads never print: their results are printed by the loop's thread
  after it awaited them, and at most one thread works at a time;
* the cyclic garbage collector is disabled (its runs depend on how much
  each interpreter allocates); programs call gc.collect() at fixed points,
  and the interpreter's exit collects the rest;
* asyncio.run() cancels the tasks left at its end, and closes the async
  generators left open, in the order of sets of objects hashed by their
  address: a program leaves at most one task and one async generator
  that print something then;
* SIGINT is sent with signal.raise_signal() (delivered to the main
  thread at once) unless asyncio.run()'s own handler takes it.
"""

import random
import textwrap

VERSION = 2

EXCEPTIONS = ['ValueError', 'KeyError', 'RuntimeError', 'AppError',
              'ZeroDivisionError']


class Program:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.imports = {'asyncio', 'gc', 'sys'}
        self.top = []           # module-level definitions (blocks of text)
        self.scenes = []        # (function name, body text)
        self.main_tail = []     # lines at the end of main() (before 'end')
        self.after = []         # lines after the runner returned
        self.features = set()
        self.counter = 0
        self.debug = False
        self.runner = None

    def name(self, kind):
        self.counter += 1
        return f's{self.counter}_{kind}'

    def chance(self, p):
        return self.rng.random() < p

    def exc(self):
        return self.rng.choice(EXCEPTIONS)


def block(text, **values):
    """Dedent *text* and fill $name placeholders (Python code keeps its
    braces)."""
    import string
    return string.Template(textwrap.dedent(text).strip('\n')).substitute(
        values)


def indent(text, n=4):
    return textwrap.indent(text, ' ' * n)


# --- scenes ------------------------------------------------------------------
#
# Each returns the body of `async def NAME():` (not indented).

def scene_tasks(p, n):
    k = p.rng.randint(2, 5)
    fails = sorted(p.rng.sample(range(k), p.rng.randint(0, 2)))
    named = p.chance(0.5)
    exc = p.exc()
    body = [block('''
        async def work(i):
            for _ in range(i % 3):
                await asyncio.sleep(0)
            if i in $fails:
                raise $exc(f'$n work {i} failed')
            return i * 10
        tasks = [asyncio.create_task(work(i)$kw) for i in range($k)]
        ''', n=n, fails=fails, exc=exc, k=k,
        kw=f", name=f'{n}-{{i}}'" if named else '')]
    if p.chance(0.4):
        body.append(f"out('{n} repr', repr(tasks[0]))")
        p.features.add('repr')
    if p.chance(0.3):
        body.append(f"out('{n} current', asyncio.current_task().get_name())")
    body.append(block('''
        for t in tasks:
            try:
                out('$n result', t.get_name(), await t)
            except $exc as e:
                out('$n failed', t.get_name(), repr(e))
        ''', n=n, exc=exc))
    if fails and p.chance(0.4):
        p.imports.add('traceback')
        body.append(block('''
            try:
                await tasks[$i]
            except Exception as e:
                traceback.print_exception(e)
            ''', i=fails[0]))
    return '\n'.join(body)


def scene_gather(p, n):
    k = p.rng.randint(2, 5)
    fails = sorted(p.rng.sample(range(k), p.rng.randint(0, 2)))
    rx = p.chance(0.5)
    exc = p.exc()
    body = [block('''
        async def part(i):
            for _ in range(i % 3):
                await asyncio.sleep(0)
            if i in $fails:
                raise $exc(f'$n part {i}')
            return i
        try:
            res = await asyncio.gather(*[part(i) for i in range($k)], return_exceptions=$rx)
            out('$n gathered', [repr(r) if isinstance(r, BaseException) else r for r in res])
        except Exception as e:
            out('$n gather raised', repr(e))
        for _ in range(4):
            await asyncio.sleep(0)
        ''', n=n, fails=fails, exc=exc, k=k, rx=rx)]
    if p.chance(0.5):
        body.append(block('''
            async def slow(i):
                try:
                    await asyncio.sleep(3600)
                finally:
                    out('$n slow finally', i)
            g = asyncio.gather(slow(1), slow(2), asyncio.sleep(0, 'quick'))
            await asyncio.sleep(0)
            g.cancel()
            try:
                await g
            except asyncio.CancelledError:
                out('$n outer gather cancelled', g.cancelled())
            ''', n=n))
    return '\n'.join(body)


def scene_taskgroup(p, n):
    k = p.rng.randint(2, 5)
    fails = sorted(p.rng.sample(range(k), p.rng.randint(0, 2)))
    exc = p.exc()
    body_raise = p.chance(0.2)
    print_tb = p.chance(0.4)
    if print_tb:
        p.imports.add('traceback')
    text = block('''
        async def child(i):
            try:
                for _ in range(i):
                    await asyncio.sleep(0)
                if i in $fails:
                    raise $exc(f'$n child {i}')
                out('$n child done', i)
                return i
            except asyncio.CancelledError:
                out('$n child cancelled', i)
                raise
        try:
            async with asyncio.TaskGroup() as tg:
                ts = [tg.create_task(child(i)) for i in range($k)]
                $body
            out('$n group ok', [t.result() for t in ts])
        except* $exc as eg:
            out('$n group failed', sorted(str(e) for e in eg.exceptions))
            $tb
        ''', n=n, fails=fails, exc=exc, k=k,
        body=(f"await asyncio.sleep(0)\n{' ' * 8}raise RuntimeError('{n} body')"
              if body_raise else 'await asyncio.sleep(0)'),
        tb='traceback.print_exception(eg)' if print_tb else 'pass')
    if body_raise and exc != 'RuntimeError':
        text += '\n' + block('''
            except* RuntimeError as eg:
                out('$n body failed', [str(e) for e in eg.exceptions])
            ''', n=n)
    return text


def scene_wait_for(p, n):
    body = [block('''
        async def quick(x):
            await asyncio.sleep(0)
            return x
        async def never(tag):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                out('$n never cancelled', tag)
                raise
        out('$n quick', await asyncio.wait_for(quick(1), 30))
        try:
            await asyncio.wait_for(never('wait_for'), 0.01)
        except TimeoutError as e:
            out('$n wait_for timed out', repr(e))
        ''', n=n)]
    if p.chance(0.5):
        body.append(block('''
            try:
                async with asyncio.timeout(0.01) as cm:
                    await never('timeout')
            except TimeoutError:
                out('$n timeout expired', cm.expired())
            async with asyncio.timeout(30) as cm2:
                out('$n in time', await quick(2))
                cm2.reschedule(None)
            out('$n cm2', cm2.expired(), cm2.when())
            ''', n=n))
    if p.chance(0.3):
        body.append(block('''
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout_at(loop.time() + 0.01):
                    async with asyncio.timeout(30):
                        await never('nested')
            except TimeoutError as e:
                out('$n outer timeout', type(e.__context__).__name__)
            ''', n=n))
    if p.chance(0.3):
        p.imports.add('traceback')
        body.append(block('''
            try:
                await asyncio.wait_for(never('printed'), 0.01)
            except TimeoutError:
                traceback.print_exc()
            ''', n=n))
    if p.chance(0.3):
        body.append(block('''
            async def stubborn():
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    out('$n stubborn swallows the cancel')
                    return 'kept going'
            try:
                out('$n stubborn', await asyncio.wait_for(stubborn(), 0.01))
            except TimeoutError:
                out('$n stubborn timed out')
            ''', n=n))
    return '\n'.join(body)


def scene_wait(p, n):
    k = p.rng.randint(2, 4)
    when = p.rng.choice(['FIRST_COMPLETED', 'FIRST_EXCEPTION',
                         'ALL_COMPLETED'])
    fail = p.rng.randrange(k + 1)
    body = [block('''
        async def part(i):
            for _ in range(i + 1):
                await asyncio.sleep(0)
            if i == $fail:
                raise ValueError(f'$n part {i}')
            return i
        ts = [asyncio.create_task(part(i)) for i in range($k)]
        done, pending = await asyncio.wait(ts, return_when=asyncio.$when)
        out('$n done', sorted(ts.index(t) for t in done), 'pending', len(pending))
        for t in pending:
            t.cancel()
        res = await asyncio.gather(*ts, return_exceptions=True)
        out('$n results', [repr(r) for r in res])
        ''', n=n, k=k, when=when, fail=fail)]
    if p.chance(0.5):
        body.append(block('''
            order = []
            for f in asyncio.as_completed([part(i) for i in reversed(range($k))]):
                try:
                    order.append(await f)
                except ValueError as e:
                    order.append(str(e))
            out('$n as_completed', order)
            ''', n=n, k=k))
    return '\n'.join(body)


def scene_cancel(p, n):
    what = p.rng.choice(['raise', 'swallow', 'other'])
    msg = p.rng.choice(['', f"'{n} stop'"])
    react = {'raise': 'raise',
             'swallow': "return 'swallowed'",
             'other': f"raise {p.exc()}('{n} during cancel')"}[what]
    body = [block('''
        async def sleeper(tag):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError as e:
                out('$n', tag, 'got cancel', e.args)
                $react
        t = asyncio.create_task(sleeper('a'))
        await asyncio.sleep(0)
        t.cancel($msg)
        out('$n cancelling', t.cancelling())
        try:
            out('$n result', await t)
        except asyncio.CancelledError as e:
            out('$n cancelled', e.args, t.cancelled())
        except Exception as e:
            out('$n error', repr(e), t.cancelled())
        t2 = asyncio.create_task(sleeper('b'))
        t2.cancel()
        try:
            await t2
        except asyncio.CancelledError:
            out('$n cancelled before start', t2.cancelled())
        ''', n=n, react=react, msg=msg)]
    if p.chance(0.3):
        body.append(block('''
            me = asyncio.current_task()
            me.cancel()
            out('$n self cancel', me.cancelling(), me.uncancel())
            await asyncio.sleep(0)
            out('$n survived self cancel')
            ''', n=n))
    if p.chance(0.3):
        p.imports.add('traceback')
        body.append(block('''
            t3 = asyncio.create_task(sleeper('c'))
            await asyncio.sleep(0)
            t3.cancel('$n printed')
            try:
                await t3
            except BaseException:
                traceback.print_exc()
            ''', n=n))
    return '\n'.join(body)


def scene_shield(p, n):
    fails = p.chance(0.4)
    body = [block('''
        async def inner_work(tag):
            for _ in range(3):
                await asyncio.sleep(0)
            if $fails:
                raise ValueError(f'$n inner {tag} failed')
            return f'inner {tag} result'
        inner = asyncio.create_task(inner_work('a'))
        outer = asyncio.shield(inner)
        await asyncio.sleep(0)
        outer.cancel()
        try:
            await outer
        except asyncio.CancelledError:
            out('$n outer cancelled', inner.done())
        try:
            out('$n inner', await inner)
        except ValueError as e:
            out('$n inner failed', e)
        ''', n=n, fails=fails)]
    if p.chance(0.5):
        body.append(block('''
            async def waiter():
                return await asyncio.shield(inner_work('b'))
            w = asyncio.create_task(waiter())
            await asyncio.sleep(0)
            w.cancel()
            try:
                await w
            except asyncio.CancelledError:
                out('$n waiter cancelled')
            for _ in range(5):
                await asyncio.sleep(0)
            ''', n=n))
    return '\n'.join(body)


def scene_queue(p, n):
    kind = p.rng.choice(['Queue', 'PriorityQueue', 'LifoQueue'])
    maxsize = p.rng.choice([0, 1, 2])
    items = p.rng.randint(2, 6)
    consumers = p.rng.randint(1, 3)
    body = [block('''
        q = asyncio.$kind($maxsize)
        async def consumer(c):
            try:
                while True:
                    item = await q.get()
                    out('$n got', c, item)
                    await asyncio.sleep(0)
                    q.task_done()
            except asyncio.CancelledError:
                out('$n consumer stopped', c)
                raise
        cs = [asyncio.create_task(consumer(c)) for c in range($consumers)]
        for i in range($items):
            await q.put(($items - i) * 7 % 10)
            out('$n put', i, q.qsize())
        await q.join()
        for c in cs:
            c.cancel()
        out('$n stopped', [repr(r) for r in await asyncio.gather(*cs, return_exceptions=True)])
        try:
            q.get_nowait()
        except asyncio.QueueEmpty:
            out('$n empty')
        ''', n=n, kind=kind, maxsize=maxsize, items=items,
        consumers=consumers)]
    if maxsize and p.chance(0.5):
        body.append(block('''
            for i in range($maxsize + 1):
                try:
                    q.put_nowait(i)
                except asyncio.QueueFull:
                    out('$n full at', i)
            ''', n=n, maxsize=maxsize))
    if p.chance(0.4):
        body.append(block('''
            q2 = asyncio.Queue()
            async def blocked_get():
                try:
                    return await q2.get()
                except asyncio.QueueShutDown:
                    return 'shut down'
            g = asyncio.create_task(blocked_get())
            await asyncio.sleep(0)
            q2.shutdown($immediate)
            out('$n after shutdown', await g)
            try:
                await q2.put(1)
            except asyncio.QueueShutDown:
                out('$n put refused')
            ''', n=n, immediate=p.chance(0.5)))
    return '\n'.join(body)


def scene_locks(p, n):
    k = p.rng.randint(2, 4)
    body = [block('''
        lock = asyncio.Lock()
        async def crit(i):
            async with lock:
                out('$n enter', i)
                await asyncio.sleep(0)
                out('$n leave', i)
        await asyncio.gather(*(crit(i) for i in range($k)))
        ''', n=n, k=k)]
    if p.chance(0.5):
        body.append(block('''
            sem = asyncio.Semaphore($v)
            async def limited(i):
                async with sem:
                    out('$n sem in', i)
                    await asyncio.sleep(0)
                    await asyncio.sleep(0)
            await asyncio.gather(*(limited(i) for i in range($k)))
            bs = asyncio.BoundedSemaphore(1)
            try:
                bs.release()
            except ValueError as e:
                out('$n bounded', e)
            ''', n=n, k=k + 1, v=p.rng.randint(1, 2)))
    if p.chance(0.5):
        body.append(block('''
            cond = asyncio.Condition()
            state = []
            async def cwait(i):
                async with cond:
                    await cond.wait_for(lambda: len(state) > i)
                    out('$n cond woke', i, len(state))
            ws = [asyncio.create_task(cwait(i)) for i in range($k)]
            for j in range($k):
                await asyncio.sleep(0)
                async with cond:
                    state.append(j)
                    cond.notify_all()
            await asyncio.gather(*ws)
            ''', n=n, k=k))
    if p.chance(0.4):
        body.append(block('''
            barrier = asyncio.Barrier($k)
            async def party(i):
                for _ in range(i):
                    await asyncio.sleep(0)
                pos = await barrier.wait()
                return (i, pos)
            out('$n barrier', await asyncio.gather(*(party(i) for i in range($k))))
            ''', n=n, k=k))
    if p.chance(0.3):
        body.append(block('''
            try:
                asyncio.Lock().release()
            except RuntimeError as e:
                out('$n release unlocked', e)
            ''', n=n))
    return '\n'.join(body)


def scene_events(p, n):
    k = p.rng.randint(1, 4)
    return block('''
        ev = asyncio.Event()
        async def waiter(i):
            await ev.wait()
            out('$n woke', i)
            return i
        ws = [asyncio.create_task(waiter(i)) for i in range($k)]
        await asyncio.sleep(0)
        out('$n before set', ev.is_set(), [w.done() for w in ws])
        ev.set()
        out('$n waiters', await asyncio.gather(*ws))
        ev.clear()
        try:
            await asyncio.wait_for(ev.wait(), 0.01)
        except TimeoutError:
            out('$n wait timed out', ev.is_set())
        ''', n=n, k=k)


def scene_agen(p, n):
    fails = p.chance(0.3)
    await_in_finally = p.chance(0.4)
    body = [block('''
        async def ticker(tag, count):
            try:
                for i in range(count):
                    await asyncio.sleep(0)
                    yield i
                if $fails:
                    raise ValueError(f'$n ticker {tag} failed')
            finally:
                out('$n ticker finally', tag)
                $fin
        ''', n=n, fails=fails,
        fin='await asyncio.sleep(0)' if await_in_finally else 'pass')]
    variants = p.rng.sample(['break', 'aclose', 'athrow', 'asend', 'comp',
                             'cm', 'anext', 'keep', 'method'],
                            p.rng.randint(1, 3))
    for v in variants:
        if v == 'break':
            body.append(block('''
                async for x in ticker('break', 5):
                    out('$n loop', x)
                    if x == 2:
                        break
                for _ in range(4):
                    await asyncio.sleep(0)
                ''', n=n))
        elif v == 'aclose':
            body.append(block('''
                ag = ticker('aclose', 3)
                out('$n first', await anext(ag))
                await ag.aclose()
                out('$n closed')
                ''', n=n))
        elif v == 'athrow':
            body.append(block('''
                ag = ticker('athrow', 3)
                out('$n first', await ag.__anext__())
                try:
                    await ag.athrow(KeyError('$n thrown'))
                except KeyError as e:
                    out('$n athrow raised', repr(e))
                ''', n=n))
        elif v == 'asend':
            body.append(block('''
                async def echo():
                    received = []
                    try:
                        while True:
                            x = yield len(received)
                            received.append(x)
                    finally:
                        out('$n echo finally', received)
                e = echo()
                out('$n asend', await e.asend(None), await e.asend('a'), await e.asend('b'))
                await e.aclose()
                ''', n=n))
        elif v == 'comp':
            body.append(block('''
                try:
                    out('$n comp', [x async for x in ticker('comp', 3)])
                except ValueError as e:
                    out('$n comp failed', e)
                ''', n=n))
        elif v == 'cm':
            p.imports.add('contextlib')
            body.append(block('''
                @contextlib.asynccontextmanager
                async def managed(tag):
                    out('$n enter', tag)
                    try:
                        yield tag
                    finally:
                        await asyncio.sleep(0)
                        out('$n exit', tag)
                async with managed('cm') as v:
                    out('$n inside', v)
                try:
                    async with managed('cm2'):
                        raise KeyError('$n in cm')
                except KeyError as e:
                    out('$n cm raised', repr(e))
                ''', n=n))
        elif v == 'anext':
            body.append(block('''
                ag = ticker('anext', 1)
                out('$n anext', await anext(ag, 'd'), await anext(ag, 'd') if not $fails else 'skipped')
                if not $fails:
                    await ag.aclose()
                else:
                    try:
                        await anext(ag)
                    except ValueError as e:
                        out('$n anext failed', e)
                ''', n=n, fails=fails))
        elif v == 'keep':
            p.features.add('agen-kept')
            body.append(block('''
                ag = ticker('kept', 10)
                out('$n kept first', await anext(ag))
                KEEP.append(ag)
                ''', n=n))
        elif v == 'method':
            p.features.add('agen-method-unawaited')
            body.append(block('''
                ag = ticker('method', 2)
                ag.asend(None)
                gc.collect()
                out('$n method dropped')
                ''', n=n))
    return '\n'.join(body)


def scene_executor(p, n):
    fail = p.rng.randrange(4)
    body = [block('''
        def blocking(x):
            if x == $fail:
                raise ValueError(f'$n blocking {x}')
            return x * 2
        loop = asyncio.get_running_loop()
        for x in range(3):
            try:
                out('$n executor', await loop.run_in_executor(None, blocking, x))
            except ValueError as e:
                out('$n executor failed', e)
        ''', n=n, fail=fail)]
    if p.chance(0.5):
        body.append(block('''
            try:
                out('$n to_thread', await asyncio.to_thread(blocking, $x))
            except ValueError as e:
                out('$n to_thread failed', e)
            ''', n=n, x=p.rng.randrange(4)))
    if p.chance(0.5):
        p.imports.add('concurrent.futures')
        body.append(block('''
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
                fs = [loop.run_in_executor(ex, blocking, x) for x in range(3)]
                out('$n pool', [repr(r) for r in await asyncio.gather(*fs, return_exceptions=True)])
            ''', n=n))
    if p.chance(0.3):
        p.imports.add('threading')
        body.append(block('''
            def thread_fails():
                raise RuntimeError('$n in thread')
            th = threading.Thread(target=thread_fails, name='$n-thread')
            th.start()
            await asyncio.to_thread(th.join)
            out('$n thread joined')
            ''', n=n))
    return '\n'.join(body)


def scene_threadsafe(p, n):
    fail = p.rng.randrange(4)
    body = [block('''
        loop = asyncio.get_running_loop()
        async def job(x):
            await asyncio.sleep(0)
            if x == $fail:
                raise KeyError(x)
            return x + 100
        def from_thread(x):
            fut = asyncio.run_coroutine_threadsafe(job(x), loop)
            try:
                return ('ok', fut.result(timeout=30))
            except KeyError as e:
                return ('err', repr(e))
        for x in range(3):
            out('$n threadsafe', await loop.run_in_executor(None, from_thread, x))
        ''', n=n, fail=fail)]
    if p.chance(0.5):
        p.imports.add('threading')
        body.append(block('''
            fut = loop.create_future()
            th = threading.Thread(target=loop.call_soon_threadsafe, args=(fut.set_result, '$n from thread'))
            th.start()
            out('$n', await fut)
            th.join()
            ''', n=n))
    if p.chance(0.4):
        p.imports.add('threading')
        body.append(block('''
            other = asyncio.new_event_loop()
            th = threading.Thread(target=other.run_forever)
            th.start()
            for x in ($fail, 1):
                cf = asyncio.run_coroutine_threadsafe(job(x), other)
                try:
                    out('$n other loop', await asyncio.wrap_future(cf))
                except KeyError as e:
                    out('$n other loop failed', repr(e))
            other.call_soon_threadsafe(other.stop)
            await asyncio.to_thread(th.join)
            other.close()
            ''', n=n, fail=fail))
    return '\n'.join(body)


def scene_exceptions(p, n):
    exc = p.exc()
    body = [block('''
        async def fail(tag):
            await asyncio.sleep(0)
            raise $exc(f'$n {tag}')
        ''', n=n, exc=exc)]
    variants = p.rng.sample(['dropped', 'retrieved', 'future', 'pyfuture',
                             'printed', 'chained', 'tracebacks', 'handler',
                             'unawaited', 'group', 'manual', 'logging',
                             'states'], p.rng.randint(1, 3))
    for v in variants:
        if v == 'dropped':
            p.features.add('lost-task-exception')
            body.append(block('''
                t = asyncio.create_task(fail('dropped'))
                for _ in range(3):
                    await asyncio.sleep(0)
                out('$n dropping', t.done())
                del t
                gc.collect()
                out('$n dropped')
                ''', n=n))
        elif v == 'retrieved':
            body.append(block('''
                t = asyncio.create_task(fail('retrieved'))
                for _ in range(3):
                    await asyncio.sleep(0)
                out('$n retrieved', repr(t.exception()))
                del t
                ''', n=n))
        elif v in ('future', 'pyfuture'):
            p.features.add('lost-future-exception')
            make = ('asyncio.get_running_loop().create_future()'
                    if v == 'future' else 'asyncio.futures._PyFuture()')
            body.append(block('''
                f = $make
                f.set_exception($exc('$n future'))
                out('$n future', repr(f))
                del f
                gc.collect()
                out('$n future dropped')
                ''', n=n, make=make, exc=exc))
        elif v == 'printed':
            p.imports.add('traceback')
            body.append(block('''
                t = asyncio.create_task(fail('printed'))
                try:
                    await t
                except Exception:
                    traceback.print_exc()
                try:
                    await fail('direct')
                except Exception as e:
                    traceback.print_exception(e)
                ''', n=n))
        elif v == 'chained':
            p.imports.add('traceback')
            body.append(block('''
                try:
                    try:
                        await asyncio.create_task(fail('inner'))
                    except Exception as e:
                        raise RuntimeError('$n outer') from e
                except RuntimeError:
                    traceback.print_exc()
                try:
                    try:
                        await fail('context')
                    except Exception:
                        raise KeyError('$n during handling')
                except KeyError:
                    traceback.print_exc()
                ''', n=n))
        elif v == 'tracebacks':
            p.imports.add('traceback')
            body.append(block('''
                t = asyncio.create_task(fail('noted'))
                try:
                    await t
                except Exception as e:
                    e.add_note('$n a note')
                    e.add_note('$n another note')
                    traceback.print_exception(e)
                    out('$n notes', e.__notes__, str(e), e.args)
                ''', n=n))
        elif v == 'handler':
            raises = p.chance(0.3)
            default = p.chance(0.5)
            body.append(block('''
                loop = asyncio.get_running_loop()
                def handler(loop, context):
                    out('$n handler', context['message'], sorted(context))
                    if $default:
                        loop.default_exception_handler(context)
                    if $raises:
                        raise RuntimeError('$n handler failed')
                loop.set_exception_handler(handler)
                t = asyncio.create_task(fail('handled'))
                for _ in range(3):
                    await asyncio.sleep(0)
                del t
                def bad_callback(x):
                    raise ValueError(f'$n callback {x}')
                loop.call_soon(bad_callback, 1)
                await asyncio.sleep(0)
                loop.set_exception_handler(None)
                loop.call_soon(bad_callback, 2)
                await asyncio.sleep(0)
                ''', n=n, raises=raises, default=default))
        elif v == 'unawaited':
            p.features.add('unawaited')
            body.append(block('''
                c = fail('never awaited')
                del c
                out('$n unawaited dropped')
                ''', n=n))
        elif v == 'manual':
            # A coroutine driven by send() and throw(), not by a task.
            p.imports.add('traceback')
            body.append(block('''
                async def raiser(x):
                    if x:
                        raise $exc(f'$n manual {x}')
                    await asyncio.sleep(0)
                c = raiser(1)
                try:
                    c.send(None)
                except $exc as e:
                    traceback.print_exception(e)
                c = raiser(0)
                c.send(None)
                try:
                    c.throw(KeyError('$n thrown in'))
                except KeyError as e:
                    traceback.print_exception(e)
                ''', n=n, exc=exc))
        elif v == 'logging':
            p.imports.add('logging')
            body.append(block('''
                try:
                    await asyncio.create_task(fail('logged'))
                except Exception:
                    logging.getLogger('app').exception('$n caught')
                ''', n=n))
        elif v == 'states':
            body.append(block('''
                f = asyncio.get_running_loop().create_future()
                try:
                    f.result()
                except asyncio.InvalidStateError as e:
                    out('$n pending result', repr(e))
                t = asyncio.create_task(fail('states'))
                t.cancel()
                try:
                    t.exception()
                except asyncio.InvalidStateError as e:
                    out('$n not done yet', repr(e))
                await asyncio.sleep(0)
                try:
                    t.exception()
                except asyncio.CancelledError as e:
                    out('$n cancelled task', repr(e))
                f.cancel()
                ''', n=n))
        elif v == 'group':
            p.imports.add('traceback')
            body.append(block('''
                async def grouped():
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(fail('g1'))
                        tg.create_task(fail('g2'))
                try:
                    await asyncio.create_task(grouped())
                except ExceptionGroup as eg:
                    traceback.print_exception(eg)
                ''', n=n))
    return '\n'.join(body)


def scene_callbacks(p, n):
    body = [block('''
        loop = asyncio.get_running_loop()
        def bad(x):
            raise ValueError(f'$n callback {x}')
        loop.call_soon(bad, 1)
        await asyncio.sleep(0)
        fut = loop.create_future()
        fut.add_done_callback(lambda f: out('$n done callback', f.result()))
        fut.add_done_callback(lambda f: 1 / 0)
        fut.set_result('r')
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        h = loop.call_later(3600, bad, 3)
        out('$n timer', h.cancelled())
        h.cancel()
        out('$n timer cancelled', h.cancelled())
        ''', n=n)]
    if p.chance(0.4):
        body.append(block('''
            got = loop.create_future()
            loop.call_later(0.001, got.set_result, 'late')
            out('$n', await got)
            ''', n=n))
    return '\n'.join(body)


def scene_unawaited(p, n):
    p.features.add('unawaited')
    body = [block('''
        async def work(x):
            return x
        c = work(1)
        del c
        out('$n dropped')
        ''', n=n)]
    variants = p.rng.sample(['thread', 'callback', 'nested', 'closed',
                             'exit'], p.rng.randint(1, 3))
    for v in variants:
        if v == 'thread':
            body.append(block('''
                def in_thread():
                    c = work(2)
                    del c
                    return 'thread done'
                out('$n', await asyncio.get_running_loop().run_in_executor(None, in_thread))
                ''', n=n))
        elif v == 'callback':
            # call_soon() of a coroutine function: the coroutine it
            # returns is dropped by the loop
            body.append(block('''
                asyncio.get_running_loop().call_soon(work, 3)
                await asyncio.sleep(0)
                out('$n callback ran')
                ''', n=n))
        elif v == 'nested':
            body.append(block('''
                async def spawner(depth):
                    if depth:
                        await asyncio.create_task(spawner(depth - 1))
                    else:
                        c = work(4)
                        del c
                await asyncio.create_task(spawner($depth))
                out('$n nested done')
                ''', n=n, depth=p.rng.randint(0, 3)))
        elif v == 'closed':
            body.append(block('''
                c = work(5)
                c.close()
                out('$n closed without warning')
                ''', n=n))
        elif v == 'exit':
            p.features.add('exit-coro')
            body.append(block('''
                KEEP.append(work(6))
                ''', n=n))
    return '\n'.join(body)


SCENES = {
    'tasks': scene_tasks,
    'gather': scene_gather,
    'taskgroup': scene_taskgroup,
    'wait_for': scene_wait_for,
    'wait': scene_wait,
    'cancel': scene_cancel,
    'shield': scene_shield,
    'queue': scene_queue,
    'locks': scene_locks,
    'events': scene_events,
    'agen': scene_agen,
    'executor': scene_executor,
    'threadsafe': scene_threadsafe,
    'exceptions': scene_exceptions,
    'callbacks': scene_callbacks,
    'unawaited': scene_unawaited,
}

# Task implementations a scene may switch to (and back from) around it.
FACTORIES = {
    'c': None,
    'py': 'lambda loop, coro, **kw: asyncio.tasks._PyTask(coro, loop=loop, **kw)',
    'eager': 'asyncio.eager_task_factory',
    'eager-py': 'asyncio.create_eager_task_factory(asyncio.tasks._PyTask)',
}


# --- what is left at exit ------------------------------------------------------

def leftovers(p):
    """Lines for the end of main() and module-level code: objects alive at
    exit, finalisation order, errors during shutdown."""
    picks = p.rng.sample(['pending', 'task-exc', 'future-exc', 'coro',
                          'agen', 'del', 'atexit', 'finalize',
                          'cancel-raises', 'agen-raises', 'del-raises',
                          'atexit-raises', 'after-run-coro'],
                         p.rng.randint(0, 4))
    picks = [w for w in picks if 'exit-' + w not in p.without]
    # asyncio.run() (and Runner) cancel the tasks left at the end and close
    # the async generators left open, both in the order of a set of
    # objects hashed by address: with two of a kind that print, the order
    # of their lines would differ between runs.  Keep one of each kind.
    if p.runner in ('run', 'runner'):
        kinds = {'pending': 'task', 'cancel-raises': 'task', 'agen': 'agen',
                 'agen-raises': 'agen'}
        seen = {'agen'} if 'agen-kept' in p.features else set()
        kept = []
        for what in picks:
            kind = kinds.get(what)
            if kind in seen:
                continue
            if kind:
                seen.add(kind)
            kept.append(what)
        picks = kept
    for what in picks:
        p.features.add('exit-' + what)
        if what == 'pending':
            p.main_tail.append(block('''
                async def forever(tag):
                    try:
                        await asyncio.Event().wait()
                    finally:
                        out('forever finally', tag)
                KEEP.append(asyncio.create_task(forever('kept'), name='kept-pending'))
                await asyncio.sleep(0)
                '''))
        elif what == 'task-exc':
            p.main_tail.append(block('''
                async def fails_late():
                    await asyncio.sleep(0)
                    raise ValueError('kept task failed')
                KEEP.append(asyncio.create_task(fails_late()))
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                '''))
        elif what == 'future-exc':
            p.main_tail.append(block('''
                kept_future = asyncio.get_running_loop().create_future()
                kept_future.set_exception(KeyError('kept future'))
                KEEP.append(kept_future)
                '''))
        elif what == 'coro':
            p.main_tail.append(block('''
                async def never_run():
                    out('never_run ran')
                KEEP.append(never_run())
                '''))
        elif what == 'agen':
            p.main_tail.append(block('''
                async def kept_gen():
                    try:
                        yield 1
                        yield 2
                    finally:
                        out('kept_gen finally')
                kg = kept_gen()
                out('kept_gen', await anext(kg))
                KEEP.append(kg)
                '''))
        elif what == 'del':
            p.top.append(block('''
                class Noisy:
                    def __init__(self, tag):
                        self.tag = tag
                    def __del__(self):
                        out('del', self.tag)
                NOISY = [Noisy('global-1'), Noisy('global-2')]
                _cycle = Noisy('cycle')
                _cycle.me = _cycle
                del _cycle
                '''))
            p.main_tail.append(block('''
                KEEP.append(Noisy('kept'))
                local = Noisy('main-local')
                '''))
        elif what == 'atexit':
            p.imports.add('atexit')
            p.top.append(block('''
                atexit.register(out, 'atexit first registered')
                atexit.register(out, 'atexit second registered')
                '''))
        elif what == 'finalize':
            p.imports.add('weakref')
            p.top.append(block('''
                class Target:
                    pass
                TARGET = Target()
                weakref.finalize(TARGET, out, 'finalized TARGET')
                '''))
        elif what == 'cancel-raises':
            p.main_tail.append(block('''
                async def bad_on_cancel():
                    try:
                        await asyncio.sleep(3600)
                    except asyncio.CancelledError:
                        out('bad_on_cancel cancelled')
                        raise ValueError('raised while being cancelled')
                KEEP.append(asyncio.create_task(bad_on_cancel(), name='bad-on-cancel'))
                await asyncio.sleep(0)
                '''))
        elif what == 'agen-raises':
            p.main_tail.append(block('''
                async def bad_gen():
                    try:
                        yield 1
                    finally:
                        raise RuntimeError('bad_gen finally')
                bg = bad_gen()
                out('bad_gen', await anext(bg))
                KEEP.append(bg)
                '''))
        elif what == 'del-raises':
            p.top.append(block('''
                class Raiser:
                    def __del__(self):
                        raise RuntimeError('__del__ failed')
                RAISER = Raiser()
                '''))
        elif what == 'atexit-raises':
            p.imports.add('atexit')
            p.top.append(block('''
                def failing_atexit():
                    raise KeyError('atexit failed')
                atexit.register(failing_atexit)
                '''))
        elif what == 'after-run-coro':
            p.after.append(block('''
                async def after_run():
                    return 1
                late = after_run()
                del late
                out('after-run coroutine dropped')
                '''))


# --- endings -------------------------------------------------------------------

ENDINGS = [('normal', 55), ('raise', 12), ('group', 6), ('sigint', 9),
           ('kbd-main', 4), ('kbd-task', 4), ('exit', 5), ('kill-self', 5)]


def ending_lines(p, ending):
    if ending == 'normal':
        return "out('main end')\nreturn 'main result'"
    if ending == 'raise':
        return f"out('main raising')\nraise {p.exc()}('main failed')"
    if ending == 'group':
        return block('''
            async def doomed(i):
                await asyncio.sleep(0)
                raise ValueError(f'doomed {i}')
            async with asyncio.TaskGroup() as tg:
                tg.create_task(doomed(1))
                tg.create_task(doomed(2))
            ''')
    if ending == 'sigint':
        p.imports.add('signal')
        return block('''
            out('main sends SIGINT')
            try:
                signal.raise_signal(signal.SIGINT)
                await asyncio.sleep(3600)
            except BaseException as e:
                out('main got', type(e).__name__)
                raise
            ''')
    if ending == 'kill-self':
        p.imports.update(('signal', 'os'))
        return block('''
            out('main kills itself with SIGINT')
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(3600)
            ''')
    if ending == 'kbd-main':
        return "out('main raises KeyboardInterrupt')\nraise KeyboardInterrupt"
    if ending == 'kbd-task':
        return block('''
            async def interrupted():
                await asyncio.sleep(0)
                raise KeyboardInterrupt
            await asyncio.create_task(interrupted())
            ''')
    if ending == 'exit':
        return "out('main exits')\nsys.exit(3)"
    raise ValueError(ending)


RUNNERS = [('run', 50), ('runner', 15), ('loop-close', 15),
           ('loop-open', 20)]


def weighted(rng, table):
    total = sum(w for _, w in table)
    x = rng.randrange(total)
    for item, w in table:
        if x < w:
            return item
        x -= w
    raise AssertionError


def generate(seed, without=()):
    """(program text, features) for *seed*.  *without* names features to
    leave out (exit-KIND, runner-KIND, debug), to look past a known
    difference; the same seed then gives another program."""
    p = Program(seed)
    p.without = set(without)
    p.runner = weighted(p.rng, [(r, w) for r, w in RUNNERS
                                if 'runner-' + r not in p.without])
    p.debug = (p.runner in ('run', 'runner') and p.chance(0.12)
               and 'debug' not in p.without)
    if p.debug:
        p.features.add('debug')
    ending = weighted(p.rng, ENDINGS)
    p.features.add('runner-' + p.runner)
    p.features.add('end-' + ending)
    kinds = p.rng.sample(sorted(SCENES), p.rng.randint(2, 5))
    for kind in kinds:
        name = p.name(kind)
        body = SCENES[kind](p, name)
        factory = p.rng.choice(sorted(FACTORIES)) if p.chance(0.4) else 'c'
        p.features.add('scene-' + kind)
        if factory != 'c':
            p.features.add('factory-' + factory)
            body = block('''
                loop = asyncio.get_running_loop()
                loop.set_task_factory($f)
                try:
                $body
                finally:
                    loop.set_task_factory(None)
                ''', f=FACTORIES[factory], body=indent(body))
        wrapped = p.chance(0.85)
        p.scenes.append((name, body, wrapped))
    leftovers(p)
    if ending == 'kill-self' and p.runner not in ('run', 'runner'):
        # Without asyncio.run()'s SIGINT handler, KeyboardInterrupt would
        # be raised wherever the main thread is when it notices a signal
        # that another thread may have received: use raise_signal().
        ending = 'sigint'
        p.features.discard('end-kill-self')
        p.features.add('end-sigint')
    ending_text = ending_lines(p, ending)

    lines = ['# A program of tools/differential (origin-python), '
             f'seed {seed}, generator version {VERSION}.']
    lines += [f'import {m}' for m in sorted(p.imports)]
    lines.append(block('''

        gc.disable()
        KEEP = []


        def out(*args):
            print(*args, flush=True)


        class AppError(Exception):
            pass
        '''))
    for text in p.top:
        lines.append('\n' + text)
    for name, body, _wrapped in p.scenes:
        lines.append(f'\n\nasync def {name}():\n{indent(body)}')
    main = ["out('main start')"]
    if p.debug:
        main.append('asyncio.get_running_loop().slow_callback_duration = 3600')
    for name, _body, wrapped in p.scenes:
        if wrapped:
            main.append(block('''
                try:
                    await $name()
                except Exception as e:
                    out('$name raised', repr(e))
                ''', name=name))
        else:
            main.append(f'await {name}()')
        main.append(f"out('{name} over')")
    main += p.main_tail
    main.append(ending_text)
    lines.append('\n\nasync def main():\n' + indent('\n'.join(main)))
    lines.append('\n')
    if p.runner == 'run':
        lines.append(f'out(asyncio.run(main(){", debug=True" if p.debug else ""}))')
    elif p.runner == 'runner':
        lines.append(block('''
            with asyncio.Runner($debug) as runner:
                out(runner.run(main()))
            ''', debug='debug=True' if p.debug else ''))
    else:
        close = p.runner == 'loop-close'
        lines.append(block('''
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                out(loop.run_until_complete(main()))
            finally:
                out('loop stopped')
                $close
            ''', close='loop.close()' if close else 'pass'))
    lines += p.after
    lines.append("out('module end')")
    return '\n'.join(lines) + '\n', p.features
