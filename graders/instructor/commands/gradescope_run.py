"""`python -m graders gradescope-run`: what Gradescope's run_autograder runs for a submission.

Grades the submission (hidden checks included) into RESULTS/results.json, rewritten after every
task, with the learner's code run as --user (graders.instructor.autograder). Exit 0 whenever
results.json was written, whatever the score.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from graders.instructor.as_user import for_user
from graders.instructor.autograder import Autograder, grade_submission, submission_id
from graders.instructor.batch.options import add_run_arguments, run_options

HELP = "grade one submission into RESULTS/results.json for Gradescope (run_autograder)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submission", required=True, help="the learner's files (a folder)")
    parser.add_argument("--results", required=True, help="where results.json goes")
    parser.add_argument("--metadata", help="Gradescope's submission_metadata.json (its id)")
    parser.add_argument(
        "--user",
        default="",
        help="run the learner's code as this user (needs root; default: this process's user)",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    source = Path(args.submission)
    if not source.is_dir():
        raise ValueError(f"{source} is not a folder")
    sandbox, who = for_user(args.user, args.isolation)
    options = dataclasses.replace(run_options(args), sandbox=sandbox)
    print(f"Isolation: {sandbox.describe()}")
    print(f"User: {who}")
    notes: dict[str, object] = {"isolation": sandbox.level, "learner_code_runs_as": who}
    autograder = Autograder(Path(args.results), options, notes)
    learner = submission_id(Path(args.metadata) if args.metadata else None)
    with tempfile.TemporaryDirectory(prefix="threadkit-autograder-") as tmp:
        grade = grade_submission(source, Path(tmp) / "submission", autograder, learner)
    print(f"Score: {grade.total}/{grade.max_total} (seed {grade.seed})")
    return 0
