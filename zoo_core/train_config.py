"""The engine's options, common to every model (flags of ``zoo train``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import opt
from .errors import ZooError


@dataclass
class TrainConfig:
    out: str | None = opt(None, "run folder (default: runs/<model>-<time>); re-running with it resumes")
    init: str | None = opt(None, "start from these weights (a saved model, run, Hub repo or published checkpoint) "
                                 "to fine-tune")
    resume: bool = opt(False, "continue from the newest valid checkpoint in --out (an error if there is none)")
    steps: int = opt(2000, "optimizer steps to train for (in total, counting resumed ones)",
                     min=1, max=1_000_000_000)
    batch_size: int = opt(16, "images per optimizer step (across --grad-accum micro-batches and GPUs)",
                          min=1, max=65536)
    grad_accum: int = opt(1, "micro-batches per optimizer step (recipes: 8 x 2, 12 x 10)", min=1, max=4096)
    lr: float | None = opt(1e-4, "learning rate (none: the model's suggestion, sized to its network)",
                           min=0.0, max=10.0)
    lr_schedule: Literal["constant", "step", "cosine"] = opt("constant", "learning-rate schedule")
    lr_step_every: int = opt(50000, "with --lr-schedule step: multiply the lr by --lr-gamma every N steps",
                             min=1, max=1_000_000_000)
    lr_gamma: float = opt(0.5, "with --lr-schedule step: the factor (0.5 halves)", min=0.0, max=10.0)
    warmup: int = opt(0, "linear learning-rate warm-up steps", min=0, max=1_000_000_000)
    grad_clip: float | None = opt(None, "clip the gradient norm to this (none: no clipping)",
                                  min=0.0, max=1000000.0)
    grad_warn: float = opt(100.0, "warn when a gradient norm exceeds this", min=0.0, max=1000000000.0)
    on_nonfinite: Literal["skip", "rollback", "abort"] = opt(
        "skip", "on a NaN/inf loss or gradient: skip the step, roll back to the last checkpoint with half "
                "the lr, or save and stop")
    seed: int = opt(0, "random seed (data order, noise, initialisation)",
                    min=-9223372036854775808, max=9223372036854775807)
    device: str = opt("auto", "auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = opt(
        "auto", "autocast precision; auto is bf16 on a GPU that has it, fp32 elsewhere; fp16 uses a grad scaler")
    ema: bool = opt(True, "keep an EMA of the weights and sample/save with it")
    ema_decay: float = opt(0.9999, "EMA decay (with warm-up min(decay, (1+n)/(10+n))); with --ema-gamma, its cap",
                           min=0.0, max=1.0)
    ema_gamma: float | None = opt(None, "power-function EMA (Karras et al. 2024): decay (1-1/t)^(gamma+1), which "
                                        "averages the last part of any run; 6.94 is sigma_rel 0.10", min=0.0, max=1000.0)
    compile: bool = opt(False, "torch.compile the networks (faster long runs on GPU; slow to start)")
    log_every: int = opt(50, "write a metrics.jsonl line every N steps", min=1, max=1_000_000_000)
    sample_every: int = opt(500, "write samples/step_N.png every N steps (and at the end)",
                            min=1, max=1_000_000_000)
    sample_n: int = opt(16, "images in each sample grid", min=1, max=1024)
    checkpoint_every: int = opt(500, "write a checkpoint every N steps (and at the end / on Ctrl-C)",
                                min=1, max=1_000_000_000)
    keep_checkpoints: int = opt(3, "how many checkpoints to keep", min=1, max=1000)
    eval_every: int = opt(0, "evaluate every N steps (0: never); results are printed and go to metrics.jsonl",
                          min=0, max=1_000_000_000)
    eval_metrics: str = opt("fid", "comma-separated metrics for --eval-every (see `zoo eval --list`)")
    eval_n: int = opt(1000, "generated (and real) images per periodic evaluation", min=2, max=10_000_000)
    eval_extractor: str = opt("inception", "feature extractor for periodic evaluation (inception, timm:NAME, random)")
    eval_sampler: str | None = opt(None, "sampler for --eval-every (default: the model's fast one, e.g. dpm++ "
                                         "for diffusion models; see `zoo info NAME`)")
    eval_steps: int | None = opt(None, "sampling steps for --eval-every (default: the sampler's, e.g. 20 for dpm++)",
                                 min=1, max=100_000)
    license: str | None = opt(None, "license id written into final/README.md's YAML (e.g. mit, apache-2.0)")
    progress: bool = opt(True, "show progress: a bar on a terminal, a plain line every --progress-every seconds "
                               "elsewhere (nohup, CI, a pipe)")
    progress_every: float = opt(30.0, "seconds between plain progress lines when not on a terminal", min=0.0, max=86400.0)
    logger: tuple[str, ...] = opt((), "experiment loggers beside metrics.jsonl: tensorboard, wandb, mlflow, csv "
                                      "(comma-separated or repeated; each needs its extra, e.g. "
                                      "pip install 'zoo-core[tensorboard]')", multiple=True)


def check_same_architecture(saved: dict, model_cfg: object, run_dir: str | Path) -> None:
    """A run continues with the architecture it was trained with: any model option that differs from
    the run's config.json is a ZooError naming the option(s), both values and the ways out.

    Called before anything is built or loaded, so the user sees one line, not a size-mismatch traceback.
    """
    from .config import to_dict
    from .options import as_flags

    old = saved.get("config") or {}
    new = to_dict(model_cfg)
    changed = [k for k in new if k in old and old[k] != new[k]]
    if not changed:
        return
    was = ", ".join(f"{as_flags({k: _tuple(new[k])})} (the run has {as_flags({k: _tuple(old[k])}).split(' ', 1)[-1]})"
                    for k in changed)
    raise ZooError(f"{run_dir} was trained with other model options: {was}; a run cannot change its architecture: "
                   f"drop the option to continue it, or start a new run with another --out (add --init {run_dir} "
                   "to fine-tune from its weights)")


def _tuple(v: object) -> object:
    return tuple(v) if isinstance(v, list) else v


#: How ``zoo train NAME --help`` groups the engine's options (the model's and the data's have their own).
SECTIONS = {
    "run": ("out", "init", "resume", "steps", "seed", "license"),
    "optimisation": ("batch_size", "grad_accum", "lr", "lr_schedule", "lr_step_every", "lr_gamma", "warmup",
                     "grad_clip", "grad_warn", "on_nonfinite", "ema", "ema_decay", "ema_gamma"),
    "logging and evaluation": ("log_every", "sample_every", "sample_n", "checkpoint_every", "keep_checkpoints",
                               "eval_every", "eval_metrics", "eval_n", "eval_extractor", "eval_sampler", "eval_steps", "progress",
                               "progress_every", "logger"),
    "hardware": ("device", "precision", "compile"),
}


def resolve_lr(train_cfg: TrainConfig, model_cfg) -> TrainConfig:
    """``train_cfg`` with ``lr`` set: an lr left to the model (None) is the model config's
    ``suggested_lr()`` (sized to its network) where it has one, else the dataclass default 1e-4."""
    if train_cfg.lr is not None:
        return train_cfg
    import dataclasses

    suggest = getattr(model_cfg, "suggested_lr", None)
    return dataclasses.replace(train_cfg, lr=float(suggest()) if suggest else 1e-4)
