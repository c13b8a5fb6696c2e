"""Tests for graders.kit.interleave: forced interleavings find races in every seeded run.

The learner-like code lives in temp files imported with importlib, so that its frames'
``co_filename`` is the file handed to ForcedInterleaving, as it is for a real submission.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import threading
import time
from pathlib import Path
from types import FrameType, ModuleType

import pytest

from graders.kit import tracehooks
from graders.kit.interleave import Access, ForcedInterleaving, LostUpdate

FAST_RUNS = 5
SLOW_RUNS = 20
_names = itertools.count()

COUNTER_TEMPLATE = """\
import threading

counter = 0
lock = threading.Lock()


def increment(times):
    global counter
    for _ in range(times):
{body}


def run_threads(n_threads=5, times=100):
    global counter
    counter = 0
    threads = [threading.Thread(target=increment, args=(times,)) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter
"""
COUNTER_BODIES = {
    "two_step": "        new = counter + 1\n        counter = new",
    "augmented": "        counter += 1",
}
LOCKED_BODY = "        with lock:\n            new = counter + 1\n            counter = new"

CLOSURE_COUNTER = """\
import threading


def run_locked(n_threads=5, times=100):
    count = 0
    lock = threading.Lock()

    def increment():
        nonlocal count
        for _ in range(times):
            with lock:
                count += 1

    threads = [threading.Thread(target=increment) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count
"""

POOLS = """\
import queue
import threading
import time


def download(url):
    time.sleep(0.008)
    return url.upper()


def run(worker, n_workers):
    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def unlocked(urls, n_workers=3):
    todo = list(enumerate(urls))
    results = {}

    def worker():
        while todo:
            i, url = todo.pop()
            results[i] = download(url)

    run(worker, n_workers)
    return results


def check_outside_lock(urls, n_workers=3):
    todo = list(enumerate(urls))
    results = {}
    lock = threading.Lock()

    def worker():
        while todo:
            with lock:
                i, url = todo.pop()
            results[i] = download(url)

    run(worker, n_workers)
    return results


def locked(urls, n_workers=3):
    todo = list(enumerate(urls))
    results = {}
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i, url = todo.pop()
            results[i] = download(url)

    run(worker, n_workers)
    return results


def with_queue(urls, n_workers=3):
    todo = queue.Queue()
    for item in enumerate(urls):
        todo.put(item)
    results = {}

    def worker():
        while True:
            try:
                i, url = todo.get_nowait()
            except queue.Empty:
                return
            results[i] = download(url)

    run(worker, n_workers)
    return results
"""

DOWNLOADERS = """\
import threading
import time
from concurrent.futures import ThreadPoolExecutor

calls = []


def save_url(url, path):
    calls.append((url, path))
    time.sleep(0.002)


def late_binding(urls):
    threads = []
    for i, url in enumerate(urls):
        t = threading.Thread(target=lambda: save_url(url, f"result_{i}.txt"))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def with_args(urls):
    threads = []
    for i, url in enumerate(urls):
        t = threading.Thread(target=save_url, args=(url, f"result_{i}.txt"))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def default_argument(urls):
    threads = []
    for i, url in enumerate(urls):
        path = f"result_{i}.txt"
        t = threading.Thread(target=lambda u=url, p=path: save_url(u, p))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


class Saver(threading.Thread):
    def __init__(self, url, path):
        super().__init__()
        self.url = url
        self.path = path

    def run(self):
        save_url(self.url, self.path)


def subclass(urls):
    threads = [Saver(url, f"result_{i}.txt") for i, url in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def executor(urls):
    with ThreadPoolExecutor(max_workers=4) as pool:
        for i, url in enumerate(urls):
            pool.submit(save_url, url, f"result_{i}.txt")
"""

SPANS = """\
import threading


def work(steps):
    total = 0
    for k in range(steps):
        total += k
    return total


def parallel(n=3, steps=200):
    threads = [threading.Thread(target=work, args=(steps,), name=f"w{k}") for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_after_another(n=3, steps=200):
    for k in range(n):
        t = threading.Thread(target=work, args=(steps,), name=f"w{k}")
        t.start()
        t.join()
"""

LINGER = """\
import threading
import time


def spin(stop):
    total = 0
    while not stop.is_set():
        total += 1
        stop.wait(0.001)
    return total


def start(stop):
    t = threading.Thread(target=spin, args=(stop,))
    t.start()
    return t


def pop_last(items):
    return items.pop()


def busy_start(flag):
    t = threading.Thread(target=lambda: flag.append(len(flag)))
    t.start()
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        pass
    return t
"""

URLS = [f"https://example.test/page/{k}" for k in range(5)]


def load(tmp_path: Path, source: str) -> tuple[ModuleType, Path]:
    """Write ``source`` to a temp file and import it, as the graders import a submission."""
    name = f"learner_{next(_names)}"
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def counter_module(tmp_path: Path, body: str) -> tuple[ModuleType, Path]:
    return load(tmp_path, COUNTER_TEMPLATE.format(body=body))


def run_counter(module: ModuleType, path: Path, seed: int) -> tuple[int, ForcedInterleaving]:
    with ForcedInterleaving([path], seed=seed, watch_globals=["counter"]) as fi:
        total = module.run_threads(5, 100)
    return total, fi


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[type[BaseException]]:
    """Exceptions raised in threads, seen through threading.excepthook like a grader does."""
    errors: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_type))
    return errors


# ---------------------------------------------------------------- mechanism 1 and 2: counters


def _assert_racy_counter_always_loses(tmp_path: Path, body: str, runs: int) -> None:
    module, path = counter_module(tmp_path, body)
    for seed in range(runs):
        total, fi = run_counter(module, path, seed)
        assert fi.switches > 0, "the tracer never yielded inside learner code"
        assert total < 500, f"seed {seed}: no update lost, total {total}"
        assert fi.lost_update("counter") is not None, f"seed {seed}: lost update not explained"


DATACLASS_FIRST = (
    COUNTER_TEMPLATE.format(
        body="        bump(Step())  # Step's generated __init__ runs first, here, from no file"
    )
    + """
import dataclasses


@dataclasses.dataclass
class Step:
    size: int = 1


def bump(step):
    global counter
    new = counter + step.size
    counter = new
"""
)


def test_code_from_no_file_run_in_the_learners_module_leaves_it_traced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tracer skips a frame by its module namespace once it has seen that namespace run
    no learner file (graders.kit.tracehooks.remember_elsewhere). A dataclass's __init__ runs in
    the learner's namespace from no file (once the module is in sys.modules, as a learner's
    own import puts it): the learner's own frames must still be traced."""
    path = tmp_path / "learner_dataclass.py"
    path.write_text(DATACLASS_FIRST)
    spec = importlib.util.spec_from_file_location("learner_dataclass", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "learner_dataclass", module)
    spec.loader.exec_module(module)
    assert module.Step.__init__.__globals__ is vars(module)
    for seed in range(FAST_RUNS):
        total, fi = run_counter(module, path, seed)
        assert total < 500 and fi.lost_update("counter") is not None, f"seed {seed}: {total}"


def _assert_locked_counter_never_loses(tmp_path: Path, runs: int) -> None:
    module, path = counter_module(tmp_path, LOCKED_BODY)
    for seed in range(runs):
        total, fi = run_counter(module, path, seed)
        assert fi.switches > 0
        assert total == 500, f"seed {seed}: false alarm, total {total}"
        assert fi.lost_update("counter") is None


@pytest.mark.parametrize("form", sorted(COUNTER_BODIES))
def test_racy_counter_loses_updates_in_every_seeded_run(tmp_path: Path, form: str) -> None:
    _assert_racy_counter_always_loses(tmp_path, COUNTER_BODIES[form], FAST_RUNS)


def test_locked_counter_never_loses_an_update(tmp_path: Path) -> None:
    _assert_locked_counter_never_loses(tmp_path, FAST_RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(COUNTER_BODIES))
def test_racy_counter_loses_updates_in_20_of_20_runs(tmp_path: Path, form: str) -> None:
    _assert_racy_counter_always_loses(tmp_path, COUNTER_BODIES[form], SLOW_RUNS)


@pytest.mark.slow
def test_locked_counter_never_loses_in_20_runs(tmp_path: Path) -> None:
    _assert_locked_counter_never_loses(tmp_path, SLOW_RUNS)


def test_locked_closure_counter_is_not_corrupted_by_the_tracer(tmp_path: Path) -> None:
    # On 3.10 a trace call writes a stale copy of closure cells back after it returns;
    # ForcedInterleaving refreshes the copy after yielding, or this would lose updates.
    module, path = load(tmp_path, CLOSURE_COUNTER)
    for seed in range(FAST_RUNS):
        with ForcedInterleaving([path], seed=seed) as fi:
            assert module.run_locked() == 500, f"seed {seed}"
        assert fi.switches > 0


def test_lost_update_describe_names_two_threads_and_the_lines(tmp_path: Path) -> None:
    module, path = counter_module(tmp_path, COUNTER_BODIES["two_step"])
    total, fi = run_counter(module, path, seed=7)
    lost = fi.lost_update("counter")
    assert isinstance(lost, LostUpdate) and total < 500
    read, other, victim = lost.victim_read, lost.other_write, lost.victim_write
    assert read.thread == victim.thread != other.thread
    assert (read.kind, other.kind, victim.kind) == ("read", "write", "write")
    assert (read.line, other.line, victim.line) == (10, 11, 11)
    assert read.source == "new = counter + 1" and victim.source == "counter = new"
    assert victim.value == read.value + 1  # computed from the stale read
    text = lost.describe()
    assert f"{read.thread} read counter = {read.value!r} at line 10 (`new = counter + 1`)" in text
    assert f"{other.thread} then wrote counter = {other.value!r} at line 11" in text
    assert f"so {other.thread}'s update was lost." in text


def test_accesses_are_recorded_with_values(tmp_path: Path) -> None:
    module, path = counter_module(tmp_path, COUNTER_BODIES["augmented"])
    with ForcedInterleaving([path], seed=1, yield_probability=0.0, watch_globals=["counter"]) as fi:
        module.run_threads(2, 3)
    seen = fi.accesses("counter")
    assert seen[0] == Access("MainThread", "write", 0, 15, "counter = 0")
    increments = [a for a in seen if a.line == 10]
    assert [a.kind for a in increments] == ["read", "write"] * 6
    assert [a.value for a in increments if a.kind == "write"] == [1, 2, 3, 4, 5, 6]
    assert fi.lost_update("counter") is None
    with pytest.raises(ValueError):
        fi.lost_update("not_watched")


# ---------------------------------------------------------------- spans


def test_thread_spans_and_overlapped(tmp_path: Path) -> None:
    module, path = load(tmp_path, SPANS)
    with ForcedInterleaving([path], seed=3) as fi:
        module.parallel()
    spans = fi.thread_spans("work")
    assert set(spans) == {"w0", "w1", "w2"}
    assert all(first <= last for first, last in spans.values())
    assert fi.overlapped("work")
    assert fi.thread_spans("no_such_function") == {}

    with ForcedInterleaving([path], seed=3) as fi:
        module.one_after_another()
    assert len(fi.thread_spans("work")) == 3
    assert not fi.overlapped("work")


# ---------------------------------------------------------------- mechanism 3: stall_last_pop


def _run_pool(module: ModuleType, path: Path, func: str, seed: int, timeout: float) -> dict:
    with ForcedInterleaving([path], seed=seed, stall_last_pop=True, stall_timeout=timeout):
        return getattr(module, func)(URLS)


@pytest.mark.parametrize("func", ["unlocked", "check_outside_lock"])
def test_unlocked_check_then_pop_fails_every_run(
    tmp_path: Path, thread_errors: list, func: str
) -> None:
    module, path = load(tmp_path, POOLS)
    runs = FAST_RUNS if func == "unlocked" else 2  # the mutant costs one stall_timeout a run
    for seed in range(runs):
        thread_errors.clear()
        results = _run_pool(module, path, func, seed, timeout=0.3)
        assert IndexError in thread_errors, f"seed {seed}: the race did not show"
        assert len(results) == len(URLS)  # every URL was still fetched exactly once


@pytest.mark.parametrize("func", ["locked", "with_queue"])
def test_correct_pools_pass_with_stall(tmp_path: Path, thread_errors: list, func: str) -> None:
    module, path = load(tmp_path, POOLS)
    for seed in range(2):
        thread_errors.clear()
        started = time.perf_counter()
        results = _run_pool(module, path, func, seed, timeout=0.3)
        assert thread_errors == []
        assert results == {i: u.upper() for i, u in enumerate(URLS)}
        assert time.perf_counter() - started < 2.0


def _run_pool_under_graph(module: ModuleType, path: Path, func: str, seed: int):
    """The pool under the wait-for graph (as in a check), with a stall timeout never reached."""
    from graders.kit.waitfor import WaitGraph

    with WaitGraph([path]):
        with ForcedInterleaving([path], seed=seed, stall_last_pop=True, stall_timeout=5.0) as fi:
            started = time.perf_counter()
            results = getattr(module, func)(URLS)
            return fi, results, time.perf_counter() - started


def test_stall_ends_at_once_when_no_other_thread_can_come(tmp_path: Path, thread_errors) -> None:
    """A correct pool: the other workers wait on the lock the stalled one holds, so the graph
    sees nobody can come, and the stall ends after two looks instead of its timeout."""
    module, path = load(tmp_path, POOLS)
    fi, results, seconds = _run_pool_under_graph(module, path, "locked", seed=0)
    assert results == {i: u.upper() for i, u in enumerate(URLS)} and thread_errors == []
    assert (fi.stall_quiets, fi.stall_timeouts, fi.stall_pairs) == (1, 0, 0)
    assert seconds < 2.5  # half the stall timeout


def test_quiet_never_ends_a_stall_a_second_thread_can_reach(tmp_path: Path, thread_errors) -> None:
    module, path = load(tmp_path, POOLS)
    for seed in range(3):
        thread_errors.clear()
        fi, _, seconds = _run_pool_under_graph(module, path, "check_outside_lock", seed)
        assert IndexError in thread_errors, f"seed {seed}: the race did not show"
        assert fi.stall_timeouts == 0 and seconds < 2.5  # paired, or quiet: never the timeout


def test_stall_times_out_when_no_second_thread_comes(tmp_path: Path) -> None:
    module, path = load(tmp_path, LINGER)
    stop = threading.Event()
    with ForcedInterleaving([path], seed=0, stall_last_pop=True, stall_timeout=0.2) as fi:
        worker = module.start(stop)
        time.sleep(0.05)  # the worker has run learner code: a second thread could pop
        started = time.perf_counter()
        assert module.pop_last(["only"]) == "only"
        waited = time.perf_counter() - started
        stop.set()
    worker.join(5)
    assert 0.15 < waited < 2.0
    assert fi.stall_timeouts == 1 and fi.stall_pairs == 0


# ---------------------------------------------------------------- mechanism 4: hold_new_threads


def _download(
    module: ModuleType, path: Path, func: str, seed: int, yields: float = 0.5
) -> list[tuple[str, str]]:
    module.calls.clear()
    options = {"yield_probability": yields, "hold_new_threads": True}
    with ForcedInterleaving([path], seed=seed, **options) as fi:
        getattr(module, func)(URLS)
    assert fi.hold_timeouts == 0
    return list(module.calls)


@pytest.mark.parametrize("yields", [0.5, 0.0])  # 0: holding alone (its threads go untraced)
def test_late_binding_requests_the_last_url_every_run(tmp_path: Path, yields: float) -> None:
    module, path = load(tmp_path, DOWNLOADERS)
    for seed in range(FAST_RUNS):
        calls = _download(module, path, "late_binding", seed, yields)
        assert len(calls) == len(URLS)
        assert sum(url == URLS[-1] for url, _ in calls) >= 2, f"seed {seed}: {calls}"


@pytest.mark.parametrize("func", ["with_args", "default_argument", "subclass", "executor"])
def test_correct_thread_starts_pass_with_hold(tmp_path: Path, func: str) -> None:
    module, path = load(tmp_path, DOWNLOADERS)
    expected = sorted((url, f"result_{i}.txt") for i, url in enumerate(URLS))
    for seed in range(3):
        assert sorted(_download(module, path, func, seed)) == expected


TRACED = """\
import sys
import threading

seen = []


def work():
    seen.append(sys.gettrace())


def start_two():
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


@pytest.mark.parametrize(("yields", "traced"), [(0.0, False), (0.5, True)])
def test_a_block_that_only_holds_stops_tracing_a_thread_after_its_hold(
    tmp_path: Path, yields: float, traced: bool
) -> None:
    # The tracer costs a held thread's every call (requests' ~300 a download); only holding,
    # nothing is left to see once the hold is over. With yields the tracer stays.
    module, path = load(tmp_path, TRACED)
    with ForcedInterleaving([path], seed=0, yield_probability=yields, hold_new_threads=True):
        module.start_two()
    untraced = (None, getattr(tracehooks, "_untraced", None))  # 3.12 parks instead of None
    assert [fn not in untraced for fn in module.seen] == [traced, traced]


def test_hold_safety_valve_releases_after_timeout(tmp_path: Path) -> None:
    module, path = load(tmp_path, LINGER)
    flag: list[int] = []
    with ForcedInterleaving([path], seed=0, hold_new_threads=True, stall_timeout=0.1) as fi:
        t = module.busy_start(flag)  # busy-waits 0.3 s without any wait function
        assert flag == [0]  # the held thread ran once the valve opened
    t.join(5)
    assert fi.hold_timeouts == 1


# ---------------------------------------------------------------- hooks are restored


def _noop_trace(frame: FrameType, event: str, arg: object) -> None:
    return None


def _noop_profile(frame: FrameType, event: str, arg: object) -> None:
    return None


@pytest.fixture
def previous_hooks():
    """Install known hooks for the test, and always take them away afterwards."""
    hooks = (sys.gettrace(), threading.gettrace(), sys.getprofile(), threading.getprofile())
    sys.settrace(_noop_trace)
    threading.settrace(_noop_trace)
    sys.setprofile(_noop_profile)
    threading.setprofile(_noop_profile)
    yield
    sys.settrace(hooks[0])
    threading.settrace(hooks[1])
    sys.setprofile(hooks[2])
    threading.setprofile(hooks[3])


def _hooks() -> tuple:
    return (sys.gettrace(), threading.gettrace(), sys.getprofile(), threading.getprofile())


@pytest.mark.usefixtures("previous_hooks")
def test_hooks_are_restored_after_exit_and_on_exception(tmp_path: Path) -> None:
    module, path = counter_module(tmp_path, COUNTER_BODIES["augmented"])
    before = _hooks()
    options = {"stall_last_pop": True, "hold_new_threads": True, "watch_globals": ["counter"]}
    with ForcedInterleaving([path], seed=1, **options):
        assert _hooks() != before
        module.run_threads(2, 10)
    assert _hooks() == before
    with pytest.raises(ZeroDivisionError), ForcedInterleaving([path], seed=1, **options):
        module.run_threads(2, 10)
        1 / 0  # noqa: B018
    assert _hooks() == before


def test_threads_outliving_the_block_go_on_untraced(tmp_path: Path, thread_errors: list) -> None:
    module, path = load(tmp_path, LINGER)
    stop = threading.Event()
    with ForcedInterleaving([path], seed=0, stall_last_pop=True, hold_new_threads=True) as fi:
        worker = module.start(stop)
        time.sleep(0.05)
    switches = fi.switches
    time.sleep(0.05)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert thread_errors == []
    assert switches > 0 and fi.switches - switches <= 1  # it stopped yielding at exit
    with pytest.raises(RuntimeError):
        fi.__enter__()
