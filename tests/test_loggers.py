"""--logger backends receive scalars, sample grids, gradient-norm histograms, the config and the final
metrics, each read back with its own library's reader; bad choices fail before training."""

from __future__ import annotations

import csv
import io
import sys
import time

import pytest
from rich.console import Console

from zoo_core.config import layer
from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.errors import ZooError
from zoo_core.health import HealthEvent
from zoo_core.loggers import Logger, names_of, open_loggers
from zoo_core.loggers.base import LoggerSet
from zoo_core.train_config import TrainConfig

STEPS = 4


def _run(toy_spec, image_dir, out, logger):
    from toy_zoo import ToyConfig

    values = {"data": str(image_dir), "out": str(out), "device": "cpu", "progress": False, "steps": STEPS,
              "sample_every": 2, "checkpoint_every": 100, "logger": logger}
    cfgs = layer({"model": ToyConfig, "data": DataConfig, "train": TrainConfig},
                 [("defaults", ToyConfig.TRAIN_DEFAULTS), ("test", values)])
    return Engine(toy_spec, cfgs["model"], cfgs["train"], cfgs["data"],
                  console=Console(file=io.StringIO())).run_training()


def test_names_split_commas_and_repeats():
    assert names_of(("tensorboard,csv", "CSV", "wandb")) == ["tensorboard", "csv", "wandb"]
    assert names_of("none") == [] and names_of(None) == []


def test_csv_and_tensorboard_receive_everything(toy_spec, image_dir, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = _run(toy_spec, image_dir, tmp_path / "run", ("csv", "tensorboard"))
    rows = list(csv.DictReader(open(out / "logs" / "scalars.csv")))
    assert [int(r["step"]) for r in rows if r["name"] == "loss"] == list(range(1, STEPS + 1))
    assert {"loss", "lr", "grad_norm_net", "img_per_s"} <= {r["name"] for r in rows}
    hparams = {r["name"]: r["value"] for r in csv.DictReader(open(out / "logs" / "hparams.csv"))}
    assert hparams["train.steps"] == str(STEPS) and hparams["model"] == "toy"
    assert {r["name"] for r in csv.DictReader(open(out / "logs" / "final.csv"))} >= {"loss"}
    assert [r["name"] for r in csv.DictReader(open(out / "logs" / "histograms.csv"))][0] == "grad_norm_net"

    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "histograms": 0}).Reload()
    tags = acc.Tags()
    assert [e.step for e in acc.Scalars("loss")] == list(range(1, STEPS + 1))
    metrics = [__import__("json").loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert acc.Scalars("loss")[-1].value == pytest.approx(metrics[-1]["loss"], rel=1e-5)
    assert [e.step for e in acc.Images("samples")] == [2, 4]  # every grid; the final one is step 4's, logged once
    assert acc.Images("samples")[0].width >= 256  # the upscaled grid
    assert "grad_norm_net" in tags["histograms"] and acc.Histograms("grad_norm_net")[0].histogram_value.num == 1
    assert "config/text_summary" in tags["tensors"] and "final/loss" in tags["scalars"]


def _wandb_data(run, last: bytes, wait: float = 60.0) -> bytes:
    """The offline run's .wandb file once it holds ``last``: wandb-core may still be writing it for a
    moment after ``run.finish()`` returns (seen on a loaded machine)."""
    deadline = time.monotonic() + wait
    while True:
        data = next(run.glob("run-*.wandb")).read_bytes()
        if last in data or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_wandb_offline_run_folder(toy_spec, image_dir, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    out = _run(toy_spec, image_dir, tmp_path / "run", "wandb")
    runs = list((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    data = _wandb_data(runs[0], b"final/loss")
    assert b"grad_norm_net" in data and b"final/loss" in data
    assert list((runs[0] / "files" / "media" / "images").glob("samples_*.png"))


def test_mlflow_file_store(toy_spec, image_dir, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    _run(toy_spec, image_dir, tmp_path / "run", "mlflow")
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    exp = client.get_experiment_by_name("zoo")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.run_name == "run" and run.data.params["train.steps"] == str(STEPS)
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(1, STEPS + 1))
    assert "final.loss" in run.data.metrics and "grad_norm_net.max" in run.data.metrics
    arts = [a.path for a in client.list_artifacts(run.info.run_id, "samples")]
    assert arts == ["samples/step_00000002.png", "samples/step_00000004.png"]


EVENT = HealthEvent(3, "mode_collapse", "generated images vary much less than real ones", "--replay-size 512")


def test_wandb_offline_run_gets_health_events(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    loggers = open_loggers("wandb", tmp_path / "run", "run")
    loggers.log_event(EVENT)
    loggers.close()
    (run,) = (tmp_path / "run" / "wandb").glob("offline-run-*")
    data = _wandb_data(run, b"health/events")
    assert b"health/mode_collapse" in data and b"health/events" in data
    (panel,) = (run / "files" / "media" / "html").glob("health/mode_collapse_*.html")
    assert "vary much less" in panel.read_text() and "--replay-size 512" in panel.read_text()


def test_mlflow_run_gets_health_events(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    loggers = open_loggers("mlflow", tmp_path / "run", "run")
    loggers.log_event(EVENT)
    run_id = loggers.loggers[0].run.info.run_id
    loggers.close()
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    assert [a.path for a in client.list_artifacts(run_id, "health")] == ["health/step_00000003_mode_collapse.txt"]
    assert client.get_run(run_id).data.tags["health.last"].startswith("step 3 mode_collapse: generated images")
    text = (tmp_path / "mlruns").glob("*/*/artifacts/health/step_00000003_mode_collapse.txt")
    assert next(text).read_text() == EVENT.text + "\n"


def test_missing_library_and_unknown_name_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    with pytest.raises(ZooError, match=r"pip install 'zoo-core\[tensorboard\]'"):
        open_loggers("tensorboard", tmp_path, "run")
    with pytest.raises(ZooError, match="unknown logger 'tensorbord'; did you mean tensorboard"):
        open_loggers("csv,tensorbord", tmp_path, "run")


def test_a_failing_backend_is_reported_once_and_dropped():
    class Broken(Logger):
        name = "broken"

        def log_scalars(self, step, scalars):
            raise ConnectionError("service went away")

    seen, warned = [], []

    class Good(Logger):
        name = "good"

        def log_scalars(self, step, scalars):
            seen.append(step)

    loggers = LoggerSet([Broken(".", "r"), Good(".", "r")], warn=warned.append)
    loggers.log_scalars(1, {"loss": 1.0})
    loggers.log_scalars(2, {"loss": 1.0})
    assert seen == [1, 2] and len(warned) == 1 and "--logger broken failed (ConnectionError" in warned[0]


def test_logger_flag_is_repeatable_on_the_command_line(toy_spec, image_dir, tmp_path):
    from click.testing import CliRunner

    from zoo_core.cli import cli

    res = CliRunner().invoke(cli, ["train", "toy", "--data", str(image_dir), "--out", str(tmp_path / "r"),
                                   "--steps", "2", "--logger", "csv", "--logger", "nonesuch", "--device", "cpu"])
    assert res.exit_code != 0 and "unknown logger 'nonesuch'" in str(res.exception)
