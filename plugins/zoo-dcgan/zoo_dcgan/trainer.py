"""DCGAN training: the shared GANTrainer plus DCGAN's discriminator and the AC-GAN class losses."""

from __future__ import annotations

import torch

from zoo_core.gan.acgan import ACGANTrainer
from zoo_core.gan.trainer import GANTrainer

from .networks import Discriminator


class DCGANTrainer(ACGANTrainer, GANTrainer):
    """Adversarial loss and tricks from :class:`GANTrainer`; with --class-cond, the AC-GAN terms of
    :class:`~zoo_core.gan.acgan.ACGANTrainer` (D's head learns real classes, G the drawn ones)."""

    def build_discriminator(self):
        c = self.config
        return Discriminator(c.res, c.channels, c.in_channels, c.d_norm, self.model.num_classes)

    def generate_fake(self, batch: dict) -> dict:
        n = len(batch["image"])
        z = self.sample_latent(n)
        labels = self.fake_labels(n)
        if labels is None:
            return {"image": self.model(z)}
        return {"image": self.model(z, labels), "label": labels}

    def d_forward(self, images: torch.Tensor, batch: dict):
        return self.split_out(self.discriminator(images))
