"""zoo-iddpm: Improved Denoising Diffusion Probabilistic Models (Nichol & Dhariwal, 2021).

Builds on zoo-ddpm, whose ``GaussianDiffusion`` holds all the maths (VLB terms, hybrid loss, bits/dim,
respacing) and whose samplers and NLL metric serve every diffusion model. What is iDDPM's own:
``timesteps`` (uniform and loss-aware importance sampling of t), ``trainer`` (keeps that sampler's
state) and ``model``/``config`` (the paper's defaults, presets and class conditioning).
"""

__version__ = "0.1.0"
