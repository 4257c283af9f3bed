"""``seeded_state_dict``: the one rule golden-file scripts and import tests rebuild weights with.

The golden files store no weights, so these draws must never change: the expected values below are
written out from the rule itself (sorted keys, one generator), not from the function under test.
"""

from __future__ import annotations

import pytest
import torch

from zoo_core.errors import ZooError
from zoo_core.importing import seeded_state_dict

SHAPES = {"b.weight": [2, 3], "a.bias": [4], "bn.running_var": [3], "bn.running_mean": [3],
          "bn.num_batches_tracked": []}


def test_draws_in_sorted_key_order_from_one_generator():
    got = seeded_state_dict(SHAPES, seed=4, std=0.2)
    assert list(got) == sorted(SHAPES)
    g = torch.Generator().manual_seed(4)
    want_bias = torch.randn(4, generator=g) * 0.2  # a.bias
    want_weight = torch.randn(2, 3, generator=g) * 0.2  # b.weight ("b." sorts before "bn")
    torch.randn(3, generator=g)  # bn.running_mean (nothing is drawn for bn.num_batches_tracked)
    want_var = torch.rand(3, generator=g) + 0.5  # bn.running_var
    assert torch.equal(got["a.bias"], want_bias) and torch.equal(got["bn.running_var"], want_var)
    assert torch.equal(got["b.weight"], want_weight)
    assert got["bn.num_batches_tracked"].item() == 0 and got["bn.num_batches_tracked"].dtype == torch.int64


def test_bias_std_scales_biases_only_and_seeds_differ():
    unit = seeded_state_dict(SHAPES, seed=1, std=1.0)
    split = seeded_state_dict(SHAPES, seed=1, std=1.0, bias_std=0.1)
    assert torch.equal(split["a.bias"], unit["a.bias"] * 0.1) and torch.equal(split["b.weight"], unit["b.weight"])
    assert not torch.equal(seeded_state_dict(SHAPES, seed=2)["b.weight"], seeded_state_dict(SHAPES)["b.weight"])
    var = seeded_state_dict({"v.running_var": [1000]})["v.running_var"]
    assert 0.5 <= var.min() and var.max() < 1.5  # a variance stays positive whatever std is


@pytest.mark.parametrize("kw", [{"std": 0.0}, {"std": -1.0}, {"bias_std": 0.0}])
def test_non_positive_scales_are_one_line_errors(kw):
    with pytest.raises(ZooError, match="needs std > 0 and bias_std > 0"):
        seeded_state_dict(SHAPES, **kw)


def test_release_names_and_missing_files(tmp_path):
    from zoo_core.importing import checkpoint_file, is_release

    (tmp_path / "known.pth").write_bytes(b"x")
    (tmp_path / "known.bin").write_bytes(b"x")
    assert is_release(tmp_path / "known.pth", {"known": 1}) and not is_release(tmp_path / "known.bin", {"known": 1})
    assert not is_release(tmp_path / "other.pth", {"other": 1})  # a name alone is not a file
    assert checkpoint_file(str(tmp_path / "known.pth"), "a checkpoint") == tmp_path / "known.pth"
    with pytest.raises(ZooError, match=r"missing.pth is not a file \(expected a PGAN .pth checkpoint\)"):
        checkpoint_file(tmp_path / "missing.pth", "a PGAN .pth checkpoint")


def test_stub_config_reads_attributes_only():
    from zoo_core.importing import stub_config

    class Stub:
        pass

    stub = Stub()
    stub.alpha = 0.5
    assert stub_config({"config": stub, "netG": {}}) == {"alpha": 0.5}
    assert stub_config({"netG": {}}) == {} and stub_config({"config": None}) == {} and stub_config([1]) == {}
