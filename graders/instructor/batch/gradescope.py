"""A learner's grade in Gradescope's autograder format (/autograder/results/results.json).

Per the autograder specification: top-level `score`, `execution_time`, `output` (Markdown),
`visibility`, `stdout_visibility`, `extra_data`, and `tests`, one per check, each with `name`,
`number`, `score`, `max_score`, `status`, `output`, `tags` and `visibility`. Visible checks are
"visible"; hidden checks are "after_published", so learners see them only once grades are out.
"""

from __future__ import annotations

from graders.engine.runner import CheckResult
from graders.instructor.batch.score import LearnerGrade, TaskGrade
from graders.tasks import get_task


def results(grade: LearnerGrade) -> dict[str, object]:
    tests = []
    for number, task in enumerate(grade.tasks, start=1):
        for sub, chk in enumerate(task.result.checks, start=1):
            tests.append(_test(task, chk, f"{number}.{sub}"))
    return {
        "score": grade.total,
        "execution_time": round(sum(t.seconds for t in grade.tasks)),
        "output": _summary(grade),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "learner": grade.learner,
            "seed": grade.seed,
            "digest": grade.digest,
            "max_score": grade.max_total,
            "tampering": {t.task: t.tampering for t in grade.tasks if t.tampering},
            "held_for_review": {t.task: t.review for t in grade.tasks if t.review},
        },
        "tests": tests,
    }


def _test(task: TaskGrade, chk: CheckResult, number: str) -> dict[str, object]:
    return {
        "name": f"{get_task(task.task).title}: {chk.title}",
        "number": number,
        "score": chk.points,
        "max_score": chk.max_points,
        "status": "passed" if chk.passed else "failed",
        "output": chk.feedback.render() if chk.feedback and not chk.passed else "",
        "tags": [task.task] + (["hidden"] if chk.hidden else []),
        "visibility": "after_published" if chk.hidden else "visible",
    }


def _summary(grade: LearnerGrade) -> str:
    lines = [f"**threadkit: {grade.total}/{grade.max_total} points** (seed {grade.seed})", ""]
    for task in grade.tasks:
        lines.append(f"- {task.task}: {task.points}/{task.max_points}")
        if task.tampering:
            lines.append(f"  - not graded, tampering: {task.tampering[0]}")
        if task.review:
            lines.append(f"  - held for review: {task.review[0]}")
    return "\n".join(lines)
