"""Honest network behaviour for Hub calls: a bounded wait, and each HTTP answer reported for what it is.

Every zoo call to the Hub runs inside :func:`bounded`, which gives huggingface_hub's HTTP client a
timeout of ``ZOO_HUB_TIMEOUT`` seconds (default 10), so a server that
hangs costs seconds, not minutes. :func:`http_error` turns 401, 403, 404 and 5xx answers into
distinct one-line errors, and :class:`CacheFallback` is the note given when a pull is served from the
local cache because the Hub could not be asked.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ZooError

DEFAULT_TIMEOUT = 10.0


class CacheFallback(UserWarning):
    """A repo was served from the local cache because the Hub did not answer (or refused)."""


def timeout(value: float | str | None = None) -> float:
    """Seconds to wait for the Hub: ``value``, else ``ZOO_HUB_TIMEOUT``, else 10."""
    raw = value if value is not None else os.environ.get("ZOO_HUB_TIMEOUT")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ZooError(f"ZOO_HUB_TIMEOUT must be seconds in (0, 3600], got {str(raw)[:40]!r}")
    return seconds


@contextmanager
def bounded(seconds: float | None = None) -> Iterator[float]:
    """Run Hub calls with an HTTP timeout (huggingface_hub's shared client has none by default)."""
    from huggingface_hub.utils import _http

    limit = timeout(seconds)
    previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)

    def factory():
        client = previous()
        client.timeout = limit
        return client

    _http.set_client_factory(factory)
    try:
        yield limit
    finally:
        _http.set_client_factory(previous)


def status_of(exc: BaseException) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def http_error(exc: BaseException, repo_id: str, endpoint: str, writing: bool = False) -> ZooError | None:
    """A one-line ZooError for an HTTP answer, naming what the status means; None if not an HTTP error."""
    status = status_of(exc)
    if status is None:
        return None
    if status == 401:
        return ZooError(f"the Hub at {endpoint} needs a valid token for {repo_id!r} (401: private or gated): set "
                        "HF_TOKEN or run "
                        "`hf auth login`")
    if status == 403:
        need = "write access to" if writing else "access to"
        return ZooError(f"the Hub at {endpoint} refused {need} {repo_id!r} (403 forbidden): use a token with "
                        f"{need} it (gated repos also need their terms accepted)")
    if status == 404:
        return ZooError(f"no model repository {repo_id!r} on the Hub at {endpoint} (404; if it is private, set "
                        "HF_TOKEN or run `hf auth login`)")
    if status >= 500:
        return ZooError(f"the Hub at {endpoint} failed with a server error ({status}); try again later")
    return ZooError(f"the Hub at {endpoint} answered {status} for {repo_id!r}")


def timed_out(exc: BaseException) -> bool:
    return "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()


def network_errors() -> tuple[type[BaseException], ...]:
    """Transport errors of the HTTP client huggingface_hub uses (httpx2, httpx or requests)."""
    found = []
    for name, attr in (("httpx2", "TransportError"), ("httpx", "TransportError"), ("requests", "RequestException")):
        try:
            cls = getattr(importlib.import_module(name), attr, None)
        except ImportError:
            continue
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)
