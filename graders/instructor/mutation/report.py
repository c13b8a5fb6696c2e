"""The verdict on the checks: each mutant's status, the operator x task table, the JSON.

A mutant is `killed` (some check failed), `equivalent` (it survived and equivalent.txt says
why that is right) or `survived` (it survived and nothing excuses it: a missing check). The
mutation score is killed / (generated - equivalent).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graders.instructor.mutation.generate import Mutant
from graders.instructor.mutation.grade import Graded
from graders.instructor.mutation.operators import OPERATORS

STATUSES = ("killed", "survived", "equivalent")


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    graded: Graded
    status: str  # one of STATUSES
    listed: bool  # in equivalent.txt (a listed mutant that is killed is a wrong entry)


def verdicts(
    mutants: list[Mutant], graded: dict[str, Graded], listed: dict[str, str]
) -> list[Verdict]:
    """Each graded mutant's status, in the mutants' order."""
    found = []
    for mutant in mutants:
        result = graded[mutant.id]
        on_list = mutant.id in listed
        status = "killed" if result.killed else "equivalent" if on_list else "survived"
        found.append(Verdict(mutant, result, status, on_list))
    return found


def score(found: Iterable[Verdict]) -> float | None:
    """killed / (generated - equivalent); None when every mutant is equivalent (or none)."""
    counts = Counter(v.status for v in found)
    judged = counts["killed"] + counts["survived"]
    return counts["killed"] / judged if judged else None


def table(found: list[Verdict], tasks: list[str]) -> str:
    """Operators down, tasks across; each cell generated/killed/survived/equivalent."""
    columns = tasks + ["total"]
    names = [op.name for op in OPERATORS if any(v.mutant.operator == op.name for v in found)]
    cells = {
        (name, task): _cell([v for v in found if _in(v, name, task)])
        for name in names + ["total"]
        for task in columns
    }
    width = max([len(n) for n in names] + [len("operator")])
    widths = [max(len(task), *(len(cells[n, task]) for n in names + ["total"])) for task in columns]
    lines = ["cells: generated/killed/survived/equivalent"]
    lines.append(_line("operator", columns, width, widths))
    lines.append("-" * len(lines[1]))
    for name in names + ["total"]:
        lines.append(_line(name, [cells[name, t] for t in columns], width, widths))
    scores = [_percent(score(v for v in found if _in(v, "total", t))) for t in columns]
    lines.append(_line("score", scores, width, widths))
    return "\n".join(lines)


def _in(verdict: Verdict, operator: str, task: str) -> bool:
    return operator in ("total", verdict.mutant.operator) and task in ("total", verdict.mutant.task)


def _cell(found: list[Verdict]) -> str:
    if not found:
        return "-"
    counts = Counter(v.status for v in found)
    return "/".join(str(n) for n in [len(found)] + [counts[s] for s in STATUSES])


def _line(first: str, cells: list[str], width: int, widths: list[int]) -> str:
    return "  ".join([first.ljust(width)] + [c.rjust(w) for c, w in zip(cells, widths)])


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def to_json(found: list[Verdict], seed: int, stale: list[str], tasks: list[str]) -> dict:
    """Everything the run found, for build/mutation.json."""
    return {
        "seed": seed,
        "tasks": tasks,
        "score": score(found),
        "scores": {t: score(v for v in found if v.mutant.task == t) for t in tasks},
        "counts": {s: sum(v.status == s for v in found) for s in STATUSES},
        "stale_equivalent": stale,
        "mutants": [
            {
                "id": v.mutant.id,
                "task": v.mutant.task,
                "solution": str(v.mutant.solution.path.name),
                "operator": v.mutant.operator,
                "function": v.mutant.function,
                "line": v.mutant.line,
                "status": v.status,
                "listed_equivalent": v.listed,
                "failed_checks": list(v.graded.failed),
                "first_failure": v.graded.first_failure,
                "seconds": round(v.graded.seconds, 3),
            }
            for v in found
        ],
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
