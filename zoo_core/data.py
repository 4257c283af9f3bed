"""Image data for training: folders of any depth or ``builtin:NAME``, recipe preprocessing, a
deterministic resumable order.

Every random choice (order, crops, flips, caption pick) is a pure function of the run's seed and
the position in the sample stream, so a resumed run sees exactly the data an uninterrupted run
would, with any number of loader workers or torch.distributed ranks.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .config import opt
from .errors import ZooError
from .labels import image_labels
from .pixels import HIGH_BIT_MODES, as_mode, mode_summary
from .rng import seeded
from .trust import parse_json

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


@dataclass
class DataConfig:
    """Where the images come from and how they are prepared (flags of ``zoo train``)."""

    data: str | None = opt(None, "image folder (any depth), builtin:NAME (e.g. builtin:shapes), or "
                                 "NAME:PATH for a plugin's dataset reader (e.g. cub:DIR)")
    center_crop: int | None = opt(None, "center-crop size in source pixels (default: the short side)",
                                  min=1, max=8192)
    resize: int | None = opt(None, "resize the short side to this after the center crop (default: --res, "
                                   "or larger when --random-crop is set)", min=1, max=8192)
    random_crop: int | None = opt(None, "random crop size after resizing (CelebA recipe: 128)",
                                  min=1, max=8192)
    flip: bool = opt(False, "random horizontal flips (off by default: flips corrupt text and asymmetric data)")
    labels: Literal["auto", "folders", "none"] = opt(
        "auto", "class labels: auto reads the folder's attributes.json (image path -> {attribute: value}) if it "
                "has one, else first-level folder names when there are 2 or more")
    workers: int | None = opt(None, "data loader worker processes (default: 0 on CPU, up to 8 on GPU)",
                              min=0, max=256)


@dataclass
class DataInfo:
    """What a trainer may need to know about its data."""

    size: int
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)  # "attribute=value" names of several labelled attributes
    labels: list[Any] = field(default_factory=list, repr=False)  # the source's own list (see zoo_core.labels)
    has_captions: bool = False
    captions: list[list[str]] = field(default_factory=list)  # all captions, per image (for text encoders)


class Source:
    """Raw items: ``load(i) -> PIL image``, ``label(i)``, ``captions(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def load(self, i: int):
        raise NotImplementedError

    def peek(self, i: int):
        """Item ``i`` for a quick look (the gray-data probe); sources may decode it at reduced size."""
        return self.load(i)


def _read_captions(root: Path, paths: list[Path]) -> list[list[str]]:
    meta = root / "metadata.jsonl"
    by_name: dict[str, list[str]] = {}
    if meta.is_file():
        for n, line in enumerate(meta.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = parse_json(line)
                by_name.setdefault(str(rec["file_name"]), []).append(str(rec["text"]))
            except (ValueError, KeyError, TypeError):
                raise ZooError(f"{meta}:{n}: expected a JSON object with file_name and text") from None
    out = []
    for p in paths:
        rel = p.relative_to(root).as_posix()
        caps = list(by_name.get(rel, []))
        txt = p.with_suffix(".txt")
        if txt.is_file():
            caps += [c.strip() for c in txt.read_text(errors="replace").splitlines() if c.strip()]
        out.append(caps)
    return out


def require_folder(root: Path) -> None:
    """The one message for a ``--data`` folder that is not there (training, and ``zoo eval`` before any weights)."""
    if not root.exists():
        raise ZooError(f"data folder {root} does not exist (pass --data DIR or --data builtin:shapes)")


class FolderSource(Source):
    """Images under a folder; labels from attributes.json or first-level folders; captions from metadata.jsonl or .txt."""

    def __init__(self, root: str | Path, labels: str = "auto", min_size: int = 1):
        from PIL import Image, UnidentifiedImageError

        self.root = root = Path(root).expanduser()
        require_folder(root)
        if not root.is_dir():
            raise ZooError(f"--data {root} is not a folder of images")
        candidates = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not candidates:
            raise ZooError(f"no images (png, jpg, webp, bmp) found under {root}")
        good, bad, small, huge = [], [], [], []
        modes: dict[str, int] = {}
        self.min_side = None  # the smallest image side, for the decode-once cache (see shrink_for)
        for p in candidates:
            try:
                with Image.open(p) as im:
                    w, h = im.size
                    modes[im.mode] = modes.get(im.mode, 0) + 1
            except Image.DecompressionBombError:  # a header claiming gigapixels: never decoded
                huge.append(p)
                continue
            except (UnidentifiedImageError, OSError, ValueError):
                bad.append(p)
                continue
            (small if min(w, h) < min_size else good).append(p)
            self.min_side = min(w, h) if self.min_side is None else min(self.min_side, w, h)
        self.modes = modes  # PIL mode -> count, read from the headers (the gray probe trusts gray ones)
        self.mode_note = mode_summary(modes)
        if self.mode_note:
            warnings.warn(f"{self.mode_note} (under {root})", stacklevel=2)
        self.shrink: int | None = None
        self._cache: dict[int, Any] = {}
        too_large = f"too large to decode safely (over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels)"
        if (bad or huge) and not good and not small:
            raise ZooError(f"none of the {len(bad) + len(huge)} image files under {root} could be read"
                           + (f": {too_large}" if not bad else ""))
        if bad:
            warnings.warn(f"skipped {len(bad)} unreadable image file(s) under {root}, e.g. {bad[0]}", stacklevel=2)
        if huge:
            warnings.warn(f"skipped {len(huge)} image file(s) under {root} {too_large}, e.g. {huge[0]}",
                          stacklevel=2)
        if small:
            raise ZooError(f"{len(small)} image(s) under {root} are smaller than the {min_size}px crop "
                           f"(e.g. {small[0]}); lower --center-crop/--random-crop or remove them")
        self.paths = good
        self.class_names, self.labels, self.attributes = image_labels(root, good, labels)
        self.captions = _read_captions(root, good)

    def __len__(self) -> int:
        return len(self.paths)

    def shrink_for(self, side: int) -> None:
        """Keep a decoded copy of each image, downscaled to ``side`` on its short edge, when every image is
        far (4x) larger than that: a 4000x4000 JPEG in a 16 px dataset is then decoded once, not on every
        access. Bounded: no cache when the copies would exceed ~1 GiB."""
        if self.min_side is None or self.min_side < 4 * side or len(self) * side * side * 12 > 2**30:
            return
        self.shrink = side

    def load(self, i: int):
        from PIL import Image

        if i in self._cache:
            return self._cache[i].copy()
        with Image.open(self.paths[i]) as im:
            if self.shrink:
                im.draft(im.mode if im.mode in ("RGB", "L") else None, (self.shrink, self.shrink))
            im.load()
            if not self.shrink:
                return im
            w, h = im.size
            k = self.shrink / min(w, h)
            small = as_mode(im, "L" if im.mode in ("1", "L", "LA", *HIGH_BIT_MODES) else "RGB")
            small = small.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.LANCZOS)
        self._cache[i] = small
        return small.copy()

    def peek(self, i: int):
        """Image ``i`` from the decode cache, else decoded near 64 px where the format allows it (JPEG
        draft mode) without filling the cache."""
        from PIL import Image

        if i in self._cache:
            return self._cache[i]
        with Image.open(self.paths[i]) as im:
            if im.mode in ("RGB", "L"):
                im.draft(im.mode, (64, 64))
            im.load()
            return im


class MemorySource(Source):
    """Items already in memory (built-in datasets): ``[(PIL image, label, [captions])]``."""

    def __init__(self, items: list[tuple[Any, int, list[str]]], class_names: list[str]):
        self.items = items
        self.class_names = class_names
        self.labels = [label for _, label, _ in items]
        self.captions = [caps for _, _, caps in items]

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int):
        return self.items[i][0]


def folder_of(data: str) -> Path | None:
    """The image folder ``--data`` names, or None for a registered dataset: ``builtin:NAME``, or a plugin's
    dataset read from a path (``cub:/data/CUB_200_2011``) when no folder of that very name exists."""
    scheme, sep, _ = data.partition(":")
    if scheme == "builtin" and sep:
        return None
    if sep and len(scheme) > 1 and "/" not in scheme and not Path(data).expanduser().exists():
        from .plugins import registry

        if scheme in registry().names("dataset"):
            return None
    return Path(data).expanduser()


def open_source(cfg: DataConfig, res: int, seed: int = 0) -> Source:
    """The raw items named by ``--data``."""
    if not cfg.data:
        raise ZooError("--data is required: a folder of images, or builtin:shapes for a built-in dataset")
    if folder_of(cfg.data) is None:
        from .plugins import registry
        from .registry import load_object

        scheme, _, arg = cfg.data.partition(":")
        if scheme == "builtin":
            return load_object(registry().dataset(arg).factory)(seed=seed)
        return load_object(registry().dataset(scheme).factory)(path=arg, seed=seed)  # cub:/data/CUB_200_2011
    min_size = cfg.center_crop or 1
    source = FolderSource(cfg.data, labels=cfg.labels, min_size=min_size)
    if not cfg.center_crop and not cfg.random_crop:  # crops count source pixels: keep full size for them
        source.shrink_for(2 * max(res, cfg.resize or 0))
    return source


def stream_seed(seed: int, k: int) -> int:
    """The seed of item ``k`` of the sample stream of a run with seed ``seed``."""
    return (seed * 0x9E3779B1 + k * 0x85EBCA77 + 1) % (2**63 - 1)


class ImageDataset:
    """Map-style dataset whose keys are ``(index, item_seed)`` pairs from :class:`StreamSampler`."""

    def __init__(self, source: Source, res: int, channels: int, cfg: DataConfig):
        if cfg.random_crop and cfg.resize and cfg.random_crop > cfg.resize:
            raise ZooError(f"--random-crop {cfg.random_crop} is larger than --resize {cfg.resize}")
        self.source, self.res, self.channels, self.cfg = source, res, channels, cfg
        self.resize = cfg.resize or (cfg.random_crop and round(cfg.random_crop * 1.125)) or res
        self.bad = 0
        side = cfg.center_crop or getattr(source, "min_side", None)
        self.scale_note: str | None = None  # downscaling is normal but should not be silent: the engine prints it
        if side and side < max(self.resize, res):
            warnings.warn(f"upscaling: the smallest image is {side}px, below the {max(self.resize, res)}px the "
                          "model is trained at (--res/--resize); images are enlarged and will look blurry",
                          stacklevel=2)
        elif side and side > self.resize:
            self.scale_note = (f"note: downscaling: images (smallest side {side}px) are resized to {self.resize}px"
                               + (f" then cropped to {res}px" if res != self.resize else "")
                               + "; set --res (and --resize) to train at another size")

    def __len__(self) -> int:
        return len(self.source)

    def _image(self, index: int, rng: random.Random):
        import torch
        import torchvision.transforms.v2.functional as F

        img = self.source.load(index)
        img = as_mode(img, "L" if self.channels == 1 else "RGB")
        x = F.pil_to_tensor(img)
        side = self.cfg.center_crop or min(x.shape[-2:])
        x = F.center_crop(x, [side, side])
        x = F.resize(x, [self.resize], antialias=True)
        crop = self.cfg.random_crop
        if crop:
            h, w = x.shape[-2:]
            top, left = rng.randint(0, h - crop), rng.randint(0, w - crop)
            x = x[..., top:top + crop, left:left + crop]
        else:
            x = F.center_crop(x, [self.resize, self.resize])
        if x.shape[-1] != self.res:
            x = F.resize(x, [self.res, self.res], antialias=True)
        if self.cfg.flip and rng.random() < 0.5:
            x = x.flip(-1)
        return x.to(torch.float32).div(127.5).sub(1.0)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        import torch
        from PIL.Image import DecompressionBombError

        index, item_seed = key
        rng = random.Random(item_seed)
        for attempt in range(len(self.source)):
            i = (index + attempt) % len(self.source)
            try:
                image = self._image(i, rng)
                break
            # a truncated file that passed the header check, or a gigapixel one in a source that checks no
            # headers first (cub:): use the next image
            except (OSError, DecompressionBombError):
                self.bad += 1
        else:  # pragma: no cover
            raise ZooError("no image in the dataset could be decoded")
        caps = self.source.captions[i] if hasattr(self.source, "captions") else []
        label = self.source.labels[i]  # one index per attribute: a tensor, batched into [B, attributes]
        return {
            "image": image,
            "label": torch.tensor(label) if isinstance(label, tuple) else label,
            "caption": caps[rng.randrange(len(caps))] if caps else "",
            "index": i,
        }


class StreamSampler:
    """An endless, seeded sample stream (reshuffled each epoch), sharded across ranks, resumable.

    ``start`` is the number of stream items all ranks together have consumed; rank ``r`` of
    ``world`` takes items ``r, r + world, ...``.
    """

    def __init__(self, n: int, seed: int, start: int = 0, rank: int = 0, world: int = 1, shuffle: bool = True):
        self.n, self.seed, self.start, self.rank, self.world, self.shuffle = n, seed, start, rank, world, shuffle

    def __iter__(self):
        import torch

        k = self.start + self.rank
        perm, epoch = None, -1
        while True:
            e, off = divmod(k, self.n)
            if e != epoch:
                g = seeded(self.seed * 7919 + e)
                perm = torch.randperm(self.n, generator=g).tolist() if self.shuffle else list(range(self.n))
                epoch = e
            yield perm[off], stream_seed(self.seed, k)
            k += self.world


def info_of(source: Source) -> DataInfo:
    caps = getattr(source, "captions", [])
    return DataInfo(
        size=len(source),
        num_classes=len(getattr(source, "class_names", [])),
        class_names=list(getattr(source, "class_names", [])),
        attributes=list(getattr(source, "attributes", [])),
        labels=getattr(source, "labels", []),
        has_captions=any(caps),
        captions=caps,
    )


def make_loader(dataset: ImageDataset, batch_size: int, seed: int, start: int, rank: int, world: int,
                workers: int, pin_memory: bool):
    """A DataLoader over the stream; it never touches the global torch RNG (resume stays exact)."""
    import torch

    sampler = StreamSampler(len(dataset), seed, start, rank, world)
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, pin_memory=pin_memory,
        persistent_workers=workers > 0, drop_last=True, generator=seeded(seed),
        prefetch_factor=4 if workers > 0 else None,
    )
