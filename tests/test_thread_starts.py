"""graders.kit.thread_starts: a thread the learner's code starts is noted at the start itself."""

from __future__ import annotations

import threading
from pathlib import Path

from graders.kit.loader import load_module
from graders.kit.thread_starts import ThreadStarts

LEARNER = """\
import threading
from concurrent.futures import ThreadPoolExecutor


def start_waiting(n, event):
    # The targets are the library's event.wait: no thread ever runs a line of this file.
    threads = [threading.Thread(target=event.wait) for _ in range(n)]
    for thread in threads:
        thread.start()
    return threads


def through_a_pool(n, event):
    with ThreadPoolExecutor(max_workers=n) as pool:
        for _ in range(n):
            pool.submit(event.wait)
        event.set()


def call(func):
    return func()
"""


def _learner(tmp_path: Path):
    path = tmp_path / "learner.py"
    path.write_text(LEARNER)
    return str(path), load_module(path)


def test_threads_are_counted_when_started_before_they_run_anything(tmp_path: Path) -> None:
    path, mod = _learner(tmp_path)
    event = threading.Event()
    with ThreadStarts([path]) as starts:
        threads = mod.start_waiting(4, event)
        assert starts.threads == threads  # all four noted while each still waits
        assert all(t.is_alive() for t in threads)
        event.set()
        for thread in threads:
            thread.join()
    assert [line for _, line in starts.lines] == [9] * 4
    assert {name for name, _ in starts.lines} == {path}


def test_a_pool_the_learner_made_counts_as_theirs(tmp_path: Path) -> None:
    path, mod = _learner(tmp_path)
    with ThreadStarts([path]) as starts:
        mod.through_a_pool(3, threading.Event())
    assert 1 <= len(starts.threads) <= 3
    assert all(line == 16 for _, line in starts.lines)


def test_threads_the_kit_starts_are_not_the_learners(tmp_path: Path) -> None:
    path, mod = _learner(tmp_path)
    here = str(Path(__file__).parent)

    def kit_starts_one() -> threading.Thread:
        thread = threading.Thread(target=lambda: None)
        thread.start()
        return thread

    with ThreadStarts([path], not_theirs=[here]) as starts:
        mod.call(kit_starts_one).join()
        kit_starts_one().join()
    assert starts.threads == []


def test_thread_start_is_put_back_unless_the_learner_replaced_it(tmp_path: Path) -> None:
    original = threading.Thread.__dict__["start"]
    with ThreadStarts([str(tmp_path / "learner.py")]):
        assert threading.Thread.__dict__["start"] is not original
    assert threading.Thread.__dict__["start"] is original

    def replaced(self: threading.Thread) -> None:
        original(self)

    try:
        with ThreadStarts([str(tmp_path / "learner.py")]):
            threading.Thread.start = replaced  # type: ignore[method-assign]
        assert threading.Thread.__dict__["start"] is replaced
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
