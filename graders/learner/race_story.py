"""The interleaving that broke a count, as three numbered steps a learner can follow.

A check that finds a lost update puts its steps in the feedback's `race`
(graders.kit.feedback.Race, from `LostUpdate.race()` in graders.kit.interleave): which thread
read or wrote the shared name, which value, at which of the learner's lines. `render` draws
them; nothing here reads the feedback's text.
"""

from __future__ import annotations

import re

from rich.text import Text

from graders.kit.feedback import Race

_SUFFIX = re.compile(r"^(?P<name>.+?) \((?P<target>\w+)\)$")  # Python's `Thread-1 (target)`


def render(race: Race) -> Text:
    """Numbered steps: who read or wrote the value, at which of the learner's lines."""
    names, running = _short_names(race)
    width = max(len(name) for name in names)
    text = Text(f"  How {race.name} lost an update{running}:", style="bold")
    for number, (step, name) in enumerate(zip(race.steps, names), start=1):
        arrow = "←" if step.action == "wrote" else "→"
        style = "bold magenta" if step.thread == race.overwritten else "bold cyan"
        text.append(f"\n   {number}. ")
        text.append(f"{name:<{width}}", style=style)
        text.append(f"  {step.action:<5} {race.name} {arrow} {step.value:<5}")
        text.append(f" line {step.line:<3} ", style="dim")
        text.append(step.code, style="yellow")
    overwritten = names[1]
    text.append(
        f"\n      {names[2]} wrote over {overwritten}'s update: it is lost.", style="bold red"
    )
    return text


def _short_names(race: Race) -> tuple[list[str], str]:
    """`Thread-1 (increment)` -> `Thread-1`, when every step's thread runs the same function."""
    found = [_SUFFIX.match(step.thread) for step in race.steps]
    matches = [m for m in found if m is not None]
    if len(matches) == len(found) and len({m["target"] for m in matches}) == 1:
        return [m["name"] for m in matches], f" (threads running {matches[0]['target']})"
    return [step.thread for step in race.steps], ""
