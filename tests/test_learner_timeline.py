"""The timeline: its rows are the HTTP fixture's records, a row per thread, a bar per request."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import requests
from rich.console import Console

from graders.kit.http_fixture import HttpFixture
from graders.learner.pictures.timeline import (
    Bar,
    Phase,
    Row,
    Timeline,
    record_timeline,
    rows_from_records,
)
from graders.learner.pictures.timeline_view import render
from graders.tasks import get_task
from tests.helpers import FIXTURES, SOLUTIONS
from tests.learner_cli import graders

URLS = [f"http://threadkit.test/t/{i}" for i in range(3)]
DOWNLOADER = get_task("downloader")


def test_rows_match_the_recorded_requests():
    """Each record lands in its own thread's row, with its own times, in start order."""

    def fetch_two(first: str, second: str) -> None:
        requests.get(first, timeout=5)
        requests.get(second, timeout=5)

    with HttpFixture({u: "x" for u in URLS}, latency=0.02) as http:
        t0 = time.perf_counter()  # the fixture's clock
        worker = threading.Thread(target=fetch_two, args=(URLS[0], URLS[1]), name="worker-A")
        worker.start()
        requests.get(URLS[2], timeout=5)
        worker.join()
    records = http.records
    rows = rows_from_records(records, t0)
    assert {row.thread for row in rows} == {"worker-A", threading.main_thread().name}
    by_thread = {row.thread: row for row in rows}
    for rec in records:
        bars = [b for b in by_thread[rec.thread_name].bars if b.url == rec.url]
        assert bars == [Bar(rec.url, rec.start - t0, rec.end - t0)]
    assert [b.url for b in by_thread["worker-A"].bars] == URLS[:2]
    assert sum(len(row.bars) for row in rows) == len(records) == 3


def test_peak_and_unfinished_are_read_off_the_bars():
    rows = (Row("a", (Bar("u1", 0.0, 0.3),)), Row("b", (Bar("u2", 0.1, 0.2), Bar("u3", 0.25, 0.5))))
    phase = Phase("Yours", "f", returned=0.22, rows=rows)
    assert phase.peak == 2 and phase.unfinished == 2 and phase.end == 0.5


def submission(folder: Path, source: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / DOWNLOADER.module)
    return folder


def test_solution_timeline_overlaps_and_sequential_is_one_row(tmp_path: Path):
    check_solution_timeline(submission(tmp_path, SOLUTIONS / "downloader.py"))


def check_solution_timeline(folder: Path) -> None:
    timeline = record_timeline("downloader", folder)
    sequential, yours = timeline.phases
    assert not sequential.error and not yours.error and not timeline.note
    assert [row.thread for row in sequential.rows] == [threading.main_thread().name]
    assert [b.label for b in sequential.bars] == ["delay/1", "uuid", "ip", "user-agent", "headers"]
    assert len(yours.rows) == 5 and all(len(row.bars) == 1 for row in yours.rows)
    assert yours.peak >= 2 and yours.unfinished == 0 and yours.returned < sequential.returned
    text = shown(timeline)
    assert text.count("(save_url)") == 5 and "MainThread" in text
    assert f"Up to {yours.peak} requests waited at the same time" in text


def test_a_join_in_the_loop_is_a_staircase(tmp_path: Path):
    check_staircase(submission(tmp_path, FIXTURES / "downloader" / "mutants" / "join_in_loop.py"))


@pytest.mark.slow
def test_timelines_repeat(tmp_path: Path):
    """20 runs each: the overlap and the staircase are seen every time (run also loaded)."""
    solution = submission(tmp_path / "solution", SOLUTIONS / "downloader.py")
    staircase = submission(
        tmp_path / "mutant", FIXTURES / "downloader" / "mutants" / "join_in_loop.py"
    )
    for _ in range(20):
        check_solution_timeline(solution)
        check_staircase(staircase)


def check_staircase(folder: Path) -> None:
    _, yours = record_timeline("downloader", folder).phases
    assert len(yours.rows) == 5 and yours.peak == 1
    starts = [row.bars[0].start for row in yours.rows]
    ends = [row.bars[0].end for row in yours.rows]
    assert all(end <= nxt for end, nxt in zip(ends, starts[1:]))


def test_the_stub_draws_the_sequential_run_and_says_what_is_missing(tmp_path: Path):
    run = graders("timeline", "--task", "start_join")
    assert run.returncode == 2 and "has no timeline" in run.stderr
    run = graders("timeline", "--task", "downloader")
    assert run.returncode == 0, run.stderr
    assert "Sequential: download_sequential" in run.stdout
    assert "Not started yet: download_threaded is not written yet" in run.stdout


def shown(timeline: Timeline) -> str:
    console = Console(record=True, width=100, color_system=None)
    console.print(render(timeline, 100))
    return console.export_text()


def test_png_is_written(tmp_path: Path):
    pytest.importorskip("matplotlib")  # installed by `make timeline OUT=...` (and test-slow)
    from graders.learner.pictures.timeline_view import save_png

    rows = (Row("MainThread", (Bar("http://h/uuid", 0.0, 0.1), Bar("http://h/ip", 0.1, 0.2))),)
    timeline = Timeline("downloader", (Phase("Sequential", "download_sequential", 0.2, rows),))
    out = save_png(timeline, tmp_path / "t.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
