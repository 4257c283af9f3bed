"""docs/metrics.md's Python examples run as written (issue 22, "Done when").

Two substitutions, both about the test machine and not the API: the standard Inception weights are not
installed here, so ``"inception"`` becomes the seeded ``"random"`` extractor, and the page's free names
(``model``, ``ema_model``, ``data_cfg``, ``device``, ``loader``) are bound to a small DCGAN and
builtin:shapes. The plugin-registration fragment (``@hookimpl``) is checked by the plugin tests instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from zoo_core import create_model
from zoo_core.data import DataConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


def runnable_blocks() -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.M | re.S)
    return [b.replace('"inception"', '"random"') for b in blocks if "@hookimpl" not in b]


def test_docs_metrics_md_python_examples_run():
    blocks = runnable_blocks()
    assert len(blocks) >= 2, "docs/metrics.md lost its Python examples"
    model = create_model("dcgan", res=16, channels=4)
    g = torch.Generator().manual_seed(0)
    loader = [torch.rand(8, 3, 16, 16, generator=g) * 2 - 1 for _ in range(2)]
    env = {"model": model, "ema_model": model, "data_cfg": DataConfig(data="builtin:shapes"), "device": "cpu",
           "loader": loader}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), env)  # noqa: S102 - our own documentation, run as a user would
    assert env["r"]["metrics"]["fid"] > 0 and "kid" in env["r"]["metrics"]
    assert env["fid"].compute()["fid"] > 0
