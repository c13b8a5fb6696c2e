"""Learner-facing failure messages.

A check that fails raises `CheckFailed`: what was expected, what the learner's code did, where
in *their* file it matters, and one hint. It subclasses AssertionError so that pytest and
nbgrader count it as an ordinary test failure, while the runner and the terminal report show
its fields instead of a grader traceback.

Besides that text, a `Feedback` carries data for the readers that draw more than text: its
`kind`, the `location` of the line `where` names, the steps of a lost update the interleaver
forced (`race`), and the seed that replays the run (`replay`). It crosses from the grading
process to its parent in the plain form of `to_dict`, and `from_dict` checks every field's type
on the way back (graders.engine.worker and graders.engine.isolated both call it).
"""

from __future__ import annotations

import functools
import linecache
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar, cast, get_args

T = TypeVar("T")

Kind = Literal[
    "failed",  # the code ran and did something else than the task asks
    "not_started",  # the function is still the stub: it raises NotImplementedError
    "crash",  # the learner's code raised, exited, or took the grading process down
    "race",  # threads switching at the wrong moment broke the result
    "deadlock",  # threads that would have waited for each other (or a lock) forever
    "timeout",  # the code ran past a check's or the task's time limit
    "grader_error",  # the grader failed, not the learner's code
    "not_graded",  # the task was not graded: tampering, a flood of output, held for review
]
KINDS: frozenset[str] = frozenset(get_args(Kind))
Action = Literal["read", "wrote"]


@dataclass(frozen=True)
class Location:
    """One line of the learner's file, as `Where:` shows it."""

    file: str  # as the learner sees it: 'exercises/counter.py'
    line: int
    code: str = ""  # the stripped text of that line, as the grader read it

    @classmethod
    def of(cls, path: str | Path, line: int) -> Location:
        return cls(display_path(path), line, source_line(path, line))

    @property
    def text(self) -> str:
        """'exercises/counter.py:14  `counter = new`' (without the code if it is unknown)."""
        return (
            f"{self.file}:{self.line}  `{self.code}`" if self.code else f"{self.file}:{self.line}"
        )


@dataclass(frozen=True)
class RaceStep:
    """One access of a lost update: a thread read or wrote the shared name at a line."""

    thread: str
    action: Action
    value: str  # the value's short repr
    line: int
    code: str  # the stripped text of that line


@dataclass(frozen=True)
class Race:
    """A lost update: a thread read `name`, another wrote it, then the first wrote over that."""

    name: str
    steps: tuple[RaceStep, RaceStep, RaceStep]

    @property
    def overwritten(self) -> str:
        """The thread whose update was lost."""
        return self.steps[1].thread

    def describe(self) -> str:
        """One sentence for the learner: who read, who wrote in between, whose update was lost."""
        read, write, over = self.steps
        return (
            f"{read.thread} read {self.name} = {read.value} at line {read.line} (`{read.code}`); "
            f"{write.thread} then wrote {self.name} = {write.value} at line {write.line}; "
            f"{over.thread} wrote {over.value} at line {over.line} over it, "
            f"so {write.thread}'s update was lost."
        )


@dataclass(frozen=True)
class Replay:
    """The run's forced interleavings can be seen again with this task and seed."""

    task: str
    seed: int

    def line(self, submission: str = "") -> str:
        """The sentence with the command; `submission`: the folder or file make check was
        given, when it was not exercises/ (only the learner's terminal knows it)."""
        where = f" SUBMISSION={submission}" if submission else ""
        return (
            f"Run it again with the same seed: make check TASK={self.task} SEED={self.seed}{where}"
        )


@dataclass(frozen=True)
class Feedback:
    """Everything a learner needs to understand one failed check."""

    summary: str
    _: KW_ONLY
    expected: str = ""
    got: str = ""
    where: str = ""
    hint: str = ""
    details: tuple[str, ...] = field(default_factory=tuple)
    kind: Kind = "failed"
    location: Location | None = None  # the line `where` names, when it names one
    race: Race | None = None
    replay: Replay | None = None

    def render(self) -> str:
        """Plain-text form, for pytest, nbgrader and feedback files."""
        lines = [self.summary]
        for label, text in (("Expected", self.expected), ("Your code", self.got)):
            if text:
                lines.append(f"  {label}: {text}")
        if self.where:
            lines.append(f"  Where: {self.where}")
        lines.extend(f"  {line}" for line in self._notes())
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def _notes(self) -> tuple[str, ...]:
        """The lines under `where` in plain text: the details, the race, the replay command."""
        race = (self.race.describe(),) if self.race else ()
        replay = (self.replay.line(),) if self.replay else ()
        return (*self.details, *race, *replay)

    def to_dict(self) -> dict[str, object]:
        """Plain values only (str, int, None, lists and dicts of them): JSON and a sealed line."""
        return {
            "summary": self.summary,
            "expected": self.expected,
            "got": self.got,
            "where": self.where,
            "hint": self.hint,
            "details": list(self.details),
            "kind": self.kind,
            "location": _plain(self.location),
            "race": _plain_race(self.race),
            "replay": _plain(self.replay),
        }

    @classmethod
    def from_dict(cls, data: object) -> Feedback:
        """The Feedback that `to_dict` gave, every field's type checked.

        Raises FeedbackError, naming the field, for anything else. A field left out takes its
        default, so records written before it existed still load.
        """
        record = _record(data, "feedback", _FIELDS, required=("summary",))
        return cls(
            _text(record, "summary"),
            expected=_text(record, "expected"),
            got=_text(record, "got"),
            where=_text(record, "where"),
            hint=_text(record, "hint"),
            details=_texts(record, "details"),
            kind=_kind(record.get("kind", "failed")),
            location=_optional(record, "location", _location),
            race=_optional(record, "race", _race),
            replay=_optional(record, "replay", _replay),
        )


class FeedbackError(ValueError):
    """A feedback record whose fields do not have the types Feedback declares."""


class CheckFailed(AssertionError):
    """Raised by a check when the learner's code does not do what the task asks.

    `where` is the text after `Where:`; given a `location` and no `where`, it is the
    location's text.
    """

    def __init__(
        self,
        summary: str,
        *,
        expected: str = "",
        got: str = "",
        where: str = "",
        hint: str = "",
        details: Iterable[str] = (),
        kind: Kind = "failed",
        location: Location | None = None,
        race: Race | None = None,
        replay: Replay | None = None,
    ) -> None:
        self.feedback = Feedback(
            summary,
            expected=expected,
            got=got,
            where=where or (location.text if location is not None else ""),
            hint=hint,
            details=tuple(details),
            kind=kind,
            location=location,
            race=race,
            replay=replay,
        )
        super().__init__(self.feedback.render())

    @classmethod
    def from_feedback(cls, feedback: Feedback) -> CheckFailed:
        """Raise an existing Feedback again (e.g. with a task-specific hint put in)."""
        values = {f.name: getattr(feedback, f.name) for f in fields(Feedback)}
        return cls(**values)


def source_line(path: str | Path, line: int) -> str:
    """The stripped text of one line of a file, or '' if it cannot be read."""
    return linecache.getline(str(path), line).strip()


def location(path: str | Path, line: int) -> str:
    """'exercises/counter.py:14  `counter = new`' style reference to a learner's line."""
    return Location.of(path, line).text


def display_path(path: str | Path) -> str:
    """A short path for messages: the submission folder's name and the file name."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def learner_frame(tb: TracebackType | None, files: Iterable[str]) -> tuple[str, int] | None:
    """The innermost traceback entry that lies in one of the learner's files."""
    wanted = {_real_path(str(f)) for f in files}
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if tb.tb_lineno and _real_path(filename) in wanted:
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


@functools.lru_cache(maxsize=1024)
def _real_path(filename: str) -> str:
    """A file name with its symlinks resolved, once per name: every failing check looks up the
    same kit and library files (resolving them was a fifth of a failing check's time)."""
    return os.path.realpath(filename)


def describe_exception(exc: BaseException, files: Iterable[str], context: str) -> CheckFailed:
    """Turn an exception raised by learner code into a learner-facing failure."""
    frame = learner_frame(exc.__traceback__, files)
    at = Location.of(*frame) if frame else None
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, NotImplementedError):
        return CheckFailed(
            f"Not started yet: {text}",
            location=at,
            hint=HINTS_BY_EXCEPTION[name],
            kind="not_started",
        )
    hint = HINTS_BY_EXCEPTION.get(name, "Read the error and the line it points at.")
    return CheckFailed(
        f"{context} raised {name}: {text}",
        got=f"{name}: {text}",
        location=at,
        hint=hint,
        kind="crash",
    )


def grader_error(summary: str, got: str) -> Feedback:
    """A failure of the grader itself: the learner is told so, and to pass it on."""
    return Feedback(
        f"{summary} (not your fault, no points were given).",
        got=got,
        hint="Tell your instructor, and include this message.",
        kind="grader_error",
    )


HINTS_BY_EXCEPTION = {
    "NotImplementedError": "This function is still the stub: replace the `raise "
    "NotImplementedError` with your code.",
    "IndexError": "Two threads may have taken from the same list at once: check and take "
    "under one lock.",
    "RuntimeError": "A thread can be started only once, and must be started before it is joined.",
    "TypeError": "Check the types and arguments on that line. With threads: "
    "`Thread(target=f, args=(a, b))` passes the function itself, not the result of calling it.",
}


# ---------------------------------------------------------------- the plain form

_FIELDS = frozenset(f.name for f in fields(Feedback))
_LOCATION = frozenset({"file", "line", "code"})
_STEP = frozenset({"thread", "action", "value", "line", "code"})
_ACTIONS = frozenset(get_args(Action))


def _plain(record: Location | Replay | None) -> dict[str, object] | None:
    return None if record is None else {f.name: getattr(record, f.name) for f in fields(record)}


def _plain_race(race: Race | None) -> dict[str, object] | None:
    if race is None:
        return None
    return {"name": race.name, "steps": [_plain_step(step) for step in race.steps]}


def _plain_step(step: RaceStep) -> dict[str, object]:
    return {f.name: getattr(step, f.name) for f in fields(step)}


def _record(
    data: object, what: str, known: frozenset[str], required: Iterable[str]
) -> Mapping[str, object]:
    """`data` as a dict of known fields with string keys, holding every required one."""
    if type(data) is not dict:
        raise FeedbackError(f"{what} must be a dict, not {type(data).__name__}")
    unknown = sorted(repr(k) for k in data if k not in known)
    if unknown:
        raise FeedbackError(f"{what} has unknown fields: {', '.join(unknown)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise FeedbackError(f"{what} lacks {', '.join(missing)}")
    return cast("dict[str, object]", data)


def _text(record: Mapping[str, object], key: str, what: str = "feedback") -> str:
    value = record.get(key, "")
    if type(value) is not str:
        raise FeedbackError(f"{what}.{key} must be a str, not {type(value).__name__}")
    return value


def _number(record: Mapping[str, object], key: str, what: str) -> int:
    value = record.get(key)
    if type(value) is not int or value < 0:
        raise FeedbackError(f"{what}.{key} must be an int >= 0, not {value!r}")
    return value


def _texts(record: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = record.get(key, ())
    if type(value) not in (list, tuple):
        raise FeedbackError(f"feedback.{key} must be a list, not {type(value).__name__}")
    items = tuple(cast("list[object]", value))
    wrong = next((x for x in items if type(x) is not str), None)
    if wrong is not None:
        raise FeedbackError(f"feedback.{key} must hold str only, not {type(wrong).__name__}")
    return cast("tuple[str, ...]", items)


def _kind(value: object) -> Kind:
    if type(value) is not str or value not in KINDS:
        raise FeedbackError(f"feedback.kind must be one of {', '.join(sorted(KINDS))}: {value!r}")
    return cast(Kind, value)


def _optional(record: Mapping[str, object], key: str, read: Callable[[object], T]) -> T | None:
    value = record.get(key)
    return None if value is None else read(value)


def _location(data: object) -> Location:
    what = "feedback.location"
    record = _record(data, what, _LOCATION, required=("file", "line"))
    file, line = _text(record, "file", what), _number(record, "line", what)
    return Location(file, line, _text(record, "code", what))


def _replay(data: object) -> Replay:
    what = "feedback.replay"
    record = _record(data, what, frozenset({"task", "seed"}), required=("task", "seed"))
    return Replay(_text(record, "task", what), _number(record, "seed", what))


def _race(data: object) -> Race:
    what = "feedback.race"
    record = _record(data, what, frozenset({"name", "steps"}), required=("name", "steps"))
    steps = record["steps"]
    if type(steps) not in (list, tuple) or len(cast("list[object]", steps)) != 3:
        raise FeedbackError(f"{what}.steps must be a list of 3 steps")
    read, write, over = (_step(s) for s in cast("list[object]", steps))
    return Race(_text(record, "name", what), (read, write, over))


def _step(data: object) -> RaceStep:
    what = "feedback.race.steps[]"
    record = _record(data, what, _STEP, required=tuple(_STEP))
    action = record["action"]
    if type(action) is not str or action not in _ACTIONS:
        raise FeedbackError(f"{what}.action must be 'read' or 'wrote', not {action!r}")
    return RaceStep(
        _text(record, "thread", what),
        cast(Action, action),
        _text(record, "value", what),
        _number(record, "line", what),
        _text(record, "code", what),
    )
