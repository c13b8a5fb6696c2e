"""Step 4, score: points per task and in total, from the registry's checks alone.

A check earns its points (declared on its @check, nowhere else) only if its grading process
reported it passed and nothing zeroed the task: tampering seen by the guard or by the report
channel (graders.engine.isolated already failed those checks), or a screen finding in the task's
module
("held for review": the checks' own verdicts are kept in the feedback for the instructor).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from graders.engine.runner import TaskResult
from graders.engine.verdicts import IsolatedRun
from graders.instructor.batch.isolate import Prepared
from graders.kit.feedback import Feedback
from graders.tasks import get_task


@dataclass
class TaskGrade:
    """One task of one learner: its checks as graded, and why any were zeroed."""

    result: TaskResult
    output: str = ""
    tampering: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)  # screen findings (the task scored 0)
    seconds: float = 0.0

    @property
    def task(self) -> str:
        return self.result.task

    @property
    def points(self) -> int:
        return self.result.points

    @property
    def max_points(self) -> int:
        return self.result.max_points

    def to_dict(self) -> dict[str, object]:
        return {
            "result": self.result.to_dict(),
            "output": self.output,
            "tampering": self.tampering,
            "blocked": self.blocked,
            "review": self.review,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict) -> TaskGrade:
        return cls(
            TaskResult.from_dict(data["result"]),
            str(data.get("output", "")),
            list(data.get("tampering", [])),
            list(data.get("blocked", [])),
            list(data.get("review", [])),
            float(data.get("seconds", 0.0)),
        )


@dataclass
class LearnerGrade:
    learner: str
    seed: int
    digest: str
    tasks: list[TaskGrade]

    @property
    def total(self) -> int:
        return sum(t.points for t in self.tasks)

    @property
    def max_total(self) -> int:
        return sum(t.max_points for t in self.tasks)

    def points(self) -> dict[str, int]:
        return {t.task: t.points for t in self.tasks}

    def to_dict(self) -> dict[str, object]:
        return {
            "learner": self.learner,
            "seed": self.seed,
            "digest": self.digest,
            "tasks": [t.to_dict() for t in self.tasks],
        }

    @classmethod
    def from_dict(cls, data: dict) -> LearnerGrade:
        tasks = [TaskGrade.from_dict(t) for t in data["tasks"]]
        return cls(str(data["learner"]), int(data["seed"]), str(data["digest"]), tasks)


def score(prepared: Prepared, seed: int, runs: list[IsolatedRun]) -> LearnerGrade:
    """The learner's grade from their runs, with screen findings applied."""
    tasks = []
    for run in runs:
        module = get_task(run.result.task).module
        review = [f.render() for f in prepared.findings.get(module, [])]
        result = _held(run.result, module, review) if review else run.result
        tasks.append(TaskGrade(result, run.output, run.tampering, run.blocked, review, run.seconds))
    return LearnerGrade(prepared.learner, seed, prepared.digest, tasks)


def _held(result: TaskResult, module: str, review: list[str]) -> TaskResult:
    """Every check failed, "held for review"; what each check said is kept in the details."""
    held = TaskResult(result.task, result.seed)
    for chk in result.checks:
        said = "passed" if chk.passed else (chk.feedback.summary if chk.feedback else "failed")
        feedback = Feedback(
            f"Held for review: {module} reaches into the grader, so this task scored 0",
            got=review[0],
            details=tuple(review[1:4]) + (f"The check itself said: {said}",),
            hint="Solve the task with ordinary threading code; your instructor will review it.",
            kind="not_graded",
        )
        held.checks.append(replace(chk, passed=False, feedback=feedback))
    return held
