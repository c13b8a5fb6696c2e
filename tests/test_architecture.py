"""The tree tells the architecture: each folder imports only what its audience may have.

- kit/ (the check API and instruments) imports no other audience's folder;
- engine/ (the isolated grading process) builds on kit/ only;
- learner/ and every task's visible suite never import instructor/: a learner's release has
  no graders/instructor/ at all (graders/instructor/release.py);
- nothing outside a task imports its hidden checks but the registry's own lookup.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from graders import paths
from graders.tasks import TASKS

GRADERS = paths.GRADERS
MAY_NOT_IMPORT = {
    "kit": ("graders.engine", "graders.learner", "graders.instructor"),
    "engine": ("graders.learner", "graders.instructor"),
    "learner": ("graders.instructor",),
}


def imported_names(path: Path) -> set[str]:
    """Every graders module name a file imports, or names as a string (`-m graders.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("graders.") and " " not in node.value:
                names.add(node.value)
    return {n for n in names if n.startswith("graders")}


def offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{f.relative_to(paths.KIT_ROOT)} imports {name}"
        for f in files
        for name in sorted(imported_names(f))
        if name.startswith(forbidden)
    ]


@pytest.mark.parametrize("folder", sorted(MAY_NOT_IMPORT))
def test_folder_imports_only_what_its_audience_has(folder):
    files = sorted((GRADERS / folder).rglob("*.py"))
    assert files, f"graders/{folder}/ is empty"
    assert offending(files, MAY_NOT_IMPORT[folder]) == []


def test_visible_suites_never_import_instructor_code_or_hidden_checks():
    visible = [t.files().visible for t in TASKS]
    hidden = tuple(f"graders.tasks.{t.id}.hidden" for t in TASKS)
    assert offending(visible, ("graders.instructor", *hidden)) == []


def test_every_task_is_a_folder_with_its_fixtures():
    for task in TASKS:
        files = task.files()
        assert files.visible.is_file() and files.stub.is_file() and files.solution.is_file()
        assert list(files.mutants.glob("*.py")), f"{task.id}: no mutants"


def test_no_module_is_left_at_the_old_flat_places():
    flat = {p.name for p in GRADERS.glob("*.py")}
    assert flat == {"__init__.py", "__main__.py", "cli.py", "paths.py"}
    assert not (GRADERS / "hidden").exists() and not (GRADERS / "commands").exists()
