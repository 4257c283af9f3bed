"""The core registers its own built-in datasets, metrics and feature extractors through the same hooks as
any plugin."""

from __future__ import annotations

from .hookspecs import hookimpl
from .registry import DatasetSpec


@hookimpl
def register_datasets(register):
    register(DatasetSpec("shapes", "coloured circles, squares and triangles; 3 classes; captions",
                         "zoo_core.builtin_data:shapes"))


@hookimpl
def register_metrics(register):
    from .metrics.specs import register as register_core_metrics  # light: no torch

    register_core_metrics(register)
