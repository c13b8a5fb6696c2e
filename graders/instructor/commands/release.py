"""`make release OUT=dir`: write the learner's handout (instructors only; not in the handout).

The handout holds the stubs, the visible checks and the library they need, the learner's
Makefile, README, .gitignore and GitHub workflow, and the pinned requirements; never a
solution, a hidden check, a mutant or an instructor command (graders.instructor.release says how).
"""

from __future__ import annotations

import argparse

from rich.console import Console

from graders.instructor.release import build

HELP = "write the learner's handout into a folder (make release OUT=dir)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="new, empty, or an earlier release")


def run(args: argparse.Namespace) -> int:
    files = build(args.out)
    console = Console(highlight=False)
    console.print(f"Wrote {len(files)} files to [bold]{args.out}[/]. To hand it out:")
    console.print(f"  cd {args.out} && git init && git add -A && git commit -m 'Exercises'")
    console.print("  (push it as a GitHub Classroom template; its workflow runs `make check`)")
    return 0
