"""What `make check` shows a learner: progress, a table of tasks, and the first failure in full.

Rendering only: results come in as `TaskResult`s, nothing here runs learner code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from graders.feedback import Feedback
from graders.registry import Task
from graders.runner import CheckResult, TaskResult


@contextmanager
def progress(console: Console, tasks: list[Task]) -> Iterator[callable]:
    """A status line while tasks run; yields `advance(task)` to call as each one starts."""
    with console.status("", spinner="dots") as status:

        def advance(task: Task, index: int) -> None:
            status.update(f"Checking {task.id} ({index + 1}/{len(tasks)})...")

        yield advance


def summary_table(results: Iterable[TaskResult], tasks: dict[str, Task]) -> Table:
    table = Table(title="threadkit", title_justify="left", expand=False)
    table.add_column("Task")
    table.add_column("Status")
    table.add_column("Points", justify="right")
    table.add_column("What to look at")
    for result in results:
        failure = result.first_failure
        status = Text("passed", style="bold green") if failure is None else Text("not yet", "red")
        reason = "" if failure is None else _one_line(failure)
        table.add_row(result.task, status, f"{result.points}/{result.max_points}", reason)
    return table


def _one_line(failure: CheckResult) -> str:
    return failure.feedback.summary if failure.feedback else failure.title


def explanation(result: TaskResult, *, all_failures: bool = False) -> Panel:
    """The full story of a task's failed checks (only the first unless `all_failures`)."""
    failed = [c for c in result.checks if not c.passed]
    parts = []
    for chk in failed if all_failures else failed[:1]:
        parts.append(Text(f"✗ {chk.title}", style="bold red"))
        parts.append(_feedback_text(chk.feedback))
    passed = [c for c in result.checks if c.passed]
    if passed:
        parts.append(Text("\n".join(f"✓ {c.title}" for c in passed), style="green"))
    return Panel(Group(*parts), title=f"{result.task}", title_align="left", border_style="red")


def _feedback_text(feedback: Feedback | None) -> Text:
    if feedback is None:
        return Text("")
    text = Text()
    text.append(feedback.summary + "\n", style="bold")
    for label, value, style in (
        ("Expected", feedback.expected, "green"),
        ("Your code", feedback.got, "red"),
        ("Where", feedback.where, "cyan"),
    ):
        if value:
            text.append(f"  {label}: ", style="dim")
            text.append(value + "\n", style=style)
    for line in feedback.details:
        text.append(f"  {line}\n")
    if feedback.hint:
        text.append("  Hint: ", style="bold yellow")
        text.append(feedback.hint + "\n")
    return text


def next_up(results: Iterable[TaskResult]) -> Text:
    """Where the learner should go next, in workshop order (as rustlings does)."""
    for result in results:
        if not result.passed:
            return Text.assemble(
                ("Next up: ", "bold"),
                (result.task, "bold cyan"),
                f"  (make check TASK={result.task})",
            )
    return Text("All tasks pass. Well done!", style="bold green")
