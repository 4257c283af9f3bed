"""zoo-iddpm's registrations. Imports no torch: the CLI starts fast with every plugin installed.

The samplers (ancestral, DDIM, DPM-Solver++, Heun) and the NLL metric are zoo-ddpm's (registered there);
iDDPM models use them as is.
"""

from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ModelSpec


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="iddpm",
        summary="Improved DDPM: cosine schedule, learned variances, hybrid loss, fast respaced sampling; "
                "optional class conditioning (--class-cond)",
        family="diffusion",
        config="zoo_iddpm.config:IDDPMConfig",
        model="zoo_iddpm.model:IDDPM",
        trainer="zoo_iddpm.trainer:IDDPMTrainer",
        samplers=("ancestral", "ddim", "dpm++", "heun"),
        paper="Nichol, Dhariwal. Improved Denoising Diffusion Probabilistic Models. ICML 2021. arXiv:2102.09672",
    ))

