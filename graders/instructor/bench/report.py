"""The bench's table (medians, ranges, targets) and build/bench.json (every sample)."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from graders.instructor.bench.measure import Spread, load_average
from graders.instructor.bench.rows import Measurement, Row, Settings


@dataclass
class RowOutcome:
    """One row, every checkout: all its measurements, in the order they were taken."""

    row: Row
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # the load average before each run

    def values(self, label: str) -> list[float]:
        return [v for m in self.runs.get(label, []) for v in m.values]

    def cpu(self, label: str) -> list[float]:
        return [c for m in self.runs.get(label, []) for c in m.cpu]

    def verdicts_ok(self, label: str) -> bool:
        return all(m.ok for m in self.runs.get(label, []))

    def same_verdicts(self) -> bool:
        """Every checkout graded every run the same way as the first checkout's first run."""
        verdicts = [m.verdict for runs in self.runs.values() for m in runs]
        return all(v == verdicts[0] for v in verdicts)


def table(outcomes: list[RowOutcome], labels: list[str]) -> Table:
    grid = Table(title="threadkit bench: medians, ranges, median CPU seconds")
    grid.add_column("row")
    grid.add_column("target", justify="right")
    for label in labels:
        grid.add_column(label, justify="right", no_wrap=True)
        grid.add_column("min-max", justify="right", style="dim", no_wrap=True)
        grid.add_column("CPU s", justify="right", style="dim")
    grid.add_column("verdicts")
    for outcome in outcomes:
        row = outcome.row
        target = (
            "-" if row.target is None else f"{'≥' if row.higher_is_better else '≤'} {row.target:g}"
        )
        cells = [row.name, f"{target} {row.unit}" if row.target is not None else "-"]
        for label in labels:
            cells += [*_cells(outcome, label), _number(Spread.of(outcome.cpu(label)))]
        ok = all(outcome.verdicts_ok(label) for label in labels)
        cells.append(
            ("right" if ok else "[red]WRONG[/]") + ("" if outcome.same_verdicts() else ", differ")
        )
        grid.add_row(*cells)
    return grid


def _cells(outcome: RowOutcome, label: str) -> tuple[str, str]:
    """The median, coloured by the target, and the range."""
    spread = Spread.of(outcome.values(label))
    if spread is None:
        return "-", "-"
    met = outcome.row.meets(spread.median)
    colour = {True: "green", False: "red", None: "white"}[met]
    return f"[{colour}]{spread.median:.2f}[/]", f"{spread.low:.2f}-{spread.high:.2f}"


def _number(spread: Spread | None) -> str:
    return "-" if spread is None else f"{spread.median:.2f}"


def to_json(
    outcomes: list[RowOutcome], labels: dict[str, str], settings: Settings, ratios: dict[str, float]
) -> dict[str, object]:
    """Everything measured, for build/bench.json."""
    rows = {}
    for outcome in outcomes:
        row = outcome.row
        rows[row.name] = {
            "title": row.title,
            "unit": row.unit,
            "target": row.target,
            "higher_is_better": row.higher_is_better,
            "load_before_runs": [round(x, 2) for x in outcome.load],
            "same_verdicts": outcome.same_verdicts(),
            "kits": {
                label: {
                    "values": _spread(outcome.values(label)),
                    "cpu": _spread(outcome.cpu(label)),
                    "samples": [round(v, 4) for v in outcome.values(label)],
                    "verdicts_ok": outcome.verdicts_ok(label),
                    "verdicts": [m.verdict for m in outcome.runs.get(label, [])],
                    "notes": sorted({m.note for m in outcome.runs.get(label, []) if m.note}),
                }
                for label in labels
            },
        }
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": {"cores": _cores(), "load_at_end": round(load_average(), 2)},
        "kits": labels,
        "settings": vars(settings),
        "ratio_grade_one_to_nbgrader": ratios,
        "rows": rows,
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    spread = Spread.of(values)
    return spread.to_dict() if spread else None


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def write(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
