"""One exception type for every mistake a user can fix.

The CLI turns a :class:`ZooError` into a single red line and exit status 2: bad input must never
end in a traceback. Library callers get an ordinary exception they can catch.
"""

from __future__ import annotations


class ZooError(Exception):
    """A problem with the user's input or environment, with the fix in its message."""

    exit_code = 2


class PluginMissingError(ZooError):
    """A saved model names a model whose plugin is not installed."""


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message (its type name if it has none), for one-line errors
    built on a library's multi-line ones."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__
