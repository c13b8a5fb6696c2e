"""Print every task's numbered requirements with the checks and mutants that prove them.

The table the kit's own tests enforce (tests/test_requirements.py), for instructors and
reviewers: for each requirement of a task's text, which checks enforce it and how many
mutants break only it.
"""

from __future__ import annotations

import argparse

from graders.instructor.mutants import all_mutants
from graders.tasks import TASKS, get_task

HELP = "list each task's requirements with their checks and mutants"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="one task id (default: every task)")


def run(args: argparse.Namespace) -> int:
    tasks = [get_task(args.task)] if args.task else list(TASKS)
    mutants = all_mutants()
    for task in tasks:
        checks = task.checks(hidden=True)
        mine = [m for m in mutants if m.task == task]
        print(f"\n## {task.id}\n")
        print("| req | requirement | checks | mutants (only it) |")
        print("| --- | --- | --- | --- |")
        for rid, text in task.requirements().items():
            names = [
                c.name + (" (hidden)" if c.hidden else "") for c in checks if rid in c.requires
            ]
            only = sum(1 for m in mine if m.violates == {rid})
            print(f"| {rid} | {text} | {', '.join(names) or '-'} | {only} |")
    return 0
