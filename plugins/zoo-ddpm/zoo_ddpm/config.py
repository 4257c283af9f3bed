"""The DDPM config: every field is a ``zoo train ddpm`` flag. Imports no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_core.config import opt


@dataclass
class DDPMConfig:
    res: int = opt(32, "image resolution (square)", min=8, max=1024)
    in_channels: int = opt(3, "image channels: 1 (grayscale) or 3 (RGB)", min=1, max=4)
    channels: int | None = opt(None, "U-Net base width (default by --res: 32 up to 16px, 64 above)",
                               min=8, max=1024)
    channel_mults: tuple[int, ...] = opt((), "width multipliers per resolution level (default by --res: "
                                             "16: 1,2,2  32: 1,2,2,2  64: 1,2,2,4  128: 1,1,2,2,4)",
                                             min=1, max=16)
    num_res_blocks: int = opt(2, "residual blocks per level", min=1, max=16)
    attn_res: tuple[int, ...] = opt((), "feature-map resolutions that get self-attention "
                                        "(default: 16, or res/2 below 32px)", min=1, max=1024)
    num_heads: int = opt(1, "attention heads", min=1, max=64)
    dropout: float = opt(0.1, "dropout in residual blocks", min=0.0, max=1.0)
    scale_shift_norm: bool = opt(False, "condition GroupNorm on the timestep by scale and shift (iDDPM)")
    resblock_updown: bool = opt(False, "residual blocks for up/down-sampling (iDDPM/BigGAN style)")
    num_classes: int = opt(0, "class-conditional with this many classes (0: unconditional)",
                           min=0, max=100000)
    # layout options that let published networks (zoo convert) run exactly; zoo-trained models keep the defaults
    norm_groups: int = opt(0, "GroupNorm groups (0: 32, or channels/4 when 32 does not divide them)", min=0, max=1024,
                           cli=False)
    norm_eps: float = opt(1e-5, "GroupNorm epsilon (Ho et al.'s models: 1e-6)", min=0.0, max=1.0, cli=False)
    flip_sin_to_cos: bool = opt(True, "timestep embedding puts cosines first (False: Ho et al.'s sin first)",
                                cli=False)
    freq_shift: float = opt(0.0, "timestep embedding frequencies are over half - shift (Ho et al.: 1)", min=0.0,
                            max=1.0, cli=False)
    down_pad: Literal["same", "tf"] = opt("same", "strided down-sampling pads all round (same) or right/bottom "
                                                  "only (tf, Ho et al.'s TensorFlow models)", cli=False)
    time_scale: float = opt(1.0, "the network sees t * time_scale (improved-diffusion's rescale_timesteps: 1000/T)",
                            min=0.0, max=1000.0, cli=False)
    timesteps: int = opt(1000, "diffusion steps T", min=2, max=100000)
    beta_schedule: Literal["linear", "cosine"] = opt("linear", "noise schedule")
    beta_start: float = opt(1e-4, "first beta of the linear schedule", min=0.0, max=1.0)
    beta_end: float = opt(0.02, "last beta of the linear schedule", min=0.0, max=1.0)
    variance: Literal["large", "small", "learned"] = opt(
        "large", "reverse-process variance: beta_t (large), posterior beta~_t (small), or learned (iDDPM)")
    p2_gamma: float = opt(0.0, "P2 weighting exponent (Choi et al. 2022); 0 turns it off, 1 is the paper's",
                          min=0.0, max=10.0)
    p2_k: float = opt(1.0, "P2 weighting k in 1/(k + SNR)^gamma", min=0.0, max=1000.0)
    # the dataclass defaults are Ho et al.'s objective, which is what a saved or imported config that does not
    # name these fields means; new runs get the measured small-budget objective from TRAIN_DEFAULTS below
    prediction: Literal["eps", "v", "x0"] = opt(
        "eps", "what the network predicts: the noise (eps, Ho et al.), v = alpha eps - sigma x0 (Salimans & Ho "
               "2022), or x0")
    zero_terminal_snr: bool = opt(False, "rescale the schedule so the last step is pure noise (Lin et al. 2024; no "
                                         "colour cast from a leaked mean); needs --prediction v or x0")
    min_snr_gamma: float = opt(0.0, "Min-SNR-gamma loss weighting (Hang et al. 2023), e.g. 5; 0 turns it off",
                               min=0.0, max=1000.0)
    loss: Literal["simple", "hybrid", "vlb"] = opt(
        "simple", "objective: the MSE of the prediction (simple), simple + lambda L_vlb (hybrid, trains a learned "
                  "variance), or the variational bound alone (vlb)")
    vlb_weight: float = opt(0.001, "lambda of the hybrid loss (the VLB term sees a stop-gradient on the mean)",
                            min=0.0, max=1000.0)
    clip_denoised: bool = opt(True, "clip the predicted x0 to [-1, 1] while sampling")

    # a fixed step budget anneals best: cosine decay to 0 after a short warm-up (runs that are later extended
    # with --resume --steps N follow the new, longer cosine). lr None: suggested_lr(), sized to the width.
    # The power EMA averages the last ~1/8 of any run, and is 0.9999 (Ho et al.'s) past 80k steps.
    # v-prediction + zero terminal SNR + Min-SNR-5: the objective chosen by the measured comparison
    # (docs/models/ddpm.md), set here for new runs rather than as dataclass defaults (see above).
    # variance small (the posterior b~_t, diffusers' default too): ancestral sampling at 50 respaced steps
    # scored FID 38.5 against 166.9 with Ho et al.'s b_t, which leaves visible noise (docs/quality_ddpm.md).
    TRAIN_DEFAULTS: ClassVar[dict] = {"prediction": "v", "zero_terminal_snr": True, "min_snr_gamma": 5.0,
                                      "variance": "small", "lr": None, "lr_schedule": "cosine", "warmup": 100, "batch_size": 32,
                                      "grad_clip": 1.0, "ema_decay": 0.9999, "ema_gamma": 6.94,
                                      "sample_every": 1000, "checkpoint_every": 1000}
    # Adam lr at the reference width (Ho et al.: 2e-4 for base width 128); narrower nets take
    # proportionally more (the 1/width rule of muP for Adam's hidden layers), capped at 1e-3
    REFERENCE_LR: ClassVar[tuple[float, int]] = (2e-4, 128)
    # Ho et al.'s objective as published, for reproductions: eps prediction, unweighted L_simple, linear schedule
    # ending at SNR > 0, sampling variance b_t (their CIFAR-10 setting), classic EMA
    HO2020: ClassVar[dict] = {"prediction": "eps", "zero_terminal_snr": False, "min_snr_gamma": 0.0,
                              "variance": "large", "ema_gamma": None}
    PRESETS: ClassVar[dict[str, dict]] = {
        "ho2020": {**HO2020, "lr": 2e-4},
        # Ho et al. 2020, CIFAR-10: 35.7M parameters, batch 128, lr 2e-4, 800k steps, EMA 0.9999.
        "cifar10": {**HO2020, "res": 32, "channels": 128, "channel_mults": (1, 2, 2, 2), "num_res_blocks": 2,
                    "attn_res": (16,), "dropout": 0.1, "lr": 2e-4, "lr_schedule": "constant", "batch_size": 128, "warmup": 5000,
                    "grad_clip": 1.0, "ema_decay": 0.9999, "steps": 800000, "flip": True},
        # The field-tested CelebA-128 recipe: centre crop 178, resize 144, random crop 128, base 64 with
        # mults 1,1,2,2 (64,64,128,128), batch 16 as 8 x 2, lr 1e-4 halved every 50k steps, P2 weighting.
        "celeba128": {**HO2020, "res": 128, "channels": 64, "channel_mults": (1, 1, 2, 2), "attn_res": (16,),
                      "center_crop": 178, "resize": 144, "random_crop": 128, "flip": True,
                      "batch_size": 16, "grad_accum": 2, "lr": 1e-4, "lr_schedule": "step",
                      "lr_step_every": 50000, "lr_gamma": 0.5, "p2_gamma": 1.0, "p2_k": 1.0,
                      "ema_decay": 0.9999, "steps": 200000, "checkpoint_every": 5000, "sample_every": 5000},
    }

    def suggested_lr(self) -> float:
        """The default Adam lr for this network: REFERENCE_LR scaled by reference width / --channels, <= 1e-3."""
        lr, width = self.REFERENCE_LR
        return min(1e-3, lr * width / self.channels)

    def __post_init__(self):
        if self.res & (self.res - 1):
            raise ValueError(f"--res must be a power of two, got {self.res}")
        if not self.channel_mults:
            self.channel_mults = {8: (1, 2), 16: (1, 2, 2), 32: (1, 2, 2, 2), 64: (1, 2, 2, 4)}.get(
                self.res, (1, 1, 2, 2, 4))
        self.channel_mults = tuple(self.channel_mults)
        if self.channels is None:
            self.channels = 32 if self.res <= 16 else 64
        self.attn_res = tuple(self.attn_res) or ((16,) if self.res >= 32 else (self.res // 2,))
        if self.res >> (len(self.channel_mults) - 1) < 1:
            raise ValueError(f"--channel-mults has {len(self.channel_mults)} levels, too many for --res {self.res}")
        if self.channels % 8:
            raise ValueError(f"--channels must be a multiple of 8 (GroupNorm groups), got {self.channels}")
        if self.norm_groups and any(self.channels * m % self.norm_groups for m in self.channel_mults):
            raise ValueError(f"norm_groups {self.norm_groups} does not divide every level's width")
        if self.beta_schedule == "linear" and not self.beta_start < self.beta_end:
            raise ValueError("--beta-start must be smaller than --beta-end")
        if self.zero_terminal_snr and self.prediction == "eps":
            raise ValueError("--zero-terminal-snr makes the last step pure noise, where eps says nothing about x0: "
                             "use --prediction v (or x0)")
        if self.loss == "hybrid" and self.variance != "learned":
            raise ValueError(f"--loss hybrid trains the learned variance; with --variance {self.variance} "
                             "use --loss simple (or --loss vlb)")
        if self.loss == "simple" and self.variance == "learned":
            raise ValueError("--loss simple gives a learned variance no gradient: use --loss hybrid or vlb, "
                             "or --variance small/large")
