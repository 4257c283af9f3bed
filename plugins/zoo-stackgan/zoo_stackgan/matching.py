"""The matching-aware discriminator loss (Reed et al. 2016, used by StackGAN for both stages).

D judges image-text *pairs*. Three kinds go in:

=========================  ==========  ===========================================
pair                       target      teaches D
=========================  ==========  ===========================================
(real image, its text)     real        what a good, matching pair looks like
(fake image, its text)     fake        to reject unrealistic images
(real image, other text)   fake        to reject realistic images that do not match
=========================  ==========  ===========================================

As in the authors' code the loss is ``real + (fake + wrong) / 2``, written with the shared GAN
losses as ``(d_loss(real, fake) + d_loss(real, wrong)) / 2`` so it holds for every ``--loss``.
"""

from __future__ import annotations

import torch

from zoo_core.gan.losses import d_loss


def mismatch_index(captions: list[str]) -> torch.Tensor:
    """For each item, the index of another item in the batch whose caption differs.

    Captions are rolled by one within the batch; where the rolled caption equals the item's own
    (duplicates in the batch), the next different one further along is taken. If every caption
    of the batch is the same there is no mismatched text and the plain roll is returned.
    """
    n = len(captions)
    out = []
    for i in range(n):
        j = next(((i + k) % n for k in range(1, n) if captions[(i + k) % n] != captions[i]), (i + 1) % n)
        out.append(j)
    return torch.tensor(out, dtype=torch.long)


def matching_aware_d_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor, wrong_out: torch.Tensor,
                          real_target=None, fake_target=None) -> torch.Tensor:
    """D's loss on (real, right text), (fake, right text) and (real, wrong text) outputs."""
    return 0.5 * (d_loss(kind, real_out, fake_out, real_target, fake_target)
                  + d_loss(kind, real_out, wrong_out, real_target, fake_target))
