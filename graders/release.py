"""The learner's handout: which files of the kit a release holds, and writing it.

Built from an allow-list, never by deleting from a copy of the kit: a new instructor file
(a hidden suite, a solution, a batch grader) stays out unless someone adds it here on
purpose. What goes in:

- the stubs: `exercises/<module>` of every task in the registry;
- the learner's commands (LEARNER_COMMANDS), each task's visible suite, and every graders
  module those import, followed statically (`import graders.x`, `from graders import x`,
  and a string that is a module name, as in `python -m graders.worker`);
- templates/learner/ (Makefile, README, .gitignore, the GitHub workflow) at the top;
- SHIPPED: the pinned requirements and the pictures the learner's README shows.

A module under graders/hidden/ can never be shipped: `release_files` refuses it, whatever
imports it.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from graders.registry import TASKS

KIT_ROOT = Path(__file__).resolve().parent.parent
LEARNER_COMMANDS = ("check", "hint", "watch", "timeline", "demo")
TEMPLATE = Path("templates/learner")
SHIPPED = (
    "requirements/learner.txt",
    "requirements/timeline.txt",
    "docs/timeline-downloader.png",
)
MARKER = ".threadkit-release"  # written into every release; lets a rebuild replace it
FORBIDDEN = ("graders/hidden/", "fixtures/", "tests/", "templates/")
_MODULE_NAME = re.compile(r"^graders(\.[a-z_][a-z0-9_]*)+$")


def roots() -> list[str]:
    """The graders modules a learner runs directly: the CLI, their commands, visible suites."""
    found = ["graders/__init__.py", "graders/__main__.py", "graders/cli.py", "graders/notebook.py"]
    found += ["graders/commands/__init__.py", "graders/tasks/__init__.py"]
    found += [f"graders/commands/{name}.py" for name in LEARNER_COMMANDS]
    found += [f"graders/tasks/{task.id}.py" for task in TASKS]
    return found


def module_closure(start: Iterable[str], root: Path = KIT_ROOT) -> set[str]:
    """`start` and every graders module they import, transitively (paths relative to root)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        todo.extend(_imported(root / rel, root))
    return seen


def _imported(path: Path, root: Path) -> Iterator[str]:
    """The graders modules one file imports, as paths (packages as their __init__.py)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if _MODULE_NAME.match(node.value) else []  # `-m graders.worker`
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "graders" or name.startswith("graders."):
                yield from _module_files(name, root)


def _module_files(name: str, root: Path) -> Iterator[str]:
    """The file of a dotted graders name and its packages' __init__.py, where they exist."""
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        base = "/".join(parts[:depth])
        for candidate in (f"{base}/__init__.py", f"{base}.py"):
            if (root / candidate).is_file():
                yield candidate


def release_files(root: Path = KIT_ROOT) -> dict[str, Path]:
    """Every file of the release: its path in the release -> its source in the kit."""
    files: dict[str, Path] = {}
    for task in TASKS:
        files[f"exercises/{task.module}"] = root / "exercises" / task.module
    for rel in sorted(module_closure(roots(), root)):
        files[rel] = root / rel
    template = root / TEMPLATE
    for path in sorted(template.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(template).as_posix()] = path
    for rel in SHIPPED:
        files[rel] = root / rel
    leaked = sorted(rel for rel, src in files.items() if _forbidden(src, root))
    if leaked:
        raise ValueError(f"instructor-only files would be released: {', '.join(leaked)}")
    return files


def _forbidden(source: Path, root: Path) -> bool:
    rel = source.resolve().relative_to(root.resolve()).as_posix()
    return rel.startswith(FORBIDDEN) and not rel.startswith(TEMPLATE.as_posix() + "/")


def build(out: str | Path, root: Path = KIT_ROOT) -> list[str]:
    """Write the release into `out` (new, empty, or an earlier release); the files written."""
    out = Path(out)
    files = release_files(root)
    _clear(out)
    for rel, source in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (out / MARKER).write_text("Written by `make release`; a new release replaces this folder.\n")
    return sorted(files)


def _clear(out: Path) -> None:
    """Make `out` an empty folder, refusing to touch one that is not an earlier release."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ValueError(f"{out} is not empty and is not an earlier release: not touching it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
