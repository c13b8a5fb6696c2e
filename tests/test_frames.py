"""graders.kit.frames: every thread's frame, and no CPython 3.11 hang while threads come and go."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
from types import CodeType, FrameType

from graders.kit import frames
from graders.kit.frames import COLLECTS_INSIDE, current_frames
from tests.helpers import ROOT

# CPython 3.11's hang (python/cpython#106883): a garbage collection inside
# sys._current_frames() frees a threading.local, which takes the lock the call holds. Cyclic
# garbage holding a local, frames that come and go in other threads, and a look after each
# piece of garbage: sys._current_frames() itself hung in 3 of 6 such runs of 3 s on 3.11.7.
CHURN = textwrap.dedent(
    """
    import sys, threading, time
    from graders.kit.frames import current_frames

    class Cycle:
        def __init__(self):
            self.local, self.me = threading.local(), self
            self.local.x = 1

    def deep(n):
        return deep(n - 1) if n else time.sleep(0.0005)

    def frames_come_and_go():
        while True:
            deep(3)

    for _ in range(8):
        threading.Thread(target=frames_come_and_go, daemon=True).start()
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        Cycle()
        current_frames()
    print("done")
    """
)


def runs(frame: FrameType | None, code: CodeType) -> bool:
    """Whether `code` is on the stack that ends at `frame`."""
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    return frame is not None


def test_it_gives_every_threads_current_frame() -> None:
    started, finish = threading.Event(), threading.Event()

    def waits() -> None:
        started.set()
        finish.wait()

    thread = threading.Thread(target=waits)
    thread.start()
    started.wait()
    try:
        frames = current_frames()
        assert set(frames) == set(sys._current_frames())
        assert runs(frames[thread.ident or 0], waits.__code__)
        assert runs(
            frames[threading.get_ident()], test_it_gives_every_threads_current_frame.__code__
        )
    finally:
        finish.set()
        thread.join()


def test_collection_is_put_back_as_it_was() -> None:
    assert gc.isenabled()
    current_frames()
    assert gc.isenabled()
    gc.disable()
    try:
        current_frames()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_look_from_inside_a_look_does_not_wait_for_itself(monkeypatch) -> None:
    """The time limit's handler runs in the main thread between two bytecodes, maybe inside
    a look of that thread's own: a second look must not wait for the first's turn."""
    monkeypatch.setattr(frames, "COLLECTS_INSIDE", True)
    with frames._turn:  # as if interrupted inside current_frames
        seen = current_frames()
    assert threading.get_ident() in seen
    assert gc.isenabled()


def test_only_cpython_3_11_needs_collection_off() -> None:
    assert COLLECTS_INSIDE == (
        sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
    )


def test_looking_while_garbage_with_locals_is_collected_never_hangs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHURN, "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # the 2-s loop; a hang is killed here and fails the test
        check=False,
    )
    assert done.stdout.strip() == "done", done.stderr[-2000:]
