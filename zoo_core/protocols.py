"""What a generative model, its trainer, a sampler and a metric are, as the core sees them.

Conventions shared by every protocol:

* Images are float tensors in NCHW layout with values in [-1, 1]. Converting to uint8 or PIL
  happens only at the edges (``zoo_core.images``).
* A ``Generator`` owns its networks' *sampling* weights (EMA weights once trained) and its config;
  it does not own optimizers. A ``Trainer`` owns everything else needed to train: extra networks
  (a discriminator), optimizers, loss state. The engine owns the loop: steps, accumulation,
  precision, EMA copies, checkpoints, logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # keep torch out of CLI start-up
    import torch
    from torch import nn

Batch = dict  # {"image": FloatTensor[B,C,H,W] in [-1,1], "label": LongTensor[B], "caption": list[str]}

REQUIRED_CONFIG_FIELDS = ("res", "in_channels")


@runtime_checkable
class ModelConfig(Protocol):
    """A model's config dataclass (its fields are the ``zoo train NAME`` flags; see ``zoo_core.config.opt``).

    The engine reads ``res`` (the square image size, which the data pipeline resizes to) and
    ``in_channels`` (1 grayscale, 3 RGB, 4 RGBA) from every model config, so both are required.
    Optional class attributes: ``TRAIN_DEFAULTS`` (a dict of engine/data option defaults for this
    model) and ``PRESETS`` (``{name: {option: value}}`` for ``--preset``). A model class may define
    ``adapt_config(config, data_info) -> config`` to fill fields from the data (number of classes).
    """

    res: int
    in_channels: int


def check_model_config(config: Any, model: str) -> None:
    """Raise a one-line ZooError when a model config lacks a field the engine needs."""
    from .errors import ZooError

    missing = [f for f in REQUIRED_CONFIG_FIELDS if not isinstance(getattr(config, f, None), int)]
    if missing:
        raise ZooError(f"{model}'s config {type(config).__name__} lacks integer field(s) {', '.join(missing)}, "
                       "which every model config needs (see docs/plugins.md); fix the plugin")


@runtime_checkable
class Generator(Protocol):
    """A trained (or trainable) model that makes images.

    ``config`` is the model's config dataclass; ``zoo_name`` is its registry name. ``generate``
    returns ``n`` images in [-1, 1] and is deterministic for a given ``seed``. Extra keyword
    arguments are model specific (``prompt=`` for text models, ``truncation=`` for GANs,
    ``label=`` for class-conditional models); a model rejects those it does not understand.
    """

    config: Any
    zoo_name: str

    def generate(
        self,
        n: int,
        *,
        seed: int | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        batch_size: int | None = None,
        progress: bool = False,
        **kwargs: Any,
    ) -> torch.Tensor: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...


@dataclass
class Phase:
    """One optimizer update inside a training step.

    ``loss(micro_batch)`` returns ``(scalar loss, {name: float})``. The engine calls it once per
    micro-batch (gradient accumulation), scales, back-propagates, all-reduces under
    torch.distributed, checks for non-finite values, clips and steps ``optimizer``; it repeats the
    whole phase ``repeats`` times (``n_critic`` for WGAN critics), each time on a fresh batch.
    """

    optimizer: str
    loss: Callable[[Batch], tuple[torch.Tensor, dict[str, float]]]
    repeats: int = 1


@runtime_checkable
class Trainer(Protocol):
    """The losses and networks of one family; the engine does everything else.

    * ``model``: the Generator being trained (its live weights; the engine keeps the EMA copy).
    * ``modules``: every network with trainable parameters, by name (``{"unet": ...}``,
      ``{"g": ..., "d": ...}``); these are checkpointed.
    * ``optimizers``: by name; the engine sets their learning rate each step from the schedule
      (each param group's ``initial_lr`` is multiplied by the schedule factor).
    * ``phases(step)``: the updates that make up optimizer step ``step``.
    * ``state_dict`` / ``load_state_dict``: JSON-able extra state (a growth phase, loss history).
    * ``health(logs)``: family specific warnings for the last step's logs (e.g. D loss near 0).

    Built as ``cls(model, config, data_info, train_cfg, device)``. Optional: ``components()`` (extra
    networks saved beside the model in ``final/``, e.g. the discriminator) and ``preview_kwargs`` (a
    dict passed to ``generate`` for the periodic sample grids). The engine keeps an EMA of the whole
    ``model`` when ``--ema`` is on; the saved model samples with those weights.
    """

    model: Any
    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]

    def phases(self, step: int) -> list[Phase]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def health(self, logs: dict[str, float]) -> list[str]: ...


@runtime_checkable
class Sampler(Protocol):
    """A way to draw images from a model: ``sampler(model, n, generator=..., steps=..., **kw)``.

    Receives a Generator and a ``torch.Generator`` it must take all its randomness from, returns
    ``n`` images in [-1, 1]. Samplers are stateless.
    """

    def __call__(self, model: Any, n: int, *, generator: torch.Generator, steps: int | None = None,
                 progress: Any = None, **kwargs: Any) -> torch.Tensor: ...


@runtime_checkable
class Metric(Protocol):
    """A streaming evaluation metric, as the evaluator calls it (details: ``zoo_core/metrics/base.py``).

    Built by its registered factory as ``factory(extractor=..., model=..., device=..., seed=..., **options)``.
    ``needs`` says what the evaluator feeds it: ``"features"`` calls ``update_features(feats, real=...)``
    with the shared extractor's outputs; ``"images"`` and ``"model"`` call ``update(images, real=...)`` with
    images in [-1, 1] (plus ``labels=`` when ``update`` takes it). ``compute()`` returns ``{name: float}``;
    ``reset()`` forgets both sides. Optional: ``needs_real``/``needs_fake`` (which sides it wants),
    ``feature`` (the extractor output a features metric uses), ``real_state()``/``load_real_state()``.
    """

    needs: str

    def update(self, images: torch.Tensor, *, real: bool) -> None: ...

    def compute(self) -> dict[str, float]: ...

    def reset(self) -> None: ...
