"""zoo-ddpm: Denoising Diffusion Probabilistic Models (Ho et al., 2020) as a zoo plugin.

``diffusion`` holds all the Gaussian diffusion maths (schedules, q/posterior closed forms, losses,
respacing); ``unet`` the network; ``samplers`` the ancestral and DDIM samplers that serve any
epsilon-prediction model; ``model`` and ``trainer`` tie them to the zoo core.
"""

__version__ = "0.1.0"
