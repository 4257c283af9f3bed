"""zoo-pggan's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import MetricSpec, ModelSpec, SamplerSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="pggan",
        summary="Progressive growing of GANs: 4x4 up to --res with fade-in, equalized lr, PixelNorm, minibatch "
                "stddev, WGAN-GP",
        family="gan",
        config="zoo_pggan.config:PGGANConfig",
        model="zoo_pggan.model:PGGAN",
        trainer="zoo_pggan.trainer:PGGANTrainer",
        samplers=("pggan-latent",),
        paper="Karras, Aila, Laine, Lehtinen. Progressive Growing of GANs for Improved Quality, Stability, "
              "and Variation. ICLR 2018. arXiv:1710.10196",
    ))


@hookimpl
def register_samplers(register):
    # The toolkit's latent sampler under our own name: "latent" belongs to zoo-dcgan, which we do not depend on.
    register(SamplerSpec("pggan-latent", "GAN latent sampling: Gaussian z, --truncation T resamples entries "
                         "beyond T std devs", "zoo_core.gan.latent:latent_sampler", families=("gan",)))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="swd",
        summary="sliced Wasserstein distance between 7x7 patches of Laplacian pyramid levels (Karras et al. "
                "2018), x1e3 per level and averaged; lower is better",
        factory="zoo_pggan.swd:SlicedWasserstein",
    ))
