"""Make the improved-diffusion golden files by running the original code (NOT run by the tests).

usage: python make_golden.py IMPROVED_DIFFUSION_CHECKOUT OUT_DIR

Builds the released checkpoints' networks with the README's flags through the original
``create_model_and_diffusion`` and records their state-dict key names and shapes (weights are not needed
to check a key mapping), then builds three small networks of the same families, fills every tensor by the
rule in ``fill`` (zoo_core.importing.seeded_state_dict: the tests regenerate the identical weights, so
none are stored) and records the original code's network output and reverse-step mean / log-variance for
fixed inputs.
"""

import json
import sys
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, sys.argv[1])
from improved_diffusion.script_util import create_model_and_diffusion, model_and_diffusion_defaults  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the zoo checkout: its seeded_state_dict
from zoo_core.importing import seeded_state_dict  # noqa: E402

# the README's MODEL_FLAGS + DIFFUSION_FLAGS of each released checkpoint
RELEASES = {
    "cifar10_uncond_50M_500K": dict(image_size=32, num_channels=128, num_res_blocks=3, learn_sigma=True, dropout=0.3,
                                    diffusion_steps=4000, noise_schedule="cosine"),
    "imagenet64_uncond_100M_1500K": dict(image_size=64, num_channels=128, num_res_blocks=3, learn_sigma=True,
                                         diffusion_steps=4000, noise_schedule="cosine"),
    "imagenet64_cond_270M_250K": dict(image_size=64, num_channels=192, num_res_blocks=3, learn_sigma=True,
                                      class_cond=True, diffusion_steps=4000, noise_schedule="cosine",
                                      rescale_learned_sigmas=False, rescale_timesteps=False),
    "lsun_uncond_100M_1200K_bs128": dict(image_size=256, num_channels=128, num_res_blocks=2, num_heads=1,
                                         learn_sigma=True, use_scale_shift_norm=False, attention_resolutions="16",
                                         diffusion_steps=1000, noise_schedule="linear", rescale_learned_sigmas=False,
                                         rescale_timesteps=False),
}
# small networks of the same families (32 px, 32 channels, one residual block per level)
TINY = {
    "tiny_uncond_cosine": dict(image_size=32, num_channels=32, num_res_blocks=1, learn_sigma=True, dropout=0.3,
                               diffusion_steps=4000, noise_schedule="cosine"),
    "tiny_cond_cosine": dict(image_size=32, num_channels=32, num_res_blocks=1, learn_sigma=True, class_cond=True,
                             diffusion_steps=4000, noise_schedule="cosine", rescale_learned_sigmas=False,
                             rescale_timesteps=False),
    "tiny_lsun_linear": dict(image_size=32, num_channels=32, num_res_blocks=1, num_heads=1, learn_sigma=True,
                             use_scale_shift_norm=False, attention_resolutions="16", diffusion_steps=1000,
                             noise_schedule="linear", rescale_learned_sigmas=False, rescale_timesteps=False),
}


fill = partial(seeded_state_dict, std=0.1)  # N(0, 0.1^2) per tensor


def build(flags):
    return create_model_and_diffusion(**{**model_and_diffusion_defaults(), **flags})


def main(out: Path) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    keys = {}
    for name, flags in RELEASES.items():
        with torch.device("meta"):
            model, _ = build(flags)
        keys[name] = {k: list(v.shape) for k, v in model.state_dict().items()}
    (out / "improved_diffusion_release_keys.json").write_text(json.dumps(keys, indent=0, sort_keys=True) + "\n")
    record, tensors = {}, {}
    for name, flags in TINY.items():
        model, diffusion = build(flags)
        model.load_state_dict(fill({k: tuple(v.shape) for k, v in model.state_dict().items()}))
        model.eval()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, 3, 32, 32, generator=g)
        t = torch.tensor([5, diffusion.num_timesteps - 7])
        kw = {"y": torch.tensor([3, 998])} if flags.get("class_cond") else {}
        with torch.no_grad():
            raw = diffusion._wrap_model(model)(x, t, **kw)  # what sampling calls: maps and rescales t
            p = diffusion.p_mean_variance(model, x, t, clip_denoised=True, model_kwargs=kw)
        record[name] = {"flags": flags, "t": t.tolist(), "y": kw["y"].tolist() if kw else None,
                        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}}
        tensors.update({f"{name}.x": x, f"{name}.out": raw, f"{name}.mean": p["mean"],
                        f"{name}.log_variance": p["log_variance"].expand_as(p["mean"]).contiguous()})
    (out / "improved_diffusion_tiny.json").write_text(json.dumps(record, indent=0, sort_keys=True) + "\n")
    save_file(tensors, str(out / "improved_diffusion_tiny.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[2]))
