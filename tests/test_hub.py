"""Hub: save/push/pull/from_pretrained against a local Hub-compatible server (tests/hubserver.py).

The real huggingface_hub client talks to the server over HTTP on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hub_fixtures import TinyConfig, TinyGen, cli, files_of, push_record  # fixtures: tests/conftest.py

from zoo_core.errors import PluginMissingError, ZooError
from zoo_core.hub import from_pretrained, pull, push_to_hub

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ push / pull / load
def test_push_pull_round_trip(hub, saved, tmp_path):
    info = push_to_hub(saved, "me/tiny", commit_message="first")
    assert hub.commit_count("me/tiny") == 2  # the repo's initial commit + exactly one upload commit
    assert info.commit_url.startswith(hub.url) and info.oid == hub.repos["me/tiny"].branches["main"]
    pushed = files_of(saved)
    assert set(pushed) == {"config.json", "model.safetensors", "README.md"}
    pushed["README.md"] = pushed["README.md"].replace(b"REPO_OR_FOLDER", b"me/tiny")  # the card names the repo
    assert {k: v for k, v in hub.files("me/tiny").items() if k != ".gitattributes"} == pushed
    out = pull("me/tiny", out=tmp_path / "pulled")
    assert files_of(out) == pushed
    cached = pull("me/tiny")  # no --out: the Hub cache snapshot itself
    assert str(cached).startswith(str(tmp_path / "hf-home" / "hub")) and files_of(cached) == pushed


def test_from_pretrained_repo_id_gives_identical_weights(hub, saved):
    push_to_hub(saved, "me/tiny")
    model = from_pretrained("me/tiny", device="cpu")
    original = from_pretrained(saved, device="cpu")
    for (k, a), (k2, b) in zip(original.state_dict().items(), model.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    assert torch.equal(model.generate(2, seed=3), original.generate(2, seed=3))


def test_push_model_object_revision_and_private(hub, tiny, tmp_path):
    model = TinyGen(TinyConfig(res=2, latent=1))
    push_to_hub(model, "me/obj", private=True, token="hf_writer", revision="v1")
    repo = hub.repos["me/obj"]
    assert repo.private and set(repo.branches) == {"main", "v1"}
    assert "model.safetensors" in hub.files("me/obj", "v1") and "model.safetensors" not in hub.files("me/obj")
    assert all(auth == "Bearer hf_writer" for method, _, auth in hub.requests if method == "POST")
    with pytest.raises(ZooError, match="private"):
        from_pretrained("me/obj", revision="v1")  # no token
    loaded = from_pretrained("me/obj", revision="v1", token="hf_reader", device="cpu")
    assert torch.equal(loaded.net.weight, model.net.weight)
    with pytest.raises(ZooError, match="no revision 'v2'"):
        from_pretrained("me/obj", revision="v2", token="hf_reader")


def test_push_again_is_one_more_commit(hub, saved):
    push_to_hub(saved, "me/tiny")
    (saved / "samples.png").write_bytes(b"\x89PNG not really")
    push_to_hub(saved, "me/tiny", commit_message="add samples")
    assert hub.commit_count("me/tiny") == 3
    assert hub.repos["me/tiny"].messages[hub.repos["me/tiny"].branches["main"]] == "add samples"


def test_push_run_folder_pushes_final(hub, saved, tmp_path):
    run = tmp_path / "runs" / "hubtiny-1"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"zoo_model": "hubtiny", "config": {}}))
    (run / "metrics.jsonl").write_text("{}\n")
    saved.rename(run / "final")
    push_to_hub(run, "me/run")
    assert "metrics.jsonl" not in hub.files("me/run") and "model.safetensors" in hub.files("me/run")


def test_push_errors_are_zoo_errors(hub, saved, tmp_path, monkeypatch):
    with pytest.raises(ZooError, match="repo id"):
        push_to_hub(saved, "not a repo")
    with pytest.raises(ZooError, match="not a folder"):
        push_to_hub(tmp_path / "missing", "me/x")
    with pytest.raises(ZooError, match="neither a saved model"):
        push_to_hub(tmp_path, "me/x")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ZooError, match="HF_HUB_OFFLINE"):
        push_to_hub(saved, "me/x")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ZooError, match="cannot reach the Hub"):
        push_to_hub(saved, "me/x")


# ------------------------------------------------------------------ offline
def test_offline_loads_pulled_model_from_cache(hub, saved, monkeypatch):
    from huggingface_hub import constants

    push_to_hub(saved, "me/tiny")
    pull("me/tiny")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    seen = len(hub.requests)
    model = from_pretrained("me/tiny", device="cpu")
    assert len(hub.requests) == seen  # not one request in offline mode
    assert torch.equal(model.net.weight, from_pretrained(saved, device="cpu").net.weight)
    with pytest.raises(ZooError, match=r"not in the local cache .* HF_HUB_OFFLINE is set; run `zoo pull me/other`"):
        from_pretrained("me/other")


def test_unreachable_hub_uses_cache_or_says_so(hub, saved, monkeypatch):
    from huggingface_hub import constants

    push_to_hub(saved, "me/tiny")
    pull("me/tiny")
    hub.stop()
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", "http://127.0.0.1:9/{repo_id}/resolve/{revision}/{filename}")
    assert from_pretrained("me/tiny", device="cpu").zoo_name == "hubtiny"
    with pytest.raises(ZooError, match="cannot be reached"):
        from_pretrained("me/other")


# ------------------------------------------------------------------ what a repo may hold
@pytest.mark.parametrize("changes, error, match", [
    ({"zoo_model": "xyz", "distribution": "zoo-xyz"}, PluginMissingError,
     "^this model needs zoo-xyz: pip install zoo-xyz$"),
    ({"zoo_model": "[red]xyz", "distribution": "zoo-core"}, PluginMissingError,  # installed, too old or forged
     r"^this model needs model '\[red\]xyz', which zoo-core \S+ \(installed\) does not provide: .*pip install -U "
     "zoo-core"),
    ({"zoo_format": 99}, ZooError, "zoo format 99, newer than this zoo-core understands.*pip install -U zoo-core"),
    ({"config": {"res": 1000, "latent": 3}}, ZooError, "--res in config.json: must be <= 16"),
    ({"config": {"res": "os.system('x')"}}, ZooError, "--res in config.json: expected an integer"),
    ({"config": {"res": 4, "__class__": "x"}}, ZooError, "unknown option"),
    ({"config": {"res": 8, "latent": 3}}, ZooError, "do not match the hubtiny config"),
], ids=["missing-plugin", "plugin-without-model", "newer-format", "res-too-big", "res-not-int", "unknown-option", "weights-mismatch"])
def test_a_record_no_zoo_writes_is_refused_with_the_reason(changes, error, match, hub, saved):
    """A plugin that is not installed names its distribution; bad config values and shapes are one-line errors."""
    push_record(hub, "me/bad", saved, **changes)
    with pytest.raises(error, match=match):
        from_pretrained("me/bad")


def test_damaged_weights(hub, saved):
    hub.put("me/damaged", {**files_of(saved), "model.safetensors": b"\xff" * 64})
    with pytest.raises(ZooError, match="not a valid safetensors file"):
        from_pretrained("me/damaged")


class Boom:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['ZOO_PWNED'], 'w').write('pwned')",))


def test_pickle_only_repo_is_refused_unread(hub, tmp_path, monkeypatch):
    import pickle

    marker = tmp_path / "pwned"
    monkeypatch.setenv("ZOO_PWNED", str(marker))
    hub.put("me/pickled", {"pytorch_model.bin": pickle.dumps(Boom()), "model.pt": pickle.dumps(Boom())})
    with pytest.raises(ZooError, match=r"holds only pickle weights \(model.pt, pytorch_model.bin\).*safetensors only"):
        from_pretrained("me/pickled")
    with pytest.raises(ZooError, match="only pickle weights"):
        pull("me/pickled", out=tmp_path / "out")
    assert not marker.exists()
    downloads = [p for m, p, _ in hub.requests if "/resolve/" in p]
    assert downloads == []  # not even downloaded
    assert not list((tmp_path / "hf-home").rglob("*.bin")) and not list((tmp_path / "hf-home").rglob("*.pt"))
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ZooError, match="only pickle weights"):
        from_pretrained(folder)
    assert not marker.exists()


def test_repo_without_zoo_config(hub):
    hub.put("me/other-lib", {"weights.safetensors": b"x", "model_index.json": b"{}"})
    with pytest.raises(ZooError, match="not a zoo model"):
        from_pretrained("me/other-lib")
    with pytest.raises(ZooError, match="no model repository 'me/nothing'"):
        from_pretrained("me/nothing")


# ------------------------------------------------------------------ command line
def test_cli_push_pull_sample(hub, saved, tmp_path, capsys):
    code, out, err = cli(["push", str(saved), "--repo", "me/cli", "--message", "from the cli"], capsys)
    assert code == 0, err
    assert "pushed to me/cli" in out and hub.repos["me/cli"].messages[hub.repos["me/cli"].branches["main"]] == "from the cli"
    code, out, err = cli(["pull", "me/cli", "--out", str(tmp_path / "pulled")], capsys)
    assert code == 0, err
    assert files_of(tmp_path / "pulled") == {k: v for k, v in hub.files("me/cli").items() if k != ".gitattributes"}
    assert files_of(tmp_path / "pulled")["model.safetensors"] == files_of(saved)["model.safetensors"]
    code, out, err = cli(["sample", "me/cli", "--n", "2", "--out", str(tmp_path / "grid.png"), "--device", "cpu"],
                         capsys)
    assert code == 0, err
    assert (tmp_path / "grid.png").is_file()


def test_cli_errors_are_one_line(hub, tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    code, out, err = cli(["pull", "me/nothing"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no model repository 'me/nothing'" in err
    code, out, err = cli(["push", str(tmp_path), "--repo", "me/x"], capsys)
    assert code == 2 and err.count("\n") == 1 and "neither a saved model" in err
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, out, err = cli(["pull", "me/nothing"], capsys)
    assert code == 2 and "Traceback" not in err and "HF_HUB_OFFLINE" in err


def test_subprocess_uses_hf_endpoint_and_hf_home(hub, saved, tmp_path):
    """A fresh process configured only through the environment, as a user would."""
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "sub-home"), "HF_HUB_DISABLE_XET": "1",
           "HF_TOKEN": "hf_env_token", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("HF_HUB_CACHE", None)
    env.pop("HF_HUB_OFFLINE", None)
    run = [sys.executable, "-m", "zoo_core"]
    done = subprocess.run(run + ["push", str(saved), "--repo", "me/sub"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("POST", "/api/models/me/sub/commit/main", "Bearer hf_env_token") in hub.requests
    done = subprocess.run(run + ["pull", "me/sub"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "this model needs zoo-hubtiny: pip install zoo-hubtiny" in done.stderr  # a note: the files are here
    assert list((tmp_path / "sub-home" / "hub").glob("models--me--sub/snapshots/*/model.safetensors"))
    done = subprocess.run(run + ["pull", "me/sub"], env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(run + ["pull", "me/none"], env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "HF_HUB_OFFLINE" in done.stderr
