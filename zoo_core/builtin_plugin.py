"""The core registers its own built-in datasets through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .registry import DatasetSpec


@hookimpl
def register_datasets(register):
    register(DatasetSpec("shapes", "coloured circles, squares and triangles; 3 classes; captions",
                         "zoo_core.builtin_data:shapes"))
