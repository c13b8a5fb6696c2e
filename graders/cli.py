"""Command line: `python -m graders COMMAND ...`, what the Makefile's targets run.

Each command lives in graders/<audience>/commands/<name>.py with HELP, add_arguments(parser)
and run(args) -> exit code; this module only lists them and dispatches. A learner's release
has no graders/instructor/, so only the learner's commands show there. Only the module of the
command that runs is imported, and it imports its heavy dependencies inside run(): `check
--help` costs a bare interpreter and argparse, not rich, requests and the engine.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

LEARNER_COMMANDS = ("check", "hint", "watch", "timeline", "demo", "classroom")
INSTRUCTOR_COMMANDS = (
    "release",
    "nbgrader",
    "grade",
    "grade-one",
    "requirements",
    "solutions",
    "mutate",
    "gradescope",
    "gradescope-run",
    "bench",
)
COMMANDS = {
    **{name: "learner" for name in LEARNER_COMMANDS},
    **{name: "instructor" for name in INSTRUCTOR_COMMANDS},
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m graders", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = _modules(_wanted(argv)) or _modules(tuple(COMMANDS))
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except ValueError as exc:  # an unknown task id, a missing folder: the caller's mistake
        parser.error(str(exc))
    return 2


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once a command is done, without the interpreter's teardown
    of every module it imported (rich, requests, the kit): about 0.08 s at the end of every
    `make check`. The atexit handlers still run (the zygote's close) and the output is flushed
    first. Where a thread that is not a daemon still runs, the usual exit waits for it."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(not t.daemon for t in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`), a closed stream
            pass
    os._exit(code)


def _wanted(argv: Sequence[str]) -> tuple[str, ...]:
    """The commands whose modules must be imported: only the one named first in `argv`.

    A command's module imports what it needs (rich, requests, the engine) only when it runs,
    and the others are not imported at all, so `check --help` or `hint` start in a fraction of
    the time. Without a known command (`--help`, a typo) every command is listed, as before.
    """
    if argv and argv[0] in COMMANDS:
        return (argv[0],)
    return tuple(COMMANDS)


def _modules(names: tuple[str, ...]) -> dict[str, ModuleType]:
    """The installed ones of these commands' modules, by command name."""
    found = {name: _command_module(name) for name in names}
    return {name: module for name, module in found.items() if module is not None}


def _command_module(name: str) -> ModuleType | None:
    """The command's module; None if it is not installed (a learner's release ships only the
    learner's commands)."""
    module_name = f"graders.{COMMANDS[name]}.commands.{name.replace('-', '_')}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            return None  # the command, or its whole audience's folder, is not installed
        raise


if __name__ == "__main__":
    sys.exit(main())
