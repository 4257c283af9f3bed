"""StackGAN-Pytorch's released generators (``netG_epoch_*.pth``) into zoo ``stackgan`` models.

A release file is the state dict of ``STAGE1_G`` (a 64x64 model) or of ``STAGE2_G``, which holds its
Stage-I generator under ``STAGE1_G.`` (a 256x256 model, ``--stage both``). The networks are zoo's
own (sizes are read from the weights); their output and Stage-II input convolutions have no bias
(zoo's are set to zero) and their conditioning augmentation passes its linear layer through a ReLU
(``ca_relu``). The generators take char-CNN-RNN text embeddings, which are not in the file: give
the embeddings of the captions to sample from as ``--option embeddings=FILE`` (.npz with
``embeddings`` and ``captions``, .npy + .txt, or .safetensors; never a pickle), the same files
``--text-encoder embeddings:FILE`` reads. They are kept in the saved model (used as given, not re-standardised) and are also
the captions ``zoo sample`` draws from without ``--prompt``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zoo_core.errors import ZooError
from zoo_core.importing import checkpoint_file, entry_state, load_checked, read_checkpoint, write_model

STAGE1 = {r"ca_net\.fc\.(.+)": "ca1.fc.{0}", r"fc\.([01])\.(.+)": "g1.fc.{0}.{1}",
          r"upsample(\d)\.([12])\.(.+)": "g1.ups.{-0}.{1}.{2}", r"img\.0\.weight": "g1.to_rgb.0.weight"}
STAGE2 = {r"ca_net\.fc\.(.+)": "ca2.fc.{0}", r"encoder\.(\d)\.(.+)": "g2.encode.{0}.{1}",
          r"hr_joint\.([01])\.(.+)": "g2.joint.{0}.{1}", r"residual\.(\d+)\.block\.(\d)\.(.+)": "g2.res.{0}.body.{1}.{2}",
          r"upsample(\d)\.([12])\.(.+)": "g2.ups.{-0}.{1}.{2}", r"img\.0\.weight": "g2.to_rgb.0.weight"}


def detect(path: Path) -> bool:
    """Never by name alone: their files are all called netG_epoch_N.pth; ``--format stackgan-pytorch``."""
    return False


def _rename(key: str, table: dict[str, str]) -> str:
    for pattern, target in table.items():
        m = re.fullmatch(pattern, key)
        if m:
            groups = list(m.groups())
            if "{-0}" in target:  # their upsample blocks count from 1
                target, groups[0] = target.replace("{-0}", "{0}"), str(int(groups[0]) - 1)
            return target.format(*groups)
    raise ZooError(f"unexpected tensor {key!r} in the StackGAN generator")


def convert_state(state: dict[str, Any]) -> dict[str, Any]:
    """Their generator's tensors in zoo's names, with zero biases where theirs have none."""
    import torch

    out = {}
    for key, tensor in state.items():
        if key.startswith("STAGE1_G."):
            out[_rename(key[len("STAGE1_G."):], STAGE1)] = tensor
        else:
            out[_rename(key, STAGE2 if "STAGE1_G.fc.0.weight" in state else STAGE1)] = tensor
    for conv in ("g1.to_rgb.0", "g2.to_rgb.0", "g2.encode.0"):
        if f"{conv}.weight" in out:
            out[f"{conv}.bias"] = torch.zeros(out[f"{conv}.weight"].shape[0])
    return out


def zoo_config(state: dict[str, Any], embeddings: Path, text_dim: int, table: int, table_bytes: int) -> dict:
    """The zoo ``stackgan`` config of their generator (sizes from the weights)."""
    two = "STAGE1_G.fc.0.weight" in state
    s1 = "STAGE1_G." if two else ""
    ca = state[f"{s1}ca_net.fc.weight"]
    c_dim = ca.shape[0] // 2
    ups = len({k.split(".")[0] for k in state if k.startswith(f"{s1}upsample")} if not two else
              {k.split(".")[1] for k in state if k.startswith("STAGE1_G.upsample")})
    if ca.shape[1] != text_dim:
        raise ZooError(f"the generator takes {ca.shape[1]}-d text embeddings but {embeddings} holds {text_dim}-d ones")
    res1 = 4 * 2 ** ups
    values = dict(stage="both" if two else "1", res=res1 * 4 if two else res1, c_dim=c_dim,
                  z_dim=state[f"{s1}fc.0.weight"].shape[1] - c_dim, g_channels=state[f"{s1}img.0.weight"].shape[1],
                  g_norm="batch", ca_relu=True, text_encoder=f"embeddings:{embeddings}", text_dim=text_dim,
                  table_size=table, table_bytes=table_bytes, bank_bytes=table_bytes)
    if two:
        values.update(g2_channels=state["encoder.0.weight"].shape[0],
                      res_blocks=len({k.split(".")[1] for k in state if k.startswith("residual.")}))
    return values


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``stackgan`` saved model of the StackGAN-Pytorch generator ``path`` into ``out``."""
    import torch

    from zoo_core.config import build

    from .config import StackGANConfig
    from .model import StackGAN
    from .text_encoders import pack, packed_size, read_embeddings

    unknown = set(options) - {"embeddings"}
    if unknown:
        raise ZooError(f"the StackGAN importer takes only --option embeddings=FILE, not {', '.join(sorted(unknown))}")
    if "embeddings" not in options:
        raise ZooError("StackGAN generators take char-CNN-RNN text embeddings, which are not in the checkpoint: pass "
                       "--option embeddings=FILE (.npz with embeddings and captions; docs/models/stackgan.md)")
    path = checkpoint_file(path, "a StackGAN-Pytorch netG_epoch_N.pth")
    embeddings = Path(options["embeddings"]).expanduser().resolve()
    state = entry_state(read_checkpoint(path), path, ("netG", "state_dict"), "img.0.weight",
                        "a StackGAN-Pytorch generator")
    emb, captions = read_embeddings(embeddings)
    values = zoo_config(state, embeddings, emb.shape[1], emb.shape[0], packed_size(captions))
    cfg = build(StackGANConfig, values, source=f"the StackGAN generator in {path.name}")
    converted = convert_state(state)
    converted.update({"text.table": emb.to(torch.float16), "text.captions": pack(captions),
                      "text_norm.shift": torch.zeros(emb.shape[1]), "text_norm.scale": torch.ones(1),
                      "bank": pack(captions)})  # zoo sample without --prompt draws from these captions
    return write_model(load_checked(lambda: StackGAN(cfg), converted, str(path)).eval(), out)
