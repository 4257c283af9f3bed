"""The loop state's stop request: Ctrl-C / SIGTERM ask the loop to stop after this step; a second Ctrl-C stops now."""

from __future__ import annotations

import io
import signal

import pytest
from rich.console import Console

from zoo_core.runs import Run
from zoo_core.train_state import LoopState, stop_on_signals


def test_signals_set_stop_then_interrupt_and_handlers_come_back(tmp_path):
    state, out = LoopState(Run(tmp_path)), io.StringIO()
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_on_signals(state, Console(file=out)):
        signal.raise_signal(signal.SIGTERM)
        assert state.stop and "finishing this step and writing a checkpoint" in out.getvalue()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)  # the second one gives up at once
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert state.out == tmp_path and state.folder == Run(tmp_path) and state.step == 0
