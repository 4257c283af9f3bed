"""pytorch_GAN_zoo's published PGAN generators: what ``zoo list --pretrained`` shows. Imports no torch.

Their hubconf.py downloads four files named ``<label>_s<scale>_i<iteration>``: a network grown to scale
``s``, i.e. ``4 * 2**s`` pixels. The repository's recipes (``datasets.py`` writes
``config_<dataset>.json``) override no architecture field, so every release has the defaults of
``models/trainer/standard_configurations/pgan_config.py`` and ``ProgressiveGAN``: widths
``depthScales[:s + 1]`` of (512, 512, 512, 512, 256, 128, 64, 32, 16), 512 latent dimensions, equalized
learning rate, per-channel (pixel) normalisation, leaky ReLU 0.2 and the WGAN-GP loss (no output
activation): all of which zoo's generator computes exactly (tests/data/pgan_release_keys.json records
the key shapes the original code builds from that config, and a test maps every one).

The DTD recipe also sets ``imagefolderDataset`` and ``weightConditionG/D = 1``: an AC-GAN whose
generator takes the 512 noise values followed by a one-hot of DTD's 47 texture classes (their
maintainers point users to ``buildNoiseDataWithConstraints`` to pick its class, issue #112). It
converts to a ``class_cond`` pggan with 47 classes named by the checkpoint's pickled ``attribKeysOrder``:
``zoo sample testDTD_s5_i96000-04efa39f.pth --class NAME`` (or ``--class K``) picks the texture: class K is
the K-th value listed there (their dataset numbers classes in the order it first meets them, not sorted). No scores are listed: pytorch_GAN_zoo reports none for these re-trainings, and the
paper's CelebA-HQ numbers belong to NVIDIA's own 1024x1024 network, not to these weights.
"""

from __future__ import annotations

from typing import NamedTuple

from zoo_core.registry import PretrainedSpec

URL = "https://dl.fbaipublicfiles.com/gan_zoo/PGAN/{}.pth"
PAPER = "Karras et al. Progressive Growing of GANs. ICLR 2018 (pytorch_GAN_zoo's re-training)"
DEPTH_SCALES = (512, 512, 512, 512, 256, 128, 64, 32, 16)  # pgan_config.py's depthScales
LATENT = 512  # pgan_config.py's dimLatentVector


class Release(NamedTuple):
    """One hub file: its resolution, dataset and hub model name; ``classes`` one-hot AC-GAN inputs after z."""

    res: int
    dataset: str
    hub_name: str
    classes: int = 0

    @property
    def widths(self) -> tuple[int, ...]:
        """The documented feature maps per level, 4x4 first (``depthScales[:s + 1]``)."""
        return DEPTH_SCALES[:self.res.bit_length() - 2]


RELEASES = {
    "celebaHQ_s6_i80000-6196db68": Release(256, "CelebA-HQ", "celebAHQ-256"),
    "celebaHQ16_december_s7_i96000-9c72988c": Release(512, "CelebA-HQ", "celebAHQ-512"),
    "testDTD_s5_i96000-04efa39f": Release(128, "DTD (textures)", "DTD", classes=47),
    "celebaCropped_s5_i83000-2b0acc76": Release(128, "CelebA (cropped)", "celeba"),
}

CATALOGUE = tuple(
    PretrainedSpec(name=f"{name}.pth", summary=f"pytorch_GAN_zoo PGAN, {r.dataset} (torch.hub model_name={r.hub_name})"
                   + (f"; AC-GAN over {r.classes} classes, pick one with --class NAME or K" if r.classes else ""),
                   model="pggan", format="pytorch-gan-zoo-pgan", source=URL.format(name), paper=PAPER, res=r.res,
                   dataset=r.dataset, score="", license="bsd-3-clause (pytorch_GAN_zoo)")
    for name, r in RELEASES.items())
