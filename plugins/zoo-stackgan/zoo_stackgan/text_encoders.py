"""The text encoders of :mod:`zoo_stackgan.text`: bag of words, precomputed table, sentence-transformers.

Whatever an encoder learns from the data lives in the config (a vocabulary) or in buffers (IDF
weights, an embedding table), so a saved model re-embeds every prompt exactly as in training.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from zoo_core.errors import ZooError

from .text import parse

WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Lower-cased words (letters and digits, any script)."""
    return WORD.findall(text.lower())


def pack(texts: list[str]) -> torch.Tensor:
    """Strings -> one uint8 tensor (UTF-8, newline separated), storable in safetensors."""
    data = "\n".join(t.replace("\n", " ") for t in texts).encode("utf-8")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone() if data else torch.zeros(0, dtype=torch.uint8)


def packed_size(texts: list[str]) -> int:
    return len("\n".join(t.replace("\n", " ") for t in texts).encode("utf-8"))


def unpack(buf: torch.Tensor) -> list[str]:
    if buf.numel() == 0:
        return []
    return bytes(buf.cpu().numpy().tobytes()).decode("utf-8").split("\n")


def _flat(captions: list[list[str]]) -> list[str]:
    return [c.strip() for caps in captions for c in caps if c and c.strip()]


class BagOfWordsEncoder(nn.Module):
    """TF-IDF bag of words over a vocabulary fitted on the training captions, L2-normalised.

    Word order is lost, but colours, shapes and bird parts ("red wings", "short beak") survive,
    and Conditioning Augmentation's linear layer learns the projection. The vocabulary is the
    ``vocab_size`` words found in most captions (ties alphabetical) and is stored in the config;
    the IDF weights are a buffer.
    """

    def __init__(self, config):
        super().__init__()
        self.vocab = tuple(config.vocab)
        self.dim = len(self.vocab)
        if not self.dim:
            raise ZooError("the bag-of-words encoder has an empty vocabulary (train on data with captions)")
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.register_buffer("idf", torch.ones(self.dim))

    @classmethod
    def adapt(cls, config, captions: list[list[str]]):
        if config.vocab:
            return config
        texts = _flat(captions)
        if not texts:
            raise ZooError("--text-encoder bow is fitted on the captions, but the data has none "
                           "(add metadata.jsonl or .txt captions, or use builtin:shapes / cub:DIR)")
        df = Counter(w for t in texts for w in set(tokens(t)))
        words = sorted(df, key=lambda w: (-df[w], w))[: config.vocab_size]
        config.vocab = tuple(words)
        config.text_dim = len(words)
        return config

    def fit(self, captions: list[list[str]]) -> None:
        texts = _flat(captions)
        df = torch.zeros(self.dim)
        for t in texts:
            for w in set(tokens(t)):
                if w in self.index:
                    df[self.index[w]] += 1
        self.idf.copy_(torch.log((1 + len(texts)) / (1 + df)) + 1)  # smoothed IDF, always > 0

    def check(self, texts: list[str]) -> None:
        """Raise when a prompt has no known word; warn about the unknown words it ignores."""
        unknown: dict[str, None] = {}
        for t in texts:
            words = tokens(t)
            if not any(w in self.index for w in words):
                examples = ", ".join(self.vocab[:12])
                raise ZooError(f"none of the words of prompt {t!r} is in this model's vocabulary of "
                               f"{self.dim} words (e.g. {examples})")
            unknown.update((w, None) for w in words if w not in self.index)
        if unknown:
            warnings.warn(f"ignoring word(s) the model never saw in training: {', '.join(unknown)}", stacklevel=3)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), self.dim)
        for row, t in enumerate(texts):
            for w, k in Counter(tokens(t)).items():
                if w in self.index:
                    out[row, self.index[w]] = 1 + math.log(k)
        out = out.to(self.idf.device) * self.idf
        return out / out.norm(dim=1, keepdim=True).clamp_min(1e-12)


def read_embeddings(path: str | Path) -> tuple[torch.Tensor, list[str]]:
    """(embeddings [N, D] float32, captions [N]) from .npz, .npy (+ .txt) or .safetensors; never unpickles."""
    import numpy as np

    path = Path(path).expanduser()
    if not path.is_file():
        raise ZooError(f"--text-encoder embeddings: {path} does not exist")
    suffix = path.suffix.lower()
    captions = None
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if "embeddings" not in z.files:
                    raise ZooError(f"{path} has no 'embeddings' array (it has {', '.join(z.files)})")
                emb = z["embeddings"]
                captions = [str(c) for c in z["captions"].reshape(-1)] if "captions" in z.files else None
        elif suffix == ".npy":
            emb = np.load(path, allow_pickle=False)
        elif suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), "np") as f:
                if "embeddings" not in f.keys():
                    raise ZooError(f"{path} has no 'embeddings' tensor")
                emb = f.get_tensor("embeddings")
                meta = f.metadata() or {}
            if "captions" in meta:
                captions = [str(c) for c in json.loads(meta["captions"])]
        else:
            raise ZooError(f"--text-encoder embeddings: {path} must be .npz, .npy or .safetensors "
                           "(pickles are never loaded; see docs/models/stackgan.md to convert them)")
    except ValueError as exc:  # numpy refusing an object (pickled) array
        raise ZooError(f"{path} could not be read without unpickling ({exc}); store plain float arrays "
                       "and unicode captions (docs/models/stackgan.md shows the conversion)") from None
    if captions is None:
        side = path.with_suffix(".txt")
        if not side.is_file():
            raise ZooError(f"{path} has no captions: put them in the .npz as 'captions', in the safetensors "
                           f"metadata as 'captions', or one per line in {side}")
        captions = [ln.strip() for ln in side.read_text().splitlines() if ln.strip()]
    emb = np.asarray(emb, dtype=np.float32).reshape(-1, np.asarray(emb).shape[-1])
    if len(captions) != emb.shape[0]:
        raise ZooError(f"{path}: {emb.shape[0]} embeddings but {len(captions)} captions")
    return torch.from_numpy(emb.copy()), [c.strip() for c in captions]


class PrecomputedEncoder(nn.Module):
    """A caption -> embedding table from a file (e.g. CUB's char-CNN-RNN embeddings).

    It can only embed captions it holds; the table (float16) and its captions are buffers, so a
    saved model carries them. Convert the authors' pickles once as docs/models/stackgan.md shows.
    """

    def __init__(self, config):
        super().__init__()
        self.path = parse(config.text_encoder)[1]
        self.dim = config.text_dim
        self.register_buffer("table", torch.zeros(config.table_size, self.dim, dtype=torch.float16))
        self.register_buffer("captions", torch.zeros(config.table_bytes, dtype=torch.uint8))
        self._lookup: dict[str, int] | None = None
        self.register_load_state_dict_post_hook(lambda module, keys: setattr(module, "_lookup", None))

    @classmethod
    def adapt(cls, config, captions: list[list[str]]):
        if config.table_size:
            return config
        emb, texts = read_embeddings(parse(config.text_encoder)[1])
        known = set(texts)
        missing = [c for c in _flat(captions) if c not in known]
        if missing:
            raise ZooError(f"{len(missing)} caption(s) of the data have no precomputed embedding, e.g. "
                           f"{missing[0]!r}; the file must cover every training caption")
        config.text_dim, config.table_size, config.table_bytes = emb.shape[1], emb.shape[0], packed_size(texts)
        return config

    def fit(self, captions: list[list[str]]) -> None:
        emb, texts = read_embeddings(self.path)
        if tuple(emb.shape) != tuple(self.table.shape):
            raise ZooError(f"{self.path} changed since the run started: {tuple(emb.shape)} vs {tuple(self.table.shape)}")
        self.table.copy_(emb.to(torch.float16))
        self.captions.copy_(pack(texts))
        self._lookup = None

    def _index(self) -> dict[str, int]:
        if self._lookup is None:
            lookup: dict[str, int] = {}
            for i, t in enumerate(unpack(self.captions)):
                lookup.setdefault(t, i)
            self._lookup = lookup
        return self._lookup

    def check(self, texts: list[str]) -> None:
        index = self._index()
        for t in texts:
            if t.strip() not in index:
                raise ZooError(f"prompt {t!r} is not among the {len(index)} captions of this model's precomputed "
                               "embeddings (that encoder can only embed captions it was given; sample with a "
                               "caption from the data, or train with --text-encoder bow or sentence-transformers)")

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        self.check(texts)
        index = self._index()
        rows = torch.tensor([index[t.strip()] for t in texts], dtype=torch.long, device=self.table.device)
        return self.table.index_select(0, rows).float()


def _load_sentence_transformer(name: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ZooError("--text-encoder sentence-transformers needs the sentence-transformers package: "
                       "pip install 'zoo-stackgan[sentence-transformers]'") from None
    try:
        return SentenceTransformer(name, device="cpu")
    except Exception as exc:  # noqa: BLE001 - network, cache or name problems become one line
        raise ZooError(f"sentence-transformers could not load {name!r}: {str(exc).splitlines()[0]}") from None


class SentenceTransformerEncoder(nn.Module):
    """A sentence-transformers model (downloaded and cached by that package, not saved with zoo).

    config.json records the model name; ``from_pretrained`` loads it again through
    sentence-transformers, so sampling needs that package and its cache or network.
    """

    def __init__(self, config):
        super().__init__()
        self.name = parse(config.text_encoder)[1]
        self.dim = config.text_dim
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)  # follows .to(device)
        self._model = None
        self._cache: dict[str, torch.Tensor] = {}

    @classmethod
    def adapt(cls, config, captions: list[list[str]]):
        if not config.text_dim:
            config.text_dim = int(_load_sentence_transformer(parse(config.text_encoder)[1])
                                  .get_sentence_embedding_dimension())
        return config

    def fit(self, captions: list[list[str]]) -> None:
        pass

    def check(self, texts: list[str]) -> None:
        pass

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        new = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if new:
            if self._model is None:
                self._model = _load_sentence_transformer(self.name)
            emb = torch.as_tensor(self._model.encode(new, convert_to_numpy=True, show_progress_bar=False))
            if emb.shape[-1] != self.dim:
                raise ZooError(f"sentence-transformers model {self.name!r} gives {emb.shape[-1]}-d embeddings, "
                               f"this model was trained with {self.dim}")
            if len(self._cache) > 200_000:
                warnings.warn("sentence-embedding cache full; clearing it", stacklevel=2)
                self._cache.clear()
            self._cache.update({t: e.float() for t, e in zip(new, emb, strict=True)})
        return torch.stack([self._cache[t] for t in texts]).to(self._anchor.device)
