"""What `make grade` shows on the terminal: the isolation in force, progress, then learners x tasks.

Rendering only; the grades come in as LearnerGrade objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from graders.instructor.batch.load import Submission
from graders.instructor.batch.score import LearnerGrade
from graders.tasks import TASKS


@contextmanager
def progress_bar(console: Console, total: int) -> Iterator[callable]:
    """A progress bar; yields `advance(submission, grade, status)` for the pipeline to call."""
    columns = (
        TextColumn("[bold]Grading[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        job = bar.add_task("", total=total)

        def advance(sub: Submission, grade: LearnerGrade | None, status: str) -> None:
            shown = f"{grade.total}/{grade.max_total}" if grade else "grader error"
            bar.update(job, advance=1, description=f"{sub.learner}: {shown} ({status})")

        yield advance


def grades_table(grades: Iterable[LearnerGrade]) -> Table:
    table = Table(title="threadkit grades", title_justify="left")
    table.add_column("Learner")
    for task in TASKS:
        table.add_column(task.id, justify="right")
    table.add_column("Total", justify="right", style="bold")
    table.add_column("Notes")
    for grade in sorted(grades, key=lambda g: g.learner):
        by_id = {t.task: t for t in grade.tasks}
        cells = [
            _cell(by_id[t.id].points, by_id[t.id].max_points) if t.id in by_id else "-"
            for t in TASKS
        ]
        table.add_row(grade.learner, *cells, f"{grade.total}/{grade.max_total}", _notes(grade))
    return table


def _cell(points: int, maximum: int) -> Text:
    style = "green" if points == maximum else "red" if points == 0 else "yellow"
    return Text(f"{points}/{maximum}", style=style)


def _notes(grade: LearnerGrade) -> str:
    notes = [f"tampering: {t.task}" for t in grade.tasks if t.tampering]
    notes += [f"review: {t.task}" for t in grade.tasks if t.review]
    return ", ".join(notes)
