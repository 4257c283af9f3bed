"""``GANTrainer``: a ready-made Trainer for a generator/discriminator pair.

It implements the engine's Trainer protocol once for every GAN: two optimizers ``{"d", "g"}``
built from :class:`~zoo_core.gan.options.GANOptions`, one D phase repeated ``n_critic`` times and
one G phase per step, the chosen loss, soft/noisy labels, instance noise, experience replay, the
WGAN-GP gradient penalty, the drift penalty, diversity logging and :class:`GanHealth` warnings.

A family subclasses it and overrides hooks; only ``build_discriminator`` is required:

``build_discriminator()``
    return D (an ``nn.Module``); the base moves it to the device.
``build_optimizers()``
    the optimizers by phase name (default ``{"d", "g"}`` from :meth:`GANTrainer.make_optimizer`).
``prepare(batch)``
    the real micro-batch as both updates see it (default: unchanged; StackGAN adds text embeddings
    and resizes images for Stage I).
``sample_latent(n)``
    latents for ``n`` fakes (default: standard Gaussian of ``model.latent_shape`` or ``(z_dim,)``).
``generate_fake(batch)``
    a *fake batch*: a dict with ``"image"`` plus whatever conditions D needs (``"label"``, a text
    embedding). It receives the real micro-batch, so text models can reuse its captions. Default:
    ``{"image": model(sample_latent(n))}``. Called under ``no_grad`` for D's update and with
    gradients for G's.
``d_outputs(real_in, batch, fake_in, fake)``
    D's outputs for the real and the fake inputs (default: one joint or two separate ``d_forward``
    passes; StackGAN adds the mismatched-caption pass here).
``adversarial_d_loss(real_s, fake_s, real_t, fake_t, real_out, fake_out)``
    D's adversarial loss from the scores and targets (default: the configured ``--loss``).
``d_forward(images, batch)``
    D's raw output for ``images``: a tensor of one score/logit per image, or a dict with
    ``"score"`` and extras (class logits) for ``extra_*_loss``. ``batch`` is the real batch for real
    images and the fake batch for fakes (so each is scored with its own condition).
``extra_d_loss(real_out, fake_out, batch, fake)`` / ``extra_g_loss(fake_out, batch, fake)``
    additional terms (an auxiliary classifier, a matching-aware loss); return ``(tensor or None,
    {log name: float})``. ``*_out`` are what ``d_forward`` returned.

Logged per step: ``loss_d``, ``loss_g`` (adversarial parts), ``d_real``/``d_fake`` (mean
D(x) and D(G(z)), as probabilities for the BCE losses), ``gp``, ``drift``, and now and then
``div_real``/``div_fake`` (:func:`~zoo_core.gan.health.diversity`), which the health check compares.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from zoo_core.protocols import Phase

from .health import GanHealth, diversity
from .losses import critic_regularisers, d_loss, g_loss
from .options import LABEL_LOSSES
from .tricks import InstanceNoise, ReplayBuffer, flip_labels, real_fake_targets

Out = Any  # a score tensor, or a dict with "score"


def score_of(out: Out) -> torch.Tensor:
    """The per-image score of a ``d_forward`` output, flattened to ``[B]``."""
    return (out["score"] if isinstance(out, dict) else out).reshape(-1)


@contextmanager
def frozen(module: nn.Module):
    """Run the forward passes inside without recording gradients for ``module``'s parameters.

    Autograd decides at forward time which leaves need gradients, so G's backward pass (run later by
    the engine) goes through D to the images without filling D's ``.grad``.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p in params:
            p.requires_grad_(True)


def _cat(a: dict, b: dict) -> dict:
    """Two batches as one (tensors and lists present in both), for a joint D forward pass."""
    out = {}
    for k in a.keys() & b.keys():
        if isinstance(a[k], torch.Tensor) and isinstance(b[k], torch.Tensor):
            out[k] = torch.cat([a[k], b[k].to(a[k].device)])
        elif isinstance(a[k], list) and isinstance(b[k], list):
            out[k] = a[k] + b[k]
    return out


def _split(out: Out, n: int) -> tuple[Out, Out]:
    if isinstance(out, dict):
        parts = {k: _split(v, n) if isinstance(v, (torch.Tensor, dict)) else (v, v) for k, v in out.items()}
        return {k: v[0] for k, v in parts.items()}, {k: v[1] for k, v in parts.items()}
    return out[:n], out[n:]


class GANTrainer:
    """The Trainer for a G/D pair; see the module docstring for the hooks a family overrides."""

    preview_kwargs: dict = {}

    def __init__(self, model, config, data_info, train_cfg, device):
        self.model, self.config, self.data_info = model, config, data_info
        self.train_cfg, self.device = train_cfg, torch.device(device)
        self.discriminator = self.build_discriminator().to(self.device)
        self.modules = {"g": model, "d": self.discriminator}
        self.optimizers = self.build_optimizers()
        self.noise = InstanceNoise(config.instance_noise, config.instance_noise_steps)
        self.replay = ReplayBuffer(config.replay_size, config.replay_fraction)
        self.monitor = GanHealth(config.loss)
        self.step = 0
        self.diversity_every = max(1, getattr(train_cfg, "log_every", 50) // 4)

    # ------------------------------------------------------------- hooks
    def build_discriminator(self) -> nn.Module:
        raise NotImplementedError("a GANTrainer subclass must build its discriminator")

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"d": self.make_optimizer("d"), "g": self.make_optimizer("g")}

    def prepare(self, batch: dict) -> dict:
        return batch

    def g_parameters(self):
        return self.model.parameters()

    def d_parameters(self):
        return self.discriminator.parameters()

    def sample_latent(self, n: int) -> torch.Tensor:
        shape = tuple(getattr(self.model, "latent_shape", (self.config.z_dim,)))
        return torch.randn((n, *shape), device=self.device)

    def generate_fake(self, batch: dict) -> dict:
        return {"image": self.model(self.sample_latent(len(batch["image"])))}

    def d_forward(self, images: torch.Tensor, batch: dict) -> Out:
        return self.discriminator(images)

    def extra_d_loss(self, real_out: Out, fake_out: Out, batch: dict, fake: dict):
        return None, {}

    def extra_g_loss(self, fake_out: Out, batch: dict, fake: dict):
        return None, {}

    # ------------------------------------------------------ optimizers
    def make_optimizer(self, which: str, params=None) -> torch.optim.Optimizer:
        """The optimizer of ``which`` ("g" or "d") over ``params`` (default: all of G's or D's).

        lr: ``--lr-g``/``--lr-d``, else ``--lr``. Kind: ``--g-optimizer``/``--d-optimizer`` where the config
        has it (adam with ``--beta1``/``--beta2``; sgd with momentum 0.9; rmsprop), else adam.
        """
        cfg = self.config
        own = cfg.lr_g if which == "g" else cfg.lr_d
        lr = self.train_cfg.lr if own is None else own
        if params is None:
            params = self.g_parameters() if which == "g" else self.d_parameters()
        params = [p for p in params if p.requires_grad]
        kind = getattr(cfg, f"{which}_optimizer", "adam")
        if kind == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=0.9)
        if kind == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))

    # ------------------------------------------------------------ losses
    def d_inputs(self, images: torch.Tensor) -> torch.Tensor:
        """What D sees of an image batch: the images plus this step's instance noise."""
        return self.noise(images, self.step)

    def d_outputs(self, real: torch.Tensor, batch: dict, fake_img: torch.Tensor, fake: dict) -> tuple[Out, Out]:
        if self.config.separate_batches:
            return self.d_forward(real, batch), self.d_forward(fake_img, fake)
        joint = self.d_forward(torch.cat([real, fake_img]), _cat(batch, fake))
        return _split(joint, len(real))

    def adversarial_d_loss(self, real_s: torch.Tensor, fake_s: torch.Tensor, real_t, fake_t, real_out: Out,
                           fake_out: Out) -> torch.Tensor:
        return d_loss(self.config.loss, real_s, fake_s, real_t, fake_t)

    def prob(self, scores: torch.Tensor) -> float:
        """Mean D output as logged: a probability for the BCE losses, the raw critic score otherwise."""
        scores = scores.detach().float()
        return float((torch.sigmoid(scores) if self.config.loss in ("nonsaturating", "minimax") else scores).mean())

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """D's update on one real micro-batch and as many fresh fakes."""
        cfg = self.config
        batch = self.prepare(batch)
        with torch.no_grad():
            fake = self.generate_fake(batch)
        fake_img = fake["image"].detach()
        logs: dict[str, float] = {}
        if self.step % self.diversity_every == 0:
            logs["div_real"], logs["div_fake"] = diversity(batch["image"]), diversity(fake_img)
        if self.replay.capacity:
            mixed = self.replay.mix(fake_img)
            self.replay.push(fake_img)
            fake_img = mixed
        real_in, fake_in = self.d_inputs(batch["image"]), self.d_inputs(fake_img)
        real_out, fake_out = self.d_outputs(real_in, batch, fake_in, fake)
        real_s, fake_s = score_of(real_out), score_of(fake_out)
        real_t = fake_t = None
        if cfg.loss in LABEL_LOSSES and (cfg.smoothing is not None or cfg.label_flip):
            real_t, fake_t = real_fake_targets(len(real_s), cfg.smoothing, device=real_s.device)
            real_t, fake_t = flip_labels(real_t, cfg.label_flip), flip_labels(fake_t, cfg.label_flip)
        adv = self.adversarial_d_loss(real_s, fake_s, real_t, fake_t, real_out, fake_out)
        loss = adv
        logs.update(loss_d=float(adv.detach()), d_real=self.prob(real_s), d_fake=self.prob(fake_s))
        penalty, reg_logs = critic_regularisers(cfg, lambda x: score_of(self.d_forward(x, batch)), real_in, fake_in,
                                                real_s)
        loss = loss + penalty
        logs.update(reg_logs)
        extra, extra_logs = self.extra_d_loss(real_out, fake_out, batch, fake)
        if extra is not None:
            loss = loss + extra
        logs.update(extra_logs)
        return loss, logs

    def g_step(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """G's update: fresh fakes scored by a frozen D."""
        batch = self.prepare(batch)
        fake = self.generate_fake(batch)
        with frozen(self.discriminator):
            fake_out = self.d_forward(self.d_inputs(fake["image"]), fake)
        adv = g_loss(self.config.loss, score_of(fake_out))
        loss, logs = adv, {"loss_g": float(adv.detach())}
        extra, extra_logs = self.extra_g_loss(fake_out, batch, fake)
        if extra is not None:
            loss = loss + extra
        logs.update(extra_logs)
        return loss, logs

    # ------------------------------------------------- Trainer protocol
    def phases(self, step: int) -> list[Phase]:
        self.step = step
        return [Phase("d", self.d_step, repeats=self.config.critic_steps), Phase("g", self.g_step)]

    def components(self) -> dict[str, nn.Module]:
        """Saved next to the generator in ``final/`` (``discriminator.safetensors``)."""
        return {"discriminator": self.discriminator}

    def health(self, logs: dict[str, float]) -> list[str]:
        return self.monitor.check(logs, step=self.step)

    def state_dict(self) -> dict:
        return {"replay": self.replay.state_dict(), "health": self.monitor.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "replay" in state:
            self.replay.load_state_dict(state["replay"])
        if "health" in state:
            self.monitor.load_state_dict(state["health"])
