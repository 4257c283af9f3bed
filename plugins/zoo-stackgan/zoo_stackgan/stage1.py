"""``--stage 2 --stage1 RUN_OR_MODEL``: train Stage II on top of a trained, frozen Stage-I model.

Stage II must see the same text embeddings and the same Stage-I images the Stage-I model was
trained with, so the new model takes over that model's text encoder and Stage-I architecture
fields (config) and its weights (text encoder state, CA1, G1).
"""

from __future__ import annotations

from zoo_core.errors import ZooError

#: Config fields a Stage-II model copies from its Stage-I model.
INHERITED = ("text_encoder", "vocab_size", "text_dim", "vocab", "table_size", "table_bytes", "z_dim", "c_dim",
             "g_channels", "g_norm", "in_channels")


def _record(src: str) -> dict:
    from zoo_core.hub import read_config, resolve

    _, record = read_config(resolve(src))
    if record.get("zoo_model") != "stackgan":
        raise ZooError(f"--stage1 {src} is a {record.get('zoo_model')} model, not a stackgan one")
    return record.get("config", {})


def inherit(config):
    """``config`` with the Stage-I model's text-encoder and Stage-I fields; checks the resolutions agree."""
    if not config.stage1:
        raise ZooError("--stage 2 trains Stage II on a frozen Stage-I model: pass --stage1 RUN_OR_MODEL "
                       "(or train both stages with --stage both)")
    values = _record(config.stage1)
    res = int(values.get("res", 0))
    s1_res = res if str(values.get("stage", "1")) == "1" else res // 4
    if 4 * s1_res != config.res:
        raise ZooError(f"the --stage1 model makes {s1_res}px images and Stage II makes 4x that: pass --res {4 * s1_res}")
    for name in INHERITED:
        if name in values:
            setattr(config, name, tuple(values[name]) if name == "vocab" else values[name])
    return config


def load_stage1(model, src: str) -> None:
    """Copy the Stage-I model's text encoder (and its statistics), CA1 and G1 weights into ``model`` and freeze them."""
    from zoo_core.hub import from_pretrained

    source = from_pretrained(src, device="cpu")
    for name in ("text", "text_norm", "ca1", "g1"):
        getattr(model, name).load_state_dict(getattr(source, name).state_dict())
    model.freeze_stage1()
