"""`make grade SUBMISSIONS=dir OUT=dir`: grade every learner's submission, hidden checks included.

Every sub-folder (or .zip) of SUBMISSIONS is one learner's submission, named by learner id. Each
task of each submission runs in its own guarded, time-boxed process (graders.instructor.batch says
how);
the grades land in OUT (grades.csv, grades.json, and per learner results.json for Gradescope
and feedback.md). A rerun grades only what is missing. Exit 0 when every submission was
graded, whatever the scores; 1 when the grader failed on some; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

from rich.console import Console

from graders.engine import zygote
from graders.instructor.batch.options import add_run_arguments, default_jobs, run_options
from graders.instructor.batch.pipeline import BatchOptions, grade_batch, submissions_in
from graders.instructor.batch.summary import grades_table, progress_bar

HELP = "grade a folder of submissions (instructors: make grade SUBMISSIONS=dir OUT=dir)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submissions", required=True, help="one sub-folder or .zip per learner")
    parser.add_argument("--out", required=True, help="where the grade files go")
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="submissions graded at once (default: eight per core)",
    )
    parser.add_argument("--regrade", action="store_true", help="grade everyone again")
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    submissions, out = Path(args.submissions), Path(args.out)
    total = len(submissions_in(submissions, out))
    options = BatchOptions(run_options(args), jobs=args.jobs, regrade=args.regrade)
    zygote.warm_up(options.run.sandbox.level)  # imports while the submissions are read
    console.print(f"Isolation: {options.run.sandbox.describe()}")
    console.print(f"{total} submissions in {submissions}, {options.jobs} at a time, into {out}")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    start = time.monotonic()
    try:
        with progress_bar(console, total) as advance:
            outcome = grade_batch(submissions, out, options, advance)
    finally:
        signal.signal(signal.SIGTERM, previous)
    seconds = time.monotonic() - start
    console.print(grades_table(outcome.grades))
    graded = len(outcome.grades) - len(outcome.resumed)
    rate = graded / seconds * 60 if seconds > 0 else 0.0
    console.print(
        f"Graded {graded}, kept {len(outcome.resumed)} from earlier runs, in {seconds:.1f} s "
        f"({rate:.1f} submissions/min). Grades: {out / 'grades.csv'}"
    )
    for learner, error in outcome.failed.items():
        console.print(f"[red]Grader failure on {learner}: {error}[/]")
    if outcome.interrupted:
        console.print("[yellow]Interrupted: run the same command again to grade the rest.[/]")
        return 130
    return 1 if outcome.failed else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
