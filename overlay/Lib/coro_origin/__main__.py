"""python -m coro_origin dump PID [--json] [--timeout S]

Print the live coroutine dump of a running origin-python process started
with a dump signal, which it announced.  See the coro_origin package for
how it works."""

import argparse
import sys

from . import DumpError, dump_process


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m coro_origin',
        description='Tools for the coroutine origins of origin-python.')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser(
        'dump', help='print the live coroutine dump of a running process',
        description='Print the live coroutine dump of process PID, an '
                    'origin-python process of this user started with '
                    '-X coro_origin=...,dump=SIGNAL.  The signal is the '
                    'one the process announced at start-up; a process '
                    'that announced none is sent no signal.')
    p.add_argument('pid', type=int, metavar='PID')
    p.add_argument('--json', action='store_true',
                   help='the JSON document instead of the text')
    p.add_argument('--timeout', type=float, default=10.0, metavar='S',
                   help='seconds to wait for the dump (default 10)')
    args = parser.parse_args(argv)
    try:
        text = dump_process(args.pid, 'json' if args.json else 'text',
                            timeout=args.timeout)
    except DumpError as exc:
        print(f'{parser.prog} dump: error: {exc}', file=sys.stderr)
        return 1
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
