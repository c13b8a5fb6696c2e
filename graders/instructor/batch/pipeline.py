"""The batch: load, then isolate -> run -> score -> report for each submission, in parallel.

Submissions are graded `jobs` at a time (each one's tasks run one after another, each task in
its own process, so `jobs` is about the number of cores kept busy). A learner whose record in
OUT/<learner>/grade.json was written by the same kit (fingerprint of graders/), with the same
options, for the same submission (digest of its modules) is not graded again: a batch that was
interrupted, or rerun after new submissions arrived, grades only what is missing. On Ctrl-C or
SIGTERM the running grading processes are killed, their half-done learners are dropped (no
record), and grades.csv/grades.json are written for everyone finished.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graders.engine import process
from graders.instructor.batch.isolate import prepare
from graders.instructor.batch.load import Submission, find_submissions
from graders.instructor.batch.report import RECORD, write_grades, write_learner
from graders.instructor.batch.run import RunOptions, run_submission
from graders.instructor.batch.score import LearnerGrade, score
from graders.paths import KIT_ROOT


@dataclass(frozen=True)
class BatchOptions:
    run: RunOptions
    jobs: int = 2
    regrade: bool = False  # grade everyone again, ignoring earlier records


@dataclass
class Outcome:
    grades: list[LearnerGrade] = field(default_factory=list)  # everyone done, resumed included
    resumed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # learner -> what broke the grader
    interrupted: bool = False


Progress = Callable[[Submission, LearnerGrade | None, str], None]  # status: graded/resumed/failed


def grade_batch(
    submissions: Path, out: Path, options: BatchOptions, progress: Progress | None = None
) -> Outcome:
    """Grade every submission in `submissions` into `out` (see the module docstring)."""
    todo = submissions_in(submissions, out)
    outcome = Outcome()
    lock = threading.Lock()
    stop = threading.Event()
    meta = {"kit": kit_fingerprint(), "options": _options_key(options.run)}

    def one(sub: Submission) -> None:
        grade, status = _grade_one(sub, out, work, meta, options.run, options.regrade, stop)
        if grade is None:
            return
        with lock:
            outcome.grades.append(grade)
            if status == "resumed":
                outcome.resumed.append(sub.learner)
        if progress:
            progress(sub, grade, status)

    with tempfile.TemporaryDirectory(prefix="threadkit-batch-") as tmp:
        work = Path(tmp)
        pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
        futures = {pool.submit(one, sub): sub for sub in todo}
        try:
            for future in as_completed(futures):
                _collect(future, futures[future], outcome, progress)
        except KeyboardInterrupt:
            outcome.interrupted = True
            stop.set()
            process.stop_all()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            write_grades(out, outcome.grades)
    return outcome


def _collect(future, sub: Submission, outcome: Outcome, progress: Progress | None) -> None:
    """A grading job that raised is the grader's failure, not the learner's: say so, go on."""
    error = future.exception()
    if error is None:
        return
    outcome.failed[sub.learner] = f"{type(error).__name__}: {error}"
    if progress:
        progress(sub, None, "failed")


def _grade_one(
    sub: Submission,
    out: Path,
    work: Path,
    meta: dict[str, object],
    options: RunOptions,
    regrade: bool,
    stop: threading.Event,
) -> tuple[LearnerGrade | None, str]:
    if stop.is_set():
        return None, "stopped"
    prepared = prepare(sub, work / sub.learner)
    folder = out / sub.learner
    earlier = None if regrade else read_record(folder / RECORD, meta, prepared.digest)
    if earlier is not None:
        return earlier, "resumed"
    seed, runs = run_submission(prepared, options, stop)
    if stop.is_set():
        return None, "stopped"  # some runs were killed by the interruption: not a grade
    grade = score(prepared, seed, runs)
    write_learner(folder, grade, meta)
    return grade, "graded"


def read_record(path: Path, meta: dict[str, object], digest: str) -> LearnerGrade | None:
    """The earlier grade, if it was made by this kit and options, of this very submission."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("kit") != meta["kit"] or record.get("options") != meta["options"]:
            return None
        grade = LearnerGrade.from_dict(record["grade"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return grade if grade.digest == digest else None


def kit_fingerprint() -> str:
    """A hash of every grader source file (checks, hidden checks, library, registry)."""
    digest = hashlib.sha256()
    for path in sorted((KIT_ROOT / "graders").rglob("*.py")):
        digest.update(str(path.relative_to(KIT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _options_key(options: RunOptions) -> dict[str, object]:
    key = asdict(options)
    key["sandbox"] = options.sandbox.level
    return key


def submissions_in(submissions: Path, out: Path) -> list[Submission]:
    """The submissions to grade (OUT, when it lies inside SUBMISSIONS, is not one)."""
    return [s for s in find_submissions(submissions) if s.source.resolve() != out.resolve()]
