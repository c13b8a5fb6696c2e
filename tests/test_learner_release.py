"""`make release`: the learner's handout holds what a learner needs and nothing an instructor keeps.

Leaks are looked for by content, over the whole release: the lines only a reference solution
has (not the stubs), and the lines only a hidden suite has (not the visible ones). The same
detector is shown to find them where they are, so a silent detector cannot pass. Then the
release's own checks run: they fail on the stubs and pass once the solutions are copied in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from graders.instructor.release import MARKER, build
from graders.tasks import TASKS
from tests.helpers import EXERCISES, ROOT, SOLUTIONS
from tests.learner_cli import graders

# Its module-scoped fixture is built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("learner_release")

HIDDEN_FILES = sorted(t.files().hidden for t in TASKS if t.files().hidden.exists())
VISIBLE_FILES = sorted(t.files().visible for t in TASKS)
TEMPLATE_TARGETS = {"help", "check", "hint", "watch", "timeline", "demo", "clean"}


def code_lines(text: str) -> list[str]:
    """Stripped non-blank lines, trailing comments dropped."""
    lines = (line.split("  #")[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def secrets_of(sources: Iterable[Path], known: Iterable[Path]) -> tuple[set, set]:
    """What marks a leak of `sources`: pairs of adjacent lines that no `known` file has, and
    long single lines (40+ characters) that no `known` file has."""
    given = {line for path in known for line in code_lines(path.read_text())}
    pairs, long_lines = set(), set()
    for path in sources:
        own = [line if line not in given else None for line in code_lines(path.read_text())]
        pairs |= {(a, b) for a, b in zip(own, own[1:]) if a and b}
        long_lines |= {line for line in own if line and len(line) >= 40}
    return pairs, long_lines


def leaks(folder: Path, secrets: tuple[set, set]) -> dict[str, list]:
    """Files of `folder` holding a secret pair of lines or a secret long line."""
    pairs, long_lines = secrets
    found = {}
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix == ".png":
            continue
        lines = code_lines(path.read_text(encoding="utf-8", errors="replace"))
        hits = sorted((pairs & set(zip(lines, lines[1:]))) | (long_lines & set(lines)), key=str)
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


SOLUTION_SECRETS = secrets_of(sorted(SOLUTIONS.glob("*.py")), sorted(EXERCISES.glob("*.py")))
HIDDEN_SECRETS = secrets_of(HIDDEN_FILES, VISIBLE_FILES)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "threads-exercises"
    build(out)
    return out


def files_of(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_release_holds_the_learners_files_only(release: Path):
    files = files_of(release)
    for must in ("Makefile", "README.md", ".gitignore", ".github/workflows/check.yml"):
        assert must in files
    assert {f"exercises/{t.module}" for t in TASKS} <= files
    assert {f"graders/tasks/{t.id}/__init__.py" for t in TASKS} <= files
    assert not {f"graders/tasks/{t.id}/hidden.py" for t in TASKS} & files
    assert {"requirements/learner.txt", "requirements/timeline.txt"} <= files
    assert "requirements/instructor.txt" not in files
    forbidden = re.compile(r"^(graders/instructor/|fixtures/|tests/|templates/)")
    assert not [f for f in files if forbidden.match(f)]
    for path in (release / "exercises").iterdir():
        assert path.read_text() == (EXERCISES / path.name).read_text()  # the stubs, untouched


def test_the_readme_lists_every_task_of_the_registry_in_order(release: Path):
    readme = (release / "README.md").read_text()
    assert "BEGIN task table" not in readme
    rows = re.findall(r"^\| `(\w+)` \| `exercises/", readme, flags=re.M)
    assert rows == [t.id for t in TASKS]


def test_the_detector_finds_solutions_and_hidden_checks_where_they_are():
    assert set(leaks(SOLUTIONS, SOLUTION_SECRETS)) >= {t.module for t in TASKS}
    assert leaks(ROOT / "graders" / "tasks", HIDDEN_SECRETS)
    assert not leaks(EXERCISES, SOLUTION_SECRETS)


def test_no_solution_and_no_hidden_check_text_in_the_release(release: Path):
    assert leaks(release, SOLUTION_SECRETS) == {}
    assert leaks(release, HIDDEN_SECRETS) == {}
    text = "\n".join(p.read_text(errors="replace") for p in release.rglob("*.py"))
    assert "expect-fail:" not in text and "Reference solution" not in text
    hidden_titles = {c.title for t in TASKS for c in t.checks(hidden=True) if c.hidden}
    assert hidden_titles and not [t for t in hidden_titles if t in text]


def test_learner_makefile_and_workflow(release: Path):
    makefile = (release / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    assert targets == TEMPLATE_TARGETS
    assert "instructor" not in makefile
    workflow = (release / ".github/workflows/check.yml").read_text()
    assert re.search(r"^on:\s*\n\s+push:", workflow, re.MULTILINE)
    assert 'make check SUMMARY="$GITHUB_STEP_SUMMARY"' in workflow
    ignored = (release / ".gitignore").read_text().split()
    assert {".venv/", ".threadkit/", "__pycache__/"} <= set(ignored)


def test_rebuild_replaces_a_release_but_never_a_foreign_folder(tmp_path: Path):
    out = tmp_path / "handout"
    build(out)
    (out / "stale.txt").write_text("from an older release")
    build(out)
    assert not (out / "stale.txt").exists() and (out / MARKER).exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an earlier release"):
        build(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()


def copy_solutions(release: Path) -> None:
    for task in TASKS:
        shutil.copy(SOLUTIONS / task.module, release / "exercises" / task.module)


def test_checks_in_the_release_fail_on_stubs_and_pass_with_solutions(tmp_path: Path):
    """Fast variant: the release's own `python -m graders check`, with the kit's venv."""
    release = tmp_path / "handout"
    build(release)
    summary = tmp_path / "summary.md"
    run = graders("check", "--summary", str(summary), cwd=release)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Next up: start_join" in run.stdout and "· to do" in run.stdout
    assert "Not started yet: run_workers is not written yet" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert "**Next up: `start_join`**" in summary.read_text()
    assert (release / ".threadkit" / "progress.json").exists()  # for `make hint` without TASK
    copy_solutions(release)
    run = graders("check", "--summary", str(summary), cwd=release)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All tasks pass. Well done!" in run.stdout
    assert summary.read_text().rstrip().endswith("**All tasks pass. Well done!**")


@pytest.mark.slow
def test_make_check_in_a_fresh_release_from_a_fresh_venv(tmp_path: Path):
    """The handout as a learner gets it: `make check` makes .venv from requirements/learner.txt
    (pip's cache may serve it), fails on the stubs, passes with the solutions; then `make
    timeline OUT=...` installs matplotlib and draws; and git ignores what make left behind."""
    release = tmp_path / "handout"
    build(release)

    def make(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", *args], cwd=release, capture_output=True, text=True, timeout=900
        )

    stubs = make("check")
    assert stubs.returncode != 0 and "Next up: start_join" in stubs.stdout, stubs.stderr
    copy_solutions(release)
    solved = make("check")
    assert solved.returncode == 0 and "All tasks pass" in solved.stdout, solved.stderr
    picture = make("timeline", "TASK=downloader", "OUT=timeline.png")
    assert picture.returncode == 0, picture.stdout + picture.stderr
    assert (release / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    make("hint", "TASK=start_join")
    subprocess.run(["git", "init", "-q"], cwd=release, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=release,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".venv" not in status and ".threadkit" not in status and "__pycache__" not in status
    assert "exercises/counter.py" in status
