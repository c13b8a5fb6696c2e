"""Learner-facing failure messages.

A check that fails raises `CheckFailed`: what was expected, what the learner's code did, where
in *their* file it matters, and one hint. It subclasses AssertionError so that pytest and
nbgrader count it as an ordinary test failure, while the runner and the terminal report show
its fields instead of a grader traceback.
"""

from __future__ import annotations

import linecache
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True)
class Feedback:
    """Everything a learner needs to understand one failed check."""

    summary: str
    expected: str = ""
    got: str = ""
    where: str = ""
    hint: str = ""
    details: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        """Plain-text form, for pytest, nbgrader and feedback files."""
        lines = [self.summary]
        for label, text in (("Expected", self.expected), ("Your code", self.got)):
            if text:
                lines.append(f"  {label}: {text}")
        if self.where:
            lines.append(f"  Where: {self.where}")
        lines.extend(f"  {line}" for line in self.details)
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "expected": self.expected,
            "got": self.got,
            "where": self.where,
            "hint": self.hint,
            "details": list(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Feedback:
        # Values come from a parsed report; the dataclass takes them as they are.
        fields = {k: data.get(k, "") for k in ("summary", "expected", "got", "where", "hint")}
        return cls(**fields, details=tuple(data.get("details") or ()))  # type: ignore[arg-type]


class CheckFailed(AssertionError):
    """Raised by a check when the learner's code does not do what the task asks."""

    def __init__(
        self,
        summary: str,
        *,
        expected: str = "",
        got: str = "",
        where: str = "",
        hint: str = "",
        details: Iterable[str] = (),
    ) -> None:
        self.feedback = Feedback(summary, expected, got, where, hint, tuple(details))
        super().__init__(self.feedback.render())

    @classmethod
    def from_feedback(cls, feedback: Feedback) -> CheckFailed:
        """Raise an existing Feedback again (e.g. with a task-specific hint put in)."""
        return cls(
            feedback.summary,
            expected=feedback.expected,
            got=feedback.got,
            where=feedback.where,
            hint=feedback.hint,
            details=feedback.details,
        )


def source_line(path: str | Path, line: int) -> str:
    """The stripped text of one line of a file, or '' if it cannot be read."""
    return linecache.getline(str(path), line).strip()


def location(path: str | Path, line: int) -> str:
    """'exercises/counter.py:14  `counter = new`' style reference to a learner's line."""
    text = source_line(path, line)
    shown = display_path(path)
    return f"{shown}:{line}  `{text}`" if text else f"{shown}:{line}"


def display_path(path: str | Path) -> str:
    """A short path for messages: the submission folder's name and the file name."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def learner_frame(tb: TracebackType | None, files: Iterable[str]) -> tuple[str, int] | None:
    """The innermost traceback entry that lies in one of the learner's files."""
    wanted = {str(Path(f).resolve()) for f in files}
    found = None
    for entry in traceback.extract_tb(tb):
        if str(Path(entry.filename).resolve()) in wanted and entry.lineno:
            found = (entry.filename, entry.lineno)
    return found


def describe_exception(exc: BaseException, files: Iterable[str], context: str) -> CheckFailed:
    """Turn an exception raised by learner code into a learner-facing failure."""
    frame = learner_frame(exc.__traceback__, files)
    where = location(*frame) if frame else ""
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, NotImplementedError):
        return CheckFailed(f"Not started yet: {text}", where=where, hint=HINTS_BY_EXCEPTION[name])
    hint = HINTS_BY_EXCEPTION.get(name, "Read the error and the line it points at.")
    return CheckFailed(
        f"{context} raised {name}: {text}", got=f"{name}: {text}", where=where, hint=hint
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
