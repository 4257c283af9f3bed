"""Text encoders: determinism, fitted state, file formats (never pickles), optional packages, save/load."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
import torch
from zoo_stackgan.config import StackGANConfig
from zoo_stackgan.model import StackGAN
from zoo_stackgan.text import parse
from zoo_stackgan.text_encoders import BagOfWordsEncoder, pack, read_embeddings, unpack

from zoo_core.data import DataInfo
from zoo_core.errors import ZooError
from zoo_core.hub import from_pretrained, save_pretrained

CAPTIONS = [["a red circle on a dark background", "red circle"], ["a blue square on a grey background"],
            ["a red square on a grey background"]]


def _model(tmp_path=None, **kw) -> StackGAN:
    cfg = StackGANConfig(res=8, g_channels=4, c_dim=3, z_dim=4, compress_dim=3, **kw)
    info = DataInfo(size=len(CAPTIONS), has_captions=True, captions=CAPTIONS)
    cfg = StackGAN.adapt_config(cfg, info)
    model = StackGAN(cfg)
    model.fit_text(CAPTIONS)
    model.set_bank(CAPTIONS)
    return model.eval()


def test_bag_of_words_vocabulary_idf_and_determinism():
    model = _model()
    vocab = model.config.vocab
    assert vocab[:2] == ("a", "background")  # in most captions first, ties alphabetical
    assert set(vocab) == {"a", "red", "circle", "on", "dark", "background", "blue", "square", "grey"}
    enc: BagOfWordsEncoder = model.text
    # "a" is in every caption, "dark" in one: rarer words weigh more
    assert enc.idf[vocab.index("dark")] > enc.idf[vocab.index("a")] >= 1.0
    x = enc.encode(["a RED circle!", "a red circle", "blue"])
    assert torch.allclose(x[0], x[1]) and torch.allclose(x.norm(dim=1), torch.ones(3))
    assert torch.equal(enc.encode(["red square"]), enc.encode(["red square"]))
    with pytest.raises(ZooError, match="vocabulary"):
        enc.check(["purple hexagon"])
    with pytest.warns(UserWarning, match="purple"):
        enc.check(["a purple circle"])


def test_pack_round_trip_keeps_unicode_and_order():
    texts = ["un oiseau rouge", "小さな鳥", "a bird\nwith a line break"]
    assert unpack(pack(texts)) == ["un oiseau rouge", "小さな鳥", "a bird with a line break"]
    assert unpack(pack([])) == []


def test_save_and_load_give_identical_embeddings_and_images(tmp_path):
    model = _model()
    texts = ["a red circle", "blue square on a grey background"]
    save_pretrained(model, tmp_path / "m")
    loaded = from_pretrained(tmp_path / "m", device="cpu")
    assert loaded.config.vocab == model.config.vocab
    assert torch.equal(loaded.embed(texts), model.embed(texts))
    assert torch.equal(loaded.generate(4, seed=3, prompt=texts), model.generate(4, seed=3, prompt=texts))
    assert loaded.captions() == model.captions() == [c for caps in CAPTIONS for c in caps]


def _write_table(tmp_path, kind: str):
    emb = np.arange(3 * 2 * 4, dtype=np.float32).reshape(3, 2, 4) / 10  # 3 images x 2 captions x 4 dims
    caps = np.array([[c, c.upper()] for c in ("a red circle", "a blue square", "a red square")])
    if kind == "npz":
        path = tmp_path / "emb.npz"
        np.savez(path, embeddings=emb, captions=caps)
    elif kind == "npy":
        path = tmp_path / "emb.npy"
        np.save(path, emb)
        path.with_suffix(".txt").write_text("\n".join(caps.reshape(-1)) + "\n")
    else:
        from safetensors.numpy import save_file

        path = tmp_path / "emb.safetensors"
        save_file({"embeddings": emb}, str(path), metadata={"captions": json.dumps(caps.reshape(-1).tolist())})
    return path, emb.reshape(6, 4), list(caps.reshape(-1))


@pytest.mark.parametrize("kind", ["npz", "npy", "safetensors"])
def test_precomputed_embeddings_from_every_format(tmp_path, kind):
    path, emb, caps = _write_table(tmp_path, kind)
    got, texts = read_embeddings(path)
    assert texts == caps and torch.allclose(got, torch.from_numpy(emb))
    data = [[caps[0], caps[1]], [caps[2]]]
    cfg = StackGAN.adapt_config(StackGANConfig(res=8, g_channels=4, c_dim=3, z_dim=4,
                                               text_encoder=f"embeddings:{path}"), DataInfo(2, captions=data))
    assert (cfg.text_dim, cfg.table_size) == (4, 6)
    model = StackGAN(cfg)
    model.fit_text(data)
    model.set_bank(data)
    assert torch.allclose(model.text.encode([caps[5], caps[0]]), torch.from_numpy(emb[[5, 0]]), atol=1e-3)  # float16
    save_pretrained(model, tmp_path / "m")
    path.unlink()  # the saved model carries its table: the file is no longer needed
    loaded = from_pretrained(tmp_path / "m", device="cpu")
    assert torch.equal(loaded.embed(caps), model.embed(caps))
    with pytest.raises(ZooError, match="not among"):
        loaded.generate(1, prompt="a green triangle")


def test_precomputed_embeddings_never_unpickle_and_must_cover_the_data(tmp_path):
    bad = tmp_path / "obj.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ZooError, match="unpickling"):
        read_embeddings(bad)
    with pytest.raises(ZooError, match="pickles are never loaded"):
        (tmp_path / "x.pickle").write_bytes(b"")
        read_embeddings(tmp_path / "x.pickle")
    path, _, _ = _write_table(tmp_path, "npz")
    with pytest.raises(ZooError, match="no precomputed embedding"):
        StackGAN.adapt_config(StackGANConfig(text_encoder=f"embeddings:{path}"),
                              DataInfo(1, captions=[["an unseen caption"]]))


def test_sentence_transformers_is_optional_and_adapted(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # not installed
    with pytest.raises(ZooError, match="pip install"):
        StackGAN.adapt_config(StackGANConfig(text_encoder="sentence-transformers:tiny"), DataInfo(1, captions=CAPTIONS))

    class FakeST:
        def __init__(self, name, device=None):
            self.name = name

        def get_sentence_embedding_dimension(self):
            return 5

        def encode(self, texts, **kw):
            return np.array([[len(t), t.count("red"), 0, 1, 2] for t in texts], dtype=np.float32)

    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=FakeST))
    model = _model(text_encoder="sentence-transformers:tiny")
    assert model.config.text_dim == 5 and "text._anchor" not in model.state_dict()
    assert model.text.encode(["red red"]).tolist() == [[7.0, 2.0, 0.0, 1.0, 2.0]]
    assert model.generate(2, seed=0, prompt="anything at all").shape == (2, 3, 8, 8)


def test_custom_encoder_by_import_path():
    assert parse("mypkg.encoders:Enc:arg") == ("mypkg.encoders:Enc", "arg")
    with pytest.raises(ZooError, match="cannot import"):
        StackGAN(StackGANConfig(text_encoder="nonexistent_pkg.mod:Enc", text_dim=2))
