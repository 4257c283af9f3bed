"""Config dataclasses as the single source of options: CLI flags, config files, presets, run records.

A field's type, default and ``metadata`` (``help``, ``min``, ``max``) become a click option, so
``zoo train NAME --help`` always matches the code. Values are layered, later wins:
dataclass default < the model's ``TRAIN_DEFAULTS`` < ``--preset`` < ``--config FILE`` < flags.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .errors import ZooError
from .trust import parse_json, shown

MAX_ITEMS = 64  # a list option's length unless its field says ``max_items``
MAX_TEXT = 4096  # characters of any text option

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def opt(default: Any, help: str, **meta: Any) -> Any:
    """A config dataclass field with help text and ``min``/``max`` bounds: one definition, one CLI flag.

    Every number needs both bounds (see tests).

    Args:
        default: the default value (a tuple for sequences; None for an optional field).
        help: the help text shown by ``zoo train NAME --help`` and ``zoo info NAME``.
        **meta: ``min``/``max`` bounds, ``aliases`` (extra flags), ``cli=False`` to hide it.

    Returns:
        A ``dataclasses.field``.

    Example:
        >>> import dataclasses
        >>> from zoo_core import opt
        >>> @dataclasses.dataclass
        ... class MyConfig:
        ...     res: int = opt(32, "image size", min=8)
        >>> MyConfig().res, dataclasses.fields(MyConfig)[0].metadata["min"]
        (32, 8)
    """
    if isinstance(default, (list, dict)):
        raise TypeError("use a tuple for sequence defaults")
    return dataclasses.field(default=default, metadata={"help": help, **meta})


def fields(cls: type) -> list[dataclasses.Field]:
    return list(dataclasses.fields(cls))


def field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def type_name(tp: Any) -> str:
    """How an option's type reads in help and ``zoo info``."""
    tp, optional = _strip_optional(tp)
    if get_origin(tp) is Literal:
        name = "|".join(str(a) for a in get_args(tp))
    elif get_origin(tp) is tuple:
        name = f"{get_args(tp)[0].__name__},..."
    else:
        name = getattr(tp, "__name__", str(tp))
    return name + ("?" if optional else "")


def coerce(cls: type, name: str, value: Any, source: str = "", python: bool = False) -> Any:
    """Convert ``value`` (from a file or the command line) to the field's type, or raise ZooError.

    Errors name the option as a flag (``--grad-clip``), or as the Python argument with ``python=True``.
    """
    tp, optional = _strip_optional(field_type(cls, name))
    where = f" in {source}" if source else ""
    flag = name if python else "--" + name.replace("_", "-")
    given = value

    def fail(expected: str) -> ZooError:
        return ZooError(f"{flag}{where}: expected {expected}, got {shown(given)}")

    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "")):
        if optional:
            return None
        raise fail(type_name(tp))
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise fail("one of " + ", ".join(map(str, choices)))
        out = value
    elif get_origin(tp) is tuple:
        item = get_args(tp)[0]
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise fail(f"a comma-separated list of {item.__name__}")
        try:
            out = tuple(item(v) for v in value)
        except (TypeError, ValueError):
            raise fail(f"a comma-separated list of {item.__name__}") from None
    elif tp is bool:
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            out = value.lower() in ("true", "1", "yes", "on")
        elif isinstance(value, bool):
            out = value
        else:
            raise fail("true or false")
    elif tp in (int, float, str):
        if tp is int and (isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())):
            raise fail("an integer")
        if tp is str and not isinstance(value, str):
            raise fail("a string")
        try:
            out = tp(float(value)) if tp is int and isinstance(value, str) and "e" in value.lower() else tp(value)
        except (TypeError, ValueError):
            raise fail("an integer" if tp is int else "a number" if tp is float else "a string") from None
    else:
        out = value
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    _check_bounds(meta, out, f"{flag}{where}")
    return out


def _range(meta: Any) -> str:
    return f"{meta.get('min', '-inf')}..{meta.get('max', 'inf')}"


def _check_bounds(meta: Any, out: Any, name: str) -> None:
    """Bounds from the field's metadata (``min``, ``max``, ``max_items``) and the sizes no option may exceed.

    Checked on every value from a flag, a file or a Hub config before anything is built from it, so an
    absurd value is one line naming the field and its range, never a huge allocation.
    """
    items = out if isinstance(out, tuple) else (out,)
    if isinstance(out, tuple) and len(out) > meta.get("max_items", MAX_ITEMS):
        raise ZooError(f"{name}: at most {meta.get('max_items', MAX_ITEMS)} items, got {len(out)}")
    for v in items:
        if isinstance(v, float) and not math.isfinite(v):
            raise ZooError(f"{name}: must be a finite number (allowed range {_range(meta)}), got {v}")
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise ZooError(f"{name}: at most {MAX_TEXT} characters, got {len(v)}")
        if "min" in meta and isinstance(v, (int, float)) and v < meta["min"]:
            raise ZooError(f"{name}: must be >= {meta['min']} (allowed range {_range(meta)}), got {v}")
        if "max" in meta and isinstance(v, (int, float)) and v > meta["max"]:
            raise ZooError(f"{name}: must be <= {meta['max']} (allowed range {_range(meta)}), got {v}")


def build(cls: type, values: dict[str, Any], source: str = "", python: bool = False) -> Any:
    """Instantiate ``cls`` from raw values; ``__post_init__`` ValueErrors become ZooErrors."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        close = [m for k in sorted(unknown) for m in difflib.get_close_matches(k, known, n=1)]
        hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
        raise ZooError(f"unknown option(s) {', '.join(sorted(unknown))}{' in ' + source if source else ''}{hint}")
    typed = {k: coerce(cls, k, v, source, python) for k, v in values.items()}
    try:
        return cls(**typed)
    except ValueError as exc:
        raise ZooError(str(exc)) from None


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-able dict of a config (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


#: Keys of a run's or a saved model's config.json that are not options (see zoo_core.training).
RECORD_KEYS = ("zoo_model", "zoo_format", "distribution", "version", "files")
#: Options of a run record that belong to that run only: a new run given its config does not inherit them.
RUN_ONLY = ("out", "resume")


def read_file(path: str | Path, model: str | None = None) -> dict[str, Any]:
    """Read a TOML or JSON config file into a flat dict (top-level tables are merged).

    A run's or a saved model's ``config.json`` is accepted too: its bookkeeping keys are dropped,
    and so are ``out`` and ``resume`` (a new run does not continue the old one); with ``model`` given,
    a record of another model is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"config file {path} does not exist")
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else parse_json(text)
    except RecursionError:  # TOML arrays nested 100,000 deep
        raise ZooError(f"config file {path} is nested too deeply to be a table of options") from None
    except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors  # a binary file: not text
        raise ZooError(f"config file {path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ZooError(f"config file {path} must hold a table of options")
    record = "zoo_model" in data
    if record and model is not None and data["zoo_model"] != model:
        raise ZooError(f"config file {path} is for {data['zoo_model']!r}, not {model!r}: "
                       f"use `zoo train {data['zoo_model']} --config {path}`")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key in ("model", "train", "data", "config"):
            flat.update(value)
        elif not (record and key in RECORD_KEYS):
            flat[key] = value
    if record:
        for key in RUN_ONLY:
            flat.pop(key, None)
    return {k.replace("-", "_"): v for k, v in flat.items()}


def to_toml(sections: dict[str, Any], deferred: dict[str, dict[str, str]] | None = None) -> str:
    """Config dataclasses as a TOML file that :func:`read_file` reads back to the same values.

    ``sections`` maps a table name (``model``, ``data``, ``train``) to a config; None is written as
    ``"none"``, which every optional option accepts. ``deferred`` names, per table, options the run will
    decide from the data (key -> why): they are written commented out, since a value in the file would
    count as chosen (a printed ``in_channels = 3`` fed back would keep gray data in RGB).
    """
    def value(v: Any) -> str:
        if v is None:
            return '"none"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)  # inf and nan are TOML too
        if isinstance(v, (tuple, list)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string

    lines = []
    for name, cfg in sections.items():
        lines.append(f"[{name}]")
        later = (deferred or {}).get(name, {})
        lines += [f"# {k} = {value(v)}  # {later[k]}" if k in later else f"{k} = {value(v)}"
                  for k, v in dataclasses.asdict(cfg).items()]
        lines.append("")
    return "\n".join(lines)


def layer(classes: dict[str, type], layers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge raw value layers over several config classes and build each one.

    ``layers`` is ``[(source name, {field: value})]`` from weakest to strongest. Every key must
    belong to exactly one class; an unknown key names its source.
    """
    owner = {}
    for section, cls in classes.items():
        for f in dataclasses.fields(cls):
            owner.setdefault(f.name, section)
    raw: dict[str, dict[str, Any]] = {s: {} for s in classes}
    for source, values in layers:
        for key, value in values.items():
            if key not in owner:
                raise ZooError(f"unknown option {key!r} in {source}")
            raw[owner[key]][key] = coerce(classes[owner[key]], key, value, source)
    return {s: build(cls, raw[s]) for s, cls in classes.items()}
