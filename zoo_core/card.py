"""The model card (README.md) of a saved model, through huggingface_hub's ModelCard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TASK = {"text": "text-to-image", "class": "image-generation", "none": "unconditional-image-generation"}


def write_card(directory: Path, record: dict, spec, datasets: list[str] | None = None,
               metrics: dict[str, float] | None = None, license: str | None = None,
               sample: str | None = None, training: dict[str, Any] | None = None) -> Path:
    from huggingface_hub import ModelCard, ModelCardData

    name = record["zoo_model"]
    family = spec.family if spec else name
    conditioning = spec.conditioning if spec else "none"
    data = ModelCardData(
        library_name="zoo",
        tags=["zoo", family, TASK.get(conditioning, "image-generation")],
        datasets=datasets or None,
        license=license,
        pipeline_tag=TASK.get(conditioning, "unconditional-image-generation"),
    )
    if metrics:
        data.metrics = sorted(metrics)
    lines = [
        "---", data.to_yaml(), "---", "",
        f"# {name} ({family})", "",
        (spec.summary if spec else ""), "",
        f"Trained with [zoo](https://pypi.org/project/zoo-core/) and `{record.get('distribution')}` "
        f"{record.get('version', '')}." if record.get("distribution") else "",
        "",
    ]
    if sample:
        lines += [f"![samples]({sample})", ""]
    if metrics:
        lines += ["## Evaluation", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4g} |" for k, v in sorted(metrics.items())] + [""]
    lines += ["## Usage", "", "```python", "from zoo_core import from_pretrained", "",
              'model = from_pretrained("REPO_OR_FOLDER")', "images = model.generate(16, seed=0)  # [-1, 1], NCHW",
              "```", "", "or `zoo sample REPO_OR_FOLDER --n 16 --out grid.png`.", "",
              "## Config", "", "```json", json.dumps(record.get("config", {}), indent=2), "```"]
    if training:
        lines += ["", "## Training", "", "```json", json.dumps(training, indent=2), "```"]
    card = ModelCard("\n".join(lines) + "\n")
    path = directory / "README.md"
    card.save(path)
    return path
