"""The checkpoints released with improved-diffusion and the flags its README documents for each.

Kept apart from the importer (no torch here) so the plugin's hooks can list them cheaply.
"""

from __future__ import annotations

URL = "https://openaipublic.blob.core.windows.net/diffusion/march-2021/{}.pt"
PAPER = "Nichol, Dhariwal. Improved Denoising Diffusion Probabilistic Models. ICML 2021. arXiv:2102.09672"

# name -> (resolution, dataset, MODEL_FLAGS + DIFFUSION_FLAGS as the README gives them)
RELEASES: dict[str, tuple[int, str, dict]] = {
    "cifar10_uncond_50M_500K": (32, "CIFAR-10", dict(
        image_size=32, num_channels=128, num_res_blocks=3, learn_sigma=True, dropout=0.3, diffusion_steps=4000,
        noise_schedule="cosine")),
    "cifar10_uncond_vlb_50M_500K": (32, "CIFAR-10", dict(
        image_size=32, num_channels=128, num_res_blocks=3, learn_sigma=True, dropout=0.3, diffusion_steps=4000,
        noise_schedule="cosine", use_kl=True)),
    "imagenet64_uncond_100M_1500K": (64, "ImageNet 64x64", dict(
        image_size=64, num_channels=128, num_res_blocks=3, learn_sigma=True, diffusion_steps=4000,
        noise_schedule="cosine")),
    "imagenet64_uncond_vlb_100M_1500K": (64, "ImageNet 64x64", dict(
        image_size=64, num_channels=128, num_res_blocks=3, learn_sigma=True, diffusion_steps=4000,
        noise_schedule="cosine", use_kl=True)),
    "imagenet64_cond_270M_250K": (64, "ImageNet 64x64 (class-conditional)", dict(
        image_size=64, num_channels=192, num_res_blocks=3, learn_sigma=True, class_cond=True, diffusion_steps=4000,
        noise_schedule="cosine", rescale_learned_sigmas=False, rescale_timesteps=False)),
    "lsun_uncond_100M_1200K_bs128": (256, "LSUN Bedroom", dict(
        image_size=256, num_channels=128, num_res_blocks=2, num_heads=1, learn_sigma=True,
        use_scale_shift_norm=False, attention_resolutions="16", diffusion_steps=1000, noise_schedule="linear",
        rescale_learned_sigmas=False, rescale_timesteps=False)),
    "lsun_uncond_100M_2400K_bs64": (256, "LSUN Bedroom", dict(
        image_size=256, num_channels=128, num_res_blocks=2, num_heads=1, learn_sigma=True,
        use_scale_shift_norm=False, attention_resolutions="16", diffusion_steps=1000, noise_schedule="linear",
        rescale_learned_sigmas=False, rescale_timesteps=False)),
}

# improved-diffusion's model_and_diffusion_defaults(): what a flag left out of the README means
DEFAULTS = dict(image_size=64, num_channels=128, num_res_blocks=2, num_heads=4, num_heads_upsample=-1,
                attention_resolutions="16,8", dropout=0.0, learn_sigma=False, sigma_small=False, class_cond=False,
                diffusion_steps=1000, noise_schedule="linear", timestep_respacing="", use_kl=False,
                predict_xstart=False, rescale_timesteps=True, rescale_learned_sigmas=True, use_checkpoint=False,
                use_scale_shift_norm=True)
