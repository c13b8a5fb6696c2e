"""Helpers the kit's own tests share: where the solutions, stubs and mutants are.

Fixtures stay in tests/conftest.py (pytest finds them there); plain values and functions live
here, imported as `from tests.helpers import ...`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from graders.instructor.mutants import Mutant, all_mutants
from graders.instructor.solutions import assemble
from graders.tasks import Task

__all__ = ["EXERCISES", "FIXTURES", "ROOT", "SOLUTIONS", "Mutant", "all_mutants", "submission_of"]

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
FIXTURES = ROOT / "fixtures"
# Every reference solution under its module name, as one submission folder laid out like
# exercises/ (the solutions live in fixtures/<task>/solution.py).
SOLUTIONS = assemble(Path(tempfile.mkdtemp(prefix="threadkit-solutions-")))


def submission_of(task: Task, source: Path, into: Path) -> Path:
    """A submission folder holding `source` under the task's module name."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, into / task.module)
    return into
