"""StackGAN training: one Stage at a time, each a matching-aware D update and a G update with the KL term.

``--stage 1`` trains Stage I; ``--stage 2`` loads and freezes a Stage-I model and trains Stage II;
``--stage both`` trains Stage I for ``--stage1-steps`` optimizer steps (default half of ``--steps``),
then freezes it and trains Stage II for the rest. Each stage has its own G and D optimizers
(``g1``/``d1``, ``g2``/``d2``), so checkpoints and resume work across the switch. The losses,
gradient penalty, soft labels, instance noise and health checks come from :mod:`zoo_core.gan`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.gan.health import GanHealth, diversity
from zoo_core.gan.losses import critic_regularisers, g_loss
from zoo_core.gan.options import LABEL_LOSSES
from zoo_core.gan.trainer import frozen
from zoo_core.gan.tricks import InstanceNoise, flip_labels, real_fake_targets
from zoo_core.protocols import Phase

from .conditioning import kl_divergence
from .matching import matching_aware_d_loss, mismatch_index
from .networks import Discriminator, init_weights


def make_optimizer(params, kind: str, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.Adam(params, lr=lr, betas=betas)


class StackGANTrainer:
    """The Trainer protocol for StackGAN (see the module docstring)."""

    def __init__(self, model, config, data_info, train_cfg, device):
        self.model, self.config, self.train_cfg = model, config, train_cfg
        self.device = torch.device(device)
        captions = list(getattr(data_info, "captions", []) or [])
        if config.stage == "2":
            from .stage1 import load_stage1

            load_stage1(model, config.stage1)
        else:
            model.fit_text(captions)
        model.set_bank(captions)
        self.switch = self._switch_step()
        self.discriminators: dict[int, nn.Module] = {}
        if config.stage != "2":
            self.discriminators[1] = self._discriminator(config.stage1_res)
        if config.has_stage2:
            self.discriminators[2] = self._discriminator(config.res)
        self.modules = {"g": model, **{f"d{s}": d for s, d in self.discriminators.items()}}
        betas = (config.beta1, config.beta2)
        lr_g = train_cfg.lr if config.lr_g is None else config.lr_g
        lr_d = train_cfg.lr if config.lr_d is None else config.lr_d
        self.optimizers = {}
        for s, d in self.discriminators.items():
            g_params = [*model.get_submodule(f"ca{s}").parameters(), *model.get_submodule(f"g{s}").parameters()]
            self.optimizers[f"g{s}"] = make_optimizer(g_params, config.g_optimizer, lr_g, betas)
            self.optimizers[f"d{s}"] = make_optimizer(d.parameters(), config.d_optimizer, lr_d, betas)
        self.ema = ("g",)
        self.noise = InstanceNoise(config.instance_noise, config.instance_noise_steps)
        self.monitors = {s: GanHealth(config.loss, replay=False) for s in self.discriminators}
        self.step, self.current = 0, min(self.discriminators)
        self.diversity_every = max(1, train_cfg.log_every // 4)

    def _switch_step(self) -> int:
        """The first optimizer step of Stage II."""
        cfg, steps = self.config, self.train_cfg.steps
        if cfg.stage == "1":
            return steps + 1
        if cfg.stage == "2":
            return 0
        switch = cfg.stage1_steps if cfg.stage1_steps is not None else steps // 2
        if not 0 < switch < steps:
            raise ZooError(f"--stage1-steps {switch} leaves no steps for Stage II (or none for Stage I) out of "
                           f"--steps {steps}")
        return switch

    def _discriminator(self, res: int) -> nn.Module:
        cfg = self.config
        d = Discriminator(res, cfg.text_dim, cfg.d_channels, cfg.compress_dim, cfg.d_norm, cfg.d_dropout,
                          cfg.in_channels)
        init_weights(d)
        return d.to(self.device)

    def stage_at(self, step: int) -> int:
        return 1 if step < self.switch else 2

    @property
    def preview_kwargs(self) -> dict:
        """Sample grids show Stage I while it trains (Stage II is still untrained then)."""
        return {"stage": 1} if self.current == 1 and self.config.has_stage2 else {}

    # ---------------------------------------------------------------- losses
    def _real(self, batch: dict) -> torch.Tensor:
        x = batch["image"]
        if self.current == 1 and x.shape[-1] != self.config.stage1_res:  # --stage both: data comes at Stage II's res
            x = F.interpolate(x, size=(self.config.stage1_res,) * 2, mode="area")
        return x

    def _fake(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = self.current
        z = torch.randn((phi.shape[0], self.config.z_dim), device=self.device)
        out = self.model(z, phi, stage=s)
        return out[f"image{s}"], out[f"mu{s}"], out[f"logvar{s}"]

    def _prob(self, scores: torch.Tensor) -> float:
        scores = scores.detach().float()
        return float((torch.sigmoid(scores) if self.config.loss in ("nonsaturating", "minimax") else scores).mean())

    def _d_outputs(self, d, real, fake, phi, wrong):
        if self.config.separate_batches:
            return d(real, phi), d(fake, phi), d(real, wrong)
        return d(torch.cat([real, fake, real]), torch.cat([phi, phi, wrong])).chunk(3)

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, d = self.config, self.discriminators[self.current]
        real = self._real(batch)
        phi = self.model.embed(batch["caption"])
        wrong = phi[mismatch_index(batch["caption"]).to(phi.device)]
        with torch.no_grad():
            fake = self._fake(phi)[0]
        logs: dict[str, float] = {}
        if self.step % self.diversity_every == 0:
            logs["div_real"], logs["div_fake"] = diversity(real), diversity(fake)
        real_in, fake_in = self.noise(real, self.step), self.noise(fake, self.step)
        r, f, w = self._d_outputs(d, real_in, fake_in, phi, wrong)
        rt = ft = None
        if cfg.loss in LABEL_LOSSES and (cfg.smoothing is not None or cfg.label_flip):
            rt, ft = real_fake_targets(len(r), cfg.smoothing, device=r.device)
            rt, ft = flip_labels(rt, cfg.label_flip), flip_labels(ft, cfg.label_flip)
        adv = matching_aware_d_loss(cfg.loss, r, f, w, rt, ft)
        loss = adv
        logs.update(loss_d=float(adv.detach()), d_real=self._prob(r), d_fake=self._prob(f), d_wrong=self._prob(w))
        penalty, reg_logs = critic_regularisers(cfg, d, real_in, fake_in, r, extra_args=(phi,))
        loss = loss + penalty
        logs.update(reg_logs)
        return loss, logs

    def g_step(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, d = self.config, self.discriminators[self.current]
        phi = self.model.embed(batch["caption"])
        fake, mu, logvar = self._fake(phi)
        with frozen(d):
            out = d(self.noise(fake, self.step), phi)
        adv = g_loss(cfg.loss, out)
        kl = kl_divergence(mu, logvar)
        return adv + cfg.kl_weight * kl, {"loss_g": float(adv.detach()), "kl": float(kl.detach())}

    # ------------------------------------------------------ Trainer protocol
    def phases(self, step: int) -> list[Phase]:
        self.step, self.current = step, self.stage_at(step)
        if self.current == 2 and not self.model.frozen_stage1:
            self.model.freeze_stage1()
        s = self.current
        return [Phase(f"d{s}", self.d_step, repeats=self.config.critic_steps), Phase(f"g{s}", self.g_step)]

    def components(self) -> dict[str, nn.Module]:
        """Saved beside the generator in ``final/`` (``discriminator1.safetensors``, ...)."""
        return {f"discriminator{s}": d for s, d in self.discriminators.items()}

    def health(self, logs: dict[str, float]) -> list[str]:
        return [f"Stage {self.current}: {msg}" for msg in self.monitors[self.current].check(logs, step=self.step)]

    def state_dict(self) -> dict:
        return {f"health{s}": m.state_dict() for s, m in self.monitors.items()}

    def load_state_dict(self, state: dict) -> None:
        for s, m in self.monitors.items():
            if f"health{s}" in state:
                m.load_state_dict(state[f"health{s}"])
