"""The core registers its own built-in datasets, metrics, feature extractors and the GAN latent sampler
through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .registry import DatasetSpec, SamplerSpec


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
