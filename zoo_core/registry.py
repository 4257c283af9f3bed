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
class Spec:
    """What every spec has: the ``name`` users type and a one-line ``summary``, then the spec's own fields;
    ``distribution`` and ``version`` (keyword-only) say which installed distribution registered it, stamped
    by :meth:`Registry.add`, so a plugin never writes them itself."""

    name: str
    summary: str
    distribution: str = field(default="", kw_only=True)
    version: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class ModelSpec(Spec):
    """What ``zoo list`` shows and what the CLI needs to build, train and sample one model."""

    family: str
    config: str  # import path of the config dataclass (a module that does not import torch)
    model: str  # import path of the Generator class; ``cls(config)`` builds it
    trainer: str  # import path of the Trainer class; ``cls(model, config, data_info, train_cfg, device)``
    samplers: tuple[str, ...] = ()
    conditioning: str = "none"  # none | class | text
    paper: str = ""

    def load_config_class(self) -> type:
        return load_object(self.config)

    def load_model_class(self) -> type:
        return load_object(self.model)

    def load_trainer_class(self) -> type:
        return load_object(self.trainer)


@dataclass(frozen=True)
class SamplerSpec(Spec):
    """A way to draw images from a trained model; ``fn(model, n, generator, steps, progress, **kw)``."""

    fn: str
    families: tuple[str, ...] = ()  # empty: any model that provides what the sampler needs


@dataclass(frozen=True)
class MetricSpec(Spec):
    """A metric (``kind="metric"``) or a feature extractor (``kind="extractor"``); ``factory(**kw)``."""

    factory: str
    kind: str = "metric"


@dataclass(frozen=True)
class DatasetSpec(Spec):
    """A built-in dataset generated in code: ``factory(seed=..., **kw) -> Dataset`` of PIL images."""

    factory: str


@dataclass(frozen=True)
class ImporterSpec(Spec):
    """A reader of a published checkpoint format (diffusers, improved-diffusion ``.pt``, ...).

    ``detect`` is the import path of ``fn(path: Path) -> bool`` (looks at file names and JSON/headers only);
    ``convert`` of ``fn(path: Path, out: Path, **options) -> Path`` that writes a normal zoo saved model into
    ``out`` (config.json + model.safetensors) and returns it. Both read tensors only, never unpickle code.
    """

    model: str  # the zoo model name the format converts into
    detect: str
    convert: str


@dataclass(frozen=True)
class PretrainedSpec(Spec):
    """A published checkpoint the zoo can load (``zoo list --pretrained``); nothing is downloaded to list it.

    ``name`` is what users type (a Hub repo id such as ``google/ddpm-cifar10-32``, or a short name for files
    published elsewhere); ``source`` where the weights live (repo id or URL); ``format`` an ImporterSpec name.
    """

    model: str
    format: str
    source: str = ""
    paper: str = ""
    res: int = 0
    dataset: str = ""
    score: str = ""  # as published for these weights (paper or repository), e.g. "FID 3.17"; "" when none was
    license: str = ""
    options: tuple[tuple[str, Any], ...] = ()  # extra convert options (e.g. the release's model flags)


@dataclass(frozen=True)
class LoggerSpec(Spec):
    """An experiment logger for ``--logger NAME``; ``factory(run_dir, run_name)`` returns a
    :class:`zoo_core.loggers.Logger`. ``extra`` names the optional install (``zoo-core[extra]``)."""

    factory: str
    extra: str = ""


KINDS = {"model": ModelSpec, "sampler": SamplerSpec, "metric": MetricSpec, "extractor": MetricSpec,
         "dataset": DatasetSpec, "importer": ImporterSpec, "pretrained": PretrainedSpec, "logger": LoggerSpec}
CORE = "zoo-core"


def kind_of(spec: Any) -> str:
    """The registry kind of a spec (a MetricSpec is a ``metric`` or an ``extractor`` by its ``kind``)."""
    if isinstance(spec, MetricSpec):
        if spec.kind not in ("metric", "extractor"):
            raise ZooError(f"MetricSpec {spec.name!r}: kind must be 'metric' or 'extractor', got {spec.kind!r}")
        return spec.kind
    kind = next((k for k, cls in KINDS.items() if isinstance(spec, cls)), None)
    if kind is None:
        raise TypeError(f"not a zoo spec: {spec!r}")
    return kind


def _owner(name: str, claims: dict[str, Any], prefer: dict[str, str]) -> str | None:
    """Who gets a name several distributions claim: the one the user chose in ``ZOO_PREFER``, else
    zoo-core, else the distribution named ``zoo-<name>``.

    Any other clash is refused for every claimant (None): guessing from install order would make the
    same command mean different models on two machines.
    """
    if len(claims) == 1:
        return next(iter(claims))
    if prefer.get(name) in claims:
        return prefer[name]
    if CORE in claims:
        return CORE
    canonical = [d for d in claims if d.lower().replace("_", "-") == f"zoo-{name.lower()}"]
    return canonical[0] if len(canonical) == 1 else None


class Registry:
    """Name -> spec, one table per kind. Read it through :meth:`get`, :meth:`specs`, :meth:`names`.

    Every distribution's claim on a name is kept, so the outcome of a clash does not depend on the
    order plugins load in (see :func:`_owner`) and :meth:`clashes` can name every claimant.
    """

    def __init__(self, prefer: dict[str, str] | None = None) -> None:
        self.prefer = dict(prefer or {})  # name -> distribution that keeps it in a clash (ZOO_PREFER)
        self._claims: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}  # kind -> name -> dist -> spec
        self._tables: dict[str, dict[str, Any]] = {k: {} for k in KINDS}

    def add(self, spec: Any, distribution: str = "", version: str = "") -> None:
        """Register ``spec`` (a distribution registering the same name again replaces its own spec)."""
        kind = kind_of(spec)
        if distribution and not spec.distribution:
            spec = replace(spec, distribution=distribution, version=version)
        self._claims[kind].setdefault(spec.name, {})[spec.distribution] = spec
        self._resolve(kind, spec.name)

    def remove(self, kind: str, name: str, distribution: str | None = None) -> None:
        """Drop ``name`` (only ``distribution``'s claim when given); unknown names are ignored."""
        claims = self._claims[kind].get(name, {})
        for dist in [d for d in claims if distribution is None or d == distribution]:
            del claims[dist]
        self._resolve(kind, name)

    def _resolve(self, kind: str, name: str) -> None:
        claims = self._claims[kind].get(name) or {}
        owner = _owner(name, claims, self.prefer) if claims else None
        if owner is None:
            self._tables[kind].pop(name, None)
        else:
            self._tables[kind][name] = claims[owner]
        if not claims:
            self._claims[kind].pop(name, None)

    def clashes(self) -> list[str]:
        """One line per name that several distributions claim: who they are and who, if anyone, got it."""
        lines = []
        for kind, names in self._claims.items():
            for name, claims in sorted(names.items()):
                if len(claims) < 2:
                    continue
                who = " and ".join(sorted(claims))
                owner = _owner(name, claims, self.prefer)
                if owner is None:
                    lines.append(f"{kind} {name!r} is registered by both {who}, so neither provides it; "
                                 f"uninstall one of them or choose one with ZOO_PREFER={name}=DISTRIBUTION")
                else:
                    why = ("chosen by ZOO_PREFER" if self.prefer.get(name) == owner else "the core" if owner == CORE
                           else f"its distribution is named zoo-{name}")
                    lines.append(f"{kind} {name!r} is registered by both {who}; {owner} keeps it ({why})")
        return lines

    def get(self, kind: str, name: str) -> Any:
        """The spec, or a ZooError with close matches."""
        return find(self._tables[kind], kind, name)

    def lookup(self, kind: str, name: str) -> Any | None:
        """The spec, or None when no installed plugin provides ``name``."""
        return self._tables[kind].get(name)

    def specs(self, kind: str) -> list[Any]:
        """Every spec of ``kind``, sorted by name."""
        return [self._tables[kind][n] for n in sorted(self._tables[kind])]

    def names(self, kind: str) -> list[str]:
        return sorted(self._tables[kind])

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
