"""`make gradescope OUT=autograder.zip`: the zip to upload as a Gradescope autograder.

setup.sh and run_autograder at its root (templates/gradescope/), then only what grading needs:
graders/ with the hidden checks, requirements/learner.txt, the Makefile and pyproject.toml
(graders.instructor.gradescope_zip). Prints what it holds.
"""

from __future__ import annotations

import argparse
from collections import Counter

from graders.instructor import gradescope_zip
from graders.paths import BUILD

HELP = "write the Gradescope autograder zip (setup.sh, run_autograder, graders/ with hidden checks)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default=str(BUILD / "autograder.zip"), help="the zip to write (replaced)"
    )


def run(args: argparse.Namespace) -> int:
    built = gradescope_zip.build(args.out)
    folders = Counter(name.split("/")[0] + "/" for name in built.names if "/" in name)
    hidden = sum(1 for name in built.names if name.endswith("/hidden.py"))
    print(f"Wrote {built.path}: {len(built.names)} files, {built.size / 1024:.1f} KiB")
    for name in built.names:
        if "/" not in name:
            print(f"  {name}")
    for folder, count in sorted(folders.items()):
        extra = f", the hidden checks of {hidden} tasks" if folder == "graders/" else ""
        print(f"  {folder} ({count} file{'s' if count != 1 else ''}{extra})")
    print(
        "Upload it as the autograder of a Gradescope programming assignment (base image: "
        "Ubuntu 22.04). Learners submit their exercise modules (e.g. counter.py), as files "
        "or inside a folder."
    )
    return 0
