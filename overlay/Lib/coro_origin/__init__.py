"""origin-python: ask a running process for its live coroutine dump.

    python -m coro_origin dump PID [--json] [--timeout S]

prints the live coroutine dump of process PID, an origin-python process
started with a dump signal (``-X coro_origin=...,dump=SIGUSR1`` or the same
in PYTHONCOROORIGIN).  The exchange, all between processes of one user, is
in ``<dir>``, ``coro_origin-<uid>`` in the target's temporary directory:
the first of TMPDIR, TEMP, TMP, /tmp, /var/tmp and /usr/tmp that is a
writable directory, where TMPDIR, TEMP and TMP come from the environment
the target started with (the requester reads /proc/PID/environ).  The
directory is made with mode 0o700; both sides refuse it unless it is a
real directory owned by the user that nobody else can use.

0. At start-up the target announces itself (_announce(), called by
   install_signal_handler()): ``<dir>/<PID>.<START>.announce``, where START
   is its start time (field 22 of /proc/PID/stat, in clock ticks since
   boot), holds {"version": 1, "implementation": "origin-python",
   "origin_python": <version>, "pid": PID, "start_time": START, "signal":
   <number>}.  It is removed at exit by the process that wrote it (not by
   a fork() child, whose pid differs and which is not announced), with
   the directory if that empties it.  A file left by a process that was
   killed does not matter, as a process that gets its pid later has
   another start time; the next process that announces itself removes it.
1. The requester sends a signal only to a process of its own user that
   has announced itself: the announcement for the pid and the start time
   the process has now, a regular file of the user (not a symlink) naming
   a dump signal.  Anything else is refused with the reason, and no signal
   is sent.  It keeps a pidfd of the process (or checks the start time
   again before each signal where there is none), so that no signal goes
   to another process that gets the pid meanwhile.
2. It writes a request file, ``<dir>/<PID>.request``, a small JSON object:
   {"version": 1, "format": "text" or "json", "output": "<PID>.<random
   hex>.out", "created": <time.time()>}.  It is written to a temporary
   name and renamed, so the target never reads half of it.  Then it sends
   the announced signal.
3. The target's handler (_coro_origin_request) looks for its request file
   next to its announcement at every dump signal (a process that has not
   announced itself takes no request).  If there is a valid one, not
   older than REQUEST_MAX_AGE seconds, it removes it, builds the dump in
   the format asked and writes it to a temporary file in the same
   directory, renamed to the output name when complete; nothing goes to
   its stderr, and for SIGINT or SIGTERM the previous handler is not run
   (the signal was a request, not an interruption).  Without a request it
   dumps to stderr as usual.
4. The requester waits for the output file (TIMEOUT seconds, default
   10), prints it and removes it.  While the request file is still there
   it sends the signal again after 0.5 s, then 1 s, 2 s, ...: a signal
   that comes just before the main thread blocks in a call such as
   select() without a timeout is only handled when the thread wakes up.

Errors name the cause: no such process, another user's process, a process
that has not announced a dump signal (not an origin-python process started
with one, or a process that got the pid of one that did), no answer in
time (the main thread runs no Python code, or the process is stopped).
"""

import os

__all__ = ['DumpError', 'dump_process', 'request_dir']

REQUEST_MAX_AGE = 60.0
_MAX_REQUEST_SIZE = 4096
_ANNOUNCEMENT = '.announce'
_HOWTO = ('no signal was sent.  To dump a program, start it with '
          '-X coro_origin=...,dump=SIGUSR1 (or the same in PYTHONCOROORIGIN)')


class DumpError(Exception):
    """The dump of another process could not be had (the message says
    why)."""


def _tmpdir(environ):
    """The temporary directory of a process whose environment is
    *environ*: the first of TMPDIR, TEMP, TMP, /tmp, /var/tmp and /usr/tmp
    that is a directory it can write to (as tempfile.gettempdir() chooses,
    short of creating a file there), else /tmp."""
    candidates = [environ[k] for k in ('TMPDIR', 'TEMP', 'TMP')
                  if environ.get(k)]
    for path in candidates + ['/tmp', '/var/tmp', '/usr/tmp']:
        if os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK):
            return os.path.abspath(path)
    return '/tmp'


def request_dir(tmpdir=None, uid=None):
    """The directory of announcements and dump requests:
    coro_origin-<uid> in *tmpdir* (default: the temporary directory that
    this process's environment gives, see _tmpdir())."""
    if tmpdir is None:
        tmpdir = _tmpdir(os.environ)
    if uid is None:
        uid = os.getuid()
    return os.path.join(tmpdir, f'coro_origin-{uid}')


def _check_dir(path):
    """Raise OSError unless *path* is a directory (not a symlink) owned by
    this user that nobody else can use."""
    import stat
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(f'{path} is not a directory')
    if st.st_uid != os.getuid():
        raise OSError(f'{path} belongs to another user')
    if st.st_mode & 0o077:
        raise OSError(f'{path} is open to other users (mode '
                      f'{stat.S_IMODE(st.st_mode):o}, not 700)')


def _proc(pid, name):
    with open(f'/proc/{pid}/{name}', 'rb') as f:
        return f.read()


def _stat(pid):
    """The name and the start time (field 22 of /proc/PID/stat, clock
    ticks since boot) of process *pid*; OSError if there is none."""
    data = _proc(pid, 'stat')
    # the name, field 2, is in parentheses and may hold any character
    head, sep, tail = data.rpartition(b')')
    fields = tail.split()
    if not sep or len(fields) < 20 or not fields[19].isdigit():
        raise OSError(f'/proc/{pid}/stat: unexpected format')
    name = head.partition(b'(')[2].decode('utf-8', 'replace')
    return name, int(fields[19])


def _announcement_name(pid, start_time):
    return f'{pid}.{start_time}{_ANNOUNCEMENT}'


_announcement = None            # (pid, path) of this process's announcement


def _announce(signum):
    """In the target, at start-up: announce *signum* as this process's
    dump signal (see the module's docstring); raise OSError if it cannot
    be done."""
    global _announcement
    import json
    import sys
    pid = os.getpid()
    start_time = _stat(pid)[1]
    directory = request_dir()
    name = _announcement_name(pid, start_time)
    path = os.path.join(directory, name)
    tmp = os.path.join(directory, f'.{name}.tmp')
    data = json.dumps({
        'version': 1, 'implementation': 'origin-python',
        'origin_python': getattr(sys.implementation, '_origin_python', None),
        'pid': pid, 'start_time': start_time, 'signal': int(signum),
    }).encode('ascii')
    for attempt in range(3):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        _check_dir(directory)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                         | getattr(os, 'O_NOFOLLOW', 0), 0o600)
            break
        except FileNotFoundError:
            # A process that withdrew the last announcement removed the
            # directory in the meantime (_withdraw()).
            if attempt == 2:
                raise
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if _announcement is None:
        import atexit
        atexit.register(_withdraw)
    _announcement = (pid, path)
    _remove_stale(directory)


def _remove_stale(directory):
    """Remove the announcements in *directory* of processes that have
    ended (one that was killed, or ended by the default action of a
    signal, leaves its own)."""
    for name in os.listdir(directory):
        if not name.endswith(_ANNOUNCEMENT):
            continue
        owner, _, started = name[:-len(_ANNOUNCEMENT)].partition('.')
        if not (owner.isdigit() and started.isdigit()):
            continue
        try:
            stale = _stat(int(owner))[1] != int(started)
        except OSError:
            stale = True
        if stale:
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _withdraw():
    """At exit: remove this process's announcement, and the directory if
    nothing else is left in it.  A fork() child runs this too, and leaves
    its parent's announcement alone."""
    if _announcement is not None and _announcement[0] == os.getpid():
        try:
            os.unlink(_announcement[1])
            os.rmdir(os.path.dirname(_announcement[1]))
        except OSError:
            pass


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
    if _announcement is None or _announcement[0] != os.getpid():
        return None             # no requester knows this process
    directory = os.path.dirname(_announcement[1])
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


def _uids(pid):
    """The real and the effective user id of process *pid*."""
    for line in _proc(pid, 'status').decode('ascii', 'replace').splitlines():
        if line.startswith('Uid:'):
            real, effective = line.split()[1:3]
            return int(real), int(effective)
    raise OSError(f'/proc/{pid}/status: no Uid line')


def _announced_signal(directory, pid, name, start_time):
    """The dump signal that process *pid* (*name*, started at
    *start_time*) announced in *directory*; DumpError if there is no
    valid announcement."""
    import json
    import stat
    import sys
    who = f'process {pid} ({name})'
    path = os.path.join(directory, _announcement_name(pid, start_time))
    try:
        _check_dir(directory)
        st = os.lstat(path)
    except FileNotFoundError:
        try:
            others = sorted(n for n in os.listdir(directory)
                            if n.startswith(f'{pid}.')
                            and n.endswith(_ANNOUNCEMENT))
        except OSError:
            others = []
        if others:
            raise DumpError(
                f'{who} has not announced a dump signal: '
                f'{os.path.join(directory, others[0])} is the announcement '
                f'of an earlier process with that pid (its start time is '
                f'not {start_time}); {_HOWTO}') from None
        raise DumpError(
            f'{who} has not announced a dump signal (no {path}): it is '
            f'not an origin-python process started with dump=SIGNAL; '
            f'{_HOWTO}') from None
    except OSError as exc:
        raise DumpError(f'refusing to use {directory}: {exc}; no signal was '
                        f'sent') from None

    def refuse(reason):
        return DumpError(f'refusing the announcement {path}: {reason}; no '
                         f'signal was sent')

    if stat.S_ISLNK(st.st_mode):
        raise refuse('it is a symbolic link')
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK
                     | getattr(os, 'O_NOFOLLOW', 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise refuse('not a regular file')
            if st.st_uid != os.getuid():
                raise refuse(f'it belongs to another user (uid '
                             f'{st.st_uid})')
            data = os.read(fd, _MAX_REQUEST_SIZE + 1)
        finally:
            os.close(fd)
        doc = json.loads(data.decode('utf-8'))
    except (OSError, ValueError) as exc:
        raise refuse(f'{type(exc).__name__}: {exc}') from None
    if not (isinstance(doc, dict) and doc.get('version') == 1
            and doc.get('implementation') == 'origin-python'
            and doc.get('pid') == pid
            and doc.get('start_time') == start_time
            and type(doc.get('signal')) is int):
        raise refuse('not an announcement of this process')
    try:
        return sys._coroutine_origin_dump_signal(doc['signal'])
    except ValueError as exc:
        raise refuse(str(exc)) from None


class _Target:
    """Process *pid* as it is now.  send() never reaches another process
    that gets the pid later: it goes through a pidfd, or, where there is
    none, checks the start time first."""

    def __init__(self, pid):
        self.pid = pid
        self.pidfd = None
        try:
            self.pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            raise DumpError(f'no such process: {pid}') from None
        except (AttributeError, OSError):
            pass
        try:
            self.name, self.start_time = _stat(pid)
            uids = _uids(pid)
        except FileNotFoundError:
            self.close()
            raise DumpError(f'no such process: {pid}') from None
        except OSError as exc:
            self.close()
            raise DumpError(f'cannot read /proc/{pid}: {exc}') from None
        uid = os.getuid()
        if uids != (uid, uid):
            self.close()
            raise DumpError(
                f'process {pid} ({self.name}) belongs to another user (uid '
                f'{uids[0]}, effective uid {uids[1]}); no signal was sent: '
                f'run this as that user')

    def send(self, signum):
        """Send *signum* (0: only check that the process is there);
        ProcessLookupError if it has ended."""
        if self.pidfd is not None:
            import signal
            signal.pidfd_send_signal(self.pidfd, signum)
            return
        try:
            same = _stat(self.pid)[1] == self.start_time
        except OSError:
            same = False
        if not same:
            raise ProcessLookupError(self.pid)
        os.kill(self.pid, signum)

    def close(self):
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _signal_name(signum):
    import signal
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def dump_process(pid, format='text', timeout=10.0, tmpdir=None):
    """Return the live coroutine dump of process *pid* (text, or a JSON
    document with format='json'); raise DumpError with the reason if it
    cannot be had.  Only a process of this user that announced a dump
    signal is sent a signal."""
    if format not in ('text', 'json'):
        raise ValueError(f"format must be 'text' or 'json', not {format!r}")
    if pid <= 0:
        raise DumpError(f'not a process id: {pid}')
    target = _Target(pid)
    try:
        if tmpdir is None:
            tmpdir = _tmpdir(_environ(pid) or {})
        directory = request_dir(tmpdir)
        signum = _announced_signal(directory, pid, target.name,
                                   target.start_time)
        return _request(target, signum, directory, format, timeout)
    finally:
        target.close()


def _request(target, signum, directory, format, timeout):
    """Steps 2 and 4 of the exchange: the request, the signal, the
    answer."""
    import json
    import secrets
    import time
    pid = target.pid
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
            target.send(signum)
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
                target.send(0)
            except ProcessLookupError:
                raise DumpError(f'process {pid} ended before it '
                                f'answered') from None
            now = time.monotonic()
            if now >= resend and os.path.exists(req_path):
                # A signal that arrives just before the main thread blocks
                # (in select() without a timeout, say) is handled only
                # when it wakes up: signal again while the request waits.
                try:
                    target.send(signum)
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
                    f'after {_signal_name(signum)}: its main thread runs '
                    f'no Python code (stopped, or blocked in C code that '
                    f'does not check for signals), or something else '
                    f'handles that signal')
            time.sleep(0.02)
    finally:
        for path in (req_path, tmp):
            try:
                os.unlink(path)
            except OSError:
                pass
