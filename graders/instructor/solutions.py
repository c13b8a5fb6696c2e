"""The reference solutions laid out like exercises/, for `make check SUBMISSION=build/solutions`.

Each task keeps its solution in its own folder (fixtures/<id>/solution.py); a submission is
a folder of modules named as the stubs are. `assemble` copies one into the other.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from graders.tasks import TASKS


def assemble(out: str | Path) -> Path:
    """Write every task's reference solution into `out` under its module name; `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        shutil.copyfile(task.files().solution, out / task.module)
    return out
