"""DCGAN training: the shared GANTrainer plus DCGAN's discriminator and the AC-GAN class losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo_core.gan.trainer import GANTrainer

from .networks import Discriminator


class DCGANTrainer(GANTrainer):
    """Adversarial loss and tricks from :class:`GANTrainer`; with --class-cond, AC-GAN terms.

    AC-GAN: G draws a random class per fake; D's auxiliary head learns the class of *real* images
    (cross-entropy on labelled reals) and G learns to make fakes that head classifies as the drawn
    class. D's head is not trained on fakes, which keeps it a clean classifier of the data and
    keeps replayed fakes (whose classes are not tracked) out of the class loss.
    """

    def build_discriminator(self):
        c = self.config
        return Discriminator(c.res, c.channels, c.in_channels, c.d_norm, self.model.num_classes)

    def generate_fake(self, batch: dict) -> dict:
        n = len(batch["image"])
        z = self.sample_latent(n)
        k = self.model.num_classes
        if not k:
            return {"image": self.model(z)}
        labels = torch.randint(0, k, (n,), device=self.device)
        return {"image": self.model(z, labels), "label": labels}

    def d_forward(self, images: torch.Tensor, batch: dict):
        out = self.discriminator(images)
        if isinstance(out, tuple):
            return {"score": out[0], "class_logits": out[1]}
        return out

    def extra_d_loss(self, real_out, fake_out, batch, fake):
        if not self.model.num_classes:
            return None, {}
        labels = batch["label"]
        known = labels >= 0
        if not bool(known.any()):
            return None, {}
        logits = real_out["class_logits"][known].float()
        ce = F.cross_entropy(logits, labels[known])
        acc = float((logits.argmax(1) == labels[known]).float().mean())
        return self.config.ac_weight * ce, {"ac_d": float(ce.detach()), "ac_acc_real": acc}

    def extra_g_loss(self, fake_out, batch, fake):
        if not self.model.num_classes:
            return None, {}
        logits = fake_out["class_logits"].float()
        ce = F.cross_entropy(logits, fake["label"])
        acc = float((logits.argmax(1) == fake["label"]).float().mean())
        return self.config.ac_weight * ce, {"ac_g": float(ce.detach()), "ac_acc_fake": acc}
