"""GAN objectives on raw discriminator outputs (logits for the BCE losses, scores otherwise).

Every loss is a mean over the batch. ``d_loss`` returns the real term plus the fake term, so a
perfectly confused BCE discriminator (logits 0) scores ``2 log 2``.

=============  ============================================  ===================================
kind           D minimises                                   G minimises
=============  ============================================  ===================================
nonsaturating  BCE(D(x), 1) + BCE(D(G(z)), 0)                BCE(D(G(z)), 1) = -log sigmoid
minimax        same as nonsaturating                         log(1 - sigmoid(D(G(z))))  (paper)
lsgan          ((D(x)-1)^2 + D(G(z))^2) / 2                  (D(G(z)) - 1)^2 / 2
hinge          relu(1 - D(x)) + relu(1 + D(G(z)))            -D(G(z))
wgan-gp        D(G(z)) - D(x)   (+ gp_weight * penalty)      -D(G(z))
=============  ============================================  ===================================

The minimax G loss saturates early in training (its gradient vanishes when D rejects every fake),
which is why nonsaturating is the default. Soft targets (label smoothing, flipped labels) replace the
1 and 0 of the BCE and LSGAN losses; hinge and WGAN have no targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .options import LABEL_LOSSES, LOSS_CHOICES

LOSSES = LOSS_CHOICES


def _check(kind: str) -> None:
    if kind not in LOSSES:
        raise ValueError(f"unknown GAN loss {kind!r}; choose one of {', '.join(LOSSES)}")


def _targets(out: torch.Tensor, target: torch.Tensor | float | None, default: float) -> torch.Tensor:
    if target is None:
        return torch.full_like(out, default)
    target = torch.as_tensor(target, dtype=out.dtype, device=out.device)
    return target.reshape(out.shape) if target.numel() == out.numel() else target.expand_as(out)


def d_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor,
           real_target: torch.Tensor | float | None = None,
           fake_target: torch.Tensor | float | None = None) -> torch.Tensor:
    """The discriminator's loss for raw outputs on a real and a fake batch (targets: soft labels)."""
    _check(kind)
    real_out, fake_out = real_out.float().flatten(), fake_out.float().flatten()
    if kind not in LABEL_LOSSES and (real_target is not None or fake_target is not None):
        raise ValueError(f"--loss {kind} takes no targets (label smoothing/flipping need {', '.join(LABEL_LOSSES)})")
    if kind in ("nonsaturating", "minimax"):
        return (F.binary_cross_entropy_with_logits(real_out, _targets(real_out, real_target, 1.0))
                + F.binary_cross_entropy_with_logits(fake_out, _targets(fake_out, fake_target, 0.0)))
    if kind == "lsgan":
        return 0.5 * ((real_out - _targets(real_out, real_target, 1.0)).pow(2).mean()
                      + (fake_out - _targets(fake_out, fake_target, 0.0)).pow(2).mean())
    if kind == "hinge":
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()
    return fake_out.mean() - real_out.mean()  # wgan-gp


def g_loss(kind: str, fake_out: torch.Tensor) -> torch.Tensor:
    """The generator's loss for D's raw outputs on a fake batch."""
    _check(kind)
    fake_out = fake_out.float().flatten()
    if kind == "nonsaturating":
        return F.softplus(-fake_out).mean()  # -log sigmoid(f)
    if kind == "minimax":
        return -F.softplus(fake_out).mean()  # log(1 - sigmoid(f))
    if kind == "lsgan":
        return 0.5 * (fake_out - 1.0).pow(2).mean()
    return -fake_out.mean()  # hinge, wgan-gp


def gradient_penalty(critic: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor, *,
                     center: float = 1.0, extra_args: Sequence = ()) -> torch.Tensor:
    """WGAN-GP's ``E[(||grad_x D(x_hat)|| - center)^2]`` at random points between real and fake.

    ``critic(x, *extra_args)`` returns one score per image. ``x_hat = eps*real + (1-eps)*fake``
    with one ``eps ~ U[0, 1]`` per sample. The graph is kept (``create_graph``) so the penalty
    trains the critic; the caller multiplies by ``gp_weight``. ``center=0`` gives the zero-centred
    variant.
    """
    real, fake = real.detach(), fake.detach()
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat, *extra_args)
    (grad,) = torch.autograd.grad(scores.float().sum(), x_hat, create_graph=True)
    norms = grad.float().flatten(1).norm(2, dim=1)
    return (norms - center).pow(2).mean()


def drift_penalty(real_out: torch.Tensor) -> torch.Tensor:
    """PGGAN's epsilon-drift term ``E[D(x)^2]`` on real scores: keeps WGAN critic outputs near 0."""
    return real_out.float().pow(2).mean()


def critic_regularisers(cfg, critic, real_in, fake_in, real_scores, extra_args=()):
    """The D-side penalties every GAN trainer adds: WGAN-GP's gradient penalty (``cfg.loss ==
    "wgan-gp"`` and ``cfg.gp_weight``) and PGGAN's epsilon drift (``cfg.drift_weight``).

    Returns ``(penalty, logs)``; ``penalty`` is 0.0 when neither applies.
    """
    penalty, logs = 0.0, {}
    if cfg.loss == "wgan-gp" and cfg.gp_weight:
        gp = gradient_penalty(critic, real_in, fake_in, extra_args=extra_args)
        penalty = penalty + cfg.gp_weight * gp
        logs["gp"] = float(gp.detach())
    if getattr(cfg, "drift_weight", 0.0):
        drift = drift_penalty(real_scores)
        penalty = penalty + cfg.drift_weight * drift
        logs["drift"] = float(drift.detach())
    return penalty, logs
