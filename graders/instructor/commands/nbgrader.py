"""`make nbgrader`: generate the nbgrader course (one notebook per task) from the kit's sources.

The notebooks are built from exercises/ (task text and stub code), fixtures/<id>/solution.py (the
solution regions) and the registry's checks (one autograded test cell per check, worth its
points). With --check nothing is written: the exit code says whether the course folder still
matches the sources.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "generate the nbgrader course (make nbgrader)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="build/nbgrader", help="the course folder to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the course folder differs from what the sources give",
    )


def run(args: argparse.Namespace) -> int:
    from graders.instructor.course import (
        build,  # nbformat is an instructor requirement, not a learner's
    )

    out = Path(args.out)
    if args.check:
        stale = build.stale(out)
        for rel in stale:
            print(f"out of date: {out / rel}")
        if stale:
            print(f"Run `make nbgrader NBGRADER_OUT={out}` to regenerate.")
        return 1 if stale else 0
    for path in build.build(out):
        print(f"wrote {path}")
    print(f"\nNext, in {out}: nbgrader generate_assignment {build.ASSIGNMENT}  (README: nbgrader)")
    return 0
