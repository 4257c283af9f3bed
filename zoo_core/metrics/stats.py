"""The real-statistics cache: what ``--save-stats`` writes and ``--stats`` reads (safetensors).

Tensors are the metrics' ``real_state()`` merged (``fid.mu``, ``fid.sigma``, ``fid.n`` in float64;
``features.pool`` rows for KID and precision/recall when those were evaluated). String metadata
records the extractor (name and weights hash, checked on load), its resize method, the number of
real images, the resolution, the data source and whether borders were cropped.

pytorch-fid ``.npz`` files (``mu``, ``sigma``) are accepted for FID too, read with
``allow_pickle=False``; they carry no record of their extractor, so none can be checked.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import ZooError

FORMAT = "1"
MAX_FEATURES = 8192  # feature width of any extractor zoo scores with (Inception: 2048); sigma 8192^2 = 512 MB


def check_npz_sizes(npz, path: Path) -> None:
    """Read the shapes of ``mu`` and ``sigma`` from their .npy headers and refuse absurd ones before loading.

    An .npz is a zip: a few kilobytes can inflate to gigabytes, so nothing is decompressed in full
    until the headers say the arrays are (D,) and (D, D) with D at most MAX_FEATURES.
    """
    import numpy as np

    shapes = {}
    for key in ("mu", "sigma"):
        with npz.zip.open(f"{key}.npy") as fp:
            version = np.lib.format.read_magic(fp)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shapes[key] = tuple(read(fp)[0])
    d = shapes["mu"][0] if len(shapes["mu"]) == 1 else None
    if d is None or shapes["sigma"] != (d, d) or not 1 <= d <= MAX_FEATURES:
        raise ZooError(f"--stats {path}: mu is {shapes['mu']} and sigma {shapes['sigma']}; expected (D,) and (D, D) "
                       f"with D at most {MAX_FEATURES} (pytorch-fid's Inception files have D = 2048)")


def save_stats(path: str | Path, metrics: dict[str, Any], extractor, info: dict[str, Any]) -> Path:
    """Write the real side of ``metrics`` (name -> metric) computed with ``extractor``."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    saved = []
    for name, metric in metrics.items():
        fn = getattr(metric, "real_state", None)
        state = fn() if fn is not None else {}
        if state:
            saved.append(name)
            tensors.update({k: v.detach().to("cpu").contiguous() for k, v in state.items()})
    if not tensors:
        raise ZooError("--save-stats: none of the metrics has real statistics to save (fid, kid and pr do)")
    meta = {"zoo_stats": FORMAT, "metrics": ",".join(saved)}
    if extractor is not None:
        desc = extractor.describe()
        meta.update(extractor=desc["name"], weights_hash=desc["weights_hash"], resize=desc["resize"],
                    quantize_uint8=str(desc["quantize_uint8"]))
    meta.update({k: json.dumps(v) if not isinstance(v, str) else v for k, v in info.items() if v is not None})
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)
    return path


def load_stats(path: str | Path, extractor=None) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a stats file; a different extractor than ``extractor`` is an error."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ZooError(f"--stats {path} does not exist (write one with --save-stats)")
    if path.suffix == ".npz":
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as f:
                check_npz_sizes(f, path)
                tensors = {"fid.mu": torch.from_numpy(f["mu"]).double(),
                           "fid.sigma": torch.from_numpy(f["sigma"]).double()}
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ZooError(f"--stats {path} is not a pytorch-fid statistics file with mu and sigma ({exc})") from None
        return tensors, {"zoo_stats": "npz", "metrics": "fid", "extractor": "unknown (pytorch-fid .npz)"}
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ZooError(f"--stats {path} is not a safetensors statistics file ({exc})") from None
    if meta.get("zoo_stats") != FORMAT:
        raise ZooError(f"--stats {path} is not a zoo statistics file (written by --save-stats)")
    if extractor is not None:
        name, digest = meta.get("extractor"), meta.get("weights_hash")
        if name != extractor.name or digest != extractor.weights_hash:
            raise ZooError(f"--stats {path} was computed with extractor {name} (weights {digest}); this run uses "
                           f"{extractor.name} (weights {extractor.weights_hash}). Pass the same --extractor/"
                           f"--weights, or recompute the real statistics with --data DIR --save-stats FILE")
    return tensors, meta
