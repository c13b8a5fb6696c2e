"""Tests for graders/http_fixture.py: it must serve threads in parallel and record honestly.

Concurrency is asserted by observation first (peak in flight, latch groups); the clock is only
checked with wide margins, so the file passes on a loaded 2-core machine.
"""

from __future__ import annotations

import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest
import requests
from requests_mock.exceptions import NoMockAddress

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `graders` without a conftest

from graders.kit.http_fixture import HttpFixture, UnregisteredURL

pytestmark = pytest.mark.timeout(20)

URLS = [f"http://example.com/page{i}" for i in range(7)]
ORIGINAL_GET_ADAPTER = requests.Session.__dict__["get_adapter"]


def run_threads(
    target: Callable[..., object], args_list: Iterable[tuple[object, ...]], prefix: str = "T"
) -> list[threading.Thread]:
    """Start one named thread per argument tuple and join them all (bounded: never hang)."""
    threads = [
        threading.Thread(target=target, args=args, name=f"{prefix}{i}")
        for i, args in enumerate(args_list)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive(), f"{t.name} still running"
    return threads


def fetch(url: str) -> None:
    requests.get(url, timeout=5).raise_for_status()


# ----------------------------------------------------------------- parallelism and records


def test_four_threads_run_in_parallel() -> None:
    urls = URLS[:4]
    with HttpFixture({u: "x" for u in urls}, latency=0.2) as http:
        t0 = time.perf_counter()
        run_threads(fetch, [(u,) for u in urls])
        elapsed = time.perf_counter() - t0
    assert http.peak_in_flight == 4  # the observation: all four overlapped
    assert len(http.records) == 4
    assert elapsed < 0.6, f"4 x 0.2 s took {elapsed:.2f} s; sequential would be 0.8 s"
    assert 0.19 <= http.span() < 0.6


def test_records_say_which_thread_fetched_what() -> None:
    urls = URLS[:3]
    with HttpFixture({u: "x" for u in urls}, latency=0.05) as http:
        threads = run_threads(fetch, [(u,) for u in urls], prefix="Worker-")
    by_url = {r.url: r for r in http.records}
    assert sorted(by_url) == sorted(urls)
    for t, url in zip(threads, urls, strict=True):
        rec = by_url[url]
        assert (rec.thread_name, rec.thread_id, rec.method) == (t.name, t.ident, "GET")
        assert rec.end - rec.start >= 0.05
        assert 1 <= rec.in_flight_at_start <= 3
    starts = [r.start for r in http.records]
    assert starts == sorted(starts)
    assert http.urls_requested() == [r.url for r in http.records]


def test_sequential_requests_peak_at_one() -> None:
    with HttpFixture({u: "x" for u in URLS[:3]}, latency=0.01) as http:
        for u in URLS[:3]:
            fetch(u)
    assert http.peak_in_flight == 1
    assert [r.in_flight_at_start for r in http.records] == [1, 1, 1]
    assert http.urls_requested() == URLS[:3]
    assert {r.thread_name for r in http.records} == {threading.current_thread().name}


def test_per_url_latency_mapping() -> None:
    slow, fast = URLS[:2]
    with HttpFixture({slow: "s", fast: "f"}, latency={slow: 0.1}) as http:
        fetch(slow)
        fetch(fast)
    durations = {r.url: r.end - r.start for r in http.records}
    assert durations[slow] >= 0.1
    assert durations[fast] < 0.1


def test_records_survive_patched_clock_and_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Learner code that fakes time.perf_counter / time.sleep cannot fake the records."""
    with HttpFixture({URLS[0]: "x"}, latency=0.05) as http:
        monkeypatch.setattr(time, "perf_counter", lambda: 0.0)
        monkeypatch.setattr(time, "sleep", lambda s: None)
        fetch(URLS[0])
    monkeypatch.undo()
    (rec,) = http.records
    assert rec.end - rec.start >= 0.05


# ----------------------------------------------------------------- responses and refusals


def test_response_behaves_like_a_real_one() -> None:
    text_url, bytes_url, missing = URLS[:3]
    with HttpFixture({text_url: "héllo"}) as http:
        http.add(bytes_url, b"\x00\x01data")
        http.add(missing, "gone", status=404)
        r = requests.get(text_url)
        assert (r.status_code, r.text, r.content) == (200, "héllo", "héllo".encode())
        r.raise_for_status()
        streamed = requests.get(bytes_url, stream=True)
        assert b"".join(streamed.iter_content(chunk_size=2)) == b"\x00\x01data"
        with pytest.raises(requests.HTTPError):
            requests.get(missing).raise_for_status()
    assert len(http.records) == 3


def test_unregistered_url_is_refused() -> None:
    with HttpFixture({URLS[0]: "x"}) as http:
        with pytest.raises(NoMockAddress):
            requests.get("http://example.com/not-there")
        with pytest.raises(requests.ConnectionError):  # like an unreachable host
            requests.get("https://elsewhere.invalid/")
        with pytest.raises(UnregisteredURL):
            requests.get(URLS[0] + "?extra=1")  # exact URLs only
    assert http.refused == [
        "http://example.com/not-there",
        "https://elsewhere.invalid/",
        URLS[0] + "?extra=1",
    ]
    assert http.records == []
    assert http.peak_in_flight == 0


def test_refusal_survives_pickling() -> None:
    with HttpFixture(), pytest.raises(UnregisteredURL) as caught:
        requests.get("http://example.com/not-there")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, NoMockAddress) and isinstance(copy, requests.ConnectionError)
    assert str(copy) == str(caught.value) == "No mock address: GET http://example.com/not-there"


def test_session_created_before_the_block_is_served() -> None:
    session = requests.Session()
    with HttpFixture({u: u for u in URLS[:2]}, latency=0.1) as http:
        run_threads(lambda u: session.get(u).raise_for_status(), [(u,) for u in URLS[:2]])
        inner = requests.Session()
        assert inner.get(URLS[0]).text == URLS[0]
    assert http.peak_in_flight == 2
    assert len(http.records) == 3


# ----------------------------------------------------------------- patching and restoring


def test_exit_restores_get_adapter_even_on_error() -> None:
    with pytest.raises(ZeroDivisionError), HttpFixture({URLS[0]: "x"}):
        assert requests.Session.__dict__["get_adapter"] is not ORIGINAL_GET_ADAPTER
        raise ZeroDivisionError
    assert requests.Session.__dict__["get_adapter"] is ORIGINAL_GET_ADAPTER
    assert isinstance(requests.Session().get_adapter("http://x/"), requests.adapters.HTTPAdapter)


def test_fixture_cannot_be_entered_twice() -> None:
    http = HttpFixture()
    with http, pytest.raises(RuntimeError), http:
        pass
    assert requests.Session.__dict__["get_adapter"] is ORIGINAL_GET_ADAPTER


def test_reset_forgets_records_but_keeps_routes() -> None:
    with HttpFixture({URLS[0]: "x"}) as http:
        fetch(URLS[0])
        with pytest.raises(NoMockAddress):
            requests.get(URLS[1])
        http.reset()
        assert (http.records, http.refused, http.peak_in_flight, http.span()) == ([], [], 0, 0.0)
        fetch(URLS[0])
    assert len(http.records) == 1


# ----------------------------------------------------------------- the latch


def test_latch_fills_with_four_threads() -> None:
    urls = URLS[:4]
    with HttpFixture({u: "x" for u in urls}) as http:  # no latency: only the latch overlaps them
        http.latch(4, timeout=5.0)
        run_threads(fetch, [(u,) for u in urls])
    assert http.latch_filled
    (group,) = http.latch_groups
    assert (group.target, group.held, group.reason) == (4, 4, "filled")
    assert http.peak_in_flight == 4
    assert sorted(r.in_flight_at_start for r in http.records) == [1, 2, 3, 4]


@pytest.mark.parametrize("n_threads", [1, 2])
def test_latch_times_out_instead_of_hanging(n_threads: int) -> None:
    """Fewer requests than n arrive: released after the timeout, and remembered as such."""
    urls = URLS[:n_threads]
    with HttpFixture({u: "x" for u in urls}) as http:
        http.latch(4, timeout=0.3)
        t0 = time.perf_counter()
        run_threads(fetch, [(u,) for u in urls])
        elapsed = time.perf_counter() - t0
        fetch(urls[0])  # the latch disarmed after its timeout: this one passes freely
    assert not http.latch_filled
    (group,) = http.latch_groups
    assert (group.target, group.held, group.reason) == (4, n_threads, "timeout")
    assert 0.29 <= elapsed < 2.0
    assert http.records[-1].end - http.records[-1].start < 0.25


def test_sequential_code_costs_one_timeout() -> None:
    with HttpFixture({u: "x" for u in URLS[:4]}) as http:
        http.latch(4, timeout=0.3)
        t0 = time.perf_counter()
        for u in URLS[:4]:
            fetch(u)
        elapsed = time.perf_counter() - t0
    assert not http.latch_filled
    assert http.peak_in_flight == 1
    assert 0.29 <= elapsed < 1.5


def test_waves_release_a_worker_pool_in_groups() -> None:
    """3 workers over 7 URLs from one shared list: groups of 3, 3, then the last 1."""
    todo = list(enumerate(URLS))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                _, url = todo.pop()
            fetch(url)

    with HttpFixture({u: "x" for u in URLS}, latency=0.02) as http:
        http.latch(3, timeout=5.0, waves=True, expected=len(URLS))
        run_threads(worker, [()] * 3)
    assert [(g.target, g.held, g.reason) for g in http.latch_groups] == [
        (3, 3, "filled"),
        (3, 3, "filled"),
        (1, 1, "filled"),
    ]
    assert http.latch_filled
    assert sorted(http.urls_requested()) == sorted(URLS)
    assert http.peak_in_flight == 3


def test_waves_need_expected() -> None:
    with pytest.raises(ValueError, match="expected"):
        HttpFixture().latch(3, waves=True)


def test_exit_releases_requests_held_at_the_latch() -> None:
    http = HttpFixture({URLS[0]: "x"})
    with http:
        http.latch(2, timeout=30.0)
        thread = threading.Thread(target=fetch, args=(URLS[0],))
        thread.start()
        while http.in_flight == 0:
            time.sleep(0.005)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert [g.reason for g in http.latch_groups] == ["closed"]
    assert not http.latch_filled


# ----------------------------------------------------------------- the latch sees quiet


def start_then_join(target: Callable[..., object], args_list: list[tuple[object, ...]]) -> None:
    """Start every thread, then join them without a time limit (a join the graph sees)."""
    threads = [threading.Thread(target=target, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def join_each_at_once(target: Callable[..., object], args_list: list[tuple[object, ...]]) -> None:
    """The classic mistake: join each thread right after starting it."""
    for args in args_list:
        t = threading.Thread(target=target, args=args)
        t.start()
        t.join()


def sequential(urls: list[str]) -> None:
    for u in urls:
        fetch(u)


def fetch_in_lock(lock: threading.Lock, url: str) -> None:
    with lock:
        fetch(url)


def late_fetch(delay: float, url: str) -> None:
    time.sleep(delay)
    fetch(url)


def latched_under_graph(code: Callable[[], object], n: int = 4) -> tuple[HttpFixture, float]:
    """Run `code` with a latch of n (timeout 5 s) while a wait-for graph watches this file."""
    from graders.kit.waitfor import WaitGraph

    with WaitGraph([__file__]), HttpFixture({u: "x" for u in URLS}) as http:
        http.latch(n, timeout=5.0)
        t0 = time.perf_counter()
        code()
        elapsed = time.perf_counter() - t0
    return http, elapsed


def test_latch_releases_sequential_code_once_nothing_else_can_arrive() -> None:
    http, elapsed = latched_under_graph(lambda: sequential(URLS[:4]))
    assert [(g.held, g.reason) for g in http.latch_groups] == [(1, "quiet")]
    assert not http.latch_filled and http.peak_in_flight == 1
    assert elapsed < 2.5  # two looks, not the 5 s timeout


def test_latch_releases_threads_joined_one_by_one_once_the_caller_waits() -> None:
    http, elapsed = latched_under_graph(lambda: join_each_at_once(fetch, [(u,) for u in URLS[:4]]))
    assert [(g.held, g.reason) for g in http.latch_groups] == [(1, "quiet")]
    assert elapsed < 2.5


def test_latch_releases_threads_queued_on_a_lock_the_held_one_has() -> None:
    def code() -> None:
        lock = threading.Lock()  # made while the graph watches, as a learner's would be
        start_then_join(fetch_in_lock, [(lock, u) for u in URLS[:4]])

    http, elapsed = latched_under_graph(code)
    assert [(g.held, g.reason) for g in http.latch_groups] == [(1, "quiet")]
    assert elapsed < 2.5


def test_latch_releases_a_pool_too_small_once_its_caller_waits_on_the_futures() -> None:
    """A fixed pool of two can never put four requests in flight; its caller blocks in the
    executor's own condition (pool.map, as_completed), which the graph sees from frames."""

    def mapped() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(fetch, URLS[:4]))

    def completed() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in as_completed([pool.submit(fetch, u) for u in URLS[:4]]):
                future.result()

    for code in (mapped, completed):
        http, elapsed = latched_under_graph(code)
        assert [(g.held, g.reason) for g in http.latch_groups][0] == (2, "quiet")
        assert elapsed < 2.5


def test_latch_waits_for_a_pool_whose_workers_can_still_arrive() -> None:
    """A caller waiting on futures is no proof of quiet while a worker still runs."""

    def code() -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(late_fetch, [0.1 * i for i in range(4)], URLS[:4]))

    http, _ = latched_under_graph(code)
    assert [(g.held, g.reason) for g in http.latch_groups] == [(4, "filled")]


def test_latch_waits_for_threads_that_can_still_arrive() -> None:
    """Late threads are running, never quiet: the latch fills (a slow machine is not a fail)."""
    http, _ = latched_under_graph(
        lambda: start_then_join(late_fetch, [(0.1 * i, u) for i, u in enumerate(URLS[:4])])
    )
    assert [(g.held, g.reason) for g in http.latch_groups] == [(4, "filled")]


@pytest.mark.parametrize(("answers", "reason"), [([7, 7], "quiet"), ([None, None], "timeout")])
def test_latch_releases_after_two_equal_quiet_looks(answers: list[int | None], reason: str) -> None:
    looks: list[int] = []

    def quiet() -> int | None:
        looks.append(len(looks))
        return answers[min(len(looks), len(answers)) - 1]

    with HttpFixture({URLS[0]: "x"}) as http:
        http.latch(2, timeout=0.5, quiet=quiet)
        fetch(URLS[0])
    assert [(g.held, g.reason) for g in http.latch_groups] == [(1, reason)]
    assert len(looks) >= 2
