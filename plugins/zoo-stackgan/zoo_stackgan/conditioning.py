"""Conditioning Augmentation (StackGAN, Sec. 3.1): c = mu(phi) + sigma(phi) * eps, eps ~ N(0, I).

A few thousand captions give a sparse, jagged embedding manifold; sampling c around mu(phi)
instead of feeding phi directly fills it in and lets one caption map to many images. The KL
term pulls N(mu, sigma^2) towards N(0, I) so that the conditioning manifold stays smooth.
"""

from __future__ import annotations

import torch
from torch import nn


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per element, averaged over batch and dimensions.

    The closed form per dimension is 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2). Averaging over the
    dimensions (not summing) follows the authors' code, so ``--kl-weight 2`` means what it meant
    there; the paper's per-sample KL is this value times ``c_dim``.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()


class ConditioningAugmentation(nn.Module):
    """phi (text embedding) -> (c, mu, logvar) with one linear layer, as in the paper.

    The layer keeps PyTorch's default initialisation (uniform, scaled by 1/sqrt(text_dim)) rather
    than the N(0, 0.02) of the authors' code: with unit-norm text embeddings (the bag of words)
    N(0, 0.02) makes mu about 50x smaller than the unit CA noise, and G then needs thousands of
    steps before the text shows in its images (measured on builtin:shapes, docs/models/stackgan.md).
    """

    def __init__(self, text_dim: int, c_dim: int, relu: bool = False):
        super().__init__()
        self.c_dim, self.relu = c_dim, relu  # relu: the authors' code passes fc's output through a ReLU
        self.fc = nn.Linear(text_dim, 2 * c_dim)

    def forward(self, phi: torch.Tensor, eps: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``eps`` (same shape as c) makes the draw reproducible; None draws from the global RNG."""
        h = self.fc(phi)
        mu, logvar = (torch.relu(h) if self.relu else h).chunk(2, dim=1)
        logvar = logvar.clamp(-20.0, 20.0)  # keeps exp() finite when a run diverges
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + (0.5 * logvar).exp() * eps, mu, logvar


class TextStandardizer(nn.Module):
    """Centres text embeddings and scales them to unit variance per dimension on average.

    Encoders differ wildly in scale (a unit-norm bag of words over 1000 words has entries near 0.1;
    other embeddings run into the tens), while Adam moves the CA layer's weights by about the
    learning rate per step whatever the scale. Fixed statistics of the training captions
    (``fit``; buffers, so a saved model keeps them) make every encoder look alike to CA and D.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(1))

    @torch.no_grad()
    def fit(self, phi: torch.Tensor) -> None:
        """Statistics of ``phi`` [N, D] (embeddings of the training captions)."""
        phi = phi.float()
        self.shift.copy_(phi.mean(0))
        self.scale.fill_(float(phi.var(0, unbiased=False).mean().clamp_min(1e-12).rsqrt()))

    def forward(self, phi: torch.Tensor) -> torch.Tensor:
        return (phi - self.shift) * self.scale
