"""Health events are their own metrics.jsonl records, written when they happen, shown in the progress
line and report.html, and sent to every logger backend; the final sample grid is logged once."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rich.console import Console

from zoo_core.config import layer
from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.gan.health import GanHealth
from zoo_core.health import HealthEvent, HealthWarning
from zoo_core.loggers import jsonl
from zoo_core.registry import LoggerSpec
from zoo_core.report import load_run, write_report
from zoo_core.train_config import TrainConfig


@pytest.fixture
def counting():
    """``--logger counting``: a backend that records every call (tests/counting_logger.py)."""
    from counting_logger import Counting

    from zoo_core.plugins import registry

    reg = registry()
    reg.add(LoggerSpec("counting", "records calls (tests)", "counting_logger:Counting"))
    Counting.calls.clear()
    yield Counting
    reg.remove("logger", "counting")


def _run(toy_spec, image_dir, out, console=None, **values):
    from toy_zoo import ToyConfig

    values = {"data": str(image_dir), "out": str(out), "device": "cpu", "steps": 4, "progress_every": 0,
              "sample_every": 2, "checkpoint_every": 100, **values}
    cfgs = layer({"model": ToyConfig, "data": DataConfig, "train": TrainConfig},
                 [("defaults", ToyConfig.TRAIN_DEFAULTS), ("test", values)])
    console = console or Console(file=io.StringIO(), width=300)
    return Engine(toy_spec, cfgs["model"], cfgs["train"], cfgs["data"], console=console).run_training()


def _health(out):
    return [r for r in jsonl.read(out / "metrics.jsonl") if r.get("event") == "health"]


def test_a_nonfinite_step_is_a_record_a_progress_line_a_report_row_and_a_logged_event(
        toy_spec, image_dir, tmp_path, counting):
    con = Console(file=io.StringIO(), width=300)
    out = _run(toy_spec, image_dir, tmp_path / "run", con, fail_at=1, logger=("counting", "csv"))
    lines = (out / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(x, parse_constant=lambda name: pytest.fail(f"{name} in metrics.jsonl")) for x in lines]
    (health,) = _health(out)
    assert {k: health[k] for k in ("event", "step", "kind")} == {"event": "health", "step": 1, "kind": "nonfinite"}
    assert "non-finite loss or gradient at step 1" in health["message"] and "--grad-clip 1" in health["fix"]
    # written when it happened: before the line of the step it belongs to, and in no step line's "warnings"
    assert records.index(health) < [r.get("step") for r in records].index(2)
    assert all("warnings" not in r for r in records)

    text = con.file.getvalue()
    assert "warning: step 1: non-finite loss or gradient at step 1" in text and "Try a lower --lr" in text
    steps = [ln for ln in text.splitlines() if ln.startswith("train toy step ")]
    assert "| health: step 1 nonfinite: non-finite loss" not in steps[0]  # step 1's line came before it
    assert all("| health: step 1 nonfinite: non-finite loss" in ln for ln in steps[1:])
    assert "1 warning(s)" in text and "  health     nonfinite x1 (last at step 1; all in report.html)" in text

    page = (out / "report.html").read_text()
    assert "Health events (1)" in page and "<td>nonfinite</td>" in page and "--precision fp32" in page
    assert load_run(out).events == [HealthEvent(1, "nonfinite", health["message"], health["fix"])]

    (event,) = [t for t in counting.of("text") if t[1].startswith("health/")]
    assert event[:2] == (1, "health/nonfinite") and event[2] == f"{health['message']}. Try {health['fix']}"
    rows = list(csv.DictReader(open(out / "logs" / "health.csv")))
    assert [(r["step"], r["kind"]) for r in rows] == [("1", "nonfinite")] and rows[0]["fix"] == health["fix"]


def test_the_terminal_bar_shows_the_last_health_event(toy_spec, image_dir, tmp_path):
    con = Console(file=io.StringIO(), force_terminal=True, width=300)
    _run(toy_spec, image_dir, tmp_path / "run", con, fail_at=1, progress=True)
    assert "| health: step 1 nonfinite: non-finite loss or gradient at step 1" in con.file.getvalue()


def test_an_event_while_resuming_is_recorded_and_logged_once_the_run_starts(toy_spec, image_dir, tmp_path, counting):
    out = _run(toy_spec, image_dir, tmp_path / "run", steps=2, checkpoint_every=2)
    state_file = out / "checkpoints" / "step_00000002" / "state.json"
    state = json.loads(state_file.read_text())
    state["rng_ranks"] *= 2  # as if written by two processes
    state_file.write_text(json.dumps(state))
    _run(toy_spec, image_dir, out, steps=3, logger="counting")
    (health,) = _health(out)
    assert (health["step"], health["kind"]) == (2, "resume") and "written by 2 process(es) with 1" in health["message"]
    assert [t[:2] for t in counting.of("text")] == [(2, "health/resume")]


def test_a_rollback_is_recorded_at_the_step_it_happened(toy_spec, image_dir, tmp_path):
    out = _run(toy_spec, image_dir, tmp_path / "run", fail_at=2, on_nonfinite="rollback", checkpoint_every=1)
    (health,) = _health(out)
    assert health["kind"] == "rollback" and health["step"] == 2
    assert "rolled back to step 2 with lr x0.5" in health["message"]


def test_tensorboard_shows_health_events_read_back_with_its_own_reader(toy_spec, image_dir, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = _run(toy_spec, image_dir, tmp_path / "run", fail_at=1, logger="tensorboard")
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"tensors": 0}).Reload()
    assert "health/nonfinite/text_summary" in acc.Tags()["tensors"]
    (entry,) = acc.Tensors("health/nonfinite/text_summary")
    shown = entry.tensor_proto.string_val[0].decode()
    assert entry.step == 1 and "non-finite loss or gradient at step 1" in shown and "**Try** a lower --lr" in shown


@pytest.mark.parametrize(("sample_every", "grids"), [(2, [2, 4]), (3, [3, 4])])
def test_the_final_grid_is_sampled_and_logged_once(toy_spec, image_dir, tmp_path, counting, sample_every, grids):
    out = _run(toy_spec, image_dir, tmp_path / "run", sample_every=sample_every, logger="counting")
    assert counting.of("image") == grids
    assert sorted(int(p.stem[5:]) for p in (out / "samples").glob("step_*.png")) == grids
    assert (out / "final" / "samples.png").read_bytes() == (out / "samples" / "step_00000004.png").read_bytes()


def test_reports_of_older_runs_still_list_their_warnings_lists(tmp_path):
    run = tmp_path / "old"
    run.mkdir()
    (run / "metrics.jsonl").write_text(
        '{"step": 1, "loss": 1.0, "warnings": ["gradient norm of net is 120.0; if it keeps growing lower --lr"]}\n'
        '{"step": 2, "loss": 0.5}\n'
        '{"event": "health", "step": 3, "kind": "mode_collapse", "message": "mode <collapse>", "fix": "--lr-g"}\n')
    events = load_run(run).events
    assert [(e.step, e.kind) for e in events] == [(1, "warning"), (3, "mode_collapse")]
    assert events[0].message.startswith("gradient norm of net is 120.0") and events[0].fix == ""
    assert load_run(run).last == {"step": 2, "loss": 0.5}  # a health record is not the last step's metrics
    page = write_report([run]).read_text()
    assert "Health events (2)" in page and "mode &lt;collapse&gt;" in page and "gradient norm of net" in page


def test_warnings_carry_kind_and_fix_and_stay_strings():
    w = HealthWarning("D loss is 0", "d_collapse", "--label-flip 0.05")
    assert w == "D loss is 0. Try --label-flip 0.05" and isinstance(w, str)
    staged = w.prefixed("Stage 2: ")
    assert (staged.message, staged.kind, staged.fix) == ("Stage 2: D loss is 0", "d_collapse", "--label-flip 0.05")
    assert HealthEvent.of(7, w) == HealthEvent(7, "d_collapse", "D loss is 0", "--label-flip 0.05")
    assert HealthEvent.of(7, "it drifts. Try less. Try a lower --lr") == HealthEvent(7, "trainer", "it drifts. Try less",
                                                                                   "a lower --lr")
    assert HealthEvent.of(7, "just so") == HealthEvent(7, "trainer", "just so", "")
    event = HealthEvent(3, "g_climb", "G rose", "a lower --lr-d")
    assert HealthEvent.from_record(json.loads(jsonl.dumps(event.record()))) == event
    assert HealthEvent.from_record({"step": 3, "loss": 1.0}) is None

    h = GanHealth(window=2, warmup=0, warmup_steps=0)
    kinds = [w.kind for s in (1, 2) for w in h.check({"div_real": 0.6, "div_fake": 0.01, "loss_d": 0.001}, step=s)]
    assert sorted(kinds) == ["d_collapse", "mode_collapse"]


def test_curves_mark_health_events(tmp_path):
    from PIL import Image

    from zoo_core.plot import EVENT_COLOUR, plot_runs

    series = {"loss": [(1, 1.0), (2, 0.5), (3, 0.7)], "lr": [(1, 0.1), (2, 0.1), (3, 0.1)]}

    def colours(path):
        with Image.open(path) as im:
            return {c for _, c in im.getcolors(1 << 16)}

    assert EVENT_COLOUR in colours(plot_runs([("a", series)], tmp_path / "marked.png", events=[2]))
    assert EVENT_COLOUR not in colours(plot_runs([("a", series)], tmp_path / "plain.png"))
    assert EVENT_COLOUR not in colours(plot_runs([("a", series)], tmp_path / "outside.png", events=[9]))


def test_a_gan_run_records_the_mode_collapse_alarm_from_sample_diversity(tmp_path, monkeypatch):
    pytest.importorskip("zoo_dcgan")
    import functools

    import zoo_core.gan.trainer as gan_trainer
    from zoo_core import training

    # any fake/real diversity ratio below 100 counts as collapse, with no warm-up: the alarm must fire
    strict = functools.partial(GanHealth, window=1, warmup=0, warmup_steps=0, collapse_ratio=100.0)
    monkeypatch.setattr(gan_trainer, "GanHealth", strict)
    out = training.engine("dcgan", data="builtin:shapes", out=str(tmp_path / "gan"), res=16, channels=4, z_dim=8,
                          batch_size=8, steps=2, log_every=1, sample_n=4, progress=False, device="cpu").run_training()
    (collapse,) = [r for r in _health(out) if r["kind"] == "mode_collapse"]
    assert collapse["step"] == 1 and "mode collapse" in collapse["message"] and "--replay-size 512" in collapse["fix"]
    assert "<td>mode_collapse</td>" in (out / "report.html").read_text()
