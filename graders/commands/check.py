"""`make check`: run the visible checks of every task (or one) on the learner's exercises.

Each task is checked in a fresh process (graders.isolate), so a learner's hang, crash or exit
in one task never stops the others, and the report is always drawn.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from graders import terminal
from graders.isolate import run_isolated
from graders.registry import TASKS, Task, get_task
from graders.runner import TaskResult, new_seed

HELP = "check your exercises (make check)"
KIT_ROOT = Path(__file__).resolve().parent.parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="one task id (default: all, in workshop order)")
    parser.add_argument(
        "--submission",
        default=str(KIT_ROOT / "exercises"),
        help="a folder laid out like exercises/, or one .py file with --task",
    )
    parser.add_argument("--seed", type=int, help="replay a forced-interleaving run")
    parser.add_argument("--verbose", action="store_true", help="every failure, and your output")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden checks")


def run(args: argparse.Namespace) -> int:
    tasks = [get_task(args.task)] if args.task else list(TASKS)
    seed = args.seed if args.seed is not None else new_seed()
    console = Console(highlight=False)
    with submission_folder(args.submission, tasks) as folder:
        results, outputs = [], {}
        with terminal.progress(console, tasks) as advance:
            for index, task in enumerate(tasks):
                advance(task, index)
                run = run_isolated(task.id, folder, seed=seed, hidden=args.hidden)
                results.append(run.result)
                outputs[task.id] = run.output
    show(console, results, outputs, verbose=args.verbose, seed=seed)
    return 0 if all(r.passed for r in results) else 1


def show(
    console: Console,
    results: list[TaskResult],
    outputs: dict[str, str],
    *,
    verbose: bool,
    seed: int,
) -> None:
    console.print(terminal.summary_table(results, {t.id: t for t in TASKS}))
    failing = [r for r in results if not r.passed]
    for result in failing if verbose else failing[:1]:
        console.print(terminal.explanation(result, all_failures=verbose))
        if verbose and outputs.get(result.task):
            console.rule(f"what your code printed ({result.task})")
            console.print(outputs[result.task], markup=False, highlight=False)
    console.print(terminal.next_up(results))
    if failing:
        console.print(f"[dim]seed {seed}: make check SEED={seed} replays these runs[/dim]")


class submission_folder:
    """The folder to grade: the given one, or a temporary one holding a single given file."""

    def __init__(self, path: str, tasks: list[Task]) -> None:
        self.path = Path(path)
        self.tasks = tasks
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if self.path.is_dir():
            return self.path
        if self.path.is_file() and len(self.tasks) == 1:
            self._tmp = tempfile.TemporaryDirectory(prefix="threadkit-file-")
            shutil.copy(self.path, Path(self._tmp.name) / self.tasks[0].module)
            return Path(self._tmp.name)
        raise ValueError(f"{self.path} is not a folder (a single file needs --task)")

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
