"""The bonus tasks named_workers and worker_pool: name finding, other correct forms, repeats.

tests/test_graders_verdicts.py proves the reference solutions, stubs and mutants once, and
tests/test_repeatability.py 20 times. Here: the rule that finds a worker's name in
free-format lines, and the alternative correct solutions (behaviour, not form).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from graders.engine.isolated import run_isolated
from graders.kit.checks import CheckFailed
from graders.kit.http_fixture import LatchGroup
from graders.tasks import get_task
from graders.tasks.named_workers import common_words, name_words
from graders.tasks.worker_pool import PoolRun, require_in_flight
from tests.helpers import ROOT

ALTERNATIVES = sorted((ROOT / "fixtures").glob("*/alternatives/*.py"))
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


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_alternative_solutions_pass_every_check(path: Path, submission):
    task = get_task(path.parent.parent.name)
    run = run_isolated(task.id, submission(task, path), seed=7, hidden=True)
    failed = {c.name: c.feedback.render() for c in run.result.checks if not c.passed}
    assert failed == {}


def test_a_pool_full_once_but_short_in_a_later_round_is_told_which_round():
    """The peak alone reached n_workers: the message names the round that fell short, rather
    than saying the workers were never all downloading together."""
    groups = [LatchGroup(3, 3, "filled", 0.0, 0.1), LatchGroup(3, 2, "timeout", 0.1, 2.1)]
    http = SimpleNamespace(records=[], peak_in_flight=3, latch_groups=groups, latch_filled=False)
    run = PoolRun([f"u{i}" for i in range(6)], 3, Path("out"), http, [])  # type: ignore[arg-type]
    with pytest.raises(CheckFailed) as failed:
        require_in_flight(run)
    text = failed.value.feedback.render()
    assert "round 2: 2 of 3 in flight together (released: timeout)" in text
    assert "never all downloading" not in text
