"""The CLI never surprises (issue 22, items 2-6): round-trip configs, resume guards, sources and outputs,
conditioning messages, --json everywhere, sectioned help, completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomllib
import torch

from zoo_core import create_model
from zoo_core.cli import main
from zoo_core.config import read_file
from zoo_core.errors import ZooError
from zoo_core.sources import classify

FAST = ["--steps", "2", "--no-progress", "--device", "cpu", "--sample-n", "4"]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def run_cli(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def saved_gan(tmp_path):
    torch.manual_seed(0)
    return create_model("dcgan", res=16, z_dim=4, channels=4).save_pretrained(tmp_path / "gan")


# ------------------------------------------------------------------ 2. configs round-trip
def test_run_config_json_is_accepted_by_config(toy_spec, image_dir, tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = run_cli(["train", "toy", "--data", str(image_dir), "--out", str(run), "--width", "5",
                            "--grad-clip", "0.5", *FAST], capsys)
    assert code == 0, err
    values = read_file(run / "config.json", model="toy")
    assert values["width"] == 5 and values["grad_clip"] == 0.5
    assert not {"zoo_model", "distribution", "version", "out", "resume"} & set(values)  # a new run, not the old
    code, out, err = run_cli(["train", "toy", "--config", str(run / "config.json"), "--print-config"], capsys)
    assert code == 0, err
    printed = tomllib.loads(out)
    assert printed["model"]["width"] == 5 and printed["train"]["grad_clip"] == 0.5
    assert printed["train"]["out"] == "none"  # None round-trips as "none"
    with pytest.raises(ZooError, match=r"is for 'toy', not 'ddpm': use `zoo train toy --config"):
        read_file(run / "config.json", model="ddpm")


def test_print_config_toml_reads_back_to_the_same_configs(toy_spec, tmp_path, capsys):
    code, out, err = run_cli(["train", "toy", "--preset", "wide", "--grad-clip", "none", "--print-config"], capsys)
    assert code == 0, err
    (tmp_path / "c.toml").write_text(out)
    code, again, err = run_cli(["train", "toy", "--config", str(tmp_path / "c.toml"), "--print-config"], capsys)
    assert code == 0 and again == out
    assert tomllib.loads(out)["model"]["width"] == 16


def test_print_config_leaves_the_channels_to_the_data_unless_chosen(toy_spec, tmp_path, capsys):
    """A printed ``in_channels = 3`` fed back through --config would count as chosen and keep gray data RGB."""
    code, out, err = run_cli(["train", "toy", "--print-config"], capsys)
    assert code == 0, err
    assert "\n# in_channels = 3  # not set: read from the data" in out
    assert "in_channels" not in tomllib.loads(out)["model"]
    code, out, err = run_cli(["train", "toy", "--in-channels", "3", "--print-config"], capsys)
    assert code == 0 and tomllib.loads(out)["model"]["in_channels"] == 3


def test_a_binary_config_file_is_one_line(toy_spec, tmp_path, capsys):
    (tmp_path / "c.toml").write_bytes(b"\x7fELF\xd0\xff" * 10)
    code, _, err = run_cli(["train", "toy", "--config", str(tmp_path / "c.toml"), "--print-config"], capsys)
    assert code == 2 and err.startswith(f"error: config file {tmp_path / 'c.toml'} is not valid TOML")
    assert "Traceback" not in err


def test_optional_options_accept_none_and_check_the_rest(toy_spec, capsys):
    code, out, _ = run_cli(["train", "toy", "--grad-clip", "0.5", "--grad-clip", "none", "--print-config"], capsys)
    assert code == 0 and tomllib.loads(out)["train"]["grad_clip"] == "none"
    code, _, err = run_cli(["train", "toy", "--grad-clip", "lots", "--print-config"], capsys)
    assert code == 2 and "--grad-clip in the command line: expected a number, got 'lots'" in err


def test_info_prints_presets_as_pasteable_flags(capsys):
    code, out, _ = run_cli(["info", "ddpm", "--json"], capsys)
    data = json.loads(out)
    flags = {k: v["flags"] for k, v in data["presets"].items()}
    assert flags and all("(" not in f and " True" not in f and " False" not in f for f in flags.values())
    assert any("--channel-mults 1,2,2,2" in f for f in flags.values())
    code, out, _ = run_cli(["info", "ddpm"], capsys)
    assert code == 0 and "--channel-mults 1,2,2,2" in out


def _help_text(argv, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # the same wrapping on any terminal
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    return out


def test_train_help_is_sectioned_without_empty_defaults(capsys, monkeypatch):
    from zoo_core.cli import cli

    short = _help_text(["train", "stackgan", "--help"], capsys, monkeypatch)
    full = _help_text(["train", "stackgan", "--help-all"], capsys, monkeypatch)
    headings = ("options:", "model:", "gan options:", "data:", "run:", "optimisation:", "logging and evaluation:",
                "hardware:")
    for text in (short, full):
        at = [text.lower().index(f"\n{title}\n") for title in headings]
        assert at == sorted(at), "headings out of order"
        flat = " ".join(text.split())
        assert "[default: None]" not in flat and "[default: ]" not in flat and "[default: ()]" not in flat
        assert "[default: False]" not in flat and "[default: True]" not in flat  # flags say on/off
    assert len(short.splitlines()) <= 160 and len(short.splitlines()) < 0.7 * len(full.splitlines())
    ctx = cli.make_context("zoo", ["train", "stackgan"], resilient_parsing=True)
    flags = {p.opts[0] for p in cli.commands["train"].get_command(ctx, "stackgan").params if p.opts[0] != "--help"}
    described = {ln.split()[0] for ln in full.splitlines() if ln.startswith("  --")}
    assert flags <= described  # --help-all describes every option ...
    more = [w for ln in short.split("more: ")[1:] for w in ln.split("\n\n")[0].split()]
    named = {ln.split()[0] for ln in short.splitlines() if ln.startswith("  --")} | set(more)
    assert flags <= named and set(more) <= flags  # ... --help names each one, whole (no "--instance-" / "noise")
    assert {"--z-dim", "--stage", "--c-dim", "--data", "--out", "--steps", "--lr", "--device"} <= named - set(more)
    assert "--help-all describes the options after 'more:'" in short


def test_class_conditioning_options_follow_the_models_own(capsys, monkeypatch):
    """dcgan's --res once came after the AC-GAN options it inherits; they now have their own heading."""
    text = _help_text(["train", "dcgan", "--help"], capsys, monkeypatch).lower()
    model, cond, gan = (text.index(f"\n{t}:\n") for t in ("model", "class conditioning (ac-gan)", "gan options"))
    assert model < text.index("--res ") < cond < text.index("  --class-cond") < gan


def test_a_heading_whose_options_are_all_folded_is_named_not_crashed(capsys):
    import click

    from zoo_core.options import SectionedCommand

    opt = click.Option(["--rare"], help="seldom used")
    opt.zoo_section = "extras"
    cmd = SectionedCommand("x", params=[opt], callback=lambda **kw: None, order=("extras",))
    text = cmd.get_help(click.Context(cmd))
    assert "extras:" in text and "more: --rare" in text


def test_top_level_help_gives_each_command_its_whole_first_sentence(capsys, monkeypatch):
    out = _help_text(["--help"], capsys, monkeypatch)
    listed = out.split("Commands:\n", 1)[1]
    assert {"convert", "eval", "info", "list", "sample", "train"} <= {ln.split()[0] for ln in listed.splitlines()
                                                                      if ln.startswith("  ") and not ln.startswith("   ")}
    assert "..." not in listed and "Hub repo id) into a zoo saved model in --out." in " ".join(listed.split())


# ------------------------------------------------------------------ 3. resume with a changed architecture
def test_resume_with_a_changed_architecture_option_is_one_line(toy_spec, image_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(["train", "toy", "--data", str(image_dir), "--out", str(run), *FAST], capsys)[0] == 0
    code, out, err = run_cli(["train", "toy", "--data", str(image_dir), "--out", str(run), "--width", "9",
                              "--resume", "--steps", "4", "--no-progress", "--device", "cpu"], capsys)
    assert code == 2 and "Traceback" not in err
    line = " ".join(err.split())
    assert "--width 9 (the run has 4)" in line and f"--init {run}" in line and "another --out" in line
    # unchanged architecture, changed training options: continues
    code, _, err = run_cli(["train", "toy", "--data", str(image_dir), "--out", str(run), "--resume", "--steps", "3",
                            "--lr", "0.001", "--no-progress", "--device", "cpu"], capsys)
    assert code == 0, err


# ------------------------------------------------------------------ 4. sources and outputs
def test_path_looking_sources_are_local_with_did_you_mean(tmp_path, monkeypatch):
    (tmp_path / "runs" / "ddpm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ZooError, match=r"^no such run folder runs/ddpmm; did you mean runs/ddpm\? "
                                       r"\(for the Hub repo, write hf://runs/ddpmm\)$"):
        classify("runs/ddpmm")
    with pytest.raises(ZooError, match=r"no such run folder rnus/ddpm; did you mean runs/ddpm\? "):  # runs/ typo
        classify("rnus/ddpm")
    with pytest.raises(ZooError, match="no such run folder ./ddpm"):
        classify("./ddpm")
    assert classify("google/ddpm-cifar10-32") == ("hub", "google/ddpm-cifar10-32")
    assert classify("hf://runs/ddpmm") == ("hub", "runs/ddpmm")
    assert classify("runs/ddpm") == ("local", Path("runs/ddpm"))


def test_sample_out_decisions_and_no_silent_overwrite(saved_gan, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["sample", str(saved_gan), "--n", "3", "--device", "cpu"]
    assert run_cli(base, capsys)[0] == 0 and (tmp_path / "samples.png").is_file()
    first = (tmp_path / "samples.png").read_bytes()
    code, out, _ = run_cli(base + ["--seed", "5"], capsys)
    assert code == 0 and "samples-1.png" in out and (tmp_path / "samples.png").read_bytes() == first
    code, _, err = run_cli(base + ["--out", "samples.png"], capsys)
    assert code == 2 and "pass --force" in err and (tmp_path / "samples.png").read_bytes() == first
    assert run_cli(base + ["--out", "samples.png", "--force", "--seed", "5"], capsys)[0] == 0
    assert (tmp_path / "samples.png").read_bytes() != first
    code, _, err = run_cli(base + ["--out", "x.txt"], capsys)
    assert code == 2 and "expected an image file" in err and not (tmp_path / "x.txt").exists()
    code, out, _ = run_cli(base + ["--out", "imgs", "--json"], capsys)
    summary = json.loads(out)
    assert summary["kind"] == "folder" and [f["index"] for f in summary["files"]] == [0, 1, 2]
    assert all(f["seed"] == 0 and (tmp_path / f["path"]).is_file() for f in summary["files"])
    code, _, err = run_cli(base + ["--out", "imgs"], capsys)
    assert code == 2 and "already holds 3 of the files" in err


def test_a_sample_folder_is_written_batch_by_batch_as_one_generate_call_draws_it(saved_gan, tmp_path, capsys,
                                                                                  monkeypatch):
    """--n 50000 --out DIR (a set for FID) holds one batch in memory, and a late failure keeps what was written."""
    import numpy as np
    from PIL import Image

    from zoo_core.hub import from_pretrained
    from zoo_core.images import to_uint8

    base = ["sample", str(saved_gan), "--n", "5", "--batch-size", "2", "--seed", "3", "--device", "cpu"]
    model = from_pretrained(saved_gan, device="cpu")
    want = to_uint8(model.generate(5, seed=3, batch_size=2)).permute(0, 2, 3, 1).numpy()
    cls, calls = type(model), []
    generate = cls.generate

    def counting(self, n, *args, **kwargs):
        calls.append(n)
        if len(calls) == 3 and fail:
            raise ZooError("simulated failure in the third batch")
        return generate(self, n, *args, **kwargs)

    monkeypatch.setattr(cls, "generate", counting)
    fail = False
    assert run_cli(base + ["--out", str(tmp_path / "imgs")], capsys)[0] == 0
    got = np.stack([np.asarray(Image.open(tmp_path / "imgs" / f"{i:05d}.png")) for i in range(5)])
    assert calls == [2, 2, 1] and np.array_equal(got, want)  # the same images, one batch at a time

    calls.clear()
    fail = True
    code, _, err = run_cli(base + ["--out", str(tmp_path / "late")], capsys)
    assert code != 0 and "simulated failure" in err
    assert sorted(p.name for p in (tmp_path / "late").iterdir()) == [f"{i:05d}.png" for i in range(4)]


def test_a_grid_of_more_images_than_anyone_can_see_points_to_a_folder(saved_gan, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for out in ([], ["--out", "big.png"]):
        code, _, err = run_cli(["sample", str(saved_gan), "--n", "1025", "--device", "cpu", *out], capsys)
        assert code == 2 and "at most 1024" in err and "--out " in err and "/" in err
    assert not (tmp_path / "samples.png").exists() and not (tmp_path / "big.png").exists()
    code, _, err = run_cli(["sample", str(saved_gan), "--interpolate", "1,2", "--frames", "100000", "--out", "w.gif",
                            "--device", "cpu"], capsys)
    assert code == 2 and "'--frames': 100000 is not in the range 2<=x<=1024" in err


def test_an_unknown_sample_option_is_named_as_typed(saved_gan, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    code, _, err = run_cli(["sample", str(saved_gan), "-o", "foo=1", "--device", "cpu", "--out", out], capsys)
    assert code == 2 and err.strip() == "error: dcgan.generate() does not take foo= (zoo sample -o foo=...)"


def test_truncation_is_validated(saved_gan, capsys):
    code, _, err = run_cli(["sample", str(saved_gan), "--truncation", "0", "--device", "cpu"], capsys)
    assert code == 2 and "--truncation" in err


def test_eval_out_dash_writes_json_to_stdout(tmp_path, capsys, monkeypatch):
    from sample_data import make_images

    make_images(tmp_path / "a")
    make_images(tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["eval", str(tmp_path / "a"), "--data", str(tmp_path / "b"), "--extractor", "random",
                              "--metrics", "fid", "--device", "cpu", "--out", "-"], capsys)
    assert code == 0, err
    assert "fid" in json.loads(out)["metrics"] and not (tmp_path / "-").exists()


def test_eval_never_overwrites_results_silently(tmp_path, capsys, monkeypatch):
    from sample_data import make_images

    make_images(tmp_path / "a")
    make_images(tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    argv = ["eval", str(tmp_path / "a"), "--data", str(tmp_path / "b"), "--extractor", "random", "--metrics", "fid",
            "--device", "cpu"]
    for _ in range(2):  # the default name is numbered when taken
        code, out, err = run_cli(argv, capsys)
        assert code == 0, err
    assert (tmp_path / "results.json").is_file() and (tmp_path / "results-1.json").is_file()
    kept = (tmp_path / "results.json").read_text()
    code, out, err = run_cli(argv + ["--out", "results.json"], capsys)  # refused before any sampling
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "results.json").read_text() == kept
    code, out, err = run_cli(argv + ["--out", "results.json", "--force", "--seed", "3"], capsys)
    assert code == 0, err


# ------------------------------------------------------------------ 5. conditioning messages
def test_class_on_a_text_model_says_use_prompt(tmp_path, capsys):
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN

    from zoo_core.data import DataInfo

    caps = [["a red circle"], ["a blue square"]]
    cfg = StackGANConfig(res=32, stage="both", g_channels=4, g2_channels=4, res_blocks=1, c_dim=3, z_dim=4)
    model = StackGAN(StackGAN.adapt_config(cfg, DataInfo(2, captions=caps)))
    model.fit_text(caps)
    model.set_bank(caps)
    folder = model.save_pretrained(tmp_path / "sg")
    code, _, err = run_cli(["sample", str(folder), "--class", "3", "--device", "cpu", "--out",
                            str(tmp_path / "a.png")], capsys)
    assert code == 2 and "stackgan is conditioned on text" in err and "--prompt" in err
    code, _, err = run_cli(["sample", str(folder), "--prompt", "a red zebra", "--n", "1", "--device", "cpu",
                            "--out", str(tmp_path / "b.png")], capsys)
    assert code == 0
    assert [ln for ln in err.splitlines() if "warn" in ln.lower()] == [
        "warning: ignoring word(s) the model never saw in training: zebra"]


# ------------------------------------------------------------------ 6. --json and completion
def test_json_on_read_commands(capsys):
    code, out, _ = run_cli(["plugins", "--json"], capsys)
    assert code == 0 and {"zoo-ddpm", "zoo-core"} <= {p["distribution"] for p in json.loads(out)["plugins"]}
    code, out, _ = run_cli(["list", "--json"], capsys)
    assert code == 0 and "ddpm" in {m["name"] for m in json.loads(out)}


def test_mistyped_flags_and_missing_arguments_are_one_line(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # one line however long: not wrapped
    for argv, needle in ((["train", "dcgan", "--stpes", "3"], "no such option '--stpes'"),
                         (["sample"], "missing argument 'SRC'"),
                         (["train", "dcgan", "--lr-schedule", "linear", "--print-config"], "'linear' is not one of"),
                         (["info", "dcgan", "--jsn"], "no such option '--jsn'")):
        code, out, err = run_cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and needle in err, err
        assert f"See `zoo {argv[0]}" in err and "Usage:" not in err


def test_completion_offers_models_samplers_and_presets(saved_gan, monkeypatch, capsys):
    def complete(words: str) -> list[str]:
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
        monkeypatch.setenv("_ZOO_COMPLETE", "bash_complete")
        from zoo_core.cli import cli

        with pytest.raises(SystemExit):
            cli.main(prog_name="zoo", complete_var="_ZOO_COMPLETE")
        return [ln.split(",", 1)[1] for ln in capsys.readouterr().out.splitlines()]

    assert {"ddpm", "dcgan"} <= set(complete("zoo train d"))
    assert set(complete("zoo info st")) == {"stackgan"}
    assert set(complete("zoo sample x --sampler d")) == {"ddim", "dpm++"}  # x: no such folder, every sampler
    assert complete(f"zoo sample {saved_gan} --sampler ") == ["latent"]  # a local model: its own
    assert complete(f"zoo eval {saved_gan} --sampler ") == ["latent"]  # zoo eval completes them too
    from zoo_iddpm.config import IDDPMConfig

    assert set(complete("zoo train iddpm --preset ")) == set(IDDPMConfig.PRESETS)


def test_rescaling_the_data_says_so_once_as_one_line(toy_spec, image_dir, tmp_path, capsys):
    code, _, err = run_cli(["train", "toy", "--data", str(image_dir), "--out", str(tmp_path / "r"), "--res", "16",
                            *FAST], capsys)
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning: upscaling")]
    assert len(lines) == 1 and lines[0].startswith("warning: upscaling: the smallest image is 12px, below the 16px")
    assert "UserWarning" not in err
    code, _, err = run_cli(["train", "toy", "--data", str(image_dir), "--out", str(tmp_path / "r8"), *FAST], capsys)
    assert code == 0 and "warning: upscaling" not in err
    lines = [ln for ln in err.splitlines() if "downscaling" in ln]  # the other way round is said once too
    assert len(lines) == 1 and "smallest side 12px" in lines[0] and "resized to 8px" in lines[0], err


def test_eval_names_a_mistyped_src_or_data_before_looking_for_extractor_weights(saved_gan, tmp_path, capsys,
                                                                                 monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights-here"))  # the FID weights are nowhere
    code, _, err = run_cli(["eval", str(tmp_path / "nonexist"), "--data", "builtin:shapes"], capsys)
    assert code == 2 and "no such run folder" in err and "weights" not in err
    code, _, err = run_cli(["eval", str(saved_gan), "--data", str(tmp_path / "nope")], capsys)
    assert code == 2 and f"data folder {tmp_path / 'nope'} does not exist" in err and "weights" not in err
