"""The StackGAN config: every field is a ``zoo train stackgan`` flag. Imports no torch.

Defaults follow the paper and the authors' code for birds: Nz = 100, Ng (c_dim) = 128, Nd = 128,
Stage-I G from 1024 channels at 4x4, D from 64 channels, 4 residual blocks in Stage II, Adam with
lr 2e-4 and beta1 0.5, batch 64, the KL weight 2.0 of the released configs (the paper's text
writes lambda = 1; pass --kl-weight 1 for that), BCE losses with the matching-aware D.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from zoo_core.config import opt
from zoo_core.gan.options import GANOptions

from .text import parse

HIDDEN = {"cli": False}  # filled from the data by adapt_config; recorded in config.json


def _pow2(x: int) -> bool:
    return x > 0 and not x & (x - 1)


def _cub(res: int, **extra) -> dict:
    # CUB recipe of the authors' code: bounding-box crops resized to 76/64 of the size, random crop,
    # flips, batch 64, lr 2e-4 halved every 100 epochs (8855 train images / 64 = 138 steps per epoch).
    return {"res": res, "batch_size": 64, "lr": 2e-4, "lr_schedule": "step", "lr_step_every": 13_800,
            "lr_gamma": 0.5, "resize": res * 76 // 64, "random_crop": res, "flip": True,
            "checkpoint_every": 5000, "sample_every": 2000, "log_every": 100, **extra}


@dataclass
class StackGANConfig(GANOptions):
    res: int = opt(64, "output resolution, a power of two: Stage I's with --stage 1, else Stage II's, which "
                       "is 4x Stage I's (the paper: 64, then 256)", min=8, max=1024)
    in_channels: int = opt(3, "image channels: 1 (grayscale) or 3 (RGB)", min=1, max=4)
    stage: Literal["1", "2", "both"] = opt("1", "what to train: 1 (Stage-I GAN), 2 (Stage-II GAN on a frozen "
                                                "--stage1 model), both (Stage I for --stage1-steps, then Stage II)")
    stage1: str | None = opt(None, "with --stage 2: a trained Stage-I run folder, saved model or Hub repo; it "
                                   "is loaded, frozen, and its text encoder is reused")
    stage1_steps: int | None = opt(None, "with --stage both: optimizer steps of Stage I before Stage II starts "
                                         "(default: half of --steps)", min=1, max=1_000_000_000)
    text_encoder: str = opt("bow", "bow (bag of words fitted on the captions), embeddings:FILE (precomputed, "
                                   "e.g. CUB char-CNN-RNN as .npz), sentence-transformers:MODEL, or pkg.mod:Class")
    vocab_size: int = opt(1000, "--text-encoder bow: keep the N words found in most captions",
                          min=1, max=100000)
    c_dim: int = opt(128, "conditioning-augmentation size Ng (the paper: 128)", min=1, max=4096)
    kl_weight: float = opt(2.0, "weight of KL(N(mu, sigma) || N(0, I)) in G's loss (authors' code: 2.0; the "
                                "paper's text: 1)", min=0.0, max=1000.0)
    g_channels: int = opt(64, "Stage-I G width at full resolution, doubling per halving up to x16 "
                              "(64 gives the paper's 1024 channels at 4x4)", min=1, max=1024)
    g2_channels: int = opt(128, "Stage-II G width Ng' (encoder 128 -> 512 channels as in the paper)",
                           min=4, max=4096)
    res_blocks: int = opt(4, "Stage-II residual blocks (the authors' birds model: 4)", min=0, max=64)
    d_channels: int = opt(64, "D width after its first conv, doubling up to x8 (the paper: 64)",
                          min=1, max=1024)
    compress_dim: int = opt(128, "D compresses the text embedding to this size Nd (the paper: 128)",
                            min=1, max=4096)
    g_norm: Literal["batch", "none"] = opt("batch", "normalisation in G: batch (the paper) or none")
    ca_relu: bool = opt(False, "ReLU on conditioning augmentation's mu and log-variance, as StackGAN-Pytorch "
                               "does (imported models)", cli=False)
    d_norm: Literal["batch", "layer", "none"] = opt(
        "batch", "normalisation in D: batch (the paper), layer (per-sample; use with wgan-gp) or none")
    d_dropout: float = opt(0.0, "dropout after each D down-sampling block (0: none)", min=0.0, max=0.9)
    g_optimizer: Literal["adam", "rmsprop"] = opt("adam", "G's optimizer: adam (--beta1/--beta2) or rmsprop")
    d_optimizer: Literal["adam", "rmsprop", "sgd"] = opt(
        "adam", "D's optimizer: adam, rmsprop, or sgd (momentum 0.9; give it a larger --lr-d)")
    # derived from the data and the text encoder (not flags): what from_pretrained needs to rebuild
    text_dim: int = opt(0, "text embedding width (from the encoder)", **HIDDEN, min=0, max=1_000_000)
    vocab: tuple[str, ...] = opt((), "bag-of-words vocabulary", **HIDDEN, max_items=100_000)
    table_size: int = opt(0, "rows of the precomputed embedding table", **HIDDEN, min=0, max=100_000_000)
    table_bytes: int = opt(0, "bytes of the precomputed table's captions", **HIDDEN, min=0, max=17179869184)
    bank_bytes: int = opt(0, "bytes of the caption bank used when sampling without a prompt",
                          **HIDDEN, min=0, max=2147483648)

    TRAIN_DEFAULTS: ClassVar[dict] = {"lr": 2e-4, "batch_size": 64, "ema": False, "log_every": 50,
                                      "sample_every": 500, "checkpoint_every": 1000, "steps": 5000}
    PRESETS: ClassVar[dict[str, dict]] = {
        # 600 epochs per stage, as the authors trained the birds models.
        "cub-stage1": _cub(64, stage="1", steps=83_000),
        "cub-stage2": _cub(256, stage="2", steps=83_000),
        "cub": _cub(256, stage="both", steps=166_000, stage1_steps=83_000),
        # A CPU demo on builtin:shapes: a 16x16 Stage I in about 2 CPU-minutes (docs/models/stackgan.md).
        "shapes-fast": {"res": 16, "stage": "1", "g_channels": 16, "d_channels": 16, "c_dim": 16, "z_dim": 16,
                        "compress_dim": 16, "batch_size": 32, "steps": 4000, "lr": 2e-4, "log_every": 100,
                        "sample_every": 1000, "checkpoint_every": 1000},
        # The same Stage I, then a 64x64 Stage II on top of it, in one run.
        "shapes-both": {"res": 64, "stage": "both", "g_channels": 16, "g2_channels": 16, "res_blocks": 2,
                        "d_channels": 16, "c_dim": 16, "z_dim": 16, "compress_dim": 16, "batch_size": 32,
                        "steps": 6000, "stage1_steps": 4000, "lr": 2e-4, "log_every": 100,
                        "sample_every": 1000, "checkpoint_every": 1000},
    }

    @property
    def stage1_res(self) -> int:
        """Stage I's resolution: ``res`` for a Stage-I-only model, ``res / 4`` otherwise."""
        return self.res if self.stage == "1" else self.res // 4

    @property
    def has_stage2(self) -> bool:
        return self.stage != "1"

    def __post_init__(self) -> None:
        self.check_gan_options()
        self.stage = str(self.stage)
        if not _pow2(self.res):
            raise ValueError(f"--res must be a power of two, got {self.res}")
        if self.has_stage2 and self.res < 32:
            raise ValueError(f"--stage {self.stage} makes Stage II at --res and Stage I at res/4, which must be "
                             f"at least 8: use --res 32 or more (got {self.res})")
        if self.stage1 and self.stage != "2":
            raise ValueError("--stage1 names a trained Stage-I model for --stage 2; drop it or add --stage 2")
        if self.stage1_steps is not None and self.stage != "both":
            raise ValueError("--stage1-steps applies to --stage both only")
        parse(self.text_encoder)
        if self.replay_size:
            raise ValueError("--replay-size is not supported by stackgan: replayed fakes would lose their captions, "
                             "which the matching-aware D needs")
        if self.loss == "wgan-gp" and self.d_norm == "batch":
            raise ValueError("--loss wgan-gp penalises each sample's gradient, which batch norm in D mixes across "
                             "the batch: use --d-norm layer (or none)")
        self.vocab = tuple(self.vocab)
