"""The iDDPM Generator: zoo-ddpm's U-Net and diffusion with iDDPM's defaults and class conditioning."""

from __future__ import annotations

import dataclasses

import torch
from zoo_ddpm.model import DDPM

from zoo_core.errors import ZooError

from .config import IDDPMConfig


class IDDPM(DDPM):
    """An improved DDPM; ``generate(n, steps=50)`` samples with 50 respaced steps of the T trained ones.

    ``spacing="10,15,20"`` (Python API) respaces unevenly: that many steps from each equal section of
    [0, T), or ``"ddim25"`` for the DDIM paper's stride.
    """

    zoo_name = "iddpm"
    config: IDDPMConfig

    @classmethod
    def adapt_config(cls, config: IDDPMConfig, data_info) -> IDDPMConfig:
        """With ``--class-cond``, take the number of classes from the data (an error if it has none)."""
        if not config.class_cond:
            return config
        if data_info.num_classes < 2:
            raise ZooError("--class-cond needs labelled data (class folders, or builtin:shapes); "
                           f"this data has {data_info.num_classes} class(es)")
        return dataclasses.replace(config, num_classes=data_info.num_classes)

    @torch.no_grad()
    def generate(self, n: int, *, steps: int | None = None, spacing: str | None = None, **kwargs) -> torch.Tensor:
        """``n`` images in [-1, 1]; ``steps`` (an int) or ``spacing`` (a string) respace the T steps."""
        if spacing is not None:
            if steps is not None:
                raise ZooError("give steps or spacing, not both")
            steps = str(spacing)  # DDPM.generate validates it and the samplers respace with it
        return super().generate(n, steps=steps, **kwargs)
