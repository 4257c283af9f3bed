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
