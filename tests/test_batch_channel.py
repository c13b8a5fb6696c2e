"""The report channel believes only sealed lines, in sequence, naming the task's checks once each.

These run no process: they feed graders.engine.isolated's decoder the lines a grading process (or a
learner's code pretending to be one) could write to the pipe.
"""

from __future__ import annotations

from graders.engine.channel import Secret, sealer, unseal
from graders.engine.process import DEFAULT_LIMITS
from graders.engine.verdicts import decode
from graders.kit.feedback import CheckFailed, Location, Replay
from graders.tasks import get_task

TASK = "start_join"
NAMES = [c.name for c in get_task(TASK).checks(hidden=True)]


def sealed(secret: Secret, bodies: list[tuple]) -> bytes:
    seal = sealer(secret.key)
    return b"".join(seal((secret.nonce, seq) + body + ((),)) for seq, body in enumerate(bodies))


def honest(names: list[str], passed: bool = True) -> list[tuple]:
    return [("check", n, passed, 0.1, None) for n in names] + [("done", len(names))]


def decoded(data: bytes, secret: Secret):
    return decode(TASK, 7, True, unseal(secret, data), 0, DEFAULT_LIMITS)


def test_an_honest_report_is_believed():
    secret = Secret.new()
    run = decoded(sealed(secret, honest(NAMES)), secret)
    assert run.tampering == []
    assert run.result.points == run.result.max_points == get_task(TASK).max_points(hidden=True)


def test_lines_sealed_with_another_key_are_forgeries_and_zero_the_task():
    secret, other = Secret.new(), Secret.new()
    data = sealed(other, honest(NAMES)) + sealed(secret, honest(NAMES))
    run = decoded(data, secret)
    assert run.result.points == 0
    assert any("forged line" in t for t in run.tampering)


def test_a_replayed_or_reordered_line_is_rejected():
    secret = Secret.new()
    lines = sealed(secret, honest(NAMES)).splitlines(keepends=True)
    run = decoded(lines[0] + lines[0] + b"".join(lines[1:]), secret)
    assert run.result.points == 0 and run.tampering


def test_unknown_duplicate_and_missing_checks_are_rejected():
    secret = Secret.new()
    for names in (NAMES + ["bonus"], [NAMES[0]] + NAMES, NAMES[:-1], ["bonus"] + NAMES[1:]):
        run = decoded(sealed(secret, honest(names)), secret)
        assert run.result.points == 0, names
        assert run.tampering, names


def test_points_come_from_the_registry_not_from_the_report():
    secret = Secret.new()
    bodies = [("check", n, True, 0.1, None, 1000) for n in NAMES] + [("done", len(NAMES))]
    run = decoded(sealed(secret, bodies), secret)
    assert run.result.points == 0  # a body of the wrong shape is not a verdict
    run = decoded(sealed(secret, honest(NAMES)), secret)
    assert [c.max_points for c in run.result.checks] == [
        c.points for c in get_task(TASK).checks(hidden=True)
    ]


def test_a_report_that_stops_early_scores_zero_with_the_reason():
    secret = Secret.new()
    run = decoded(sealed(secret, honest(NAMES)[:2]), secret)
    assert run.result.points == 0 and run.tampering == []
    assert "did not finish the task" in run.result.checks[0].feedback.summary
    assert "ended (exit code 0)" in run.result.checks[0].feedback.got
    assert "ended (exit code 0)" in run.result.checks[-1].feedback.summary


def test_typed_feedback_crosses_the_channel_as_its_fields():
    secret = Secret.new()
    feedback = CheckFailed(
        "Updates were lost",
        location=Location("exercises/start_join.py", 12, "x = 1"),
        kind="race",
        replay=Replay(TASK, 7),
    ).feedback
    bodies = honest(NAMES)
    bodies[0] = ("check", NAMES[0], False, 0.1, feedback.to_dict())
    first = decoded(sealed(secret, bodies), secret).result.checks[0]
    assert first.feedback == feedback and not first.passed


def test_feedback_of_the_wrong_types_fails_its_check_as_a_grader_error():
    """Not a crash, not tampering: the check fails, saying which field was wrong."""
    secret = Secret.new()
    good = CheckFailed("s", location=Location("exercises/start_join.py", 12)).feedback.to_dict()
    bad = good | {"location": {"file": "exercises/start_join.py", "line": "12"}}
    bodies = honest(NAMES)
    bodies[1] = ("check", NAMES[1], True, 0.1, bad)
    bodies[2] = ("check", NAMES[2], True, 0.1, "a string where feedback goes")
    run = decoded(sealed(secret, bodies), secret)
    assert run.tampering == []
    assert [c.passed for c in run.result.checks[:4]] == [True, False, False, True]
    for chk, field in zip(run.result.checks[1:3], ("location.line", "feedback must be a dict")):
        assert chk.feedback.kind == "grader_error"
        assert chk.feedback.summary.startswith("The grader could not read this check's verdict")
        assert field in chk.feedback.got
