"""The bonus tasks named_workers and worker_pool: name finding, other correct forms, repeats.

tests/test_graders_verdicts.py already proves the reference solutions, stubs and mutants once.
Here: the rule that finds a worker's name in free-format lines, the alternative correct
solutions (behaviour, not form), and every solution and mutant 20 times with distinct seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.isolate import run_isolated
from graders.registry import get_task
from graders.tasks.named_workers import common_words, name_words
from tests.conftest import ROOT, SOLUTIONS, Mutant, all_mutants

BONUS = ("named_workers", "worker_pool")
ALTERNATIVES = sorted((ROOT / "fixtures" / "solutions_alt").glob("*/*.py"))
REPEATS = 20
OUT = "/tmp/run/out"


def names(*workers: list[str]) -> list[set[str]]:
    """The name words found for each worker, from the lines it printed."""
    return name_words([common_words(lines, OUT) for lines in workers])


@pytest.mark.parametrize(
    "first, second, expected",
    [
        (
            ["Thread-0: downloading http://a/0", "Thread-0: saved /tmp/run/out/result_0.txt"],
            ["Thread-1: downloading http://a/1", "Thread-1: saved /tmp/run/out/result_1.txt"],
            [{"Thread-0"}, {"Thread-1"}],
        ),
        (
            ["[worker-A] GET http://a/0", "[worker-A] done."],
            ["[worker-B] GET http://a/1", "[worker-B] done."],
            [{"worker-A"}, {"worker-B"}],
        ),
        (
            ["worker A fetching 'http://a/0'", "worker A saved result_0.txt"],
            ["worker B fetching 'http://a/1'", "worker B saved result_1.txt"],
            [{"A"}, {"B"}],
        ),
    ],
)
def test_a_name_is_a_word_in_all_of_a_workers_lines_and_no_one_elses(first, second, expected):
    assert names(first, second) == expected


def test_urls_paths_and_shared_words_are_never_a_name():
    same_name = (
        ["worker: get http://a/0", "worker: saved result_0.txt"],
        ["worker: get http://a/1", "worker: saved result_1.txt"],
    )
    assert names(*same_name) == [set(), set()]
    url_only = (["get http://a/0", "got http://a/0"], ["get http://a/1", "got http://a/1"])
    assert names(*url_only) == [set(), set()]
    path_only = (["to /tmp/run/out/result_0.txt", "saved /tmp/run/out/result_0.txt"],)
    assert names(*path_only) == [set()]
    assert names(["Ada: get http://a/0", "saved"]) == [set()]


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_alternative_solutions_pass_every_check(path: Path, submission):
    task = get_task(path.parent.name)
    run = run_isolated(task.id, submission(task, path), seed=7, hidden=True)
    failed = {c.name: c.feedback.render() for c in run.result.checks if not c.passed}
    assert failed == {}


def _bonus_mutants() -> list[Mutant]:
    return [m for m in all_mutants() if m.task.id in BONUS]


def _verdict_of_mutant(mutant: Mutant, folder: Path, seed: int) -> str | None:
    """None when the run killed the mutant exactly as its docstring says, else what differed."""
    run = run_isolated(mutant.task.id, folder, seed=seed, hidden=True)
    failed = {c.name for c in run.result.checks if not c.passed}
    if failed != mutant.expect_fail:
        return f"seed {seed}: failed {sorted(failed)}"
    first = run.result.first_failure
    if mutant.expect_message not in first.feedback.render():
        return f"seed {seed}: message {first.feedback.summary!r}"
    return None


def _verdict_of_solution(task_id: str, folder: Path, seed: int) -> str | None:
    run = run_isolated(task_id, folder, seed=seed, hidden=True)
    failed = [c.name for c in run.result.checks if not c.passed]
    return f"seed {seed}: failed {failed}" if failed else None


SOLUTION_FILES = [SOLUTIONS / get_task(t).module for t in BONUS] + ALTERNATIVES


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTION_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_solutions_pass_in_every_one_of_20_runs(path: Path, submission):
    task_id = path.stem if path.parent == SOLUTIONS else path.parent.name
    task = get_task(task_id)
    folder = submission(task, path)
    problems = [p for s in range(REPEATS) if (p := _verdict_of_solution(task.id, folder, 100 + s))]
    print(f"\n{task.id}/{path.stem}: {REPEATS - len(problems)}/{REPEATS} passed every check")
    assert problems == []


@pytest.mark.slow
@pytest.mark.parametrize("mutant", _bonus_mutants(), ids=lambda m: m.id)
def test_mutants_are_killed_the_same_way_in_every_one_of_20_runs(mutant: Mutant, submission):
    folder = submission(mutant.task, mutant.path)
    problems = [p for s in range(REPEATS) if (p := _verdict_of_mutant(mutant, folder, 100 + s))]
    print(f"\n{mutant.id}: {REPEATS - len(problems)}/{REPEATS} killed as expected")
    assert problems == []
