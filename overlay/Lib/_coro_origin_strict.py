"""origin-python: strict mode's text of one problem.

Internal module of origin-python (not of upstream CPython).  Strict mode
(``-X coro_origin=...,strict``, Python/coro_origin_strict.c) keeps, for
each piece of lost asyncio work, the text problem_text() gives here when
the problem happens; its summary at exit prints them.  Where each object
was created is rendered by _coro_origin_report, as in every other report.
"""

import traceback

from _coro_origin_report import (
    AGEN_HEADER, HEADER, NOT_RECORDED, UNREADABLE, _frame_lines, _safe_str,
    context_origin_text, exception_origin_lines, origin_block, site_lines,
    unawaited_warning_lines)

__all__ = ['problem_text']


def _raised_at_lines(exc):
    """'Raised at' and the innermost frame of *exc*'s traceback, or []."""
    tb = getattr(exc, '__traceback__', None)
    if tb is None:
        return []
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return ['Raised at'] + _frame_lines(code.co_filename, tb.tb_lineno,
                                        code.co_name, '  ')


def _context_problem_lines(context):
    """The lines of an asyncio report of lost work (its context dict)."""
    message = _safe_str(context.get('message'))
    exc = context.get('exception')
    if exc is not None:
        # The exception's own line (not its notes), as traceback shows it.
        first = traceback.format_exception_only(type(exc), exc)[0]
        message += ': ' + _safe_str(first.rstrip('\n'))
    # The task's or future's repr is left out: it names the object, so
    # that identical problems of many tasks would not be counted together.
    lines = [message]
    dropped = context.get('dropped_by')
    if isinstance(dropped, str):
        # asyncio._origin: cancel() would have dropped it silently
        lines.append(f'Dropped by {dropped}')
    if exc is not None:
        lines += _raised_at_lines(exc)
        # (a record shows one frame of the traceback: the block stays)
        escaped = exception_origin_lines(exc, dedupe=False)
        if escaped:
            return lines + escaped
    text = context_origin_text(context)
    if text is not None:
        return lines + text.split('\n')
    source = context.get('source_traceback')
    if source:
        header = ('Object created at (most recent call last)'
                  if 'task' not in context and 'future' not in context
                  else ('Task' if 'task' in context else 'Future')
                  + ' created at (most recent call last)')
        return lines + [header] + site_lines(
            tuple((f.filename, f.lineno, f.name) for f in reversed(source)))
    return lines + [NOT_RECORDED]


def problem_text(kind, obj, hook_raised=False):
    """The text that strict mode keeps for one problem of *kind* about
    *obj*: a coroutine never awaited, an async generator never finalized
    (*hook_raised*: its finalizer hook raised; else its event loop was
    closed), or asyncio's report context (a dict) for the others.  The
    first line is the report's own message; then where the object was
    created, as every other report shows it.  Lines have no indentation
    of their own beyond the block's; no trailing newline."""
    try:
        if isinstance(obj, dict):
            lines = _context_problem_lines(obj)
        else:
            qualname = _safe_str(getattr(obj, '__qualname__', '?'))
            if hasattr(obj, 'ag_origin'):
                if hook_raised:
                    why = ('its finalizer hook raised, and it was freed '
                           'before it finished')
                else:
                    why = 'its event loop could not run its aclose()'
                lines = [f"async generator '{qualname}' was never "
                         f"finalized: {why}"]
                if obj.ag_origin is None:
                    lines.append(NOT_RECORDED[:-1] + ': track async '
                                 'generators with the asyncgen item)')
                else:
                    lines += origin_block(obj.ag_origin,
                                          getattr(obj, 'ag_origin_chain',
                                                  None),
                                          header=AGEN_HEADER)
            else:
                lines = [f"coroutine '{qualname}' was never awaited"]
                lines += (unawaited_warning_lines(obj)
                          or [HEADER[:-len(' (most recent call last)')]
                              + ': ' + NOT_RECORDED[1:-1]])
        return '\n'.join(lines)
    except Exception:
        return f'{kind}: {UNREADABLE}'


