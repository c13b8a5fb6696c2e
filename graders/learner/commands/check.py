"""`make check`: run the visible checks of every task (or one) on the learner's exercises.

Each task is checked in a grading process of its own (graders.engine.isolated), so a learner's
hang, crash or exit in one task never stops the others, and the report is always drawn: a table
of every task in workshop order, the first failure in full, and what to do next. Tasks are
checked side by side (`check_jobs`): most of a task's time is waiting; one task alone has its
checks split across the idle slots (graders.engine.shards). `make check TASK=id` for a
downloading task also draws the timeline of its requests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from graders.paths import KIT_ROOT
from graders.tasks import TASKS, Task, get_task

# rich, the engine, requests (through the timeline) are imported where they are used: `--help`,
# and the commands that borrow this module's helpers (watch, demo, timeline), start without
# paying for what they never run (graders.cli imports only the command that runs).
if TYPE_CHECKING:
    from rich.console import Console

    from graders.engine.runner import TaskResult
    from graders.engine.verdicts import IsolatedRun
    from graders.learner.session import LearnerState

HELP = "check your exercises (make check)"

DEFAULT_SUBMISSION = KIT_ROOT / "exercises"
JOBS_VARIABLE = "THREADKIT_CHECK_JOBS"  # tasks checked at once (default: two per core)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="one task id (default: all, in workshop order)")
    parser.add_argument(
        "--submission",
        default=str(DEFAULT_SUBMISSION),
        help="a folder laid out like exercises/, or one .py file with --task",
    )
    parser.add_argument("--seed", type=int, help="replay a forced-interleaving run")
    parser.add_argument("--verbose", action="store_true", help="every failure, and your output")
    parser.add_argument("--hidden", action="store_true", help="also run the hidden checks")
    parser.add_argument("--summary", help="append a Markdown report to this file (CI)")
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from graders.engine import zygote

    zygote.warm_up()  # the grading processes' imports, while this one imports rich
    from rich.console import Console
    from rich.text import Text

    from graders.engine.runner import new_seed
    from graders.learner import terminal
    from graders.learner.pictures.downloads import DOWNLOAD_TASKS
    from graders.learner.session import LearnerState

    tasks = [get_task(args.task)] if args.task else list(TASKS)
    seed = args.seed if args.seed is not None else new_seed()
    console = Console(highlight=False)
    with submission_folder(args.submission, tasks) as folder:
        state = LearnerState(args.state_dir)
        results, outputs = check_tasks(
            console, tasks, folder, seed=seed, hidden=args.hidden, state=state
        )
        show(
            console,
            results,
            outputs,
            folder=folder,
            verbose=args.verbose,
            submission=given_submission(args),
        )
        if args.task in DOWNLOAD_TASKS:
            show_timeline(console, args.task, folder)
    console.print(terminal.next_up(results, {t.id: t for t in TASKS}))
    if failing := terminal.next_task(results):
        # one line however long (a path), for the terminal to wrap and the learner to copy
        replay = f"seed {seed} · replay: {replay_command(failing.task, seed, args)}"
        console.print(Text(replay, style="dim"), soft_wrap=True)
    if args.summary:
        from graders.learner import job_summary

        job_summary.append(args.summary, results, {t.id: t for t in TASKS})
    if not args.task and Path(args.submission).resolve() == DEFAULT_SUBMISSION.resolve():
        remember_next_up(results, state)
    return 0 if all(r.passed for r in results) else 1


def check_tasks(
    console: Console,
    tasks: list[Task],
    folder: Path,
    *,
    seed: int,
    hidden: bool = False,
    state: LearnerState | None = None,
) -> tuple[list[TaskResult], dict[str, str]]:
    """Every task's result, in order, and what the learner's code printed in each. Started
    longest first by the times `state` remembers (graders.learner.schedule)."""
    from graders.engine.shards import run_sharded
    from graders.learner import schedule, terminal
    from graders.learner.session import LearnerState

    state = state if state is not None else LearnerState()

    runs: dict[str, IsolatedRun] = {}
    lock = threading.Lock()
    warming = threading.Event()

    def one(index: int, task: Task) -> None:
        with lock:
            progress.start(task, index)
        shards = schedule.shards(task, state, slots, hidden)
        run = run_sharded(task.id, folder, shards, seed=seed, hidden=hidden)
        with lock:
            progress.finish(run.result)
            runs[task.id] = run
            first_failure = not run.result.passed and not warming.is_set()
            if first_failure:
                warming.set()
        if first_failure:  # a failure will be shown: get its excerpt ready meanwhile
            terminal.warm_up_excerpts()

    index = {task.id: i for i, task in enumerate(tasks)}
    slots = max(1, check_jobs() // len(tasks))  # more than one: a task's checks split
    with terminal.progress(console, len(tasks)) as progress:
        with ThreadPoolExecutor(max_workers=min(len(tasks), check_jobs())) as pool:
            started = schedule.longest_first(tasks, state)
            for future in [pool.submit(one, index[task.id], task) for task in started]:
                future.result()
    schedule.remember(state, ((task.id, runs[task.id].seconds) for task in tasks))
    results = [runs[task.id].result for task in tasks]
    schedule.remember_checks(state, results)
    return results, {task.id: runs[task.id].output for task in tasks}


def check_jobs() -> int:
    """How many grading processes run at once: THREADKIT_CHECK_JOBS, else two per core: one
    task each, or, with fewer tasks than that, a task's checks split across them. A task
    spends most of its time waiting (latencies, latches, settling), each in its own process,
    so they overlap well; many more than the cores would compete for CPU while a check
    measures a speedup. Measured on 2 cores (load ~8): the solutions took 5.6-8.7 s one at a
    time, 3.7 s two at a time, 3.0 s five at a time; the stubs 3.0-4.2, 2.2, 2.2 s."""
    wanted = os.environ.get(JOBS_VARIABLE, "")
    return int(wanted) if wanted.isdigit() and int(wanted) > 0 else 2 * _cores()


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def show(
    console: Console,
    results: list[TaskResult],
    outputs: dict[str, str],
    *,
    folder: Path,
    verbose: bool,
    submission: str = "",
) -> None:
    """The table, then the first failing task in full (every one with `verbose`);
    `submission` for the replay commands (given_submission)."""
    from graders.learner import terminal

    tasks = {t.id: t for t in TASKS}
    console.print(terminal.summary_table(results, tasks))
    shown = results if verbose else [r for r in results if not r.passed][:1]
    for result in shown:
        task = tasks.get(result.task)
        source = folder / task.module if task else None
        if verbose and result.passed:
            console.print(f"[green]✓ {result.task}: every check passes[/green]")
            continue
        console.print(
            terminal.explanation(
                result, task, source=source, all_failures=verbose, submission=submission
            )
        )
        if verbose and outputs.get(result.task):
            console.rule(f"what your code printed ({result.task})")
            console.print(outputs[result.task], markup=False, highlight=False)


def replay_command(task_id: str, seed: int, args: argparse.Namespace) -> str:
    """The exact `make check` that reruns this task with the same forced interleavings."""
    command = f"make check TASK={task_id} SEED={seed}"
    if submission := given_submission(args):
        command += f" SUBMISSION={submission}"
    return command


def given_submission(args: argparse.Namespace) -> str:
    """The submission as the learner gave it, or "" for exercises/ (make check's default)."""
    if Path(args.submission).resolve() == DEFAULT_SUBMISSION.resolve():
        return ""
    return str(args.submission)


def show_timeline(console: Console, task_id: str, folder: Path) -> None:
    """The timeline of the task's requests, the learner's threads next to the sequential run."""
    from graders.learner.pictures.timeline import record_timeline
    from graders.learner.pictures.timeline_view import render

    with console.status("Drawing the timeline of your requests...", spinner="dots"):
        timeline = record_timeline(task_id, folder)
    console.print()
    console.print(render(timeline, console.width))


def remember_next_up(results: list[TaskResult], state: LearnerState) -> None:
    """Note the task next up in the learner's folder, for `make hint` without TASK=."""
    from graders.learner import terminal

    nxt = terminal.next_task(results)
    state.write("progress", {"next_up": nxt.task if nxt else None})


class submission_folder:
    """The folder to grade: the given one, or a temporary one holding a single given file."""

    def __init__(self, path: str, tasks: list[Task]) -> None:
        self.path = Path(path)
        self.tasks = tasks
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        from graders.engine import intake

        if self.path.is_dir():
            return self.path
        if self.path.is_file() and len(self.tasks) == 1:
            self._tmp = tempfile.TemporaryDirectory(prefix="threadkit-file-")
            # Named after the file's own folder, so messages say e.g. `counter_lock/counter.py`.
            folder = Path(self._tmp.name) / (self.path.resolve().parent.name or "submission")
            folder.mkdir()
            (folder / self.tasks[0].module).write_bytes(intake.read_one(self.path))
            return folder
        raise ValueError(f"{self.path} is not a folder (a single file needs --task)")

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
