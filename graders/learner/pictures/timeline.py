"""A timeline of a learner's downloads: one row per thread, one bar per request.

Learners should SEE their threads overlap. `record_timeline` runs the learner's sequential
download and their threaded one (in a child process, time-boxed) against the HTTP fixture,
which serves the workshop's httpbin URLs with waits scaled down from the real ones, and turns
the fixture's records (thread, URL, start, end) into a `Timeline`.
graders.learner.pictures.timeline_view
draws it in the terminal or as a PNG.

Run as `python -m graders.learner.pictures.timeline --result FILE --task ID --submission DIR` it is
that child.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graders.engine.child import run_child, write_result
from graders.engine.offline import offline
from graders.kit.feedback import CheckFailed
from graders.kit.http_fixture import HttpFixture, RequestRecord
from graders.kit.loader import load_module
from graders.learner.pictures import httpbin_like
from graders.learner.pictures.downloads import (
    Downloader,
    call_learner,
    download_plan,
    function_for,
    learner_urls,
)
from graders.tasks import get_task

SCALE = 0.25  # the fixture's waits are the real ones (network + /delay/N) times this
TIMEOUT = 30.0  # seconds the child may take for both runs
_clock = time.perf_counter


@dataclass(frozen=True)
class Bar:
    """One request, in seconds since the learner's function was called."""

    url: str
    start: float
    end: float

    @property
    def label(self) -> str:
        """The short name of the request (`delay/1`, `uuid`)."""
        return httpbin_like.path_of(self.url).strip("/") or self.url


@dataclass(frozen=True)
class Row:
    """The requests one thread made, in order."""

    thread: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Phase:
    """One call of a learner's function: what it drew, or why it could not be drawn."""

    title: str
    function: str
    returned: float  # seconds from the call to its return (0.0 if it never returned)
    rows: tuple[Row, ...] = ()
    error: str = ""

    @property
    def bars(self) -> list[Bar]:
        return [bar for row in self.rows for bar in row.bars]

    @property
    def end(self) -> float:
        """When the last thing happened: the return or the last request's end."""
        return max([self.returned] + [b.end for b in self.bars])

    @property
    def peak(self) -> int:
        """The most requests in flight at one moment."""
        events = sorted([(b.start, 1) for b in self.bars] + [(b.end, -1) for b in self.bars])
        peak = running = 0
        for _, step in events:
            running += step
            peak = max(peak, running)
        return peak

    @property
    def unfinished(self) -> int:
        """Requests still running when the function returned (a missing join)."""
        return sum(1 for b in self.bars if b.end > self.returned + 1e-3)


@dataclass(frozen=True)
class Timeline:
    task: str
    phases: tuple[Phase, ...]
    note: str = ""  # e.g. why the run was cut short

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        phases = tuple(_phase_from_dict(p) for p in data["phases"])
        return cls(str(data["task"]), phases, str(data.get("note", "")))


def _phase_from_dict(data: dict[str, Any]) -> Phase:
    rows = tuple(Row(r["thread"], tuple(Bar(**b) for b in r["bars"])) for r in data.get("rows", ()))
    fields = {k: data[k] for k in ("title", "function", "returned")}
    return Phase(**fields, rows=rows, error=str(data.get("error", "")))


def rows_from_records(records: Iterable[RequestRecord], t0: float) -> tuple[Row, ...]:
    """One row per thread (in the order threads made their first request), bars in order."""
    by_thread: dict[tuple[str, int], list[Bar]] = {}
    for rec in sorted(records, key=lambda r: r.start):
        bar = Bar(rec.url, rec.start - t0, rec.end - t0)
        by_thread.setdefault((rec.thread_name, rec.thread_id), []).append(bar)
    return tuple(Row(name, tuple(bars)) for (name, _), bars in by_thread.items())


# ------------------------------------------------------------------ the parent's side


def record_timeline(task_id: str, submission: str | Path, *, timeout: float = TIMEOUT) -> Timeline:
    """Run the learner's downloads for `task_id` in a child process and return the timeline."""
    function_for(task_id)  # an unknown or non-downloading task fails here, in the caller
    run = run_child(
        "graders.learner.pictures.timeline",
        ["--task", task_id, "--submission", str(Path(submission).resolve())],
        timeout=timeout,
    )
    phases = tuple(_phase_from_dict(p) for p in (run.result or {}).get("phases", ()))
    note = ""
    if run.timed_out:
        note = f"Your code did not finish within {timeout:g} s, so it was stopped."
    elif run.result is None:
        last = run.output.strip().splitlines()[-1:] or [""]
        note = f"The run ended (exit code {run.exit_code}) before it finished. {last[0]}"
    return Timeline(task_id, phases, note)


# ------------------------------------------------------------------ the child's side


def run_phase(title: str, name: str, func: Downloader, urls: list[str], files: list[str]) -> Phase:
    """Call func(urls, out_dir) under the HTTP fixture and draw what its threads did."""
    routes = {u: (httpbin_like.answer(httpbin_like.path_of(u)) or (200, "ok\n"))[1] for u in urls}
    latency = {u: httpbin_like.wait_for(u, scale=SCALE) for u in urls}
    with tempfile.TemporaryDirectory(prefix="threadkit-timeline-") as out_dir:
        with HttpFixture(routes, latency=latency) as http:
            before = set(threading.enumerate())
            t0 = _clock()
            returned, error = call_learner(
                name,
                func,
                urls,
                out_dir,
                files,
                settle=lambda: _wait_for_threads(before, seconds=sum(latency.values()) + 1.0),
            )
            records = http.records
    return Phase(title, name, returned, rows_from_records(records, t0), error)


def _wait_for_threads(before: set[threading.Thread], *, seconds: float) -> None:
    """Let threads nobody joined finish (bounded), so their requests are drawn too."""
    deadline = _clock() + seconds
    for thread in threading.enumerate():
        if thread not in before:
            thread.join(timeout=max(0.0, deadline - _clock()))


def child_main(task_id: str, submission: str, result: str) -> None:
    """Both runs; the result file is rewritten after each, so a hang keeps the first run."""
    path = Path(submission) / get_task(task_id).module
    phases: list[dict[str, Any]] = []
    with offline():  # a thread nobody joined may request after the fixture is gone
        for phase in _phases(task_id, path):
            phases.append(asdict(phase))
            Path(result).write_text(json.dumps({"task": task_id, "phases": phases}), "utf-8")
    write_result(result, {"task": task_id, "phases": phases})


def _phases(task_id: str, path: Path) -> Iterator[Phase]:
    """The sequential run, then the learner's threaded one (lazily: one at a time)."""
    try:
        mod = load_module(path)
    except CheckFailed as failed:
        yield Phase("Your module", "import", 0.0, error=failed.feedback.summary)
        return
    urls = learner_urls(mod)
    for title, name, func in download_plan(task_id, mod):
        if func is None:
            yield Phase(title, name, 0.0, error=f"{name} is missing from your module")
        else:
            yield run_phase(title, name, func, urls, [str(path)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graders.learner.pictures.timeline")
    parser.add_argument("--result", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    args = parser.parse_args(argv)
    child_main(args.task, args.submission, args.result)


if __name__ == "__main__":
    main()
