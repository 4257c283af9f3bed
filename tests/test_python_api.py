"""The Python API (issue 22, item 1): from_pretrained/save_pretrained/generate options, public names, docs."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo_core
from zoo_core import ZooError, create_model, from_pretrained

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def tiny_ddpm():
    return create_model("ddpm", res=8, channels=8, channel_mults=(1, 2), attn_res=(), timesteps=10)


def _public_functions():
    return [(n, getattr(zoo_core, n)) for n in zoo_core.__all__ if inspect.isfunction(getattr(zoo_core, n))]


def test_dir_and_help_show_public_names_without_importing_torch():
    code = ("import sys, zoo_core; names = dir(zoo_core); "
            "assert 'torch' not in sys.modules; print(' '.join(names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert {"from_pretrained", "create_model", "save_pretrained", "push_to_hub", "ZooError", "get_registry"} <= set(out)
    assert not {"Any", "annotations", "import_module"} & set(out)
    text = subprocess.run([sys.executable, "-c", "import pydoc, zoo_core; print(pydoc.plain(pydoc.render_doc(zoo_core)))"],
                          capture_output=True, text=True, check=True).stdout
    assert "from_pretrained(src" in text and "create_model(name" in text


def test_registry_name_is_unambiguous():
    import zoo_core.registry as registry_module

    assert inspect.ismodule(registry_module) and zoo_core.registry is registry_module
    assert "ddpm" in zoo_core.get_registry().names("model")


def test_every_package_ships_py_typed():
    packages = [ROOT / "zoo_core"] + sorted(p.parent for p in (ROOT / "plugins").glob("zoo-*/zoo_*/__init__.py"))
    assert len(packages) >= 6  # the core and the five families
    for pkg in packages:
        assert (pkg / "py.typed").is_file(), pkg
        assert '"py.typed"' in (pkg.parent / "pyproject.toml").read_text()


@pytest.mark.parametrize("name", [n for n, _ in _public_functions()])
def test_public_functions_document_args_returns_and_example(name):
    fn = getattr(zoo_core, name)
    doc = inspect.getdoc(fn) or ""
    takes_args = any(p.kind != p.VAR_KEYWORD or True for p in inspect.signature(fn).parameters.values())
    assert ("Args:" in doc) == takes_args and "Returns:" in doc and "Example" in doc and ">>>" in doc, name


@pytest.mark.parametrize("module", ["zoo_core", "zoo_core.modeling", "zoo_core.hub", "zoo_core.plugins",
                                    "zoo_core.config", "zoo_core.training", "zoo_core.generation"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_docs_python_md_runs():
    result = doctest.testfile(str(ROOT / "docs" / "python.md"), module_relative=False)
    assert result.attempted >= 15 and result.failed == 0


def test_from_pretrained_signature_is_keyword_only():
    params = inspect.signature(from_pretrained).parameters
    for name in ("device", "torch_dtype", "revision", "cache_dir", "local_files_only"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_bfloat16_model_generates_close_to_float32(tmp_path):
    model = create_model("dcgan", res=16, z_dim=8, channels=8)
    ref = model.generate(3, seed=4)
    folder = model.save_pretrained(tmp_path / "m")
    half = from_pretrained(folder, device="cpu", torch_dtype="bfloat16")
    assert half.dtype == torch.bfloat16
    out = half.generate(3, seed=4)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert (out - ref).abs().max() < 0.1  # same noise, bf16 rounding only
    assert not any(m._forward_pre_hooks for m in half.modules())  # the cast hooks live for one call
    with pytest.raises(ZooError, match="torch_dtype must be a floating torch dtype"):
        from_pretrained(folder, torch_dtype=torch.int8)


def test_generator_equals_seed_and_both_is_an_error():
    model = tiny_ddpm()
    ref = model.generate(3, seed=7, batch_size=2)
    assert torch.equal(model.generate(3, batch_size=2, generator=torch.Generator().manual_seed(7)), ref)
    with pytest.raises(ZooError, match="give seed or generator, not both"):
        model.generate(1, seed=1, generator=torch.Generator())
    with pytest.raises(ZooError, match="generator must be a torch.Generator"):
        model.generate(1, generator=7)


def test_output_types_are_the_same_pixels():
    model = tiny_ddpm()
    pt = model.generate(2, seed=0)
    arr = model.generate(2, seed=0, output_type="np")
    pil = model.generate(2, seed=0, output_type="pil")
    assert arr.shape == (2, 8, 8, 3) and arr.dtype.name == "float32"
    assert torch.allclose(torch.from_numpy(arr).permute(0, 3, 1, 2), (pt.clamp(-1, 1) + 1) / 2)
    import numpy as np

    from zoo_core.images import to_uint8

    assert [np.asarray(p).tolist() for p in pil] == [u.permute(1, 2, 0).tolist() for u in to_uint8(pt)]


def test_callback_sees_every_step_across_batches():
    model = tiny_ddpm()
    seen = []
    model.generate(3, seed=0, batch_size=2, sampler="ancestral",
                   callback=lambda step, total: seen.append((step, total)))
    assert seen == [(i, 20) for i in range(1, 21)]  # 10 ancestral steps x 2 batches
    gan, calls = create_model("dcgan", res=16, channels=4), []
    gan.generate(5, batch_size=2, callback=lambda s, t: calls.append((s, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ZooError, match="callback must be callable"):
        model.generate(1, callback=3)


def test_class_methods_save_and_load(tmp_path):
    model = tiny_ddpm()
    folder = model.save_pretrained(tmp_path / "m")
    again = type(model).from_pretrained(folder, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ZooError, match=r"cannot save the model to .*a-file \(File exists\): give a new or empty"):
        model.save_pretrained(tmp_path / "a-file")
    gan_cls = type(create_model("dcgan", res=16, channels=4))
    with pytest.raises(ZooError, match="holds a ddpm model, not a DCGAN"):
        gan_cls.from_pretrained(folder)


def test_python_errors_name_python_arguments():
    with pytest.raises(ZooError, match=r"^unknown option\(s\) chanels in create_model\(\); did you mean channels\?$"):
        create_model("ddpm", chanels=8)
    with pytest.raises(ZooError, match=r"^n must be a positive integer, got 0$"):
        tiny_ddpm().generate(0)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_generate_and_generate_chunks_refuse_the_same_batch_sizes(bad):
    """A negative batch size made generate_chunks draw nothing, silently; 0 was 'the default' in one and
    an error in the other. Both now refuse what is not a positive int, with one message."""
    from zoo_core import generate_chunks

    model = tiny_ddpm()
    with pytest.raises(ZooError, match=rf"^batch_size must be a positive integer, got {bad!r}$"):
        model.generate(3, batch_size=bad)
    with pytest.raises(ZooError, match=rf"^batch_size must be a positive integer, got {bad!r}$"):
        list(generate_chunks(model, 3, batch_size=bad))
