"""Running `python -m graders ...` as a learner would, for the tests of the learner's commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def graders(
    *args: str, cwd: Path = ROOT, timeout: float = 120.0, columns: int = 100
) -> subprocess.CompletedProcess:
    """`python -m graders *args` in `cwd`, output captured as text (no colour)."""
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1", TERM="dumb", PYTHONPATH=str(cwd))
    return subprocess.run(
        [sys.executable, "-m", "graders", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
