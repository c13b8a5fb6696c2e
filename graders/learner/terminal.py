"""What `make check` shows a learner: progress, a table of tasks, and the first failure in full.

Rendering only: results come in as `TaskResult`s, nothing here runs learner code. The order is
the workshop's (the registry's); "next up" is the first task not finished yet, as rustlings
does. A failure is told as: what was expected, what their code did, where in their file (with
the lines around it), the interleaving that broke a count if there was one, and one hint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.status import Status
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from graders.engine.runner import TaskResult
from graders.kit.feedback import Feedback, Location
from graders.learner import race_story
from graders.tasks import Task


@dataclass
class Progress:
    """The one-line status while tasks run: the task being checked and those already done."""

    status: Status
    total: int
    done: str = ""

    def start(self, task: Task, index: int) -> None:
        self.status.update(f"Checking [bold]{task.id}[/] ({index + 1}/{self.total})  {self.done}")

    def finish(self, result: TaskResult) -> None:
        mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
        self.done += f"{mark} {result.task}  "


@contextmanager
def progress(console: Console, total: int) -> Iterator[Progress]:
    """A spinner line (terminals only) that `start`/`finish` keep up to date."""
    with console.status("Starting the checks...", spinner="dots") as status:
        yield Progress(status, total)


def is_not_started(result: TaskResult) -> bool:
    """Every check failed on the untouched stub (`raise NotImplementedError`)."""
    return all(
        not c.passed and c.feedback is not None and c.feedback.kind == "not_started"
        for c in result.checks
    )


def next_task(results: Sequence[TaskResult]) -> TaskResult | None:
    """The first task, in workshop order, that does not pass yet."""
    return next((r for r in results if not r.passed), None)


def summary_table(results: Sequence[TaskResult], tasks: dict[str, Task]) -> Table:
    """Task, status, points and a one-line reason; an arrow marks the task next up."""
    table = Table(title="threadkit", title_justify="left", show_footer=True, expand=False)
    nxt = next_task(results)
    table.add_column("", footer="", width=1)
    table.add_column("Task", footer="Total", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    total = f"{sum(r.points for r in results)}/{sum(r.max_points for r in results)}"
    table.add_column("Points", justify="right", footer=total, no_wrap=True)
    table.add_column("What to look at", ratio=1)
    for result in results:
        task = tasks.get(result.task)
        arrow = Text("→", style="bold cyan") if result is nxt else ""
        table.add_row(
            arrow,
            Text(result.task, style="bold" if result is nxt else ""),
            _status(result),
            f"{result.points}/{result.max_points}",
            Text(reason(result, task), style="" if _failing(result) else "dim"),
        )
    return table


def _failing(result: TaskResult) -> bool:
    return not result.passed and not is_not_started(result)


def _status(result: TaskResult) -> Text:
    if result.passed:
        return Text("✓ done", style="bold green")
    if is_not_started(result):
        return Text("· to do", style="dim")
    return Text("✗ not yet", style="bold red")


def reason(result: TaskResult, task: Task | None) -> str:
    """The one-line reason in the table: the first failure, or the task's title."""
    failure = result.first_failure
    if failure is None or (is_not_started(result) and task is not None):
        return task.title if task else ""
    return failure.feedback.summary if failure.feedback else failure.title


def explanation(
    result: TaskResult,
    task: Task | None = None,
    *,
    source: Path | None = None,
    all_failures: bool = False,
    submission: str = "",
) -> Panel:
    """The full story of a task's failed checks (the first only unless `all_failures`);
    `submission` as make check was given it, if not exercises/ (for the replay command)."""
    failed = [c for c in result.checks if not c.passed]
    shown = failed if all_failures else failed[:1]
    parts: list[RenderableType] = []
    for chk in shown:
        parts.append(Text(f"✗ {chk.title}", style="bold red"))
        parts.extend(feedback_parts(chk.feedback, source, submission))
    others = [c for c in failed if c not in shown]
    if others:
        parts.append(Text("\n".join(f"✗ {c.title}" for c in others), style="red"))
    passed = [c for c in result.checks if c.passed]
    if passed:
        parts.append(Text("\n".join(f"✓ {c.title}" for c in passed), style="green"))
    title = f"{result.task}: {task.title}" if task else result.task
    return Panel(Group(*parts), title=title, title_align="left", border_style="red")


def feedback_parts(
    feedback: Feedback | None, source: Path | None, submission: str = ""
) -> list[RenderableType]:
    """Summary, expected / your code / where, the code around `where`, details, the lost
    update's steps, the replay command, hint."""
    if feedback is None:
        return []
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
    parts: list[RenderableType] = [text]
    excerpt = code_excerpt(feedback.location, source)
    if excerpt is not None:
        parts.append(excerpt)
    parts.extend(Text(f"  {line}") for line in feedback.details)
    if feedback.race is not None:
        parts.append(race_story.render(feedback.race))
    if feedback.replay is not None:
        parts.append(Text(f"  {feedback.replay.line(submission)}", style="bold yellow"))
    if feedback.hint:
        parts.append(Text.assemble(("  Hint: ", "bold yellow"), feedback.hint))
    return parts


def warm_up_excerpts() -> None:
    """Compile the Python lexer's rules now (~0.1 s, once per process) rather than when the
    first failure's code excerpt is drawn: `make check` calls it while other tasks still run."""
    from pygments.lexers import get_lexer_by_name

    get_lexer_by_name("python")


def code_excerpt(location: Location | None, source: Path | None) -> Syntax | None:
    """The learner's lines around `location` in `source`, numbered, the line highlighted."""
    if location is None or source is None or not source.is_file():
        return None
    if Path(location.file).name != source.name:
        return None
    line = location.line
    code = source.read_text(encoding="utf-8", errors="replace")
    return Syntax(
        code,
        "python",
        line_numbers=True,
        line_range=(max(1, line - 2), line + 1),
        highlight_lines={line},
        background_color="default",
        theme="ansi_dark",
    )


def next_up(results: Sequence[TaskResult], tasks: dict[str, Task]) -> Text:
    """Where the learner should go next, in workshop order (as rustlings does)."""
    nxt = next_task(results)
    if nxt is None:
        return Text("All tasks pass. Well done!", style="bold green")
    task = tasks.get(nxt.task)
    return Text.assemble(
        ("Next up: ", "bold"),
        (nxt.task, "bold cyan"),
        (f"  {task.title}" if task else "", "dim"),
        f"\n  make check TASK={nxt.task}",
        ("   stuck? ", "dim"),
        f"make hint TASK={nxt.task}",
    )
