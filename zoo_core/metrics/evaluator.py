"""Run metrics over a model (or generated images) and real data: one extractor pass per batch feeds
every feature metric; the real side can come from a stats cache.

Library use (and the training engine's periodic evaluation)::

    from zoo_core.metrics import evaluate, Evaluator
    results = evaluate(model, "builtin:shapes", ["fid", "kid"], n=2000, extractor="inception")
    ev = Evaluator(["fid"], extractor="inception", data=data_cfg, n_real=5000)   # build once...
    ev(model, n=2000)["metrics"]["fid"]                                           # ...call every K steps

An :class:`Evaluator` keeps its extractor and the real statistics between calls, so only the
generated side is recomputed.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import torch

from ..errors import ZooError
from ..registry import load_object
from . import images as img_src
from .specs import lookup


def _needs(obj) -> str:
    return getattr(obj, "needs", "images")


def _wants(metric, real: bool) -> bool:
    if real:
        return getattr(metric, "needs_real", True)
    return getattr(metric, "needs_fake", _needs(metric) != "model")


def _takes_labels(metric) -> bool:
    try:
        return "labels" in inspect.signature(metric.update).parameters
    except (TypeError, ValueError):
        return False


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def __enter__(self):
        if self.enabled:
            from ..progress import make_progress  # plain lines every --progress-every seconds off a terminal

            self.bar = make_progress(unit="img")
            self.bar.__enter__()
        return self

    def task(self, description: str, total: int):
        return self.bar.add_task(description, total=total) if self.bar else None

    def advance(self, task, k: int) -> None:
        if self.bar and task is not None:
            self.bar.advance(task, k)

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)


def _describe(data) -> str:
    if isinstance(data, (str, Path)):
        return str(data)
    inner = getattr(data, "data", None) or getattr(getattr(data, "cfg", None), "data", None)
    return str(inner) if inner else type(data).__name__


class Evaluator:
    """Metrics by registry name, one shared extractor, cached real statistics."""

    def __init__(self, metrics: list[str] | tuple[str, ...] | str, *, extractor: str = "inception",
                 weights: str | None = None, data: Any = None, n_real: int | None = None,
                 stats: str | Path | None = None, device=None, batch_size: int = 64, seed: int = 0,
                 crop_border: bool = False, metric_options: dict[str, dict[str, Any]] | None = None,
                 workers: int = 0, registry=None):
        from ..device import pick_device

        names = [m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
        if not names:
            raise ZooError("no metrics asked for (e.g. --metrics fid,is)")
        if len(set(names)) != len(names):
            raise ZooError(f"a metric is named twice in {','.join(names)}")
        self.specs = {name: lookup("metric", name, registry) for name in names}
        self.factories = {name: load_object(spec.factory) for name, spec in self.specs.items()}
        self.options = dict(metric_options or {})
        unknown = set(self.options) - set(names)
        if unknown:
            raise ZooError(f"options given for {sorted(unknown)}, which are not among --metrics {','.join(names)}")
        self.device = pick_device(device or "auto") if isinstance(device, (str, type(None))) else device
        self.batch_size, self.seed, self.crop_border, self.workers = batch_size, seed, crop_border, workers
        self.data, self.n_real, self.stats_path = data, n_real, stats
        self.extractor = None
        if any(_needs(f) == "features" for f in self.factories.values()):
            from .extractors import build_extractor

            self.extractor = build_extractor(extractor, weights=weights, device=self.device, registry=registry)
            for name, factory in self.factories.items():
                feature = getattr(factory, "feature", None)
                if _needs(factory) == "features" and feature and feature not in self.extractor.outputs:
                    raise ZooError(f"{name} needs the extractor's {feature!r} output, which {self.extractor.name} "
                                   f"does not give (it gives {', '.join(self.extractor.outputs)}); "
                                   "the Inception Score needs a classifier's logits")
        self.notes: list[str] = []
        self.real_state: dict[str, torch.Tensor] = {}
        self.real_info: dict[str, Any] = {}
        if stats is not None:
            from .stats import load_stats

            self.real_state, meta = load_stats(stats, self.extractor)
            self.real_info = {"source": str(stats), **meta}
        self.stats_info = dict(self.real_info) or None

    # -------------------------------------------------------------- building and feeding metrics
    def _build(self, model) -> dict[str, Any]:
        out = {}
        for name, factory in self.factories.items():
            if _needs(factory) == "model" and model is None:
                raise ZooError(f"metric {name} needs a model; SRC is a folder of images")
            try:
                out[name] = factory(extractor=self.extractor, model=model, device=self.device, seed=self.seed,
                                    **self.options.get(name, {}))
            except TypeError as exc:
                raise ZooError(f"metric {name}: {exc}") from None
        return out

    def _feed(self, metrics: list, images: torch.Tensor, real: bool, labels=None) -> None:
        groups: dict[int, tuple[Any, list]] = {}
        for m in metrics:
            if _needs(m) == "features":
                ext = getattr(m, "extractor", None) or self.extractor
                groups.setdefault(id(ext), (ext, []))[1].append(m)
            elif _needs(m) == "model" and _takes_labels(m):
                m.update(images.to(self.device), real=real,
                         labels=labels.to(self.device) if labels is not None else None)
            else:
                m.update(images.to(self.device), real=real)
        for ext, ms in groups.values():
            feats = ext(images)
            for m in ms:
                m.update_features(feats, real=real)

    # -------------------------------------------------------------- one evaluation
    def __call__(self, src, n: int | None = None, *, save_stats: str | Path | None = None,
                 gen_kwargs: dict[str, Any] | None = None, res: int | None = None, progress: bool = False,
                 n_real: int | None = None) -> dict[str, Any]:
        """Evaluate ``src``: a Generator, a tensor of images, or a folder of generated images."""
        t0 = time.perf_counter()
        model = src if hasattr(src, "generate") else None
        metrics = self._build(model)
        self.notes: list[str] = []
        fake_side = [m for m in metrics.values() if _wants(m, False)]
        real_side = [m for m in metrics.values() if _wants(m, True)]
        if isinstance(src, (str, Path)):
            folder = Path(src)
            res = res or img_src.folder_resolution(folder)
            fake_ds = img_src.folder_dataset(folder, res, self.crop_border)
            n_fake = img_src.count(fake_ds, n)
            fake_batches = (b for b, _ in img_src.dataset_batches(fake_ds, n, self.seed, self.batch_size,
                                                                  self.workers))
        elif isinstance(src, torch.Tensor):
            n_fake, fake_batches = min(n or len(src), len(src)), img_src.tensor_batches(src, n, self.batch_size)
        elif model is not None:
            if not n:
                raise ZooError("say how many images to generate (--n N)")
            n_fake = n
            fake_batches = img_src.model_batches(model, n, self.seed, self.batch_size, gen_kwargs)
        else:
            raise ZooError(f"cannot evaluate a {type(src).__name__}: pass a model, images or a folder")
        if not fake_side:
            n_fake = 0
        cfg = getattr(model, "config", None)
        res_given, res = res, res or getattr(cfg, "res", None)  # generated images' size wins, unless given
        channels = 1 if getattr(cfg, "in_channels", 3) == 1 else 3
        with _Progress(progress) as bar:
            done = 0
            task = bar.task("generated images", n_fake) if fake_side else None
            for images in fake_batches if fake_side else ():
                if self.crop_border and not isinstance(src, (str, Path)):
                    images = img_src.crop_uniform_border(images)
                res = res_given or int(images.shape[-1])
                channels = 1 if images.shape[1] == 1 else 3
                self._feed(fake_side, images, real=False)
                done += len(images)
                bar.advance(task, len(images))
            n_fake = done
            real_count, real_source = self._real_pass(real_side, res, channels, n_real or self.n_real or n_fake or None,
                                                      bar)
        if save_stats is not None:
            from .stats import save_stats as write

            write(save_stats, {k: m for k, m in metrics.items() if _wants(m, True)}, self.extractor,
                  {"n_real": real_count, "res": res, "data": real_source, "crop_border": self.crop_border})
        values: dict[str, float] = {}
        for m in metrics.values():
            values.update({k: float(v) for k, v in m.compute().items()})
        dim = (self.extractor.describe()["dims"].get("pool") if self.extractor is not None else None) or 0
        low = min(x for x in (n_fake, real_count) if isinstance(x, int))
        if "fid" in metrics and low < dim:
            self.notes.append(f"FID from {low} images with {dim}-d features: the covariance is singular and the "
                              "score strongly biased upward; compare FIDs only at equal sample counts")
        from .. import __version__

        return {
            "metrics": values, "names": list(metrics), "n_fake": n_fake, "n_real": real_count,
            "extractor": self.extractor.describe() if self.extractor is not None else None,
            "res": res, "seed": self.seed, "crop_border": self.crop_border, "real": real_source,
            "real_stats": self.stats_info, "saved_stats": str(save_stats) if save_stats else None,
            "notes": self.notes, "time_s": round(time.perf_counter() - t0, 3), "zoo_core": __version__,
        }

    def _real_pass(self, real_side: list, res, channels, n_real: int | None, bar):
        """Load cached real state where metrics accept it; one pass over real data (``n_real`` images,
        default all) for the rest."""
        cached, todo = [], []
        for m in real_side:
            if self.real_state and hasattr(m, "load_real_state"):
                try:
                    m.load_real_state(self.real_state)
                    cached.append(m)
                    continue
                except ZooError:
                    if self.stats_path is not None and self.data is None:
                        raise
            todo.append(m)
        count = self.real_info.get("n_real") if cached else None
        source = self.real_info.get("source") if cached else None
        if todo:
            if self.data is None:
                raise ZooError("real images are needed: pass --data DIR (or builtin:shapes) or --stats FILE")
            if res is None:
                raise ZooError("cannot tell the image resolution to evaluate real images at (pass res=)")
            ds = img_src.real_dataset(self.data, res, channels, self.seed, self.crop_border)
            task = bar.task("real images", img_src.count(ds, n_real))
            done = 0
            for images, labels in img_src.dataset_batches(ds, n_real, self.seed, self.batch_size, self.workers):
                self._feed(todo, images, real=True, labels=labels)
                done += len(images)
                bar.advance(task, len(images))
            count, source = done, _describe(self.data)
            for m in todo:  # later calls reuse what metrics can restore
                if hasattr(m, "real_state"):
                    self.real_state.update(m.real_state())
            self.real_info = self.real_info or {"source": source, "n_real": done, "res": res}
        if isinstance(count, str) and count.isdigit():
            count = int(count)
        cached_res = self.real_info.get("res")
        if cached and cached_res is not None and res is not None and str(cached_res) != str(res):
            self.notes.append(f"the cached real statistics were computed at {cached_res}px, the generated "
                              f"images are {res}px")
        return count, source


def evaluate(model, data=None, metrics: list[str] | tuple[str, ...] | str = ("fid",), n: int | None = None,
             extractor: str = "inception", *, weights: str | None = None, n_real: int | None = None,
             batch_size: int = 64, seed: int = 0, device=None, stats: str | Path | None = None,
             save_stats: str | Path | None = None, crop_border: bool = False, res: int | None = None,
             metric_options: dict[str, dict[str, Any]] | None = None, gen_kwargs: dict[str, Any] | None = None,
             progress: bool = False, workers: int = 0) -> dict[str, Any]:
    """Evaluate ``model`` (a Generator, an image tensor or a folder of images) against ``data``.

    Returns ``{"metrics": {name: float}, "n_fake", "n_real", "extractor": {name, weights_hash,
    resize, ...}, "res", "seed", ...}``. See :class:`Evaluator` to evaluate repeatedly.
    """
    ev = Evaluator(metrics, extractor=extractor, weights=weights, data=data, n_real=n_real, stats=stats,
                   device=device, batch_size=batch_size, seed=seed, crop_border=crop_border,
                   metric_options=metric_options, workers=workers)
    return ev(model, n, save_stats=save_stats, gen_kwargs=gen_kwargs, res=res, progress=progress)
