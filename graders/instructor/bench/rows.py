"""The bench's rows: what is run, how often, what it must take, and what verdict it must give.

A row measures one checkout once (`measure(kit, inputs, work)`) and returns its values (seconds,
or submissions per minute for a batch), the CPU seconds they cost, and its verdict: what the
kit said about the submissions, compared across checkouts (a faster kit must grade the same)
and against what it must be (the solutions pass, each mutant loses points).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.instructor.bench.inputs import Inputs
from graders.instructor.bench.measure import Kit, children_cpu, run_timed
from graders.tasks import TASKS

PROCESS_TIMEOUT = 900.0  # a whole `make grade` of 100 submissions on a slow machine


@dataclass(frozen=True)
class Settings:
    reps: int = 5  # runs of each short row, per checkout
    batch_reps: int = 1  # runs of each `make grade` row, per checkout
    count: int = 100  # submissions in each `make grade` row
    isolation: str = "auto"
    jobs: int | None = None  # `make grade`'s JOBS (None: its default)


@dataclass
class Measurement:
    values: list[float]  # in the row's unit
    cpu: list[float]  # CPU seconds, one per value or one per run
    verdict: object  # JSON-able: compared across checkouts
    ok: bool  # the verdict is what it must be
    note: str = ""


Measure = Callable[[Kit, Inputs, Path, Settings], Measurement]


@dataclass(frozen=True)
class Row:
    name: str
    title: str
    unit: str  # "s" or "/min"
    target: float | None
    measure: Measure
    batch: bool = False  # a `make grade` row: batch_reps runs, not reps
    higher_is_better: bool = False
    notes: list[str] = field(default_factory=list)

    def reps(self, settings: Settings) -> int:
        return settings.batch_reps if self.batch else settings.reps

    def meets(self, value: float) -> bool | None:
        if self.target is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


def _isolation(settings: Settings) -> list[str]:
    return ["--isolation", settings.isolation]


def help_row(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`python -m graders check --help`: the price of starting the command line at all."""
    sample = run_timed(kit.command("check", "--help"), cwd=kit.root, env=kit.env(), timeout=60)
    return Measurement([sample.wall], [sample.cpu], sample.code, sample.code == 0)


def _check(folder: Path, expect: int) -> Measure:
    def measure(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
        args = ["check", "--submission", str(folder), "--state-dir", str(work / "state")]
        sample = run_timed(
            kit.command(*args, "--seed", "1"), cwd=kit.root, env=kit.env(), timeout=300
        )
        passed = "All tasks pass" in sample.output
        return Measurement(
            [sample.wall], [sample.cpu], [sample.code, passed], sample.code == expect
        )

    return measure


def check_solutions(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`make check SUBMISSION=<the solutions>`: every task, every check passes (exit 0)."""
    return _check(inputs.solutions, 0)(kit, inputs, work, settings)


def check_stubs(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`make check` on the untouched stubs: every task fails at once (exit 1)."""
    return _check(inputs.stubs, 1)(kit, inputs, work, settings)


def watch_task(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`make watch` on the solutions: save each task's file once, time until its verdict shows.

    One value per task: from the write to the task's row in the table the re-check prints (its
    verdict), so it includes up to one polling interval (watch's default, as learners run it).
    """
    folder = work / "watched"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(inputs.solutions, folder)
    tasks = [task for task in TASKS if kit.grades(task.module)]
    args = ["watch", "--submission", str(folder)]
    cmd = kit.command(*args, "--max-runs", str(len(tasks)))
    cpu = children_cpu()
    with _Lines(cmd, kit) as lines:
        lines.wait_for("Watching", 300)
        values, verdict = [], []
        for n, task in enumerate(tasks):
            path = folder / task.module
            start = time.perf_counter()
            path.write_text(path.read_text() + f"\n# saved by the bench ({n})\n")
            lines.wait_for(f"checking {task.id}", 60)
            line = lines.wait_for((f" {task.id} ",), 60)  # its row in the table: its verdict
            values.append(time.perf_counter() - start)
            verdict.append("✓" in line)
    cpu_each = (children_cpu() - cpu) / len(tasks)
    return Measurement(values, [cpu_each], verdict, all(verdict), "CPU: the whole session / tasks")


class _Lines:
    """A running process whose output lines are read as they come (for `make watch`)."""

    def __init__(self, cmd: list[str], kit: Kit) -> None:
        self.proc = subprocess.Popen(
            cmd,
            cwd=kit.root,
            env=kit.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, text: str | tuple[str, ...], timeout: float) -> str:
        """The first line (from now on) that contains `text`; RuntimeError if none comes."""
        wanted = (text,) if isinstance(text, str) else text
        end = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            if line is None:
                raise RuntimeError(f"the watched process ended before printing {wanted}")
            if any(w in line for w in wanted):
                return line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def grade_one(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
    """`make grade-one SUBMISSION=<the solutions>`: hidden checks included, full marks."""
    out = work / "grade-one"
    args = ["grade-one", "--submission", str(inputs.solutions), "--out", str(out)]
    sample = run_timed(
        kit.command(*args, *_isolation(settings)), cwd=kit.root, env=kit.env(), timeout=300
    )
    try:
        results = json.loads((out / "results.json").read_text())
        score = [results["score"], sum(t["max_score"] for t in results["tests"])]
    except (OSError, ValueError, KeyError):
        score = None
    ok = sample.code == 0 and score is not None and score[0] == score[1]
    return Measurement([sample.wall], [sample.cpu], score, ok)


def _batch(kind: str) -> Measure:
    def measure(kit: Kit, inputs: Inputs, work: Path, settings: Settings) -> Measurement:
        folder = inputs.copies if kind == "copies" else inputs.mutants
        out = work / f"grade-{kind}"
        args = ["grade", "--submissions", str(folder), "--out", str(out), "--regrade"]
        args += _isolation(settings)
        if settings.jobs:
            args += ["--jobs", str(settings.jobs)]
        sample = run_timed(kit.command(*args), cwd=kit.root, env=kit.env(), timeout=PROCESS_TIMEOUT)
        try:
            grades = json.loads((out / "grades.json").read_text())
        except (OSError, ValueError):
            grades = {"max": {}, "students": {}}
        count = len(list(folder.iterdir()))
        ok = sample.code == 0 and _batch_ok(kind, grades, inputs, count)
        rate = count / sample.wall * 60 if sample.wall > 0 else 0.0
        note = "" if ok else "unexpected: " + "; ".join(_unexpected(kind, out, inputs))
        return Measurement([rate], [sample.cpu], grades["students"], ok, note)

    return measure


def _unexpected(kind: str, out: Path, inputs: Inputs) -> list[str]:
    """The checks that failed where they should not have (a solution's, or a task that the
    submission's mutant does not touch), with their message: the flaky ones, for the report."""
    found = []
    for results in sorted(out.glob("*/results.json")):
        learner = results.parent.name
        mutated = inputs.mutant_of.get(learner, "/").partition("/")[0] if kind == "mutants" else ""
        for test in json.loads(results.read_text()).get("tests", []):
            task = (test.get("tags") or [""])[0]
            if test.get("score", 0) < test.get("max_score", 0) and task != mutated:
                first = str(test.get("output", "")).strip().splitlines()[:1]
                found.append(f"{learner} {test.get('name')}: {' '.join(first)[:120]}")
    return found


def _batch_ok(
    kind: str, grades: dict[str, dict[str, dict[str, int]]], inputs: Inputs, n: int
) -> bool:
    """Everyone graded; a solution copy gets full marks; a mutant loses points in its task."""
    students, maxima = grades["students"], grades["max"]
    if len(students) != n:
        return False
    for learner, points in students.items():
        if kind == "copies" and points != maxima:
            return False
        if kind == "mutants":
            task = inputs.mutant_of[learner].partition("/")[0]
            others = {t: p for t, p in points.items() if t != task}
            if points[task] >= maxima[task] or others != {t: maxima[t] for t in others}:
                return False
    return True


ROWS = (
    Row("help", "python -m graders check --help", "s", None, help_row),
    Row("check-solutions", "make check SUBMISSION=<solutions>", "s", 1.5, check_solutions),
    Row("check-stubs", "make check (the untouched stubs)", "s", 0.8, check_stubs),
    Row("watch-task", "make watch: one task re-checked after a save", "s", 0.5, watch_task),
    Row("grade-one", "make grade-one SUBMISSION=<solutions>", "s", 2.0, grade_one),
    Row(
        "grade-solutions",
        "make grade: N solution copies",
        "/min",
        120.0,
        _batch("copies"),
        batch=True,
        higher_is_better=True,
    ),
    Row(
        "grade-mutants",
        "make grade: N one-mutant submissions",
        "/min",
        120.0,
        _batch("mutants"),
        batch=True,
        higher_is_better=True,
    ),
)
