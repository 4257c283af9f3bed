"""zoo-dcgan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ModelSpec


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

