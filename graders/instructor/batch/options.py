"""The command-line options `make grade` and `make grade-one` share: isolation and limits."""

from __future__ import annotations

import argparse
import os

from graders.engine.sandbox import detect
from graders.instructor.batch.run import RunOptions


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--isolation",
        default="auto",
        choices=("auto", "process", "netns", "bwrap"),
        help="how far each grading process is walled off (default: the strongest that works)",
    )
    parser.add_argument("--task-timeout", type=float, default=60.0, help="seconds per task")
    parser.add_argument(
        "--submission-timeout", type=float, default=300.0, help="seconds for all of a submission"
    )
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space limit per task")
    parser.add_argument("--output-kb", type=int, default=64, help="printed output kept per task")
    parser.add_argument("--seed", type=int, help="one seed for everyone (default: per learner)")


def run_options(args: argparse.Namespace) -> RunOptions:
    """RunOptions from the parsed arguments (ValueError if the isolation asked for fails)."""
    return RunOptions(
        sandbox=detect(args.isolation),
        task_seconds=args.task_timeout,
        submission_seconds=args.submission_timeout,
        memory_bytes=args.memory_mb * 1024**2,
        output_bytes=args.output_kb * 1024,
        seed=args.seed,
    )


def default_jobs() -> int:
    """Two submissions per core: a submission's tasks spend most of their time waiting
    (latencies, latches), and with the zygote a task costs little CPU to start. Measured on
    2 cores, 20 solution copies, process level: 25/min at 2 jobs, 45/min at 4, 50/min at 6
    (where a loaded machine began to fail timing-sensitive checks of correct code)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1)
