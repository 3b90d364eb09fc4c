# Random specs through the start-up layers (-X coro_origin, PYTHONCOROORIGIN)
# and random arguments through the sys API, checked against a model of the
# spec language written from overlay/Doc/library/coro_origin.rst.
# This module is part of origin-python, not of upstream CPython.
#
# Every test draws from random.Random(seed) and names the seed in its
# failure messages; CORO_ORIGIN_TEST_SEED=N reruns with seed N.

import operator
import os
import random
import re
import signal
import sys
import unittest

from test.test_coro_origin._util import run_python


INT_MAX = 2**31 - 1
ENVVAR = 'PYTHONCOROORIGIN'
FIELDS = ('depth', 'chain', 'asyncgen', 'tracebacks', 'full', 'skip', 'dump')
COUNTS = ('depth', 'chain')
FLAGS = ('asyncgen', 'tracebacks', 'full')
PARAMS = COUNTS + FLAGS + ('skip',)      # the sys API's, in its order
ITEMS = ('depth', 'chain', 'asyncgen', 'tracebacks', 'full', 'skip', 'dump')
DIGITS = re.compile(r'[0-9]+', re.ASCII)
MODULE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*',
                         re.ASCII)
# The list of items in this message is not compared: it grows with the
# language (see unknown_re()).
UNKNOWN = 'unknown item (expected ...)'

# Signals, as the documentation describes dump=: the names of the signal
# module, SIGRTMIN+N and SIGRTMAX-N, numbers from 1 to NSIG-1; refused:
NSIG = signal.NSIG
RTMIN, RTMAX = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
SIGNAL_NAMES = {name: int(getattr(signal, name)) for name in dir(signal)
                if name.startswith('SIG') and not name.startswith('SIG_')}
REFUSED = {'SIGKILL': 'cannot be caught', 'SIGSTOP': 'cannot be caught',
           'SIGSEGV': 'reports a crash', 'SIGBUS': 'reports a crash',
           'SIGFPE': 'reports a crash', 'SIGILL': 'reports a crash',
           'SIGABRT': 'reports a crash (abort())',
           'SIGIOT': 'reports a crash (abort())'}
REFUSED_NUMBERS = {SIGNAL_NAMES[n]: signal.Signals(SIGNAL_NAMES[n]).name
                   for n in REFUSED if n in SIGNAL_NAMES}
USER_SIGNALS = ['SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGQUIT', 'SIGALRM',
                'SIGWINCH', 'SIGTERM', 'SIGINT']


def known(info):
    """The fields of a sys.coroutine_origin_tracking that this module knows
    (the type may have more), as a tuple."""
    return tuple(getattr(info, f) for f in FIELDS)


def message_re(message):
    """A regex for an expected message; UNKNOWN stands for any list of
    expected items."""
    return re.escape(message).replace(
        re.escape(UNKNOWN), r'unknown item \(expected [^\n]*\)')


def get_seed():
    value = os.environ.get('CORO_ORIGIN_TEST_SEED')
    return int(value) if value else random.randrange(2**32)


def quote(text):
    """The item as the C parser quotes it in a message."""
    out = "'"
    for i, ch in enumerate(text):
        if i == 60 or len(out) + 15 > 100:
            out += '...'
            break
        c = ord(ch)
        if 0xdc80 <= c <= 0xdcff:
            c -= 0xdc00        # the undecodable byte it stands for
        if 0x20 <= c < 0x7f and ch not in "'\\":
            out += chr(c)
        elif c <= 0xff:
            out += '\\x%02x' % c
        elif c <= 0xffff:
            out += '\\u%04x' % c
        else:
            out += '\\U%08x' % c
    return out + "'"


class Bad(Exception):
    """A rejected spec or skip value; args[0] is the expected message."""


def model_skip(value):
    """The names of a skip value "a:b.c" (already ASCII), or Bad."""
    if value == '':
        raise Bad('no module name')
    names = value.split(':')
    for name in names:
        if name == '':
            raise Bad('empty module name')
        if not MODULE_NAME.fullmatch(name):
            raise Bad(f'{quote(name)} is not a module name')
    return tuple(names)


def model_signal(value):
    """The number of a dump= value, or Bad."""
    if value[:1] in tuple('0123456789-'):
        if not DIGITS.fullmatch(value) or not 1 <= int(value) < NSIG:
            raise Bad(f'signal number must be from 1 to {NSIG - 1}')
        number = int(value)
        if number in REFUSED_NUMBERS:
            name = REFUSED_NUMBERS[number]
            raise Bad(f'{name} {REFUSED[name]}; use a user signal such as '
                      f'SIGUSR1')
        return number
    if value[:8] in ('SIGRTMIN', 'SIGRTMAX'):
        minimum = value[6] == 'I'
        if len(value) == 8:
            return RTMIN if minimum else RTMAX
        rest = value[9:]
        if (value[8] != ('+' if minimum else '-')
                or not DIGITS.fullmatch(rest)
                or int(rest) > RTMAX - RTMIN):
            raise Bad(f'real-time signals are SIGRTMIN+N and SIGRTMAX-N '
                      f'with N from 0 to {RTMAX - RTMIN}')
        return RTMIN + int(rest) if minimum else RTMAX - int(rest)
    if value in REFUSED:
        raise Bad(f'{value} {REFUSED[value]}; use a user signal such as '
                  f'SIGUSR1')
    if value in SIGNAL_NAMES:
        return SIGNAL_NAMES[value]
    raise Bad('unknown signal (use a name such as SIGUSR1, or a number)')


def model_spec(spec):
    """The settings tuple a spec gives, or Bad with the message."""
    if spec == '':
        raise Bad('empty spec')
    result = dict(depth=0, chain=0, asyncgen=False, tracebacks=False,
                  full=False, skip=(), dump=None)
    seen = set()
    items = spec.split(',')
    for number, item in enumerate(items, 1):
        if item == '':
            why = ('(leading comma)' if number == 1 else
                   '(trailing comma)' if number == len(items) else "(',,')")
            raise Bad(f'item {number} is empty {why}')
        try:
            if any(ord(c) >= 0x80 for c in item):
                raise Bad('non-ASCII character')
            key, eq, value = item.partition('=')
            bare = not eq and item[0] in '0123456789-+'
            if bare:
                key, value = 'depth', item
            elif key not in ITEMS:
                raise Bad(UNKNOWN)
            if key in FLAGS and eq:
                raise Bad(f'{key} takes no value')
            if key not in FLAGS and not eq and not bare:
                raise Bad(f'{key} needs a value ({key}=...)')
            if key in seen:
                raise Bad(f'{key} is given twice')
            seen.add(key)
            if key in COUNTS:
                if not DIGITS.fullmatch(value):
                    raise Bad(f'{key} must be an integer >= 0')
                if int(value) > INT_MAX:
                    raise Bad(f'{key} is too large (at most {INT_MAX})')
                result[key] = int(value)
            elif key in FLAGS:
                result[key] = True
            elif key == 'skip':
                result[key] = model_skip(value)
            else:
                result[key] = model_signal(value)
        except Bad as exc:
            raise Bad(f'item {quote(item)}: {exc.args[0]}') from None
    if 'depth' not in seen:
        # a spec that names no depth gets asyncio's DEBUG_STACK_DEPTH
        result['depth'] = 10
    return tuple(result[f] for f in FIELDS)


def canonical(settings):
    """A spec that gives these settings, every item explicit."""
    depth, chain, asyncgen, tracebacks, full, skip, dump = settings
    items = [f'depth={depth}', f'chain={chain}']
    items += [name for name, on in zip(FLAGS, (asyncgen, tracebacks, full))
              if on]
    if skip:
        items.append('skip=' + ':'.join(skip))
    if dump is not None:
        items.append(f'dump={dump}')
    return ','.join(items)


# ---- Random specs -----------------------------------------------------------

# Characters that mutations put in: separators, signs, space, controls,
# non-ASCII (Latin-1, BMP, astral, the surrogateescape form of a byte).
ODD_CHARS = (',', ',,', '=', ':', '.', '-', '+', ' ', '\t', '\x7f', "'",
             '\\', '0', '9', '_', 'x', 'A', '\xe9', '\xff', '\u2603',
             '\U0001f600', '\udc80', '\udcff')


def random_number(rng):
    return rng.choice([
        '0', '1', '2', str(rng.randrange(100)), str(rng.randrange(INT_MAX)),
        str(INT_MAX), '007', '0' * rng.randint(1, 30) + '5',
    ])


def random_name(rng):
    return rng.choice([
        'a', 'asyncio', 'my_app.util_2', '_x.y1', 'a.b.c', 'A1', 'test',
        rng.choice('abc_XYZ') + ''.join(
            rng.choices('abcxyz_019.', k=rng.randint(0, 8))),
    ])


def random_signal(rng):
    return rng.choice(USER_SIGNALS + [
        'SIGRTMIN', 'SIGRTMAX', f'SIGRTMIN+{rng.randint(0, RTMAX - RTMIN)}',
        f'SIGRTMAX-{rng.randint(0, RTMAX - RTMIN)}',
        str(int(signal.SIGUSR1)), str(rng.randint(RTMIN, NSIG - 1)),
        'SIGSEGV', 'SIGKILL', 'SIGIOT', str(int(signal.SIGABRT)),
    ])


def random_item(rng, key):
    if key == 'depth':
        return rng.choice(['', 'depth=']) + random_number(rng)
    if key == 'chain':
        return 'chain=' + random_number(rng)
    if key in FLAGS:
        return key
    if key == 'skip':
        return 'skip=' + ':'.join(random_name(rng)
                                  for _ in range(rng.randint(1, 4)))
    return 'dump=' + random_signal(rng)


def mutate(rng, items):
    """Change the list of items in one of many ways."""
    how = rng.randrange(14)
    i = rng.randrange(len(items)) if items else 0
    item = items[i] if items else ''
    j = rng.randint(0, len(item))
    if how == 0 and items:                  # an item twice
        items.insert(rng.randint(0, len(items)), rng.choice(items))
    elif how == 1:                          # an empty item
        items.insert(rng.randint(0, len(items)), '')
    elif how == 2 and items:                # a character changed
        items[i] = item[:j] + rng.choice(ODD_CHARS) + item[j + 1:]
    elif how == 3 and items:                # a character added
        items[i] = item[:j] + rng.choice(ODD_CHARS) + item[j:]
    elif how == 4 and items:                # a character dropped
        items[i] = item[:j] + item[j + 1:]
    elif how == 5 and items:                # case
        items[i] = item.swapcase() if rng.random() < 0.5 else item.upper()
    elif how == 6:                          # a huge number
        huge = '9' * rng.randint(10, 40)
        items.insert(i, rng.choice([huge, 'depth=' + huge, 'chain=' + huge,
                                    'dump=' + huge, str(INT_MAX + 1)]))
    elif how == 7:                          # random characters
        items.insert(i, ''.join(rng.choice(ODD_CHARS + tuple('az09=:'))
                                for _ in range(rng.randint(1, 12))))
    elif how == 8:                          # a flag with a value, a bare key
        items.insert(i, rng.choice(['tracebacks=1', 'full=', 'asyncgen=0',
                                    'depth', 'chain', 'skip', 'dump']))
    elif how == 9:                          # an unknown item
        items.insert(i, rng.choice(['foo', 'Depth=1', ' tracebacks', 'fullx',
                                    'chains=1', 'depth 3']))
    elif how == 10 and items:               # a sign
        items[i] = rng.choice('-+') + item
    elif how == 11:                         # a very long item
        items.insert(i, 'skip=' + '.'.join(['abcdefghij'] * 12)
                     + rng.choice(['', '.', '..x', '\xe9']))
    elif how == 12:                         # repeated commas
        items.insert(i, ',' * rng.randint(1, 3))
    else:                                   # a bad skip value
        items.insert(i, 'skip=' + rng.choice(
            ['', ':', 'a:', ':a', 'a::b', 'a..b', '.a', 'a.', '1a', 'a-b',
             'a b', 'caf\xe9']))


def random_spec(rng):
    """A spec: valid items in any order, then often some mutations."""
    keys = rng.sample(ITEMS, rng.randint(1, len(ITEMS)))
    items = [random_item(rng, key) for key in keys]
    if rng.random() < 0.6:
        for _ in range(rng.randint(1, 3)):
            mutate(rng, items)
    return ','.join(items)


def startable(spec):
    """Can the spec be passed in argv and the environment?  (No NUL; a
    lone surrogate only as the surrogateescape form of a byte.)"""
    return '\0' not in spec and all(
        not 0xd800 <= ord(c) <= 0xdfff or 0xdc80 <= ord(c) <= 0xdcff
        for c in spec)


# ---- Start-up ---------------------------------------------------------------

SHOW = ('import sys; '
        f'fields = {FIELDS!r}; '
        'print(tuple(getattr(sys.get_coroutine_origin_tracking(), f) '
        'for f in fields)); '
        'print(tuple(getattr(sys.get_coroutine_origin_tracking_default(), f) '
        'for f in fields))')

# Numbers of signals below SIGRTMIN that are no standard signal (glibc
# keeps 32 and 33 for itself): dump= accepts them as numbers from 1 to
# NSIG - 1, but no handler can be installed for them, so start-up warns.
# The random specs leave them out.
UNUSABLE_SIGNALS = set(range(32, RTMIN)) - set(SIGNAL_NAMES.values())


def usable(settings):
    return settings[6] not in UNUSABLE_SIGNALS


def child_env(**env):
    """An explicit environment: the variables given, and what a shared
    library build needs to start."""
    env = dict(env, __cleanenv=True)
    if os.environ.get('LD_LIBRARY_PATH'):
        env['LD_LIBRARY_PATH'] = os.environ['LD_LIBRARY_PATH']
    return env


class StartupTests(unittest.TestCase):
    """Random specs as -X coro_origin and PYTHONCOROORIGIN, each start in a
    new process (a few dozen of them)."""

    ACCEPTED = 10
    REJECTED = 14

    def setUp(self):
        self.seed = get_seed()
        self.rng = random.Random(self.seed)

    def specs(self):
        """ACCEPTED valid and REJECTED invalid specs that can be passed to
        a child, with what the model says of each."""
        accepted, rejected = [], []
        for _ in range(100000):
            spec = random_spec(self.rng)
            if not startable(spec):
                continue
            try:
                settings = model_spec(spec)
            except Bad as exc:
                if len(rejected) < self.REJECTED:
                    rejected.append((spec, exc.args[0]))
            else:
                if len(accepted) < self.ACCEPTED and usable(settings):
                    accepted.append((spec, settings))
            if len(accepted) == self.ACCEPTED and len(rejected) == self.REJECTED:
                return accepted, rejected
        self.fail(f'seed {self.seed}: the generator made too few specs')

    def start(self, xspec=None, envspec=None):
        args = ('-X', 'coro_origin=' + xspec) if xspec is not None else ()
        env = {ENVVAR: envspec} if envspec is not None else {}
        res, cmd = run_python(*args, '-c', SHOW, **child_env(**env))
        where = (f'seed {self.seed}: -X coro_origin={xspec!a}, '
                 f'{ENVVAR}={envspec!a}:\nrc {res.rc}\nstdout: {res.out!a}\n'
                 f'stderr: {res.err!a}')
        return res, where

    def check_started(self, res, where, expected):
        self.assertEqual((res.rc, res.err), (0, b''), where)
        thread, default = map(eval, res.out.decode('ascii').splitlines())
        self.assertEqual(thread, expected, where)
        self.assertEqual(default, expected, where)

    def check_refused(self, res, where, layer, message):
        err = res.err.decode('ascii', 'backslashreplace')
        # As CPython does for a bad -X option: exit status 1, a fatal error
        # that names the layer and the item, no traceback, no crash.
        self.assertEqual(res.rc, 1, where)
        self.assertEqual(res.out, b'', where)
        self.assertIn('Fatal Python error: ', err, where)
        self.assertRegex(err, message_re(f'{layer}: invalid spec: {message}\n'),
                         where)
        self.assertNotIn('Traceback', err, where)
        self.assertNotIn('Segmentation fault', err, where)

    def test_random_specs(self):
        accepted, rejected = self.specs()
        valid = [s for s, _ in accepted]
        # -X alone
        for spec, settings in accepted[:6]:
            self.check_started(*self.start(xspec=spec), settings)
        for spec, message in rejected[:6]:
            self.check_refused(*self.start(xspec=spec), '-X coro_origin',
                               message)
        # the environment alone
        for spec, settings in accepted[6:]:
            self.check_started(*self.start(envspec=spec), settings)
        for spec, message in rejected[6:10]:
            if spec:            # an empty variable is no variable
                self.check_refused(*self.start(envspec=spec), ENVVAR,
                                   message)
        # both: the environment is checked even though -X replaces it
        for (spec, message), good in zip(rejected[10:12], valid):
            self.check_refused(*self.start(xspec=good, envspec=spec),
                               ENVVAR, message)
        for (spec, message), good in zip(rejected[12:], valid[2:]):
            self.check_refused(*self.start(xspec=spec, envspec=good),
                               '-X coro_origin', message)
        for (spec, settings), env in zip(accepted[:2], valid[4:]):
            self.check_started(*self.start(xspec=spec, envspec=env),
                               settings)

    def test_round_trip(self):
        # An accepted spec gives the settings the sys API shows; a spec
        # made of those settings gives them again.
        accepted, _ = self.specs()
        for spec, settings in accepted[:6]:
            res, where = self.start(xspec=spec)
            self.check_started(res, where, settings)
            shown = eval(res.out.decode('ascii').splitlines()[0])
            again = canonical(shown)
            self.check_started(*self.start(envspec=again), settings)


# ---- The sys API --------------------------------------------------------------

class Index:
    """An int-like object (__index__), accepted for depth= and chain=."""
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return f'Index({self.value})'


def random_count(rng):
    return rng.choice([
        0, 1, rng.randrange(1000), INT_MAX, rng.randrange(INT_MAX), None,
        Index(rng.randrange(50)), Index(-1), Index(INT_MAX + 1),
        -1, -rng.randrange(1, 10**6), INT_MAX + 1, 10**rng.randint(10, 40),
        -10**30, True, False, 1.0, '3', b'3', [1],
    ])


def random_flag(rng):
    return rng.choice([True, False, None, True, False, 0, 1, 'yes', 1.0,
                       b'', ()])


def random_skip_text(rng):
    """A skip value: often a valid one, else the value of a mutated skip=
    item, or random characters."""
    r = rng.random()
    if r < 0.4:
        return ':'.join(random_name(rng) for _ in range(rng.randint(1, 4)))
    if r < 0.8:
        items = ['skip=' + random_name(rng)]
        mutate(rng, items)
        item = ','.join(items)
        return item.partition('skip=')[2] if 'skip=' in item else item
    return ''.join(rng.choice(ODD_CHARS + tuple('ab.:_\0'))
                   for _ in range(rng.randint(0, 10)))


def random_skip(rng):
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.15:
        return ''
    if r < 0.6:
        return random_skip_text(rng)
    if r < 0.9:
        names = [random_skip_text(rng) if rng.random() < 0.3
                 else random_name(rng) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.1:
            names.insert(0, rng.choice([b'a', None, 1]))
        return rng.choice([list, tuple, iter])(names)
    return rng.choice([b'a', bytearray(b'a'), 1, 2.5, object()])


def random_kwargs(rng):
    kwargs = {}
    for name in PARAMS:
        if rng.random() < 0.5:
            make = (random_count if name in COUNTS else
                    random_flag if name in FLAGS else random_skip)
            kwargs[name] = make(rng)
    if rng.random() < 0.03:
        kwargs[rng.choice(['dump', 'spam', 'Depth'])] = 1
    return kwargs


def model_api(kwargs, before):
    """The settings after set_coroutine_origin_tracking(**kwargs) from
    "before", or (exception type, regex of its message)."""
    unknown = set(kwargs) - set(PARAMS)
    if unknown:
        return TypeError, ('unexpected keyword argument|takes at most '
                           f'{len(PARAMS)} keyword arguments')
    after = dict(zip(FIELDS, before))
    skip_text = None
    for name in PARAMS:
        value = kwargs.get(name)
        if value is None:
            continue
        if name in COUNTS:
            if isinstance(value, bool) or not hasattr(type(value),
                                                      '__index__'):
                return TypeError, (f"argument '{name}' must be int or None, "
                                   f"not {type(value).__name__}$")
            number = operator.index(value)
            if number < 0:
                return ValueError, f'^{name} must be >= 0$'
            if number > INT_MAX:
                return ValueError, rf'^{name} is too large \(at most {INT_MAX}\)$'
            after[name] = number
        elif name in FLAGS:
            if not isinstance(value, bool):
                return TypeError, (f"argument '{name}' must be bool or None, "
                                   f"not {type(value).__name__}$")
            after[name] = value
        elif isinstance(value, str):
            if not value.isascii():
                return ValueError, '^skip: .*: non-ASCII character$'
            skip_text = value
        elif isinstance(value, (bytes, bytearray)):
            return TypeError, '^skip must be a str or an iterable of str, not'
        else:
            try:
                names = list(value)
            except TypeError:
                return TypeError, '^skip must be a str or an iterable of str$'
            for item in names:
                if not isinstance(item, str):
                    return TypeError, '^skip items must be str, not'
                if not item.isascii() or not item or ':' in item:
                    return ValueError, '^skip: .* is not a module name$'
            skip_text = ':'.join(names)
    if skip_text is not None:
        after['skip'] = ()
        if skip_text:
            try:
                after['skip'] = model_skip(skip_text)
            except Bad as exc:
                return ValueError, '^' + re.escape('skip: ' + exc.args[0]) + '$'
    return tuple(after[f] for f in FIELDS)


def replay(kwargs):
    """kwargs again, for a second call: iterators are used up."""
    skip = kwargs.get('skip')
    if skip is not None and not isinstance(skip, (str, bytes, bytearray,
                                                  list, tuple)):
        return None
    return kwargs


class SysAPITests(unittest.TestCase):
    """Random arguments to sys.set_coroutine_origin_tracking() and
    sys.set_coroutine_origin_tracking_default(), in this process."""

    CALLS = 1500

    def setUp(self):
        self.seed = get_seed()
        self.rng = random.Random(self.seed)
        saved = sys.get_coroutine_origin_tracking()
        saved_default = sys.get_coroutine_origin_tracking_default()
        self.addCleanup(self.restore, saved, saved_default)

    @staticmethod
    def restore(saved, saved_default):
        for func, s in [(sys.set_coroutine_origin_tracking, saved),
                        (sys.set_coroutine_origin_tracking_default,
                         saved_default)]:
            func(s.depth, chain=s.chain, asyncgen=s.asyncgen,
                 tracebacks=s.tracebacks, full=s.full, skip=s.skip)

    def run_calls(self, for_default):
        setter, getter, other = (
            (sys.set_coroutine_origin_tracking_default,
             sys.get_coroutine_origin_tracking_default,
             sys.get_coroutine_origin_tracking)
            if for_default else
            (sys.set_coroutine_origin_tracking,
             sys.get_coroutine_origin_tracking,
             sys.get_coroutine_origin_tracking_default))
        # Start from something other than the process's settings.
        setter(3, chain=1, asyncgen=False, tracebacks=True, full=False,
               skip='s')
        counts = {'accepted': 0, 'rejected': 0}
        for call in range(self.CALLS):
            kwargs = random_kwargs(self.rng)
            model_kwargs = kwargs
            if hasattr(kwargs.get('skip'), '__next__'):
                # a one-shot iterator: the model reads a copy of its names
                names = list(kwargs['skip'])
                kwargs['skip'] = iter(names)
                model_kwargs = dict(kwargs, skip=names)
            before = known(getter())
            untouched = known(other())
            expected = model_api(model_kwargs, before)
            where = (f'seed {self.seed}, call {call}: {setter.__name__}'
                     f'(**{kwargs!r}) from {before}')
            try:
                result = setter(**kwargs)
            except (TypeError, ValueError) as exc:
                counts['rejected'] += 1
                self.assertIsInstance(expected[0], type,
                                      f'{where}: raised {exc!r}')
                self.assertIs(type(exc), expected[0], where)
                self.assertRegex(str(exc), expected[1], where)
                # Nothing changed.
                self.assertEqual(known(getter()), before, where)
            else:
                counts['accepted'] += 1
                self.assertIsNone(result, where)
                self.assertNotIsInstance(expected[0], type,
                                         f'{where}: accepted, model '
                                         f'says {expected}')
                self.assertEqual(known(getter()), expected, where)
                # What get() shows, given back, changes nothing (the skip
                # field is a tuple of names, accepted as an iterable).
                shown = getter()
                setter(shown.depth, chain=shown.chain,
                       asyncgen=shown.asyncgen, tracebacks=shown.tracebacks,
                       full=shown.full, skip=shown.skip)
                self.assertEqual(getter(), shown, where)
                # So does the same call again.
                again = replay(kwargs)
                if again is not None:
                    setter(**again)
                    self.assertEqual(known(getter()), expected, where)
            self.assertEqual(known(other()), untouched, where)
        # The generator reaches both outcomes.
        self.assertGreater(counts['accepted'], self.CALLS // 10,
                           f'seed {self.seed}')
        self.assertGreater(counts['rejected'], self.CALLS // 10,
                           f'seed {self.seed}')

    def test_thread_settings(self):
        self.run_calls(for_default=False)

    def test_default_settings(self):
        self.run_calls(for_default=True)

    def test_depth_function_agrees(self):
        # Stock's depth function sees what the new API set.
        for _ in range(200):
            kwargs = random_kwargs(self.rng)
            try:
                sys.set_coroutine_origin_tracking(**kwargs)
            except (TypeError, ValueError):
                pass
            self.assertEqual(sys.get_coroutine_origin_tracking_depth(),
                             sys.get_coroutine_origin_tracking().depth,
                             f'seed {self.seed}: {kwargs!r}')

    def test_skip_values_agree_with_spec(self):
        # A skip value that a spec's skip= item accepts is accepted by the
        # sys API, with the same names, and the other way round.
        sys.set_coroutine_origin_tracking(skip='before')
        for _ in range(2000):
            text = random_skip_text(self.rng)
            if not text or ',' in text:
                continue        # "" skips nothing; "," ends a spec's item
            where = f'seed {self.seed}: skip={text!a}'
            try:
                names = model_spec('skip=' + text)[5]
            except Bad:
                names = None
            try:
                sys.set_coroutine_origin_tracking(skip=text)
            except ValueError:
                self.assertIsNone(names, where)
                self.assertEqual(sys.get_coroutine_origin_tracking().skip,
                                 ('before',), where)
            else:
                self.assertEqual(sys.get_coroutine_origin_tracking().skip,
                                 names, where)
                sys.set_coroutine_origin_tracking(skip='before')


class ModelTests(unittest.TestCase):
    """The model against known cases (test_config's), so that a wrong
    model cannot hide a wrong parser."""

    def test_model(self):
        self.assertEqual(model_spec('10,chain=3,asyncgen,tracebacks,full,'
                                    'skip=asyncio:my_app.util_2,'
                                    'dump=SIGUSR1'),
                         (10, 3, True, True, True,
                          ('asyncio', 'my_app.util_2'), int(signal.SIGUSR1)))
        for spec, message in [
                ('', 'empty spec'),
                (',', 'item 1 is empty (leading comma)'),
                ('5,', 'item 2 is empty (trailing comma)'),
                ('5,,tracebacks', "item 2 is empty (',,')"),
                ('depth=3,5', "item '5': depth is given twice"),
                ('99999999999x',
                 "item '99999999999x': depth must be an integer >= 0"),
                ('2147483648', "item '2147483648': depth is too large "
                 "(at most 2147483647)"),
                ('skip=a..b', "item 'skip=a..b': 'a..b' is not a module name"),
                ('d\xe9pth=1', "item 'd\\xe9pth=1': non-ASCII character"),
                ('dump=SIGIOT', "item 'dump=SIGIOT': SIGIOT reports a crash "
                 "(abort()); use a user signal such as SIGUSR1"),
                ('dump=6', "item 'dump=6': SIGABRT reports a crash "
                 "(abort()); use a user signal such as SIGUSR1")]:
            with self.subTest(spec=spec):
                with self.assertRaises(Bad) as cm:
                    model_spec(spec)
                self.assertEqual(cm.exception.args[0], message)


if __name__ == '__main__':
    unittest.main()
