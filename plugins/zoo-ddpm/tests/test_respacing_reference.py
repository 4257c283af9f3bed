"""Respacing keeps exactly improved-diffusion's timesteps (``space_timesteps`` in its respace.py).

The reference below is written from that function's semantics, independently of the zoo's code:
per section the stride is accumulated in float and rounded half to even, which is what makes
21 steps of 1000 keep 499 rather than 500.
"""

from __future__ import annotations

import pytest
from zoo_ddpm.diffusion import space_timesteps

from zoo_core.errors import ZooError


def reference(num_timesteps: int, section_counts: str) -> set[int]:
    if section_counts.startswith("ddim"):
        desired = int(section_counts[len("ddim"):])
        for i in range(1, num_timesteps):
            if len(range(0, num_timesteps, i)) == desired:
                return set(range(0, num_timesteps, i))
        raise ValueError(f"cannot create exactly {num_timesteps} steps with an integer stride")
    counts = [int(x) for x in section_counts.split(",")]
    size_per = num_timesteps // len(counts)
    extra = num_timesteps % len(counts)
    start_idx, all_steps = 0, []
    for i, section_count in enumerate(counts):
        size = size_per + (1 if i < extra else 0)
        if size < section_count:
            raise ValueError(f"cannot divide section of {size} steps into {section_count}")
        frac_stride = 1 if section_count <= 1 else (size - 1) / (section_count - 1)
        cur_idx, taken = 0.0, []
        for _ in range(section_count):
            taken.append(start_idx + round(cur_idx))
            cur_idx += frac_stride
        all_steps += taken
        start_idx += size
    return set(all_steps)


def sweep(T: int) -> list[str]:
    counts = [c for c in [*range(1, 61), 100, 250, 500, 999, 1000, T - 1, T] if 1 <= c <= T]
    sections = ["10,15,20", "5,5", "ddim50", "ddim25", "3,0,7", "1,1,1"]
    return [str(c) for c in sorted(set(counts))] + sections


@pytest.mark.parametrize("T", [1000, 4000, 50])
def test_kept_timesteps_equal_the_reference_on_a_sweep(T):
    checked = 0
    for spec in sweep(T):
        try:
            expected = reference(T, spec)
        except ValueError:
            with pytest.raises(ZooError):
                space_timesteps(T, spec)
            continue
        kept = space_timesteps(T, spec)
        assert kept == sorted(expected), (T, spec)
        checked += 1
    assert checked >= 50  # most specs are valid, so the sweep really compares


def test_the_cases_that_naive_rounding_gets_wrong():
    keep = space_timesteps(1000, 21)
    assert 499 in keep and 500 not in keep
    assert space_timesteps(1000, "1") == [0]
    assert space_timesteps(1000, 1) == [0]
    assert space_timesteps(50, "ddim25") == list(range(0, 50, 2))
    keep = space_timesteps(1000, 50)
    assert len(keep) == 50 and keep[0] == 0 and keep[-1] == 999


@pytest.mark.parametrize("spec, message", [
    ("abc", "bad respacing"), ("10,x", "bad respacing"), ("ddimX", "ddimN"), ("ddim999", "equally strided"),
    ("-3", "negative"), ("0", "no timesteps"), ("600,600", "cannot take 600"), ("1001", "cannot take 1001"),
])
def test_bad_specs_are_one_line_zoo_errors(spec, message):
    with pytest.raises(ZooError, match=message) as info:
        space_timesteps(1000, spec)
    assert "\n" not in str(info.value)
