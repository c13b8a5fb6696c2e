"""Command line: `python -m graders COMMAND ...`, what the Makefile's targets run.

Each command lives in graders/commands/<name>.py with HELP, add_arguments(parser) and
run(args) -> exit code; this module only lists them and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("check",)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name in COMMANDS:
        module = importlib.import_module(f"graders.commands.{name.replace('-', '_')}")
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
        modules[name] = module
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except ValueError as exc:  # an unknown task id, a missing folder: the caller's mistake
        parser.error(str(exc))
    return 2


if __name__ == "__main__":
    sys.exit(main())
