"""improved-diffusion's released ``.pt`` checkpoints into zoo ``iddpm`` models.

A release file is a bare state dict of its ``UNetModel``; what it was trained with lives only in the
README's flags. So the flags come from, in order: improved-diffusion's defaults, the README's flags
for a release file recognised by name (``releases.RELEASES``), and ``--option KEY=VALUE`` given by
the user (``zoo convert model.pt --format improved-diffusion --option image_size=64 ...``).
The zoo U-Net has the same layout; keys map one to one, except that q/k/v rows are regrouped
(improved-diffusion interleaves them per head) and 1-d convolutions gain their 1x1 kernel axes.
The pickle is read with ``torch.load(weights_only=True)`` only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zoo_core.errors import ZooError
from zoo_core.importing import checkpoint_file, is_release, load_checked, read_tensors, write_model

from .releases import DEFAULTS, RELEASES

MULTS = {256: (1, 1, 2, 2, 4, 4), 64: (1, 2, 3, 4), 32: (1, 2, 2, 2)}  # script_util's choice per image size
SUFFIXES = (".pt", ".pth")


def detect(path: Path) -> bool:
    """One of the released files, recognised by its name (their flags are known)."""
    return is_release(path, RELEASES, SUFFIXES)


def _coerce(key: str, value: Any) -> Any:
    default = DEFAULTS[key]
    if not isinstance(value, str) or isinstance(default, str):
        return value
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "1", "0"):
            raise ZooError(f"improved-diffusion flag {key} expects True or False, got {value!r}")
        return value.lower() in ("true", "1")
    try:
        return type(default)(value)
    except ValueError:
        raise ZooError(f"improved-diffusion flag {key} expects {type(default).__name__}, got {value!r}") from None


def flags_for(path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """improved-diffusion's defaults < the README's flags for a known release < ``options``."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ZooError(f"unknown improved-diffusion flag(s) {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    release = RELEASES.get(Path(path).stem, (0, "", {}))[2]
    return {**DEFAULTS, **release, **{k: _coerce(k, v) for k, v in options.items()}}


def zoo_config(flags: dict[str, Any]) -> dict[str, Any]:
    """zoo ``iddpm`` config values equal to improved-diffusion's model and diffusion for ``flags``."""
    size = flags["image_size"]
    if size not in MULTS:
        raise ZooError(f"image_size {size} is not one improved-diffusion builds (32, 64, 256)")
    if flags["predict_xstart"]:
        raise ZooError("predict_xstart=True (x0-predicting) checkpoints are not supported")
    if flags["num_heads_upsample"] not in (-1, flags["num_heads"]):
        raise ZooError("num_heads_upsample different from num_heads is not supported")
    T = int(flags["diffusion_steps"])
    variance = "learned" if flags["learn_sigma"] else "small" if flags["sigma_small"] else "large"
    return dict(
        res=size, in_channels=3, channels=flags["num_channels"], channel_mults=MULTS[size],
        num_res_blocks=flags["num_res_blocks"],
        attn_res=tuple(int(r) for r in str(flags["attention_resolutions"]).split(",") if r.strip()),
        num_heads=flags["num_heads"], dropout=float(flags["dropout"]), scale_shift_norm=flags["use_scale_shift_norm"],
        resblock_updown=False, class_cond=bool(flags["class_cond"]), num_classes=1000 if flags["class_cond"] else 0,
        norm_groups=32, timesteps=T, beta_schedule=flags["noise_schedule"], variance=variance,
        loss="vlb" if flags["use_kl"] else "hybrid" if variance == "learned" else "simple",
        time_scale=1000.0 / T if flags["rescale_timesteps"] else 1.0,
    )


PARTS = {"in_layers.0": "norm1", "in_layers.2": "conv1", "emb_layers.1": "emb", "out_layers.0": "norm2",
         "out_layers.3": "conv2", "skip_connection": "skip", "norm": "norm", "qkv": "qkv", "proj_out": "proj",
         "op": "conv", "conv": "conv"}
BLOCK = re.compile(r"^(input_blocks|middle_block|output_blocks)\.(?:(\d+)\.)?(\d+)\.(.+)\.(weight|bias)$")
TOP = {"time_embed.0": "unet.time.0", "time_embed.2": "unet.time.2", "label_emb": "unet.label",
       "input_blocks.0.0": "unet.inp", "out.0": "unet.out.0", "out.2": "unet.out.2"}


def convert_state(state: dict[str, Any], heads: int) -> dict[str, Any]:
    """An improved-diffusion UNetModel state dict in the zoo ``iddpm`` model's keys and layouts."""
    out = {}
    for key, tensor in state.items():
        prefix, _, param = key.rpartition(".")
        if prefix in TOP:
            out[f"{TOP[prefix]}.{param}"] = tensor
            continue
        m = BLOCK.match(key)
        if m is None or m.group(4) not in PARTS:
            raise ZooError(f"unexpected tensor {key!r} in the improved-diffusion checkpoint")
        group, index, layer, part, param = m.groups()
        if group == "middle_block":
            zoo = f"unet.mid.{layer}"
        elif group == "input_blocks":
            zoo = f"unet.down.{int(index) - 1}.{layer}"
        else:
            zoo = f"unet.up.{index}.{layer}"
        name = PARTS[part]
        if name == "qkv":  # rows are (head, q/k/v, channel) there, (q/k/v, head, channel) here
            c3 = tensor.shape[0]
            tensor = tensor.reshape(heads, 3, c3 // 3 // heads, -1).transpose(0, 1).reshape(c3, *tensor.shape[1:])
        if name in ("qkv", "proj") and param == "weight":
            tensor = tensor.reshape(*tensor.shape[:2], 1, 1)
        out[f"{zoo}.{name}.{param}"] = tensor
    return out


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``iddpm`` saved model of the improved-diffusion checkpoint ``path`` into ``out``."""
    from zoo_core.config import build

    from .config import IDDPMConfig
    from .model import IDDPM

    path = checkpoint_file(path, "an improved-diffusion .pt checkpoint")
    flags = flags_for(path, options)
    cfg = build(IDDPMConfig, zoo_config(flags), source=f"the improved-diffusion flags for {path.name}")
    state = convert_state(dict(read_tensors(path)), cfg.num_heads)
    hint = "" if path.stem in RELEASES or options else \
        " (an unknown file: pass its MODEL_FLAGS/DIFFUSION_FLAGS as --option KEY=VALUE)"
    model = load_checked(lambda: IDDPM(cfg), state, str(path) + hint)
    return write_model(model.eval(), out)
