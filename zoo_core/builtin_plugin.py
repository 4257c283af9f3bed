"""The core registers its own built-in datasets, metrics, feature extractors and the GAN latent sampler
through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .registry import DatasetSpec, LoggerSpec, SamplerSpec


@hookimpl
def register_datasets(register):
    register(DatasetSpec("shapes", "coloured circles, squares and triangles; 3 classes; captions",
                         "zoo_core.builtin_data:shapes"))


@hookimpl
def register_metrics(register):
    from .metrics.specs import register as register_core_metrics  # light: no torch

    register_core_metrics(register)


@hookimpl
def register_samplers(register):
    # shared by every GAN plugin (zoo_core.gan), so it belongs to the core, not to one of them
    register(SamplerSpec("latent", "GAN latent sampling: Gaussian z, --truncation T resamples entries beyond "
                                   "T std devs; --interpolate A,B walks the great circle",
                         "zoo_core.gan.latent:latent_sampler", families=("gan",)))


@hookimpl
def register_loggers(register):
    register(LoggerSpec("csv", "CSV files in RUN/logs/ (scalars, events, histograms summary, hparams)",
                        "zoo_core.loggers.csvlog:CSVLogger"))
    register(LoggerSpec("tensorboard", "TensorBoard event files in RUN/tensorboard/",
                        "zoo_core.loggers.tensorboard:TensorBoardLogger", extra="tensorboard"))
    register(LoggerSpec("wandb", "Weights & Biases (offline unless WANDB_MODE/WANDB_API_KEY say otherwise)",
                        "zoo_core.loggers.wandb:WandbLogger", extra="wandb"))
    register(LoggerSpec("mlflow", "MLflow tracking (MLFLOW_TRACKING_URI, default a ./mlruns file store)",
                        "zoo_core.loggers.mlflow:MLflowLogger", extra="mlflow"))
