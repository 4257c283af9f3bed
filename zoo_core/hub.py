"""The one weight format: save_pretrained / from_pretrained, on safetensors and huggingface_hub.

A saved model is a folder (or a Hub repo with the same files)::

    config.json          {"zoo_model": "ddpm", "zoo_format": 1, "distribution": "zoo-ddpm", "config": {...}}
    model.safetensors    the weights to sample with (EMA weights where the family keeps them)
    <part>.safetensors   further named components (a GAN's discriminator, ...)
    README.md            model card

Weights are read with safetensors only; nothing in a folder or repo is ever unpickled or executed.
Fetching from the Hub is :mod:`zoo_core.hub_download` (``download`` and ``pull`` are importable from here
too), its network behaviour :mod:`zoo_core.hub_network`; a run folder's ``final/`` is found through
:class:`zoo_core.runs.Run`.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from . import config as config_mod
from .errors import PluginMissingError, ZooError, first_line
from .hub_download import download, pull  # noqa: F401 - part of this module's API
from .hub_network import bounded, http_error, network_errors, status_of, timed_out, timeout
from .runs import Run
from .sources import REPO_ID
from .trust import parse_json, shown

FORMAT = 1
PLUGIN_NAME = re.compile(r"zoo-[a-z0-9]+(?:-[a-z0-9]+)*")  # the only package names a hint may show
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
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(f"cannot save the model to {directory} ({exc.strerror or exc}): give a new or empty "
                       "folder") from None
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


MAX_CONFIG_BYTES = 16 << 20  # a config.json is options and a vocabulary, never this big


def read_json(path: Path) -> Any:
    """A saved model's config.json, its size checked before reading; any damage is a one-line ZooError."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ZooError(f"{path} is {size >> 20} MB; a zoo config.json is at most {MAX_CONFIG_BYTES >> 20} MB")
        return parse_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError covers JSON and UTF-8 errors
        raise ZooError(f"{path} is missing or not valid JSON ({first_line(exc)[:120]})") from None


def is_saved_model(path: Path) -> bool:
    """A zoo saved model: config.json with ``zoo_format`` (a run folder's own config.json has none)."""
    cfg = path / "config.json"
    if not cfg.is_file():
        return False
    try:
        record = read_json(cfg)
    except ZooError:
        return not Run(path).final.is_dir()  # let read_config report the broken file
    return isinstance(record, dict) and "zoo_model" in record and "zoo_format" in record


def pickle_error(where: str, names: list[str]) -> ZooError | None:
    """The error for a folder or repo whose weights are pickles only (which zoo never loads)."""
    pickles = sorted(n for n in names if n.lower().endswith(PICKLE_SUFFIXES))
    if not pickles or any(n.endswith(".safetensors") for n in names):
        return None
    return ZooError(f"{where} holds only pickle weights ({', '.join(pickles[:3])}); zoo reads safetensors only and "
                    "never unpickles files (a pickle can run code): ask its author for model.safetensors")


def _local(path: Path) -> Path:
    """The saved-model folder of a local folder: itself, or a run folder's ``final/``."""
    run = Run(path)
    if is_saved_model(path):
        return path
    if is_saved_model(run.final):
        return run.final
    from .convert import as_zoo_model

    converted = as_zoo_model(path)
    if converted is not None:
        return converted
    names = [p.name for p in path.iterdir() if p.is_file()]
    error = pickle_error(str(path), names)
    if error:
        raise error
    try:
        name = run.model_name()
    except ZooError:  # a damaged config.json: not recognisably a run
        name = None
    if name is not None:
        raise ZooError(unfinished_run(run, name))
    raise ZooError(f"{path} is neither a saved model (no zoo config.json) nor a finished run (no final/)")


def unfinished_run(run: Run, name: str) -> str:
    """What to do with a run that has no final/ (stopped, killed, or still training): the two commands."""
    import shlex

    from .checkpoint import PREFIX, step_of

    steps = [step_of(p) for p in run.checkpoints() if p.name[len(PREFIX):].isdigit()]
    resume = f"zoo train {shlex.quote(name)} --out {shlex.quote(str(run.path))} --resume"
    if not steps:
        return (f"{run.path} is a training run that has not finished (no final/) and has no checkpoint yet: "
                f"nothing to sample; resume it with `{resume}` once it has one, or point at a saved-model folder")
    return (f"{run.path} is a training run that has not finished (no final/): resume it with `{resume}`, or "
            f"save its newest checkpoint (step {steps[-1]}) as final/ with `{resume} --steps {steps[-1]}`")


def resolve(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
            token: str | None = None, local_files_only: bool = False) -> Path:
    """A local saved-model folder for ``src``: a folder, a run folder, or a Hub repo id (see zoo_core.sources)."""
    from .sources import classify

    kind, where = classify(src)
    if kind == "local" and Path(where).is_file():  # a published checkpoint file an importer recognises
        from .convert import as_zoo_model

        converted = as_zoo_model(Path(where))
        if converted is not None:
            return converted
        raise ZooError(f"{src} is a file zoo cannot load directly; try `zoo convert {src} --out DIR --format ...`")
    if kind == "local":
        return _local(Path(where))
    return download(str(where), revision, cache_dir, token, local_files_only)


def push_to_hub(src_or_model, repo_id: str, private: bool = False, token: str | None = None,
                commit_message: str | None = None, revision: str | None = None,
                card: dict[str, Any] | None = None, license: str | None = None):
    """Publish a saved model to the Hub in one commit.

    The repo is created if needed (``private`` applies only then). Only the allow-list of
    :mod:`zoo_core.publish` is uploaded, with local paths cut.

    Args:
        src_or_model: a saved-model folder, a run folder (its ``final/`` is pushed) or a model object
            (saved to a temporary folder first, with ``card`` options).
        repo_id: ``"owner/name"``.
        private: create the repo private.
        token: a Hub token with write access (default: ``HF_TOKEN`` / the saved login).
        commit_message: the commit's message.
        revision: a branch, created from main if missing.
        card: model-card options when pushing a model object.
        license: the license written into the model card.

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
        return _upload(folder, repo_id, private, token, commit_message, revision, license)


def _upload(folder: Path, repo_id: str, private: bool, token: str | None, commit_message: str | None,
            revision: str | None, license: str | None = None):
    from huggingface_hub import CommitOperationAdd, HfApi, constants
    from huggingface_hub import errors as hf_errors

    record = read_json(folder / "config.json")
    if not (folder / "model.safetensors").is_file():
        raise ZooError(f"{folder} has no model.safetensors: nothing to push")
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
               or ZooError(f"could not push to {repo_id!r}: {first_line(exc)}")) from None
    except (OSError, ValueError) as exc:
        raise ZooError(f"could not push to {repo_id!r}: {first_line(exc)}") from None
    except network_errors() as exc:
        if timed_out(exc):
            raise ZooError(f"the Hub at {constants.ENDPOINT} did not answer within {timeout():g} s "
                           "(ZOO_HUB_TIMEOUT); nothing was pushed") from None
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({first_line(exc)})") from None


def _installed_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


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
    spec = registry().lookup("model", name) if isinstance(name, str) else None
    if spec is None:
        dist = record.get("distribution")
        if isinstance(dist, str) and PLUGIN_NAME.fullmatch(dist):
            installed = _installed_version(dist)
            if installed is None:
                raise PluginMissingError(f"this model needs {dist}: pip install {dist}")
            raise PluginMissingError(f"this model needs model {shown(name)}, which {dist} {installed} (installed) "
                                     f"does not provide: a newer {dist} may (pip install -U {dist}); `zoo list` "
                                     "shows the installed models")
        raise PluginMissingError(f"this model needs the plugin that provides model {shown(name)}, which is not "
                                 "installed (see `zoo list` for the installed models)")
    if not isinstance(record.get("config", {}), dict):
        raise ZooError(f"{directory}/config.json: 'config' must be an object")
    return spec, record


def build_model(spec, values: dict, device=None):
    """An untrained model from a config dict (validated like command-line options)."""
    cfg = config_mod.build(spec.load_config_class(), values, source="config.json")
    model = spec.load_model_class()(cfg)
    return model.to(device) if device is not None else model


def from_pretrained(src: str | Path, *, device: Any = None, torch_dtype: Any = None, revision: str | None = None,
                    cache_dir: str | None = None, local_files_only: bool = False, token: str | None = None,
                    trust_code: bool = False) -> Any:
    """Load a saved model from a folder, a run folder or a Hub repo id, ready to ``generate``.

    Nothing the folder names is imported unless ``trust_code=True`` (see :mod:`zoo_core.trust`); the
    model is built on the meta device and checked against the weights' header before any allocation.

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
        trust_code: allow importing code the folder names (never needed by zoo's own families).

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
    import copy

    from .device import pick_device
    from .modeling import check_dtype
    from .safeload import load_checked
    from .trust import loading

    dtype = check_dtype(torch_dtype)
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
    model = model.to(dev) if dtype is None else model.to(device=dev, dtype=dtype)
    return model.eval()


def _load_weights(module, path: Path, what: str) -> None:
    """safetensors into ``module`` (strict), shapes checked from the header first; errors are one line."""
    from safetensors.torch import load_file

    from .safeload import check_finite, check_shapes, header_shapes

    found = header_shapes(path)
    check_shapes({k: tuple(v.shape) for k, v in module.state_dict().items()}, found, path, what)
    tensors = load_file(str(path))
    check_finite(tensors, path)
    module.load_state_dict(tensors, strict=True)


def load_component(src: str | Path, name: str, module) -> Any:
    """Load a named extra component (e.g. ``"discriminator"``) of a saved model into ``module``."""
    directory = resolve(src)
    path = directory / f"{name}.safetensors"
    if not path.is_file():
        raise ZooError(f"{directory} has no component {name!r}")
    _load_weights(module, path, f"the module given for {name!r}")
    return module
