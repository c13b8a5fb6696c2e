"""`make watch`: check everything once, then re-check a task each time you save its file.

Polls the exercise files' modification times (no extra dependency; a save shows up within
`--interval` seconds). Only the task whose file changed is checked again, in fresh grading
processes as `make check TASK=id` does: its checks split across the idle cores. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from graders.engine.runner import TaskResult, new_seed
from graders.learner import terminal
from graders.learner.commands.check import DEFAULT_SUBMISSION, check_tasks, show
from graders.tasks import TASKS, Task

HELP = "re-check a task each time you save its file (make watch)"
# A look is a stat of each exercise file (microseconds): often enough that the wait for it
# is a small part of the half second from a save to its verdict.
INTERVAL = 0.05
Stamp = tuple[int, int] | None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submission", default=str(DEFAULT_SUBMISSION), help="folder to watch")
    parser.add_argument(
        "--interval", type=float, default=INTERVAL, help=f"seconds between looks ({INTERVAL:g})"
    )
    parser.add_argument("--max-runs", type=int, help="stop after this many re-checks (tests)")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.submission)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    console = Console(highlight=False)
    tasks = {t.id: t for t in TASKS}
    stamps = {t.id: stamp(folder / t.module) for t in TASKS}  # before: edits meanwhile count
    results, _ = check_tasks(console, list(TASKS), folder, seed=new_seed())
    latest = {r.task: r for r in results}
    show(console, results, {}, folder=folder, verbose=False)
    console.print(terminal.next_up(results, tasks))
    console.print(
        f"\n[bold]Watching {folder}[/]: save a file to check its task again (Ctrl-C stops)."
    )
    runs = 0
    try:
        while args.max_runs is None or runs < args.max_runs:
            time.sleep(args.interval)
            for task in changed(folder, stamps):
                latest[task.id] = recheck(console, task, folder)
                console.print(terminal.next_up(list(latest.values()), tasks))
                runs += 1
    except KeyboardInterrupt:
        console.print("\nStopped watching.")
    return 0


def stamp(path: Path) -> Stamp:
    """What tells a saved file apart from the last look: modification time and size."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def changed(folder: Path, stamps: dict[str, Stamp]) -> list[Task]:
    """The tasks whose file changed since the last look (and remember the new stamps)."""
    found = []
    for task in TASKS:
        now = stamp(folder / task.module)
        if now != stamps.get(task.id):
            stamps[task.id] = now
            found.append(task)
    return found


def recheck(console: Console, task: Task, folder: Path) -> TaskResult:
    """Check one task again and show its row, and its first failure in full."""
    console.rule(f"{task.module} changed: checking {task.id}")
    results, _ = check_tasks(console, [task], folder, seed=new_seed())
    result = results[0]
    tasks = {t.id: t for t in TASKS}
    console.print(terminal.summary_table(results, tasks))
    if not result.passed:
        console.print(terminal.explanation(result, task, source=folder / task.module))
    return result
