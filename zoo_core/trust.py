"""The trust boundary: what loading a saved model may run, and how file text is shown.

A model folder or Hub repo is data from a stranger. While :func:`loading` is active (``from_pretrained``
builds the model inside it), :func:`import_named` refuses to import any ``package.module:attr`` that
the folder's config names, unless the user opted in with ``trust_code=True`` / ``--trust-code`` (the
convention users know from transformers' ``trust_remote_code``). Outside it (training from the
command line, the user's own code) such paths are the user's own choice and are imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .errors import ZooError

_UNTRUSTED: ContextVar[str | None] = ContextVar("zoo_untrusted_source", default=None)


@contextmanager
def loading(source: str, trust_code: bool = False) -> Iterator[None]:
    """Build a model from ``source``'s files; code it names is refused unless ``trust_code``."""
    token = _UNTRUSTED.set(None if trust_code else source)
    try:
        yield
    finally:
        _UNTRUSTED.reset(token)


def parse_json(text: str) -> Any:
    """``json.loads`` for a file's text, where every way it can fail is a ValueError: besides bad JSON, text
    nested 100,000 deep (``[[[[...``, a few hundred KB) exhausts the parser's recursion, a RecursionError that
    would otherwise escape the one-line error handling as a traceback."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def shown(text: Any, limit: int = 80) -> str:
    """``repr`` of a value that came from a file, cut to ``limit`` characters (a name, not a payload)."""
    out = repr(text)
    return out if len(out) <= limit else out[: limit - 4] + "...'"


SPEC_PATHS = ("config", "model", "trainer", "fn", "factory", "detect", "convert")


def check_registered(path: str) -> None:
    """While loading an untrusted model, refuse any import path that no installed plugin registered."""
    source = _UNTRUSTED.get()
    if source is None:
        return
    from .plugins import registry
    from .registry import KINDS

    reg = registry()
    known = {getattr(spec, f, None) for kind in KINDS for spec in reg.specs(kind) for f in SPEC_PATHS}
    if path not in known:
        raise ZooError(f"{source} asks to import and run code ({shown(path)}), which no installed plugin "
                       "registers; zoo never runs code a model folder names: pass trust_code=True (--trust-code) "
                       "only if you trust its author")


def import_named(path: str, what: str) -> Any:
    """Import ``"package.module:attr"`` named by a config; refused while loading an untrusted model."""
    source = _UNTRUSTED.get()
    if source is not None:
        raise ZooError(f"{source} asks to import and run code ({what} {shown(path)}); zoo never runs code a model "
                       "folder names: pass trust_code=True (--trust-code) only if you trust its author")
    from .registry import load_object

    try:
        return load_object(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ZooError(f"{what} {shown(path)}: cannot import it ({exc})") from None
