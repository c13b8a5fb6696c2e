"""One task's verdict in the format GitHub Classroom's grading reporter reads.

classroom-resources/autograding-grading-reporter takes, for each runner step listed in its
`runners` input, the step's output `result`: base64 of JSON
`{"version": 1, "status": "pass"|"fail"|"error", "max_score": N, "tests": [...]}`, each test
`{"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}`. It
adds up every runner's `max_score` and every test's `score` into the "Points X/Y" that
Classroom records, and fails the job when a runner's status is not "pass". The handout's
workflow (templates/learner/.github/workflows/check.yml) runs one step per task, visible
checks only; the points are the checks' own (their @check decorators).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graders.engine.runner import CheckResult
    from graders.engine.verdicts import IsolatedRun
    from graders.tasks import Task

VERSION = 1


def result(run: IsolatedRun, task: Task, submission_name: str = "exercises") -> dict[str, object]:
    """The reporter's JSON for one task's isolated run.

    "error" (rather than "fail") when the verdicts are not the checks' own: the grading process
    ended early, ran out of time, or saw tampering.
    """
    checks = run.result.checks
    if run.tampering or run.exit_code != 0:
        status = "error"
    else:
        status = "pass" if run.result.passed else "fail"
    filename = f"{submission_name}/{task.module}"
    test_code = f"make check TASK={task.id} SEED={run.result.seed}"
    return {
        "version": VERSION,
        "status": status,
        "max_score": run.result.max_points,
        "tests": [_test(chk, filename, test_code) for chk in checks],
    }


def _test(chk: CheckResult, filename: str, test_code: str) -> dict[str, object]:
    message = chk.feedback.render() if chk.feedback is not None and not chk.passed else ""
    return {
        "name": chk.title,
        "status": "pass" if chk.passed else "fail",
        "score": chk.points,
        "message": message,
        "test_code": test_code,
        "filename": filename,
        "line_no": _line_no(chk),
        "duration": round(chk.seconds, 3),
    }


def _line_no(chk: CheckResult) -> int:
    """The line of the learner's file the failure points at (0 when it names none)."""
    if chk.passed or chk.feedback is None or chk.feedback.location is None:
        return 0
    return chk.feedback.location.line


def encode(data: dict[str, object]) -> str:
    """One line of base64 of compact JSON: what the step puts in its `result` output."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode(line: str) -> dict[str, object]:
    """The JSON back from a `result` output, as the reporter reads it."""
    data = json.loads(base64.b64decode(line).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("a classroom result is a JSON object")
    return data
