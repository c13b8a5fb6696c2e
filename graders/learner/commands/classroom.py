"""`python -m graders classroom --task ID`: one task's points for GitHub Classroom.

Runs the task's visible checks exactly as `make check TASK=ID` does (one isolated grading
process), prints the verdict for the workflow's log, then prints the base64 result line that
classroom-resources/autograding-grading-reporter reads (graders.learner.classroom) and writes
`result=<it>` to $GITHUB_OUTPUT (or --output), so the step can be one of the reporter's
`runners`. Exit 0 whenever the task was checked: the reporter turns failures into a red run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders.engine.isolated import run_isolated
from graders.engine.runner import new_seed
from graders.learner import classroom
from graders.learner.commands.check import DEFAULT_SUBMISSION
from graders.tasks import get_task

HELP = "check one task and write its points for GitHub Classroom's reporter ($GITHUB_OUTPUT)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="the task id")
    parser.add_argument(
        "--submission", default=str(DEFAULT_SUBMISSION), help="a folder laid out like exercises/"
    )
    parser.add_argument("--seed", type=int, help="replay a forced-interleaving run")
    parser.add_argument(
        "--output", help="append `result=...` to this file (default: $GITHUB_OUTPUT, if set)"
    )


def run(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    folder = Path(args.submission)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder laid out like exercises/")
    seed = args.seed if args.seed is not None else new_seed()
    isolated = run_isolated(task.id, folder, seed=seed)
    data = classroom.result(isolated, task, folder.resolve().name or "submission")
    _log(data, task.id, seed)
    line = classroom.encode(data)
    print(line)
    output = args.output or os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as out:
            out.write(f"result={line}\n")
    return 0


def _log(data: dict[str, object], task_id: str, seed: int) -> None:
    """The verdict in words, on stderr (the step's log), before the machine-readable line."""
    tests = data["tests"]
    assert isinstance(tests, list)
    points = sum(t["score"] for t in tests)
    err = sys.stderr
    print(
        f"{task_id}: {points}/{data['max_score']} points ({data['status']}, seed {seed})", file=err
    )
    for test in tests:
        mark = "✓" if test["status"] == "pass" else "✗"
        print(f"  {mark} {test['name']} ({test['score']})", file=err)
        if test["message"]:
            print("    " + str(test["message"]).replace("\n", "\n    "), file=err)
