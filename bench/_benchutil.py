"""Helpers shared by the programs in bench/.

These programs are run by the *built* interpreters (stock and fork, 3.13),
one measurement per process, by tools/bench.  Each takes one argument, a
JSON object of parameters, and prints one JSON object on its last stdout
line.  {"na": "reason"} means "this interpreter cannot run this
configuration" (e.g. the fork API is missing); it is not an error.
"""
import json
import sys


class NotAvailable(Exception):
    """The interpreter lacks something this configuration needs."""


def run(fn):
    params = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    try:
        out = fn(params)
    except NotAvailable as exc:
        out = {"na": str(exc)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def stack_depth(skip=1):
    """Number of Python frames on the stack, counting from the caller."""
    frame = sys._getframe(skip)
    n = 0
    while frame is not None:
        n += 1
        frame = frame.f_back
    return n


def call_with_stack(total, fn, *args):
    """Call fn(*args) so that fn's own frame is the total-th Python frame.

    The frames below it are plain Python frames of this function, as a
    deep application call stack would be.
    """
    if stack_depth(1) + 1 >= total:   # our frame and below, plus fn's
        return fn(*args)
    return call_with_stack(total, fn, *args)


def tracking_info():
    """What the interpreter says its tracking settings are (for the record)."""
    info = {"depth": sys.get_coroutine_origin_tracking_depth()}
    get = getattr(sys, "get_coroutine_origin_tracking", None)
    if get is not None:
        info["settings"] = repr(get())
    return info


def apply_tracking(settings):
    """Apply a mode: a dict like {"depth": 10} or {"depth": 10, "chain": 8}.

    Depth alone uses the stock API, so it works on both interpreters; any
    other key needs the fork's sys.set_coroutine_origin_tracking() and
    raises NotAvailable when it is missing or rejects the setting.
    """
    settings = dict(settings)
    depth = settings.pop("depth", 0)
    if not settings:
        sys.set_coroutine_origin_tracking_depth(depth)
        return tracking_info()
    setter = getattr(sys, "set_coroutine_origin_tracking", None)
    if setter is None:
        raise NotAvailable("no sys.set_coroutine_origin_tracking")
    try:
        setter(depth=depth, **settings)
    except TypeError as exc:
        # skip= may want a sequence of module names rather than "a:b".
        skip = settings.get("skip")
        if not isinstance(skip, str):
            raise NotAvailable("TypeError: %s" % exc)
        settings["skip"] = tuple(skip.split(":"))
        try:
            setter(depth=depth, **settings)
        except (TypeError, ValueError) as exc2:
            raise NotAvailable("%s: %s" % (type(exc2).__name__, exc2))
    except ValueError as exc:
        raise NotAvailable("ValueError: %s" % exc)
    return tracking_info()
