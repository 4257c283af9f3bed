"""zoo-ddpm's registrations. Imports no torch: the CLI starts fast with every plugin installed."""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ImporterSpec, MetricSpec, ModelSpec, PretrainedSpec, SamplerSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="ddpm",
        summary="Denoising diffusion probabilistic model: U-Net, linear schedule, v-prediction with zero terminal SNR",
        family="diffusion",
        config="zoo_ddpm.config:DDPMConfig",
        model="zoo_ddpm.model:DDPM",
        trainer="zoo_ddpm.trainer:DDPMTrainer",
        samplers=("dpm++", "ancestral", "ddim", "heun"),  # the first is the default: 20 steps (docs/performance.md)
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
def register_importers(register):
    register(ImporterSpec(
        name="diffusers-ddpm",
        summary="diffusers UNet2DModel + DDPMScheduler folders and repos (google/ddpm-*)",
        model="ddpm",
        detect="zoo_ddpm.importers:detect",
        convert="zoo_ddpm.importers:convert",
    ))


HO_ET_AL = "Ho, Jain, Abbeel. Denoising Diffusion Probabilistic Models. NeurIPS 2020"
# Ho et al.'s released models as diffusers publishes them (Apache-2.0 on their model cards); scores are the
# paper's (Table 1 and 3: FID at 50k samples, CIFAR-10 IS 9.46). The ddpm-ema-* repos hold the EMA weights.
GOOGLE = (("cifar10-32", 32, "CIFAR-10", "FID 3.17"), ("celebahq-256", 256, "CelebA-HQ", ""),
          ("church-256", 256, "LSUN Church", "FID 7.89"), ("bedroom-256", 256, "LSUN Bedroom", "FID 6.36"),
          ("cat-256", 256, "LSUN Cat", "FID 19.75"))


@hookimpl
def register_pretrained(register):
    for name, res, dataset, score in GOOGLE:
        for ema in ("", "ema-"):
            if name == "cifar10-32" and ema:
                continue  # google publishes no ddpm-ema-cifar10-32
            repo = f"google/ddpm-{ema}{name}"
            register(PretrainedSpec(
                name=repo, summary=f"Ho et al.'s {dataset} model{' (EMA weights)' if ema else ''}", model="ddpm",
                format="diffusers-ddpm", source=repo, paper=HO_ET_AL, res=res, dataset=dataset, score=score,
                license="apache-2.0"))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="nll",
        summary="negative log-likelihood in bits/dim of the real images under a diffusion model (its VLB)",
        factory="zoo_ddpm.nll:NLLMetric",
    ))
