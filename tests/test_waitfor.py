"""The wait-for graph (graders.kit.waitfor): hangs found at once and explained, never a false alarm.

Every check runs inside the graph (graders.engine.runner._judge). Here checks run in this process
through graders.engine.runner.run_check, so the verdict, its wording and its timing can be seen:

- the hang fixtures (fixtures/hangs/<task>/*.py) are stopped within a fraction of a second,
  with the story of who waits for whom, where the timeout used to take 10 s;
- every reference and alternative solution passes every check of its task with the graph on;
- waits the graph must not call stuck (a sleeping holder, a lock used as a signal, timed
  waits, the kit's own latches) pass; hangs it cannot see keep the timeout report;
- threading is exactly as it was after every check (the guard compares it at every report);
- the forced interleavings still hand over across blocking calls on tracked locks.
"""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from graders.engine import guard
from graders.engine.isolated import run_isolated
from graders.engine.runner import CheckResult, run_check
from graders.kit.checks import Check, Context
from graders.kit.interleave import ForcedInterleaving
from graders.kit.observe import record
from graders.kit.waitfor import ENV_SWITCH, WaitGraph
from graders.kit.waitfor.tracked import TrackedLock
from graders.tasks import get_task
from tests import test_interleave as interleave_cases
from tests.helpers import ROOT, SOLUTIONS, checks_in_this_process, submission_of

HANGS = ROOT / "fixtures" / "hangs"
SEED = 20261125
VERDICT_TARGET = 0.5  # seconds from the start of a check to the verdict, median
_names = itertools.count()


def probe(call: Callable[[ModuleType], object], *, timeout: float = 10.0) -> Check:
    """A check of our own: load the submission and call `call(module)` in it."""

    def body(ctx: Context) -> None:
        call(ctx.load())

    return Check("probe", "probe", 1, False, timeout, body, 0)


def run_probe(
    path: Path, call: Callable[[ModuleType], object], *, timeout: float = 10.0
) -> CheckResult:
    return run_check(probe(call, timeout=timeout), Context("probe", path.resolve(), SEED))


def learner_file(tmp_path: Path, source: str) -> Path:
    path = tmp_path / f"learner_{next(_names)}.py"
    path.write_text(source)
    return path


def import_file(path: Path) -> ModuleType:
    """Import a file as graders.kit.loader does (its frames carry the file's path)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failure(result: CheckResult) -> str:
    assert not result.passed and result.feedback is not None
    return result.feedback.render()


# ---------------------------------------------------------------- the hang fixtures


def workshop_counter(mod: ModuleType) -> None:
    mod.run_threads(5, 10_000)


def small_counter(mod: ModuleType) -> None:
    assert mod.run_threads(5, 100) == 500


def three_workers(mod: ModuleType) -> None:
    mod.run_workers(("Thread-A", "Thread-B", "Thread-C"), 1, 0.01)


def transfer(mod: ModuleType) -> None:
    mod.run()


HANG_CASES: dict[str, tuple[Callable[[ModuleType], object], dict[str, str]]] = {
    "counter_lock/continue_skips_release": (
        workshop_counter,
        {
            "summary": "waits for `lock`, which it already holds: it can never go on",
            "got": "it took it at line 19, and no release() of `lock` ran after that (the "
            "last one ran at line 25); the main thread waits in join() (line 35)",
            "where": "continue_skips_release.py:19  `lock.acquire()`",
            "hint": "a `continue`, `break` or `return` between them",
        },
    ),
    "counter_lock/acquire_twice": (
        small_counter,
        {
            "summary": "waits for `lock`, which it already holds",
            "got": "waits for `lock` (acquire_twice.py:17), but it holds `lock` already: it "
            "took it at line 24",
            "where": "acquire_twice.py:17  `with lock:`",
            "hint": "A Lock cannot be taken twice",
        },
    ),
    "counter_lock/return_holding": (
        small_counter,
        {
            "summary": "finished while still holding `lock`",
            "got": "finished while still holding `lock`, taken at return_holding.py:18; no "
            "release() of `lock` ran after that (the last one ran at line 23)",
            "where": "return_holding.py:18  `lock.acquire()`",
            "hint": "Release the lock on every path",
        },
    ),
    "start_join/worker_joins_main": (
        three_workers,
        {
            "summary": "Deadlock: the main thread and Thread-",
            "got": "The main thread waits in join() (worker_joins_main.py:32) for Thread-",
            "where": "worker_joins_main.py:32  `thread.join()`",
            "hint": "a thread that joins the main thread",
        },
    ),
    "start_join/join_chain": (
        three_workers,
        {
            "summary": "Deadlock: 4 threads wait for each other to finish, in a circle",
            "got": "which waits in join() (line 22) for the main thread: a circle",
            "where": "join_chain.py:36  `thread.join()`",
            "hint": "a thread that joins the main thread",
        },
    ),
    "lock_order/opposite_orders": (
        transfer,
        {
            "summary": "(a_to_b) and Thread-",
            "got": "which waits for `b_lock` (line 20), held by Thread-",
            "where": "opposite_orders.py:20  `with b_lock:`",
            "hint": "always `a_lock` before `b_lock`",
        },
    ),
    "lock_order/event_never_set": (
        transfer,
        {
            "summary": "All your threads are waiting, and none is left to wake the others",
            "got": "waits in wait() on `go` (line 16)",
            "where": "event_never_set.py:16  `go.wait()`",
            "hint": "set() for wait()",
        },
    ),
}


@pytest.mark.parametrize("case", sorted(HANG_CASES))
def test_hang_is_stopped_and_explained(case: str) -> None:
    call, expected = HANG_CASES[case]
    result = run_probe(HANGS / f"{case}.py", call)
    failure(result)
    fb = result.feedback
    assert fb is not None
    assert expected["summary"] in fb.summary
    assert expected["got"] in fb.got
    assert fb.where.endswith(expected["where"])
    assert expected["hint"] in fb.hint
    assert "Stopped" in fb.details[-1] and "could ever end" in fb.details[-1]
    assert result.seconds < 5.0  # the check's limit is 10 s: the graph, not the timeout


def test_the_continue_path_hangs_only_at_the_workshop_size() -> None:
    """Small sizes never reach the 1,000th increment: the graph stays silent."""
    result = run_probe(HANGS / "counter_lock/continue_skips_release.py", small_counter)
    assert result.passed, result.feedback and result.feedback.render()


@pytest.mark.parametrize(
    "case", ["counter_lock/acquire_twice", "lock_order/opposite_orders", "start_join/join_chain"]
)
def test_median_time_to_verdict_is_under_half_a_second(case: str) -> None:
    call, _ = HANG_CASES[case]
    seconds = [run_probe(HANGS / f"{case}.py", call).seconds for _ in range(20)]
    assert statistics.median(seconds) < VERDICT_TARGET, sorted(seconds)


def test_lock_order_inversion_is_reported_when_the_run_did_not_hang() -> None:
    result = run_probe(HANGS / "lock_order/opposite_orders_lucky.py", transfer)
    fb = result.feedback
    assert fb is not None and not result.passed
    assert (
        fb.summary == "Two threads take `a_lock` and `b_lock` in opposite orders: they can deadlock"
    )
    assert (
        "took `a_lock` (opposite_orders_lucky.py:17) and then, still holding it, `b_lock` "
        in fb.got
    )
    assert "took `b_lock` (line 24) and then, still holding it, `a_lock` (line 25)" in fb.got
    assert fb.where.endswith("opposite_orders_lucky.py:25  `with a_lock:`")


GUARDED = """\
import threading

guard = threading.Lock()
a_lock = threading.Lock()
b_lock = threading.Lock()


def a_then_b():
    with guard:
        with a_lock:
            with b_lock:
                pass


def b_then_a():
    with guard:
        with b_lock:
            with a_lock:
                pass


def run():
    for target in (a_then_b, b_then_a):
        t = threading.Thread(target=target)
        t.start()
        t.join()
"""


def test_opposite_orders_under_a_common_lock_are_no_inversion(tmp_path: Path) -> None:
    """Both threads hold `guard` around their nested locks: they can never deadlock."""
    result = run_probe(learner_file(tmp_path, GUARDED), transfer)
    assert result.passed, result.feedback and result.feedback.render()


@pytest.mark.parametrize(
    "task_id, fixture, first_check",
    [
        ("start_join", "start_join/worker_joins_main.py", "Deadlock: the main thread and Thread-"),
        ("start_join", "start_join/join_chain.py", "Deadlock: 4 threads wait for each other"),
        ("counter_lock", "counter_lock/acquire_twice.py", "which it already holds"),
    ],
)
# The checks run in this process, where pytest's threading.excepthook reports what the default
# one ignores: the SystemExit that ends a deadlocked learner thread, if it comes during the test.
@pytest.mark.filterwarnings(r"ignore:(?s).*SystemExit:pytest.PytestUnhandledThreadExceptionWarning")
def test_hang_fixtures_fail_their_tasks_checks_fast(
    tmp_path: Path, task_id: str, fixture: str, first_check: str
) -> None:
    task = get_task(task_id)
    folder = submission_of(task, HANGS / fixture, tmp_path)
    started = time.perf_counter()
    result = checks_in_this_process(task.id, folder, seed=SEED)
    first = result.first_failure
    assert first is not None and first.feedback is not None
    assert first_check in first.feedback.summary
    assert time.perf_counter() - started < 5.0 * len(result.checks)


@pytest.mark.parametrize(
    "task_id, fixture", [("counter_lock", "acquire_twice"), ("start_join", "join_chain")]
)
def test_hangs_in_the_grading_process_leave_threading_as_the_guard_knows_it(
    tmp_path: Path, task_id: str, fixture: str
) -> None:
    """The real path: a fresh grading process with its guard, which compares threading at
    every report (a tracked lock left installed would be reported as tampering)."""
    task = get_task(task_id)
    folder = submission_of(task, HANGS / task_id / f"{fixture}.py", tmp_path)
    run = run_isolated(task.id, folder, seed=SEED, hidden=True)
    assert run.tampering == [] and run.blocked == []
    failed = [c for c in run.result.checks if not c.passed]
    assert failed and all(c.seconds < 5.0 for c in run.result.checks)
    assert "Stopped" in failed[0].feedback.render()


# ---------------------------------------------------------------- no false alarms


def _solutions() -> list[tuple[str, Path]]:
    """Each task's reference solution. The alternative solutions pass every check with the
    graph on in tests/test_bonus_tasks.py (grading processes, where the graph is on as in
    every run); here each check is also counted to have entered a graph."""
    from graders.tasks import TASKS

    return [(t.id, SOLUTIONS / t.module) for t in TASKS]


@pytest.mark.parametrize(
    "task_id, source", _solutions(), ids=lambda v: v if isinstance(v, str) else v.stem
)
def test_solutions_pass_every_check_with_the_graph_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, task_id: str, source: Path
) -> None:
    entered: list[object] = []  # a solution may wait with join(timeout) only: count graphs
    original = WaitGraph.__enter__
    monkeypatch.setattr(WaitGraph, "__enter__", lambda g: (entered.append(g), original(g))[1])
    task = get_task(task_id)
    folder = submission_of(task, source, tmp_path)
    result = checks_in_this_process(task.id, folder, hidden=True, seed=SEED)
    failed = {c.name: c.feedback.render() for c in result.checks if not c.passed and c.feedback}
    assert failed == {}
    assert len(entered) == len(result.checks), "a check ran without the graph: was it on?"


NO_FALSE_ALARM = """\
import threading
import time

lock = threading.Lock()
gate = threading.Lock()
done = threading.Lock()
rlock = threading.RLock()
cond = threading.Condition()
sem = threading.Semaphore(1)
barrier = threading.Barrier(3)
seen = []


def waits_for_sleeping_holder():
    def take():
        with lock:
            seen.append("worker")

    with lock:
        t = threading.Thread(target=take)
        t.start()
        time.sleep(0.3)  # the holder sleeps: the worker waits, nobody is stuck
    t.join()


def lock_as_a_gate():
    gate.acquire()
    first = threading.Thread(target=lambda: (gate.acquire(), gate.release()))
    opener = threading.Thread(target=lambda: (time.sleep(0.3), gate.release()))
    first.start()
    opener.start()
    first.join()  # waits for `first`, which waits for a gate the main thread holds
    opener.join()


def lock_as_a_signal():
    done.acquire()
    t = threading.Thread(target=lambda: (time.sleep(0.3), done.release()))
    t.start()
    done.acquire()  # the main thread "waits for itself" until the worker releases
    t.join()


def token_passed_on():
    token = threading.Lock()
    taker = threading.Thread(target=token.acquire)  # takes the token and ends
    taker.start()
    taker.join()
    waiter = threading.Thread(target=lambda: (token.acquire(), token.release()))
    giver = threading.Thread(target=lambda: (time.sleep(0.3), token.release()))
    waiter.start()
    giver.start()
    waiter.join()  # the holder has finished, but a running thread releases it
    giver.join()


def reentrant_and_conditions():
    box = []

    def producer():
        time.sleep(0.2)
        with rlock:
            with rlock:
                with cond:
                    box.append(1)
                    cond.notify_all()

    t = threading.Thread(target=producer)
    t.start()
    with cond:
        while not box:
            cond.wait()
    t.join()


def semaphores_and_barriers():
    def party():
        with sem:
            time.sleep(0.05)
        barrier.wait()

    threads = [threading.Thread(target=party) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    barrier.wait()
    for t in threads:
        t.join()


def timed_waits():
    lock.acquire()
    t = threading.Thread(target=lambda: seen.append(lock.acquire(timeout=0.3)))
    t.start()
    t.join(0.05)
    t.join()
    lock.release()
    event = threading.Event()
    assert not event.wait(0.1)
    return seen[-1]
"""


@pytest.mark.parametrize(
    "func",
    [
        "waits_for_sleeping_holder",
        "lock_as_a_gate",
        "lock_as_a_signal",
        "token_passed_on",
        "reentrant_and_conditions",
        "semaphores_and_barriers",
        "timed_waits",
    ],
)
def test_waits_that_end_are_never_called_stuck(tmp_path: Path, func: str) -> None:
    path = learner_file(tmp_path, NO_FALSE_ALARM)
    result = run_probe(path, lambda mod: getattr(mod, func)())
    assert result.passed, result.feedback and result.feedback.render()


KIT_LATCH = """\
import threading


def work(i):
    return i


def run():
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def test_a_wait_on_the_kits_latch_is_not_a_deadlock(tmp_path: Path) -> None:
    """Two workers wait at a latch for three: the latch gives up after its timeout."""
    path = learner_file(tmp_path, KIT_LATCH)

    def call(mod: ModuleType) -> None:
        calls = record(mod, "work", latch=3, timeout=0.4)
        mod.run()
        assert not calls.latch_filled and len(calls.calls) == 2

    result = run_probe(path, call)
    assert result.passed, result.feedback and result.feedback.render()


HIDDEN_HANGS = """\
import threading
import time

lock = threading.Lock()


def sleeps_forever():
    time.sleep(3600)


def waits_for_a_sleeper():
    t = threading.Thread(target=lambda: lock.acquire() and lock.release())
    with lock:
        t.start()
        time.sleep(3600)
"""


@pytest.mark.parametrize("func", ["sleeps_forever", "waits_for_a_sleeper"])
def test_hangs_the_graph_cannot_see_keep_the_timeout_report(tmp_path: Path, func: str) -> None:
    path = learner_file(tmp_path, HIDDEN_HANGS)
    result = run_probe(path, lambda mod: getattr(mod, func)(), timeout=0.6)
    assert result.feedback is not None and not result.passed
    assert result.feedback.summary == "Your code did not finish within 0.6 s"
    if func == "waits_for_a_sleeper":  # the graph adds who waits for whom, as it was then
        assert result.feedback.details[0].startswith("Thread-")
        assert "waits for `lock` (" in result.feedback.details[0]
        story = "held by the main thread (taken at line 13); the main thread is not waiting on "
        assert story + "anything the checker can see: it is at " in result.feedback.details[0]
        assert "`time.sleep(3600)` (a loop or a sleep that never ends?)" in failure(result)


PARTIAL = """\
import threading

a_lock = threading.Lock()
b_lock = threading.Lock()
both = threading.Barrier(2)


def one():
    with a_lock:
        both.wait()
        with b_lock:
            pass


def two():
    with b_lock:
        both.wait()
        with a_lock:
            pass


def polls():
    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.05)


def leaves_them():
    for target in (one, two):
        threading.Thread(target=target).start()
"""


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
@pytest.mark.parametrize("func", ["polls", "leaves_them"])
def test_two_threads_deadlocked_while_the_main_thread_runs(
    tmp_path: Path, func: str, kind: str
) -> None:
    """A partial deadlock: the main thread polls (timed joins) or has returned already."""
    path = learner_file(tmp_path, PARTIAL.replace("threading.Lock()", f"threading.{kind}()"))
    result = run_probe(path, lambda mod: getattr(mod, func)())
    assert "each wait for a lock the other holds" in failure(result)
    assert result.seconds < 3.0  # under the settle grace and far under the 10 s limit


NAMES = """\
import threading


class Account:
    def __init__(self):
        self.lock = threading.Lock()


account = Account()
locks = [threading.Lock(), threading.Lock()]
jobs = __import__("queue").Queue()


def in_a_local():
    mine = threading.Lock()
    mine.acquire()
    mine.acquire()


def attribute():
    account.lock.acquire()
    account.lock.acquire()


def in_a_list():
    locks[1].acquire()
    locks[1].acquire()


def unnamed():
    def twice(lock):
        lock.acquire()
        lock.acquire()

    t = threading.Thread(target=twice, args=(threading.Lock(),))
    t.start()
    t.join()


def consume():
    return jobs.get()


def queue_without_producer():
    t = threading.Thread(target=consume)
    t.start()
    t.join()
"""


@pytest.mark.parametrize(
    "func, name",
    [
        ("in_a_local", "`mine`"),
        ("attribute", "`account.lock`"),
        ("in_a_list", "`locks[1]`"),
        ("unnamed", "waits for `lock`"),
        ("queue_without_producer", "get() on `jobs`"),
    ],
)
def test_locks_are_named_as_the_learners_code_names_them(
    tmp_path: Path, func: str, name: str
) -> None:
    path = learner_file(tmp_path, NAMES)
    assert name in failure(run_probe(path, lambda mod: getattr(mod, func)()))


# ---------------------------------------------------------------- threading restored


def _threading_now() -> tuple[object, ...]:
    return (
        threading.Lock,
        threading.RLock,
        threading._allocate_lock,
        threading.Thread.__dict__["join"],
    )


def test_threading_is_restored_after_every_check(tmp_path: Path) -> None:
    before = _threading_now()
    snap = guard.snapshot(guard.watched_modules())
    passing = learner_file(tmp_path, NO_FALSE_ALARM)
    assert run_probe(passing, lambda mod: mod.reentrant_and_conditions()).passed
    run_probe(HANGS / "counter_lock/acquire_twice.py", small_counter)
    run_probe(HANGS / "lock_order/opposite_orders_lucky.py", transfer)
    assert _threading_now() == before
    changed = [
        (label, key)
        for label, namespace, items in snap
        for key, value in items
        if namespace.get(key) is not value
    ]
    assert changed == []


def test_the_kits_own_objects_stay_real_and_the_switch_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = learner_file(tmp_path, NO_FALSE_ALARM)
    seen: dict[str, Any] = {}

    def call(mod: ModuleType) -> None:
        seen["learner"] = type(mod.lock)
        seen["kit"] = type(threading.Lock())
        seen["cond"] = type(mod.cond._lock)

    assert run_probe(path, call).passed
    assert seen == {"learner": TrackedLock, "kit": type(threading.Lock()), "cond": seen["cond"]}
    assert seen["cond"].__name__ == "TrackedRLock"
    monkeypatch.setenv(ENV_SWITCH, "0")
    assert run_probe(path, call).passed
    assert seen["learner"] is type(threading.Lock())


ISINSTANCE = """\
import threading

lock = threading.Lock()
rlock = threading.RLock()


def kinds(other):
    out = {}
    made = threading.Lock()
    for name, obj in (("lock", lock), ("rlock", rlock), ("other", other), ("made", made)):
        try:
            out[name] = isinstance(obj, threading.Lock)
        except TypeError:
            out[name] = "TypeError"
    try:

        class Mine(threading.Lock):
            pass

        out["subclass"] = "allowed"
    except TypeError:
        out["subclass"] = "TypeError"
    return out, type(lock).__name__
"""


def test_isinstance_of_threading_lock_answers_as_without_the_graph(tmp_path: Path) -> None:
    """threading.Lock is a class on 3.13 (isinstance works) and a function before (isinstance
    raises TypeError): the graph's stand-in has the same shape, and accepts tracked locks."""
    path = learner_file(tmp_path, ISINSTANCE)
    plain, _ = import_file(path).kinds(threading.Lock())
    seen: list[tuple[dict[str, object], str]] = []
    assert run_probe(path, lambda mod: seen.append(mod.kinds(threading.Lock()))).passed
    assert seen == [(plain, "TrackedLock")]
    if isinstance(threading.Lock, type):  # 3.13 on
        assert plain == {"lock": True, "rlock": False, "other": True, "made": True} | {
            "subclass": "TypeError"
        }


# ---------------------------------------------------------------- forced interleaving


def _tracked(tmp_path: Path, source: str) -> tuple[Path, Callable[[], ModuleType]]:
    path = learner_file(tmp_path, source)
    return path, lambda: import_file(path)


def test_locked_counters_stay_exact_under_forced_interleaving(tmp_path: Path) -> None:
    source = interleave_cases.COUNTER_TEMPLATE.format(body=interleave_cases.LOCKED_BODY)
    for src, func in ((source, "run_threads"), (interleave_cases.CLOSURE_COUNTER, "run_locked")):
        path, load = _tracked(tmp_path, src)
        for seed in range(3):
            with WaitGraph([str(path)]) as graph:
                module = load()
                with ForcedInterleaving([path], seed=seed) as fi:
                    total = getattr(module, func)(5, 100)
            assert total == 500 and fi.switches > 0
            assert graph.graph is None  # closed, nothing to report


@pytest.mark.parametrize("func", ["locked", "with_queue"])
def test_correct_pools_pass_the_last_pop_stall_with_tracked_locks(
    tmp_path: Path, func: str
) -> None:
    path, load = _tracked(tmp_path, interleave_cases.POOLS)
    urls = interleave_cases.URLS
    with WaitGraph([str(path)]):
        module = load()
        with ForcedInterleaving([path], seed=1, stall_last_pop=True, stall_timeout=0.3):
            results = getattr(module, func)(urls)
    assert results == {i: u.upper() for i, u in enumerate(urls)}


@pytest.mark.parametrize("func", ["with_args", "subclass", "executor"])
def test_held_threads_are_handed_over_at_tracked_joins(tmp_path: Path, func: str) -> None:
    path, load = _tracked(tmp_path, interleave_cases.DOWNLOADERS)
    with WaitGraph([str(path)]):
        module = load()
        with ForcedInterleaving([path], seed=2, hold_new_threads=True) as fi:
            getattr(module, func)(interleave_cases.URLS)
    assert fi.hold_timeouts == 0
    assert len(module.calls) == len(interleave_cases.URLS)


MAIN_BLOCKS_ON_A_LOCK = """\
import threading

lock = threading.Lock()
helped = threading.Event()
started = threading.Event()


def holder():
    with lock:
        started.set()
        helped.wait()  # needs the helper, started later, while it holds the lock


def helper():
    helped.set()


def run():
    first = threading.Thread(target=holder)
    first.start()
    started.wait()
    second = threading.Thread(target=helper)
    second.start()  # held back by the interleaver until the main thread waits
    with lock:  # the main thread blocks on a tracked lock: that is a wait
        pass
    first.join()
    second.join()
"""


def test_main_thread_blocked_on_a_tracked_lock_hands_over(tmp_path: Path) -> None:
    path, load = _tracked(tmp_path, MAIN_BLOCKS_ON_A_LOCK)
    with WaitGraph([str(path)]):
        module = load()
        with ForcedInterleaving([path], seed=0, hold_new_threads=True, stall_timeout=2.0) as fi:
            started = time.perf_counter()
            module.run()
    assert fi.hold_timeouts == 0
    assert time.perf_counter() - started < 1.5
