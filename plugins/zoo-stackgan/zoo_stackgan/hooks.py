"""zoo-stackgan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import DatasetSpec, ImporterSpec, ModelSpec, PretrainedSpec, SamplerSpec

PAPER = ("Zhang, Xu, Li, Zhang, Wang, Huang, Metaxas. StackGAN: Text to Photo-realistic Image Synthesis "
         "with Stacked Generative Adversarial Networks. ICCV 2017. arXiv:1612.03242")


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
        paper=PAPER,
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


@hookimpl
def register_pretrained(register):
    # StackGAN-Pytorch publishes its COCO Stage-II generator as a Google Drive file (models/README.md of the
    # repository); it converts with `zoo convert netG_epoch_N.pth --format stackgan-pytorch --option
    # embeddings=FILE`, FILE being the authors' char-CNN-RNN COCO embeddings as .npz (docs/models/stackgan.md)
    register(PretrainedSpec(
        name="stackgan-pytorch-coco",
        summary="StackGAN-Pytorch's COCO Stage-I + Stage-II generator (needs --option embeddings=FILE)",
        model="stackgan", format="stackgan-pytorch",
        source="https://drive.google.com/open?id=0B3y_msrWZaXLYjNra2ZSSmtVQlE", paper=PAPER, res=256,
        dataset="MS-COCO", score="IS 10.62 ± 0.19 (its README; the paper's TensorFlow model: 8.45)",
        license="mit (StackGAN-Pytorch)"))
