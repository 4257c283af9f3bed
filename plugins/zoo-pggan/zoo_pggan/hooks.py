"""zoo-pggan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ImporterSpec, MetricSpec, ModelSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="pggan",
        summary="Progressive growing of GANs: 4x4 up to --res with fade-in, equalized lr, PixelNorm, minibatch "
                "stddev, WGAN-GP; optional AC-GAN class conditioning (--class-cond)",
        family="gan",
        config="zoo_pggan.config:PGGANConfig",
        model="zoo_pggan.model:PGGAN",
        trainer="zoo_pggan.trainer:PGGANTrainer",
        samplers=("latent",),
        paper="Karras, Aila, Laine, Lehtinen. Progressive Growing of GANs for Improved Quality, Stability, "
              "and Variation. ICLR 2018. arXiv:1710.10196",
    ))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="swd",
        summary="sliced Wasserstein distance between 7x7 patches of Laplacian pyramid levels (Karras et al. "
                "2018), x1e3 per level and averaged; lower is better",
        factory="zoo_pggan.swd:SlicedWasserstein",
    ))


@hookimpl
def register_importers(register):
    register(ImporterSpec(
        name="pytorch-gan-zoo-pgan",
        summary="pytorch_GAN_zoo PGAN checkpoints (its torch.hub files; the averaged generator)",
        model="pggan",
        detect="zoo_pggan.importers:detect",
        convert="zoo_pggan.importers:convert",
    ))


@hookimpl
def register_pretrained(register):
    from .catalogue import CATALOGUE  # light: no torch

    for spec in CATALOGUE:
        register(spec)
