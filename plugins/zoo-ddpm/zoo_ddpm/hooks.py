"""zoo-ddpm's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import MetricSpec, ModelSpec, SamplerSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="ddpm",
        summary="Denoising diffusion probabilistic model: U-Net, linear schedule, v-prediction with zero terminal SNR",
        family="diffusion",
        config="zoo_ddpm.config:DDPMConfig",
        model="zoo_ddpm.model:DDPM",
        trainer="zoo_ddpm.trainer:DDPMTrainer",
        samplers=("ancestral", "ddim"),
        paper="Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020. arXiv:2006.11239",
    ))


@hookimpl
def register_samplers(register):
    register(SamplerSpec("ancestral", "DDPM ancestral sampling; --steps K < T respaces (iDDPM)",
                         "zoo_ddpm.samplers:ancestral"))
    register(SamplerSpec("ddim", "DDIM (Song et al. 2021): deterministic with eta=0, any number of steps",
                         "zoo_ddpm.samplers:ddim"))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="nll",
        summary="negative log-likelihood in bits/dim of the real images under a diffusion model (its VLB)",
        factory="zoo_ddpm.nll:NLLMetric",
    ))
