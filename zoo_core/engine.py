"""One training loop for every family: accumulation, precision, EMA, schedules, logs, samples,
health checks, atomic checkpoints with exact resume, and torch.distributed data parallelism.

A family supplies a :class:`~zoo_core.protocols.Trainer` (networks, optimizers, losses as
:class:`~zoo_core.protocols.Phase` objects); everything here is shared. Every file of the run folder is
read and written through :class:`~zoo_core.runs.Run`; what a checkpoint holds is
:mod:`zoo_core.train_state`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from . import config as config_mod
from . import distributed as distributed_mod
from . import train_state
from .data import DataConfig, ImageDataset, info_of, make_loader, open_source
from .device import Dist, autocast, init_distributed, pick_device, pick_dtype
from .errors import ZooError
from .gray import gray_note
from .health import HealthEvent, HealthWarning
from .observer import RunObserver
from .protocols import check_model_config
from .rng import seed_all
from .runs import Run, default_path
from .schedules import lr_factor
from .train_config import TrainConfig, resolve_lr
from .train_state import LoopState


class Engine:
    """Train ``spec`` with resolved configs; :meth:`run_training` trains and returns the :class:`Run` folder.

    To drive training by hand (tests, benchmarks): :meth:`setup` builds data, model and trainer, then each
    :meth:`step` is one optimizer step of every phase; ``batches`` is the iterator ``step`` draws from and
    may be replaced (e.g. by ``itertools.repeat(batch)``) to take the data loader out of a measurement.
    Most users call :func:`zoo_core.train` instead, which layers options exactly as ``zoo train`` does.
    Callbacks see ``engine.run``, the loop state (:class:`~zoo_core.train_state.LoopState`: ``step``,
    ``stop``...), whose ``folder`` is the :class:`Run` being written.
    """

    #: May :meth:`setup` set ``in_channels`` from the data (1 for gray)? ``zoo_core.training`` says yes when no
    #: layer (flag, --config, preset, resumed run, --init) gave it; an Engine built by hand keeps its config.
    channels_from_data: bool = False

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
        import torch

        cfg = self.cfg
        if getattr(self, "run", None) is None or out is not None:
            self.run = self._fresh_state(out)
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
        seed_all(cfg.seed)

        check_model_config(self.model_cfg, self.spec.name)
        res = self.model_cfg.res
        source = open_source(self.data_cfg, res, seed=cfg.seed)
        if self.channels_from_data and self.model_cfg.in_channels != 1:
            note = gray_note(source)  # gray data -> a 1-channel model; config.json records it for resume
            if note:
                self.model_cfg = dataclasses.replace(self.model_cfg, in_channels=1)
                if self.dist.main:
                    self.console.print(note, highlight=False)
        self.data_info = info_of(source)
        self.dataset = ImageDataset(source, res, self.model_cfg.in_channels, self.data_cfg)
        if self.dataset.scale_note and self.dist.main:
            self.console.print(self.dataset.scale_note, highlight=False, markup=False)
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
            distributed_mod.broadcast_modules(self.trainer.modules.values(), params=True)
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

    def _fresh_state(self, out: str | Path | None = None) -> LoopState:
        """Step 0 in the run folder ``out``, else ``--out``, else ``runs/<model>-<time>``."""
        return LoopState(Run(out if out is not None else self.cfg.out or default_path(self.spec.name)))

    # ----------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> Path | None:
        """Checkpoint the current step into the run folder (every rank must call it; rank 0 writes)."""
        captured = train_state.capture(self)
        if captured is None:
            return None
        return self.run.folder.save_checkpoint(self.run.step, *captured, keep=self.cfg.keep_checkpoints)

    def _restore(self, tensors: dict, state: dict) -> None:
        mismatch = train_state.restore(self, tensors, state)
        if mismatch:
            self._warn(HealthWarning(mismatch, "resume"), key="world-size")

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
            distributed_mod.average_gradients(params, self.dist.world)
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
            distributed_mod.broadcast_modules(self.trainer.modules.values())
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
            found = self.run.folder.latest_checkpoint()
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
            self.run.folder.append_metrics(record)
            self.observer.record(record, histograms)
        self.run.logs = defaultdict(list)
        return record

    def sample_grid(self) -> Path | None:
        """Write the sample grid of this step from the sampling (EMA) model; rank 0 only."""
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
        path = save_grid(images, self.run.folder.sample_path(self.run.step), meta=meta)
        self.observer.grid(self.run.step, path)
        return path

    def evaluate(self) -> dict | None:
        """Periodic evaluation of the sampling (EMA) model; the real statistics are computed once."""
        if not self.dist.main:
            return None
        if getattr(self, "_periodic", None) is None:
            from .metrics.periodic import PeriodicEval

            self._periodic = PeriodicEval(self.cfg, self.data_cfg, self.trainer, self.device)
        results, record, line = self._periodic(self.ema.model if self.ema else self.model, self.run.step)
        self.run.folder.append_metrics(record)
        self.observer.evaluation(self.run.step, results)
        self.console.print(line, highlight=False)
        self.last_eval = results  # the model card reports the latest numbers
        return results

    def run_training(self) -> Run:
        """Train into the run folder (continuing its newest checkpoint, if any) and return it."""
        self.run = self._fresh_state()
        folder = self.run.folder
        folder.check_continues(self.spec.name, resume=self.cfg.resume and not distributed_mod.restart_count())
        if os.environ.get("RANK", "0") == "0":  # one writer per run folder; unwritable --out fails before the build
            self._lock = folder.lock()
        with distributed_mod.peer_guard(folder.path):  # a lost peer process ends in one line, not a gloo traceback
            self.setup()
            self.observer = RunObserver(self)
            found = train_state.resume_point(folder)
            if found:
                self._restore(*found[1:])
                if self.dist.main:
                    restart = distributed_mod.restart_count()
                    how = f" (torchrun restart {restart})" if restart else ""
                    self.console.print(f"resuming {folder} from {found[0].name}{how}", highlight=False, soft_wrap=True)
            if self.dist.main:
                folder.write_config(self.spec, self.model_cfg, self.cfg, self.data_cfg)
            self.observer.start()
            self.batches = self._loader()
            with train_state.stop_on_signals(self.run, self.console):
                try:
                    self._loop()
                finally:
                    self.observer.close()
            if self.dist.world > 1:
                import torch.distributed as dist

                dist.barrier()
        return folder

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
        """Write the final sample grid and ``final/`` (a saved model in the hub layout, with its card)."""
        if not self.dist.main:
            return None
        import shutil

        from .hub import save_pretrained

        # the loop's grid of this very step, if it wrote one, is the final grid: sampled and logged once
        grid = self.observer.grid_at(self.run.step) or self.sample_grid()
        model = self.ema.model if self.ema else self.model
        components = self.trainer.components() if hasattr(self.trainer, "components") else {}
        data = self.data_cfg.data or ""
        card = {"datasets": [data] if data.startswith("builtin:") else None, "sample": "samples.png",
                "metrics": getattr(self, "last_eval", None), "license": self.cfg.license,
                "training": {"steps": self.run.step, **config_mod.to_dict(self.cfg), **config_mod.to_dict(self.data_cfg)}}

        def write(folder: Path) -> None:
            save_pretrained(model, folder, components, card=card)
            shutil.copy(grid, folder / "samples.png")

        final = self.run.folder.write_final(write)
        self.observer.finish(final, grid)
        return final
