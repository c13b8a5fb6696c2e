"""Real nbgrader 0.9.6 on the generated course: release, autograde, export, feedback.

One round trip per course (nbgrader's commands take seconds each, and every notebook of every
submission starts a kernel): `generate_assignment`, then three submissions built from the
release as a learner would make them (the reference solutions pasted into the code cells; the
release untouched; the solutions with counter_lock's no_lock mutant), `autograde`, `export`,
`generate_feedback`. Before the release, the instructor's own source notebooks are executed
with nbclient, as an instructor trying them would: that proves the solution regions pass, and
leaves the solution's module files next to them, which the release and autograde must ignore.
The kernels run every test cell through graders.learner.notebook, so forced interleaving and the
HTTP
fixture are exercised as in a course.

`make test` runs it on a course of one task (counter_lock, the mutant's); the course of every
registered task is the same round trip, marked slow.
"""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from graders.instructor.course import build, regions
from graders.tasks import TASKS, Task
from tests.helpers import EXERCISES, FIXTURES, ROOT, SOLUTIONS, all_mutants

# Its module-scoped fixture is built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("nbgrader")

ASSIGNMENT = build.ASSIGNMENT
SEED = "20261125"
MUTANT_TASK, MUTANT = "counter_lock", FIXTURES / "counter_lock" / "mutants" / "no_lock.py"
STUDENTS = ("solution", "stubs", "mutant")


@dataclass(frozen=True)
class Course:
    root: Path
    tasks: tuple[Task, ...]

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the nbgrader command line in the course folder, as an instructor would."""
        cmd = [sys.executable, "-m", "nbgrader", *args]
        done = subprocess.run(cmd, cwd=self.root, env=environment(), capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def run_source_notebooks(self) -> None:
        """Execute source/<assignment>/*.ipynb in place with nbclient, saving the outputs."""
        folder = self.root / "source" / ASSIGNMENT
        env = environment() | {"PYTHONPATH": str(ROOT)}  # what nbgrader_config.py gives kernels
        for path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=180, allow_errors=True, kernel_name="python3")
            client.resources = {"metadata": {"path": str(folder)}}
            client.execute(env=env)
            nbformat.write(nb, self.root / "executed" / path.name)

    def notebooks(self, step: str, student: str = "") -> dict[str, nbformat.NotebookNode]:
        folder = self.root / step / student / ASSIGNMENT
        return {p.stem: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def one_task() -> tuple[Task, ...]:
    return tuple(t for t in TASKS if t.id == MUTANT_TASK) or TASKS[:1]


def every_task() -> tuple[Task, ...]:
    return TASKS


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(one_task, id="one-task"),
        pytest.param(every_task, id="every-task", marks=pytest.mark.slow),
    ],
)
def course(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = Course(tmp_path_factory.mktemp("nbgrader"), tuple(request.param()))
    build.build(course.root, course.tasks)
    (course.root / "executed").mkdir()
    course.run_source_notebooks()
    course.nbgrader("generate_assignment", ASSIGNMENT)
    for student in STUDENTS:
        submit(course, student)
    autograde = course.nbgrader("autograde", ASSIGNMENT)
    (course.root / "autograde.log").write_text(autograde.stdout + autograde.stderr)
    course.nbgrader("export")
    course.nbgrader("generate_feedback", ASSIGNMENT)
    return course


def environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return os.environ | {"PATH": path, "THREADKIT_SEED": SEED}


def submit(course: Course, student: str) -> None:
    """The release, with the code cells filled in as this student would (stubs: untouched)."""
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for task_id, nb in course.notebooks("release").items():
        task = next(t for t in course.tasks if t.id == task_id)
        if student != "stubs":
            source = MUTANT if (student, task_id) == ("mutant", MUTANT_TASK) else None
            paste(nb, task, (source or SOLUTIONS / task.module).read_text())
        nbformat.write(nb, folder / f"{task_id}.ipynb")


def paste(nb: nbformat.NotebookNode, task: Task, module_text: str) -> None:
    code = next(c for c in nb.cells if c.metadata.nbgrader["grade_id"] == f"{task.id}-code")
    code.source = f"%%writefile {task.module}\n{module_text}"


def grades(course: Course) -> dict[str, tuple[float, float]]:
    with open(course.root / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}


def visible_text(page: str) -> str:
    """An HTML page's text, as a reader sees it (styles and tags gone, entities decoded)."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_source_notebooks_pass_every_check_in_a_kernel(course: Course):
    """The instructor's notebooks, solution regions and all, executed by nbclient."""
    assert_executed_notebooks_passed(course)


def assert_executed_notebooks_passed(course: Course) -> None:
    for task in course.tasks:
        nb = nbformat.read(course.root / "executed" / f"{task.id}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code)
        for cell in code:
            kinds = {(o.output_type, o.get("name")) for o in cell.outputs}
            assert kinds <= {("stream", "stdout")}, (cell.source, cell.outputs)
        assert (course.root / "source" / ASSIGNMENT / task.module).is_file()


def test_http_fixture_and_its_latches_work_for_a_notebook(tmp_path: Path):
    """The downloader's checks (the HTTP fixture, its latch, forced interleaving of the
    threads) in a notebook nbclient runs: the counter_lock course above covers the rest."""
    task = next((t for t in TASKS if t.id == "downloader"), None)
    if task is None:
        pytest.skip("downloader is not registered")
    course = Course(tmp_path, (task,))
    build.build(course.root, course.tasks)
    (course.root / "executed").mkdir()
    course.run_source_notebooks()
    assert_executed_notebooks_passed(course)


def test_release_holds_no_solution_and_no_hidden_test(course: Course):
    released = (course.root / "release" / ASSIGNMENT).iterdir()
    assert sorted(p.name for p in released) == sorted(f"{t.id}.ipynb" for t in course.tasks)
    for task in course.tasks:
        text = (course.root / "release" / ASSIGNMENT / f"{task.id}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text
        for chk in task.checks(hidden=True):
            assert (f'\\"{chk.name}\\"' in text) != chk.hidden, chk.name


def test_released_code_cell_is_the_exercise_file(course: Course):
    for task_id, nb in course.notebooks("release").items():
        task = next(t for t in course.tasks if t.id == task_id)
        code = next(c for c in nb.cells if c.metadata.nbgrader["grade_id"] == f"{task_id}-code")
        lines = [x for x in code.source.splitlines() if x.strip() != regions.CODE_STUB]
        stub = (EXERCISES / task.module).read_text()
        start = regions.Source.parse(stub, task.module).start
        assert lines == [f"%%writefile {task.module}", *stub.splitlines()[start:]]


def test_grades_csv_full_marks_zero_and_the_mutants_loss(course: Course):
    total = sum(t.max_points(hidden=True) for t in course.tasks)
    got = grades(course)
    assert got["solution"] == (total, total)
    assert got["stubs"] == (0, total)
    if MUTANT_TASK not in {t.id for t in course.tasks}:
        pytest.skip(f"{MUTANT_TASK} is not registered")
    mutant = next(m for m in all_mutants() if m.path == MUTANT)
    lost = sum(c.points for c in mutant.task.checks(hidden=True) if c.name in mutant.expect_fail)
    assert got["mutant"] == (total - lost, total)


def test_autograde_used_the_notebooks_code_not_the_instructors_files(course: Course):
    """The solution's module files left in source/ by the run above reached no submission."""
    log = (course.root / "autograde.log").read_text().splitlines()
    copied = [line for line in log if "Copying" in line]
    assert copied == [] or all(t.module not in line for t in course.tasks for line in copied)


def test_feedback_shows_the_message_and_hides_hidden_tests(course: Course):
    for student in STUDENTS:
        for task in course.tasks:
            page = course.root / "feedback" / student / ASSIGNMENT / f"{task.id}.html"
            assert_no_hidden_tests(task, visible_text(page.read_text()))
    if MUTANT_TASK in {t.id for t in course.tasks}:
        mutant = next(m for m in all_mutants() if m.path == MUTANT)
        page = course.root / "feedback" / "mutant" / ASSIGNMENT / f"{MUTANT_TASK}.html"
        text = visible_text(page.read_text())
        assert mutant.expect_message in text
        hidden = [c for c in mutant.task.checks(hidden=True) if c.hidden]
        assert any(c.title in text for c in hidden if c.name in mutant.expect_fail)
        assert "AssertionError" not in text and "Traceback (most recent" not in text


@pytest.mark.slow
@pytest.mark.parametrize("course", [every_task], ids=["every-task"], indirect=True)
def test_nbgrader_0_9_6_alone_still_leaks_hidden_tests_into_feedback(course: Course):
    """jupyter/nbgrader#917, proven on the pinned version: why feedback.HideHiddenTests exists.

    Slow (one more nbgrader run) and about nbgrader, not the kit: it fails the day a new pin
    stops leaking, and then the workaround can go.
    """
    out = "feedback_nbgrader_defaults"
    course.nbgrader(
        "generate_feedback",
        ASSIGNMENT,
        "--student=stubs",
        f"--CourseDirectory.feedback_directory={out}",
        "--GenerateFeedback.preprocessors=nbgrader.preprocessors.GetGrades",
        "--GenerateFeedback.preprocessors=nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    )
    task = next(t for t in course.tasks if any(c.hidden for c in t.checks(hidden=True)))
    page = course.root / out / "stubs" / ASSIGNMENT / f"{task.id}.html"
    with pytest.raises(AssertionError):
        assert_no_hidden_tests(task, visible_text(page.read_text()))
    shutil.rmtree(course.root / out)


def assert_no_hidden_tests(task: Task, text: str) -> None:
    assert "HIDDEN TESTS" not in text
    for chk in task.checks(hidden=True):
        call = f'threadkit.check("{task.id}", "{chk.name}", "{task.module}")'
        assert (call in text) != chk.hidden, call
