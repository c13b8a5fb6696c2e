"""`make bench`: time the learner's and the instructor's commands (graders.instructor.bench).

Prints each row's median and range, per checkout with `--baseline DIR` (the same rows run on
DIR too, alternating run by run), and writes every sample to build/bench.json. `--quick`: 3
runs of the short rows and 20 submissions per batch. The nbgrader and `make test` rows are
opt-in (`--nbgrader`, `--make-test`): each takes minutes.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graders.paths import BUILD, KIT_ROOT

if TYPE_CHECKING:
    from graders.instructor.bench.report import RowOutcome
    from graders.instructor.bench.rows import Row

HELP = "time make check, watch, grade-one and grade (make bench; QUICK=1 for a short run)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="3 runs, 20 submissions per batch")
    parser.add_argument("--reps", type=int, help="runs of each short row (default 5)")
    parser.add_argument("--batch-reps", type=int, default=1, help="runs of each batch row")
    parser.add_argument("--count", type=int, help="submissions per batch row (default 100)")
    parser.add_argument("--rows", help="comma-separated row names (default: every standard row)")
    parser.add_argument("--baseline", help="another checkout of the kit, measured alongside")
    parser.add_argument("--isolation", default="auto", help="make grade's ISOLATION (default auto)")
    parser.add_argument("--jobs", type=int, help="make grade's JOBS (default: its own default)")
    parser.add_argument("--nbgrader", action="store_true", help="add nbgrader autograde (minutes)")
    parser.add_argument("--make-test", action="store_true", help="add make test (minutes)")
    parser.add_argument("--out", default=str(BUILD / "bench.json"), help="the JSON report")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from graders.instructor.bench import extra, report
    from graders.instructor.bench.inputs import build_inputs
    from graders.instructor.bench.measure import Kit, load_average
    from graders.instructor.bench.rows import ROWS, Settings

    settings = Settings(
        reps=args.reps or (3 if args.quick else 5),
        batch_reps=args.batch_reps,
        count=args.count or (20 if args.quick else 100),
        isolation=args.isolation,
        jobs=args.jobs,
    )
    rows = _rows(args, ROWS + extra.EXTRA_ROWS)
    kits = [Kit("this kit", KIT_ROOT)]
    if args.baseline:
        kits.insert(0, Kit("baseline", Path(args.baseline).resolve()))
    console = Console(highlight=False)
    console.width = max(console.width, 120)  # the table's columns, even in a log
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="threadkit-bench-") as tmp:
        inputs = build_inputs(Path(tmp) / "inputs", settings.count)
        for row in rows:
            outcome = report.RowOutcome(row)
            for rep in range(row.reps(settings)):
                for kit in kits:
                    outcome.load.append(load_average())
                    work = Path(tmp) / kit.label.replace(" ", "-") / row.name
                    work.mkdir(parents=True, exist_ok=True)
                    measured = row.measure(kit, inputs, work, settings)
                    outcome.runs.setdefault(kit.label, []).append(measured)
                    shown = ", ".join(f"{v:.2f}" for v in measured.values)
                    console.print(
                        f"[dim]{row.name} #{rep + 1} {kit.label}: {shown} {row.unit} "
                        f"(CPU {sum(measured.cpu):.2f} s, load {outcome.load[-1]:.1f})"
                        f"{'' if measured.ok else ' [red]wrong verdict[/]'}[/]"
                    )
            outcomes.append(outcome)
    labels = [k.label for k in kits]
    ratios = _ratios(outcomes, labels)
    console.print(report.table(outcomes, labels))
    for label, ratio in ratios.items():
        console.print(f"grade-one / nbgrader autograde ({label}): {ratio:.2f}")
    console.print(f"load average now: {load_average():.1f} on this machine")
    data = report.to_json(outcomes, {k.label: str(k.root) for k in kits}, settings, ratios)
    report.write(Path(args.out), data)
    console.print(f"Every sample: {args.out}")
    return 0 if all(o.verdicts_ok(label) for o in outcomes for label in labels) else 1


def _rows(args: argparse.Namespace, every: Sequence[Row]) -> list[Row]:
    """The rows asked for: --rows by name, else the standard ones plus the opted-in extras."""
    if args.rows:
        names = [n.strip() for n in args.rows.split(",") if n.strip()]
        known = {r.name: r for r in every}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown bench rows {unknown}; the rows are: {', '.join(known)}")
        return [known[n] for n in names]
    wanted = {"nbgrader": args.nbgrader, "make-test": args.make_test}
    return [r for r in every if wanted.get(r.name, True)]


def _ratios(outcomes: list[RowOutcome], labels: list[str]) -> dict[str, float]:
    """grade-one's median time over nbgrader autograde's, per checkout, where both ran."""
    from graders.instructor.bench.measure import Spread

    by_name = {o.row.name: o for o in outcomes}
    ratios = {}
    for label in labels:
        one, nb = by_name.get("grade-one"), by_name.get("nbgrader")
        if one is None or nb is None:
            continue
        a, b = Spread.of(one.values(label)), Spread.of(nb.values(label))
        if a is not None and b is not None and b.median > 0:
            ratios[label] = round(a.median / b.median, 3)
    return ratios
