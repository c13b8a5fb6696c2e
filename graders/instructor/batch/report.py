"""Step 5, report: the grade files, each written whole or not at all.

Per learner, in OUT/<learner>/: results.json (Gradescope's format,
graders.instructor.batch.gradescope),
feedback.md (for humans, graders.instructor.batch.markdown) and, last, grade.json (the record that
marks
the learner done, for the resume logic). For the batch: OUT/grades.csv (student, one column per
task id, total, max_total) and OUT/grades.json ({"max": ..., "students": ...}). Every file goes
to a temporary file in the same folder first and then `os.replace`s the old one, so an
interrupted batch never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from graders.instructor.batch import gradescope, markdown
from graders.instructor.batch.score import LearnerGrade
from graders.tasks import TASKS

RECORD = "grade.json"


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_learner(folder: Path, grade: LearnerGrade, record: dict[str, object]) -> None:
    """results.json and feedback.md for one learner, then the record that marks them done."""
    atomic_write(folder / "results.json", _json(gradescope.results(grade)))
    atomic_write(folder / "feedback.md", markdown.feedback(grade))
    atomic_write(folder / RECORD, _json(record | {"grade": grade.to_dict()}))


def max_points() -> dict[str, int]:
    return {t.id: t.max_points(hidden=True) for t in TASKS}


def write_grades(out: Path, grades: Iterable[LearnerGrade]) -> None:
    """grades.csv and grades.json for every learner graded so far, sorted by learner id."""
    ordered = sorted(grades, key=lambda g: g.learner)
    maxima = max_points()
    atomic_write(out / "grades.csv", grades_csv(ordered, maxima))
    students = {g.learner: g.points() for g in ordered}
    atomic_write(out / "grades.json", _json({"max": maxima, "students": students}))


def grades_csv(grades: list[LearnerGrade], maxima: dict[str, int]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *maxima, "total", "max_total"])
    for grade in grades:
        points = grade.points()
        row = [_cell(grade.learner), *(points.get(t, 0) for t in maxima)]
        writer.writerow(row + [grade.total, grade.max_total])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """No spreadsheet formulas from a learner id (ids are already restricted, but be sure)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
