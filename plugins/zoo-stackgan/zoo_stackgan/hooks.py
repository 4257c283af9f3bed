"""zoo-stackgan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import DatasetSpec, ImporterSpec, ModelSpec, SamplerSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="stackgan",
        summary="StackGAN text-to-image: conditioning augmentation, Stage-I sketch, Stage-II 4x refinement",
        family="gan",
        config="zoo_stackgan.config:StackGANConfig",
        model="zoo_stackgan.model:StackGAN",
        trainer="zoo_stackgan.trainer:StackGANTrainer",
        samplers=("text",),
        conditioning="text",
        paper="Zhang, Xu, Li, Zhang, Wang, Huang, Metaxas. StackGAN: Text to Photo-realistic Image Synthesis "
              "with Stacked Generative Adversarial Networks. ICCV 2017. arXiv:1612.03242",
    ))


@hookimpl
def register_samplers(register):
    register(SamplerSpec("text", "text-to-image GAN sampling: Gaussian z (--truncation), a caption per image "
                         "(--prompt/--prompts, else drawn from the training captions)",
                         "zoo_stackgan.samplers:text", families=("gan",)))


@hookimpl
def register_datasets(register):
    register(DatasetSpec("cub", "Caltech-UCSD Birds 200-2011 with text_c10 captions: --data cub:DIR[?split=test"
                         "&bbox=0&classes=FILE&text=DIR]", "zoo_stackgan.cub:cub"))


@hookimpl
def register_importers(register):
    register(ImporterSpec(
        name="stackgan-pytorch",
        summary="StackGAN-Pytorch Stage-I / Stage-II generators (netG_epoch_N.pth) with --option embeddings=FILE",
        model="stackgan",
        detect="zoo_stackgan.importers:detect",
        convert="zoo_stackgan.importers:convert",
    ))
