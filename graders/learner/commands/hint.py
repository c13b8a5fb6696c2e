"""`make hint TASK=id`: one more hint for a task each time you ask, never the answer.

Without TASK it takes the task next up in your last full `make check`. `make hint TASK=id
RESET=1` starts that task's hints from the first again.
"""

from __future__ import annotations

import argparse

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from graders.learner import hints
from graders.learner.session import LearnerState
from graders.tasks import TASKS, get_task

HELP = "a hint for a task, a little more each time (make hint TASK=id)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="task id (default: the one next up in your last check)")
    parser.add_argument("--reset", action="store_true", help="start this task's hints again")
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    state = LearnerState(args.state_dir)
    task = get_task(args.task or state.read("progress").get("next_up") or TASKS[0].id)
    console = Console(highlight=False)
    if args.reset:
        hints.forget(task.id, state)
        console.print(f"Hints for [bold]{task.id}[/] start again from the first.")
        return 0
    shown = hints.reveal_next(task.id, state)
    console.print(panel(shown, task.title))
    return 0


def panel(shown: hints.Reveal, title: str) -> Panel:
    """Earlier hints dimmed, the newest one bold, and what asking again will do."""
    if not shown.total:
        body: Text | Group = Text(
            "This task has no hints yet. Each failed check in `make check` ends with a hint."
        )
    else:
        lines = []
        for number, hint in enumerate(shown.hints, start=1):
            newest = number == shown.shown and shown.new
            lines.append(
                Text.assemble((f"{number}. ", "bold"), (hint, "bold" if newest else "dim"), "\n")
            )
        lines.append(Text(_after(shown), style="italic cyan"))
        body = Group(*lines)
    heading = f"Hint {shown.shown} of {shown.total} for {shown.task}: {title}"
    return Panel(body, title=heading, title_align="left", border_style="yellow")


def _after(shown: hints.Reveal) -> str:
    if shown.shown < shown.total:
        return f"Still stuck? `make hint TASK={shown.task}` again shows one more."
    return (
        "That was the last hint. `make check TASK=" + shown.task + "` points at your lines; "
        f"`make hint TASK={shown.task} RESET=1` starts the hints over."
    )
