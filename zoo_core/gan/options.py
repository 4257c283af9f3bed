"""``GANOptions``: the config fields every GAN shares, so all GANs answer to the same flags.

A model's config inherits from it (``@dataclass class DCGANConfig(GANOptions): ...``); every field
has a default, so subclasses can add their own fields and override defaults by redefining a field.
Imports no torch (config modules must stay light for the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_core.config import opt

LOSS_CHOICES = ("nonsaturating", "minimax", "lsgan", "hinge", "wgan-gp")
LossKind = Literal["nonsaturating", "minimax", "lsgan", "hinge", "wgan-gp"]
#: Losses whose D targets are labels (so label smoothing and flipping mean something).
LABEL_LOSSES = ("nonsaturating", "minimax", "lsgan")


def parse_smoothing(value: str | float | None) -> str | float | None:
    """``"none"``/``None``/``1`` -> None, ``"random"`` -> "random", ``"0.9"`` -> 0.9; else ValueError."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "none", "off", "false"):
            return None
        if text == "random":
            return "random"
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"--label-smoothing must be none, random or a number in (0, 1], got {value!r}") from None
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"--label-smoothing must be none, random or a number in (0, 1], got {value}")
    return None if value == 1.0 else value


@dataclass
class GANOptions:
    """Shared GAN training options (fields become ``zoo train NAME --flags``)."""

    HELP_SECTION: ClassVar[str] = "GAN options"  # their heading in `zoo train NAME --help`

    z_dim: int = opt(100, "latent size; z is drawn from a standard Gaussian (a 'spherical' z)",
                     min=1, max=4096)
    loss: LossKind = opt("nonsaturating", "GAN loss: nonsaturating (G maximises log D(G(z))), minimax "
                                          "(the paper's log(1-D(G(z)))), lsgan, hinge, wgan-gp")
    n_critic: int | None = opt(None, "D updates per G update (default: 5 for wgan-gp, 1 otherwise)",
                               min=1, max=100)
    gp_weight: float = opt(10.0, "weight of the WGAN-GP gradient penalty (used with --loss wgan-gp)",
                           min=0.0, max=10000.0)
    drift_weight: float = opt(0.0, "weight of the drift penalty E[D(x)^2] that keeps critic scores near 0 "
                                   "(PGGAN uses 0.001)", min=0.0, max=1000.0)
    label_smoothing: str = opt("none", "D's targets: none (1/0), a number s for one-sided smoothing (real=s, "
                                       "fake=0; 0.9 is usual), or random (real in [0.7,1.2], fake in [0,0.3])")
    label_flip: float = opt(0.0, "fraction of D's targets flipped at random (noisy labels; 0.05 is usual)",
                            min=0.0, max=0.5)
    instance_noise: float = opt(0.0, "std of Gaussian noise added to every D input (real and fake), "
                                     "decayed linearly to 0; 0 turns it off (0.1 is usual)",
                                     min=0.0, max=10.0)
    instance_noise_steps: int = opt(10000, "steps over which --instance-noise decays to 0 (0: never decays)",
                                    min=0, max=1_000_000_000)
    replay_size: int = opt(0, "keep this many past fakes and show some to D again (experience replay; "
                              "0 turns it off)", min=0, max=100000)
    replay_fraction: float = opt(0.5, "fraction of each fake batch D sees taken from the replay buffer",
                                 min=0.0, max=1.0)
    separate_batches: bool = opt(True, "D sees real and fake images in separate forward passes (all-real / "
                                       "all-fake batches, as batch norm needs); false: one joint batch")
    d_optimizer: Literal["adam", "sgd"] = opt("adam", "D's optimizer: adam, or sgd (momentum 0.9; give it a "
                                                      "larger --lr-d, e.g. 0.01)")
    lr_g: float | None = opt(None, "G's learning rate (default: --lr)", min=0.0, max=10.0)
    lr_d: float | None = opt(None, "D's learning rate (default: --lr)", min=0.0, max=10.0)
    beta1: float = opt(0.5, "Adam beta1 (0.5 as in DCGAN; 0 for wgan-gp is common)", min=0.0, max=1.0)
    beta2: float = opt(0.999, "Adam beta2 (0.9 for wgan-gp, 0.99 for PGGAN)", min=0.0, max=1.0)

    def __post_init__(self) -> None:
        self.check_gan_options()

    def check_gan_options(self) -> None:
        """Validate the shared fields; subclasses with their own ``__post_init__`` call this (or super)."""
        if self.loss not in LOSS_CHOICES:
            raise ValueError(f"--loss must be one of {', '.join(LOSS_CHOICES)}, got {self.loss!r}")
        smoothing = parse_smoothing(self.label_smoothing)
        if self.loss not in LABEL_LOSSES and (smoothing is not None or self.label_flip):
            raise ValueError(f"--label-smoothing and --label-flip need a label loss ({', '.join(LABEL_LOSSES)}); "
                             f"--loss {self.loss} has no targets to smooth")

    @property
    def critic_steps(self) -> int:
        """The resolved ``n_critic``."""
        if self.n_critic is not None:
            return self.n_critic
        return 5 if self.loss == "wgan-gp" else 1

    @property
    def smoothing(self) -> str | float | None:
        """The parsed ``label_smoothing``: None, a float, or "random"."""
        return parse_smoothing(self.label_smoothing)
