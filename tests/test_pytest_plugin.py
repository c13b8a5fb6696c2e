"""`pytest --threadkit SUBMISSION`: the checks as pytest items, with `make check`'s verdicts.

The verdicts are compared with graders.engine.isolated.run_isolated (what `make check` runs) on
the same seed, for the reference solutions, the stubs and a sample of mutants (hidden checks
included there), item by item through --junitxml. pytest runs as a learner would start it: a
plain `pytest` in the kit's folder (its conftest.py registers the plugin), and in a learner's
release.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graders.engine.isolated import run_isolated
from graders.instructor.mutants import Mutant, all_mutants
from graders.instructor.release import build
from graders.tasks import TASKS, get_task
from tests.helpers import EXERCISES, ROOT, SOLUTIONS, submission_of

SEED = 424242
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


def run_pytest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["COLUMNS"] = "300"  # the short summary keeps its reason
    return subprocess.run(
        [*PYTEST, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def junit_verdicts(path: Path) -> dict[tuple[str, str], tuple[bool, str]]:
    """{(task id, check title): (passed, failure text)} from a --junitxml report."""
    verdicts = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        task = case.get("classname", "").rsplit(".", 1)[-1]
        failure = case.find("failure")
        text = "" if failure is None else (failure.text or "")
        verdicts[(task, case.get("name", ""))] = (failure is None, text)
    return verdicts


def engine_verdicts(folder: Path, task_ids: list[str], hidden: bool) -> dict:
    """{(task id, check title): passed} as `make check` gets them: run_isolated, same seed."""
    verdicts = {}
    for task_id in task_ids:
        for chk in run_isolated(task_id, folder, seed=SEED, hidden=hidden).result.checks:
            verdicts[(task_id, chk.title)] = chk.passed
    return verdicts


def compare(folder: Path, tmp_path: Path, task_ids: list[str], hidden: bool = False) -> dict:
    report = tmp_path / f"{folder.name}-{'-'.join(task_ids)}.xml"
    args = [f"--threadkit={folder}", f"--threadkit-seed={SEED}", f"--junitxml={report}", "-q"]
    args += ["--threadkit-hidden"] if hidden else []
    if len(task_ids) < len(TASKS):
        args += ["-k", " or ".join(task_ids)]
    done = run_pytest(*args)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    got = junit_verdicts(report)
    assert {k: v[0] for k, v in got.items()} == engine_verdicts(folder, task_ids, hidden)
    return got


def test_the_solutions_pass_every_item_as_make_check_says(tmp_path: Path):
    got = compare(SOLUTIONS, tmp_path, [t.id for t in TASKS])
    assert len(got) == sum(len(t.checks()) for t in TASKS) and all(p for p, _ in got.values())


def test_the_stubs_fail_every_item_with_the_learners_message_only(tmp_path: Path):
    got = compare(EXERCISES, tmp_path, [t.id for t in TASKS])
    assert got and not any(passed for passed, _ in got.values())
    for _, text in got.values():  # a stub's given code may fail first (deadlock's transfer)
        assert text and "Hint:" in text
        assert "Traceback" not in text and "graders/" not in text and "pytest_plugin" not in text


def sample_mutant(task_id: str, preferred: str) -> Mutant:
    """The task's mutant named `preferred`, else its first (mutants come and go)."""
    found = [m for m in all_mutants() if m.task.id == task_id]
    return next((m for m in found if m.path.stem == preferred), found[0])


# Workers run one after another; a race only forced interleavings show; too few workers (a
# visible and a hidden check). Their verdicts do not depend on timing, so the two runs compared
# must agree. worker_pool's check_outside_lock, used before, leaves a race to chance: under
# make test's load it sometimes failed many_workers too, in one run and not the other.
MUTANTS = [
    sample_mutant("start_join", "run_not_start"),
    sample_mutant("counter_lock", "no_lock"),
    sample_mutant("worker_pool", "fixed_three"),
]


def test_mutants_fail_the_same_items_as_make_check_says(tmp_path: Path):
    """One submission holding the three mutants (one task each), hidden checks included."""
    folder = tmp_path / "mutants"  # (not named after a task: -k matches the folder's name too)
    for mutant in MUTANTS:
        submission_of(mutant.task, mutant.path, folder)
    got = compare(folder, tmp_path, [m.task.id for m in MUTANTS], hidden=True)
    for mutant in MUTANTS:
        names = {c.title: c.name for c in mutant.task.checks(hidden=True)}
        failed = {
            names[title]
            for (task, title), (ok, _) in got.items()
            if task == mutant.task.id and not ok
        }
        assert failed == mutant.expect_fail, mutant.id


def collect(*args: str) -> dict[str, tuple]:
    """Collect in this process (no grading runs): {node id: (task args, hidden, timeout)} of the
    items left after -k/-m."""
    seen = {}

    class Recorder:
        def pytest_collection_finish(self, session):
            for item in session.items:
                timeout = item.get_closest_marker("timeout")
                seen[item.nodeid] = (
                    item.get_closest_marker("task").args,
                    item.get_closest_marker("hidden") is not None,
                    (timeout.args, timeout.kwargs),
                )

    argv = ["-p", "graders.learner.pytest_plugin", "--co", "-q", "-p", "no:cacheprovider"]
    argv += [f"--threadkit={EXERCISES}", f"--rootdir={ROOT}", *args]
    assert pytest.main(argv, plugins=[Recorder()]) == 0
    return seen


def item_ids(hidden: bool) -> list[str]:
    return [f"exercises::{t.id}::{c.title}" for t in TASKS for c in t.checks(hidden=hidden)]


def test_items_are_named_by_task_and_check_and_marked():
    """Each item is marked task(id), hidden checks `hidden` (only with --threadkit-hidden),
    and carries its check's timeout for pytest-timeout."""
    assert list(collect()) == item_ids(hidden=False)
    every = collect("--threadkit-hidden")
    assert list(every) == item_ids(hidden=True)
    for task in TASKS:
        for chk in task.checks(hidden=True):
            marks = every[f"exercises::{task.id}::{chk.title}"]
            assert marks == ((task.id,), chk.hidden, ((chk.timeout,), {"func_only": True}))


def test_k_and_m_select_items():
    hidden = [i for i in item_ids(hidden=True) if i not in item_ids(hidden=False)]
    assert list(collect("--threadkit-hidden", "-m", "hidden")) == hidden
    assert list(collect("-k", "exact_total")) == [  # a check's function name
        f"exercises::counter_lock::{get_task('counter_lock').checks()[0].title}"
    ]
    assert list(collect("-k", "worker_pool")) == [  # an id no other task's id contains
        i for i in item_ids(hidden=False) if "::worker_pool::" in i
    ]


def test_x_stops_at_the_first_failure_and_the_summary_says_why():
    done = run_pytest(f"--threadkit={EXERCISES}", "-x", "-q", "-rf")
    assert done.returncode == 1
    assert "1 failed" in done.stdout and "stopping after 1 failures" in done.stdout
    assert (
        f"FAILED exercises::{TASKS[0].id}::" in done.stdout and " - Not started yet" in done.stdout
    )


def test_a_plain_pytest_in_a_learners_release_finds_the_plugin(tmp_path: Path):
    release = tmp_path / "handout"
    build(release)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pytest"), "--threadkit", "exercises", "--co", "-q"]
        + ["-p", "no:cacheprovider"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert ids == [f"exercises::{t.id}::{c.title}" for t in TASKS for c in t.checks()], (
        done.stdout + done.stderr
    )


def test_without_the_option_the_plugin_changes_nothing(tmp_path: Path):
    (tmp_path / "test_mine.py").write_text("def test_one():\n    pass\n")
    seen = []

    class Recorder:
        def pytest_collection_finish(self, session):
            seen.extend(item.nodeid for item in session.items)

    argv = ["-p", "graders.learner.pytest_plugin", "--co", "-q", "-p", "no:cacheprovider"]
    argv += [f"--rootdir={tmp_path}", str(tmp_path)]
    assert pytest.main(argv, plugins=[Recorder()]) == 0
    assert seen == ["test_mine.py::test_one"]
