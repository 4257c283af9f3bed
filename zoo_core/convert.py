"""Published checkpoints into zoo saved models: format detection, conversion and ``--init`` loading.

Each plugin registers the formats of its family (``register_importers``); this module is the one way
in used by ``zoo convert``, ``from_pretrained`` (a folder or repo in another format is converted on the
fly) and ``zoo train NAME --init SRC``. Nothing a file names is imported or called, and pickles are
read only with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ZooError


def as_zoo_model(path: Path) -> Path | None:
    """A zoo saved model converted from the foreign-format folder ``path``, or None if no importer knows it.

    Interface only for now: the importers fill it in.
    """
    return None


def convert(src: str | Path, out: str | Path | None = None, format: str | None = None, **options) -> Path:
    """Convert ``src`` (a file, folder or repo id in a published format) into a zoo saved model at ``out``."""
    raise ZooError("zoo convert: no importer is implemented yet")


def load_init(model, src: str) -> None:
    """Load the weights of ``src`` (any source ``from_pretrained`` accepts) into ``model`` for fine-tuning."""
    raise ZooError("--init is not implemented yet")
