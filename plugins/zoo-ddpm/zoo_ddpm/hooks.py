"""zoo-ddpm's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import MetricSpec, ModelSpec, SamplerSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="ddpm",
        summary="Denoising diffusion probabilistic model: U-Net, linear schedule, epsilon prediction",
        family="diffusion",
        config="zoo_ddpm.config:DDPMConfig",
        model="zoo_ddpm.model:DDPM",
        trainer="zoo_ddpm.trainer:DDPMTrainer",
        samplers=("ancestral", "ddim", "dpm++", "heun"),
        paper="Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020. arXiv:2006.11239",
    ))


@hookimpl
def register_samplers(register):
    register(SamplerSpec("ancestral", "DDPM ancestral sampling; --steps K < T respaces (iDDPM)",
                         "zoo_ddpm.samplers:ancestral"))
    register(SamplerSpec("ddim", "DDIM (Song et al. 2021): deterministic with eta=0, any number of steps",
                         "zoo_ddpm.samplers:ddim"))
    register(SamplerSpec("dpm++", "DPM-Solver++ 2M (Lu et al. 2022): deterministic, good in 10-20 steps "
                                  "(default 20, log-SNR spacing)", "zoo_ddpm.solvers:dpm_solver_pp"))
    register(SamplerSpec("heun", "EDM's 2nd-order Heun (Karras et al. 2022): deterministic, Karras sigmas; "
                                 "N steps cost 2N-1 evaluations (default 18)", "zoo_ddpm.solvers:heun"))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="nll",
        summary="negative log-likelihood in bits/dim of the real images under a diffusion model (its VLB)",
        factory="zoo_ddpm.nll:NLLMetric",
    ))
