"""The GAN losses and penalties against values computed by hand."""

import math

import pytest
import torch

from zoo_core.gan.losses import LOSSES, d_loss, drift_penalty, g_loss, gradient_penalty

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sp(x):  # softplus, written out
    return math.log1p(math.exp(x))


def test_loss_names():
    assert LOSSES == ("nonsaturating", "minimax", "lsgan", "hinge", "wgan-gp")


def test_bce_d_loss_matches_hand_computation():
    # BCE(l, 1) = softplus(-l), BCE(l, 0) = softplus(l)
    want = (sp(-2.0) + sp(1.0)) / 2 + (sp(0.5) + sp(-3.0)) / 2
    for kind in ("nonsaturating", "minimax"):
        assert d_loss(kind, REAL, FAKE).item() == pytest.approx(want, rel=1e-6)
    # logits of 0 everywhere: D is confused, loss 2 log 2
    assert d_loss("nonsaturating", torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2 * math.log(2))


def test_bce_d_loss_soft_targets():
    t_real, t_fake = torch.tensor([0.9, 0.8]), torch.tensor([0.1, 0.2])

    def bce(logit, t):
        p = 1 / (1 + math.exp(-logit))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    want = (bce(2.0, 0.9) + bce(-1.0, 0.8)) / 2 + (bce(0.5, 0.1) + bce(-3.0, 0.2)) / 2
    assert d_loss("nonsaturating", REAL, FAKE, t_real, t_fake).item() == pytest.approx(want, rel=1e-5)
    # a scalar target broadcasts
    assert d_loss("nonsaturating", REAL, FAKE, 0.9).item() == pytest.approx(
        (bce(2.0, 0.9) + bce(-1.0, 0.9)) / 2 + (sp(0.5) + sp(-3.0)) / 2, rel=1e-5)


def test_g_losses_match_hand_computation():
    assert g_loss("nonsaturating", FAKE).item() == pytest.approx((sp(-0.5) + sp(3.0)) / 2, rel=1e-6)
    # minimax: log(1 - sigmoid(f)) = -softplus(f)
    want = (math.log(1 - 1 / (1 + math.exp(-0.5))) + math.log(1 - 1 / (1 + math.exp(3.0)))) / 2
    assert g_loss("minimax", FAKE).item() == pytest.approx(want, rel=1e-6)
    assert g_loss("lsgan", FAKE).item() == pytest.approx(0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2)
    assert g_loss("hinge", FAKE).item() == pytest.approx(1.25)
    assert g_loss("wgan-gp", FAKE).item() == pytest.approx(1.25)


def test_lsgan_hinge_wgan_d_losses():
    assert d_loss("lsgan", REAL, FAKE).item() == pytest.approx(0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2
                                                                      + (0.5 ** 2 + 3.0 ** 2) / 2))
    assert d_loss("lsgan", REAL, FAKE, 0.9, 0.1).item() == pytest.approx(
        0.5 * ((1.1 ** 2 + 1.9 ** 2) / 2 + (0.4 ** 2 + 3.1 ** 2) / 2), rel=1e-6)
    # hinge: relu(1 - r) = [0, 2], relu(1 + f) = [1.5, 0]
    assert d_loss("hinge", REAL, FAKE).item() == pytest.approx(1.0 + 0.75)
    assert d_loss("wgan-gp", REAL, FAKE).item() == pytest.approx(-1.25 - 0.5)


def test_targetless_losses_reject_targets_and_unknown_kind():
    with pytest.raises(ValueError, match="takes no targets"):
        d_loss("hinge", REAL, FAKE, 0.9)
    with pytest.raises(ValueError, match="unknown GAN loss"):
        g_loss("vanilla", FAKE)


def test_gradient_penalty_of_linear_critic_is_known():
    torch.manual_seed(0)
    w = torch.tensor([3.0, 4.0, 0.0, 12.0])  # ||w|| = 13 everywhere
    critic = lambda x: x.flatten(1) @ w  # noqa: E731
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((13 - 1) ** 2)
    assert gradient_penalty(critic, real, fake, center=0.0).item() == pytest.approx(169.0)
    # extra args reach the critic, and the penalty trains a parameterised critic
    scale = torch.tensor(2.0, requires_grad=True)
    gp = gradient_penalty(lambda x, s: s * (x.flatten(1) @ w), real, fake, extra_args=(scale,))
    assert gp.item() == pytest.approx((26 - 1) ** 2)
    gp.backward()
    assert scale.grad.item() == pytest.approx(2 * (26 - 1) * 13)


def test_drift_penalty():
    assert drift_penalty(torch.tensor([1.0, -3.0])).item() == pytest.approx(5.0)
