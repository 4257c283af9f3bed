"""metrics.jsonl: one strict JSON object per line, readable by any JSON tool.

Python's ``json`` writes ``NaN``/``Infinity`` literals that are not JSON (``jq`` rejects them,
pandas turns them into null silently). Non-finite numbers are written as ``null`` instead and their
keys listed under ``"nonfinite"`` (``{"loss": null, "nonfinite": {"loss": "nan"}}``), so a NaN step
is still visible.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _clean(value: Any, path: str, flags: dict[str, str]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        flags[path] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    if isinstance(value, dict):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), flags) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, f"{path}[{i}]", flags) for i, v in enumerate(value)]
    return value


def strict_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with non-finite floats as None and a ``nonfinite`` map ``{key: "nan"|"inf"|"-inf"}``."""
    flags: dict[str, str] = {}
    out = _clean(record, "", flags)
    if flags:
        out["nonfinite"] = flags
    return out


def dumps(record: dict[str, Any]) -> str:
    """One strict JSON line (``allow_nan=False`` proves nothing non-finite slipped through)."""
    return json.dumps(strict_record(record), allow_nan=False)


def append(path: str | Path, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(dumps(record) + "\n")


def read(path: str | Path) -> list[dict[str, Any]]:
    """Every record of a metrics.jsonl: the JSON objects whose ``step``, if any, is an integer.

    A torn last line (a killed run) is skipped, and so is any other damaged line: a run folder may come
    from someone else, and one bad line should cost that line, not the report.
    """
    from ..trust import parse_json

    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = parse_json(line)
        except ValueError:
            continue
        step = record.get("step", 0) if isinstance(record, dict) else None
        if isinstance(step, int) and not isinstance(step, bool):
            out.append(record)
    return out
