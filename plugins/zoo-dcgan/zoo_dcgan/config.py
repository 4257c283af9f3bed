"""The DCGAN config: the shared GAN options plus the architecture. Imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_core.config import opt
from zoo_core.gan.acgan import ClassCondOptions
from zoo_core.gan.options import GANOptions

RESOLUTIONS = (16, 32, 64, 128, 256)


@dataclass
class DCGANConfig(ClassCondOptions, GANOptions):
    res: int = opt(64, "image resolution: 16, 32, 64, 128 or 256 (the depth of G and D follows it)",
                   min=16, max=256)
    in_channels: int = opt(3, "image channels: 1 (grayscale) or 3 (RGB)", min=1, max=4)
    channels: int = opt(64, "base width: G's last and D's first hidden layer; doubles per level up to 8x",
                        min=4, max=4096)
    upsample: Literal["convtranspose", "pixelshuffle"] = opt(
        "convtranspose", "G's upsampling: strided transposed convolution (the paper) or conv + PixelShuffle "
                         "(no checkerboard artifacts)")
    d_norm: Literal["auto", "batch", "instance", "spectral", "none"] = opt(
        "auto", "D's normalisation (never on its first layer): auto is batch, or instance with wgan-gp "
                "(the gradient penalty is per sample, which batch norm breaks)")

    # EMA off: G's batch norm keeps running statistics of the *live* weights, which the engine copies
    # into the EMA model, so averaged weights meet mismatched statistics; on short runs the lagging
    # average is also visibly washed out. Long runs can turn it on (--ema, decay 0.999).
    TRAIN_DEFAULTS: ClassVar[dict] = {"lr": 2e-4, "batch_size": 64, "ema": False, "ema_decay": 0.999,
                                      "steps": 5000, "log_every": 50, "sample_every": 500,
                                      "checkpoint_every": 1000, "sample_n": 64}
    PRESETS: ClassVar[dict[str, dict]] = {
        # Radford et al. 2016 (LSUN / faces / ImageNet 64x64): 4x4x1024 projection, batch 128, Adam lr 2e-4,
        # beta1 0.5, z 100 uniform (we keep a Gaussian z), N(0, 0.02) init, leaky slope 0.2.
        "paper": {"res": 64, "channels": 128, "batch_size": 128, "lr": 2e-4, "beta1": 0.5, "z_dim": 100,
                  "d_norm": "batch", "loss": "nonsaturating", "ema": False},
        # About five minutes on two CPU cores with builtin:shapes (see docs/models/dcgan.md).
        "shapes-cpu": {"res": 32, "channels": 32, "batch_size": 32, "steps": 2500, "sample_every": 500,
                       "checkpoint_every": 500, "label_smoothing": "0.9", "instance_noise": 0.1,
                       "instance_noise_steps": 2000},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.res not in RESOLUTIONS:
            raise ValueError(f"--res must be one of {', '.join(map(str, RESOLUTIONS))}, got {self.res}")
        if self.d_norm == "auto":
            self.d_norm = "instance" if self.loss == "wgan-gp" else "batch"
        if self.d_norm == "batch" and self.loss == "wgan-gp":
            raise ValueError("--d-norm batch does not go with --loss wgan-gp (the gradient penalty is per sample); "
                             "use --d-norm instance, spectral or none")
        self.check_class_options()
