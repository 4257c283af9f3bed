"""The hooks a plugin implements. A plugin is any module listed under the entry-point group ``zoo``.

Every hook receives a ``register`` callable: plugins describe what they offer with light specs and
never import torch here, so ``zoo --help`` and ``zoo list`` stay fast with every plugin installed.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_models(register):
    """Call ``register(ModelSpec(...))`` for each model family member the plugin provides."""


@hookspec
def register_samplers(register):
    """Call ``register(SamplerSpec(...))`` for each sampler (ancestral, DDIM, truncation, ...)."""


@hookspec
def register_metrics(register):
    """Call ``register(MetricSpec(...))`` for each metric or feature extractor."""


@hookspec
def register_datasets(register):
    """Call ``register(DatasetSpec(...))`` for each ``builtin:NAME`` dataset."""


@hookspec
def register_importers(register):
    """Call ``register(ImporterSpec(...))`` for each published checkpoint format the plugin can read."""


@hookspec
def register_pretrained(register):
    """Call ``register(PretrainedSpec(...))`` for each published checkpoint (``zoo list --pretrained``)."""


@hookspec
def register_loggers(register):
    """Call ``register(LoggerSpec(...))`` for each experiment logger (``--logger NAME``)."""


@hookspec
def register_commands(cli):
    """Add click commands to the ``zoo`` group (``cli.add_command(...)``)."""
