"""diffusers-format DDPM checkpoints (``UNet2DModel`` + ``DDPMScheduler``) into zoo ``ddpm`` models.

Reads the layouts diffusers writes: a folder whose ``config.json`` is a ``UNet2DModel`` (the weights
beside it, the scheduler in ``scheduler_config.json`` or ``scheduler/``), or a pipeline folder with
``model_index.json``, ``unet/`` and ``scheduler/``. This covers google/ddpm-cifar10-32,
ddpm-celebahq-256, ddpm-church-256, ddpm-bedroom-256, ddpm-cat-256 and their ``ddpm-ema-*`` twins.

The configs map onto the zoo U-Net's options (widths, levels, attention resolutions, GroupNorm
groups and eps, the time embedding's order and frequency shift, TensorFlow-style down-sampling
padding, scale-shift time conditioning, residual up/down-sampling); a config using anything the zoo
U-Net cannot express exactly is refused with the field named, never approximated. Weights are renamed
tensor by tensor (q/k/v fused into one 1x1 conv).

Residual resampling (``ResnetDownsampleBlock2D`` / ``ResnetUpsampleBlock2D``, or ``downsample_type`` /
``upsample_type`` "resnet" on the attention blocks) is the zoo's ``resblock_updown``: diffusers'
``ResnetBlock2D(down=True)`` / ``(up=True)`` resamples after norm1 + SiLU and before conv1, and its skip
path too, with a 2x2 average pool / nearest 2x up-sampling, as the zoo's ``ResBlock`` does. The zoo
resamples every level one way, so a config that mixes conv and residual resampling is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo_core.errors import ZooError
from zoo_core.importing import first_file, load_checked, read_json, read_tensors, write_model

WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
SCHEDULERS = ("DDPMScheduler", "DDIMScheduler", "DDPMParallelScheduler", "PNDMScheduler")
# UNet2DModel arguments whose value must be this (None: absent is fine too) for the zoo U-Net to be exact
REQUIRED = {"act_fn": "silu", "time_embedding_type": "positional", "center_input_sample": False,
            "mid_block_scale_factor": 1, "class_embed_type": None,
            "add_attention": True, "mid_block_type": "UNetMidBlock2D",
            "time_embedding_dim": None, "num_train_timesteps": None}


def _unet_folder(path: Path) -> Path | None:
    """The folder holding the UNet2DModel config of a diffusers layout at ``path``, or None."""
    if not path.is_dir():
        return None
    for folder in (path, path / "unet"):
        cfg = folder / "config.json"
        if cfg.is_file() and cfg.stat().st_size < (1 << 20):
            try:
                if read_json(cfg).get("_class_name") == "UNet2DModel":
                    return folder
            except ZooError:
                return None
    return None


def detect(path: Path) -> bool:
    """A diffusers UNet2DModel folder or pipeline (judged from its JSON only)."""
    return _unet_folder(Path(path)) is not None


def _scheduler_config(path: Path, unet: Path) -> dict[str, Any]:
    for cfg in (path / "scheduler" / "scheduler_config.json", path / "scheduler_config.json",
                unet / "scheduler_config.json"):
        if cfg.is_file():
            data = read_json(cfg, "scheduler config")
            name = data.get("_class_name")
            if name not in SCHEDULERS:
                raise ZooError(f"{cfg}: scheduler {name!r} is not a DDPM-type scheduler ({', '.join(SCHEDULERS)})")
            return data
    return {}  # DDPMScheduler's defaults


def _get(cfg: dict, key: str, default: Any) -> Any:
    value = cfg.get(key, default)
    return default if value is None else value


# block type -> (has attention, how it resamples; None: as the UNet2DModel's downsample_type / upsample_type)
DOWN_BLOCKS = {"DownBlock2D": (False, "conv"), "ResnetDownsampleBlock2D": (False, "resnet"),
               "AttnDownBlock2D": (True, None)}
UP_BLOCKS = {"UpBlock2D": (False, "conv"), "ResnetUpsampleBlock2D": (False, "resnet"), "AttnUpBlock2D": (True, None)}
RESAMPLING = ("conv", "resnet")


def _levels(unet: dict, where: str) -> tuple[int, tuple[int, ...], tuple[bool, ...], bool]:
    """Base width, width multipliers, which levels have attention and whether resampling is residual
    (``resblock_updown``); refuses what the zoo cannot mirror."""
    widths = [int(c) for c in _get(unet, "block_out_channels", (224, 448, 672, 896))]
    down = list(_get(unet, "down_block_types", ()))
    up = list(_get(unet, "up_block_types", ()))
    if len(down) != len(widths) or len(up) != len(widths):
        raise ZooError(f"{where}: down_block_types, up_block_types and block_out_channels differ in length")
    bad = [b for b in down if b not in DOWN_BLOCKS] + [b for b in up if b not in UP_BLOCKS]
    if bad:
        raise ZooError(f"{where}: block type {bad[0]!r} has no zoo equivalent ({', '.join(DOWN_BLOCKS)}, "
                       f"{', '.join(UP_BLOCKS)})")
    attn = tuple(DOWN_BLOCKS[b][0] for b in down)
    if tuple(UP_BLOCKS[b][0] for b in reversed(up)) != attn:
        raise ZooError(f"{where}: attention in up_block_types does not mirror down_block_types")
    sampling = {}
    for key in ("downsample_type", "upsample_type"):
        sampling[key] = _get(unet, key, "conv")
        if sampling[key] not in RESAMPLING:
            raise ZooError(f"{where}: {key} {sampling[key]!r} has no zoo equivalent ({', '.join(RESAMPLING)})")
    # every level but the lowest down-samples and every up block but the last up-samples
    kinds = {DOWN_BLOCKS[b][1] or sampling["downsample_type"] for b in down[:-1]}
    kinds |= {UP_BLOCKS[b][1] or sampling["upsample_type"] for b in up[:-1]}
    if len(kinds) > 1:
        raise ZooError(f"{where}: some levels resample with convolutions and others with residual blocks "
                       "(down_block_types, up_block_types, downsample_type, upsample_type); the zoo U-Net "
                       "resamples every level one way")
    base = widths[0]
    if base <= 0 or any(w % base for w in widths):
        raise ZooError(f"{where}: block_out_channels {widths} are not multiples of the first")
    return base, tuple(w // base for w in widths), attn, kinds == {"resnet"}


def _schedule(sched: dict, where: str) -> dict[str, Any]:
    """DDPMScheduler settings as zoo DDPM config fields (refusing what the zoo has no exact match for)."""
    T = int(_get(sched, "num_train_timesteps", 1000))
    if sched.get("trained_betas") is not None:
        raise ZooError(f"{where}: trained_betas (a custom beta list) are not supported")
    if _get(sched, "prediction_type", "epsilon") != "epsilon":
        raise ZooError(f"{where}: prediction_type {sched['prediction_type']!r} is not supported (epsilon only)")
    if _get(sched, "thresholding", False):
        raise ZooError(f"{where}: dynamic thresholding is not supported")
    if float(_get(sched, "clip_sample_range", 1.0)) != 1.0:
        raise ZooError(f"{where}: clip_sample_range other than 1.0 is not supported")
    schedule = _get(sched, "beta_schedule", "linear")
    # what the checkpoint was trained with, not the zoo's training defaults (v-prediction, zero terminal SNR)
    out: dict[str, Any] = {"timesteps": T, "clip_denoised": bool(_get(sched, "clip_sample", True)),
                           "prediction": "eps", "zero_terminal_snr": False}
    if schedule == "linear":
        # zoo scales its linear schedule by 1000 / T (Ho et al.'s convention); diffusers does not
        out.update(beta_schedule="linear", beta_start=float(_get(sched, "beta_start", 1e-4)) * T / 1000,
                   beta_end=float(_get(sched, "beta_end", 0.02)) * T / 1000)
    elif schedule == "squaredcos_cap_v2":
        out["beta_schedule"] = "cosine"
    else:
        raise ZooError(f"{where}: beta_schedule {schedule!r} is not supported (linear, squaredcos_cap_v2)")
    variance = _get(sched, "variance_type", "fixed_small")
    table = {"fixed_small": "small", "fixed_large": "large", "learned_range": "learned"}
    if variance not in table:
        raise ZooError(f"{where}: variance_type {variance!r} is not supported ({', '.join(table)})")
    out["variance"] = table[variance]
    return out


def zoo_config(unet: dict, sched: dict, where: str = "config.json") -> dict[str, Any]:
    """The zoo ``ddpm`` config values that reproduce a UNet2DModel config and its scheduler exactly."""
    for key, want in REQUIRED.items():
        value = unet.get(key)
        if value is not None and value != want:
            raise ZooError(f"{where}: {key}={value!r} has no zoo equivalent (expected {want!r})")
    base, mults, attn, updown = _levels(unet, where)
    size = _get(unet, "sample_size", 32)
    if isinstance(size, (list, tuple)):
        if len(set(size)) != 1:
            raise ZooError(f"{where}: non-square sample_size {size} is not supported")
        size = size[0]
    res = int(size)
    in_ch, out_ch = int(_get(unet, "in_channels", 3)), int(_get(unet, "out_channels", 3))
    head_dim = unet.get("attention_head_dim")
    widths = [base * m for m in mults]
    heads = {w // head_dim for w, a in zip(widths + [widths[-1]], list(attn) + [True]) if a} if head_dim else {1}
    if len(heads) != 1 or (head_dim and any(w % head_dim for w in widths)):
        raise ZooError(f"{where}: attention_head_dim {head_dim} gives different head counts per level")
    shift = _get(unet, "resnet_time_scale_shift", "default")
    if shift not in ("default", "scale_shift"):
        raise ZooError(f"{where}: resnet_time_scale_shift {shift!r} is not supported")
    groups, attn_groups = int(_get(unet, "norm_num_groups", 32)), unet.get("attn_norm_num_groups")
    if attn_groups is not None and attn_groups != groups:
        raise ZooError(f"{where}: attn_norm_num_groups {attn_groups} differs from norm_num_groups {groups} "
                       "(the zoo U-Net uses one GroupNorm size)")
    if attn_groups is None and shift == "scale_shift":
        # diffusers' UNetMidBlock2D then builds its attention without a GroupNorm; the zoo's always has one
        raise ZooError(f"{where}: with resnet_time_scale_shift 'scale_shift' and no attn_norm_num_groups the "
                       "mid-block attention has no GroupNorm, which the zoo U-Net always has (set "
                       "attn_norm_num_groups to norm_num_groups)")
    pad = int(_get(unet, "downsample_padding", 1))
    if pad not in (0, 1):
        raise ZooError(f"{where}: downsample_padding {pad} is not supported (0 or 1)")
    values = _schedule(sched, where)
    if out_ch != in_ch * (2 if values["variance"] == "learned" else 1):
        raise ZooError(f"{where}: out_channels {out_ch} does not fit in_channels {in_ch} with variance_type "
                       f"{sched.get('variance_type', 'fixed_small')!r}")
    values.update(
        res=res, in_channels=in_ch, channels=base, channel_mults=mults,
        num_res_blocks=int(_get(unet, "layers_per_block", 2)),
        attn_res=tuple(res >> i for i, a in enumerate(attn) if a) or (res * 2,),  # res*2: no level has it
        num_heads=heads.pop(), dropout=float(_get(unet, "dropout", 0.0)),
        scale_shift_norm=shift == "scale_shift", resblock_updown=updown,
        num_classes=int(_get(unet, "num_class_embeds", 0)), norm_groups=groups,
        norm_eps=float(_get(unet, "norm_eps", 1e-5)), flip_sin_to_cos=bool(_get(unet, "flip_sin_to_cos", True)),
        freq_shift=float(_get(unet, "freq_shift", 0)), down_pad="same" if pad == 1 else "tf",
    )
    return values


def _prefixes(levels: int, blocks: int, attn: tuple[bool, ...], updown: bool) -> dict[str, tuple[str, str]]:
    """diffusers module prefix -> (zoo module prefix, kind), walking both U-Nets in the same order;
    ``updown``: the resamplers are residual blocks (whole ResnetBlock2D modules, not one conv)."""
    table = {"conv_in": ("unet.inp", "plain"), "time_embedding.linear_1": ("unet.time.0", "plain"),
             "time_embedding.linear_2": ("unet.time.2", "plain"), "class_embedding": ("unet.label", "plain"),
             "conv_norm_out": ("unet.out.0", "plain"), "conv_out": ("unet.out.2", "plain"),
             "mid_block.resnets.0": ("unet.mid.0", "res"), "mid_block.attentions.0": ("unet.mid.1", "attn"),
             "mid_block.resnets.1": ("unet.mid.2", "res")}
    conv, kind = ("", "res") if updown else (".conv", "plain")
    k = 0
    for i in range(levels):
        for j in range(blocks):
            table[f"down_blocks.{i}.resnets.{j}"] = (f"unet.down.{k}.0", "res")
            if attn[i]:
                table[f"down_blocks.{i}.attentions.{j}"] = (f"unet.down.{k}.1", "attn")
            k += 1
        if i != levels - 1:
            table[f"down_blocks.{i}.downsamplers.0{conv}"] = (f"unet.down.{k}.0{conv}", kind)
            k += 1
    for u, level in enumerate(reversed(range(levels))):
        for j in range(blocks + 1):
            k = u * (blocks + 1) + j
            table[f"up_blocks.{u}.resnets.{j}"] = (f"unet.up.{k}.0", "res")
            if attn[level]:
                table[f"up_blocks.{u}.attentions.{j}"] = (f"unet.up.{k}.1", "attn")
            if level and j == blocks:
                table[f"up_blocks.{u}.upsamplers.0{conv}"] = (f"unet.up.{k}.{2 if attn[level] else 1}{conv}", kind)
    return table


RES_NAMES = {"norm1": "norm1", "conv1": "conv1", "time_emb_proj": "emb", "norm2": "norm2", "conv2": "conv2",
             "conv_shortcut": "skip"}
# diffusers >= 0.14 names first, then the older AttentionBlock names some published repos still hold
ATTN_NAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj",
              "query": "q", "key": "k", "value": "v", "proj_attn": "proj"}


def convert_state(state: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """A UNet2DModel state dict renamed (and q/k/v fused) into the zoo ``ddpm`` model's keys."""
    import torch

    table = _prefixes(len(cfg["channel_mults"]), cfg["num_res_blocks"],
                      tuple(cfg["res"] >> i in cfg["attn_res"] for i in range(len(cfg["channel_mults"]))),
                      cfg["resblock_updown"])
    out: dict[str, Any] = {}
    qkv: dict[str, dict[str, Any]] = {}
    for key, tensor in state.items():
        prefix = max((p for p in table if key.startswith(p + ".")), key=len, default=None)
        if prefix is None:
            raise ZooError(f"unexpected tensor {key!r} in the diffusers weights (not part of the UNet2DModel config)")
        zoo, kind = table[prefix]
        module, _, param = key[len(prefix) + 1:].rpartition(".")
        names = RES_NAMES if kind == "res" else ATTN_NAMES if kind == "attn" else {"": ""}
        if module not in names:
            raise ZooError(f"unexpected tensor {key!r} in the diffusers weights")
        name = names[module]
        if kind == "attn" and name in ("q", "k", "v"):
            qkv.setdefault(zoo, {})[f"{name}.{param}"] = tensor
            continue
        if kind == "attn" and name == "proj" and param == "weight":
            tensor = tensor.reshape(*tensor.shape[:2], 1, 1)
        out[f"{zoo}.{name}.{param}" if name else f"{zoo}.{param}"] = tensor
    for zoo, parts in qkv.items():
        if len(parts) != 6:
            raise ZooError(f"incomplete attention weights for {zoo} in the diffusers weights")
        weight = torch.cat([parts[f"{n}.weight"].reshape(parts[f"{n}.weight"].shape[0], -1) for n in "qkv"])
        out[f"{zoo}.qkv.weight"] = weight[:, :, None, None]
        out[f"{zoo}.qkv.bias"] = torch.cat([parts[f"{n}.bias"] for n in "qkv"])
    return out


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``ddpm`` saved model of the diffusers DDPM at ``path`` into ``out``."""
    from zoo_core.config import build

    from .config import DDPMConfig
    from .model import DDPM

    if options:
        raise ZooError(f"the diffusers importer takes no options (got {', '.join(options)})")
    path = Path(path)
    unet_dir = _unet_folder(path)
    if unet_dir is None:
        raise ZooError(f"{path} is not a diffusers UNet2DModel folder (no config.json with _class_name UNet2DModel "
                       "here or in unet/)")
    values = zoo_config(read_json(unet_dir / "config.json"), _scheduler_config(path, unet_dir),
                        where=str(unet_dir / "config.json"))
    cfg = build(DDPMConfig, values, source=str(unet_dir / "config.json"))
    weights = first_file(unet_dir, WEIGHTS)
    if weights is None:
        raise ZooError(f"{unet_dir} has no {' or '.join(WEIGHTS)}")
    state = convert_state(dict(read_tensors(weights)), values)
    model = load_checked(lambda: DDPM(cfg), state, str(weights))
    return write_model(model.eval(), out)
