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
from .trust import shown

FORMAT = 1
PLUGIN_NAME = re.compile(r"zoo-[a-z0-9]+(?:-[a-z0-9]+)*")  # the only package names a hint may show
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# all zoo ever downloads: its own files, and the JSON configs importers read (diffusers layouts)
WEIGHT_PATTERNS = ["config.json", "*.safetensors", "README.md", "*.png", "model_index.json", "*config.json"]
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def save_pretrained(model, directory: str | Path, components: dict[str, Any] | None = None,
                    card: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and named extra ``components``: modules) in the zoo format."""
    from safetensors.torch import save_model

    from .plugins import registry

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = registry().tables["model"].get(model.zoo_name)
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


MAX_CONFIG_BYTES = 16 << 20  # a config.json is options and a vocabulary, never this big


def read_json(path: Path) -> Any:
    """A saved model's config.json, its size checked before reading; any damage is a one-line ZooError."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ZooError(f"{path} is {size >> 20} MB; a zoo config.json is at most {MAX_CONFIG_BYTES >> 20} MB")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError covers JSON and UTF-8 errors
        raise ZooError(f"{path} is missing or not valid JSON ({_first_line(exc)[:120]})") from None


def _is_saved_model(path: Path) -> bool:
    """A zoo saved model: config.json with ``zoo_format`` (a run folder's own config.json has none)."""
    cfg = path / "config.json"
    if not cfg.is_file():
        return False
    try:
        record = read_json(cfg)
    except ZooError:
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
    if "config.json" in names and b'"zoo_model"' in (path / "config.json").open("rb").read(1 << 20):
        raise ZooError(f"{path} is a training run that has not finished (no final/): resume it, or point at a "
                       "saved-model folder")
    raise ZooError(f"{path} is neither a saved model (no zoo config.json) nor a finished run (no final/)")


def resolve(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
            token: str | None = None, local_files_only: bool = False) -> Path:
    """A local saved-model folder for ``src``: a folder, a run folder, or a Hub repo id."""
    path = Path(src).expanduser()
    if path.is_dir():
        return _local(path)
    if path.is_file():  # a published checkpoint file an importer recognises (e.g. improved-diffusion's .pt)
        from .convert import as_zoo_model

        converted = as_zoo_model(path)
        if converted is not None:
            return converted
        raise ZooError(f"{src} is a file zoo cannot load directly; try `zoo convert {src} --out DIR --format ...`")
    if not REPO_ID.match(str(src)):
        raise ZooError(f"{src} does not exist (expected a run folder, a saved-model folder or a repo id)")
    return download(str(src), revision, cache_dir, token, local_files_only)


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
             local_files_only: bool = False, raw: bool = False) -> Path:
    """Download (or find in the Hub cache) the zoo files of a Hub repo; only ``WEIGHT_PATTERNS`` are fetched.

    A repo in a published format an importer knows (diffusers) is converted on the fly and the cached
    conversion returned (zoo_core.convert); ``raw=True`` returns the snapshot as downloaded.

    The cache, endpoint, token and offline mode are huggingface_hub's own: ``HF_HOME`` /
    ``HF_HUB_CACHE``, ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` apply as usual; every request
    waits at most ``ZOO_HUB_TIMEOUT`` seconds. The Hub is asked first: a 401/403/404 answer is an
    error, while a server error or no answer falls back to the cache with a :class:`CacheFallback` note.
    """
    import warnings

    from huggingface_hub import HfApi, constants

    from .hub_network import CacheFallback, bounded

    at = f" (revision {revision!r})" if revision else ""
    offline = local_files_only or constants.is_offline_mode()
    with bounded() as limit:
        problem = None if offline else _ask_hub(HfApi(token=token), repo_id, revision, limit)
        cached_only = offline or problem is not None
        folder = _snapshot(repo_id, revision, cache_dir, token, cached_only, problem, at, WEIGHT_PATTERNS)
        converted = None
        if not _is_saved_model(folder):
            from .convert import as_zoo_model, detect

            if detect(folder) is not None and not any(folder.rglob("*.safetensors")):
                # published repos with pickled weights only (e.g. google/ddpm-ema-*): importers read them with
                # torch.load(weights_only=True), never executing anything
                folder = _snapshot(repo_id, revision, cache_dir, token, cached_only, problem, at,
                                   WEIGHT_PATTERNS + ["*.bin"])
            converted = None if raw else as_zoo_model(folder)
        if converted is None and not raw and not (folder / "config.json").is_file():
            names = _repo_files(repo_id, revision, cache_dir, token, cached_only)
            where = f"repository {repo_id!r}{at}"
            raise _pickle_error(where, names) or ZooError(
                f"{where} is not a zoo model (no config.json"
                + (f"; it holds {', '.join(sorted(names)[:5])}" if names else "") + ")")
    if problem is not None:
        warnings.warn(CacheFallback(f"{repo_id}{at} was served from the local cache: {problem}"), stacklevel=2)
    return converted if converted is not None else folder


def _ask_hub(api, repo_id: str, revision: str | None, limit: float) -> ZooError | None:
    """Ask the Hub about the repo: an authoritative refusal raises; no answer or a 5xx is returned."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hf_errors

    from .hub_network import http_error, status_of, timed_out

    try:
        api.model_info(repo_id, revision=revision, timeout=limit)
    except hf_errors.RevisionNotFoundError:
        raise ZooError(f"repository {repo_id!r} has no revision {revision!r}") from None
    except hf_errors.HfHubHTTPError as exc:
        error = http_error(exc, repo_id, constants.ENDPOINT)
        if error is None or (status_of(exc) or 0) < 500:
            raise (error or ZooError(f"could not download {repo_id!r}: {_first_line(exc)}")) from None
        return error
    except _network_errors() as exc:
        if timed_out(exc):
            return ZooError(f"the Hub at {constants.ENDPOINT} did not answer within {limit:g} s (ZOO_HUB_TIMEOUT)")
        return ZooError(f"the Hub at {constants.ENDPOINT} cannot be reached ({_first_line(exc)})")
    return None


def _snapshot(repo_id: str, revision: str | None, cache_dir: str | None, token: str | None, cached_only: bool,
              problem: ZooError | None, at: str, patterns: list[str]) -> Path:
    """``snapshot_download`` of ``patterns``; every failure is a one-line ZooError saying what to do."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub import errors as hf_errors

    from .hub_network import http_error, timeout

    incomplete = getattr(hf_errors, "IncompleteSnapshotError", ())
    try:
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, token=token,
                                      local_files_only=cached_only, allow_patterns=patterns,
                                      etag_timeout=timeout()))
    except hf_errors.RevisionNotFoundError:
        raise ZooError(f"repository {repo_id!r} has no revision {revision!r}") from None
    except incomplete:
        raise ZooError(f"the cached copy of {repo_id!r}{at} is incomplete and the Hub cannot be reached; "
                       f"run `zoo pull {repo_id}` while online") from None
    except hf_errors.LocalEntryNotFoundError:
        cache = cache_dir or constants.HF_HUB_CACHE
        why = ("HF_HUB_OFFLINE is set" if constants.is_offline_mode() else
               "local_files_only was asked for" if problem is None else str(problem))
        raise ZooError(f"{repo_id!r}{at} is not in the local cache ({cache}) and {why}; run `zoo pull {repo_id}` "
                       "while online, or pass a local folder") from None
    except hf_errors.HfHubHTTPError as exc:
        raise (http_error(exc, repo_id, constants.ENDPOINT)
               or ZooError(f"could not download {repo_id!r}{at}: {_first_line(exc)}")) from None
    except (OSError, ValueError) as exc:
        raise ZooError(f"could not download {repo_id!r}{at}: {_first_line(exc)}") from None
    except _network_errors() as exc:
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({_first_line(exc)})") from None


def pull(repo_id: str, revision: str | None = None, out: str | Path | None = None, token: str | None = None,
         force: bool = False) -> Path:
    """Download a Hub model into the Hub cache (for offline use) and, with ``out``, copy its files there.

    ``out`` must be absent or empty unless ``force``; only the files a loader reads are copied, each
    written to a fresh temporary file and renamed into place (a link in ``out`` is replaced, never
    written through).
    """
    if not REPO_ID.match(repo_id):
        raise ZooError(f"{shown(repo_id)} is not a Hub repo id (expected 'owner/name')")
    if out is not None:
        out = Path(out).expanduser()
        if out.is_symlink() or (out.exists() and not out.is_dir()):
            raise ZooError(f"--out {out} exists and is not a folder")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise ZooError(f"--out {out} is not empty: pull into a new or empty folder, or pass --force to replace "
                           "the model files in it")
    folder = download(repo_id, revision, token=token)
    if out is None:
        return folder
    out.mkdir(parents=True, exist_ok=True)
    for file in sorted(folder.iterdir()):
        if file.is_file() and (file.name in ("config.json", "README.md") or file.name.endswith(PULLED)):
            _copy_into(file, out)
    return out


PULLED = (".safetensors", ".png")


def _copy_into(file: Path, out: Path) -> None:
    """Copy ``file`` to ``out/<name>`` through a new temporary file and a rename: never through a link."""
    import os

    fd, tmp = tempfile.mkstemp(prefix=".zoo-pull-", dir=out)
    try:
        with os.fdopen(fd, "wb") as dst, open(file, "rb") as src:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, out / file.name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def push_to_hub(src_or_model, repo_id: str, private: bool = False, token: str | None = None,
                commit_message: str | None = None, revision: str | None = None,
                card: dict[str, Any] | None = None, license: str | None = None):
    """Publish a saved model to the Hub in one commit; returns huggingface_hub's ``CommitInfo``.

    ``src_or_model`` is a saved-model folder, a run folder (its ``final/`` is pushed) or a model
    object (saved to a temporary folder first, with ``card`` options). The repo is created if needed
    (``private`` applies only then); ``revision`` names a branch, created from main if missing. Only the
    allow-list of :mod:`zoo_core.publish` is uploaded, with local paths cut; ``license`` goes into the card.
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
        return _upload(folder, repo_id, private, token, commit_message, revision, license)


def _upload(folder: Path, repo_id: str, private: bool, token: str | None, commit_message: str | None,
            revision: str | None, license: str | None = None):
    from huggingface_hub import CommitOperationAdd, HfApi, constants
    from huggingface_hub import errors as hf_errors

    record = read_json(folder / "config.json")
    if not (folder / "model.safetensors").is_file():
        raise ZooError(f"{folder} has no model.safetensors: nothing to push")
    from .hub_network import bounded, http_error, status_of, timed_out, timeout
    from .publish import upload_payload

    payload = upload_payload(folder, record, repo_id, license)
    api = HfApi(token=token)  # built now: endpoint and token follow HF_ENDPOINT / HF_TOKEN
    message = commit_message or f"Upload {record.get('zoo_model', 'model')} with zoo"
    try:
        with bounded():
            api.create_repo(repo_id, private=private or None, exist_ok=True)
            if revision and revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            ops = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=data) for rel, data in payload.items()]
            return api.create_commit(repo_id, operations=ops, commit_message=message, revision=revision)
    except hf_errors.OfflineModeIsEnabled:
        raise ZooError("cannot push while HF_HUB_OFFLINE is set; unset it to reach the Hub") from None
    except hf_errors.HfHubHTTPError as exc:
        if isinstance(exc, hf_errors.RepositoryNotFoundError) and status_of(exc) in (None, 404):
            raise ZooError(f"not allowed to write to {repo_id!r} at {constants.ENDPOINT}: set HF_TOKEN or run "
                           "`hf auth login` with a token that has write access") from None
        raise (http_error(exc, repo_id, constants.ENDPOINT, writing=True)
               or ZooError(f"could not push to {repo_id!r}: {_first_line(exc)}")) from None
    except (OSError, ValueError) as exc:
        raise ZooError(f"could not push to {repo_id!r}: {_first_line(exc)}") from None
    except _network_errors() as exc:
        if timed_out(exc):
            raise ZooError(f"the Hub at {constants.ENDPOINT} did not answer within {timeout():g} s "
                           "(ZOO_HUB_TIMEOUT); nothing was pushed") from None
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({_first_line(exc)})") from None


def read_config(directory: Path) -> tuple[Any, dict]:
    """Validate config.json and return (model spec, record); a missing plugin is a clear error."""
    from .plugins import registry

    record = read_json(directory / "config.json")
    if not isinstance(record, dict) or not isinstance(record.get("zoo_model"), str):
        raise ZooError(f"{directory}/config.json is not a zoo model config (no zoo_model)")
    fmt = record.get("zoo_format")
    if not isinstance(fmt, int) or fmt < 1:
        raise ZooError(f"{directory}/config.json has an invalid zoo_format {shown(fmt)}")
    if fmt > FORMAT:
        raise ZooError(f"{directory} uses zoo format {fmt}, newer than this zoo-core understands ({FORMAT}); "
                       "upgrade: pip install -U zoo-core")
    name = record["zoo_model"]
    table = registry().tables["model"]
    if name not in table:
        dist = record.get("distribution")
        if isinstance(dist, str) and PLUGIN_NAME.fullmatch(dist):
            raise PluginMissingError(f"this model needs {dist}: pip install {dist}")
        raise PluginMissingError(f"this model needs the plugin that provides model {shown(name)}, which is not "
                                 "installed (see `zoo list` for the installed models)")
    if not isinstance(record.get("config", {}), dict):
        raise ZooError(f"{directory}/config.json: 'config' must be an object")
    return table[name], record


def build_model(spec, values: dict, device=None):
    """An untrained model from a config dict (validated like command-line options)."""
    cfg = config_mod.build(spec.load_config_class(), values, source="config.json")
    model = spec.load_model_class()(cfg)
    return model.to(device) if device is not None else model


def from_pretrained(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
                    token: str | None = None, local_files_only: bool = False, device=None,
                    trust_code: bool = False):
    """Load a saved model from a folder, a run folder or a Hub repo id, ready to ``generate``.

    Nothing the folder names is imported unless ``trust_code=True`` (see :mod:`zoo_core.trust`); the
    model is built on the meta device and checked against the weights' header before any allocation.
    """
    import copy

    from .device import pick_device
    from .safeload import load_checked
    from .trust import loading

    directory = resolve(src, revision, cache_dir, token, local_files_only)
    spec, record = read_config(directory)
    dev = pick_device(device or "auto") if isinstance(device, (str, type(None))) else device
    cfg = config_mod.build(spec.load_config_class(), record.get("config", {}), source="config.json")
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ZooError(f"{directory} has no model.safetensors (zoo loads safetensors weights only and never "
                       "unpickles .bin/.pt files)")
    cls = spec.load_model_class()
    with loading(str(src), trust_code):
        model = load_checked(lambda: cls(copy.deepcopy(cfg)), weights, f"the {spec.name} config")
    return model.to(dev).eval()


def _load_weights(module, path: Path, what: str) -> None:
    """safetensors into ``module`` (strict), shapes checked from the header first; errors are one line."""
    from safetensors.torch import load_file

    from .safeload import check_shapes, header_shapes

    found = header_shapes(path)
    check_shapes({k: tuple(v.shape) for k, v in module.state_dict().items()}, found, path, what)
    module.load_state_dict(load_file(str(path)), strict=True)


def load_component(src: str | Path, name: str, module) -> Any:
    """Load a named extra component (e.g. ``"discriminator"``) of a saved model into ``module``."""
    directory = resolve(src)
    path = directory / f"{name}.safetensors"
    if not path.is_file():
        raise ZooError(f"{directory} has no component {name!r}")
    _load_weights(module, path, f"the module given for {name!r}")
    return module
