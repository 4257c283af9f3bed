"""The hooks a plugin implements. A plugin is any module listed under the entry-point group ``zoo``.

Every hook but ``register_commands`` receives a ``register`` callable: plugins describe what they offer
with light specs and never import torch here, so ``zoo --help`` and ``zoo list`` stay fast with every
plugin installed. ``zoo_core.plugins`` calls each hook through pluggy, one plugin at a time, and keeps a
plugin's offers only if all its hooks succeed. The list of hooks is this module: a new ``@hookspec``
here is called for every plugin with no other change.
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
    """Add click commands with ``cli.add_command(...)`` or ``@cli.command()``; names the core uses stay the core's."""
