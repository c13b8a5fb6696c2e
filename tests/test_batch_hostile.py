"""Hostile submissions get 0 on what they attack, the rest is still graded, the batch completes.

One batch holds the whole corpus of fixtures/hostile (see its README) plus the hostiles that
cannot live in the repository as files, graded at the strongest isolation this machine offers.
A second, small batch grades the attacks that only the in-process guard stops at the weakest
level ("process"), where no namespace helps. A third grades modules whose import never ends
and measures what each cost: the import budget, not the task's time limit.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from graders.engine.sandbox import Sandbox, detect, works
from graders.instructor.batch.pipeline import BatchOptions, Outcome, grade_batch
from graders.instructor.batch.run import RunOptions
from graders.instructor.batch.score import TaskGrade
from graders.kit.import_budget import HARD_STOP_GRACE
from graders.tasks import get_task
from tests.helpers import ROOT, SOLUTIONS

# Its module-scoped fixture is built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("batch_hostile")

HOSTILE = ROOT / "fixtures" / "hostile"
GUARD_ONLY = ("write_kit", "read_solution", "network", "proc_mem", "signal_parent")
IMPORT_FOREVER = tuple(p.stem for p in sorted(HOSTILE.glob("import_forever_*.py")))
IMPORT_SECONDS = 2.0  # the budget in these batches: far below their task limits
# Starting a grading process (a fresh interpreter under bwrap), the first import's set-up and
# the report, on a machine loaded by pytest-xdist: what a task takes besides the budget.
MARGIN = 10.0


@dataclass(frozen=True)
class Hostile:
    learner: str
    attacks: tuple[str, ...]
    expect: str
    graded: tuple[str, ...] = ()


def _field(text: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else ""


def _promise(learner: str, text: str) -> Hostile:
    def ids(name: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in _field(text, name).split(",") if t.strip())

    return Hostile(learner, ids("attacks"), _field(text, "expect"), ids("graded"))


def corpus(into: Path, names: tuple[str, ...] | None = None) -> list[Hostile]:
    """Lay the corpus out as a SUBMISSIONS folder; return each learner's promise."""
    found = []
    for path in sorted(HOSTILE.iterdir()):
        if names is not None and path.stem not in names:
            continue
        if path.suffix == ".py":
            promise = _promise(path.stem, path.read_text())
            folder = into / path.stem
            folder.mkdir(parents=True)
            task = promise.attacks[0].partition(".")[0]
            shutil.copy(path, folder / get_task(task).module)
        elif path.is_dir():
            shutil.copytree(path, into / path.name)
            text = "\n".join(p.read_text() for p in sorted(path.glob("*.py")))
            promise = _promise(path.name, text)
        else:
            continue
        for task in promise.graded:  # the rest of the submission is right
            module = get_task(task).module
            shutil.copy(SOLUTIONS / module, into / promise.learner / module)
        found.append(promise)
    return found


def made_on_the_fly(into: Path) -> list[Hostile]:
    """Hostiles that cannot be files in the repository."""
    (into / "syntax_error").mkdir()
    (into / "syntax_error" / "start_join.py").write_text("def run_workers(:\n    pass\n")
    (into / "symlink_to_solution").mkdir()
    (into / "symlink_to_solution" / "start_join.py").symlink_to(SOLUTIONS / "start_join.py")
    with zipfile.ZipFile(into / "zip_escape.zip", "w") as archive:
        archive.writestr("../../start_join.py", (SOLUTIONS / "start_join.py").read_text())
        archive.writestr("deep/a/b/c/start_join.py", (SOLUTIONS / "start_join.py").read_text())
        archive.writestr("zip_escape/counter.py", (SOLUTIONS / "counter.py").read_text())
        archive.writestr("zip_escape/bomb.bin", b"\0" * (50 * 1024 * 1024))
    return [
        Hostile("syntax_error", ("start_join",), "syntax error"),
        Hostile(
            "symlink_to_solution", ("start_join",), "start_join.py was not taken: it is a symlink"
        ),
        Hostile(
            "zip_escape",
            ("start_join",),
            "../../start_join.py was not taken: its path leaves the submission",
            ("counter_lock",),
        ),
    ]


def options(sandbox: Sandbox, task_seconds: float = 10.0) -> BatchOptions:
    """10 s a task: a loaded machine (xdist) zeroes the memory hog's pages slowly."""
    run = RunOptions(
        sandbox=sandbox,
        task_seconds=task_seconds,
        submission_seconds=4 * task_seconds,
        memory_bytes=768 * 1024**2,
        import_seconds=IMPORT_SECONDS,
    )
    return BatchOptions(run, jobs=4, regrade=True)


def in_c_forever(into: Path) -> list[Hostile]:
    """A module whose import computes in C for hours, holding the interpreter's lock: only
    faulthandler's watchdog, which needs no lock, ends it before the task's time limit."""
    folder = into / "import_forever_in_c"
    folder.mkdir(parents=True)
    (folder / get_task("worker_pool").module).write_text("TOTAL = sum(range(10**15))\n")
    shutil.copy(SOLUTIONS / get_task("counter_lock").module, folder)
    return [
        Hostile("import_forever_in_c", ("worker_pool",), "ended (exit code 1)", ("counter_lock",))
    ]


def graded_task(outcome: Outcome, learner: str, task: str) -> TaskGrade:
    grade = next(g for g in outcome.grades if g.learner == learner)
    return next(t for t in grade.tasks if t.task == task)


def everything_said(outcome: Outcome, learner: str, task: str) -> str:
    grade = next(g for g in outcome.grades if g.learner == learner)
    graded = next(t for t in grade.tasks if t.task == task)
    said = [c.feedback.render() for c in graded.result.checks if c.feedback]
    return "\n".join(said + graded.tampering + graded.blocked + graded.review)


def passed(outcome: Outcome, learner: str, task: str, check: str) -> bool:
    grade = next(g for g in outcome.grades if g.learner == learner)
    graded = next(t for t in grade.tasks if t.task == task)
    return next(c for c in graded.result.checks if c.name == check).passed


def require_promises(outcome: Outcome, promises: list[Hostile]) -> None:
    assert not outcome.failed and not outcome.interrupted
    assert {g.learner for g in outcome.grades} == {p.learner for p in promises}
    points = {g.learner: g.points() for g in outcome.grades}
    maxima = {t: get_task(t).max_points(hidden=True) for t in points[promises[0].learner]}
    broken = []
    for promise in promises:
        for target in promise.attacks:  # a task id (it scores 0), or task.check (that fails)
            task, _, check = target.partition(".")
            said = everything_said(outcome, promise.learner, task)
            lost = not passed(outcome, promise.learner, task, check) if check else True
            if points[promise.learner][task] != 0 and not check or not lost:
                broken.append((promise.learner, target, points[promise.learner][task], said[:300]))
            elif promise.expect not in said:
                broken.append((promise.learner, target, "message", said[:300]))
        for task in promise.graded:
            if points[promise.learner][task] != maxima[task]:
                broken.append((promise.learner, task, points[promise.learner][task], "not full"))
    assert broken == []


@pytest.fixture(scope="module")
def full_batch(tmp_path_factory) -> tuple[Outcome, list[Hostile], Path]:
    subs, out = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("out")
    promises = corpus(subs) + made_on_the_fly(subs)
    outcome = grade_batch(subs, out, options(detect("auto")))
    return outcome, promises, out


def test_every_hostile_scores_zero_where_it_attacks_and_the_batch_completes(full_batch):
    outcome, promises, out = full_batch
    require_promises(outcome, promises)
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(promises)


def test_planted_results_and_conftest_are_ignored(full_batch):
    _, _, out = full_batch
    results = json.loads((out / "fake_results" / "results.json").read_text())
    assert results["score"] == 0
    assert not (out / "fake_results" / "conftest.py").exists()


def test_nothing_was_written_into_the_kit(full_batch):
    assert not (ROOT / "graders" / "_hostile_probe.txt").exists()


def test_the_guard_alone_stops_file_network_and_signal_attacks(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    promises = corpus(subs, GUARD_ONLY)
    outcome = grade_batch(subs, out, options(Sandbox("process")))
    require_promises(outcome, promises)
    assert not (ROOT / "graders" / "_hostile_probe.txt").exists()


def test_a_never_ending_import_costs_its_budget_not_the_task_limit(tmp_path):
    """Busy loop, sleep, deadlock, a thread left running: each attacked task ends within the
    import budget (plus starting the process), every check failed with the import message,
    the rest of the submission is graded in full. The task limit (30 s) is never reached."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    promises = corpus(subs, IMPORT_FOREVER) + in_c_forever(subs)
    assert len(promises) == 5
    outcome = grade_batch(subs, out, options(detect("auto"), task_seconds=30.0))
    require_promises(outcome, promises)
    costs = {}
    for promise in promises:
        task = promise.attacks[0]
        graded = graded_task(outcome, promise.learner, task)
        assert graded.result.points == 0
        assert all(
            c.feedback and promise.expect in c.feedback.render() for c in graded.result.checks
        )
        in_c = promise.learner == "import_forever_in_c"
        if in_c:  # the traceback of where the import was goes to the task's output
            assert f'{get_task(task).module}", line 1 in <module>' in graded.output
        costs[promise.learner] = graded.seconds
        assert graded.seconds < IMPORT_SECONDS + MARGIN + (HARD_STOP_GRACE if in_c else 0), costs
    print("seconds per attacked task:", {k: round(v, 1) for k, v in costs.items()})


def test_the_import_message_says_where_the_module_was(tmp_path):
    """At the process level (the zygote's fork): the line the import was stuck on."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    promises = corpus(subs, ("import_forever_sleep", "import_forever_deadlock"))
    outcome = grade_batch(subs, out, options(Sandbox("process"), task_seconds=30.0))
    require_promises(outcome, promises)
    sleep = graded_task(outcome, "import_forever_sleep", "counter_lock").result.checks[0]
    deadlock = graded_task(outcome, "import_forever_deadlock", "deadlock").result.checks[0]
    assert sleep.feedback is not None and deadlock.feedback is not None
    assert sleep.feedback.where == "import_forever_sleep/counter.py:10  `time.sleep(10**9)`"
    assert deadlock.feedback.where == "import_forever_deadlock/bank.py:14  `helper.join()`"
    assert "if __name__ ==" in sleep.feedback.hint


@pytest.mark.slow
@pytest.mark.parametrize("level", ["process", "netns", "bwrap"])
def test_the_whole_corpus_at_every_isolation_level(tmp_path, level):
    if not works(level):
        pytest.skip(f"{level} does not work here")
    subs, out = tmp_path / "subs", tmp_path / "out"
    promises = corpus(subs) + made_on_the_fly(subs)
    require_promises(grade_batch(subs, out, options(Sandbox(level))), promises)
    assert not (ROOT / "graders" / "_hostile_probe.txt").exists()
