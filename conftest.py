"""Test-session settings for the whole repository (core and plugin tests).

The tests use tiny networks, for which PyTorch's intra-op threads cost more than they save (and on
a busy 2-core machine, oversubscription made them ten times slower): run them on one thread.
Subprocesses started by tests inherit OMP_NUM_THREADS.
"""

import os
import tempfile

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


def pytest_configure(config):
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(autouse=True, scope="session")
def _temp_files_under_pytest(tmp_path_factory):
    """Docstring examples (``save_pretrained(tempfile.mkdtemp())``) and libraries write temporary folders;
    point ``tempfile`` into pytest's own temporary tree (which keeps its last three runs), so a test run
    leaves nothing elsewhere in /tmp."""
    before = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfile"))
    yield
    tempfile.tempdir = before
