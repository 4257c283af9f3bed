"""Text encoders: what they promise, which exist, and how ``--text-encoder`` names one.

StackGAN conditions on a *fixed* sentence embedding (the paper uses Reed et al.'s char-CNN-RNN);
the GAN never trains the encoder. Every encoder here is an ``nn.Module`` with

* ``dim``: the embedding width D, known from the config alone;
* ``encode(texts: list[str]) -> FloatTensor[N, D]``: deterministic, no gradient;
* ``fit(captions: list[list[str]])``: fill whatever state is learnt from the training captions
  (called once by the trainer on a fresh run; a saved model gets that state from its weights).

and a classmethod ``adapt(config, captions) -> config`` that fills the config fields its shape
depends on (vocabulary, table size, width) so ``from_pretrained`` can rebuild it from config.json
and model.safetensors alone.

Encoders are named by a small table instead of a registry kind (the core has no "text-encoder"
kind); a third-party encoder can be used by its import path at training time::

    --text-encoder bow                                  bag of words fitted on the captions (default)
    --text-encoder embeddings:/data/cub_char_cnn_rnn.npz precomputed sentence embeddings
    --text-encoder sentence-transformers:all-MiniLM-L6-v2
    --text-encoder mypkg.encoders:MyEncoder[:ARG]       anything following the protocol

A saved model whose config names an import path loads only with ``trust_code=True`` /
``--trust-code`` (see :mod:`zoo_core.trust`): the named encoders above are the only code a
model folder can select.

This module imports no torch: the config validates ``--text-encoder`` with it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

ENCODERS: dict[str, str] = {
    "bow": "zoo_stackgan.text_encoders:BagOfWordsEncoder",
    "embeddings": "zoo_stackgan.text_encoders:PrecomputedEncoder",
    "sentence-transformers": "zoo_stackgan.text_encoders:SentenceTransformerEncoder",
}
NEEDS_ARG = {"embeddings": "a file: --text-encoder embeddings:PATH (.npz, .npy or .safetensors)",
             "sentence-transformers": "a model name: --text-encoder sentence-transformers:all-MiniLM-L6-v2"}


@runtime_checkable
class TextEncoder(Protocol):
    """A fixed sentence embedding (see the module docstring)."""

    dim: int

    def encode(self, texts: list[str]) -> Any: ...

    def fit(self, captions: list[list[str]]) -> None: ...


def parse(spec: str) -> tuple[str, str]:
    """``"name:arg"`` -> (import path, arg); raises ValueError with the known names."""
    spec = spec.strip()
    name, _, arg = spec.partition(":")
    if name in ENCODERS:
        if name in NEEDS_ARG and not arg:
            raise ValueError(f"--text-encoder {name} needs {NEEDS_ARG[name]}")
        return ENCODERS[name], arg
    if "." in name and ":" in spec:  # "package.module:Class[:arg]"
        module, _, rest = spec.partition(":")
        attr, _, arg = rest.partition(":")
        return f"{module}:{attr}", arg
    known = ", ".join(f"{k}:ARG" if k in NEEDS_ARG else k for k in ENCODERS)
    raise ValueError(f"unknown --text-encoder {spec!r} (use one of: {known}, or package.module:Class)")


def encoder_class(spec: str) -> type:
    """The encoder class named by ``spec``: a named one, or an import path (refused while loading a saved
    model without ``trust_code``)."""
    import importlib

    from zoo_core.trust import import_named

    path, _ = parse(spec)
    if path in ENCODERS.values():  # this plugin's own table: not a path a model folder chose
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)
    return import_named(path, "--text-encoder")
