"""The nbgrader course is generated from the kit's sources and cannot drift from them.

Fast tests, no kernel: every registered task has a notebook, its task text is the stub's
docstring, its test cells are the registry's checks with their points, its code cell is the
reference solution; `--check` catches a course folder that no longer matches the sources; and
graders.learner.notebook.check gives a test cell the learner-facing verdict, never a traceback.
"""

from __future__ import annotations

import ast
import copy
import json
import threading
from pathlib import Path

import nbformat
import pytest

from graders.cli import main as cli
from graders.instructor.course import build, regions
from graders.instructor.course.notebooks import BEGIN_HIDDEN, END_HIDDEN
from graders.learner import notebook
from graders.tasks import TASKS
from tests.helpers import EXERCISES, SOLUTIONS, all_mutants, submission_of

# Its module-scoped fixture is built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("nbgrader_course")

FIRST = TASKS[0]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("course")
    build.build(out)
    return out


def notebook_of(course: Path, task_id: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "source" / build.ASSIGNMENT / f"{task_id}.ipynb", as_version=4)


def cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == grade_id)


def test_one_valid_nbgrader_notebook_per_registered_task(course: Path):
    # Imported here: nbgrader's package costs 1.5 s of CPU, in every test worker that collects
    # this file, and only this test needs it.
    from nbgrader.nbgraderformat import MetadataValidator

    names = sorted(p.stem for p in (course / "source" / build.ASSIGNMENT).glob("*.ipynb"))
    assert names == sorted(t.id for t in TASKS)
    for task in TASKS:
        nb = notebook_of(course, task.id)
        nbformat.validate(nb)
        MetadataValidator().validate_nb(nb)


def test_task_text_is_the_stubs_docstring(course: Path):
    for task in TASKS:
        text = notebook_of(course, task.id).cells[0].source
        doc = regions.Source.parse((EXERCISES / task.module).read_text(), task.module).docstring
        assert text.startswith(f"# {task.title}")
        for paragraph in doc.split("\n\n")[1:]:
            assert (paragraph in text) != ("make check" in paragraph), paragraph


def test_a_test_cell_per_check_worth_its_points_hidden_ones_in_hidden_regions(course: Path):
    for task in TASKS:
        tests = [c for c in notebook_of(course, task.id).cells if c.metadata.nbgrader["grade"]]
        checks = task.checks(hidden=True)
        assert [c.metadata.nbgrader["points"] for c in tests] == [c.points for c in checks]
        for test, chk in zip(tests, checks):
            call = f'threadkit.check("{task.id}", "{chk.name}", "{task.module}")'
            lines = test.source.splitlines()
            if chk.hidden:
                assert lines[-3:] == [BEGIN_HIDDEN, call, END_HIDDEN]
            else:
                assert lines[-1] == call and BEGIN_HIDDEN not in test.source


def test_code_cell_holds_the_reference_solution(course: Path):
    """Docstrings and unreachable code aside, every statement of the solution is in the cell,
    in order, and every other statement in it is the stub's."""
    for task in TASKS:
        code = cell(notebook_of(course, task.id), f"{task.id}-code").source
        magic, _, module = code.partition("\n")
        assert magic == f"%%writefile {task.module}"
        ours = statements(module)
        solution = statements((SOLUTIONS / task.module).read_text())
        stub = statements((EXERCISES / task.module).read_text())
        assert is_subsequence(solution, ours), task.id
        assert all(s in solution or s in stub for s in ours), task.id


def test_released_code_is_the_stub_line_for_line():
    """What nbgrader keeps of the code cell (regions become CODE_STUB) is the exercise file."""
    for task in TASKS:
        stub_text = (EXERCISES / task.module).read_text()
        stub, found = regions.merge(stub_text, (SOLUTIONS / task.module).read_text())
        released = regions.render(stub, found, solved=False).splitlines()
        kept = [line for line in released if line.strip() != regions.CODE_STUB]
        assert kept == stub_text.splitlines()[stub.start :]
        assert len(released) - len(kept) == len(found) > 0


def test_regions_for_a_new_helper_a_changed_constant_and_a_fall_through():
    stub = 'LIMIT = 1\n\n\ndef f(x):\n    """Doc."""\n    y = x\n    return y * LIMIT\n'
    solution = "LIMIT = 2\n\n\ndef helper():\n    pass\n\n\ndef f(x):\n    y = x\n    helper()\n"
    code = regions.solution_cell_code(stub, solution)
    namespace: dict[str, object] = {}
    exec(compile(code, "cell", "exec"), namespace)
    assert namespace["LIMIT"] == 2 and namespace["f"](3) is None  # the solution's f falls through
    stub_source, found = regions.merge(stub, solution)
    assert regions.render(stub_source, found, solved=False).count(regions.CODE_STUB) == 3


def test_check_mode_catches_a_course_that_drifted(course: Path, tmp_path: Path):
    assert build.stale(course) == []
    assert cli(["nbgrader", "--out", str(course), "--check"]) == 0
    drifted = tmp_path / "course"
    build.build(drifted)
    path = drifted / "source" / build.ASSIGNMENT / f"{FIRST.id}.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = ["edited by hand\n"]
    path.write_text(json.dumps(nb))
    (path.parent / "old_task.ipynb").write_text(json.dumps(nb))  # a task since unregistered
    (path.parent / "intro.ipynb").write_text('{"metadata": {}}')  # the instructor's own
    rel = f"source/{build.ASSIGNMENT}"
    assert build.stale(drifted) == [f"{rel}/{FIRST.id}.ipynb", f"{rel}/old_task.ipynb"]
    assert cli(["nbgrader", "--out", str(drifted), "--check"]) == 1
    build.build(drifted)
    assert build.stale(drifted) == [] and not (path.parent / "old_task.ipynb").exists()
    assert (path.parent / "intro.ipynb").exists()


def test_notebook_check_passes_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = submission_of(FIRST, SOLUTIONS / FIRST.module, tmp_path) / FIRST.module
    for chk in FIRST.checks(hidden=True):
        notebook.check(FIRST.id, chk.name, path)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FIRST.checks(hidden=True)) and all("✓" in line for line in lines)


def test_notebook_check_fails_with_the_learner_message_and_no_traceback(tmp_path: Path):
    mutant = next(m for m in all_mutants() if m.task == FIRST)
    path = submission_of(FIRST, mutant.path, tmp_path) / FIRST.module
    failing = [c for c in FIRST.checks(hidden=True) if c.name in mutant.expect_fail]
    with pytest.raises(AssertionError) as raised:
        notebook.check(FIRST.id, failing[0].name, path)
    shown = "\n".join(raised.value._render_traceback_())
    assert failing[0].title in shown and mutant.expect_message in shown
    assert str(raised.value) in shown.replace("\x1b[0;31m", "").replace("\x1b[0m", "")
    assert "Traceback" not in shown and 'File "' not in shown


def test_threads_of_the_calling_process_never_count_as_the_learners(tmp_path: Path):
    """A kernel has threads of its own and may start more at any time (output, history, a
    learner's background thread): the checks run elsewhere and never see them."""
    path = submission_of(FIRST, SOLUTIONS / FIRST.module, tmp_path) / FIRST.module
    stop = threading.Event()

    def kernel_like() -> None:  # starts a new short-lived thread every few milliseconds
        while not stop.wait(0.005):
            threading.Thread(target=stop.wait, args=(0.05,), daemon=True).start()

    spawner = threading.Thread(target=kernel_like, daemon=True)
    spawner.start()
    try:
        for chk in FIRST.checks(hidden=True):
            notebook.check(FIRST.id, chk.name, path)
    finally:
        stop.set()
        spawner.join()


def test_task_runs_once_per_version_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    runs = []
    real = notebook.run_isolated
    monkeypatch.setattr(notebook, "run_isolated", lambda *a, **k: runs.append(a) or real(*a, **k))
    path = submission_of(FIRST, EXERCISES / FIRST.module, tmp_path) / FIRST.module
    names = [c.name for c in FIRST.checks(hidden=True)]
    for name in names:
        with pytest.raises(AssertionError, match="Not started yet"):
            notebook.check(FIRST.id, name, path)
    path.write_text(path.read_text() + "\n# edited\n")
    with pytest.raises(AssertionError):
        notebook.check(FIRST.id, names[0], path)
    assert len(runs) == 2


def test_module_not_written_yet_says_to_run_the_code_cell(tmp_path: Path):
    with pytest.raises(AssertionError, match=f"%%writefile {FIRST.module}"):
        notebook.check(FIRST.id, FIRST.checks()[0].name, tmp_path / FIRST.module)


def statements(source: str) -> list[str]:
    """Top-level statements without the module docstring, docstrings or unreachable code."""
    body = regions.Source.parse(source, "module").body
    return [regions.normalized(reachable(node)) for node in body]


def reachable(node: ast.stmt) -> ast.stmt:
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(sub, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(sub, field, _cut(block, isinstance(sub, ast.FunctionDef)))
    return node


def _cut(block: list[ast.stmt], function: bool) -> list[ast.stmt]:
    exits = (ast.Return, ast.Raise, ast.Continue, ast.Break)
    end = next((i + 1 for i, s in enumerate(block) if isinstance(s, exits)), len(block))
    block = block[:end]
    if function and isinstance(block[-1], ast.Return) and block[-1].value is None:
        block = block[:-1] or [ast.Pass()]
    return block


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    rest = iter(haystack)
    return all(any(n == h for h in rest) for n in needles)
