"""Feedback's fields are data: a plain form that crosses the sealed channel and JSON records, and
a reader that checks every field's type (graders.kit.feedback), used on both sides of the
channel (graders.engine.worker before sealing, graders.engine.isolated after unsealing).
"""

from __future__ import annotations

import ast
import json

import pytest

from graders.engine.worker import _plain_feedback
from graders.kit.feedback import (
    CheckFailed,
    Feedback,
    FeedbackError,
    Location,
    Race,
    RaceStep,
    Replay,
)

RACE = Race(
    "counter",
    (
        RaceStep("Thread-1 (increment)", "read", "41", 15, "new = counter + 1"),
        RaceStep("Thread-2 (increment)", "wrote", "42", 16, "counter = new"),
        RaceStep("Thread-1 (increment)", "wrote", "42", 16, "counter = new"),
    ),
)
FULL = CheckFailed(
    "Updates to counter were lost",
    expected="run_threads(n_threads=5, times=100) to return 500",
    got="returned 149",
    location=Location("exercises/counter.py", 16, "counter = new"),
    details=["With 5 threads."],
    hint="Use one lock.",
    kind="race",
    race=RACE,
    replay=Replay("counter_lock", 9),
).feedback


def test_the_plain_form_survives_the_channel_and_json_unchanged():
    sealed = ast.literal_eval(repr(FULL.to_dict()))  # what the parent reads off the pipe
    assert Feedback.from_dict(sealed) == FULL
    assert Feedback.from_dict(json.loads(json.dumps(FULL.to_dict()))) == FULL


def test_the_text_is_what_the_lines_in_details_used_to_say():
    """The race sentence and the replay line come from the fields, where details had them."""
    assert FULL.where == "exercises/counter.py:16  `counter = new`"
    assert FULL.render().splitlines()[3:] == [
        "  Where: exercises/counter.py:16  `counter = new`",
        "  With 5 threads.",
        "  Thread-1 (increment) read counter = 41 at line 15 (`new = counter + 1`); "
        "Thread-2 (increment) then wrote counter = 42 at line 16; Thread-1 (increment) wrote "
        "42 at line 16 over it, so Thread-2 (increment)'s update was lost.",
        "  Run it again with the same seed: make check TASK=counter_lock SEED=9",
        "  Hint: Use one lock.",
    ]


def test_a_record_from_before_the_typed_fields_still_loads():
    old = {"summary": "s", "expected": "", "got": "", "where": "", "hint": "h", "details": []}
    assert Feedback.from_dict(old) == Feedback("s", hint="h")


def test_check_failed_fills_where_from_location_and_from_feedback_keeps_every_field():
    assert CheckFailed("s", location=Location("ex/a.py", 3)).feedback.where == "ex/a.py:3"
    assert CheckFailed("s", where="ex/a.py", location=None).feedback.location is None
    assert CheckFailed.from_feedback(FULL).feedback == FULL


def _with(**changes: object) -> dict[str, object]:
    return FULL.to_dict() | changes


def _step(**changes: object) -> dict[str, object]:
    return {"thread": "T", "action": "read", "value": "1", "line": 3, "code": ""} | changes


class Text(str):
    """A str subclass: its repr could be anything, so the channel takes exact str only."""


BAD = {
    "summary int": (_with(summary=3), "feedback.summary must be a str, not int"),
    "summary subclass": (_with(summary=Text("s")), "feedback.summary must be a str, not Text"),
    "details text": (_with(details="abc"), "feedback.details must be a list, not str"),
    "details item": (_with(details=["a", 2]), "feedback.details must hold str only, not int"),
    "kind unknown": (_with(kind="oops"), "feedback.kind must be one of"),
    "kind list": (_with(kind=["race"]), "feedback.kind must be one of"),
    "location tuple": (_with(location=("f.py", 3)), "feedback.location must be a dict"),
    "location line": (_with(location={"file": "f.py", "line": "3"}), "location.line must be"),
    "location bool": (_with(location={"file": "f.py", "line": True}), "location.line must be"),
    "location no line": (_with(location={"file": "f.py"}), "feedback.location lacks line"),
    "race two steps": (
        _with(race={"name": "c", "steps": [_step(), _step()]}),
        "feedback.race.steps must be a list of 3 steps",
    ),
    "race action": (
        _with(race={"name": "c", "steps": [_step(action="write"), _step(), _step()]}),
        "action must be 'read' or 'wrote'",
    ),
    "race action list": (
        _with(race={"name": "c", "steps": [_step(action=[]), _step(), _step()]}),
        "action must be 'read' or 'wrote'",
    ),
    "replay seed": (_with(replay={"task": "t", "seed": "1"}), "feedback.replay.seed must be"),
    "unknown field": (_with(points=10), "feedback has unknown fields: 'points'"),
    "no summary": ({"hint": "h"}, "feedback lacks summary"),
    "not a dict": (["summary"], "feedback must be a dict, not list"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_field_of_the_wrong_type_is_named_in_a_feedback_error(case: str):
    data, message = BAD[case]
    with pytest.raises(FeedbackError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Feedback.from_dict(data)


def test_the_worker_sends_well_typed_feedback_as_is():
    assert _plain_feedback(FULL) == FULL.to_dict()
    assert _plain_feedback(None) is None


@pytest.mark.parametrize(
    "feedback",
    [
        Feedback(Text("learner code raised CheckFailed itself")),
        Feedback("s", details=(3,)),  # type: ignore[arg-type]
        Feedback("s", location=("f.py", 3)),  # type: ignore[arg-type]
        "not a Feedback at all",
    ],
)
def test_the_worker_sends_a_grader_error_for_feedback_it_cannot_send(feedback: object):
    sent = _plain_feedback(feedback)  # type: ignore[arg-type]
    read = Feedback.from_dict(sent)  # the parent reads it like any other
    assert read.kind == "grader_error"
    assert read.summary.startswith("The grader could not send this check's verdict")
    assert read.got  # what was wrong, for the instructor
