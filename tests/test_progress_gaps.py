"""progress's gaps between reports: a wait the code chose counts, a loaded machine's does not."""

from __future__ import annotations

import threading
from pathlib import Path

from graders.kit.http_fixture import HttpFixture
from graders.tasks.progress import GAP_LIMIT, ProgressRun, Report, report_gaps


def _run(reports: list[tuple[float, float | None]], queued_at, answered=(1.0,)) -> ProgressRun:
    caller = threading.current_thread()
    return ProgressRun(
        urls=["u"],
        out_dir=Path("."),
        http=HttpFixture({}),
        saves=[],
        reports=[Report(t, caller, (0, 1), {}, q) for t, q in reports],
        dropped=0,
        caller=caller,
        start=0.0,
        end=1.0,
        cpu=0.0,
        time_split=None,
        queued_at=queued_at,
        written_at_return=frozenset(),
        in_flight_at_return=0,
        written_after=frozenset(),
        answered=list(answered),
    )


def test_a_gap_the_code_chose_counts_in_full():
    run = _run([(0.05, 0.0), (0.55, 0.0)], (0.0, 0.0))  # joined a slow download
    assert max(report_gaps(run)) == (0.5, 0.05, 0.55)
    assert max(report_gaps(run))[0] > GAP_LIMIT


def test_time_queued_for_a_cpu_is_not_charged_to_the_code():
    run = _run([(0.05, 0.0), (0.55, 0.45), (0.6, 0.45)], (0.0, 0.45), answered=(0.65,))
    gap, at, until = max(report_gaps(run))
    assert gap <= GAP_LIMIT and (at, until) != (0.05, 0.55)


def test_without_the_schedulers_record_gaps_are_wall_clock():
    run = _run([(0.05, None), (0.55, None)], (None, None))
    assert max(report_gaps(run))[0] == 0.5
