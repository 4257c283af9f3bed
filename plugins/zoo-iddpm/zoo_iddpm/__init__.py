"""zoo-iddpm: Improved Denoising Diffusion Probabilistic Models (Nichol & Dhariwal, 2021).

Builds on zoo-ddpm (its U-Net, Gaussian diffusion maths and samplers) and adds what the paper adds:
``vlb`` (the variational bound's terms in bits/dim), ``timesteps`` (uniform and loss-aware
importance sampling of t), ``trainer`` (the hybrid objective), ``nll`` (bits/dim of a dataset)
and ``model``/``config`` (the iDDPM defaults and presets).
"""

__version__ = "0.1.0"
