"""StackGAN training: one Stage at a time, each a matching-aware D update and a G update with the KL term.

``--stage 1`` trains Stage I; ``--stage 2`` loads and freezes a Stage-I model and trains Stage II;
``--stage both`` trains Stage I for ``--stage1-steps`` optimizer steps (default half of ``--steps``),
then freezes it and trains Stage II for the rest. Each stage has its own G and D optimizers
(``g1``/``d1``, ``g2``/``d2``), so checkpoints and resume work across the switch. The losses,
gradient penalty, soft labels, instance noise and health checks come from :class:`~zoo_core.gan.trainer.GANTrainer`,
which this subclasses: only the matching-aware parts (text embeddings, the mismatched-caption D pass
and loss, the KL term) and the stage switch are StackGAN's own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.gan.health import GanHealth
from zoo_core.gan.trainer import GANTrainer, Out
from zoo_core.protocols import Phase

from .conditioning import kl_divergence
from .matching import matching_aware_d_loss, mismatch_index
from .networks import Discriminator, init_weights


class StackGANTrainer(GANTrainer):
    """The Trainer protocol for StackGAN (see the module docstring)."""

    def __init__(self, model, config, data_info, train_cfg, device):
        self.config, self.train_cfg, self.device = config, train_cfg, torch.device(device)
        captions = list(getattr(data_info, "captions", []) or [])
        if config.stage == "2":
            from .stage1 import load_stage1

            load_stage1(model, config.stage1)
        else:
            model.fit_text(captions)
        model.set_bank(captions)
        self.model = model
        self.switch = self._switch_step()
        self.discriminators: dict[int, nn.Module] = {}
        if config.stage != "2":
            self.discriminators[1] = self._discriminator(config.stage1_res)
        if config.has_stage2:
            self.discriminators[2] = self._discriminator(config.res)
        self.current = min(self.discriminators)
        super().__init__(model, config, data_info, train_cfg, device)
        self.modules = {"g": model, **{f"d{s}": d for s, d in self.discriminators.items()}}
        self.monitors = {s: GanHealth(config.loss, replay=False) for s in self.discriminators}
        self.monitor = self.monitors[self.current]

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

    # ------------------------------------------------------- GANTrainer hooks
    def build_discriminator(self) -> nn.Module:
        return self.discriminators[self.current]

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """G (its stage's CA and generator) and D optimizers per stage: ``g1``/``d1``, ``g2``/``d2``."""
        optimizers = {}
        for s, d in self.discriminators.items():
            g_params = [*self.model.get_submodule(f"ca{s}").parameters(), *self.model.get_submodule(f"g{s}").parameters()]
            optimizers[f"g{s}"] = self.make_optimizer("g", g_params)
            optimizers[f"d{s}"] = self.make_optimizer("d", d.parameters())
        return optimizers

    def prepare(self, batch: dict) -> dict:
        """Real images at the current stage's resolution and the captions' embeddings ``phi``."""
        x = batch["image"]
        if self.current == 1 and x.shape[-1] != self.config.stage1_res:  # --stage both: data comes at Stage II's res
            x = F.interpolate(x, size=(self.config.stage1_res,) * 2, mode="area")
        return {**batch, "image": x, "phi": self.model.embed(batch["caption"])}

    def generate_fake(self, batch: dict) -> dict:
        s, phi = self.current, batch["phi"]
        out = self.model(self.sample_latent(phi.shape[0]), phi, stage=s)
        return {"image": out[f"image{s}"], "phi": phi, "mu": out[f"mu{s}"], "logvar": out[f"logvar{s}"]}

    def d_forward(self, images: torch.Tensor, batch: dict) -> Out:
        return self.discriminator(images, batch["phi"])

    def d_outputs(self, real: torch.Tensor, batch: dict, fake_img: torch.Tensor, fake: dict) -> tuple[Out, Out]:
        """D on (real, its caption), (fake, its caption) and (real, a mismatched caption) as ``"wrong"``."""
        d, phi = self.discriminator, batch["phi"]
        wrong = phi[mismatch_index(batch["caption"]).to(phi.device)]
        if self.config.separate_batches:
            r, f, w = d(real, phi), d(fake_img, phi), d(real, wrong)
        else:
            r, f, w = d(torch.cat([real, fake_img, real]), torch.cat([phi, phi, wrong])).chunk(3)
        return {"score": r, "wrong": w}, f

    def adversarial_d_loss(self, real_s, fake_s, real_t, fake_t, real_out: Out, fake_out: Out) -> torch.Tensor:
        return matching_aware_d_loss(self.config.loss, real_s, fake_s, real_out["wrong"].reshape(-1), real_t, fake_t)

    def extra_d_loss(self, real_out: Out, fake_out: Out, batch: dict, fake: dict):
        return None, {"d_wrong": self.prob(real_out["wrong"])}

    def extra_g_loss(self, fake_out: Out, batch: dict, fake: dict):
        kl = kl_divergence(fake["mu"], fake["logvar"])
        return self.config.kl_weight * kl, {"kl": float(kl.detach())}

    # ------------------------------------------------------ Trainer protocol
    def phases(self, step: int) -> list[Phase]:
        self.step, self.current = step, self.stage_at(step)
        if self.current == 2 and not self.model.frozen_stage1:
            self.model.freeze_stage1()
        s = self.current
        self.discriminator, self.monitor = self.discriminators[s], self.monitors[s]
        return [Phase(f"d{s}", self.d_step, repeats=self.config.critic_steps), Phase(f"g{s}", self.g_step)]

    def components(self) -> dict[str, nn.Module]:
        """Saved beside the generator in ``final/`` (``discriminator1.safetensors``, ...)."""
        return {f"discriminator{s}": d for s, d in self.discriminators.items()}

    def health(self, logs: dict[str, float]) -> list[str]:
        return [msg.prefixed(f"Stage {self.current}: ") for msg in super().health(logs)]  # kind and fix kept

    def state_dict(self) -> dict:
        return {f"health{s}": m.state_dict() for s, m in self.monitors.items()}

    def load_state_dict(self, state: dict) -> None:
        for s, m in self.monitors.items():
            if f"health{s}" in state:
                m.load_state_dict(state[f"health{s}"])
