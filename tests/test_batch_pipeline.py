"""`make grade`'s pipeline: loading, isolating, screening, resuming, interrupting, the files.

Submissions here hold start_join.py only (the other tasks are "not in the submission" and
start no process), so each learner costs one grading process.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import time
import zipfile
from pathlib import Path

import pytest

from graders.cli import main
from graders.engine.sandbox import Sandbox
from graders.instructor.batch.isolate import prepare
from graders.instructor.batch.load import Submission, find_submissions, learner_id
from graders.instructor.batch.pipeline import BatchOptions, grade_batch
from graders.instructor.batch.run import RunOptions
from graders.instructor.batch.screen import screen
from graders.tasks import TASKS
from tests.helpers import EXERCISES, FIXTURES, ROOT, SOLUTIONS

PROCESS = Sandbox("process")


def solution_folder(into: Path, source: Path = SOLUTIONS / "start_join.py") -> Path:
    into.mkdir(parents=True)
    shutil.copy(source, into / "start_join.py")
    return into


def batch(tmp: Path, learners: dict[str, Path]) -> Path:
    subs = tmp / "subs"
    for learner, source in learners.items():
        solution_folder(subs / learner, source)
    return subs


def options(**run: object) -> BatchOptions:
    return BatchOptions(RunOptions(sandbox=PROCESS, **run), jobs=2)


def test_submissions_are_folders_and_zips_named_by_learner(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "notes.txt").write_text("not a submission")
    with zipfile.ZipFile(tmp_path / "bob.zip", "w") as archive:
        archive.writestr("bob/start_join.py", "pass\n")
    with zipfile.ZipFile(tmp_path / "alice.zip", "w") as archive:
        archive.writestr("start_join.py", "pass\n")
    found = {s.learner: s.source.name for s in find_submissions(tmp_path)}
    assert found == {"alice": "alice", "alice.zip": "alice.zip", "bob": "bob.zip"}
    assert learner_id("=cmd|'/c calc'!A1") == "cmd___c_calc__A1"


def test_only_exercise_modules_are_taken_never_through_a_symlink(tmp_path):
    sub = solution_folder(tmp_path / "sub")
    for extra in ("conftest.py", "pytest.ini", "results.json", "sitecustomize.py"):
        (sub / extra).write_text("planted\n")
    (sub / "counter.py").symlink_to(SOLUTIONS / "counter.py")
    prepared = prepare(Submission("sub", sub), tmp_path / "copy")
    assert sorted(p.name for p in prepared.folder.iterdir()) == ["start_join.py"]


def test_a_zip_is_read_safely_and_from_its_top_folder(tmp_path):
    archive_path = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("../start_join.py", "escaped = True\n")
        archive.writestr("carol/start_join.py", "right = True\n")
        archive.writestr("carol/old/start_join.py", "older = True\n")
        archive.writestr("carol/counter.py", "x" * (300 * 1024))  # over the size cap
    prepared = prepare(Submission("carol", archive_path), tmp_path / "copy")
    assert (prepared.folder / "start_join.py").read_text() == "right = True\n"
    assert not prepared.has("counter.py")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    assert "could not be read" in prepare(Submission("b", broken), tmp_path / "b").problem


def test_the_screen_passes_honest_code_and_flags_reaching_into_the_grader():
    honest = [*EXERCISES.glob("*.py"), *SOLUTIONS.glob("*.py"), *FIXTURES.glob("*/mutants/*.py")]
    honest += list(FIXTURES.glob("*/alternatives/*.py"))
    assert [p for p in honest if screen(p.read_text())] == []
    hostile = [
        "import graders.engine.runner",
        "import sys\nsys.modules['x']",
        "import time\ntime.perf_counter = lambda: 0",
        "import threading as t\nx = t\nx.Thread.start = None",
        "from threading import Thread\nThread.start = None",
        "def worker(): pass\nworker.latch_filled = True",
        "f = lambda: 0\nf.__globals__",
        "getattr(object, '__sub' + 'classes__')",
        "x = '{0.__globals__}'",
        "obj._calls",
        "eval('1')",
        "import gc",
        "from sys import _getframe",
    ]
    assert [s for s in hostile if not screen(s)] == []


def test_a_rerun_grades_only_what_is_missing_or_changed(tmp_path):
    subs = batch(tmp_path, {"ann": SOLUTIONS / "start_join.py", "ben": EXERCISES / "start_join.py"})
    out = tmp_path / "out"
    first = grade_batch(subs, out, options())
    assert sorted(first.resumed) == [] and len(first.grades) == 2
    solution_folder(subs / "cid")
    shutil.copy(SOLUTIONS / "start_join.py", subs / "ben" / "start_join.py")  # ben resubmits
    record = json.loads((out / "ann" / "grade.json").read_text())
    second = grade_batch(subs, out, options())
    assert second.resumed == ["ann"]
    assert {g.learner: g.total for g in second.grades} == {"ann": 13, "ben": 13, "cid": 13}
    record["kit"] = "another kit"
    (out / "ann" / "grade.json").write_text(json.dumps(record))
    third = grade_batch(subs, out, options())
    assert sorted(third.resumed) == ["ben", "cid"]  # ann's record was not this kit's


@pytest.fixture
def ctrl_c():
    """Ctrl-C raises KeyboardInterrupt in this test, as in a terminal: a shell that starts the
    run in the background (`make test &`, a CI step) hands it SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_an_interrupted_batch_keeps_whole_files_and_a_rerun_finishes_it(tmp_path, ctrl_c):
    hang = ROOT / "fixtures" / "hostile" / "hang_busy.py"
    subs = batch(tmp_path, {"a0": SOLUTIONS / "start_join.py", "h1": hang, "h2": hang})
    out = tmp_path / "out"

    def interrupt_after_first(sub, grade, status):
        os.kill(os.getpid(), signal.SIGINT)

    start = time.monotonic()
    outcome = grade_batch(subs, out, options(task_seconds=30.0), interrupt_after_first)
    assert time.monotonic() - start < 15  # the hanging processes were killed, not waited for
    assert outcome.interrupted and [g.learner for g in outcome.grades] == ["a0"]
    assert not list(out.rglob("*.tmp")) and not (out / "h1" / "grade.json").exists()
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text())))
    assert [r[0] for r in rows] == ["student", "a0"]
    for learner in ("h1", "h2"):  # they fix their code; a0 is not graded again
        shutil.copy(SOLUTIONS / "start_join.py", subs / learner / "start_join.py")
    rerun = grade_batch(subs, out, options(task_seconds=30.0))
    assert rerun.resumed == ["a0"] and [g.total for g in rerun.grades] == [13, 13, 13]


def test_grade_files_have_the_promised_shape(tmp_path, capsys):
    subs = batch(tmp_path, {"ann": SOLUTIONS / "start_join.py"})
    out = tmp_path / "out"
    code = main(["grade", "--submissions", str(subs), "--out", str(out), "--isolation=process"])
    printed = capsys.readouterr().out
    assert code == 0 and "Isolation: process" in printed and "ann" in printed
    ids = [t.id for t in TASKS]
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert list(rows[0]) == ["student", *ids, "total", "max_total"]
    assert rows[0]["start_join"] == rows[0]["total"] == "13"
    grades = json.loads((out / "grades.json").read_text())
    assert set(grades) == {"max", "students"} and list(grades["max"]) == ids
    results = json.loads((out / "ann" / "results.json").read_text())
    assert results["score"] == 13
    test = results["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "output", "visibility", "status"}
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert "# threadkit feedback for ann" in (out / "ann" / "feedback.md").read_text()


def test_grade_one_writes_results_for_gradescope_and_a_job_summary(tmp_path, capsys):
    sub = solution_folder(tmp_path / "sub", SOLUTIONS / "start_join.py")
    out, summary = tmp_path / "results", tmp_path / "summary.md"
    args = ["grade-one", "--submission", str(sub), "--out", str(out), "--isolation=process"]
    assert main(args + ["--summary", str(summary)]) == 0
    assert json.loads((out / "results.json").read_text())["score"] == 13
    assert "13/" in summary.read_text()
    assert main(args + ["--fail-under", "50"]) == 1


@pytest.mark.parametrize("missing", ["nowhere", "file.txt"])
def test_a_missing_submissions_folder_is_the_callers_mistake(tmp_path, missing):
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["grade", "--submissions", str(tmp_path / missing), "--out", str(tmp_path / "o")])
    assert exit_.value.code == 2
