"""The learner's handout: which files of the kit a release holds, and writing it.

Built from an allow-list, never by deleting from a copy of the kit: a new instructor file
stays out unless it is put in a learner's folder on purpose. The tree says who a file is for,
so the list follows it:

- the stubs: every task's `files().stub`;
- graders/'s entry modules and the three folders learners run: kit/ (the check API and
  instruments), engine/ (the isolated grading process) and learner/ (their commands);
- the registry and every task's visible suite (`files().visible`), never `files().hidden`;
- templates/learner/ (Makefile, README, .gitignore, the GitHub workflow) at the top;
- SHIPPED: the pinned requirements and the pictures the learner's README shows.

graders/instructor/, hidden checks, fixtures/ and tests/ can never be shipped: `release_files`
refuses them, whatever the lists say (tests/test_architecture.py also proves that nothing a
learner gets imports graders.instructor).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from graders.paths import KIT_ROOT
from graders.tasks import TASKS

TEMPLATE = Path("templates/learner")
SHIPPED = (
    "requirements/learner.txt",
    "requirements/timeline.txt",
    "docs/timeline-downloader.png",
)
MARKER = ".threadkit-release"  # written into every release; lets a rebuild replace it
ENTRY = ("graders/__init__.py", "graders/__main__.py", "graders/cli.py", "graders/paths.py")
LEARNER_PACKAGES = ("graders/kit", "graders/engine", "graders/learner")
FORBIDDEN = ("graders/instructor/", "fixtures/", "tests/", "templates/")


def learner_modules(root: Path = KIT_ROOT) -> list[str]:
    """The graders files a learner gets, relative to root."""
    found = list(ENTRY) + ["graders/tasks/__init__.py"]
    for package in LEARNER_PACKAGES:
        found += [p.relative_to(root).as_posix() for p in sorted((root / package).rglob("*.py"))]
    found += [task.files().visible.relative_to(KIT_ROOT).as_posix() for task in TASKS]
    return found


def release_files(root: Path = KIT_ROOT) -> dict[str, Path]:
    """Every file of the release: its path in the release -> its source in the kit."""
    files: dict[str, Path] = {}
    for task in TASKS:
        files[f"exercises/{task.module}"] = root / "exercises" / task.module
    for rel in learner_modules(root):
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
    hidden = {t.files().hidden.relative_to(KIT_ROOT).as_posix() for t in TASKS}
    if rel in hidden:
        return True
    return rel.startswith(FORBIDDEN) and not rel.startswith(TEMPLATE.as_posix() + "/")


WORKFLOW = ".github/workflows/check.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


def classroom_steps() -> str:
    """The workflow's steps for GitHub Classroom: one runner per task in the registry (its
    `result` output is what the grading reporter reads), then the reporter, which sums them
    into the points Classroom shows. Generated, so a new task needs no edit here."""
    lines = []
    for task in TASKS:
        lines += [
            f'      - name: "{task.id}: {task.title}"',
            f"        id: {task.id}",
            f"        run: .venv/bin/python -m graders classroom --task {task.id}",
        ]
    lines += ["      - name: Points", f"        uses: {REPORTER}", "        env:"]
    lines += [
        f'          {t.id.upper()}_RESULTS: "${{{{ steps.{t.id}.outputs.result }}}}"' for t in TASKS
    ]
    lines += ["        with:", f"          runners: {','.join(t.id for t in TASKS)}"]
    return "\n".join(lines) + "\n"


def task_table() -> str:
    """The learner README's table of tasks, in workshop order, from the registry (so a new
    task needs no edit of the README either)."""
    lines = ["| task | file | what it teaches |", "| --- | --- | --- |"]
    lines += [f"| `{t.id}` | `exercises/{t.module}` | {t.title} |" for t in TASKS]
    return "\n".join(lines) + "\n"


def _fill(template: str, marker: str, region: str) -> str:
    """`template` with the lines from `marker`'s BEGIN line to its END line replaced."""
    begin = template.index(f"BEGIN {marker}")
    begin = template.rindex("\n", 0, begin) + 1
    end = template.index("\n", template.index(f"END {marker}")) + 1
    return template[:begin] + region + template[end:]


def render_workflow(template: str) -> str:
    """The handout's workflow: the template with its task-steps region filled in."""
    return _fill(template, "task steps", classroom_steps())


def render_readme(template: str) -> str:
    """The handout's README: the template with its task table filled in."""
    return _fill(template, "task table", task_table())


RENDERED = {WORKFLOW: render_workflow, "README.md": render_readme}


def build(out: str | Path, root: Path = KIT_ROOT) -> list[str]:
    """Write the release into `out` (new, empty, or an earlier release); the files written."""
    out = Path(out)
    files = release_files(root)
    _clear(out)
    for rel, source in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in RENDERED:
            target.write_text(RENDERED[rel](source.read_text(encoding="utf-8")))
        else:
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
