"""The iDDPM config: DDPM's fields with the paper's defaults, plus its loss options. Imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_ddpm.config import DDPMConfig

from zoo_core.config import opt


@dataclass
class IDDPMConfig(DDPMConfig):
    # DDPM fields whose defaults the paper changes (redefined here; they keep DDPM's order)
    num_heads: int = opt(4, "attention heads", min=1, max=64)
    attn_res: tuple[int, ...] = opt((16, 8), "feature-map resolutions that get self-attention",
                                    min=1, max=1024)
    scale_shift_norm: bool = opt(True, "condition GroupNorm on the timestep (and class) by scale and shift")
    resblock_updown: bool = opt(True, "residual blocks for up/down-sampling (BigGAN style)")
    num_classes: int = opt(0, "number of classes; set from the data by --class-cond",
                           min=0, cli=False, max=100000)
    beta_schedule: Literal["linear", "cosine"] = opt("cosine", "noise schedule (cosine: the paper's)")
    variance: Literal["large", "small", "learned"] = opt(
        "learned", "reverse-process variance: learned (interpolates log beta_t and log beta~_t), large or small")
    # the paper's objective (zoo-ddpm's v / zero-terminal-SNR / Min-SNR defaults are options here, preset "fast")
    prediction: Literal["eps", "v", "x0"] = opt("eps", "what the network predicts: eps (the paper's), v or x0")
    zero_terminal_snr: bool = opt(False, "rescale the schedule so the last step is pure noise (Lin et al. 2024); "
                                         "needs --prediction v or x0")
    min_snr_gamma: float = opt(0.0, "Min-SNR-gamma weighting of the L_simple part (Hang et al. 2023); 0: off",
                               min=0.0, max=1000.0)
    # what iDDPM adds
    loss: Literal["simple", "hybrid", "vlb"] = opt(
        "hybrid", "objective: L_simple + lambda L_vlb (hybrid), the variational bound alone (vlb), or L_simple")
    timestep_sampler: Literal["uniform", "loss-aware"] = opt(
        "uniform", "how training draws t: uniformly, or by importance sampling with p_t ~ sqrt(E[L_t^2])")
    class_cond: bool = opt(False, "class-conditional on the data's labels (folder names; builtin:shapes' shapes)")

    # lr None: suggested_lr(), the paper's 1e-4 at width 128 scaled by 128 / --channels; the power EMA is the
    # paper's 0.9999 past 80k steps and averages the last ~1/8 of shorter runs
    TRAIN_DEFAULTS: ClassVar[dict] = {"lr": None, "batch_size": 32, "grad_clip": 1.0, "ema_decay": 0.9999,
                                      "ema_gamma": 6.94, "sample_every": 1000, "checkpoint_every": 1000}
    REFERENCE_LR: ClassVar[tuple[float, int]] = (1e-4, 128)
    PRESETS: ClassVar[dict[str, dict]] = {
        # zoo-ddpm's small-budget objective on iDDPM's network and learned variances
        "fast": {"prediction": "v", "zero_terminal_snr": True, "min_snr_gamma": 5.0},
        # Nichol & Dhariwal 2021, CIFAR-10 (their best-likelihood setting in Table 2 uses L_vlb instead):
        # cosine schedule, learned sigmas with L_hybrid, T = 4000, 128 channels, 3 residual blocks,
        # dropout 0.3, 4 heads at 16 and 8, lr 1e-4, batch 128, EMA 0.9999, 500k steps.
        "cifar10": {"res": 32, "channels": 128, "channel_mults": (1, 2, 2, 2), "num_res_blocks": 3,
                    "attn_res": (16, 8), "num_heads": 4, "dropout": 0.3, "timesteps": 4000,
                    "beta_schedule": "cosine", "variance": "learned", "loss": "hybrid", "vlb_weight": 0.001,
                    "lr": 1e-4, "batch_size": 128, "ema_decay": 0.9999, "steps": 500000, "flip": True,
                    "checkpoint_every": 5000, "sample_every": 5000},
        # The same network trained on L_vlb with the loss-aware timestep sampler (best NLL in the paper).
        "cifar10-vlb": {"res": 32, "channels": 128, "channel_mults": (1, 2, 2, 2), "num_res_blocks": 3,
                        "attn_res": (16, 8), "num_heads": 4, "dropout": 0.3, "timesteps": 4000,
                        "beta_schedule": "cosine", "variance": "learned", "loss": "vlb",
                        "timestep_sampler": "loss-aware", "lr": 1e-4, "batch_size": 128, "ema_decay": 0.9999,
                        "steps": 500000, "flip": True, "checkpoint_every": 5000, "sample_every": 5000},
    }

    def __post_init__(self):
        super().__post_init__()
        if self.num_classes and not self.class_cond:
            raise ValueError("num_classes is set from the data: use --class-cond instead")
