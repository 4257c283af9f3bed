"""What a push publishes: an allow-list of the files a pull reads, with no local paths in them.

A run folder holds private things (notes, data lists, a symlink to a home folder); only the saved
model is published: ``config.json``, the ``*.safetensors`` files its record lists, the ``README.md``
card and the ``samples.png`` grid. Links out of the folder are refused, and absolute local paths in
the config and the card are cut to their last component (a data folder is recorded by its name).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import ZooError

SAMPLE = "samples.png"  # the grid `zoo train` writes beside the model
COMPONENT = re.compile(r"[A-Za-z0-9][\w.-]*\.safetensors")  # a file name, never a path
# an absolute POSIX path or ~/...: not part of a URL (a "/" after "/" or a word character, or "://")
LOCAL_PATH = re.compile(r"(?<![\w/.])(?:~/|/(?!/))[^\s\"'`)\],]*")


def allowed_files(folder: Path, record: dict) -> list[str]:
    """The files of ``folder`` a push uploads (those present), refusing links that leave the folder."""
    files = record.get("files") if isinstance(record.get("files"), dict) else {}
    names = {"config.json", "model.safetensors", "README.md", SAMPLE}
    names |= {f for f in files.values() if isinstance(f, str) and COMPONENT.fullmatch(f)}
    root = folder.resolve()
    out = []
    for name in sorted(names):
        path = folder / name
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise ZooError(f"{path} links to {path.resolve()}, outside the folder; zoo push uploads only files inside "
                           "the saved model (copy the file in if it belongs to the model)")
        if path.is_file():
            out.append(name)
    return out


def public_text(text: str) -> str:
    """``text`` with every absolute local path replaced by its last component."""
    return LOCAL_PATH.sub(lambda m: Path(m.group(0).rstrip("/")).name or ".", text)


def public_value(value: Any) -> Any:
    """A JSON value with local paths cut (``/home/me/celeba`` -> ``celeba``, ``embeddings:/x/e.npz`` -> ``embeddings:e.npz``)."""
    if isinstance(value, dict):
        return {k: public_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public_value(v) for v in value]
    if isinstance(value, str):
        head, sep, rest = value.partition(":")
        if sep and re.fullmatch(r"[\w-]+", head) and LOCAL_PATH.fullmatch(rest):
            return head + sep + public_text(rest)
        return public_text(value) if LOCAL_PATH.fullmatch(value) else value
    return value


def card_text(text: str, repo_id: str | None = None, license: str | None = None) -> str:
    """The card as published: local paths cut, the usage snippet naming ``repo_id``, ``license`` in the YAML."""
    text = public_text(text)
    if repo_id:
        text = text.replace("REPO_OR_FOLDER", repo_id)
    if license:
        from huggingface_hub import ModelCard

        card = ModelCard(text)
        card.data.license = license
        text = str(card)
    return text


def upload_payload(folder: Path, record: dict, repo_id: str, license: str | None = None) -> dict[str, Any]:
    """``{path in repo: bytes or local path}`` for one push commit."""
    payload: dict[str, Any] = {}
    for name in allowed_files(folder, record):
        if name == "config.json":
            payload[name] = (json.dumps(public_value(record), indent=2) + "\n").encode()
        elif name == "README.md":
            payload[name] = card_text((folder / name).read_text(errors="replace"), repo_id, license).encode()
        else:
            payload[name] = str(folder / name)
    return payload
