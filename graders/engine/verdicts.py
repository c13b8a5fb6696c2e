"""Turning a grading process's unsealed report into a verdict for every check of its task.

The parent (graders.engine.isolated) opens the report with the run's key
(graders.engine.channel); what opened is judged here against the task's own list of checks:
only lines that verify count, in sequence, naming exactly the task's checks in order, each
once, then "done". Points always come from the parent's own registry, never from the report.
Whatever happened, the result holds every check of the task: a check the process did not
report on is failed with the reason (a time limit, a signal, an exit), and when the process's
guard saw tampering, or the report itself was wrong, every check of the task is failed.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graders.engine.channel import Opened
from graders.engine.process import Limits
from graders.engine.runner import CheckResult, TaskResult
from graders.kit.checks import select
from graders.kit.feedback import Feedback, FeedbackError, grader_error
from graders.tasks import get_task

if TYPE_CHECKING:  # annotations only, like the modules the guard snapshots
    from collections.abc import Collection
    from typing import Any


@dataclass
class IsolatedRun:
    """One task run in a grading process: every check's verdict, and what the run left."""

    result: TaskResult
    output: str  # what the learner's code printed (cut at Limits.output_bytes)
    exit_code: int | None  # None: killed for running past Limits.seconds
    tampering: list[str] = field(default_factory=list)  # why the task was not graded
    blocked: list[str] = field(default_factory=list)  # what the learner's code was refused
    seconds: float = 0.0
    # what failed every passed check: the process did not finish the task (None: it did)
    ended_early: Feedback | None = None
    # what failed every check: tampering, a flood of output (None: nothing did)
    spoiled: Feedback | None = None


def decode(
    task_id: str,
    seed: int,
    hidden: bool,
    opened: Opened,
    exit_code: int | None,
    limits: Limits,
    only: Collection[str] | None = None,
) -> IsolatedRun:
    """The child's sealed report, checked against the task's own list of checks (the ones
    named in `only`, when the process ran just those)."""
    expected = select(get_task(task_id).checks(hidden=hidden), only)
    reported, notes, problems, done = _read_report(opened, [c.name for c in expected])
    tampering = [f"{what} ({where})" for kind, what, where in notes if kind == "tamper"]
    tampering += problems
    blocked = [f"{what} ({where})" for kind, what, where in notes if kind == "blocked"]
    reason = _tampered(tampering) if tampering else _missing_reason(exit_code, limits)
    early = None if done else _ended_early(reason)
    result = TaskResult(task_id, seed)
    for chk in expected:
        passed, feedback, seconds = reported.get(chk.name, (False, reason, 0.0))
        if passed and early is not None:  # the process died later on: the task scores 0
            passed, feedback = False, early
        result.checks.append(
            CheckResult(
                task=task_id,
                name=chk.name,
                title=chk.title,
                max_points=chk.points,
                hidden=chk.hidden,
                passed=passed,
                feedback=feedback,
                seconds=seconds,
            )
        )
    run = IsolatedRun(result, "", exit_code, tampering, blocked, ended_early=early)
    if tampering:
        fail_all(run, reason)
    return run


Verdict = tuple[bool, Feedback | None, float]
Note = tuple[str, str, str]


def _read_report(
    opened: Opened, names: list[str]
) -> tuple[dict[str, Verdict], list[Note], list[str], bool]:
    """Verdicts by check name, the guard's notes, what was wrong with the report, and whether
    it ended properly (every check, then "done").

    A body is ("check", name, passed, seconds, feedback) or ("done", count), and the guard
    appends its notes to each. Only the first report of each expected check, in order, counts.
    """
    reported: dict[str, Verdict] = {}
    notes: list[Note] = []
    problems = [f"the report pipe carried a forged line: {r}" for r in opened.rejected[:3]]
    done = False
    for message in opened.messages:
        if type(message[-1]) is tuple:
            notes += [n for n in message[-1] if _is_note(n)]
        kind, body = message[0], message[1:-1]
        if done:
            problems.append("the report went on after it ended")
        elif kind == "done":
            done = True
            if body != (len(names),) or len(reported) != len(names):
                problems.append("the report's check count does not match the task's")
        elif kind != "check" or len(body) != 4 or len(reported) >= len(names):
            problems.append("the report held a message that is not a check of this task")
        elif body[0] != names[len(reported)]:
            problems.append(f"the report named an unexpected or repeated check: {body[0]!r}")
        else:
            reported[body[0]] = _verdict(body)
    return reported, notes, problems, done


def _is_note(note: object) -> bool:
    return type(note) is tuple and len(note) == 3 and all(type(x) is str for x in note)


def _verdict(body: tuple[Any, ...]) -> Verdict:
    """passed, feedback and seconds from a sealed (name, passed, seconds, feedback) body.

    Feedback whose fields do not have Feedback's types fails the check as a grader error.
    """
    _, passed, seconds, feedback = body
    secs = float(seconds) if type(seconds) in (int, float) else 0.0
    if feedback is None:
        return passed is True, None, secs
    try:
        return passed is True, Feedback.from_dict(feedback), secs
    except FeedbackError as exc:
        return False, grader_error("The grader could not read this check's verdict", str(exc)), secs


def _ended_early(reason: Feedback) -> Feedback:
    return Feedback(
        "This check passed, but the grading process did not finish the task, which scores 0",
        got=reason.summary,
        hint=reason.hint,
        kind=reason.kind,
    )


def fail_all(run: IsolatedRun, feedback: Feedback) -> None:
    """Fail every check of the run with `feedback`, and note why (IsolatedRun.spoiled)."""
    run.spoiled = feedback
    for chk in run.result.checks:
        chk.passed, chk.feedback = False, feedback


def flooded(limits: Limits) -> Feedback:
    return Feedback(
        f"Your code printed more than {limits.flood_bytes // 1024} KiB, so the task was stopped "
        "and scored 0",
        hint="Print a few lines per thread at most; never print inside a tight loop.",
        kind="not_graded",
    )


def _tampered(evidence: list[str]) -> Feedback:
    return Feedback(
        "Your code tampered with the grader, so this task was not graded (0 points)",
        got=evidence[0],
        details=tuple(evidence[1:5]),
        hint="Solve the task with ordinary threading code; ask your instructor to review.",
        kind="not_graded",
    )


def _missing_reason(exit_code: int | None, limits: Limits) -> Feedback:
    if exit_code is None:
        return Feedback(
            f"Your code kept the checks running past {limits.seconds:g} s, so they were stopped",
            hint="Look for a loop that never ends, or a join() or lock that waits forever.",
            kind="timeout",
        )
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        if name == "SIGXFSZ":
            return Feedback(
                f"Your code wrote a file bigger than {limits.file_bytes // 1024**2} MiB, "
                "so the grading process was stopped",
                hint="Write each result file once, with just the page's text.",
                kind="crash",
            )
        return Feedback(
            f"The grading process was killed by {name} while running your code",
            hint="This usually means it used too much memory "
            f"(the limit is {limits.memory_bytes // 1024**2} MiB).",
            kind="crash",
        )
    return Feedback(
        f"The grading process ended (exit code {exit_code}) before your code was checked",
        hint="Do not call sys.exit(), os._exit() or os.kill() in your module.",
        kind="crash",
    )
