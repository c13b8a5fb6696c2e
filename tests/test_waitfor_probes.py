"""What the kit's holds ask the wait-for graph: futures waited on (graders.kit.waitfor.futures),
and whether a thread is blocked in a tracked wait (waitfor.blocked)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, as_completed

from graders.kit.waitfor.futures import waiting_on_futures

COND_WAIT = threading.Condition.wait.__code__


def blocked_in(target: object, future: Future[int]) -> str | None:
    """Start a thread that waits on `future`; once it blocks in Condition.wait, what
    waiting_on_futures says of it (the call's name, or None); then finish the future."""
    thread = threading.Thread(target=target, args=(future,))
    thread.start()
    deadline = time.perf_counter() + 5.0
    while sys._current_frames()[thread.ident or 0].f_code is not COND_WAIT:
        assert time.perf_counter() < deadline, "the thread never blocked"
        time.sleep(0.005)
    frame = waiting_on_futures([thread]).get(thread)
    future.set_result(1)
    thread.join()
    return frame.f_code.co_name if frame is not None else None


def untimed(future: Future[int]) -> None:
    future.result()


def timed(future: Future[int]) -> None:
    future.result(timeout=5)


def in_as_completed(future: Future[int]) -> None:
    for done in as_completed([future]):
        done.result()


def test_a_thread_in_result_without_a_time_limit_waits_on_a_future() -> None:
    assert blocked_in(untimed, Future()) == "result"


def test_a_thread_in_as_completed_waits_on_a_future() -> None:
    assert blocked_in(in_as_completed, Future()) == "as_completed"


def test_a_wait_with_a_time_limit_can_end_by_itself() -> None:
    assert blocked_in(timed, Future()) is None


def test_a_running_thread_is_not_waiting() -> None:
    assert waiting_on_futures([threading.current_thread()]) == {}


def loop_frames(coroutine: Callable[[], Awaitable[object]], looks: int) -> set[str | None]:
    """Run `coroutine` in an event loop of its own thread; each time that thread is seen in its
    selector (`looks` times), what waiting_on_futures says of it; then let the coroutine end."""

    async def main() -> None:
        await coroutine()

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    seen: set[str | None] = set()
    deadline = time.perf_counter() + 5.0
    while looks > 0 and time.perf_counter() < deadline:
        if sys._current_frames()[thread.ident or 0].f_code.co_name == "select":
            looks -= 1
            frame = waiting_on_futures([thread]).get(thread)
            seen.add(frame.f_code.co_name if frame is not None else None)
            if frame is not None:
                break
        time.sleep(0.005)
    RELEASE.set()
    thread.join()
    RELEASE.clear()
    return seen


RELEASE = threading.Event()


async def awaits_a_worker_thread() -> None:
    await asyncio.to_thread(RELEASE.wait)


async def awaits_a_timer() -> None:
    while not RELEASE.is_set():
        await asyncio.sleep(0.05)


def test_an_event_loop_awaiting_a_worker_thread_waits_on_another_thread() -> None:
    assert "_run_once" in loop_frames(awaits_a_worker_thread, looks=1000)


def test_an_event_loop_with_a_timer_can_go_on_by_itself() -> None:
    assert loop_frames(awaits_a_timer, looks=20) == {None}  # in select 20 times, never counted


# ------------------------------------------------- waitfor.blocked: a tracked wait, right now


def test_blocked_is_true_only_while_a_thread_waits_on_a_tracked_lock() -> None:
    from graders.kit import waitfor

    assert not waitfor.blocked(threading.current_thread())  # no graph: never
    with waitfor.WaitGraph([__file__]):
        lock = threading.Lock()  # made by this file while the graph watches: tracked
        lock.acquire()
        waiter = threading.Thread(target=lambda: lock.acquire() and lock.release())
        waiter.start()
        deadline = time.perf_counter() + 5.0
        while not waitfor.blocked(waiter):
            assert time.perf_counter() < deadline, "the waiter was never seen blocked"
            time.sleep(0.005)
        assert not waitfor.blocked(threading.current_thread())
        lock.release()
        waiter.join()
        assert not waitfor.blocked(waiter)


# ---------------------------------------- a call recorder's latch gives up once nobody can come


def _work(seconds: float) -> None:
    time.sleep(seconds)


def test_a_recorder_latch_gives_up_when_each_thread_is_joined_after_its_start() -> None:
    """Joined one by one, the second call can never come while the first is held: the latch
    gives up once the graph sees it (two looks), not at its 5-s limit."""
    from types import SimpleNamespace

    from graders.kit import waitfor
    from graders.kit.observe import record

    module = SimpleNamespace(work=_work)
    recorder = record(module, "work", latch=3, timeout=5.0)  # type: ignore[arg-type]
    started = time.perf_counter()
    with waitfor.WaitGraph([__file__]):
        for _ in range(3):
            thread = threading.Thread(target=module.work, args=(0,))
            thread.start()
            thread.join()
    assert not recorder.latch_filled and recorder.peak_running == 1
    assert time.perf_counter() - started < 2.5


def test_a_recorder_latch_fills_when_the_calls_overlap() -> None:
    from types import SimpleNamespace

    from graders.kit import waitfor
    from graders.kit.observe import record

    module = SimpleNamespace(work=_work)
    recorder = record(module, "work", latch=3, timeout=5.0)  # type: ignore[arg-type]
    with waitfor.WaitGraph([__file__]):
        threads = [threading.Thread(target=module.work, args=(0.01 * i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert recorder.latch_filled and recorder.peak_running == 3


# ------------------------------------- a hold that has ended is not counted as held any more


def quiet_looks_after_a_release(released_known: bool) -> list[object]:
    """Two `quiet` looks, QUIET_LOOK apart, taken by a thread the kit holds while another
    held thread has been released but cannot run yet (the looker keeps the condition it must
    wake up with: a loaded machine that has not scheduled it). The caller joins both."""
    from graders.kit import waitfor
    from graders.kit.waitfor import holds

    cond, entered = threading.Condition(), threading.Event()  # the kit's own: not tracked
    released = [False]
    looks: list[object] = []

    def held() -> None:
        with cond:
            entered.set()  # cond is let go only once the wait below has begun
            if released_known:
                waitfor.wait_quietly(
                    cond, lambda: released[0], lambda: time.perf_counter() + 10, None
                )
            else:  # a hold as before: the thread counts as held until it runs again
                with waitfor.held_by_kit():
                    while not released[0]:
                        cond.wait()

    main = threading.current_thread()

    def looker() -> None:
        entered.wait()
        with waitfor.held_by_kit(), cond:
            deadline = time.perf_counter() + 5.0
            while not waitfor.blocked(main):  # the caller's join, which the graph sees
                assert time.perf_counter() < deadline, "the caller was never seen joining"
                time.sleep(0.005)
            released[0] = True
            cond.notify_all()
            looks.append(waitfor.quiet())
            time.sleep(holds.QUIET_LOOK)
            looks.append(waitfor.quiet())

    with waitfor.WaitGraph([__file__]):
        threads = [threading.Thread(target=held), threading.Thread(target=looker)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return looks


def test_a_released_thread_that_has_not_run_yet_can_still_come() -> None:
    """The false fail of a correct worker pool under load: a wave of the HTTP latch was let
    go, one of its workers was slow to wake, and the next wave's first arrival saw every
    other worker "held" twice in a row, and let its wave go with one request in it."""
    assert quiet_looks_after_a_release(released_known=True) == [None, None]


def test_a_hold_without_a_release_flag_counts_until_its_thread_runs() -> None:
    """The same scene without the flag: two equal looks, the early release the flag prevents
    (so the test above shows the flag's effect, not a scene that is never quiet)."""
    first, second = quiet_looks_after_a_release(released_known=False)
    assert first is not None and first == second
