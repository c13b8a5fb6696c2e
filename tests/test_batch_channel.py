"""The report channel believes only sealed lines, in sequence, naming the task's checks once each.

These run no process: they feed graders.engine.isolated's decoder the lines a grading process (or a
learner's code pretending to be one) could write to the pipe.
"""

from __future__ import annotations

from graders.engine.channel import Secret, sealer, unseal
from graders.engine.process import DEFAULT_LIMITS
from graders.engine.verdicts import decode
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
