"""zoo-iddpm's registrations. Imports no torch: the CLI starts fast with every plugin installed.

The samplers (ancestral, DDIM, DPM-Solver++, Heun) and the NLL metric are zoo-ddpm's (registered there);
iDDPM models use them as is.
"""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ImporterSpec, ModelSpec, PretrainedSpec

from .releases import PAPER, RELEASES, URL


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="iddpm",
        summary="Improved DDPM: cosine schedule, learned variances, hybrid loss, fast respaced sampling "
                "(100 ancestral steps by default); "
                "optional class conditioning (--class-cond)",
        family="diffusion",
        config="zoo_iddpm.config:IDDPMConfig",
        model="zoo_iddpm.model:IDDPM",
        trainer="zoo_iddpm.trainer:IDDPMTrainer",
        samplers=("ancestral", "ddim", "dpm++", "heun"),
        paper="Nichol, Dhariwal. Improved Denoising Diffusion Probabilistic Models. ICML 2021. arXiv:2102.09672",
    ))


@hookimpl
def register_importers(register):
    register(ImporterSpec(
        name="improved-diffusion",
        summary="improved-diffusion UNetModel .pt state dicts (released files are recognised by name; others take "
                "their flags as --option KEY=VALUE)",
        model="iddpm",
        detect="zoo_iddpm.importers:detect",
        convert="zoo_iddpm.importers:convert",
    ))


@hookimpl
def register_pretrained(register):
    for name, (res, dataset, flags) in RELEASES.items():
        register(PretrainedSpec(
            name=f"{name}.pt", summary=f"improved-diffusion release, {dataset}", model="iddpm", format="improved-diffusion",
            source=URL.format(name), paper=PAPER, res=res, dataset=dataset, license="mit (improved-diffusion)",
            options=tuple(sorted(flags.items()))))
