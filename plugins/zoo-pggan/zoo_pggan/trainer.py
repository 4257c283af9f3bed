"""PGGAN training: the shared GAN trainer plus growth.

Everything GAN-generic (losses, WGAN-GP penalty, drift term, optimizers, health checks) comes from
:class:`zoo_core.gan.trainer.GANTrainer`. This subclass adds what progressive growing needs:

* the growth state (level, fade-in alpha) is read from :class:`~zoo_pggan.schedule.GrowthSchedule`
  at the count of real images shown so far, which is kept in ``state_dict()``; so a run resumed
  mid-fade continues with exactly the alpha it stopped at;
* real images are average-pooled to the current resolution and, during a fade-in, blended between
  the half-resolution image upsampled back and the full one with the same alpha as the networks;
* batch size per resolution: the engine's data loader draws ``--batch-size`` images per step at
  every resolution (one micro-batch size per run), and each loss keeps only the first
  ``--batch-sizes[level]`` of them (scaled by the micro-batch share under --grad-accum). Set
  ``--batch-size`` to the largest entry; the images left out are simply not used;
* Adam's moments are reset whenever a new phase (fade-in or stabilisation) starts, as in the
  paper's code (``--no-reset-optim`` keeps them).
"""

from __future__ import annotations

import torch

from zoo_core.errors import ZooError
from zoo_core.gan.acgan import ACGANTrainer
from zoo_core.gan.trainer import GANTrainer

from .layers import downsample, upsample
from .networks import GrowingDiscriminator
from .schedule import GrowthSchedule, GrowthState


def prepare_reals(images: torch.Tensor, state: GrowthState, fading: bool) -> torch.Tensor:
    """Real images at the resolution of ``state``, blended for a fade-in as the paper does.

    Full-resolution ``images`` are average-pooled to ``state.res``; while a new level fades in,
    the result is ``lerp(upsample(avgpool(x)), x, alpha)`` so D's real inputs move from the old
    resolution to the new one exactly as G's outputs do.
    """
    factor = images.shape[-1] // state.res
    if factor < 1 or images.shape[-1] != factor * state.res:
        raise ValueError(f"images of side {images.shape[-1]} cannot be pooled to {state.res}")
    x = downsample(images, factor)
    if fading and state.alpha < 1:
        x = torch.lerp(upsample(downsample(x)), x, float(state.alpha))
    return x


class PGGANTrainer(ACGANTrainer, GANTrainer):
    """GANTrainer with a growing D, per-resolution batches and the growth schedule; with --class-cond the
    AC-GAN terms of :class:`~zoo_core.gan.acgan.ACGANTrainer` (weight --ac-weight, 1 as in the DTD recipe)."""

    def __init__(self, model, config, data_info, train_cfg, device):
        super().__init__(model, config, data_info, train_cfg, device)
        self.schedule = GrowthSchedule(config.start_res, config.res, config.fade_images, config.stable_images)
        sizes = config.batch_sizes or (train_cfg.batch_size,) * len(config.resolutions)
        if max(sizes) > train_cfg.batch_size:
            raise ZooError(f"--batch-sizes {','.join(map(str, sizes))} asks for more than --batch-size "
                           f"{train_cfg.batch_size}, the images the loader draws per step; raise --batch-size "
                           f"to {max(sizes)}")
        self.batch_sizes = tuple(sizes)
        self.images = 0  # real images shown to D so far: the growth clock
        self.phase_start = 0  # the image count at which the phase in progress began (for optimizer resets)
        self.growth = self.schedule.at(0)
        self.model.set_growth(self.growth.level, self.growth.alpha)

    def build_discriminator(self):
        cfg = self.config
        return GrowingDiscriminator(cfg.in_channels, cfg.channels(), cfg.mbstd_group, self.model.num_classes)

    # ----------------------------------------------------------- growth
    def images_per_step(self, level: int) -> int:
        """Real images D sees in one optimizer step at ``level`` (all its critic repeats)."""
        return self.batch_sizes[level] * self.config.critic_steps

    def advance(self) -> GrowthState:
        """Set the networks to the state at the current image count, then count this step's images."""
        state = self.schedule.at(self.images)
        if state.phase_start != self.phase_start:
            if self.config.reset_optim:
                for opt in self.optimizers.values():
                    opt.state.clear()
            self.phase_start = state.phase_start
        self.growth = state
        self.model.set_growth(state.level, state.alpha)
        self.images += self.images_per_step(state.level)
        return state

    def _keep(self, n: int) -> int:
        """How many of a micro-batch of ``n`` to use at the current level."""
        return max(1, n * self.batch_sizes[self.growth.level] // self.train_cfg.batch_size)

    def _subset(self, batch: dict) -> dict:
        n = len(batch["image"])
        k = self._keep(n)
        if k >= n:
            return dict(batch)
        return {key: v[:k] if isinstance(v, (torch.Tensor, list)) and len(v) == n else v for key, v in batch.items()}

    def _fading(self) -> bool:
        return self.growth.phase == "fade"

    # ------------------------------------------------------------ hooks
    def generate_fake(self, batch: dict) -> dict:
        # level and alpha as Python numbers: reading G's buffers would sync the GPU at every forward
        n = len(batch["image"])
        z = self.sample_latent(n)
        labels = self.fake_labels(n)
        fake = {"image": self.model(z, self.growth.level, self.growth.alpha, label=labels)}
        return fake if labels is None else {**fake, "label": labels}

    def d_forward(self, images: torch.Tensor, batch: dict):
        return self.split_out(self.discriminator(images, self.growth.level, self.growth.alpha))

    def d_step(self, batch: dict):
        batch = self._subset(batch)
        batch["image"] = prepare_reals(batch["image"], self.growth, self._fading())
        loss, logs = super().d_step(batch)
        logs.update(res=float(self.growth.res), alpha=float(self.growth.alpha), kimg=self.growth.images / 1000)
        return loss, logs

    def g_step(self, batch: dict):
        return super().g_step(self._subset(batch))

    # ------------------------------------------------- Trainer protocol
    def phases(self, step: int):
        self.advance()
        return super().phases(step)

    def state_dict(self) -> dict:
        g = self.growth
        return {**super().state_dict(),
                "growth": {"images": self.images, "phase_start": self.phase_start,
                           "res": g.res, "phase": g.phase, "alpha": g.alpha}}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        growth = state.get("growth")
        if growth:
            self.images = int(growth["images"])
            self.phase_start = int(growth["phase_start"])
