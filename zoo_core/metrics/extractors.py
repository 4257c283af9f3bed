"""Feature extractors: images in [-1, 1] -> ``{"pool": [N, D], "logits": [N, K]}``.

Every extractor is an :class:`Extractor` (an ``nn.Module``) built by a factory registered as
``MetricSpec(kind="extractor")``::

    factory(arg: str | None, *, weights: str | None = None, **options: str) -> Extractor

``arg`` is the part after ``:`` in ``timm:resnet50``; ``options`` come from ``?key=value&...``.
Inputs are first quantised to the 256 levels of an 8-bit image (as if saved as PNG, so generated
and real images are treated alike), then resized with a recorded method, then normalised the way
the network expects. ``describe()`` records name, weights hash, resize method and output sizes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ZooError
from ..rng import seeded
from .specs import lookup, parse_name, parse_value

RESIZE_METHODS = ("tf1-bilinear", "bilinear", "bilinear-aa", "bicubic", "bicubic-aa", "nearest", "none")


def resize(x: torch.Tensor, size: int | None, method: str) -> torch.Tensor:
    """Resize NCHW float images to ``size`` x ``size`` with ``method`` (see :data:`RESIZE_METHODS`).

    ``tf1-bilinear`` is TensorFlow 1's legacy ``resize_bilinear`` (source pixel = ``dst * in / out``,
    no anti-aliasing), which the standard FID Inception graph applies to its input.
    """
    if method not in RESIZE_METHODS:
        raise ZooError(f"unknown resize method {method!r} (one of {', '.join(RESIZE_METHODS)})")
    if size is None or method == "none" or tuple(x.shape[-2:]) == (size, size):
        return x
    if method == "tf1-bilinear":
        return _tf1_bilinear(x, size, size)
    mode, _, aa = method.partition("-")
    if mode == "nearest":
        return F.interpolate(x, size=(size, size), mode="nearest-exact")
    return F.interpolate(x, size=(size, size), mode=mode, align_corners=False, antialias=aa == "aa")


def _tf1_bilinear(x: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    def axis(n_in: int, n_out: int):
        src = torch.arange(n_out, dtype=torch.float64, device=x.device) * (n_in / n_out)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (src - lo).to(x.dtype)

    h_lo, h_hi, h_w = axis(x.shape[-2], out_h)
    w_lo, w_hi, w_w = axis(x.shape[-1], out_w)
    rows = x[..., h_lo, :] + (x[..., h_hi, :] - x[..., h_lo, :]) * h_w[:, None]
    return rows[..., w_lo] + (rows[..., w_hi] - rows[..., w_lo]) * w_w


def state_hash(module: nn.Module) -> str:
    """sha256 (first 16 hex digits) of a module's state: names, dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors from a ``.safetensors`` file, or a plain ``torch.save``-d state dict (no code is run)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ZooError(f"--weights {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling refusal means "not a plain state dict"
        raise ZooError(f"--weights {path} is not a safetensors file nor a plain torch state dict "
                       f"({type(exc).__name__}); TorchScript archives are not loaded (they run code)") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ZooError(f"--weights {path} holds a {type(state).__name__}, not a state dict")
    return state


class Extractor(nn.Module):
    """Base class: ``forward(images in [-1, 1]) -> {"pool": [N, D], "logits": [N, K]}`` (float32).

    Subclasses set ``size``/``resize_method`` and implement :meth:`normalize` and :meth:`features`.
    ``outputs`` lists the keys :meth:`features` returns.
    """

    outputs: tuple[str, ...] = ("pool",)
    #: Images per forward pass on a CPU: a 299 px Inception runs ~1.3x faster per image in chunks of 8 than
    #: of 64 there (its activations stay in cache and malloc stops mapping and unmapping pages; measured in
    #: docs/performance.md). Accelerators take the whole batch.
    cpu_chunk: int = 8

    def __init__(self, name: str, size: int | None, resize_method: str, quantize: bool = True,
                 weights: str = ""):
        super().__init__()
        self.name, self.size, self.resize_method = name, size, resize_method
        self.quantize, self.weights_source = quantize, weights
        self._hash: str | None = None

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Pixel values in [0, 255] -> what the network expects; default [-1, 1]."""
        return x / 127.5 - 1.0

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        x = images.detach().to(self.device, torch.float32)
        if x.ndim != 4:
            raise ZooError(f"expected images [N, C, H, W], got shape {tuple(x.shape)}")
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 4:
            x = x[:, :3]
        elif x.shape[1] != 3:
            raise ZooError(f"images have {x.shape[1]} channels; extractors take 1, 3 or 4")
        x = (x.clamp(-1, 1) + 1) * 127.5
        if self.quantize:
            x = x.round()
        return self.normalize(resize(x, self.size, self.resize_method))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        step = max(self.cpu_chunk if self.device.type == "cpu" else len(images), 1)
        with torch.inference_mode():  # an empty batch still makes one pass, for its output shapes
            parts = [self.features(self.prepare(images[i:i + step])) for i in range(0, max(len(images), 1), step)]
        return {k: torch.cat([p[k] for p in parts]).float() for k in parts[0]}

    @property
    def weights_hash(self) -> str:
        if self._hash is None:
            self._hash = state_hash(self)
        return self._hash

    def describe(self) -> dict[str, Any]:
        with torch.inference_mode():
            probe = self.features(self.normalize(torch.zeros(1, 3, self.size or 32, self.size or 32,
                                                             device=self.device)))
        return {"name": self.name, "weights_hash": self.weights_hash, "weights": self.weights_source,
                "resize": f"{self.resize_method} to {self.size}px" if self.size else "none",
                "quantize_uint8": self.quantize, "dims": {k: int(v.shape[-1]) for k, v in probe.items()}}


# ---------------------------------------------------------------- random (tests, offline smoke)
class RandomExtractor(Extractor):
    """A tiny conv net with seeded random weights: deterministic features, no download, no meaning."""

    outputs = ("pool", "logits")

    def __init__(self, name: str, seed: int = 0, dim: int = 64, classes: int = 10, size: int = 32,
                 resize_method: str = "bilinear-aa"):
        super().__init__(name, size, resize_method, weights=f"random init, seed {seed}")
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, dim, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(dim, classes)
        g = seeded(seed)
        with torch.no_grad():
            for p in self.parameters():
                fan_in = p[0].numel() if p.ndim > 1 else p.numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)

    def features(self, x):
        pool = self.net(x)
        return {"pool": pool, "logits": self.head(pool)}


def build_random(arg: str | None = None, *, weights: str | None = None, **opts: str) -> Extractor:
    if weights:
        raise ZooError("the random extractor takes no --weights")
    kw = {k: parse_value(v) for k, v in opts.items()}
    unknown = set(kw) - {"seed", "dim", "classes", "size", "resize"}
    if unknown:
        raise ZooError(f"random extractor: unknown option(s) {sorted(unknown)} (seed, dim, classes, size, resize)")
    name = "random" + (f"?{'&'.join(f'{k}={v}' for k, v in sorted(opts.items()))}" if opts else "")
    return RandomExtractor(name, seed=int(kw.get("seed", 0)), dim=int(kw.get("dim", 64)),
                           classes=int(kw.get("classes", 10)), size=int(kw.get("size", 32)),
                           resize_method=str(kw.get("resize", "bilinear-aa")))


# ---------------------------------------------------------------- timm
class TimmExtractor(Extractor):
    """A timm model: ``pool`` = pre-logits features, ``logits`` = its classifier (when it has one)."""

    def __init__(self, name: str, model: nn.Module, size: int, resize_method: str, mean, std, weights: str):
        super().__init__(name, size, resize_method, weights=weights)
        self.model = model.eval()
        self.outputs = ("pool", "logits") if getattr(model, "num_classes", 0) else ("pool",)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x):
        return (x / 255.0 - self.mean) / self.std

    def features(self, x):
        feats = self.model.forward_features(x)
        pool = self.model.forward_head(feats, pre_logits=True)
        out = {"pool": pool.flatten(1)}
        if "logits" in self.outputs:
            out["logits"] = self.model.forward_head(feats)
        return out


def build_timm(arg: str | None = None, *, weights: str | None = None, **opts: str) -> Extractor:
    try:
        import timm
    except ImportError:
        raise ZooError("timm extractors need timm: pip install 'zoo-core[metrics]'") from None
    if not arg:
        raise ZooError("name the timm model: --extractor timm:NAME (e.g. timm:resnet50, timm:vit_base_patch16_224)")
    unknown = set(opts) - {"pretrained", "size", "resize"}
    if unknown:
        raise ZooError(f"timm extractor: unknown option(s) {sorted(unknown)} (pretrained, size, resize)")
    pretrained = bool(parse_value(opts.get("pretrained", "1"))) and not weights
    try:
        model = timm.create_model(arg, pretrained=pretrained)
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            close = timm.list_models(f"*{arg.split('.')[0][:12]}*")[:5]
            hint = f"; similar: {', '.join(close)}" if close else ""
            raise ZooError(f"timm has no model {arg!r}{hint}") from None
        raise ZooError(f"timm could not build {arg!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - download errors come in many types
        raise ZooError(f"could not get pretrained weights for timm:{arg} ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}). Offline? Download them once where a "
                       f"network exists (they are cached by huggingface_hub), or pass --weights FILE "
                       f"(.safetensors), or use timm:{arg}?pretrained=0 for random weights (smoke tests only)"
                       ) from None
    source = f"timm pretrained ({model.pretrained_cfg.get('hf_hub_id') or arg})" if pretrained else "random init"
    if weights:
        state = read_state_dict(weights)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ZooError(f"--weights {weights} does not fit timm:{arg}: {str(exc).splitlines()[0]}") from None
        source = str(weights)
    cfg = timm.data.resolve_model_data_config(model)
    size = int(parse_value(opts["size"])) if "size" in opts else int(cfg["input_size"][-1])
    method = opts.get("resize") or f"{cfg.get('interpolation', 'bicubic')}-aa"
    if method not in RESIZE_METHODS:
        method = "bicubic-aa"
    name = f"timm:{arg}" + (f"?{'&'.join(f'{k}={v}' for k, v in sorted(opts.items()))}" if opts else "")
    return TimmExtractor(name, model, size, method, cfg["mean"], cfg["std"], source)


# ---------------------------------------------------------------- a user's module
class ModuleExtractor(Extractor):
    """Wraps a user's ``nn.Module`` whose forward takes [-1, 1] images and returns [N, D] or a dict."""

    def __init__(self, name: str, module: nn.Module, size: int | None, resize_method: str, weights: str):
        super().__init__(name, size, resize_method, weights=weights)
        self.module = module.eval()
        self.outputs = tuple(getattr(module, "outputs", ("pool",)))

    def features(self, x):
        out = self.module(x)
        if isinstance(out, torch.Tensor):
            out = {"pool": out}
        if not isinstance(out, dict) or "pool" not in out:
            raise ZooError(f"extractor {self.name} must return a tensor [N, D] or a dict with 'pool'")
        return {k: v.flatten(2).mean(-1) if v.ndim > 2 else v for k, v in out.items()}


def build_module(arg: str | None = None, *, weights: str | None = None, **opts: str) -> Extractor:
    from ..registry import load_object

    if not arg or ":" not in arg:
        raise ZooError("name your module as module:package.module:attr (an nn.Module, a class or a factory)")
    try:
        obj = load_object(arg)
    except (ImportError, AttributeError) as exc:
        raise ZooError(f"could not import extractor {arg!r}: {exc}") from None
    if not isinstance(obj, nn.Module) and not callable(obj):
        raise ZooError(f"extractor {arg!r} is a {type(obj).__name__}: name an nn.Module, a class or a factory")
    try:
        module = obj if isinstance(obj, nn.Module) else obj()
    except (TypeError, ValueError, RuntimeError, OSError) as exc:  # the user's code: say where it failed
        raise ZooError(f"extractor {arg}() could not be built without arguments ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(module, nn.Module):
        raise ZooError(f"{arg} gave a {type(module).__name__}, not an nn.Module")
    source = "as built"
    if weights:
        try:
            module.load_state_dict(read_state_dict(weights), strict=True)
        except RuntimeError as exc:
            raise ZooError(f"--weights {weights} does not fit {arg}: {str(exc).splitlines()[0]}") from None
        source = str(weights)
    size = int(parse_value(opts["size"])) if "size" in opts else getattr(module, "input_size", None)
    name = f"module:{arg}" + (f"?{'&'.join(f'{k}={v}' for k, v in sorted(opts.items()))}" if opts else "")
    return ModuleExtractor(name, module, size, opts.get("resize", "bilinear-aa" if size else "none"), source)


# ---------------------------------------------------------------- look-up
def build_extractor(name: str | Extractor, weights: str | None = None, device=None, registry=None) -> Extractor:
    """The extractor called ``name`` (``inception``, ``timm:NAME``, ``random``, ``module:pkg.mod:attr``)."""
    from ..registry import load_object

    if isinstance(name, Extractor):
        return name.to(device) if device is not None else name
    base, arg, opts = parse_name(name)
    spec = lookup("extractor", base, registry)
    extractor = load_object(spec.factory)(arg, weights=weights, **opts)
    if not isinstance(extractor, Extractor):
        raise ZooError(f"extractor {name!r} factory returned a {type(extractor).__name__}, not an Extractor")
    extractor.eval().requires_grad_(False)
    return extractor.to(device) if device is not None else extractor
