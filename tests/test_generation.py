"""The one sampling loop (zoo_core.generation.generate), the class-label helper and the progress wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.generation import Progress, class_labels, generate, progress_bar, sampling_used
from zoo_core.plugins import registry
from zoo_core.registry import ModelSpec, SamplerSpec

CALLS: list[tuple] = []


def record_sampler(model, n, *, generator, steps=None, progress=None, start=None, tag=None, **kw):
    CALLS.append((n, start, tag, steps, model.training))
    for _ in progress.track(range(3)):
        pass
    return torch.randn((n, 1, 2, 2), generator=generator)


class Gen(nn.Module):
    zoo_name = "gentest"

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))


@pytest.fixture
def gen():
    reg = registry()
    reg.add(SamplerSpec("recorder", "test", f"{__name__}:record_sampler"), "zoo-gentest", "0")
    reg.add(ModelSpec("gentest", "t", "t", "a:b", "a:c", "a:d", samplers=("recorder",)), "zoo-gentest", "0")
    CALLS.clear()
    yield Gen()
    reg.remove("model", "gentest")
    reg.remove("sampler", "recorder")


def test_generate_batches_seeds_and_passes_per_batch_values(gen):
    out = generate(gen, 5, seed=3, batch_size=2, steps=7, tag="x", eval_mode=True,
                   per_batch=lambda k, start, g: {"start": start})
    assert [c[:4] for c in CALLS] == [(2, 0, "x", 7), (2, 2, "x", 7), (1, 4, "x", 7)]
    assert not any(c[4] for c in CALLS) and gen.training  # eval while sampling, mode restored after
    g = torch.Generator().manual_seed(3)
    expected = torch.cat([torch.randn((k, 1, 2, 2), generator=g) for k in (2, 2, 1)])
    assert torch.equal(out, expected)  # one generator for the whole call


def test_generate_refuses_a_sampler_the_model_does_not_list(gen):
    with pytest.raises(ZooError, match="sampler 'latent' does not apply to gentest"):
        generate(gen, 2, sampler="latent")


def test_sampling_used_resolves_the_defaults_a_record_shows(gen):
    assert sampling_used(gen) == {"sampler": "recorder", "steps": None}  # the first listed; no step count known
    def default_steps(sampler):
        if sampler != "recorder":
            raise ZooError(f"sampler {sampler!r} does not apply")
        return 12

    gen.default_steps = default_steps
    assert sampling_used(gen) == {"sampler": "recorder", "steps": 12}
    assert sampling_used(gen, steps=3) == {"sampler": "recorder", "steps": 3}  # what the user gave wins
    assert sampling_used(gen, "latent") == {"sampler": "latent", "steps": None}  # refused later by generate
    gan = Gen()
    gan.zoo_name = "no-such-model"  # nothing registered: a GAN's one pass
    assert sampling_used(gan) == {"sampler": None, "steps": None}


def test_progress_counts_batches_or_sampler_steps(gen, monkeypatch):
    counts = {}

    class Fake:
        def add_task(self, description, total):
            counts[description] = [total, 0]
            return description

        def advance(self, task, k):
            counts[task][1] += k

    from contextlib import contextmanager

    import zoo_core.generation as generation

    @contextmanager
    def fake_bar(enabled, total=None, description="", transient=True):
        p = Progress(Fake())
        p.task(description, total)
        yield p

    monkeypatch.setattr(generation, "progress_bar", fake_bar)
    generate(gen, 5, batch_size=2, progress=True)
    generate(gen, 5, batch_size=2, progress=True, bar_steps=3)
    # per batch: the loop advances once per batch; bar_steps: the sampler's track() advances 3 per batch
    assert counts["recorder sampling"] == [3, 3] and counts["recorder 3 steps"] == [9, 9]


def test_silent_progress_is_a_no_op():
    with progress_bar(False, 10) as bar:
        assert list(bar.track(range(3))) == [0, 1, 2]
        bar.advance(5, bar.task("x", 1))


def test_class_labels():
    g = torch.Generator().manual_seed(0)
    drawn = class_labels(6, None, 10, g, "cpu")
    assert torch.equal(drawn, torch.randint(0, 10, (6,), generator=torch.Generator().manual_seed(0)))
    assert class_labels(3, np.int64(4), 10, g, "cpu").tolist() == [4, 4, 4]
    assert class_labels(3, None, 0, g, "cpu") is None
    with pytest.raises(ZooError, match=r"^ddpm model is not class-conditional; drop label= \(--class\)$"):
        class_labels(3, 1, 0, g, "cpu", "ddpm")
    assert class_labels(2, " 7", 10, g, "cpu").tolist() == [7, 7]  # digits, as `zoo sample --class 7` passes
    for bad in (10, -1, True, 1.5, "x", "12"):
        with pytest.raises(ZooError, match=r"^label \(--class\): no value .*; valid values: an integer 0\.\.9$"):
            class_labels(3, bad, 10, g, "cpu")
    named = ("cat", "dog", "7")  # a class named by digits wins over the index
    assert class_labels(1, "7", 3, g, "cpu", names=named).tolist() == [2]
    assert class_labels(1, "dog", 3, g, "cpu", names=named).tolist() == [1]
    with pytest.raises(ZooError, match=r"no value 'cow'; valid values: one of cat, dog, 7 \(or an index 0\.\.2\)$"):
        class_labels(1, "cow", 3, g, "cpu", names=named)


def test_any_integer_seed_draws_and_seeds_in_torchs_range_keep_their_stream(gen):
    """torch refuses seeds outside [-2**63, 2**64) with a bare ValueError; zoo folds them in instead."""
    from zoo_core.data import StreamSampler
    from zoo_core.rng import seeded

    for s in (0, 3, -1, 2**63 - 1, 2**64 - 1, -(2**63)):  # inside torch's range: the stream torch gives
        assert torch.equal(torch.randn(4, generator=seeded(s)), torch.randn(4, generator=torch.Generator().manual_seed(s)))
    big = 99999999999999999999
    a, b = generate(gen, 2, seed=big), generate(gen, 2, seed=big)
    assert torch.equal(a, b) and not torch.equal(a, generate(gen, 2, seed=big + 1))
    assert torch.equal(generate(gen, 2, seed=np.int64(3)), generate(gen, 2, seed=3))
    for bad in ("abc", 1.7, True):
        with pytest.raises(ZooError, match=f"seed must be an integer, got {bad!r}"):
            generate(gen, 1, seed=bad)
    order = [i for (i, _), _ in zip(StreamSampler(5, 2**63 - 1), range(12))]  # seed * 7919 + epoch overflowed
    assert sorted(order[:5]) == list(range(5)) and sorted(order[5:10]) == list(range(5))


def test_more_images_than_memory_holds_is_refused_after_one_batch(gen, monkeypatch):
    import zoo_core.device

    monkeypatch.setattr(zoo_core.device, "available_memory", lambda: 1000)  # bytes; an image here is 16
    with pytest.raises(ZooError, match=r"100 images of shape \(1, 2, 2\) need 0.0 GiB at once, more than the 0.0 GiB "
                                       r"free: draw them in pieces with zoo_core.generate_chunks"):
        generate(gen, 100, seed=0, batch_size=2)
    assert len(CALLS) == 1  # one batch drawn, not fifty
    assert generate(gen, 20, seed=0, batch_size=2).shape == (20, 1, 2, 2)  # 640 bytes fit
    monkeypatch.setattr(zoo_core.device, "available_memory", lambda: None)  # unknown: no check
    assert generate(gen, 100, seed=0, batch_size=2).shape[0] == 100
