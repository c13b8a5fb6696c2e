"""`make grade-one SUBMISSION=dir OUT=dir`: grade one submission, for CI and Gradescope.

Writes OUT/results.json (Gradescope's format: run_autograder passes OUT=/autograder/results)
and OUT/feedback.md, appends the feedback to --summary (a CI job summary) and prints the
score. Exit 0 when the submission was graded (below --fail-under percent: 1).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rich.console import Console

from graders.engine import zygote
from graders.instructor.batch import gradescope, markdown
from graders.instructor.batch.isolate import prepare
from graders.instructor.batch.load import Submission, learner_id
from graders.instructor.batch.options import add_run_arguments, default_jobs, run_options
from graders.instructor.batch.report import atomic_write
from graders.instructor.batch.run import run_submission
from graders.instructor.batch.score import score
from graders.instructor.batch.summary import grades_table

HELP = "grade one submission into OUT/results.json + feedback.md (CI, Gradescope)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submission", required=True, help="a folder like exercises/, or a .zip")
    parser.add_argument("--out", required=True, help="where results.json and feedback.md go")
    parser.add_argument("--learner", help="the learner id to record (default: the folder name)")
    parser.add_argument("--summary", help="append the feedback (Markdown) to this file")
    parser.add_argument(
        "--fail-under", type=float, default=0.0, help="exit 1 below this percentage of points"
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    source = Path(args.submission)
    if not (source.is_dir() or source.suffix.lower() == ".zip" and source.is_file()):
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    options = run_options(args)
    zygote.warm_up(options.sandbox.level)  # imports while the submission is prepared
    console = Console(highlight=False, stderr=False)
    console.print(f"Isolation: {options.sandbox.describe()}")
    learner = learner_id(args.learner or source.resolve().stem)
    with tempfile.TemporaryDirectory(prefix="threadkit-one-") as tmp:
        prepared = prepare(Submission(learner, source), Path(tmp) / learner)
        with console.status(f"Grading {learner}..."):
            seed, runs = run_submission(prepared, options, tasks_at_once=default_jobs())
        grade = score(prepared, seed, runs)
    out = Path(args.out)
    results = gradescope.results(grade)
    atomic_write(out / "results.json", json.dumps(results, indent=2) + "\n")
    feedback = markdown.feedback(grade)
    atomic_write(out / "feedback.md", feedback)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as summary:
            summary.write(feedback)
    console.print(grades_table([grade]))
    console.print(f"Score: {grade.total}/{grade.max_total}. Files: {out}/results.json, feedback.md")
    percent = 100.0 * grade.total / grade.max_total if grade.max_total else 100.0
    return 1 if percent < args.fail_under else 0
