"""graders.kit.join_gate: a held thread goes on only when it is joined (or the caller waits)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from graders.kit.join_gate import JoinGate

LONG = 30.0  # no test here reaches the gate's timeout


def _held_threads(gate: JoinGate, n: int) -> list[threading.Thread]:
    threads = [threading.Thread(target=gate.hold) for _ in range(n)]
    for thread in threads:
        thread.start()  # start() waits for the thread to run: that wait lets nobody go
    return threads


def test_a_thread_goes_on_when_joined_and_only_then() -> None:
    with JoinGate(LONG) as gate:
        first, second = _held_threads(gate, 2)
        first.join()
        assert not first.is_alive() and second.is_alive()
        second.join(timeout=0.05)  # a join with a time limit lets nobody go
        assert second.is_alive()
        second.join()


def test_leaving_the_block_lets_every_thread_go_and_puts_threading_back() -> None:
    join, wait = threading.Thread.join, threading.Condition.wait
    with JoinGate(LONG) as gate:
        threads = _held_threads(gate, 3)
        assert all(t.is_alive() for t in threads)
    assert threading.Thread.join is join and threading.Condition.wait is wait
    for thread in threads:
        thread.join(LONG)
        assert not thread.is_alive()


@pytest.mark.timeout(LONG / 2)  # only the gate's timeout would let them go otherwise
def test_the_caller_waiting_on_results_lets_the_threads_go() -> None:
    with JoinGate(LONG) as gate, ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda i: (gate.hold(), i)[1], range(3)))
    assert results == [0, 1, 2]


def test_the_caller_is_never_held() -> None:
    with JoinGate(LONG) as gate:
        gate.hold()  # returns at once


def test_wrap_holds_after_the_call_and_keeps_the_name() -> None:
    calls: list[int] = []
    with JoinGate(LONG) as gate:
        held = gate.wrap(calls.append, hold_first=False, name="increment")
        assert held.__name__ == "increment"
        thread = threading.Thread(target=held, args=(1,))
        thread.start()
        assert thread.name.endswith("(increment)")
        thread.join()
    assert calls == [1]
