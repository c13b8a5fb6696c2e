"""Command line: `python -m graders COMMAND ...`, what the Makefile's targets run.

Each command lives in graders/commands/<name>.py with HELP, add_arguments(parser) and
run(args) -> exit code; this module only lists them and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

COMMANDS = (
    "check",
    "hint",
    "watch",
    "timeline",
    "demo",
    "release",
    "nbgrader",
    "grade",
    "grade-one",
    "requirements",
    "mutate",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name in COMMANDS:
        module = _command_module(name)
        if module is None:
            continue
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
        modules[name] = module
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except ValueError as exc:  # an unknown task id, a missing folder: the caller's mistake
        parser.error(str(exc))
    return 2


def _command_module(name: str) -> ModuleType | None:
    """The command's module; None if it is not installed (a learner's release ships only the
    learner's commands)."""
    module_name = f"graders.commands.{name.replace('-', '_')}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


if __name__ == "__main__":
    sys.exit(main())
