"""Gradescope's run_autograder: one submission into /autograder/results/results.json, as it goes.

What `make grade-one` does (the same isolate, run, score steps and results.json format,
graders.instructor.batch), with Gradescope's best practices on top:

- learner code runs as a user without privileges (graders.instructor.as_user; setup.sh creates
  it), while this process, root, writes the results where that user cannot;
- results.json is written before the first task starts (every task "not graded yet") and again
  after each task, each time to a temporary name renamed over the old one: if Gradescope's
  global timeout kills the autograder, the learner still sees every task graded so far and
  why the rest is missing, never a bare 0;
- every check has its own timeout inside the grading process, every task a wall-clock limit,
  and the whole submission a budget (`--submission-timeout`), as in `make grade`.

The learner id, which seeds the forced interleavings, is Gradescope's submission id (from
submission_metadata.json) when there is one: a regrade replays the same seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.engine.verdicts import IsolatedRun
from graders.instructor.batch import gradescope
from graders.instructor.batch.isolate import Prepared, prepare
from graders.instructor.batch.load import Submission, learner_id
from graders.instructor.batch.report import atomic_write
from graders.instructor.batch.run import RunOptions, learner_seed, not_run, run_submission
from graders.instructor.batch.score import LearnerGrade, score
from graders.tasks import TASKS

PENDING = "the autograder had not reached this task when it stopped (a time limit?)"
PENDING_HINT = "Nothing to fix in your code for this; ask your instructor to rerun the autograder."


@dataclass
class Autograder:
    """One submission's grading: where the results go, and what to record about the run."""

    results: Path
    options: RunOptions
    notes: dict[str, object] = field(default_factory=dict)  # extra_data: who ran the code...
    say: Callable[[str], None] = print  # the log (Gradescope keeps stdout for instructors)

    def grade(self, prepared: Prepared) -> LearnerGrade:
        """Every task in turn; results.json rewritten before the first and after each."""
        seed = learner_seed(prepared.learner, self.options.seed)
        self.write(prepared, seed, [])
        seed, runs = run_submission(
            prepared, self.options, after_task=lambda runs: self.after_task(prepared, seed, runs)
        )
        return self.write(prepared, seed, runs)

    def after_task(self, prepared: Prepared, seed: int, runs: list[IsolatedRun]) -> None:
        done = self.write(prepared, seed, runs).tasks[len(runs) - 1]
        self.say(f"{done.task}: {done.points}/{done.max_points} ({done.seconds:.1f} s)")

    def write(self, prepared: Prepared, seed: int, runs: list[IsolatedRun]) -> LearnerGrade:
        """results.json for the tasks run so far, the others "not graded yet"; the grade."""
        waiting = TASKS[len(runs) :]
        pending = [not_run(t, seed, PENDING, PENDING_HINT) for t in waiting]
        grade = score(prepared, seed, runs + pending)
        results = gradescope.results(grade)
        extra = results["extra_data"]
        assert isinstance(extra, dict)
        extra.update(self.notes, graded_tasks=len(runs), pending_tasks=[t.id for t in waiting])
        atomic_write(self.results / "results.json", json.dumps(results, indent=2) + "\n")
        return grade


def submission_id(metadata: Path | None) -> str:
    """Gradescope's id of this submission, from submission_metadata.json ("" if none)."""
    if metadata is None or not metadata.is_file():
        return ""
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if isinstance(value, (int, str)) and str(value) else ""


def grade_submission(
    source: Path, work: Path, autograder: Autograder, learner: str = ""
) -> LearnerGrade:
    """Isolate the submission's modules into `work`, then grade them with `autograder`."""
    prepared = prepare(Submission(learner_id(learner or "submission"), source), work)
    return autograder.grade(prepared)
