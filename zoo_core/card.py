"""The model card (README.md) of a saved model, in the form the Hub renders and users recognise.

YAML front matter: ``library_name: zoo``, ``license``, tags (family, task, ``arxiv:ID`` of the
plugin's paper), ``datasets`` (a Hub dataset id when training data is one) and evaluation results as
``model-index``. Body: what the model is, parameter count and resolution, the ``pip install`` line
and a usage snippet (``REPO_OR_FOLDER`` becomes the repo id on push), BibTeX, the config. Local
paths never reach the card: a data folder is recorded by its name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

TASK = {"text": "text-to-image", "class": "image-generation", "none": "unconditional-image-generation"}
ARXIV = re.compile(r"arXiv:(\d{4}\.\d{4,5})", re.I)
PAPER = re.compile(r"^(?P<authors>[^.]+)\.\s+(?P<title>.+?)\.\s+(?P<venue>[^.]*?(?P<year>\d{4}))\.")
HUB_DATASET = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def arxiv_ids(paper: str) -> list[str]:
    return ARXIV.findall(paper or "")


def bibtex(paper: str) -> str | None:
    """A BibTeX entry for a plugin's ``paper`` string ("Authors. Title. Venue Year. arXiv:ID")."""
    m = PAPER.match(paper or "")
    if not m:
        return None
    authors = [a.strip() for a in m["authors"].split(",") if a.strip()]
    first_word = re.sub(r"\W", "", m["title"].split()[0]).lower()
    key = f"{re.sub(r'[^a-z]', '', authors[0].lower())}{m['year']}{first_word}"
    fields = [("title", m["title"]), ("author", " and ".join(authors)), ("year", m["year"]),
              ("booktitle", m["venue"].replace(m["year"], "").strip())]
    ids = arxiv_ids(paper)
    if ids:
        fields += [("eprint", ids[0]), ("archivePrefix", "arXiv")]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@inproceedings{{{key},\n{body}\n}}"


def parameter_count(weights: Path) -> int | None:
    """Number of values in a safetensors file, from its header (nothing is loaded)."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights), "np") as f:
            total = 0
            for k in f.keys():
                n = 1
                for d in f.get_slice(k).get_shape():
                    n *= d
                total += n
            return total
    except Exception:  # noqa: BLE001 - a card is written even if counting fails
        return None


def dataset_id(data: str | None) -> str | None:
    """``data`` if it names a Hub dataset (``owner/name``, not a local folder), else None."""
    if data and HUB_DATASET.fullmatch(data) and not Path(data).expanduser().exists():
        return data
    return None


def data_name(data: str | None) -> str | None:
    """How the card names training data: a Hub id or ``builtin:NAME`` as is, a folder by its last name."""
    if not data:
        return None
    if dataset_id(data) or re.fullmatch(r"[\w-]+:[\w.-]*", data):
        return data
    head, sep, rest = data.partition(":")
    if sep and re.fullmatch(r"[\w-]+", head) and len(head) > 1:
        return f"{head}:{Path(rest.rstrip('/')).name}"
    return Path(data.rstrip("/")).name or data


def _model_index(name: str, task: str, dataset: str, metrics: dict[str, float]):
    from huggingface_hub import EvalResult

    return [EvalResult(task_type=task, dataset_type=dataset, dataset_name=dataset, metric_type=k,
                       metric_name=k.upper() if len(k) <= 4 else k, metric_value=float(v))
            for k, v in sorted(metrics.items())]


def write_card(directory: Path, record: dict, spec, datasets: list[str] | None = None,
               metrics: dict[str, float] | None = None, license: str | None = None,
               sample: str | None = None, training: dict[str, Any] | None = None) -> Path:
    from huggingface_hub import ModelCard, ModelCardData

    from .hub import PLUGIN_NAME
    from .publish import public_value

    metrics = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
    name = record["zoo_model"]
    family = spec.family if spec else name
    conditioning = spec.conditioning if spec else "none"
    task = TASK.get(conditioning, "image-generation")
    paper = spec.paper if spec else ""
    training = dict(training or {})
    training.pop("out", None)  # a local folder, meaningless to anyone else
    data = data_name(training.get("data"))
    if data:
        training["data"] = data
    hub_data = dataset_id(training.get("data"))
    datasets = list(datasets or []) + ([hub_data] if hub_data and hub_data not in (datasets or []) else [])
    card_data = ModelCardData(
        library_name="zoo",
        tags=["zoo", family, task] + [f"arxiv:{i}" for i in arxiv_ids(paper)],
        datasets=datasets or None,
        license=license,
        pipeline_tag=task,
    )
    if metrics:
        card_data.model_name = name
        card_data.eval_results = _model_index(name, task, (datasets or [data or "custom"])[0], metrics)
    dist = record.get("distribution") or ""
    params = parameter_count(directory / "model.safetensors")
    res = (record.get("config") or {}).get("res")
    facts = [f"{params / 1e6:.2f} M parameters" if params is not None else "",
             f"{res}x{res} images" if res else "", f"trained on `{data}`" if data else ""]
    lines = [
        "---", card_data.to_yaml(), "---", "",
        f"# {name} ({family})", "",
        (spec.summary if spec else ""), "",
        ", ".join(f for f in facts if f) + ("." if any(facts) else ""), "",
        f"Trained with [zoo](https://pypi.org/project/zoo-core/) and `{dist}` "
        f"{record.get('version', '')}." if dist else "",
        "",
    ]
    if sample:
        lines += [f"![samples]({sample})", ""]
    if metrics:
        lines += ["## Evaluation", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4g} |" for k, v in sorted(metrics.items())] + [""]
    install = f"pip install zoo-core {dist}" if PLUGIN_NAME.fullmatch(dist) else "pip install zoo-core"
    lines += ["## Usage", "", "```bash", install, "```", "", "```python", "from zoo_core import from_pretrained", "",
              'model = from_pretrained("REPO_OR_FOLDER")', "images = model.generate(16, seed=0)  # [-1, 1], NCHW",
              "```", "", "or `zoo sample REPO_OR_FOLDER --n 16 --out grid.png`.", ""]
    cite = bibtex(paper)
    if cite:
        lines += ["## Citation", "", f"{paper}", "", "```bibtex", cite, "```", ""]
    lines += ["## Config", "", "```json", json.dumps(public_value(record.get("config", {})), indent=2), "```"]
    if training:
        lines += ["", "## Training", "", "```json", json.dumps(public_value(training), indent=2), "```"]
    card = ModelCard("\n".join(lines) + "\n")
    path = directory / "README.md"
    card.save(path)
    return path
