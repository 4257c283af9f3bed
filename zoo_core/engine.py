"""One training loop for every family: accumulation, precision, EMA, schedules, logs, samples,
health checks, atomic checkpoints with exact resume, and torch.distributed data parallelism.

A family supplies a :class:`~zoo_core.protocols.Trainer` (networks, optimizers, losses as
:class:`~zoo_core.protocols.Phase` objects); everything here is shared.
"""

from __future__ import annotations

import math
import os
import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import checkpoint as ckpt
from . import config as config_mod
from . import distributed as distributed_mod
from . import runlock
from .data import DataConfig, ImageDataset, info_of, make_loader, open_source
from .device import Dist, autocast, init_distributed, pick_device, pick_dtype
from .errors import ZooError
from .health import HealthEvent, HealthWarning
from .loggers import jsonl
from .observer import RunObserver
from .protocols import check_model_config
from .rng import get_rng_state, seed_all, set_rng_state
from .schedules import lr_factor
from .train_config import TrainConfig, resolve_lr
from .training import load_run_config, write_run_config


@dataclass
class Run:
    """Everything the loop touches, so that checkpoints, rollback and callbacks see one object."""

    out: Path
    step: int = 0
    position: int = 0  # stream items consumed by all ranks together
    lr_scale: float = 1.0
    stop: bool = False
    nonfinite_streak: int = 0
    logs: dict = field(default_factory=lambda: defaultdict(list))
    warned: set = field(default_factory=set)


class Engine:
    """Train ``spec`` with resolved configs; :meth:`run_training` trains and returns the run folder.

    To drive training by hand (tests, benchmarks): :meth:`setup` builds data, model and trainer, then each
    :meth:`step` is one optimizer step of every phase; ``batches`` is the iterator ``step`` draws from and
    may be replaced (e.g. by ``itertools.repeat(batch)``) to take the data loader out of a measurement.
    Most users call :func:`zoo_core.train` instead, which layers options exactly as ``zoo train`` does.
    """

    def __init__(self, spec, model_cfg, train_cfg: TrainConfig, data_cfg: DataConfig,
                 callbacks: list[Callable[[Engine], None]] | None = None, console=None):
        self.spec, self.model_cfg, self.data_cfg = spec, model_cfg, data_cfg
        self.cfg = resolve_lr(train_cfg, model_cfg)  # --lr none: the model's, sized to its network
        self.callbacks = callbacks or []
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self.observer = RunObserver(self)  # replaced by a fresh one per run_training

    # ---------------------------------------------------------------- set-up
    def setup(self, out: str | Path | None = None) -> None:
        """Build device, data, model, trainer, optimizers and EMA; writes no file.

        ``out`` is the run folder checkpoints would go to (default: ``--out`` or ``runs/<model>-<time>``).
        """
        import numpy as np
        import torch

        cfg = self.cfg
        if getattr(self, "run", None) is None or out is not None:
            self.run = Run(out=Path(out) if out is not None else self._run_dir())
        self.batches = None
        self.device = pick_device(cfg.device)
        self.dtype = pick_dtype(cfg.precision, self.device)
        self.dist: Dist = init_distributed(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        denom = cfg.grad_accum * self.dist.world
        if cfg.batch_size % denom:
            raise ZooError(f"--batch-size {cfg.batch_size} must be divisible by --grad-accum x processes = {denom}")
        self.micro = cfg.batch_size // denom
        random.seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        torch.manual_seed(cfg.seed)

        check_model_config(self.model_cfg, self.spec.name)
        res, channels = self.model_cfg.res, self.model_cfg.in_channels
        source = open_source(self.data_cfg, res, seed=cfg.seed)
        self.data_info = info_of(source)
        self.dataset = ImageDataset(source, res, channels, self.data_cfg)
        model_cls = self.spec.load_model_class()
        if hasattr(model_cls, "adapt_config"):
            self.model_cfg = model_cls.adapt_config(self.model_cfg, self.data_info)
        self.model = model_cls(self.model_cfg).to(self.device)
        if cfg.init:
            from .convert import load_init

            load_init(self.model, cfg.init)
        self.trainer = self.spec.load_trainer_class()(self.model, self.model_cfg, self.data_info, cfg, self.device)
        torch.manual_seed(cfg.seed + 1000 * self.dist.rank)  # different noise per rank, same init above
        if self.dist.world > 1:
            self._broadcast(params=True)
        for opt in self.trainer.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.scalers = {name: torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
                        for name in self.trainer.optimizers}
        from .ema import EMA

        self.ema = EMA(self.model, cfg.ema_decay, gamma=cfg.ema_gamma) if cfg.ema else None
        if cfg.compile:
            for module in self.trainer.modules.values():
                module.compile()

    def _run_dir(self) -> Path:
        if self.cfg.out:
            return Path(self.cfg.out).expanduser()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return Path("runs") / f"{self.spec.name}-{stamp}"

    def _broadcast(self, params: bool = False) -> None:
        import torch.distributed as dist

        for module in self.trainer.modules.values():
            tensors = list(module.buffers()) + (list(module.parameters()) if params else [])
            for t in tensors:
                dist.broadcast(t.data, src=0)

    # ----------------------------------------------------------- checkpoints
    def _state_tensors(self) -> dict:
        tensors = {}
        for name, module in self.trainer.modules.items():
            tensors.update({f"module.{name}.{k}": v for k, v in module.state_dict().items()})
        if self.ema:
            tensors.update({f"ema.{k}": v for k, v in self.ema.model.state_dict().items()})
        optim_rest = {}
        for name, opt in self.trainer.optimizers.items():
            t, rest = ckpt.flatten_optimizer(name, opt.state_dict())
            tensors.update(t)
            optim_rest[name] = rest
        return tensors, optim_rest

    def save_checkpoint(self) -> Path | None:
        # Every rank's RNG and trainer state go into the checkpoint and back to their own rank on resume
        # (see distributed.py): ranks draw different noise, so rank 0's state everywhere would change the run.
        ranks = distributed_mod.gather({"rng": get_rng_state(), "trainer": self.trainer.state_dict()})
        if not self.dist.main:
            return None
        tensors, optim_rest = self._state_tensors()
        state = {
            "position": self.run.position,
            "lr_scale": self.run.lr_scale,
            "ema_updates": self.ema.updates if self.ema else 0,
            "optimizers": optim_rest,
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "trainer": ranks[0]["trainer"],
            "trainer_ranks": distributed_mod.pack_ranks([r["trainer"] for r in ranks]),
            "rng": ranks[0]["rng"],
            "rng_ranks": [r["rng"] for r in ranks],
        }
        return ckpt.save(self.run.out / "checkpoints", self.run.step, tensors, state, self.cfg.keep_checkpoints)

    def _restore(self, tensors: dict, state: dict) -> None:
        for name, module in self.trainer.modules.items():
            prefix = f"module.{name}."
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        if self.ema:
            self.ema.model.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
            self.ema.updates = state.get("ema_updates", 0)
        for name, opt in self.trainer.optimizers.items():
            opt.load_state_dict(ckpt.unflatten_optimizer(name, tensors, state["optimizers"][name]))
        for name, scaler in self.scalers.items():
            if state["scalers"].get(name):
                scaler.load_state_dict(state["scalers"][name])
        rank = self.dist.rank
        own = distributed_mod.for_rank(state.get("trainer", {}), state.get("trainer_ranks"), rank)
        self.trainer.load_state_dict(own)
        rng = distributed_mod.rng_for_rank(state, rank)
        if rng is None:  # more processes than wrote the checkpoint: a fresh stream for this rank
            seed_all(self.cfg.seed + 1000 * rank + 7919 * state["step"])
        else:
            set_rng_state(rng)
        self.run.step, self.run.position = state["step"], state["position"]
        self.run.lr_scale = state.get("lr_scale", 1.0)
        saved_world = len(state.get("rng_ranks") or [0])
        if saved_world != self.dist.world:
            self._warn(HealthWarning(f"resuming a checkpoint written by {saved_world} process(es) with "
                                     f"{self.dist.world}: training continues, but not bit-identically to an "
                                     "uninterrupted run", "resume"), key="world-size")

    # ------------------------------------------------------------- the loop
    def _loader(self):
        workers = self.data_cfg.workers
        if workers is None:
            workers = 0 if self.device.type == "cpu" else 8
        loader = make_loader(self.dataset, self.micro, self.cfg.seed, self.run.position, self.dist.rank,
                             self.dist.world, workers, pin_memory=self.device.type == "cuda")
        return iter(loader)

    def _next_batch(self) -> dict:
        if self.batches is None:
            self.batches = self._loader()
        batch = next(self.batches)
        self.run.position += self.micro * self.dist.world
        out = {}
        for k, v in batch.items():
            if hasattr(v, "to"):
                v = v.to(self.device, non_blocking=True)
            out[k] = v
        return out

    def _apply_phase(self, phase) -> dict[str, float]:
        import torch

        opt = self.trainer.optimizers[phase.optimizer]
        scaler = self.scalers[phase.optimizer]
        params = [p for g in opt.param_groups for p in g["params"]]
        opt.zero_grad(set_to_none=True)
        logs: dict[str, float] = defaultdict(float)
        finite = True
        for _ in range(self.cfg.grad_accum):
            batch = self._next_batch()
            with autocast(self.device, self.dtype):
                loss, parts = phase.loss(batch)
            if not torch.isfinite(loss.detach()):
                finite = False
            scaler.scale(loss / self.cfg.grad_accum).backward()
            for k, v in parts.items():
                logs[k] += float(v) / self.cfg.grad_accum
        if self.dist.world > 1:
            import torch.distributed as dist

            grads = [p.grad for p in params if p.grad is not None]
            for g in grads:
                dist.all_reduce(g)
                g.div_(self.dist.world)
        scaler.unscale_(opt)
        clip = self.cfg.grad_clip if self.cfg.grad_clip else float("inf")
        with_grad = [p for p in params if p.grad is not None]
        norm = float(torch.nn.utils.clip_grad_norm_(with_grad, clip)) if with_grad else 0.0
        logs[f"grad_norm_{phase.optimizer}"] = norm
        if scaler.is_enabled():
            finite = finite and math.isfinite(sum(logs.values()) - norm)  # scaler handles inf grads
        else:
            finite = finite and math.isfinite(norm)
        if finite:
            scaler.step(opt)
        else:
            opt.zero_grad(set_to_none=True)
        scaler.update()
        logs["_finite"] = float(finite)
        if finite and norm > self.cfg.grad_warn:
            self._warn(HealthWarning(f"gradient norm of {phase.optimizer} is {norm:.1f} (> --grad-warn "
                                     f"{self.cfg.grad_warn})", "grad_norm",
                                     "a lower --lr or a --grad-clip if it keeps growing"),
                       key=f"gradnorm-{phase.optimizer}")
        return logs

    def _warn(self, msg: str, key: str | None = None) -> None:
        """A health event, once per ``key``: the observer prints it, records and logs it (main process only)."""
        key = key or msg
        if key in self.run.warned or not self.dist.main:
            return
        self.run.warned.add(key)
        self.observer.health(HealthEvent.of(self.run.step, msg))

    def step(self) -> bool:
        """One optimizer step of every phase (after :meth:`setup`); False if it was skipped as non-finite.

        Runs the lr schedule, each phase's zero_grad / autocast / backward / grad-norm clip / optimizer
        step, the distributed sync and the EMA update; logging, samples and checkpoints are the loop's.
        """
        step = self.run.step
        factor = lr_factor(self.cfg, step) * self.run.lr_scale
        for opt in self.trainer.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * factor
        ok = True
        for phase in self.trainer.phases(step):
            for _ in range(phase.repeats):
                logs = self._apply_phase(phase)
                ok = ok and bool(logs.pop("_finite"))
                for k, v in logs.items():
                    self.run.logs[k].append(v)
        if self.dist.world > 1:
            self._broadcast()
        if ok and self.ema:
            self.ema.update(self.model)
        self.run.logs["lr"].append(factor * self.cfg.lr)
        return ok

    def _handle_nonfinite(self) -> bool:
        """React to a skipped step; True if the run was rolled back to a checkpoint."""
        self.run.nonfinite_streak += 1
        mode = self.cfg.on_nonfinite
        msg = f"non-finite loss or gradient at step {self.run.step}; the update was skipped"
        fix = "a lower --lr, --grad-clip 1, or --precision fp32 if it repeats"
        if mode == "rollback" and self.run.nonfinite_streak <= 5:
            found = ckpt.latest(self.run.out / "checkpoints")
            if found:
                _, tensors, state = found
                scale = self.run.lr_scale * 0.5
                streak, at = self.run.nonfinite_streak, self.run.step
                self._restore(tensors, state)
                self.run.lr_scale, self.run.nonfinite_streak = scale, streak
                self.batches = self._loader()
                rolled = f"{msg}; rolled back to step {state['step']} with lr x{scale:g}"
                self.observer.health(HealthEvent(at, "rollback", rolled, fix))
                return True
        streak = self.run.nonfinite_streak
        if mode == "abort" or streak >= 20 or (mode == "rollback" and streak > 5):
            self.save_checkpoint()
            raise ZooError(f"{msg}; training stopped after {self.run.nonfinite_streak} such step(s) "
                           f"(checkpoint kept). Try a lower --lr, --grad-clip 1, or --precision fp32")
        self._warn(HealthWarning(msg + f" (--on-nonfinite {mode})", "nonfinite", fix),
                   key=f"nonfinite-{self.run.step // 100}")
        return False

    def _log(self, started: float, done_steps: int) -> dict:
        logs = {k: sum(v) / len(v) for k, v in self.run.logs.items() if v and not k.startswith("_")}
        histograms = {k: list(v) for k, v in self.run.logs.items() if k.startswith("grad_norm") and v}
        for msg in self.trainer.health(logs):
            self._warn(msg)  # its own metrics.jsonl record, written before this step's
        elapsed = max(time.perf_counter() - started, 1e-9)
        record = {"step": self.run.step, "time": round(time.time(), 3),
                  "img_per_s": round(done_steps * self.cfg.batch_size / elapsed, 2),
                  **{k: round(v, 6) for k, v in logs.items()}}
        if self.dist.main:
            jsonl.append(self.run.out / "metrics.jsonl", record)
            self.observer.record(record, histograms)
        self.run.logs = defaultdict(list)
        return record

    def sample_grid(self, name: str | None = None) -> Path | None:
        from .images import save_grid

        if not self.dist.main:
            return None
        model = self.ema.model if self.ema else self.model
        kwargs = dict(getattr(self.trainer, "preview_kwargs", {}) or {})
        was_training = model.training
        model.eval()
        images = model.generate(self.cfg.sample_n, seed=self.cfg.seed, **kwargs)
        model.train(was_training)
        meta = {"model": self.spec.name, "step": self.run.step, "seed": self.cfg.seed, "ema": bool(self.ema),
                "sampler": kwargs.get("sampler") or next(iter(self.spec.samplers), None),
                **{k: v for k, v in kwargs.items() if isinstance(v, (int, float, str, list, tuple))}}
        path = save_grid(images, self.run.out / "samples" / (name or f"step_{self.run.step:08d}.png"), meta=meta)
        self.observer.grid(self.run.step, path)
        return path

    def evaluate(self) -> dict | None:
        """Periodic evaluation of the sampling (EMA) model; the real statistics are computed once."""
        if not self.dist.main:
            return None
        if getattr(self, "_evaluator", None) is None:
            from .metrics import Evaluator

            self._evaluator = Evaluator(self.cfg.eval_metrics, extractor=self.cfg.eval_extractor, data=self.data_cfg,
                                        n_real=self.cfg.eval_n, device=self.device, seed=self.cfg.seed)
        from .metrics.periodic import eval_sampling, eval_summary

        model = self.ema.model if self.ema else self.model
        model.eval()
        sampling, started = eval_sampling(self.trainer, self.cfg), time.perf_counter()
        results = self._evaluator(model, n=self.cfg.eval_n, gen_kwargs=sampling)["metrics"]
        model.train()
        record = {"step": self.run.step, "time": round(time.time(), 3), "eval": results, **sampling}
        jsonl.append(self.run.out / "metrics.jsonl", record)
        self.observer.evaluation(self.run.step, results)
        self.console.print(eval_summary(self.run.step, results, self.cfg.eval_n, sampling,
                                        time.perf_counter() - started), highlight=False)
        self.last_eval = results  # the model card reports the latest numbers
        return results

    def _install_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handler(signum, frame):
            if self.run.stop:  # second Ctrl-C: give up at once
                raise KeyboardInterrupt
            self.run.stop = True
            self.console.print("[yellow]stopping: finishing this step and writing a checkpoint...[/]")

        return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def run_training(self) -> Path:
        self.run = Run(out=self._run_dir())
        out = self.run.out
        existing = ckpt.list_checkpoints(out / "checkpoints")
        if self.cfg.resume and not existing and not distributed_mod.restart_count():
            raise ZooError(f"--resume: no checkpoint in {out / 'checkpoints'}; drop --resume to start a new run")
        prev = (load_run_config(out) or {}).get("zoo_model")
        if prev and prev != self.spec.name:
            raise ZooError(f"{out} is a {prev} run; choose another --out for {self.spec.name}")
        if os.environ.get("RANK", "0") == "0":  # one writer per run folder; unwritable --out fails before the build
            self._lock = runlock.acquire(out)
            ckpt.remove_stale_temps(out)  # half-written folders of a killed run: the lock says it is gone
        with distributed_mod.peer_guard(out):  # a lost peer process ends in one line, not a gloo traceback
            self.setup()
            self.observer = RunObserver(self)
            self._resume(out, existing)
            if self.dist.main:
                out.mkdir(parents=True, exist_ok=True)
                write_run_config(out, self.spec, self.model_cfg, self.cfg, self.data_cfg)
            self.observer.start()
            self.batches = self._loader()
            previous = self._install_signals()
            try:
                self._loop()
            finally:
                self.observer.close()
                for s, h in previous.items():
                    signal.signal(s, h)
            if self.dist.world > 1:
                import torch.distributed as dist

                dist.barrier()
        return out

    def _resume(self, out: Path, existing: list[Path]) -> None:
        """Continue from the newest valid checkpoint, if any: a plain re-run, ``--resume`` and a torchrun
        elastic restart all take this path; every rank must find the same one."""
        found = ckpt.latest(out / "checkpoints") if existing else None
        if existing and found is None:
            raise ZooError(f"every checkpoint in {out / 'checkpoints'} is corrupt; move them away to restart")
        distributed_mod.agree_on_checkpoint(found[0] if found else None, out)
        if found is None:
            return
        path, tensors, state = found
        self._restore(tensors, state)
        if self.dist.main:
            restart = distributed_mod.restart_count()
            how = f" (torchrun restart {restart})" if restart else ""
            self.console.print(f"resuming {out} from {path.name}{how}", highlight=False, soft_wrap=True)

    def _stopping(self) -> bool:
        """Whether to stop before the next step: a signal seen by any rank stops every rank at once."""
        stop = self.run.stop
        self._stop_agreed = distributed_mod.any_rank(stop, self.device) if self.dist.world > 1 else stop
        return self._stop_agreed

    def _loop(self) -> None:
        cfg, run = self.cfg, self.run
        self._stop_agreed = False
        started, first_step = time.perf_counter(), run.step
        with self.observer.progress() as watch:  # a bar, or plain lines every --progress-every seconds
            while run.step < cfg.steps and not self._stopping():
                ok = self.step()
                if not ok:
                    if self._handle_nonfinite():
                        continue
                else:
                    run.nonfinite_streak = 0
                run.step += 1
                done = run.step - first_step
                if run.step % cfg.log_every == 0 or run.step == cfg.steps:
                    self._log(started, done)
                if run.step % cfg.sample_every == 0:
                    self.sample_grid()
                if cfg.eval_every and run.step % cfg.eval_every == 0:
                    self.evaluate()
                if run.step % cfg.checkpoint_every == 0 or run.step == cfg.steps:
                    self.save_checkpoint()
                for cb in self.callbacks:
                    cb(self)
                watch.advance(run.step, done, time.perf_counter() - started)
        if self._stop_agreed and run.step < cfg.steps:
            self.save_checkpoint()
            self.observer.finish(stopped=True)
            return
        self.finish()

    def finish(self) -> Path | None:
        """Write the final sample grid and ``final/`` (a saved model in the hub layout)."""
        if not self.dist.main:
            return None
        import shutil

        from .hub import save_pretrained

        # the loop's grid of this very step, if it wrote one, is the final grid: sampled and logged once
        grid = self.observer.grid_at(self.run.step) or self.sample_grid(f"step_{self.run.step:08d}.png")
        model = self.ema.model if self.ema else self.model
        components = self.trainer.components() if hasattr(self.trainer, "components") else {}
        final = self.run.out / "final"
        data = self.data_cfg.data or ""
        with ckpt.staging(self.run.out, "final", "the final model") as tmp:
            save_pretrained(model, tmp, components, card={
                "datasets": [data] if data.startswith("builtin:") else None,
                "sample": "samples.png",
                "metrics": getattr(self, "last_eval", None),
                "license": self.cfg.license,
                "training": {"steps": self.run.step, **config_mod.to_dict(self.cfg),
                             **config_mod.to_dict(self.data_cfg)},
            })
            shutil.copy(grid, tmp / "samples.png")
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
        self.observer.finish(final, grid)
        return final
