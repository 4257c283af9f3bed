"""The one weight format: save_pretrained / from_pretrained, on safetensors and huggingface_hub.

A saved model is a folder (or a Hub repo with the same files)::

    config.json          {"zoo_model": "ddpm", "zoo_format": 1, "distribution": "zoo-ddpm", "config": {...}}
    model.safetensors    the weights to sample with (EMA weights where the family keeps them)
    <part>.safetensors   further named components (a GAN's discriminator, ...)
    README.md            model card

Weights are read with safetensors only; nothing in a folder or repo is ever unpickled or executed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import config as config_mod
from .errors import PluginMissingError, ZooError

FORMAT = 1
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
WEIGHT_PATTERNS = ["config.json", "*.safetensors", "README.md", "*.png"]


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


def resolve(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
            token: str | None = None, local_files_only: bool = False) -> Path:
    """A local saved-model folder for ``src``: a folder, a run folder, or a Hub repo id."""
    path = Path(src).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file() and "zoo_model" in json.loads((path / "config.json").read_text()):
            return path
        if (path / "final" / "config.json").is_file():
            return path / "final"
        raise ZooError(f"{path} is neither a saved model (no zoo config.json) nor a finished run (no final/)")
    if not REPO_ID.match(str(src)):
        raise ZooError(f"{src} does not exist (expected a run folder, a saved-model folder or a repo id)")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(str(src), revision=revision, cache_dir=cache_dir, token=token,
                                      local_files_only=local_files_only, allow_patterns=WEIGHT_PATTERNS))
    except RepositoryNotFoundError:
        raise ZooError(f"no model repository {src!r} on the Hub (or it is private: pass a token)") from None
    except RevisionNotFoundError:
        raise ZooError(f"repository {src!r} has no revision {revision!r}") from None
    except LocalEntryNotFoundError:
        raise ZooError(f"{src!r} is not in the local cache and the Hub cannot be reached "
                       f"(offline?); run `zoo pull {src}` while online, or pass a local folder") from None
    except HfHubHTTPError as exc:
        raise ZooError(f"could not download {src!r}: {exc}") from None


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
    table = registry().tables["model"]
    if name not in table:
        dist = record.get("distribution") or f"the plugin that provides {name!r}"
        if isinstance(dist, str) and dist.startswith("zoo-") and dist.replace("-", "").isalnum():
            raise PluginMissingError(f"this model needs {dist}: pip install {dist}")
        raise PluginMissingError(f"this model needs {dist}, which is not installed")
    if not isinstance(record.get("config", {}), dict):
        raise ZooError(f"{directory}/config.json: 'config' must be an object")
    return table[name], record


def build_model(spec, values: dict, device=None):
    cfg = config_mod.build(spec.load_config_class(), values, source="config.json")
    model = spec.load_model_class()(cfg)
    return model.to(device) if device is not None else model


def from_pretrained(src: str | Path, revision: str | None = None, cache_dir: str | None = None,
                    token: str | None = None, local_files_only: bool = False, device=None):
    """Load a saved model from a folder, a run folder or a Hub repo id, ready to ``generate``."""
    from safetensors.torch import load_model

    from .device import pick_device

    directory = resolve(src, revision, cache_dir, token, local_files_only)
    spec, record = read_config(directory)
    dev = pick_device(device) if isinstance(device, (str, type(None))) else device
    model = build_model(spec, record.get("config", {}))
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ZooError(f"{directory} has no model.safetensors (zoo loads safetensors weights only)")
    try:
        load_model(model, str(weights), strict=True)
    except RuntimeError as exc:
        raise ZooError(f"weights in {weights} do not match the {spec.name} config: {str(exc).splitlines()[0]}") from None
    return model.to(dev).eval()


def load_component(src: str | Path, name: str, module) -> Any:
    """Load a named extra component (e.g. ``"discriminator"``) of a saved model into ``module``."""
    from safetensors.torch import load_model

    directory = resolve(src)
    path = directory / f"{name}.safetensors"
    if not path.is_file():
        raise ZooError(f"{directory} has no component {name!r}")
    load_model(module, str(path), strict=True)
    return module
