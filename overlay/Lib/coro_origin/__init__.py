"""origin-python: ask a running process for its live coroutine dump.

    python -m coro_origin dump PID [--json] [--signal SIG] [--timeout S]

prints the live coroutine dump of process PID, an origin-python process
started with a dump signal (``-X coro_origin=...,dump=SIGUSR1`` or the same
in PYTHONCOROORIGIN).  The exchange, all between processes of one user:

1. The requester writes a request file, ``<dir>/<PID>.request``, where
   ``<dir>`` is ``coro_origin-<uid>`` in the target's temporary directory
   (tempfile.gettempdir() as the target computes it: the requester reads
   TMPDIR, TEMP and TMP from /proc/PID/environ).  The directory is made
   with mode 0o700; both sides refuse it unless it is a real directory
   owned by the user and writable by nobody else.  The request is a small
   JSON object: {"version": 1, "format": "text" or "json", "output":
   "<PID>.<random hex>.out", "created": <time.time()>}.  It is written to
   a temporary name and renamed, so the target never reads half of it.
2. It sends the dump signal: the one given with --signal, else the one
   named by dump= in the target's ``-X coro_origin`` option
   (/proc/PID/cmdline) or PYTHONCOROORIGIN (/proc/PID/environ), else the
   only one of SIGUSR1 and SIGUSR2 that the target catches (SigCgt in
   /proc/PID/status).  It never sends a signal that the target does not
   catch (its default action would end the process).
3. The target's handler (_coro_origin_report) looks for its request file
   at every dump signal.  If there is a valid one, not older than
   REQUEST_MAX_AGE seconds, it removes it, builds the dump in the format
   asked and writes it to a temporary file in the same directory, renamed
   to the output name when complete; nothing goes to its stderr, and for
   SIGINT or SIGTERM the previous handler is not run (the signal was a
   request, not an interruption).  Without a request it dumps to stderr
   as usual.
4. The requester waits for the output file (TIMEOUT seconds, default
   10), prints it and removes it.  While the request file is still there
   it sends the signal again after 0.5 s, then 1 s, 2 s, ...: a signal
   that comes just before the main thread blocks in a call such as
   select() without a timeout is only handled when the thread wakes up.

Errors name the cause: no such process, another user's process, a process
that catches none of the possible signals (not an origin-python process
started with a dump signal), no answer in time (the main thread runs no
Python code, or the process is stopped).
"""

import os

__all__ = ['DumpError', 'dump_process', 'find_signal', 'request_dir']

REQUEST_MAX_AGE = 60.0
_MAX_REQUEST_SIZE = 4096


class DumpError(Exception):
    """The dump of another process could not be had (the message says
    why)."""


def request_dir(tmpdir=None, uid=None):
    """The directory of dump requests: coro_origin-<uid> in *tmpdir*
    (default: tempfile.gettempdir())."""
    if tmpdir is None:
        import tempfile
        tmpdir = tempfile.gettempdir()
    if uid is None:
        uid = os.getuid()
    return os.path.join(tmpdir, f'coro_origin-{uid}')


def _check_dir(path):
    """Raise OSError unless *path* is a directory (not a symlink) owned by
    this user and writable by nobody else."""
    import stat
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(f'{path} is not a directory')
    if st.st_uid != os.getuid():
        raise OSError(f'{path} belongs to another user')
    if st.st_mode & 0o022:
        raise OSError(f'{path} is writable by other users')


def _valid_output(name, pid):
    prefix = f'{pid}.'
    if not (name.startswith(prefix) and name.endswith('.out')):
        return False
    token = name[len(prefix):-len('.out')]
    return 8 <= len(token) <= 64 and all(c in '0123456789abcdef'
                                         for c in token)


class _Request:
    """A dump request read by the target process."""

    def __init__(self, directory, format, output):
        self.directory = directory
        self.format = format
        self.output = output

    def deliver(self, text):
        """Write *text* atomically to the output file; return None, or
        the reason it failed."""
        import secrets
        tmp = os.path.join(self.directory,
                           f'.{self.output}.{secrets.token_hex(4)}.tmp')
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, 'O_NOFOLLOW', 0), 0o600)
            try:
                data = text.encode('utf-8', 'backslashreplace')
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, os.path.join(self.directory, self.output))
            return None
        except Exception as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return f'{type(exc).__name__}: {exc}'


def _take_request():
    """In the target: the pending dump request for this process, removed
    from the directory, or None.  Called by the dump signal handler."""
    import json
    import stat
    import time
    directory = request_dir()
    path = os.path.join(directory, f'{os.getpid()}.request')
    try:
        os.lstat(path)
    except OSError:
        return None
    try:
        _check_dir(directory)
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        try:
            st = os.fstat(fd)
            if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid()
                    or st.st_size > _MAX_REQUEST_SIZE):
                return None
            data = os.read(fd, _MAX_REQUEST_SIZE + 1)
        finally:
            os.close(fd)
        os.unlink(path)
        request = json.loads(data.decode('utf-8'))
    except (OSError, ValueError):
        return None
    if not isinstance(request, dict) or request.get('version') != 1:
        return None
    fmt = request.get('format')
    output = request.get('output')
    created = request.get('created')
    if fmt not in ('text', 'json') or not isinstance(output, str) \
            or not _valid_output(output, os.getpid()):
        return None
    if not isinstance(created, (int, float)) \
            or abs(time.time() - created) > REQUEST_MAX_AGE:
        return None
    return _Request(directory, fmt, output)


# --- the requester ----------------------------------------------------------

def _proc(pid, name):
    with open(f'/proc/{pid}/{name}', 'rb') as f:
        return f.read()


def _environ(pid):
    try:
        data = _proc(pid, 'environ')
    except OSError:
        return None
    env = {}
    for item in data.split(b'\0'):
        key, sep, value = item.partition(b'=')
        if sep:
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def _caught_signals(pid):
    """The set of signal numbers that process *pid* catches, or None if
    /proc does not say."""
    try:
        status = _proc(pid, 'status').decode('ascii', 'replace')
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith('SigCgt:'):
            mask = int(line.split(':', 1)[1].strip(), 16)
            return {n + 1 for n in range(mask.bit_length())
                    if mask >> n & 1}
    return None


def _parse_signal(value):
    """A signal number from 'SIGUSR1', 'USR1' or '10'; DumpError for a
    signal that is not a dump signal (the interpreter's one table: never
    one that reports a crash or cannot be caught)."""
    import signal
    import sys
    value = value.strip()
    if value.isdigit():
        signum = int(value)
    else:
        name = value.upper()
        if not name.startswith('SIG'):
            name = 'SIG' + name
        signum = name
        if not isinstance(getattr(signal, name, None), int) \
                and not name.startswith(('SIGRTMIN', 'SIGRTMAX')):
            raise DumpError(f'unknown signal: {value}')
    try:
        return sys._coroutine_origin_dump_signal(signum)
    except ValueError as exc:
        raise DumpError(str(exc)) from None


def _spec_signal(spec):
    for item in spec.split(','):
        key, sep, value = item.strip().partition('=')
        if sep and key.strip() == 'dump':
            try:
                return _parse_signal(value)
            except DumpError:
                return None
    return None


def find_signal(pid):
    """The dump signal of process *pid*, from its command line, its
    environment or the signals it catches; DumpError if none is found."""
    spec = None
    try:
        args = [os.fsdecode(a) for a in _proc(pid, 'cmdline').split(b'\0')]
    except OSError:
        args = []
    for i, arg in enumerate(args):
        if arg == '-X' and i + 1 < len(args):
            arg = '-X' + args[i + 1]
        if arg.startswith('-Xcoro_origin='):
            spec = arg[len('-Xcoro_origin='):]
    signum = _spec_signal(spec) if spec is not None else None
    if signum is None:
        env = _environ(pid) or {}
        if spec is None and 'PYTHONCOROORIGIN' in env:
            signum = _spec_signal(env['PYTHONCOROORIGIN'])
    if signum is not None:
        return signum
    import signal
    caught = _caught_signals(pid)
    if caught is not None:
        users = [s for s in (getattr(signal, 'SIGUSR1', None),
                             getattr(signal, 'SIGUSR2', None))
                 if s is not None and s in caught]
        if len(users) == 1:
            return users[0]
    raise DumpError(
        f'process {pid} was not started with a dump signal '
        f'(no dump= in its -X coro_origin option or PYTHONCOROORIGIN, and '
        f'it catches neither or both of SIGUSR1 and SIGUSR2); is it an '
        f'origin-python process started with -X coro_origin=...,'
        f'dump=SIGNAL?  Give the signal with --signal')


def _target_tmpdir(pid):
    """The temporary directory that process *pid* uses, as
    tempfile.gettempdir() computes it there (as far as can be told)."""
    import tempfile
    env = _environ(pid)
    if env is None:
        return tempfile.gettempdir()
    candidates = [env[k] for k in ('TMPDIR', 'TEMP', 'TMP') if env.get(k)]
    candidates += ['/tmp', '/var/tmp', '/usr/tmp']
    for path in candidates:
        if os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK):
            return os.path.abspath(path)
    return tempfile.gettempdir()


def _signal_name(signum):
    import signal
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def dump_process(pid, format='text', signum=None, timeout=10.0,
                 tmpdir=None):
    """Return the live coroutine dump of process *pid* (text, or a JSON
    document with format='json'); raise DumpError with the reason if it
    cannot be had."""
    import json
    import secrets
    import time
    if format not in ('text', 'json'):
        raise ValueError(f"format must be 'text' or 'json', not {format!r}")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise DumpError(f'no such process: {pid}') from None
    except PermissionError:
        raise DumpError(f'process {pid} belongs to another user; run this '
                        f'as its user') from None
    if signum is None:
        signum = find_signal(pid)
    caught = _caught_signals(pid)
    if caught is not None and signum not in caught:
        raise DumpError(
            f'process {pid} does not catch {_signal_name(signum)}: it is '
            f'not an origin-python process started with dump='
            f'{_signal_name(signum)} (the signal was not sent; its default '
            f'action could end the process)')
    if tmpdir is None:
        tmpdir = _target_tmpdir(pid)
    directory = request_dir(tmpdir)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DumpError(f'cannot create {directory}: {exc}') from None
    try:
        _check_dir(directory)
    except OSError as exc:
        raise DumpError(f'refusing to use {directory}: {exc}') from None
    output = f'{pid}.{secrets.token_hex(8)}.out'
    out_path = os.path.join(directory, output)
    req_path = os.path.join(directory, f'{pid}.request')
    tmp = os.path.join(directory, f'.{pid}.{secrets.token_hex(4)}.request')
    request = {'version': 1, 'format': format, 'output': output,
               'created': time.time()}
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, json.dumps(request).encode('ascii'))
        finally:
            os.close(fd)
        os.replace(tmp, req_path)
    except OSError as exc:
        raise DumpError(f'cannot write the request {req_path}: '
                        f'{exc}') from None
    try:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            raise DumpError(f'no such process: {pid}') from None
        start = time.monotonic()
        deadline = start + timeout
        resend = start + 0.5
        interval = 0.5
        while True:
            try:
                with open(out_path, 'rb') as f:
                    data = f.read()
                os.unlink(out_path)
                return data.decode('utf-8', 'replace')
            except FileNotFoundError:
                pass
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                raise DumpError(f'process {pid} ended before it '
                                f'answered') from None
            now = time.monotonic()
            if now >= resend and os.path.exists(req_path):
                # A signal that arrives just before the main thread blocks
                # (in select() without a timeout, say) is handled only
                # when it wakes up: signal again while the request waits.
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass
                interval *= 2
                resend = now + interval
            if now >= deadline:
                taken = not os.path.exists(req_path)
                if taken:
                    raise DumpError(
                        f'process {pid} took the request but wrote no '
                        f'dump within {timeout:g} s')
                raise DumpError(
                    f'process {pid} did not answer within {timeout:g} s '
                    f'after {_signal_name(signum)}: it is not an '
                    f'origin-python process with that dump signal, or its '
                    f'main thread runs no Python code (stopped, or blocked '
                    f'in C code that does not check for signals)')
            time.sleep(0.02)
    finally:
        for path in (req_path, tmp):
            try:
                os.unlink(path)
            except OSError:
                pass
