"""`make check` as a learner sees it: the table, next up, the first failure in full, the race.

The report's pieces are tested on their own (fast, in-process); an end-to-end run through the
real command proves they are put together: the no-lock mutant of counter_lock, whose report
must show the interleaving and the exact replay command. (The stubs' and the solutions' full
runs are in test_learner_release.py, inside a release.)
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from graders.engine.runner import CheckResult, TaskResult
from graders.kit.feedback import Feedback
from graders.kit.interleave import Access, LostUpdate
from graders.learner import job_summary, race_story, terminal
from graders.tasks import TASKS
from tests.helpers import FIXTURES, ROOT
from tests.learner_cli import graders

TASKS_BY_ID = {t.id: t for t in TASKS}


def shown(renderable: object, width: int = 100) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def lost_update() -> LostUpdate:
    return LostUpdate(
        "counter",
        victim_read=Access("Thread-1 (increment)", "read", 41, 15, "new = counter + 1"),
        other_write=Access("Thread-2 (increment)", "write", 42, 16, "counter = new"),
        victim_write=Access("Thread-1 (increment)", "write", 42, 16, "counter = new"),
    )


def result(task: str, *checks: tuple[str, bool, Feedback | None]) -> TaskResult:
    found = TaskResult(task, seed=1)
    for name, passed, feedback in checks:
        found.checks.append(
            CheckResult(
                task=task,
                name=name,
                title=f"{name} title",
                max_points=2,
                hidden=False,
                passed=passed,
                feedback=feedback,
            )
        )
    return found


def test_the_race_story_reads_what_lost_update_describes():
    """Pins race_story's parser to LostUpdate.describe(): if one changes, this fails."""
    story = race_story.parse(lost_update().describe())
    assert story is not None
    assert [(s.thread, s.action, s.value, s.line) for s in story.steps] == [
        ("Thread-1 (increment)", "read", "41", 15),
        ("Thread-2 (increment)", "wrote", "42", 16),
        ("Thread-1 (increment)", "wrote", "42", 16),
    ]
    text = race_story.render(story, {15: "new = counter + 1", 16: "counter = new"}.get).plain
    assert "How counter lost an update (threads running increment):" in text
    assert "1. Thread-1  read  counter → 41" in text and "line 15  new = counter + 1" in text
    assert "3. Thread-1  wrote counter ← 42" in text
    assert "Thread-1 wrote over Thread-2's update: it is lost." in text
    assert race_story.parse("Run it again with the same seed: make check TASK=x SEED=1") is None


def test_the_first_failure_shows_expected_got_where_code_and_hint(tmp_path: Path):
    source = tmp_path / "counter.py"
    source.write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    feedback = Feedback(
        "Updates were lost",
        expected="500",
        got="returned 150",
        where="exercises/counter.py:3  `c = 3`",
        hint="Use one lock.",
        details=(lost_update().describe(), "Run it again with the same seed: make check SEED=9"),
    )
    first = result("counter_lock", ("exact_total", False, feedback), ("concurrent", True, None))
    text = shown(terminal.explanation(first, TASKS_BY_ID["counter_lock"], source=source))
    for phrase in ("✗ exact_total title", "Expected: 500", "Your code: returned 150", "Hint:"):
        assert phrase in text
    assert "❱ 3 c = 3" in " ".join(text.split())  # the learner's line, highlighted
    assert "How counter lost an update" in text and "Run it again with the same seed" in text
    assert "✓ concurrent title" in text


def test_table_marks_next_up_in_workshop_order():
    stub = Feedback("Not started yet: run_threads is not written yet")
    results = [
        result("start_join", ("overlap", True, None)),
        result("counter_lock", ("exact_total", False, stub)),
        result("downloader", ("in_flight", False, Feedback("Your downloads did not overlap"))),
    ]
    text = shown(terminal.summary_table(results, TASKS_BY_ID))
    rows = {line.split("│")[2].strip(): line for line in text.splitlines() if "│" in line}
    assert "✓ done" in rows["start_join"] and "→" not in rows["start_join"]
    assert "→" in rows["counter_lock"] and "· to do" in rows["counter_lock"]
    assert "✗ not yet" in rows["downloader"] and "did not overlap" in rows["downloader"]
    assert "2/6" in rows["Total"]
    nxt = shown(terminal.next_up(results, TASKS_BY_ID))
    assert "Next up: counter_lock" in nxt and "make hint TASK=counter_lock" in nxt


def test_job_summary_is_a_markdown_table_with_the_first_failure():
    failure = Feedback("Your threads ran | one at a time", hint="Start them all first.")
    results = [result("start_join", ("overlap", False, failure), ("joined", True, None))]
    text = job_summary.markdown(results, TASKS_BY_ID)
    assert text.startswith("## threadkit: 2/4 points")
    assert "| start_join | ❌ not yet | 2/4 | Your threads ran \\| one at a time |" in text
    assert "**Next up: `start_join`**" in text and "Hint: Start them all first." in text


def test_make_check_on_a_race_shows_the_interleaving_and_the_replay_command():
    mutant = FIXTURES / "counter_lock" / "mutants" / "no_lock.py"
    run = graders("check", "--task", "counter_lock", "--submission", str(mutant), "--seed", "7")
    assert run.returncode == 1, run.stderr
    assert "How counter lost an update" in run.stdout
    assert "wrote over" in run.stdout and "update: it is lost." in run.stdout
    flat = " ".join(run.stdout.split())
    assert f"make check TASK=counter_lock SEED=7 SUBMISSION={mutant}" in flat
    assert "mutants/counter.py:" in run.stdout  # named after its folder, not a temp dir
    assert str(ROOT) not in run.stdout.replace(str(mutant), "")
