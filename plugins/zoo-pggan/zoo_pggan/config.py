"""The PGGAN config: every field is a ``zoo train pggan`` flag. Imports no torch.

Defaults follow the paper (Karras et al. 2018, appendix A): WGAN-GP with gp_weight 10 and an
epsilon-drift term 0.001, one critic step per G step, Adam(lr 0.001, beta1 0, beta2 0.99), 512
latent dimensions, 512 feature maps up to 32x32 halving above, minibatch stddev in groups of 4,
800k real images per fade-in and per stabilisation phase, G weights averaged with decay 0.999.
``--class-cond`` makes it an AC-GAN as pytorch_GAN_zoo's DTD recipe does (a one-hot of the class after
z, an auxiliary class head on D, class-loss weight 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_core.config import opt
from zoo_core.gan.acgan import ClassCondOptions
from zoo_core.gan.options import GANOptions, LossKind


def _power_of_two(x: int) -> bool:
    return x > 0 and not x & (x - 1)


@dataclass
class PGGANConfig(ClassCondOptions, GANOptions):
    res: int = opt(32, "final image resolution (a power of two, >= 8); training grows from --start-res to it",
                   min=8, max=1024)
    start_res: int = opt(4, "resolution training starts at (a power of two from 4 to --res)", min=4, max=1024)
    in_channels: int = opt(3, "image channels: 1 (grayscale) or 3 (RGB)", min=1, max=4)
    z_dim: int = opt(512, "latent size (the paper's 512); z is drawn from a standard Gaussian and PixelNorm-ed",
                     min=1, aliases=("--latent-dim",), max=4096)
    channel_base: int = opt(16384, "feature maps at resolution r are channel_base / r, clamped to "
                                   "[--min-channels, --max-channels] (16384: 512 up to 32x32, halving above)",
                            min=1, max=1048576)
    max_channels: int = opt(512, "most feature maps in any block (the low resolutions)",
                            min=1, aliases=("--channels",), max=4096)
    min_channels: int = opt(16, "fewest feature maps in any block (the high resolutions)", min=1, max=4096)
    # layout options for imported networks (zoo convert); zoo-trained models keep the defaults
    level_channels: tuple[int, ...] = opt((), "feature maps per level from 4x4 up, overriding --channel-base "
                                              "(imported networks)", min=1, max=4096,
                                              cli=False)
    dense_norm: Literal["flat", "pixel"] = opt("flat", "PixelNorm after G's first dense layer over the whole "
                                                       "vector (flat) or per 4x4 pixel (pixel, the paper's code)",
                                               cli=False)
    fade_images: int = opt(800_000, "real images shown to D while a new resolution fades in (alpha 0 -> 1)",
                           min=0, max=10_000_000_000)
    stable_images: int = opt(800_000, "real images shown to D in each stabilisation phase (alpha = 1)",
                             min=0, max=10_000_000_000)
    batch_sizes: tuple[int, ...] = opt((), "images per step at each resolution from 4x4 up to --res (e.g. "
                                           "16,16,16,16,16,16,14,6 for 1024); each <= --batch-size, which is "
                                           "what the data loader draws; empty: --batch-size everywhere",
                                           min=1, max=65536)
    mbstd_group: int = opt(4, "minibatch-stddev group size in D (0 turns the layer off)", min=0, max=1024)
    pixel_norm: bool = opt(True, "PixelNorm after every conv in G (and on z)")
    reset_optim: bool = opt(True, "reset Adam's moment estimates when a new resolution starts fading in "
                                  "(as the paper's code does)")
    # the paper's training setup, overriding the shared GAN defaults
    loss: LossKind = opt("wgan-gp", "GAN loss: wgan-gp (the paper's, with the drift term), nonsaturating, "
                                    "minimax, lsgan, hinge")
    n_critic: int | None = opt(1, "D updates per G update (the paper: 1)", min=1, max=100)
    drift_weight: float = opt(0.001, "epsilon-drift weight: eps * E[D(x)^2] keeps critic scores near 0",
                              min=0.0, max=1000.0)
    beta1: float = opt(0.0, "Adam beta1 (the paper: 0)", min=0.0, max=1.0)
    beta2: float = opt(0.99, "Adam beta2 (the paper: 0.99)", min=0.0, max=1.0)

    TRAIN_DEFAULTS: ClassVar[dict] = {
        "lr": 0.001, "batch_size": 16, "ema_decay": 0.999, "steps": 400_000,
        "log_every": 100, "sample_every": 5000, "checkpoint_every": 5000,
    }
    PRESETS: ClassVar[dict[str, dict]] = {
        # A CPU smoke recipe: builtin:shapes grows 4 -> 8 -> 16 -> 32 in a few minutes on 2 cores. Tiny nets
        # and 4,800 images per phase; lr 3x the paper's, which these nets need to learn in 300 steps a phase.
        "shapes-fast": {"res": 32, "z_dim": 64, "channel_base": 512, "max_channels": 64, "min_channels": 16,
                        "fade_images": 4800, "stable_images": 4800, "batch_size": 16, "steps": 2100, "lr": 0.003,
                        "ema_decay": 0.99, "log_every": 50, "sample_every": 150, "checkpoint_every": 300},
        # CelebA at 128x128 on one GPU: the paper's networks (512 maps up to 32x32, 256 at 64, 128 at 128),
        # loss and optimiser, 800k images per phase, minibatch 16 (the paper uses 16 up to 128x128);
        # growth takes 10 phases of 800k images = 500k steps, then 150k steps stabilise at 128x128.
        # fp32 (TF32 matmuls): the gradient penalty's second-order gradients are noisy in bf16.
        "celeba128": {"res": 128, "z_dim": 512, "channel_base": 16384, "max_channels": 512, "min_channels": 16,
                      "fade_images": 800_000, "stable_images": 800_000, "batch_size": 16,
                      "center_crop": 178, "resize": 128, "flip": True, "steps": 650_000, "ema_decay": 0.999,
                      "precision": "fp32", "log_every": 200, "sample_every": 10_000, "checkpoint_every": 10_000},
    }

    def __post_init__(self) -> None:
        self.check_gan_options()
        self.check_class_options()
        if not _power_of_two(self.res) or self.res < 8:
            raise ValueError(f"--res must be a power of two >= 8 (8, 16, 32, ..., 1024), got {self.res}")
        if not _power_of_two(self.start_res) or not 4 <= self.start_res <= self.res:
            raise ValueError(f"--start-res must be a power of two from 4 to --res {self.res}, got {self.start_res}")
        if self.min_channels > self.max_channels:
            raise ValueError(f"--min-channels {self.min_channels} is larger than --max-channels {self.max_channels}")
        self.level_channels = tuple(int(c) for c in self.level_channels)
        if self.level_channels and len(self.level_channels) != len(self.resolutions):
            raise ValueError(f"level_channels needs one width per resolution (4 to {self.res}): "
                             f"{len(self.resolutions)} values, got {len(self.level_channels)}")
        self.batch_sizes = tuple(int(b) for b in self.batch_sizes)
        if self.batch_sizes and len(self.batch_sizes) != len(self.resolutions):
            wanted = ",".join(map(str, self.resolutions))
            raise ValueError(f"--batch-sizes needs one size per resolution ({wanted}): "
                             f"{len(self.resolutions)} values, got {len(self.batch_sizes)}")

    @property
    def resolutions(self) -> list[int]:
        """Every level's resolution: 4, 8, ..., res."""
        return [4 * 2**k for k in range(self.res.bit_length() - 2)]

    def channels(self) -> list[int]:
        """Feature maps of each level (4x4 first)."""
        if self.level_channels:
            return list(self.level_channels)
        return [int(min(self.max_channels, max(self.min_channels, self.channel_base // r))) for r in self.resolutions]

