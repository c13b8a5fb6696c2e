"""Fixtures for the kit's own tests (shared values and functions: tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.engine.offline import offline
from graders.tasks import Task
from tests.helpers import submission_of


@pytest.fixture
def submission(tmp_path: Path):
    def make(task: Task, source: Path) -> Path:
        return submission_of(task, source, tmp_path / task.id)

    return make


def pytest_configure(config: pytest.Config) -> None:
    """No test touches the network: name look-ups and connections off loopback fail loudly."""
    offline().__enter__()
