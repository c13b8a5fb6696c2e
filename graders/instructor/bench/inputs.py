"""The submissions the bench grades, built once per bench from this kit's fixtures.

Every checkout measured in one sitting grades the very same folders: the reference solutions
(graders.instructor.solutions.assemble), the untouched stubs (exercises/), copies of the
solutions, and one-mutant submissions (the solutions with one task's module replaced by one
of its mutants, fixtures/<id>/mutants/, every mutant in turn).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from graders.instructor.mutants import all_mutants
from graders.instructor.solutions import assemble
from graders.paths import EXERCISES
from graders.tasks import TASKS


@dataclass(frozen=True)
class Inputs:
    solutions: Path  # one folder laid out like exercises/, every reference solution
    stubs: Path  # a copy of exercises/
    copies: Path  # N sub-folders, each a copy of the solutions
    mutants: Path  # N sub-folders, each the solutions with one mutant swapped in
    mutant_of: dict[str, str]  # learner folder name -> "task/mutant"


def build_inputs(root: Path, count: int) -> Inputs:
    """Every input under `root`, with `count` submissions in each batch."""
    solutions = assemble(root / "solutions")
    stubs = root / "stubs"
    stubs.mkdir()
    for task in TASKS:
        shutil.copyfile(EXERCISES / task.module, stubs / task.module)
    copies = root / "copies"
    for i in range(count):
        shutil.copytree(solutions, copies / f"learner{i:03d}")
    mutants, mutant_of = root / "mutants", {}
    known = all_mutants()
    for i in range(count if known else 0):
        mutant = known[i % len(known)]
        name = f"m{i:03d}_{mutant.task.id}_{mutant.path.stem}"
        shutil.copytree(solutions, mutants / name)
        shutil.copyfile(mutant.path, mutants / name / mutant.task.module)
        mutant_of[name] = mutant.id
    mutants.mkdir(exist_ok=True)
    return Inputs(solutions, stubs, copies, mutants, mutant_of)
