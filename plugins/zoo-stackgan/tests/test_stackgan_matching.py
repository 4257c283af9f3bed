"""The matching-aware D: which image-text pairs it sees and which targets they get."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from zoo_stackgan.config import StackGANConfig
from zoo_stackgan.matching import matching_aware_d_loss, mismatch_index
from zoo_stackgan.model import StackGAN
from zoo_stackgan.trainer import StackGANTrainer

from zoo_core.data import DataInfo
from zoo_core.train_config import TrainConfig

CAPTIONS = ["a red circle", "a blue square", "a red circle", "a red circle", "a green triangle", "a blue square"]


def test_mismatch_index_never_pairs_an_item_with_its_own_caption():
    idx = mismatch_index(CAPTIONS).tolist()
    assert idx[0] == 1  # a plain roll where the neighbour differs
    assert idx[2] == 4  # item 3 repeats item 2's caption, so the next different one is taken
    assert all(CAPTIONS[j] != CAPTIONS[i] for i, j in enumerate(idx))
    assert mismatch_index(["same"] * 3).tolist() == [1, 2, 0]  # nothing differs: plain roll


def test_loss_is_real_plus_half_fake_plus_half_wrong():
    g = torch.Generator().manual_seed(1)
    r, f, w = (torch.randn(6, generator=g) for _ in range(3))
    bce = F.binary_cross_entropy_with_logits
    expected = bce(r, torch.ones(6)) + 0.5 * (bce(f, torch.zeros(6)) + bce(w, torch.zeros(6)))
    assert matching_aware_d_loss("nonsaturating", r, f, w).item() == pytest.approx(expected.item(), rel=1e-6)
    wgan = 0.5 * (f.mean() + w.mean()) - r.mean()
    assert matching_aware_d_loss("wgan-gp", r, f, w).item() == pytest.approx(wgan.item(), rel=1e-6)
    # a D that calls mismatched real pairs "real" is punished; one that rejects them is not
    big = torch.full((6,), 30.0)
    assert matching_aware_d_loss("nonsaturating", big, -big, -big).item() < 1e-6
    assert matching_aware_d_loss("nonsaturating", big, -big, big).item() == pytest.approx(15.0, rel=1e-3)


class RecordingD(nn.Module):
    """A stand-in D that remembers every (image, text) pair it scores."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, image, phi):
        self.calls.append((image.detach().clone(), phi.detach().clone()))
        return self.w * image.flatten(1).mean(1)


def _trainer(**cfg):
    config = StackGANConfig(res=8, g_channels=4, d_channels=4, c_dim=4, z_dim=4, compress_dim=4, **cfg)
    info = DataInfo(size=6, has_captions=True, captions=[[c] for c in CAPTIONS])
    config = StackGAN.adapt_config(config, info)
    model = StackGAN(config)
    trainer = StackGANTrainer(model, config, info, TrainConfig(steps=10, log_every=1), "cpu")
    trainer.discriminators[1] = RecordingD()
    trainer.phases(0)
    return model, trainer


def test_d_step_scores_real_right_fake_right_and_real_wrong():
    model, trainer = _trainer()
    batch = {"image": torch.rand(6, 3, 8, 8) * 2 - 1, "caption": list(CAPTIONS)}
    trainer.d_step(batch)
    (img_r, phi_r), (img_f, phi_f), (img_w, phi_w) = trainer.discriminators[1].calls
    phi = model.embed(CAPTIONS)
    assert torch.equal(img_r, batch["image"]) and torch.equal(phi_r, phi)
    assert not torch.equal(img_f, batch["image"]) and img_f.shape == img_r.shape and torch.equal(phi_f, phi)
    assert torch.equal(img_w, batch["image"]) and torch.equal(phi_w, phi[mismatch_index(CAPTIONS)])
    assert not any(torch.equal(a, b) for a, b in zip(phi_w, phi, strict=True))  # every wrong text really differs


def test_joint_batch_gives_the_same_pairs():
    _, trainer = _trainer(separate_batches=False, d_norm="none")
    batch = {"image": torch.rand(6, 3, 8, 8) * 2 - 1, "caption": list(CAPTIONS)}
    trainer.d_step(batch)
    ((img, phi),) = trainer.discriminators[1].calls
    assert torch.equal(img[:6], batch["image"]) and torch.equal(img[12:], batch["image"])
    assert torch.equal(phi[:6], phi[6:12]) and torch.equal(phi[12:], phi[:6][mismatch_index(CAPTIONS)])


def test_g_step_shows_d_the_fakes_with_their_own_text_and_adds_the_kl_term():
    model, trainer = _trainer()
    batch = {"image": torch.zeros(6, 3, 8, 8), "caption": list(CAPTIONS)}
    loss, logs = trainer.g_step(batch)
    ((img, phi),) = trainer.discriminators[1].calls
    assert torch.equal(phi, model.embed(CAPTIONS)) and img.shape == (6, 3, 8, 8)
    # D outputs 0 here, so the adversarial part is log 2 and the rest is kl_weight * KL
    assert logs["loss_g"] == pytest.approx(0.693147, rel=1e-4)
    assert loss.item() == pytest.approx(logs["loss_g"] + 2.0 * logs["kl"], rel=1e-4)


def test_wgan_gp_with_rmsprop_penalises_the_critic_with_the_matching_text():
    config = StackGANConfig(res=8, g_channels=4, d_channels=4, c_dim=4, z_dim=4, compress_dim=4, loss="wgan-gp",
                            d_norm="layer", g_norm="none", g_optimizer="rmsprop", d_optimizer="rmsprop")
    info = DataInfo(size=6, has_captions=True, captions=[[c] for c in CAPTIONS])
    config = StackGAN.adapt_config(config, info)
    trainer = StackGANTrainer(StackGAN(config), config, info, TrainConfig(steps=10, log_every=1), "cpu")
    assert all(isinstance(o, torch.optim.RMSprop) for o in trainer.optimizers.values())
    phases = trainer.phases(0)
    assert [(p.optimizer, p.repeats) for p in phases] == [("d1", 5), ("g1", 1)]
    loss, logs = trainer.d_step({"image": torch.rand(6, 3, 8, 8) * 2 - 1, "caption": list(CAPTIONS)})
    assert logs["gp"] > 0 and loss.item() == pytest.approx(logs["loss_d"] + 10 * logs["gp"], rel=1e-4)
    loss.backward()
    assert all(p.grad is not None for p in trainer.discriminators[1].parameters())
