"""The public training API: ``zoo_core.train(name, data=..., out=..., **options)``.

``zoo train NAME`` is a thin wrapper over :func:`train`, so a script, a notebook, a test or a
benchmark gets exactly what the command line gets. Option values are layered, later wins:

    dataclass defaults < the model's ``TRAIN_DEFAULTS`` < the config.json of the run being continued
    (same ``out``, same model) < the architecture of ``init`` (fine-tuning) < ``preset`` < ``config`` file < the options given here.

The run folder :func:`train` returns is a :class:`~zoo_core.runs.Run`, the one reader and writer of
its files (config.json, metrics.jsonl, samples, checkpoints, final/).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config as config_mod
from .errors import ZooError
from .runs import Run

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .registry import ModelSpec

RUN_CONFIG = Run.CONFIG
SECTIONS = ("config", "data", "train")  # where a run record keeps model, data and training options


def load_run_config(run_dir: str | Path) -> dict[str, Any] | None:
    """The record a run (or a saved model) folder keeps in ``config.json``; None when there is none.

    The record holds ``zoo_model`` and the resolved options under ``config`` (model), ``data`` and
    ``train``. A file that is not a JSON object is a ZooError naming the file. Same as
    ``Run(run_dir).read_config()``.

    Args:
        run_dir: a run folder or a saved-model folder.

    Returns:
        The record as a dict, or None when the folder has no config.json.

    Example:
        >>> import tempfile
        >>> from zoo_core import create_model, load_run_config
        >>> folder = create_model("dcgan", res=16, channels=4).save_pretrained(tempfile.mkdtemp())
        >>> load_run_config(folder)["zoo_model"], load_run_config(tempfile.mkdtemp())
        ('dcgan', None)
    """
    return Run(run_dir).read_config()


def _spec(name: str | ModelSpec) -> ModelSpec:
    if isinstance(name, str):
        from .plugins import registry

        return registry().model(name)
    return name


def resolve_configs(name: str | ModelSpec, options: dict[str, Any], preset: str | None = None,
                    config: str | Path | None = None, source: str = "the arguments") -> dict[str, Any]:
    """The model, data and training configs (keys ``model``, ``data``, ``train``) after layering.

    ``options`` are the explicitly given values (field name -> value); an unknown one, a bad value or an
    unknown preset is a one-line ZooError naming where it came from.
    """
    return resolve_with_choices(name, options, preset, config, source)[0]


#: Options a run reads from its data when no layer set them, with the reason ``--print-config`` shows.
DATA_DECIDED = {"in_channels": "not set: read from the data when training starts (gray images give 1)"}


def left_to_data(chosen: set[str]) -> dict[str, str]:
    """The options of :data:`DATA_DECIDED` the user did not choose (name -> why): the data will decide them."""
    return {k: why for k, why in DATA_DECIDED.items() if k not in chosen}


def resolve_with_choices(name: str | ModelSpec, options: dict[str, Any], preset: str | None = None,
                         config: str | Path | None = None,
                         source: str = "the arguments") -> tuple[dict[str, Any], set[str]]:
    """:func:`resolve_configs`, plus the names of the options some layer above the model's training
    defaults set (what the user chose, directly or through a preset, a file, a resumed run or --init)."""
    from .data import DataConfig
    from .train_config import TrainConfig, check_same_architecture

    spec = _spec(name)
    model_cls = spec.load_config_class()
    presets = getattr(model_cls, "PRESETS", {})
    layers: list[tuple[str, dict]] = [("the model's training defaults", dict(getattr(model_cls, "TRAIN_DEFAULTS", {})))]
    out = options.get("out")
    saved = load_run_config(out) if out else None
    if saved:
        if saved.get("zoo_model") == spec.name:
            merged = {k: v for s in SECTIONS for k, v in (saved.get(s) or {}).items()}
            merged.pop("resume", None)
            layers.append((str(Path(out).expanduser() / RUN_CONFIG), merged))
    if options.get("init"):  # fine-tuning: the source's architecture, unless later layers say otherwise
        from .convert import init_config

        init = init_config(spec.name, options["init"])
        if init:
            layers.append((f"--init {options['init']}", init))
    if preset is not None:
        if preset not in presets:
            raise ZooError(f"unknown preset {preset!r} for {spec.name} (available: {', '.join(presets) or 'none'})")
        layers.append((f"preset {preset}", presets[preset]))
    if config:
        layers.append((str(config), config_mod.read_file(config, model=spec.name)))
    layers.append((source, dict(options)))
    cfgs = config_mod.layer({"model": model_cls, "data": DataConfig, "train": TrainConfig}, layers)
    if saved and saved.get("zoo_model") == spec.name:
        check_same_architecture(saved, cfgs["model"], out)
    return cfgs, {key for _, values in layers[1:] for key in values}


def engine(name: str | ModelSpec, *, preset: str | None = None, config: str | Path | None = None,
           callbacks: list[Callable[[Engine], None]] | None = None, console=None,
           source: str = "the arguments", **options: Any) -> Engine:
    """A ready :class:`~zoo_core.engine.Engine` for ``name`` with layered options (nothing built yet).

    Use it to add callbacks or to drive training step by step (``setup()``, then ``step()``).
    """
    from .engine import Engine

    spec = _spec(name)
    cfgs, chosen = resolve_with_choices(spec, options, preset, config, source)
    eng = Engine(spec, cfgs["model"], cfgs["train"], cfgs["data"], callbacks=callbacks, console=console)
    eng.channels_from_data = "in_channels" in left_to_data(chosen)  # gray data -> 1 channel (Engine.setup)
    return eng


def train(name: str | ModelSpec, *, preset: str | None = None, config: str | Path | None = None,
          callbacks: list[Callable[[Engine], None]] | None = None, source: str = "the arguments",
          **options: Any) -> Run:
    """Train model ``name`` as ``zoo train NAME`` does and return the run folder.

    ``options`` are the ``zoo train NAME`` flags as keyword arguments (``data="builtin:shapes"``,
    ``out="runs/x"``, ``steps=100``, ``res=32``...). Re-running with the same ``out`` and ``resume=True``
    continues the run from its newest checkpoint. The finished model is in ``<run>/final``.

    Args:
        name: a model name from ``zoo list`` (or its ModelSpec).
        preset: a named recipe of the model (``zoo info NAME``).
        config: a TOML or JSON file of options (a run's or a saved model's config.json works too).
        callbacks: functions called with the engine after every step.
        source: how errors name the options' origin.
        **options: the ``zoo train NAME`` flags by their Python names.

    Returns:
        The run folder as a :class:`~zoo_core.runs.Run` (also a path: ``run / "final"``, ``str(run)``);
        ``run.metrics()`` are its logged records, ``run.final`` the saved model.

    Example:
        >>> run = train("dcgan", data="builtin:shapes", out="runs/dcgan-shapes", steps=200)  # doctest: +SKIP
        >>> from_pretrained(run).generate(16, seed=0)  # doctest: +SKIP
    """
    return engine(name, preset=preset, config=config, callbacks=callbacks, source=source, **options).run_training()
