"""A learner's grade as feedback.md: what a human (learner or instructor) reads.

Per task: points, every failed check's full feedback (expected, got, where, hint), what the
guard refused, tampering or screen findings, and the start of what the learner's code printed.
"""

from __future__ import annotations

import re

from graders.instructor.batch.score import LearnerGrade, TaskGrade
from graders.tasks import get_task

OUTPUT_SHOWN = 2000


def feedback(grade: LearnerGrade) -> str:
    lines = [
        f"# threadkit feedback for {grade.learner}",
        "",
        f"**{grade.total}/{grade.max_total} points.** Seed {grade.seed} "
        f"(`make check SEED={grade.seed}` replays the same forced interleavings).",
        "",
        "| Task | Points |",
        "| --- | ---: |",
    ]
    lines += [f"| {t.task} | {t.points}/{t.max_points} |" for t in grade.tasks]
    for task in grade.tasks:
        lines += _task(task)
    return "\n".join(lines) + "\n"


def _task(task: TaskGrade) -> list[str]:
    lines = ["", f"## {task.task}: {get_task(task.task).title} ({task.points}/{task.max_points})"]
    for label, items in (
        ("Not graded: tampering", task.tampering),
        ("Held for review", task.review),
        ("Refused while grading", task.blocked),
    ):
        if items:
            lines += ["", f"**{label}:**", *(f"- {item}" for item in items)]
    lines.append("")
    for chk in task.result.checks:
        mark = "passed" if chk.passed else "failed"
        hidden = " (hidden)" if chk.hidden else ""
        lines.append(f"- {mark}: {chk.title}{hidden}, {chk.points}/{chk.max_points}")
        if not chk.passed and chk.feedback:
            lines += _fenced(chk.feedback.render(), indent="  ")
    if task.output.strip():
        lines += ["", "What the code printed (start):", *_fenced(task.output[:OUTPUT_SHOWN])]
    return lines


def _fenced(text: str, indent: str = "") -> list[str]:
    """A code block that no backticks inside `text` can close early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{indent}{fence}text", *(indent + line for line in text.splitlines()), indent + fence]
