"""pytorch_GAN_zoo's published DCGAN generator: what ``zoo list --pretrained`` shows. Imports no torch.

Its hubconf.py loads one file, trained on FashionGen at 64x64. No score is listed: pytorch_GAN_zoo
reports none for it, and the DCGAN paper (Radford et al. 2016) has no FashionGen experiment. torch.hub's
page documents a 120-value input where the repository's DCGAN default is 100 noise values, and its
FashionGen recipe trains an AC-GAN over several attributes: the importer reads the file's own config and
converts it to a dcgan conditioned on those attributes, their names kept for ``zoo sample --class
attribute=value`` (see importers.py and docs/pretrained.md).
"""

from __future__ import annotations

from zoo_core.registry import PretrainedSpec

URL = "https://dl.fbaipublicfiles.com/gan_zoo/{}.pth"
RELEASES = {"DCGAN_fashionGen-1d67302": (64, "FashionGen")}  # name -> (resolution, dataset)

CATALOGUE = tuple(
    PretrainedSpec(name=f"{name}.pth", summary=f"pytorch_GAN_zoo DCGAN, {dataset}; AC-GAN over its attributes, "
                   "pick values with --class attribute=value", model="dcgan",
                   format="pytorch-gan-zoo-dcgan", source=URL.format(name),
                   paper="Radford, Metz, Chintala. DCGAN. ICLR 2016 (pytorch_GAN_zoo's training)", res=res,
                   dataset=dataset, score="", license="bsd-3-clause (pytorch_GAN_zoo)")
    for name, (res, dataset) in RELEASES.items())
