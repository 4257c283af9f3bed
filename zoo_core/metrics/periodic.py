"""What ``--eval-every`` samples with and the line it prints.

Periodic evaluation must be cheap enough to run during training: a diffusion model sampled with its
default 1,000 ancestral steps made 32 evaluation images take minutes. A trainer states its model's
fast sampling as ``eval_kwargs`` (DDPM: DPM-Solver++ with 20 steps); ``--eval-sampler`` and
``--eval-steps`` override it. The results are printed as one line, not only written to metrics.jsonl.
"""

from __future__ import annotations

import time
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


class PeriodicEval:
    """``--eval-every`` for one run: the evaluator (real statistics computed once, on first use) and how the
    model is sampled; each call evaluates the model and gives (results, metrics.jsonl record, console line)."""

    def __init__(self, cfg: Any, data_cfg: Any, trainer: Any, device: Any) -> None:
        from . import Evaluator

        self.evaluator = Evaluator(cfg.eval_metrics, extractor=cfg.eval_extractor, data=data_cfg, n_real=cfg.eval_n,
                                   device=device, seed=cfg.seed)
        self.sampling, self.n = eval_sampling(trainer, cfg), cfg.eval_n

    def __call__(self, model: Any, step: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        was_training, started = model.training, time.perf_counter()
        model.eval()
        try:
            results = self.evaluator(model, n=self.n, gen_kwargs=self.sampling)["metrics"]
        finally:
            model.train(was_training)
        record = {"step": step, "time": round(time.time(), 3), "eval": results, **self.sampling}
        return results, record, eval_summary(step, results, self.n, self.sampling, time.perf_counter() - started)
