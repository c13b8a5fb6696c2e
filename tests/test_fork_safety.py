"""A child forked in the middle of a check (cpu_bound's multiprocessing, fork start method)
never waits on a lock of the kit that a thread of the parent held at the fork."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from graders.kit import frames
from graders.kit.waitfor import tracked
from graders.kit.waitfor.graph import Graph

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(body: Callable[[], int], limit: float = 10.0) -> int | None:
    """Fork; run `body` in the child and exit with what it returns. The child's exit code, or
    None if it was still running after `limit` seconds (then it is killed)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            code = body()
        finally:
            os._exit(code)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def test_a_join_in_the_child_does_not_wait_on_the_parents_graph() -> None:
    graph = Graph([__file__])
    assert tracked.install(graph)
    try:
        graph._lock.acquire()  # as a thread of the parent reporting a wait at the fork

        def join_a_thread() -> int:
            thread = threading.Thread(target=time.sleep, args=(0.1,))
            thread.start()
            thread.join()  # tracked, as multiprocessing's exit joins a queue's feeder thread
            return 0

        code = _in_child(join_a_thread)
        graph._lock.release()
    finally:
        graph.closed = True
        tracked.uninstall(graph)
    assert code == 0, "the child hung on the graph's lock" if code is None else code


@pytest.mark.skipif(not frames.COLLECTS_INSIDE, reason="the turn is taken on CPython 3.11 only")
def test_a_look_in_the_child_does_not_wait_for_the_parents_look() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def look_at_fork() -> None:
        with frames._turn:  # what a look of the watchdog holds, collection off
            gc.disable()
            frames._switched_off = True
            inside.set()
            leave.wait()
            frames._switched_off = False
            gc.enable()

    looker = threading.Thread(target=look_at_fork)
    looker.start()
    inside.wait()
    try:

        def look() -> int:
            if not gc.isenabled():
                return 1  # collection left off for good
            return 0 if frames.current_frames() else 2

        code = _in_child(look)
    finally:
        leave.set()
        looker.join()
        if not was_enabled:
            gc.disable()
    assert code == 0, "the child hung on the parent's turn" if code is None else code
    assert gc.isenabled()
