"""The GAN toolkit every GAN plugin (DCGAN, PGGAN, StackGAN) shares.

Nothing here is model specific; a plugin picks what it needs:

* :mod:`.options`  ``GANOptions``: the shared config fields (loss, n_critic, label smoothing, ...);
  a model's config dataclass inherits from it so every GAN has the same ``zoo train`` flags.
  Imports no torch, so config modules stay light.
* :mod:`.losses`   ``d_loss`` / ``g_loss`` for nonsaturating, minimax, LSGAN, hinge and WGAN-GP,
  ``gradient_penalty`` and the PGGAN ``drift_penalty``.
* :mod:`.tricks`   soft and noisy labels, decaying instance noise, a replay buffer of old fakes.
* :mod:`.health`   ``GanHealth``: warnings for the usual failure signs (D loss at 0, G loss
  climbing, samples less diverse than the data), each with what to try.
* :mod:`.latent`   spherical interpolation, truncated noise and ``latent_sampler`` (the function
  behind the ``latent`` sampler).
* :mod:`.generator` ``GANGenerator``: ``generate`` and ``interpolate`` for a latent generator.
* :mod:`.trainer`  ``GANTrainer``: a ready Trainer for a G/D pair; subclasses override a few hooks.

The ``latent`` sampler (``zoo_core.gan.latent:latent_sampler``) is registered by the core itself
(``zoo_core.builtin_plugin``): a GAN plugin lists ``"latent"`` in its ``ModelSpec.samplers``.

This module imports nothing so that ``from zoo_core.gan.options import GANOptions`` in a config
module does not pull in torch.
"""
