"""The StackGAN Generator: text encoder, Conditioning Augmentation, Stage-I G and (optionally) Stage-II G.

Everything sampling needs is inside this one module: the encoder's fitted state (buffers or config),
both stages and a *caption bank* (the training captions, as UTF-8 bytes in a buffer) from which
``generate`` draws when no prompt is given, so ``zoo eval`` can score a text-to-image model too.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.gan.latent import seed_latent, slerp
from zoo_core.generation import generate
from zoo_core.modeling import ZooModelMixin, unexpected_arguments
from zoo_core.rng import seeded

from .conditioning import ConditioningAugmentation, TextStandardizer
from .config import StackGANConfig
from .networks import Stage1Generator, Stage2Generator, init_weights
from .text import encoder_class
from .text_encoders import pack, packed_size, unpack


def caption_bank(captions: list[list[str]]) -> list[str]:
    """The distinct captions of a dataset, in order of first appearance."""
    return list(dict.fromkeys(c.strip() for caps in captions for c in caps if c and c.strip()))


def as_prompts(prompt: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if prompt is None:
        return None
    prompts = [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]
    prompts = [p.strip() for p in prompts]
    if not prompts or not all(prompts):
        raise ZooError("--prompt must be non-empty text")
    return prompts


class StackGAN(ZooModelMixin, nn.Module):
    """A text-to-image GAN; ``generate(n, prompt=...)`` returns images in [-1, 1] at ``config.res``."""

    zoo_name = "stackgan"

    def __init__(self, config: StackGANConfig):
        super().__init__()
        self.config = config
        self.latent_shape = (config.z_dim,)
        self.text = encoder_class(config.text_encoder)(config)
        if self.text.dim != config.text_dim:
            raise ZooError(f"text encoder gives {self.text.dim}-d embeddings but the config says {config.text_dim}")
        self.text_norm = TextStandardizer(config.text_dim)
        self.ca1 = ConditioningAugmentation(config.text_dim, config.c_dim, config.ca_relu)
        self.g1 = Stage1Generator(config.stage1_res, config.z_dim, config.c_dim, config.g_channels, config.g_norm,
                                  config.in_channels)
        if config.has_stage2:
            self.ca2 = ConditioningAugmentation(config.text_dim, config.c_dim, config.ca_relu)
            self.g2 = Stage2Generator(config.c_dim, config.g2_channels, config.res_blocks, config.g_norm,
                                      config.in_channels)
        self.register_buffer("bank", torch.zeros(config.bank_bytes, dtype=torch.uint8))
        self._bank: list[str] | None = None
        self.register_load_state_dict_post_hook(lambda module, keys: setattr(module, "_bank", None))
        self.frozen_stage1 = False
        init_weights(self.g1)
        if config.has_stage2:
            init_weights(self.g2)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def adapt_config(cls, config: StackGANConfig, data_info) -> StackGANConfig:
        """Fill the text encoder's fields and the caption-bank size from the data (idempotent on resume)."""
        captions = list(getattr(data_info, "captions", []) or [])
        if not any(captions):
            raise ZooError("stackgan is a text-to-image model and the data has no captions: use a folder with "
                           "metadata.jsonl or .txt captions beside the images, cub:DIR, or builtin:shapes")
        if config.stage == "2":
            from .stage1 import inherit

            config = inherit(config)
        config = encoder_class(config.text_encoder).adapt(config, captions)
        if not config.bank_bytes:
            config.bank_bytes = packed_size(caption_bank(captions))
        return config

    def set_bank(self, captions: list[list[str]]) -> None:
        data = pack(caption_bank(captions))
        if data.numel() != self.bank.numel():
            raise ZooError(f"caption bank of {data.numel()} bytes does not fit the config's {self.bank.numel()}")
        self.bank.copy_(data)
        self._bank = None

    def fit_text(self, captions: list[list[str]], limit: int = 10_000) -> None:
        """Fit the text encoder and the embedding statistics on the training captions (fresh runs)."""
        self.text.fit(captions)
        bank = caption_bank(captions)
        picked = [bank[int(i)] for i in torch.linspace(0, len(bank) - 1, min(limit, len(bank)))]
        self.text_norm.fit(torch.cat([self.text.encode(picked[i:i + 1024]) for i in range(0, len(picked), 1024)]))

    def captions(self) -> list[str]:
        """The caption bank (training captions) that prompt-less sampling draws from."""
        if self._bank is None:
            self._bank = unpack(self.bank)
        return self._bank

    def freeze_stage1(self) -> None:
        """Stop training CA1 and G1 (Stage II trains on top of them) and keep them in eval mode."""
        for module in (self.ca1, self.g1):
            module.requires_grad_(False)
        self.frozen_stage1 = True
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_stage1:
            self.ca1.eval()
            self.g1.eval()
        return self

    # --------------------------------------------------------------- forward
    def embed(self, texts: list[str]) -> torch.Tensor:
        """Standardised text embeddings phi [N, text_dim] (what CA and D see)."""
        return self.text_norm(self.text.encode(list(texts)))

    def forward(self, z: torch.Tensor, phi: torch.Tensor, eps1: torch.Tensor | None = None,
                eps2: torch.Tensor | None = None, stage: int | None = None) -> dict[str, torch.Tensor]:
        """Both stages on latents ``z`` and text embeddings ``phi``; ``stage=1`` stops after Stage I.

        Returns ``image1`` (Stage I), ``mu1``/``logvar1`` and, with Stage II, ``image2``,
        ``mu2``/``logvar2``. ``eps*`` fix the CA draws (None: the global RNG).
        """
        c1, mu1, logvar1 = self.ca1(phi, eps1)
        out = {"image1": self.g1(z, c1), "mu1": mu1, "logvar1": logvar1}
        if self.config.has_stage2 and stage != 1:
            c2, mu2, logvar2 = self.ca2(phi, eps2)
            out.update(image2=self.g2(out["image1"].detach() if self.frozen_stage1 else out["image1"], c2),
                       mu2=mu2, logvar2=logvar2)
        return out

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator, prompt: list[str] | None = None,
                   stage: int | None = None) -> torch.Tensor:
        """Images for latents ``z``; the captions (when ``prompt`` is None) and CA noise come from ``generator``."""
        n, device = z.shape[0], z.device
        if prompt is None:
            bank = self.captions()
            if not bank:
                raise ZooError("this model has no caption bank to sample from; pass --prompt TEXT")
            prompt = [bank[i] for i in torch.randint(len(bank), (n,), generator=generator).tolist()]
        if len(prompt) != n:
            raise ZooError(f"{len(prompt)} prompts for {n} images")
        eps1 = torch.randn((n, self.config.c_dim), generator=generator).to(device)
        eps2 = torch.randn((n, self.config.c_dim), generator=generator).to(device) if self.config.has_stage2 else None
        out = self(z, self.embed(prompt), eps1, eps2, stage=stage)
        return out["image2"] if "image2" in out else out["image1"]

    # -------------------------------------------------------------- sampling
    def _stage(self, stage: int | None) -> int | None:
        if stage is None:
            return None
        if int(stage) not in (1, 2) or (int(stage) == 2 and not self.config.has_stage2):
            raise ZooError(f"stage must be 1{' or 2' if self.config.has_stage2 else ''} for this model, got {stage}")
        return int(stage)

    @torch.no_grad()
    def generate(self, n: int, *, seed: int | None = None, sampler: str | None = None, steps: int | None = None,
                 batch_size: int | None = None, progress: bool = False, prompt: str | list[str] | None = None,
                 truncation: float | None = None, stage: int | None = None, **kwargs) -> torch.Tensor:
        """``n`` images in [-1, 1]; image ``i`` shows ``prompt[i % len(prompt)]``.

        Without ``prompt`` each image gets a caption drawn (with ``seed``) from the training
        captions stored in the model. ``truncation`` resamples |z| above it (BigGAN's trick);
        ``stage=1`` returns the Stage-I images of a two-stage model.
        """
        if kwargs:
            raise unexpected_arguments(self, kwargs)
        prompts = as_prompts(prompt)
        if prompts is not None:
            self.text.check(prompts)
        stage = self._stage(stage)

        def batch_prompts(k: int, start: int, g) -> dict:
            return {"prompt": None if prompts is None else [prompts[(start + i) % len(prompts)] for i in range(k)]}

        # eval mode: sample with batch norm's running statistics, whatever mode the caller left
        return generate(self, n, seed=seed, sampler=sampler, steps=steps, batch_size=batch_size, progress=progress,
                        per_batch=batch_prompts, eval_mode=True, truncation=truncation, stage=stage)

    @torch.no_grad()
    def interpolate(self, seed_a: int, seed_b: int, frames: int, *, prompt: str | list[str] | None = None,
                    truncation: float | None = None, **kwargs) -> torch.Tensor:
        """Images along the great circle between the latents of two seeds, for one fixed caption and CA draw."""
        if kwargs:
            raise unexpected_arguments(self, kwargs, "interpolate")
        prompts = as_prompts(prompt)
        if prompts is not None:
            self.text.check(prompts)
        device = next(self.parameters()).device
        a, b = (seed_latent(s, self.latent_shape, truncation) for s in (seed_a, seed_b))
        t = torch.linspace(0, 1, frames)[:, None]
        z = slerp(a[0], b[0], t).to(device)
        g = seeded(seed_a)
        caption = prompts[0] if prompts else self.captions()[int(torch.randint(len(self.captions()), (1,), generator=g))]
        eps1 = torch.randn((1, self.config.c_dim), generator=g).expand(frames, -1).to(device)
        eps2 = torch.randn((1, self.config.c_dim), generator=g).expand(frames, -1).to(device)
        out = self(z, self.embed([caption] * frames), eps1, eps2 if self.config.has_stage2 else None)
        return (out["image2"] if "image2" in out else out["image1"]).float().cpu()
