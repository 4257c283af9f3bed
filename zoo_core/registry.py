"""Light, lazy specs of everything plugins provide, and the one registry that holds them.

A spec names its heavy parts by import path (``"zoo_ddpm.model:DDPM"``) so registering costs
nothing; :func:`load_object` imports them on use. Unknown names answer with close matches.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import ZooError


def load_object(path: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute.

    While a saved model is being loaded (:func:`zoo_core.trust.loading`), only the import paths of
    installed plugins' specs are accepted: a path that came from a model folder is refused unread.
    """
    from .trust import check_registered

    check_registered(path)
    module, _, attr = path.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def find(table: dict[str, Any], kind: str, name: str) -> Any:
    """``table[name]``, or a ZooError naming close matches ("did you mean ...") and what is installed."""
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, list(table), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    known = ", ".join(sorted(table)) or "none installed"
    raise ZooError(f"unknown {kind} {name!r}{hint} (installed: {known})")


@dataclass(frozen=True)
class ModelSpec:
    """What ``zoo list`` shows and what the CLI needs to build, train and sample one model."""

    name: str
    summary: str
    family: str
    config: str  # import path of the config dataclass (a module that does not import torch)
    model: str  # import path of the Generator class; ``cls(config)`` builds it
    trainer: str  # import path of the Trainer class; ``cls(model, config, data_info, device)``
    samplers: tuple[str, ...] = ()
    conditioning: str = "none"  # none | class | text
    paper: str = ""
    distribution: str = ""
    version: str = ""

    def load_config_class(self) -> type:
        return load_object(self.config)

    def load_model_class(self) -> type:
        return load_object(self.model)

    def load_trainer_class(self) -> type:
        return load_object(self.trainer)


@dataclass(frozen=True)
class SamplerSpec:
    """A way to draw images from a trained model; ``fn(model, n, generator, steps, progress, **kw)``."""

    name: str
    summary: str
    fn: str
    families: tuple[str, ...] = ()  # empty: any model that provides what the sampler needs
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """A metric (``kind="metric"``) or a feature extractor (``kind="extractor"``); ``factory(**kw)``."""

    name: str
    summary: str
    factory: str
    kind: str = "metric"
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """A built-in dataset generated in code: ``factory(seed=..., **kw) -> Dataset`` of PIL images."""

    name: str
    summary: str
    factory: str
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class ImporterSpec:
    """A reader of a published checkpoint format (diffusers, improved-diffusion ``.pt``, ...).

    ``detect`` is the import path of ``fn(path: Path) -> bool`` (looks at file names and JSON/headers only);
    ``convert`` of ``fn(path: Path, out: Path, **options) -> Path`` that writes a normal zoo saved model into
    ``out`` (config.json + model.safetensors) and returns it. Both read tensors only, never unpickle code.
    """

    name: str
    summary: str
    model: str  # the zoo model name the format converts into
    detect: str
    convert: str
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class PretrainedSpec:
    """A published checkpoint the zoo can load (``zoo list --pretrained``); nothing is downloaded to list it.

    ``name`` is what users type (a Hub repo id such as ``google/ddpm-cifar10-32``, or a short name for files
    published elsewhere); ``source`` where the weights live (repo id or URL); ``format`` an ImporterSpec name.
    """

    name: str
    summary: str
    model: str
    format: str
    source: str = ""
    paper: str = ""
    res: int = 0
    dataset: str = ""
    score: str = ""  # as the paper reports it, e.g. "FID 3.17"
    license: str = ""
    options: tuple[tuple[str, Any], ...] = ()  # extra convert options (e.g. the release's model flags)
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class LoggerSpec:
    """An experiment logger for ``--logger NAME``; ``factory(run_dir, run_name)`` returns a
    :class:`zoo_core.loggers.Logger`. ``extra`` names the optional install (``zoo-core[extra]``)."""

    name: str
    summary: str
    factory: str
    extra: str = ""
    distribution: str = ""
    version: str = ""


KINDS = {"model": ModelSpec, "sampler": SamplerSpec, "metric": MetricSpec, "dataset": DatasetSpec,
         "importer": ImporterSpec, "pretrained": PretrainedSpec, "logger": LoggerSpec}


@dataclass
class Registry:
    """Name -> spec tables, one per kind."""

    tables: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})

    def add(self, spec: Any, distribution: str = "", version: str = "") -> None:
        kind = next((k for k, cls in KINDS.items() if isinstance(spec, cls)), None)
        if kind is None:
            raise TypeError(f"not a zoo spec: {spec!r}")
        if distribution and not spec.distribution:
            spec = replace(spec, distribution=distribution, version=version)
        table = self.tables[kind]
        if spec.name in table and table[spec.name].distribution != spec.distribution:
            other = table[spec.name].distribution
            raise ZooError(f"{kind} {spec.name!r} is registered by both {other} and {spec.distribution}")
        table[spec.name] = spec

    def get(self, kind: str, name: str) -> Any:
        return find(self.tables[kind], kind, name)

    def names(self, kind: str) -> list[str]:
        return sorted(self.tables[kind])

    def model(self, name: str) -> ModelSpec:
        return self.get("model", name)

    def sampler(self, name: str) -> SamplerSpec:
        return self.get("sampler", name)

    def metric(self, name: str) -> MetricSpec:
        return self.get("metric", name)

    def dataset(self, name: str) -> DatasetSpec:
        return self.get("dataset", name)

    def logger(self, name: str) -> LoggerSpec:
        return self.get("logger", name)
