"""`make mutate [TASK=id]`: mutation testing of the checks (instructors and maintainers).

Mutates every reference solution (fixtures/<id>/solution.py) and alternative solution
(fixtures/<id>/alternatives/) with threading-aware operators, grades each mutant in its own
isolated process with a fixed seed, and prints an operator x task table of generated /
killed / survived / equivalent mutants and the mutation score. Every survivor must either be
killed by a new check or be listed in fixtures/mutation/equivalent.txt with a reason.
Exit 0 when no survivor is unlisted; 1 otherwise; 2 when a solution itself fails its checks.
Results: build/mutation.json. `--list` shows the mutants without grading, `--show ID` one's diff.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from graders.instructor.mutation.equivalent import EQUIVALENT_FILE, read_equivalent, stale
from graders.instructor.mutation.generate import (
    KIT_ROOT,
    Mutant,
    SolutionFile,
    all_mutants,
    diff,
    find_mutant,
    solution_files,
)
from graders.instructor.mutation.grade import Graded, Job, grade_all
from graders.instructor.mutation.report import Verdict, table, to_json, verdicts, write_json

HELP = "mutation testing of the checks: mutate the solutions, grade every mutant"
DEFAULT_SEED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="one task id (default: every task)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants graded at once (default 2)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the checks' seed")
    parser.add_argument("--list", action="store_true", help="print the mutants, do not grade")
    parser.add_argument("--show", metavar="ID", help="print the diff of one mutant")
    parser.add_argument(
        "--out", type=Path, default=KIT_ROOT / "build" / "mutation.json", help="the JSON results"
    )
    parser.add_argument(
        "--equivalent", type=Path, default=EQUIVALENT_FILE, help="the list of equivalent mutants"
    )


def run(args: argparse.Namespace) -> int:
    if args.show:
        print(diff(find_mutant(args.show)), end="")
        return 0
    mutants = all_mutants(args.task)
    if args.list:
        for mutant in mutants:
            print(f"{mutant.id}  line {mutant.line}")
        print(f"{len(mutants)} mutants")
        return 0
    return _grade(args, solution_files(args.task), mutants)


def _grade(args: argparse.Namespace, solutions: list[SolutionFile], mutants: list[Mutant]) -> int:
    listed = read_equivalent(args.equivalent)
    start = time.monotonic()
    broken = _broken_solutions(solutions, args)
    if broken:
        for graded in broken:
            print(f"{graded.key} fails its own checks: {', '.join(graded.failed)}", file=sys.stderr)
        print("fix the solutions first: every mutant of a failing one looks killed")
        return 2
    print(f"grading {len(mutants)} mutants, {args.jobs} at a time, seed {args.seed}")
    progress = _Progress(len(mutants), listed)
    jobs = [Job(m.id, m.task, m.source) for m in mutants]
    found = verdicts(mutants, grade_all(jobs, args.seed, args.jobs, progress), listed)
    tasks = list(dict.fromkeys(s.task.id for s in solutions))
    gone = stale(listed, {m.id for m in mutants}, set(tasks))
    write_json(args.out, to_json(found, args.seed, gone, tasks))
    print(table(found, tasks))
    _print_findings(found, gone, listed)
    print(f"{time.monotonic() - start:.0f} s; results in {args.out}")
    return 1 if any(v.status == "survived" for v in found) else 0


def _broken_solutions(solutions: list[SolutionFile], args: argparse.Namespace) -> list[Graded]:
    """The solutions (as unparsed, the way mutants are written) that fail a check."""
    jobs = [Job(str(s.path.relative_to(KIT_ROOT)), s.task.id, s.original()) for s in solutions]
    results = grade_all(jobs, args.seed, args.jobs)
    return [g for g in results.values() if g.killed]


def _print_findings(found: list[Verdict], gone: list[str], listed: dict[str, str]) -> None:
    survivors = [v for v in found if v.status == "survived"]
    if survivors:
        print(f"\n{len(survivors)} survivors: add a check, or list them in equivalent.txt")
        for v in survivors:
            print(f"  {v.mutant.id}  (line {v.mutant.line})")
    wrong = [v for v in found if v.listed and v.status == "killed"]
    if wrong:
        print("\nlisted as equivalent but killed (remove the entry):")
        for v in wrong:
            print(f"  {v.mutant.id}  by {', '.join(v.graded.failed)}")
    if gone:
        print("\nstale entries in equivalent.txt (no such mutant any more):")
        for mutant_id in gone:
            print(f"  {mutant_id}  {listed[mutant_id]}")


class _Progress:
    """A line every tenth of the way, and one for each survivor as it is found."""

    def __init__(self, total: int, listed: dict[str, str]) -> None:
        self.total = total
        self.listed = listed
        self.count = 0
        self.step = max(1, total // 10)

    def __call__(self, graded: Graded) -> None:
        self.count += 1
        if not graded.killed:
            note = " (listed as equivalent)" if graded.key in self.listed else ""
            print(f"  survived: {graded.key}{note}", flush=True)
        if self.count % self.step == 0 or self.count == self.total:
            print(f"  [{self.count}/{self.total}]", flush=True)
