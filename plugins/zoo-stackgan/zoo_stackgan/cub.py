"""Caltech-UCSD Birds-200-2011 with Reed et al.'s ten captions per image: ``--data cub:DIR[?OPTIONS]``.

Expected layout (the CUB tarball plus ``text_c10`` from Reed et al. 2016, as StackGAN uses it)::

    DIR/images/<class>/<file>.jpg     DIR/images.txt   DIR/train_test_split.txt   DIR/bounding_boxes.txt
    DIR/text_c10/<class>/<file>.txt   (or DIR/../text_c10, as in StackGAN's data/birds/, or ?text=PATH)

Options after ``?`` (joined with ``&``):

* ``split=train|test|all``: CUB's own image split from ``train_test_split.txt`` (default train;
  all when the file is missing);
* ``classes=FILE``: keep only the classes listed (one per line), e.g. Reed et al.'s
  ``trainvalclasses.txt`` / ``testclasses.txt`` for the class-disjoint split StackGAN reports on
  (combine with ``split=all``);
* ``bbox=1|0``: crop each bird to a square of 1.5x the longer side of its bounding box around the
  box centre, clipped at the image edges, as the authors' code does (default 1);
* ``text=DIR``: where ``text_c10`` is.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from urllib.parse import parse_qs

from zoo_core.data import Source
from zoo_core.errors import ZooError

BBOX_SCALE = 1.5  # crop side / longer box side (the authors' R = 0.75 * max(w, h) on each side)


def _table(path: Path) -> dict[str, list[str]]:
    """``id rest...`` lines of a CUB metadata file -> {id: [rest...]}."""
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts:
            out[parts[0]] = parts[1:]
    return out


def _flag(value: str, name: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ZooError(f"cub: {name}= expects 1 or 0, got {value!r}")


def crop_box(size: tuple[int, int], box: tuple[float, float, float, float], scale: float = BBOX_SCALE
             ) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the bird crop for an image of ``size`` (w, h) and box (x, y, w, h)."""
    width, height = size
    x, y, w, h = box
    r = int(max(w, h) * scale / 2)
    cx, cy = int(x + w / 2), int(y + h / 2)
    return max(0, cx - r), max(0, cy - r), min(width, cx + r), min(height, cy + r)


class CUBSource(Source):
    """The images, class labels, ten captions and bounding boxes of one CUB split."""

    def __init__(self, root: str | Path, split: str | None = None, bbox: bool = True,
                 classes: str | Path | None = None, text: str | Path | None = None):
        root = Path(root).expanduser()
        if not (root / "images").is_dir():
            raise ZooError(f"cub: {root} has no images/ folder (point --data cub:DIR at CUB_200_2011)")
        ids: list[str]
        listing = root / "images.txt"
        if listing.is_file():
            table = _table(listing)
            ids, rels = list(table), [v[0] for v in table.values()]
        else:
            rels = sorted(p.relative_to(root / "images").as_posix() for p in (root / "images").glob("*/*.jpg"))
            ids = [str(i + 1) for i in range(len(rels))]
        split_file = root / "train_test_split.txt"
        split = split or ("train" if split_file.is_file() else "all")
        if split not in ("train", "test", "all"):
            raise ZooError(f"cub: split= must be train, test or all, got {split!r}")
        keep = [True] * len(ids)
        if split != "all":
            if not split_file.is_file() or not listing.is_file():
                raise ZooError(f"cub: split={split} needs images.txt and train_test_split.txt in {root} (or split=all)")
            flags = _table(split_file)
            keep = [flags.get(i, ["0"])[0] == ("1" if split == "train" else "0") for i in ids]
        if classes is not None:
            path = Path(classes).expanduser()
            if not path.is_file():
                raise ZooError(f"cub: classes={path} does not exist")
            wanted = {ln.split()[-1] for ln in path.read_text().splitlines() if ln.strip()}
            keep = [k and rel.split("/")[0] in wanted for k, rel in zip(keep, rels, strict=True)]
        boxes = _table(root / "bounding_boxes.txt") if bbox and (root / "bounding_boxes.txt").is_file() else {}
        if bbox and not boxes:
            warnings.warn(f"cub: no bounding_boxes.txt in {root}; using whole images", stacklevel=2)
        chosen = [(i, rel) for i, rel, k in zip(ids, rels, keep, strict=True) if k]
        if not chosen:
            raise ZooError(f"cub: no images in {root} for split={split}" + (f" and classes={classes}" if classes else ""))
        self.root = root
        self.paths = [root / "images" / rel for _, rel in chosen]
        self.boxes = [tuple(float(v) for v in boxes[i][:4]) if i in boxes else None for i, _ in chosen]
        self.class_names = sorted({rel.split("/")[0] for _, rel in chosen})
        index = {c: k for k, c in enumerate(self.class_names)}
        self.labels = [index[rel.split("/")[0]] for _, rel in chosen]
        self.captions = self._captions([rel for _, rel in chosen], text)

    def _captions(self, rels: list[str], text: str | Path | None) -> list[list[str]]:
        candidates = [Path(text).expanduser()] if text else [self.root / "text_c10", self.root.parent / "text_c10"]
        folder = next((c for c in candidates if c.is_dir()), None)
        if folder is None:
            raise ZooError(f"cub: no captions folder ({' or '.join(map(str, candidates))}); StackGAN uses the ten "
                           "captions per image of Reed et al. 2016 (text_c10): put them there or pass ?text=DIR")
        out, missing = [], 0
        for rel in rels:
            path = folder / Path(rel).with_suffix(".txt")
            caps = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()] \
                if path.is_file() else []
            missing += not caps
            out.append(caps)
        if missing:
            warnings.warn(f"cub: {missing} image(s) have no captions in {folder}", stacklevel=2)
        return out

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, i: int):
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            img = im.convert("RGB")
        if self.boxes[i] is not None:
            img = img.crop(crop_box(img.size, self.boxes[i]))
        return img


def cub(path: str | None = None, seed: int = 0) -> CUBSource:
    """The dataset factory behind ``--data cub:DIR[?split=...&bbox=...&classes=...&text=...]``."""
    if not path:
        raise ZooError("cub needs its folder: --data cub:/path/to/CUB_200_2011")
    folder, _, query = path.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(options) - {"split", "bbox", "classes", "text"}
    if unknown:
        raise ZooError(f"cub: unknown option(s) {', '.join(sorted(unknown))} (known: split, bbox, classes, text)")
    return CUBSource(folder, split=options.get("split"), bbox=_flag(options.get("bbox", "1"), "bbox"),
                     classes=options.get("classes"), text=options.get("text"))
