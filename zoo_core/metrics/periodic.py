"""What ``--eval-every`` samples with and the line it prints.

Periodic evaluation must be cheap enough to run during training: a diffusion model sampled with its
default 1,000 ancestral steps made 32 evaluation images take minutes. A trainer states its model's
fast sampling as ``eval_kwargs`` (DDPM: DPM-Solver++ with 20 steps); ``--eval-sampler`` and
``--eval-steps`` override it. The results are printed as one line, not only written to metrics.jsonl.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def eval_sampling(trainer: Any, cfg: Any) -> dict[str, Any]:
    """``generate`` keyword arguments for periodic evaluation: the trainer's ``eval_kwargs``, with
    ``cfg.eval_sampler``/``cfg.eval_steps`` taking precedence (a sampler chosen by the user starts
    from its own default step count, not the one the trainer picked for its sampler)."""
    kwargs = dict(getattr(trainer, "eval_kwargs", None) or {})
    if getattr(cfg, "eval_sampler", None):
        kwargs = {"sampler": cfg.eval_sampler}
    if getattr(cfg, "eval_steps", None):
        kwargs["steps"] = cfg.eval_steps
    return kwargs


def eval_summary(step: int, results: dict[str, float], n: int, sampling: dict[str, Any], seconds: float) -> str:
    """One line for the console, e.g. ``eval step 200: fid 41.3, kid 0.021 (1000 images, dpm++ 20
    steps, 12.3 s)``."""
    values = ", ".join(f"{escape(str(k))} {v:.4g}" if isinstance(v, (int, float)) else f"{escape(str(k))} {escape(str(v))}"
                       for k, v in results.items())
    how = [f"{n} images"]
    if sampling.get("sampler") or sampling.get("steps"):
        how.append(" ".join(escape(str(x)) for x in (sampling.get("sampler"), sampling.get("steps")) if x)
                   + (" steps" if sampling.get("steps") else ""))
    how.append(f"{seconds:.1f} s")
    return f"[bold]eval[/] step {step}: {values} ({', '.join(how)})"
