"""Published checkpoints into zoo saved models: format detection, conversion and ``--init`` loading.

Each plugin registers the formats of its family (``register_importers``); this module is the one way
in used by ``zoo convert``, ``from_pretrained`` (a folder or repo in another format is converted on the
fly) and ``zoo train NAME --init SRC``. Nothing a file names is imported or called, and pickles are
read only with ``torch.load(weights_only=True)``.

Conversions made on the fly are cached beside the Hub cache: a downloaded snapshot
``models--OWNER--NAME/snapshots/COMMIT`` converts into ``models--OWNER--NAME/zoo/COMMIT``; a local
folder into ``zoo-converted/<hash of its path, file sizes and times>`` under the Hub cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .errors import ZooError, first_line
from .registry import ImporterSpec, load_object


def _importers() -> dict[str, ImporterSpec]:
    from .plugins import registry

    return {spec.name: spec for spec in registry().specs("importer")}


def detect(path: Path) -> ImporterSpec | None:
    """The importer whose ``detect`` recognises ``path`` (a file or folder), or None."""
    for spec in _importers().values():
        try:
            if load_object(spec.detect)(Path(path)):
                return spec
        except ZooError:
            raise
        except Exception:  # noqa: BLE001 - a detector that cannot read the path does not claim it
            continue
    return None


def importer(format: str) -> ImporterSpec:
    """The importer named ``format`` (did-you-mean on a typo, listing the installed formats)."""
    from .registry import find

    return find(_importers(), "format", format)


def _cache_dir(path: Path) -> Path:
    """Where the on-the-fly conversion of ``path`` lives (see the module docstring)."""
    from huggingface_hub import constants

    path = path.resolve()
    if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
        return path.parent.parent / "zoo" / path.name
    stamp = hashlib.sha256(str(path).encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        st = file.stat()
        stamp.update(f"{file.relative_to(path.parent)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return Path(constants.HF_HUB_CACHE) / "zoo-converted" / stamp.hexdigest()[:24]


def _is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def as_zoo_model(path: Path) -> Path | None:
    """A zoo saved model converted from the foreign-format folder ``path``, or None if no importer knows it.

    The conversion is cached (see the module docstring), so loading the same folder again is a read.
    """
    spec = detect(path)
    if spec is None:
        return None
    out = _cache_dir(path)
    if not _is_converted(out):
        _run(spec, Path(path), out, {})
    return out


def _run(spec: ImporterSpec, src: Path, out: Path, options: dict[str, Any]) -> Path:
    """Run an importer on a stranger's files: a value it cannot use (a string where a width belongs, a zero
    head size) is one line naming the source and the format, not the importer's traceback."""
    fn = load_object(spec.convert)
    try:
        return Path(fn(src, Path(out), **options))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError) as exc:
        raise ZooError(f"{src} could not be converted as {spec.name}: it holds a value that format does not "
                       f"({type(exc).__name__}: {first_line(exc)[:160]})") from None


def _local_source(src: str | Path) -> Path:
    """``src`` as a local path: itself, or the snapshot of a Hub repo id with every file an importer reads."""
    from .hub import REPO_ID

    path = Path(src).expanduser()
    if path.exists():
        return path
    if not REPO_ID.match(str(src)):
        raise ZooError(f"{src} does not exist (expected a file, a folder or a Hub repo id)")
    from .hub import download

    return download(str(src), raw=True)


def convert(src: str | Path, out: str | Path | None = None, format: str | None = None, push: str | None = None,
            **options: Any) -> Path:
    """Convert ``src`` (a file, folder or repo id in a published format) into a zoo saved model at ``out``.

    ``format`` names the importer when the file cannot tell (``zoo convert --format``); ``options`` go to
    it (e.g. an improved-diffusion checkpoint's model flags). With ``push``, the result is also uploaded to
    that Hub repo. Without ``out`` the model is written to the conversion cache. Returns the folder.
    """
    path = _local_source(src)
    spec = importer(format) if format else detect(path)
    if spec is None:
        known = ", ".join(sorted(_importers())) or "none installed"
        raise ZooError(f"cannot tell the format of {src}; pass --format (installed formats: {known})")
    target = Path(out).expanduser() if out is not None else _cache_dir(path)
    folder = _run(spec, path, target, options)
    if push:
        from .hub import push_to_hub

        push_to_hub(folder, push)
    return folder


def load_init(model, src: str) -> None:
    """Load the weights of ``src`` (any source ``from_pretrained`` accepts) into ``model`` for fine-tuning.

    Names and shapes are checked before anything is copied; a mismatch names the first differing
    tensor and suggests building the model with the source's config.
    """
    from safetensors import safe_open

    from .hub import read_config, resolve
    from .importing import check_state, read_tensors

    directory = resolve(src)
    spec, record = read_config(directory)
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ZooError(f"--init {src}: {directory} has no model.safetensors")
    with safe_open(str(weights), framework="pt") as f:
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    try:
        check_state(expected, shapes, f"--init {src}")
    except ZooError as exc:
        raise ZooError(f"{exc} (it is a {spec.name} model; train with its config, e.g. the same model name and "
                       "architecture options, to fine-tune it)") from None
    model.load_state_dict(dict(read_tensors(weights)), strict=True)


def init_config(spec_name: str, src: str) -> dict[str, Any] | None:
    """The model config of ``--init SRC`` when it is a ``spec_name`` model (a layer under the command line)."""
    from .hub import read_config, resolve

    directory = resolve(src)
    spec, record = read_config(directory)
    return dict(record.get("config", {})) if spec.name == spec_name else None
