"""Write the reference solutions into a folder laid out like exercises/ (a submission)."""

from __future__ import annotations

import argparse

from graders.instructor.solutions import assemble

HELP = "write the reference solutions as one submission folder (default build/solutions)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="build/solutions", help="the folder to write")


def run(args: argparse.Namespace) -> int:
    print(assemble(args.out))
    return 0
