"""The logger interface every backend implements, and the set the engine talks to.

A backend is a small class registered like any plugin spec (``LoggerSpec`` via the
``register_loggers`` hook), so a plugin can add its own logger, and plugins log scalars and images
through ``engine.observer.loggers`` the same way the engine does. Methods a backend does not
support are no-ops. A backend that raises during training is reported once and switched off: a
logging service going away must not kill a week-long run.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ZooError
from ..health import HealthEvent


def need(module: str, logger: str, package: str | None = None) -> Any:
    """Import ``module`` for ``--logger logger`` or fail in one line with the install command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pkg = package or module
        raise ZooError(f"--logger {logger} needs the {pkg} package: pip install 'zoo-core[{logger}]' "
                       f"(or pip install {pkg})") from None


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1e-4}}`` -> ``{"train.lr": 1e-4}``; lists become strings (hparams are scalars)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = ",".join(map(str, value))
        else:
            out[name] = value
    return out


class Logger:
    """One experiment-tracking backend. ``image`` arguments are uint8 HxWxC numpy arrays."""

    name = "base"

    def __init__(self, run_dir: Path, run_name: str):
        self.run_dir, self.run_name = Path(run_dir), run_name

    def log_hparams(self, config: dict[str, Any]) -> None:
        """The resolved configuration, once at the start (nested dicts)."""

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        """Losses, gradient norms, lr, img/s, eval metrics (``eval/fid``)."""

    def log_image(self, step: int, tag: str, image: Any) -> None:
        """A sample grid."""

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        """The distribution of a per-step value over one log interval (gradient norms)."""

    def log_text(self, step: int, tag: str, text: str) -> None:
        """A piece of text (markdown where the backend renders it)."""

    def log_event(self, event: HealthEvent) -> None:
        """A health event (non-finite step, rollback, D collapse...) with its fix, when it happens.

        By default the event's one-line text under the tag ``health/<kind>``, so a backend that only
        implements :meth:`log_text` still shows every event; backends with a better place override this.
        """
        self.log_text(event.step, f"health/{event.kind}", event.text)

    def log_final(self, metrics: dict[str, float]) -> None:
        """The final metrics, once at the end."""

    def close(self) -> None:
        """Flush and release files or connections."""


class LoggerSet:
    """Fans every call out to the chosen backends; a failing backend is reported once and dropped."""

    def __init__(self, loggers: list[Logger], warn=None):
        self.loggers, self.warn = list(loggers), warn

    def __bool__(self) -> bool:
        return bool(self.loggers)

    def _call(self, method: str, *args: Any) -> None:
        for logger in list(self.loggers):
            try:
                getattr(logger, method)(*args)
            except Exception as exc:  # noqa: BLE001 - see the module docstring
                self.loggers.remove(logger)
                if self.warn:
                    self.warn(f"--logger {logger.name} failed ({type(exc).__name__}: {exc}); it is switched off "
                              "for the rest of the run (metrics.jsonl is still written)")

    def log_hparams(self, config: dict[str, Any]) -> None:
        self._call("log_hparams", config)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self._call("log_scalars", step, scalars)

    def log_image(self, step: int, tag: str, image: Any) -> None:
        self._call("log_image", step, tag, image)

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        self._call("log_histogram", step, tag, values)

    def log_text(self, step: int, tag: str, text: str) -> None:
        self._call("log_text", step, tag, text)

    def log_event(self, event: HealthEvent) -> None:
        self._call("log_event", event)

    def log_final(self, metrics: dict[str, float]) -> None:
        self._call("log_final", metrics)

    def close(self) -> None:
        self._call("close")


def names_of(choices: Iterable[str] | str | None) -> list[str]:
    """``("tensorboard,csv", "wandb")`` -> ``["tensorboard", "csv", "wandb"]`` (order kept, repeats dropped)."""
    if isinstance(choices, str):
        choices = [choices]
    out: list[str] = []
    for entry in choices or ():
        for name in str(entry).split(","):
            name = name.strip().lower()
            if name and name not in ("none", "jsonl") and name not in out:
                out.append(name)
    return out


def open_loggers(choices: Iterable[str] | str | None, run_dir: str | Path, run_name: str, warn=None) -> LoggerSet:
    """Build the backends named in ``--logger`` (unknown names and missing libraries fail before training)."""
    from ..plugins import registry
    from ..registry import load_object

    reg = registry()
    loggers = []
    for name in names_of(choices):
        spec = reg.logger(name)
        loggers.append(load_object(spec.factory)(Path(run_dir), run_name))
    return LoggerSet(loggers, warn)
