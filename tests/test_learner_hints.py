"""`make hint`: one more hint each time, remembered in the learner's folder, never the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders.cli import main
from graders.learner import hints
from graders.learner.session import LearnerState
from graders.tasks import TASKS
from tests.helpers import EXERCISES, SOLUTIONS

WITH_HINTS = [t for t in TASKS if hints.hints_for(t.id)]


def code_lines(path: Path) -> list[str]:
    """Stripped code lines, trailing comments dropped."""
    lines = (line.split("  #")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_each_ask_reveals_one_more_hint_until_the_last(tmp_path: Path):
    state = LearnerState(tmp_path / ".threadkit")
    total = len(hints.hints_for("counter_lock"))
    seen = [hints.reveal_next("counter_lock", state) for _ in range(total + 1)]
    assert [r.shown for r in seen] == [*range(1, total + 1), total]
    assert [r.new for r in seen] == [True] * total + [False]
    assert seen[-1].hints == hints.hints_for("counter_lock")
    assert json.loads((tmp_path / ".threadkit" / "hints.json").read_text()) == {
        "counter_lock": total
    }
    assert (tmp_path / ".threadkit" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert hints.reveal_next("start_join", state).shown == 1  # tasks are counted apart
    hints.forget("counter_lock", state)
    assert hints.reveal_next("counter_lock", state).shown == 1


def test_the_command_shows_earlier_hints_and_the_new_one(tmp_path: Path, capsys):
    args = ["hint", "--task", "start_join", "--state-dir", str(tmp_path)]
    main(args)
    first = capsys.readouterr().out
    main(args)
    second = capsys.readouterr().out
    assert "Hint 1 of" in first and "2." not in first
    assert "Hint 2 of" in second and "1. " in second and "2. " in second
    main([*args, "--reset"])
    capsys.readouterr()
    main(args)
    assert "Hint 1 of" in capsys.readouterr().out


def test_without_a_task_the_hint_is_for_the_task_next_up(tmp_path: Path, capsys):
    LearnerState(tmp_path).write("progress", {"next_up": "downloader"})
    main(["hint", "--state-dir", str(tmp_path)])
    assert "for downloader" in capsys.readouterr().out


@pytest.mark.parametrize("task", WITH_HINTS, ids=lambda t: t.id)
def test_hints_are_graded_and_never_the_solution(task):
    found = hints.hints_for(task.id)
    assert len(found) >= 3
    given = "\n".join(path.read_text() for path in EXERCISES.glob("*.py"))  # the stubs say it
    answer = [line for line in code_lines(SOLUTIONS / task.module) if line not in given]
    for hint in found:
        leaked = [line for line in answer if len(line) >= 15 and line in hint]
        assert not leaked, f"a {task.id} hint quotes the solution: {leaked}"


def test_the_core_tasks_have_hints():
    assert {"start_join", "counter_lock", "downloader"} <= {t.id for t in WITH_HINTS}
