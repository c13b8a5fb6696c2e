"""One nbgrader notebook per task, laid out from the task's stub, solution and checks.

Cells, in order: the task text (the stub's docstring, read-only); a read-only setup cell that
imports graders.learner.notebook; the learner's code cell (`%%writefile <module>`, the stub with the
solution in regions, see regions.py); a read-only cell that loads the module into the kernel
so the learner can try it; then one autograded test cell per check, worth the check's points,
hidden checks inside `### BEGIN HIDDEN TESTS` regions. Cell ids and grade ids are derived from
the task and check names, so the same sources always give the same notebook, byte for byte.

Plain JSON (nbformat 4.5), written without nbformat: importing it costs seconds (its schema
validator builds a grammar at import), and the tests validate what is written here with it.
"""

from __future__ import annotations

import json

from graders.instructor.course import regions
from graders.kit.checks import Check
from graders.tasks import Task

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SETUP = (
    "# Read-only: loads threadkit's grading library; the test cells below call it.\n"
    "from graders.learner import notebook as threadkit"
)
HOW = (
    "**In this notebook.** Write your code in the cell that starts with `%%writefile {module}` "
    "and run it: it saves your module as `{module}`. The cell after it loads the module here, "
    "so you can call your functions in a cell of your own. Each test cell below runs one check "
    "on `{module}` and tells you what your code did. Cells marked *hidden* are checked only "
    "when your work is graded."
)
GENERATED = "threadkit"  # notebook metadata key: made by this module, safe to replace
KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


Cell = dict[str, object]


def task_notebook(task: Task) -> str:
    """The task's notebook, built from its stub, its reference solution and its checks."""
    files = task.files()
    stub = files.stub.read_text(encoding="utf-8")
    code = regions.solution_cell_code(stub, files.solution.read_text(encoding="utf-8"))
    checks = task.checks(hidden=True)
    cells = [
        _markdown(f"{task.id}-task", task_text(task, stub, checks)),
        _code(f"{task.id}-setup", SETUP),
        _code(f"{task.id}-code", f"%%writefile {task.module}\n{code}", solution=True),
        _code(f"{task.id}-load", _load_cell(task)),
        _markdown(f"{task.id}-checks", "## Checks"),
        *(_test_cell(task, chk, n) for n, chk in enumerate(checks, 1)),
    ]
    metadata = KERNEL | {GENERATED: {"task": task.id}}
    nb = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def task_text(task: Task, stub: str, checks: list[Check]) -> str:
    """The stub's docstring as markdown, under the task's title; `make check` lines left out."""
    doc = regions.Source.parse(stub, task.module).docstring
    body = "\n".join(doc.splitlines()[1:]).strip()  # the summary line gives way to the title
    kept = [p for p in body.split("\n\n") if p and "make check" not in p]
    points = sum(c.points for c in checks)
    heading = f"# {task.title}\n\n*Task `{task.id}`, {points} points.*"
    return "\n\n".join([heading, *kept, HOW.format(module=task.module)])


def check_cell_source(task: Task, chk: Check) -> str:
    """A test cell's code: one call to graders.learner.notebook.check (inside a hidden region if
    hidden)."""
    call = f"threadkit.check({', '.join(json.dumps(a) for a in (task.id, chk.name, task.module))})"
    if chk.hidden:
        note = f"# Hidden check, {chk.points} point(s): it runs when your work is graded."
        return "\n".join([note, BEGIN_HIDDEN, call, END_HIDDEN])
    return f"# {chk.title} ({chk.points} point(s))\n{call}"


def _load_cell(task: Task) -> str:
    return (
        "# Read-only: loads your module, so you can call its functions in a new cell.\n"
        f"%run -n {task.module}"
    )


def _test_cell(task: Task, chk: Check, number: int) -> Cell:
    """Hidden checks get neutral ids: learners see grade ids, and a check's name is a hint."""
    grade_id = f"{task.id}-hidden-{number}" if chk.hidden else f"{task.id}-{chk.name}"
    return _code(grade_id, check_cell_source(task, chk), grade=True, points=chk.points)


def _code(grade_id: str, source: str, *, solution: bool = False, **grading: object) -> Cell:
    cell = _cell("code", grade_id, source, _meta(grade_id, solution=solution, **grading))
    return cell | {"execution_count": None, "outputs": []}


def _markdown(grade_id: str, source: str) -> Cell:
    return _cell("markdown", grade_id, source, _meta(grade_id))


def _cell(kind: str, grade_id: str, source: str, nbgrader: dict[str, object]) -> Cell:
    lines = source.splitlines(keepends=True)
    return {"cell_type": kind, "id": grade_id, "metadata": {"nbgrader": nbgrader}, "source": lines}


def _meta(
    grade_id: str, *, solution: bool = False, grade: bool = False, points: int = 0
) -> dict[str, object]:
    """nbgrader's cell metadata (schema 3): every cell that is not the learner's is locked."""
    meta: dict[str, object] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta
