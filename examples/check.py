#!/usr/bin/env python3
"""Run the examples with an interpreter and compare what it prints with the
output recorded in each NAME.md.

    python3 examples/check.py PYTHON [NAME ...]     # check (exit 1 on a diff)
    python3 examples/check.py --update PYTHON [NAME ...]   # re-record

Each NAME.md has a ```console block whose first line is
"$ python ARGS..." (run from this directory) and a ```text block with the
output (stdout and stderr together).  If ARGS contain "dump=SIGNAL", the
example is a hung process: the check waits for its "ready" line, sends
the signal, records the dump written to stderr (up to "End of live
coroutines.") and kills it.  Output is normalised: this directory's path
and asyncio's directory are shortened and line numbers inside asyncio and
memory addresses are replaced (and how long the hang watchdog saw a
hang), so that the record survives edits there.
Every child gets TIMEOUT seconds; one still running then is killed and
its output so far, with a "(killed: ...)" line, is what gets compared.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = ['never_awaited', 'exception_never_retrieved', 'fire_and_forget',
            'deadlock', 'asyncgen_not_finalized', 'asyncgen_deadlock',
            'eager_task', 'cancelled_by', 'timeout_site', 'loop_stopped',
            'threadsafe_dropped', 'threadsafe_self_wait',
            'wrong_thread_event', 'signal_handler_event',
            'scheduled_coroutine', 'hang_blocked', 'hang_cannot_exit',
            'deadlock_detected', 'queue_join_task_done', 'failed_producer',
            'executor_deadlock', 'swallowed_cancel']

# Examples that need a feature of the interpreter; skipped with the reason
# when the probe (run with the example's options) prints anything but "ok".
REQUIRES = {
    'asyncgen_not_finalized': (
        'async def g():\n    yield 1\n'
        'import sys\na = g()\n'
        'print("ok" if getattr(a, "ag_origin", None) else "no")\n',
        'needs ag_origin (the asyncgen tracking mode); this interpreter '
        'does not record async generator origins yet'),
}

BLOCK = re.compile(r'```(console|text)\n(.*?)```', re.S)

# Seconds a child may run (the examples take well under one).
TIMEOUT = 60


def killed(seconds):
    return f'(killed: still running after {seconds} s)\n'


def run_capture(cmd, **kwargs):
    """subprocess.run(cmd, text=True, **kwargs) within TIMEOUT seconds;
    returns (stdout, stderr), with a "(killed: ...)" line appended to
    stdout if the child had to be killed."""
    try:
        res = subprocess.run(cmd, text=True, timeout=TIMEOUT,
                             stdin=subprocess.DEVNULL, **kwargs)
    except subprocess.TimeoutExpired as exc:
        def text(data):
            if isinstance(data, bytes):
                data = data.decode(errors='replace')
            return data or ''
        return text(exc.stdout) + killed(TIMEOUT), text(exc.stderr)
    return res.stdout, res.stderr


def parse(name):
    with open(os.path.join(HERE, name + '.md')) as f:
        md = f.read()
    blocks = dict((kind, body) for kind, body in reversed(BLOCK.findall(md)))
    command = blocks['console'].splitlines()[0]
    if not command.startswith('$ python '):
        raise SystemExit(f'{name}.md: console block must start with "$ python"')
    return md, shlex.split(command[len('$ python '):]), blocks.get('text', '')


def normalise(text, python):
    asyncio_dir, _ = run_capture(
        [python, '-c', 'import asyncio, os; print(os.path.dirname(asyncio.__file__))'],
        capture_output=True)
    asyncio_dir = '' if '(killed' in asyncio_dir else asyncio_dir.strip()
    text = text.replace(HERE + os.sep, '')
    if asyncio_dir:
        text = text.replace(asyncio_dir, '<asyncio>')
    text = re.sub(r'(<asyncio>/[\w/]+\.py)(:|", line )\d+', r'\1\2N', text)
    # (a line the hang watchdog's dump could not read, seen with a task
    # that keeps stepping; asyncio's own line numbers are N anyway)
    text = re.sub(r'(<asyncio>/[\w/]+\.py)(?=\n)', r'\1:N', text)
    text = re.sub(r'0x[0-9a-f]+', '0x...', text)
    # how long the hang watchdog saw a hang (a look or so past the timeout)
    text = re.sub(r'(one callback for|taken a step for|has waited|gone on '
                  r'for) \d+\.\d s', r'\1 N s', text)
    return text


def run_signal(python, args, signame):
    # The child announces its dump signal in its temporary directory (for
    # python -m coro_origin dump) and is killed, so the announcement
    # stays: give it a directory of its own, removed after.
    tmp = tempfile.mkdtemp()
    proc = subprocess.Popen([python] + args, cwd=HERE, text=True,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, TMPDIR=tmp))
    # The reads below block; a watchdog kills the child after TIMEOUT
    # seconds, which ends them (end of file).
    fired = threading.Event()

    def expire():
        fired.set()
        proc.kill()

    watchdog = threading.Timer(TIMEOUT, expire)
    watchdog.start()
    try:
        if proc.stdout.readline() != 'ready\n':
            return ('no ready line; stderr:\n' + proc.stderr.read()
                    + (killed(TIMEOUT) if fired.is_set() else ''))
        # A signal that comes just before the loop blocks in select()
        # with no timeout is handled only when it next wakes (CPython runs
        # Python-level handlers between bytecodes): send it again every
        # second until the dump starts.
        started = threading.Event()

        def send():
            while not started.is_set() and proc.poll() is None:
                proc.send_signal(getattr(signal, signame))
                started.wait(1.0)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        lines = []
        while True:
            line = proc.stderr.readline()
            started.set()
            if not line:
                break
            lines.append(line)
            if line == 'End of live coroutines.\n':
                break
        if fired.is_set():
            lines.append(killed(TIMEOUT))
        elif proc.poll() is not None:
            lines.append(f'(process ended with {proc.returncode})\n')
        return ''.join(lines)
    finally:
        watchdog.cancel()
        proc.kill()
        proc.communicate()
        shutil.rmtree(tmp, ignore_errors=True)


def run(python, name):
    """Return (status, expected, actual, md, args); status is 'skip: why'
    or None."""
    md, args, expected = parse(name)
    if name in REQUIRES:
        probe, why = REQUIRES[name]
        opts = [a for a in args if not a.endswith('.py')]
        out, _ = run_capture([python] + opts + ['-c', probe],
                             capture_output=True)
        if '(killed' in out:
            return None, expected, 'probe ' + out, md, args
        if out.strip() != 'ok':
            return 'skip: ' + why, expected, None, md, args
    sig = re.search(r'dump=(SIG\w+)', ' '.join(args))
    if sig:
        out = run_signal(python, args, sig.group(1))
    else:
        out, _ = run_capture([python] + args, cwd=HERE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return None, expected, normalise(out, python), md, args


def main(argv):
    # The examples run as from a terminal: started from a background job,
    # this process has SIGINT ignored, which its children would inherit
    # (asyncio.run() then installs no Ctrl-C handler, and the hang
    # watchdog rightly says that nothing can wake a loop).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    update = '--update' in argv
    argv = [a for a in argv if a != '--update']
    if not argv:
        raise SystemExit(__doc__)
    python, names = argv[0], argv[1:] or EXAMPLES
    failed = 0
    for name in names:
        status, expected, actual, md, args = run(python, name)
        if status:
            print(f'{name}: {status}')
            continue
        if update:
            old = '```text\n' + expected + '```'
            new = '```text\n' + actual + '```'
            with open(os.path.join(HERE, name + '.md'), 'w') as f:
                f.write(md.replace(old, new) if old in md
                        else md + '\n' + new + '\n')
            print(f'{name}: recorded')
        elif actual == expected:
            print(f'{name}: ok')
        else:
            failed += 1
            import difflib
            print(f'{name}: DIFFERENT')
            sys.stdout.writelines(difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True),
                f'{name}.md', 'actual'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
