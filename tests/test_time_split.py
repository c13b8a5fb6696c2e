"""graders.kit.time_split: a wait the code chose counts, a loop that spins never does."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from graders.kit.time_split import TimeWatch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="schedstat: Linux")


def _gil_taker(stop: threading.Event) -> None:
    """Another thread that wants the GIL every few milliseconds, as the kit's watchdog does."""
    while not stop.wait(0.004):
        sum(range(200))


def _watch(body) -> TimeWatch:
    stop = threading.Event()
    other = threading.Thread(target=_gil_taker, args=(stop,))
    other.start()
    try:
        with TimeWatch() as watch:
            body()
    finally:
        stop.set()
        other.join()
    return watch


def test_sleeping_between_checks_is_a_chosen_wait():
    def body() -> None:
        for _ in range(8):
            time.sleep(0.03)

    split = _watch(body).split
    assert split is not None
    assert split.chosen_wait > 0.12  # of 0.24 s asleep, less whatever it was queued outside
    assert split.on_cpu < split.chosen_wait


def test_spinning_never_waits_by_choice_even_when_the_gil_is_taken_from_it():
    def body() -> None:
        end = time.perf_counter() + 0.25
        while time.perf_counter() < end:
            pass

    split = _watch(body).split
    assert split is not None
    assert split.on_cpu > 0.0
    # Not exactly 0: the clocks leave a residue (0.6 ms against 0.24 s on a CPU, once in six
    # runs of make test in a loaded copy). The grader judges a share (progress.busy), never 0.
    assert split.chosen_wait < 0.05 * split.on_cpu


def test_a_wait_inside_an_excluded_file_is_not_counted():
    with TimeWatch(exclude=(__file__,)) as watch:
        time.sleep(0.1)
    assert watch.split is not None and watch.split.chosen_wait == 0.0


def test_the_previous_profile_hook_is_put_back():
    seen: list[str] = []
    hook = lambda frame, event, arg: seen.append(event)  # noqa: E731
    sys.setprofile(hook)
    try:
        with TimeWatch():
            pass
        assert sys.getprofile() is hook
    finally:
        sys.setprofile(None)
