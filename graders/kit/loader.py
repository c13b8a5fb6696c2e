"""Importing a learner's module, fresh every time, with failures a learner can read.

Each call executes the file again under a private module name, so one check's global state
(a counter left at 50000, a patched function) never leaks into the next. A missing file, a
syntax error or an exception at import time becomes a `CheckFailed` that points at the line.
In the grading process every import runs within the task's import budget
(graders.kit.import_budget): top-level code that never ends fails the check in seconds.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from graders.kit.feedback import (
    CheckFailed,
    Location,
    describe_exception,
    display_path,
)
from graders.kit.import_budget import ImportOverrun
from graders.kit.thread_watch import CheckTimeout

if TYPE_CHECKING:
    from graders.kit.import_budget import ImportBudget

_serial = itertools.count()


def load_module(path: str | Path, budget: ImportBudget | None = None) -> ModuleType:
    """Execute the learner's file as a new module and return it: within `budget` (in a
    thread of its own, ImportOverrun when it runs out), or here, unbounded, without one."""
    path = Path(path).resolve()
    if not path.is_file():
        raise CheckFailed(
            f"{display_path(path)} is missing",
            expected=f"a file named {path.name}",
            hint="Keep the file name from exercises/ and save your work in it.",
        )
    name = f"_threadkit_submission_{path.stem}_{next(_serial)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    loader = spec.loader
    try:
        if budget is None:
            loader.exec_module(module)
        else:
            budget.execute(lambda: loader.exec_module(module))
    except (ImportOverrun, CheckTimeout):  # the budget's, or the check's time limit's
        raise
    except SyntaxError as exc:
        raise _syntax_failure(path, exc) from None
    except SystemExit as exc:
        raise CheckFailed(
            f"{display_path(path)} called exit() while being imported",
            got=f"SystemExit({exc.code!r})",
            hint="Do not call sys.exit() or exit() in your module; just define the functions.",
            kind="crash",
        ) from None
    except Exception as exc:  # the learner's import-time code failed
        raise describe_exception(exc, [str(path)], f"Importing {display_path(path)}") from None
    finally:
        _remove_first(sys.path, str(path.parent))
    return module


def _syntax_failure(path: Path, exc: SyntaxError) -> CheckFailed:
    line = exc.lineno or 0
    return CheckFailed(
        f"{display_path(path)} has a syntax error, so none of it could run",
        got=f"SyntaxError: {exc.msg}",
        where="" if line else display_path(path),
        location=Location.of(path, line) if line else None,
        hint="Python stops at the first syntax error: look at that line and the one before it.",
        kind="crash",
    )


def _remove_first(items: list[str], value: str) -> None:
    try:
        items.remove(value)
    except ValueError:
        pass
