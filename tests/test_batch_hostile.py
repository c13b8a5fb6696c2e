"""Hostile submissions get 0 on what they attack, the rest is still graded, the batch completes.

One batch holds the whole corpus of fixtures/hostile (see its README) plus the hostiles that
cannot live in the repository as files, graded at the strongest isolation this machine offers.
A second, small batch grades the attacks that only the in-process guard stops at the weakest
level ("process"), where no namespace helps.
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
from graders.tasks import get_task
from tests.helpers import ROOT, SOLUTIONS

# Its module-scoped fixture is built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("batch_hostile")

HOSTILE = ROOT / "fixtures" / "hostile"
GUARD_ONLY = ("write_kit", "read_solution", "network", "proc_mem", "signal_parent")


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
        Hostile("symlink_to_solution", ("start_join",), "not in the submission"),
        Hostile("zip_escape", ("start_join",), "not in the submission", ("counter_lock",)),
    ]


def options(sandbox: Sandbox) -> BatchOptions:
    run = RunOptions(
        sandbox=sandbox,
        task_seconds=10.0,  # a loaded machine (xdist) zeroes the memory hog's pages slowly
        submission_seconds=40.0,
        memory_bytes=768 * 1024**2,
    )
    return BatchOptions(run, jobs=4, regrade=True)


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


@pytest.mark.slow
@pytest.mark.parametrize("level", ["process", "netns", "bwrap"])
def test_the_whole_corpus_at_every_isolation_level(tmp_path, level):
    if not works(level):
        pytest.skip(f"{level} does not work here")
    subs, out = tmp_path / "subs", tmp_path / "out"
    promises = corpus(subs) + made_on_the_fly(subs)
    require_promises(grade_batch(subs, out, options(Sandbox(level))), promises)
    assert not (ROOT / "graders" / "_hostile_probe.txt").exists()
