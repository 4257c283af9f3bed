"""AC-GAN class conditioning (Odena et al. 2017), shared by every GAN family that offers ``--class-cond``.

G takes a one-hot of the class after its latent; D gets an auxiliary head of class logits. D's head
learns the class of *real* images only (cross-entropy on labelled reals) and G learns to make fakes
that head classifies as the class drawn for them: pytorch_GAN_zoo's AC-GAN does the same, and it
keeps replayed fakes (whose classes are not tracked) out of the class loss.

Three pieces, so a family writes only its networks:

* :class:`ClassCondOptions`: the ``--class-cond`` / ``--num-classes`` / ``--ac-weight`` config fields;
* :class:`ACGANGenerator`: ``adapt_config`` (the class count from the data), ``labels_for`` (the
  ``label=`` / ``--class`` argument) and ``condition_for_seed`` (interpolations keep seed A's class);
* :class:`ACGANTrainer`: a ``GANTrainer`` mixin with the two class-loss terms and D's output split.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from zoo_core.config import opt
from zoo_core.errors import ZooError


@dataclass
class ClassCondOptions:
    """Config fields of a class-conditional GAN; mix in before ``GANOptions``. Imports no torch."""

    class_cond: bool = opt(False, "AC-GAN: condition G on the class and give D an auxiliary classifier "
                                  "(needs labelled data; the class count is read from it)")
    num_classes: int = opt(0, "number of classes (filled in from the data with --class-cond)",
                           min=0, max=100000)
    ac_weight: float = opt(1.0, "weight of the auxiliary classification loss with --class-cond",
                           min=0.0, max=1000.0)

    def check_class_options(self) -> None:
        """A class count without --class-cond would be silently ignored: refuse it."""
        if self.num_classes and not self.class_cond:
            raise ValueError("--num-classes is only used with --class-cond")


class ACGANGenerator:
    """Mixin for a GAN model (before ``GANGenerator``) whose config has :class:`ClassCondOptions`."""

    zoo_name: str
    config: Any

    def class_count(self) -> int:
        """Classes G is conditioned on (0: unconditional); a ZooError if --class-cond has no count."""
        if not self.config.class_cond:
            return 0
        if not self.config.num_classes:
            raise ZooError(f"{self.zoo_name} --class-cond needs the number of classes: train on labelled data "
                           "(class folders, builtin:shapes) or set --num-classes")
        return int(self.config.num_classes)

    @classmethod
    def adapt_config(cls, config, data_info):
        """With --class-cond, read the class count from the data (an error if it has no labels, or other
        labels than the count already set by --num-classes or an --init model, whose class head would not fit)."""
        if not config.class_cond:
            return config
        found = data_info.num_classes
        if not found:
            raise ZooError(f"{cls.zoo_name} --class-cond needs labelled data (class sub-folders or builtin:shapes); "
                           "this data has no labels: drop --class-cond")
        if config.num_classes and config.num_classes != found:
            raise ZooError(f"the model has {config.num_classes} classes (--num-classes or the --init model) but the "
                           f"data has {found}: train on data with {config.num_classes} class folders")
        return dataclasses.replace(config, num_classes=found)

    def labels_for(self, n: int, label: int | None, generator):
        """``n`` class indices for ``label=`` (``zoo sample --class``), drawn from ``generator`` when None."""
        from zoo_core.generation import class_labels

        return class_labels(n, label, self.num_classes, generator, self._device(), f"this {self.zoo_name}")

    def condition_for_seed(self, seed: int, truncation: float | None = None) -> dict:
        """The class ``generate(1, seed=seed)`` draws, so interpolations keep seed A's class."""
        import torch

        from .latent import truncated_noise

        if not self.num_classes:
            return {}
        g = torch.Generator().manual_seed(int(seed))
        truncated_noise((1, *self.latent_shape), truncation, g)  # advance past z, as the sampler does
        return {"label": int(torch.randint(0, self.num_classes, (1,), generator=g))}


def one_hot_after(z, label, num_classes: int):
    """``[z, one_hot(label)]``: the AC-GAN generator input (``z`` alone when unconditional)."""
    import torch

    if not num_classes:
        return z
    if label is None:
        raise ValueError("a class-conditional generator needs a label per latent")
    return torch.cat([z, torch.nn.functional.one_hot(label, num_classes).to(z.dtype)], dim=1)


class ACGANTrainer:
    """Mixin for a ``GANTrainer`` subclass: random fake classes, D's class head and the AC-GAN loss terms.

    D returns a score tensor, or ``(score, class_logits)`` when conditional; :meth:`split_out` makes
    the latter the dict the trainer's loss hooks read.
    """

    def fake_labels(self, n: int):
        """A random class per fake (None when unconditional)."""
        import torch

        k = self.model.num_classes
        return torch.randint(0, k, (n,), device=self.device) if k else None

    @staticmethod
    def split_out(out):
        if isinstance(out, tuple):
            return {"score": out[0], "class_logits": out[1]}
        return out

    def extra_d_loss(self, real_out, fake_out, batch, fake):
        import torch.nn.functional as F

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
        import torch.nn.functional as F

        if not self.model.num_classes:
            return None, {}
        logits = fake_out["class_logits"].float()
        ce = F.cross_entropy(logits, fake["label"])
        acc = float((logits.argmax(1) == fake["label"]).float().mean())
        return self.config.ac_weight * ce, {"ac_g": float(ce.detach()), "ac_acc_fake": acc}
