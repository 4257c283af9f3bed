"""Experiment loggers (``--logger tensorboard,wandb,mlflow,csv``), each through its own library.

metrics.jsonl is always written (:mod:`.jsonl`); the backends here are extras. See
:mod:`.base` for the interface a plugin implements to add one.
"""

from .base import Logger, LoggerSet, names_of, open_loggers

__all__ = ["Logger", "LoggerSet", "names_of", "open_loggers"]
