"""The command-line options `make grade` and `make grade-one` share: isolation and limits.

An option left out is not given a value here: RunOptions' own default applies, which is the
engine's (graders.engine.process.DEFAULT_LIMITS), so every default is resolved in one place and
the help only quotes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

from graders.engine.sandbox import detect
from graders.instructor.batch.run import RunOptions
from graders.kit.import_budget import setting

MIB, KIB = 1024**2, 1024
DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunOptions)}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--isolation",
        default="auto",
        choices=("auto", "process", "netns", "bwrap"),
        help="how far each grading process is walled off (default: the strongest that works)",
    )
    parser.add_argument(
        "--task-timeout", type=float, help=f"seconds per task (default {_default('task_seconds')})"
    )
    parser.add_argument(
        "--submission-timeout",
        type=float,
        help=f"seconds for all of a submission (default {_default('submission_seconds')})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        help=f"address-space limit per task (default {_default('memory_bytes', MIB)})",
    )
    parser.add_argument(
        "--output-kb",
        type=int,
        help=f"printed output kept per task (default {_default('output_bytes', KIB)})",
    )
    parser.add_argument(
        "--import-seconds",
        type=float,
        help="seconds each import of a learner's module may take, per task "
        "(default: $THREADKIT_IMPORT_SECONDS, else 5; 0: no limit)",
    )
    parser.add_argument("--seed", type=int, help="one seed for everyone (default: per learner)")


def run_options(args: argparse.Namespace) -> RunOptions:
    """RunOptions from the parsed arguments (ValueError if the isolation asked for fails)."""
    given = {
        "task_seconds": args.task_timeout,
        "submission_seconds": args.submission_timeout,
        "memory_bytes": None if args.memory_mb is None else args.memory_mb * MIB,
        "output_bytes": None if args.output_kb is None else args.output_kb * KIB,
        "seed": args.seed,
        "import_seconds": setting() if args.import_seconds is None else args.import_seconds,
    }
    chosen = {name: value for name, value in given.items() if value is not None}
    return RunOptions(sandbox=detect(args.isolation), **chosen)


def _default(name: str, unit: int = 1) -> str:
    """RunOptions' default for `name`, in the option's unit, as the help shows it."""
    return f"{DEFAULTS[name] / unit:g}"


def default_jobs() -> int:
    """Eight submissions per core (grade), or eight tasks per core (grade-one): a task spends
    most of its time waiting (latencies, latches), and forked from a zygote it costs little
    CPU to start. Measured on 2 cores at bwrap, one zygote per submission, 100 solution
    copies and 100 one-mutant submissions: 71.5 and 69.8 a minute with 8 jobs, 78.6 and 81.8
    with 16, 76.6 and 78.8 with 24 (the cores are full by then); with 16 while two other
    processes kept both cores busy, 77.2 and 67.5 a minute, every verdict right. Earlier,
    40 solution copies: 37.9 a minute with 4 jobs, 56.4 with 8. grade-one: 1.75 s with 4
    tasks at once, 1.61 s with 8."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 8 * (cores or 1)
