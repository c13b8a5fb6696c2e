"""The opt-in rows, too slow to run every time: nbgrader's autograde, and `make test`.

`nbgrader`: the same solutions graded by `nbgrader autograde` on the course this checkout
generates (`python -m graders nbgrader`), one kernel per notebook, for the ratio to
`make grade-one` in the same sitting. Building the course and releasing the assignment are
set-up, not timed. `make-test`: the kit's own proof from a fresh copy of the checkout (no
__pycache__, no .pytest_cache), with the checkout's .venv (Kit.python) linked in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from graders.instructor.bench.inputs import Inputs
from graders.instructor.bench.measure import Kit, run_timed
from graders.instructor.bench.rows import Measurement, Row, Settings
from graders.tasks import TASKS

ASSIGNMENT = "threading"  # graders.instructor.course.build.ASSIGNMENT (nbformat not needed here)
STUDENT = "solution"


def nbgrader_autograde(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`nbgrader autograde` of the solutions pasted into the released notebooks."""
    course = work / "course"
    if not (course / "release").exists():
        _course(kit, inputs, course)
    cmd = [kit.python, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"]
    sample = run_timed(cmd + ["--student", STUDENT], cwd=course, env=_nb_env(kit), timeout=1800)
    graded = sorted(p.name for p in (course / "autograded" / STUDENT / ASSIGNMENT).glob("*.ipynb"))
    tasks = [task for task in TASKS if kit.grades(task.module)]
    ok = sample.code == 0 and len(graded) == len(tasks)
    return Measurement([sample.wall], [sample.cpu], graded, ok)


def _nb_env(kit: Kit) -> dict[str, str]:
    """nbgrader runs `alembic` from PATH: the checkout's interpreter's bin/ first."""
    bin_dir = str(Path(kit.python).parent)
    return kit.env(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))


def _course(kit: Kit, inputs: Inputs, course: Path) -> None:
    """Build the course, release it, and hand in the solutions as student `solution`."""
    import nbformat  # an instructor requirement; only this opt-in row needs it

    env = _nb_env(kit)
    shutil.rmtree(course, ignore_errors=True)
    for cmd, cwd in (
        (kit.command("nbgrader", "--out", str(course)), kit.root),
        ([kit.python, "-m", "nbgrader", "generate_assignment", ASSIGNMENT], course),
    ):
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    folder = course / "submitted" / STUDENT / ASSIGNMENT
    folder.mkdir(parents=True)
    for task in (task for task in TASKS if kit.grades(task.module)):
        nb = nbformat.read(course / "release" / ASSIGNMENT / f"{task.id}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"{task.id}-code":
                text = (inputs.solutions / task.module).read_text()
                cell.source = f"%%writefile {task.module}\n{text}"
        nbformat.write(nb, folder / f"{task.id}.ipynb")


def make_test(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`make test` in a fresh copy of the checkout (its caches left behind)."""
    clone = work / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    shutil.copytree(
        kit.root,
        clone,
        ignore=shutil.ignore_patterns(
            ".venv", "build", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".git"
        ),
    )
    (clone / ".venv").symlink_to(Path(kit.python).parent.parent)  # the checkout's .venv
    sample = run_timed(["make", "test"], cwd=clone, env=Kit(kit.label, clone).env(), timeout=3600)
    summary = [
        line for line in sample.output.splitlines() if " passed" in line or " failed" in line
    ]
    return Measurement([sample.wall], [sample.cpu], summary[-1:], sample.code == 0)


EXTRA_ROWS = (
    Row("nbgrader", "nbgrader autograde, the same solutions", "s", None, nbgrader_autograde),
    Row("make-test", "make test from a fresh copy", "s", 150.0, make_test),
)
