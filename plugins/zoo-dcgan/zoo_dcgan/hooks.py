"""zoo-dcgan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ImporterSpec, ModelSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="dcgan",
        summary="Deep convolutional GAN; optional AC-GAN class conditioning (--class-cond); GAN tricks toolkit",
        family="gan",
        config="zoo_dcgan.config:DCGANConfig",
        model="zoo_dcgan.model:DCGAN",
        trainer="zoo_dcgan.trainer:DCGANTrainer",
        samplers=("latent",),
        paper="Radford, Metz, Chintala. Unsupervised Representation Learning with Deep Convolutional "
              "Generative Adversarial Networks. ICLR 2016. arXiv:1511.06434",
    ))


@hookimpl
def register_importers(register):
    register(ImporterSpec(
        name="pytorch-gan-zoo-dcgan",
        summary="pytorch_GAN_zoo DCGAN checkpoints (its torch.hub FashionGen model; the averaged generator)",
        model="dcgan",
        detect="zoo_dcgan.importers:detect",
        convert="zoo_dcgan.importers:convert",
    ))


@hookimpl
def register_pretrained(register):
    from .catalogue import CATALOGUE  # light: no torch

    for spec in CATALOGUE:
        register(spec)
