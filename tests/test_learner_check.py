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
from graders.kit.feedback import Feedback, Location, Replay
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


def test_the_race_story_draws_the_steps_lost_update_recorded():
    race = lost_update().race()
    assert [(s.thread, s.action, s.value, s.line, s.code) for s in race.steps] == [
        ("Thread-1 (increment)", "read", "41", 15, "new = counter + 1"),
        ("Thread-2 (increment)", "wrote", "42", 16, "counter = new"),
        ("Thread-1 (increment)", "wrote", "42", 16, "counter = new"),
    ]
    text = race_story.render(race).plain
    assert "How counter lost an update (threads running increment):" in text
    assert "1. Thread-1  read  counter → 41" in text and "line 15  new = counter + 1" in text
    assert "3. Thread-1  wrote counter ← 42" in text
    assert "Thread-1 wrote over Thread-2's update: it is lost." in text


def feedback_of_a_race() -> Feedback:
    return Feedback(
        "Updates were lost",
        expected="500",
        got="returned 150",
        where="exercises/counter.py:3  `c = 3`",
        location=Location("exercises/counter.py", 3, "c = 3"),
        hint="Use one lock.",
        details=("With 5 threads.",),
        kind="race",
        race=lost_update().race(),
        replay=Replay("counter_lock", 9),
    )


def test_the_first_failure_shows_expected_got_where_code_and_hint(tmp_path: Path):
    source = tmp_path / "counter.py"
    source.write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    feedback = feedback_of_a_race()
    first = result("counter_lock", ("exact_total", False, feedback), ("concurrent", True, None))
    text = shown(terminal.explanation(first, TASKS_BY_ID["counter_lock"], source=source))
    for phrase in ("✗ exact_total title", "Expected: 500", "Your code: returned 150", "Hint:"):
        assert phrase in text
    assert "❱ 3 c = 3" in " ".join(text.split())  # the learner's line, highlighted
    lines = [line.strip("│ ") for line in text.splitlines()]
    story = lines.index("How counter lost an update (threads running increment):")
    assert lines[story - 1] == "With 5 threads."  # details, then the race, then the replay
    assert (
        lines[story + 5] == "Run it again with the same seed: make check TASK=counter_lock SEED=9"
    )
    assert "✓ concurrent title" in text


def test_the_terminal_reads_the_fields_never_the_text(tmp_path: Path):
    """Text that looks like a location, a race or a replay is only text: no excerpt, no story,
    no highlight; the fields alone draw those (in the styles they always had)."""
    source = tmp_path / "counter.py"
    source.write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    prose = Feedback(
        "Updates were lost",
        where="exercises/counter.py:3  `c = 3`",
        details=(
            lost_update().describe(),
            "Run it again with the same seed: make check TASK=counter_lock SEED=9",
        ),
    )
    parts = terminal.feedback_parts(prose, source)
    assert len(parts) == 3 and all(part.style == "" for part in parts[1:])
    assert "How counter lost" not in shown(parts[1]) + shown(parts[2])
    parts = terminal.feedback_parts(feedback_of_a_race(), source)
    kinds = [type(part).__name__ for part in parts]
    assert kinds == ["Text", "Syntax", "Text", "Text", "Text", "Text"]
    assert parts[-2].style == "bold yellow" and parts[-2].plain.strip().startswith("Run it again")
    assert parts[3].plain.startswith("  How counter lost an update")
    elsewhere = Location("other/place.py", 3, "c = 3")  # another file than the one shown
    assert terminal.code_excerpt(elsewhere, source) is None


def test_not_started_is_the_kind_not_the_words():
    stub = Feedback("Not started yet: run_threads is not written yet", kind="not_started")
    worded = Feedback("Not started yet: run_threads is not written yet")
    assert terminal.is_not_started(result("counter_lock", ("exact_total", False, stub)))
    assert not terminal.is_not_started(result("counter_lock", ("exact_total", False, worded)))


def test_table_marks_next_up_in_workshop_order():
    stub = Feedback("Not started yet: run_threads is not written yet", kind="not_started")
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
    # the story's own replay line too, inside the panel: its border between the words, and
    # a path longer than the panel is wide folded (seen at COLUMNS=100, in a deep folder)
    panel = "".join(flat.replace("│", " ").split())
    replay = f"same seed: make check TASK=counter_lock SEED=7 SUBMISSION={mutant}"
    assert "".join(replay.split()) in panel
    assert "mutants/counter.py:" in run.stdout  # named after its folder, not a temp dir
    unfolded = "".join(run.stdout.replace("│", " ").split())  # a long path folds in the panel
    assert "".join(str(ROOT).split()) not in unfolded.replace("".join(str(mutant).split()), "")
