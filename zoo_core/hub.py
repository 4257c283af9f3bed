"""The one weight format: save_pretrained / from_pretrained, on safetensors and huggingface_hub.

A saved model is a folder (or a Hub repo with the same files)::

    config.json          {"zoo_model": "ddpm", "zoo_format": 1, "distribution": "zoo-ddpm", "config": {...}}
    model.safetensors    the weights to sample with (EMA weights where the family keeps them)
    <part>.safetensors   further named components (a GAN's discriminator, ...)
    README.md            model card

Weights are read with safetensors only; nothing in a folder or repo is ever unpickled or executed.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import config as config_mod
from .errors import PluginMissingError, ZooError

FORMAT = 1
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
WEIGHT_PATTERNS = ["config.json", "*.safetensors", "README.md", "*.png"]  # all zoo ever downloads
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def save_pretrained(model, directory: str | Path, components: dict[str, Any] | None = None,
                    card: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and named extra ``components``: modules) in the zoo format.

    Args:
        model: a zoo model (anything with ``zoo_name``, ``config`` and a ``state_dict``).
        directory: the folder to write (created if needed).
        components: extra named modules saved as ``<name>.safetensors`` (a GAN's discriminator).
        card: model-card options (dataset, metrics, ...) for README.md.

    Returns:
        The folder, as a ``Path``.

    Example:
        >>> import tempfile
        >>> from zoo_core import create_model, save_pretrained
        >>> folder = save_pretrained(create_model("dcgan", res=16, channels=4), tempfile.mkdtemp())
        >>> (folder / "model.safetensors").is_file()
        True
    """
    from safetensors.torch import save_model

    from .plugins import registry

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = registry().lookup("model", model.zoo_name)
    files = {"model": "model.safetensors"}
    save_model(model, str(directory / "model.safetensors"), metadata={"format": "pt"})
    for name, module in (components or {}).items():
        files[name] = f"{name}.safetensors"
        save_model(module, str(directory / files[name]), metadata={"format": "pt"})
    record = {
        "zoo_model": model.zoo_name,
        "zoo_format": FORMAT,
        "distribution": spec.distribution if spec else "",
        "version": spec.version if spec else "",
        "config": config_mod.to_dict(model.config),
        "files": files,
    }
    (directory / "config.json").write_text(json.dumps(record, indent=2) + "\n")
    from .card import write_card

    write_card(directory, record, spec, **(card or {}))
    return directory


def _is_saved_model(path: Path) -> bool:
    """A zoo saved model: config.json with ``zoo_format`` (a run folder's own config.json has none)."""
    cfg = path / "config.json"
    if not cfg.is_file():
        return False
    try:
        record = json.loads(cfg.read_text())
    except (OSError, ValueError):
        return not (path / "final").is_dir()  # let read_config report the broken file
    return isinstance(record, dict) and "zoo_model" in record and "zoo_format" in record


def _pickle_error(where: str, names: list[str]) -> ZooError | None:
    """The error for a folder or repo whose weights are pickles only (which zoo never loads)."""
    pickles = sorted(n for n in names if n.lower().endswith(PICKLE_SUFFIXES))
    if not pickles or any(n.endswith(".safetensors") for n in names):
        return None
    return ZooError(f"{where} holds only pickle weights ({', '.join(pickles[:3])}); zoo reads safetensors only and "
                    "never unpickles files (a pickle can run code): ask its author for model.safetensors")


def _local(path: Path) -> Path:
    """The saved-model folder of a local folder: itself, or a run folder's ``final/``."""
    if _is_saved_model(path):
        return path
    if _is_saved_model(path / "final"):
        return path / "final"
    from .convert import as_zoo_model

    converted = as_zoo_model(path)
    if converted is not None:
        return converted
    names = [p.name for p in path.iterdir() if p.is_file()]
    error = _pickle_error(str(path), names)
    if error:
        raise error
    if "config.json" in names and '"zoo_model"' in (path / "config.json").read_text(errors="replace"):
        raise ZooError(f"{path} is a training run that has not finished (no final/): resume it, or point at a "
                       "saved-model folder")
    raise ZooError(f"{path} is neither a saved model (no zoo config.json) nor a finished run (no final/)")


def resolve(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
            token: str | None = None, local_files_only: bool = False) -> Path:
    """A local saved-model folder for ``src``: a folder, a run folder, or a Hub repo id (see zoo_core.sources)."""
    from .sources import classify

    kind, where = classify(src)
    if kind == "local":
        return _local(Path(where))
    return download(str(where), revision, cache_dir, token, local_files_only)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _network_errors() -> tuple[type[BaseException], ...]:
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


def _repo_files(repo_id: str, revision: str | None, cache_dir: str | None, token: str | None,
                local_files_only: bool) -> list[str]:
    """File names of a repo (the cached listing, else the Hub's), to explain what it lacks; [] if unknown."""
    try:
        from huggingface_hub import get_cached_repo_tree

        return [f.path for f in get_cached_repo_tree(repo_id, revision=revision, cache_dir=cache_dir)]
    except Exception:
        pass
    if local_files_only:
        return []
    try:
        from huggingface_hub import HfApi

        return HfApi(token=token).list_repo_files(repo_id, revision=revision)
    except Exception:
        return []


def download(repo_id: str, revision: str | None = None, cache_dir: str | None = None, token: str | None = None,
             local_files_only: bool = False) -> Path:
    """Download (or find in the Hub cache) the zoo files of a Hub repo; only ``WEIGHT_PATTERNS`` are fetched.

    The cache, endpoint, token and offline mode are huggingface_hub's own: ``HF_HOME`` /
    ``HF_HUB_CACHE``, ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` apply as usual.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub import errors as hf_errors

    incomplete = getattr(hf_errors, "IncompleteSnapshotError", ())
    at = f" (revision {revision!r})" if revision else ""
    try:
        folder = Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, token=token,
                                        local_files_only=local_files_only, allow_patterns=WEIGHT_PATTERNS))
    except hf_errors.RepositoryNotFoundError:
        raise ZooError(f"no model repository {repo_id!r} on the Hub at {constants.ENDPOINT} "
                       "(or it is private: set HF_TOKEN or run `hf auth login`)") from None
    except hf_errors.RevisionNotFoundError:
        raise ZooError(f"repository {repo_id!r} has no revision {revision!r}") from None
    except incomplete:
        raise ZooError(f"the cached copy of {repo_id!r}{at} is incomplete and the Hub cannot be reached; "
                       f"run `zoo pull {repo_id}` while online") from None
    except hf_errors.LocalEntryNotFoundError:
        cache = cache_dir or constants.HF_HUB_CACHE
        why = ("HF_HUB_OFFLINE is set" if constants.is_offline_mode() else
               "local_files_only was asked for" if local_files_only else
               f"the Hub at {constants.ENDPOINT} cannot be reached")
        raise ZooError(f"{repo_id!r}{at} is not in the local cache ({cache}) and {why}; run `zoo pull {repo_id}` "
                       "while online, or pass a local folder") from None
    except (hf_errors.HfHubHTTPError, OSError, ValueError) as exc:
        raise ZooError(f"could not download {repo_id!r}{at}: {_first_line(exc)}") from None
    except _network_errors() as exc:
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({_first_line(exc)})") from None
    if not (folder / "config.json").is_file():
        names = _repo_files(repo_id, revision, cache_dir, token, local_files_only)
        where = f"repository {repo_id!r}{at}"
        raise _pickle_error(where, names) or ZooError(
            f"{where} is not a zoo model (no config.json"
            + (f"; it holds {', '.join(sorted(names)[:5])}" if names else "") + ")")
    return folder


def pull(repo_id: str, revision: str | None = None, out: str | Path | None = None, token: str | None = None) -> Path:
    """Download a Hub model into the Hub cache (for offline use) and, with ``out``, copy its files there."""
    if not REPO_ID.match(repo_id):
        raise ZooError(f"{repo_id!r} is not a Hub repo id (expected 'owner/name')")
    folder = download(repo_id, revision, token=token)
    if out is None:
        return folder
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {out} exists and is not a folder")
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            dest = out / file.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)  # follows the cache's symlinks: real files in OUT
    return out


def _push_files(folder: Path) -> list[str]:
    """Files of a saved model to upload: all but hidden paths and pickles (zoo never publishes those)."""
    files = []
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder)
        if file.is_file() and not any(part.startswith(".") for part in rel.parts) \
                and not file.name.lower().endswith(PICKLE_SUFFIXES):
            files.append(rel.as_posix())
    return files


def push_to_hub(src_or_model, repo_id: str, private: bool = False, token: str | None = None,
                commit_message: str | None = None, revision: str | None = None,
                card: dict[str, Any] | None = None):
    """Publish a saved model to the Hub in one commit.

    The repo is created if needed (``private`` applies only then).

    Args:
        src_or_model: a saved-model folder, a run folder (its ``final/`` is pushed) or a model object
            (saved to a temporary folder first, with ``card`` options).
        repo_id: ``"owner/name"``.
        private: create the repo private.
        token: a Hub token with write access (default: ``HF_TOKEN`` / the saved login).
        commit_message: the commit's message.
        revision: a branch, created from main if missing.
        card: model-card options when pushing a model object.

    Returns:
        huggingface_hub's ``CommitInfo``.

    Example:
        >>> push_to_hub("runs/ddpm-shapes", "me/ddpm-shapes")  # doctest: +SKIP
    """
    if not isinstance(repo_id, str) or not REPO_ID.match(repo_id):
        raise ZooError(f"--repo expects a Hub repo id like 'you/name', got {repo_id!r}")
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        if isinstance(src_or_model, (str, Path)):
            path = Path(src_or_model).expanduser()
            if not path.is_dir():
                raise ZooError(f"{src_or_model} is not a folder (push a saved-model folder or a run folder)")
            folder = _local(path)
        elif hasattr(src_or_model, "zoo_name") and hasattr(src_or_model, "state_dict"):
            folder = save_pretrained(src_or_model, tmp, card=card)
        else:
            raise ZooError(f"cannot push {type(src_or_model).__name__}: expected a folder or a zoo model")
        return _upload(folder, repo_id, private, token, commit_message, revision)


def _upload(folder: Path, repo_id: str, private: bool, token: str | None, commit_message: str | None,
            revision: str | None):
    from huggingface_hub import CommitOperationAdd, HfApi, constants
    from huggingface_hub import errors as hf_errors

    record = json.loads((folder / "config.json").read_text())
    if not (folder / "model.safetensors").is_file():
        raise ZooError(f"{folder} has no model.safetensors: nothing to push")
    files = _push_files(folder)
    api = HfApi(token=token)  # built now: endpoint and token follow HF_ENDPOINT / HF_TOKEN
    message = commit_message or f"Upload {record.get('zoo_model', 'model')} with zoo"
    try:
        api.create_repo(repo_id, private=private or None, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        ops = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel)) for rel in files]
        return api.create_commit(repo_id, operations=ops, commit_message=message, revision=revision)
    except hf_errors.OfflineModeIsEnabled:
        raise ZooError("cannot push while HF_HUB_OFFLINE is set; unset it to reach the Hub") from None
    except hf_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403) or isinstance(exc, hf_errors.RepositoryNotFoundError):
            raise ZooError(f"not allowed to write to {repo_id!r} at {constants.ENDPOINT}: set HF_TOKEN or run "
                           "`hf auth login` with a token that has write access") from None
        raise ZooError(f"could not push to {repo_id!r}: {_first_line(exc)}") from None
    except (OSError, ValueError) as exc:
        raise ZooError(f"could not push to {repo_id!r}: {_first_line(exc)}") from None
    except _network_errors() as exc:
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({_first_line(exc)})") from None


def read_config(directory: Path) -> tuple[Any, dict]:
    """Validate config.json and return (model spec, record); a missing plugin is a clear error."""
    from .plugins import registry

    try:
        record = json.loads((directory / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ZooError(f"{directory}/config.json is missing or not valid JSON ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("zoo_model"), str):
        raise ZooError(f"{directory}/config.json is not a zoo model config (no zoo_model)")
    fmt = record.get("zoo_format")
    if not isinstance(fmt, int) or fmt < 1:
        raise ZooError(f"{directory}/config.json has an invalid zoo_format {fmt!r}")
    if fmt > FORMAT:
        raise ZooError(f"{directory} uses zoo format {fmt}, newer than this zoo-core understands ({FORMAT}); "
                       "upgrade: pip install -U zoo-core")
    name = record["zoo_model"]
    spec = registry().lookup("model", name)
    if spec is None:
        dist = record.get("distribution") or f"the plugin that provides {name!r}"
        if isinstance(dist, str) and dist.startswith("zoo-") and dist.replace("-", "").isalnum():
            raise PluginMissingError(f"this model needs {dist}: pip install {dist}")
        raise PluginMissingError(f"this model needs {dist}, which is not installed")
    if not isinstance(record.get("config", {}), dict):
        raise ZooError(f"{directory}/config.json: 'config' must be an object")
    return spec, record


def build_model(spec, values: dict, device=None):
    cfg = config_mod.build(spec.load_config_class(), values, source="config.json")
    model = spec.load_model_class()(cfg)
    return model.to(device) if device is not None else model


def from_pretrained(src: str | Path, *, device: Any = None, torch_dtype: Any = None, revision: str | None = None,
                    cache_dir: str | None = None, local_files_only: bool = False, token: str | None = None) -> Any:
    """Load a saved model from a folder, a run folder or a Hub repo id, ready to ``generate``.

    Args:
        src: a saved-model folder, a run folder (its ``final/``), a Hub repo id ``"owner/name"``
            (or ``"hf://owner/name"``).
        device: ``"auto"`` (default: cuda > mps > cpu), ``"cpu"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``.
        torch_dtype: a floating dtype such as ``torch.bfloat16`` to cast the weights to; ``generate``
            honours it (noise stays float32).
        revision: a Hub branch, tag or commit.
        cache_dir: the Hub cache folder (default: huggingface_hub's).
        local_files_only: use the Hub cache only, never the network.
        token: a Hub token for private repos (default: ``HF_TOKEN`` / the saved login).

    Returns:
        The model (a ``torch.nn.Module`` of the family's class), in eval mode.

    Example:
        >>> import tempfile, torch
        >>> from zoo_core import create_model, from_pretrained
        >>> folder = create_model("dcgan", res=16, z_dim=4, channels=4).save_pretrained(
        ...     tempfile.mkdtemp())
        >>> model = from_pretrained(folder, device="cpu", torch_dtype=torch.bfloat16)
        >>> model.dtype, model.generate(2, seed=0).dtype
        (torch.bfloat16, torch.float32)
    """
    from .device import pick_device
    from .modeling import check_dtype

    dtype = check_dtype(torch_dtype)
    directory = resolve(src, revision, cache_dir, token, local_files_only)
    spec, record = read_config(directory)
    dev = pick_device(device or "auto") if isinstance(device, (str, type(None))) else device
    model = build_model(spec, record.get("config", {}))
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ZooError(f"{directory} has no model.safetensors (zoo loads safetensors weights only and never "
                       "unpickles .bin/.pt files)")
    _load_weights(model, weights, f"the {spec.name} config")
    model = model.to(dev) if dtype is None else model.to(device=dev, dtype=dtype)
    return model.eval()


def _load_weights(module, path: Path, what: str) -> None:
    """safetensors into ``module`` (strict); a damaged or mismatched file is a one-line ZooError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    try:
        load_model(module, str(path), strict=True)
    except SafetensorError as exc:
        raise ZooError(f"{path} is not a valid safetensors file ({_first_line(exc)})") from None
    except RuntimeError as exc:
        raise ZooError(f"weights in {path} do not match {what}: {_first_line(exc)}") from None


def load_component(src: str | Path, name: str, module) -> Any:
    """Load a named extra component (e.g. ``"discriminator"``) of a saved model into ``module``."""
    directory = resolve(src)
    path = directory / f"{name}.safetensors"
    if not path.is_file():
        raise ZooError(f"{directory} has no component {name!r}")
    _load_weights(module, path, f"the module given for {name!r}")
    return module
