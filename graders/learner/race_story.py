"""The interleaving that broke a count, as three numbered steps a learner can follow.

A check that finds a lost update puts `LostUpdate.describe()` (graders.kit.interleave) in its
feedback details: one sentence, because feedback travels as text from the grading process.
`parse` reads that sentence back into steps (None for any other line, so other details stay
as they are) and `render` draws them with the learner's own source lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text

# The shape of LostUpdate.describe(); tests/test_learner_check.py pins the two together.
_STORY = re.compile(
    r"^(?P<rt>.+?) read (?P<name>\w+) = (?P<rv>.+?) at line (?P<rl>\d+) \(`(?P<rs>.*?)`\); "
    r"(?P<wt>.+?) then wrote (?P=name) = (?P<wv>.+?) at line (?P<wl>\d+); "
    r"(?P<vt>.+?) wrote (?P<vv>.+?) at line (?P<vl>\d+) over it, "
    r"so (?P=wt)'s update was lost\.$"
)


_SUFFIX = re.compile(r"^(?P<name>.+?) \((?P<target>\w+)\)$")  # Python's `Thread-1 (target)`


@dataclass(frozen=True)
class Step:
    thread: str
    action: str  # "read" | "wrote"
    value: str
    line: int


@dataclass(frozen=True)
class RaceStory:
    name: str
    steps: tuple[Step, Step, Step]
    read_source: str  # the source of the read's line, as the grader saw it

    @property
    def victim(self) -> str:
        """The thread whose update was overwritten."""
        return self.steps[1].thread


def parse(detail: str) -> RaceStory | None:
    """The story in one feedback detail line, or None if the line is something else."""
    m = _STORY.match(detail.strip())
    if m is None:
        return None
    steps = (
        Step(m["rt"], "read", m["rv"], int(m["rl"])),
        Step(m["wt"], "wrote", m["wv"], int(m["wl"])),
        Step(m["vt"], "wrote", m["vv"], int(m["vl"])),
    )
    return RaceStory(m["name"], steps, m["rs"])


def render(story: RaceStory, source_of: Callable[[int], str]) -> Text:
    """Numbered steps: who read or wrote the value, at which of the learner's lines."""
    names, running = _short_names(story)
    width = max(len(name) for name in names)
    text = Text(f"  How {story.name} lost an update{running}:", style="bold")
    for number, (step, name) in enumerate(zip(story.steps, names), start=1):
        arrow = "←" if step.action == "wrote" else "→"
        code = source_of(step.line) or (story.read_source if step.action == "read" else "")
        style = "bold magenta" if step.thread == story.victim else "bold cyan"
        text.append(f"\n   {number}. ")
        text.append(f"{name:<{width}}", style=style)
        text.append(f"  {step.action:<5} {story.name} {arrow} {step.value:<5}")
        text.append(f" line {step.line:<3} ", style="dim")
        text.append(code, style="yellow")
    victim = names[1]
    text.append(f"\n      {names[2]} wrote over {victim}'s update: it is lost.", style="bold red")
    return text


def _short_names(story: RaceStory) -> tuple[list[str], str]:
    """`Thread-1 (increment)` -> `Thread-1`, when every step's thread runs the same function."""
    found = [_SUFFIX.match(step.thread) for step in story.steps]
    if all(found) and len({m["target"] for m in found}) == 1:  # type: ignore[index]
        return [m["name"] for m in found], f" (threads running {found[0]['target']})"  # type: ignore[index]
    return [step.thread for step in story.steps], ""
