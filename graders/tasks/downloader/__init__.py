"""Visible checks for downloader: threads that really wait together, and the right files.

Every URL is served by the HTTP fixture (nothing touches the network). Concurrency is proven
by observation first: the fixture's latch opens only when every request is in flight at once,
and its records say which thread fetched which URL. compare_timings is judged by what the
grader saw around the learner's calls: which download function ran, with what, how long each
call took (the grader's own wrapper around it), and when the learner's code read the clock.
The wall clock is used only for the speed-up, with a wide margin, next to the latch.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.kit import waitfor
from graders.kit.checks import Context, check
from graders.kit.exit_gate import ExitGate
from graders.kit.feedback import CheckFailed
from graders.kit.http_fixture import HttpFixture
from graders.kit.interleave import ForcedInterleaving
from graders.kit.join_gate import JoinGate

_clock = time.perf_counter
_get_ident = threading.get_ident
_getframe = sys._getframe

N_URLS = 5
GATE_TIMEOUT = 2.0  # longest a download waits for its thread's join (code that polls instead)
LATCH_TIMEOUT = 4.0  # only for waits the wait-for graph cannot see: a latch that cannot fill is
# released as soon as nobody else can arrive (graders.kit.http_fixture, quiet)

TYPICAL_SECONDS = 1.25  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "download_threaded downloads each URL once, in a thread of its own: one thread per "
    "URL, none of the downloading in the main thread",
    "R2": "download_threaded starts every thread before joining any, so that all the downloads "
    "wait at the same time",
    "R3": "URL number i of the list, in the order given, is saved to out_dir/result_{i}.txt",
    "R4": "download_threaded returns only when every file is written and every thread has finished",
    "R5": "any number of URLs works, one and none included, and out_dir may be a str or a "
    "pathlib.Path",
    "R6": "compare_timings calls download_sequential(urls, out_dir) once and "
    "download_threaded(urls, out_dir) once, with the URLs and the folder it was given",
    "R7": "compare_timings returns (sequential_seconds, threaded_seconds), in that order",
    "R8": "each number is the time its call took, read with time.perf_counter() just before "
    "and just after the call",
}

# The notebook's own list (the stubs' URLS, the same in every downloading task): the
# workshop-size checks serve these when a learner's module lost its own.
WORKSHOP_URLS = (
    "https://httpbin.org/delay/1",
    "https://httpbin.org/uuid",
    "https://httpbin.org/ip",
    "https://httpbin.org/user-agent",
    "https://httpbin.org/headers",
)

_WORDS = ("uuid", "ip", "headers", "delay", "bytes", "json", "html", "status", "get", "anything")


def make_urls(n: int, rng: random.Random | None = None) -> list[str]:
    """`n` distinct fixture URLs. With `rng` (pass `ctx.rng()`), their paths are drawn from the
    seed and their order is neither sorted nor the order of their names: code that sorts,
    reorders or rebuilds the list by name writes the wrong files."""
    if rng is None:
        return [f"http://threadkit.test/file/{i}" for i in range(n)]
    tokens = rng.sample(range(100, 10**4), n)
    urls = [f"http://threadkit.test/{rng.choice(_WORDS)}/{t}" for t in tokens]
    while n > 2 and (urls == sorted(urls) or urls == sorted(urls, reverse=True)):
        rng.shuffle(urls)
    return urls


def pages(ctx: Context, urls: Sequence[str]) -> dict[str, str]:
    """A body unique to each URL and to this run, of a length drawn from the seed, so no file
    can be right by accident."""
    token = random.Random(ctx.seed).randrange(10**6)
    bodies = {}
    for u in urls:
        filler = "x" * random.Random(f"{ctx.seed}:{u}").randrange(0, 400)
        bodies[u] = f"contents of {u} #{token}\n{filler}\n"
    return bodies


@contextmanager
def serve(
    ctx: Context, urls: Sequence[str], latency: float | dict[str, float] = 0.0
) -> Iterator[HttpFixture]:
    """Serve `urls`; before the fixture goes, let the learner's stray threads finish against it."""
    with HttpFixture(pages(ctx, urls), latency=latency) as http:
        try:
            yield http
        finally:
            ctx.settle()


def staggered(urls: Sequence[str], step: float = 0.03) -> dict[str, float]:
    """Later URLs answer sooner, so completion order is the reverse of list order."""
    return {u: step * (len(urls) - i) for i, u in enumerate(urls)}


def require_files(bodies: dict[str, str], out_dir: Path, urls: Sequence[str]) -> None:
    """Every result_{i}.txt exists and holds URL i's body."""
    for i, url in enumerate(urls):
        path = out_dir / f"result_{i}.txt"
        want = bodies[url]
        if not path.exists():
            raise CheckFailed(
                f"result_{i}.txt was not written",
                expected=f"result_{i}.txt holding the page at {url}",
                got=f"files written: {sorted(p.name for p in out_dir.iterdir()) or 'none'}",
                hint="Start one thread per URL, every URL, each saving to result_{i}.txt.",
            )
        got = path.read_text(encoding="utf-8", errors="replace")
        if got != want:
            owner = next((u for u in urls if bodies[u] == got), None)
            shown = f"the page of {owner}" if owner else repr(got[:60])
            raise CheckFailed(
                f"result_{i}.txt holds the wrong page",
                expected=f"the page at {url} (URL number {i})",
                got=shown,
                hint="Give each thread its own url and path as arguments: "
                "Thread(target=save_url, args=(url, path)). A lambda that reads the loop "
                "variables, or a shared index, sees them change before the thread runs.",
            )


def require_all_in_flight(http: HttpFixture, urls: Sequence[str]) -> None:
    if http.latch_filled:
        return
    n = len(urls)
    missing = [u for u in urls if u not in http.urls_requested()]
    if missing:
        raise CheckFailed(
            f"{len(missing)} of the {n} URLs were never requested",
            expected=f"one request for each of the {n} URLs",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Loop over every URL: `for i, url in enumerate(urls)`.",
        )
    raise CheckFailed(
        "Your downloads did not wait for the server at the same time",
        expected=f"all {n} requests in flight at once",
        got=f"at most {http.peak_in_flight} in flight at once",
        hint="Start every thread before you join any; and do not hold a lock around the "
        "download itself. `Thread(target=save_url(url, path))` calls save_url right away, "
        "in the main thread: pass `target=save_url, args=(url, path)`.",
    )


def threaded_in_flight(ctx: Context, n: int) -> None:
    """Run download_threaded over n URLs and require all n requests in flight together."""
    urls = make_urls(n)
    mod = ctx.load()
    with serve(ctx, urls, latency=0.01) as http:
        http.latch(n, timeout=LATCH_TIMEOUT)
        mod.download_threaded(urls, str(ctx.tmp_dir()))
    require_all_in_flight(http, urls)


# ---------------------------------------------------------------- download_threaded, observed


@dataclass
class ThreadedRun:
    """One call of the learner's download_threaded, as the grader saw it."""

    urls: list[str]  # the grader's own copy: the learner may reorder the list it was given
    out_dir: Path
    http: HttpFixture
    caller: int  # threading.get_ident() of the thread that called download_threaded


def run_threaded(
    ctx: Context,
    urls: Sequence[str],
    *,
    latency: float | dict[str, float] = 0.0,
    latch: bool = False,
    hold_new_threads: bool = False,
    exit_gate: bool = False,
    mod: ModuleType | None = None,
) -> ThreadedRun:
    """Call download_threaded(copy of urls, str(out_dir)) through ctx.call (so the threads
    still alive at its return are known), with the fixture serving the URLs.

    `latch`: hold the requests until all of them are in flight at once (or LATCH_TIMEOUT).
    `hold_new_threads`: new threads run no code of the learner's until the caller waits, so
    a lambda that reads the loop variables sees the loop's last values (interleave, mech. 4).
    `exit_gate`: each thread, its download done, waits at its end until it is joined
    (graders.kit.exit_gate), so one the code never joins is alive at the return in every run.
    """
    mod = ctx.load() if mod is None else mod
    urls, out_dir = list(urls), ctx.tmp_dir()
    hold = (
        ForcedInterleaving(ctx.files, seed=ctx.seed, yield_probability=0.0, hold_new_threads=True)
        if hold_new_threads
        else nullcontext()
    )
    ends = ExitGate(ctx.files) if exit_gate else nullcontext()
    with serve(ctx, urls, latency=latency) as http:
        if latch and urls:
            http.latch(len(urls), timeout=LATCH_TIMEOUT)
        with hold, ends:
            ctx.call(mod.download_threaded, list(urls), str(out_dir))
    return ThreadedRun(urls, out_dir, http, _get_ident())


def require_own_threads(run: ThreadedRun) -> None:
    """R1, then R2, from the fixture's records: every URL fetched once, each by a thread of
    its own (never the thread that called download_threaded), all in flight at once (the
    latch filled). A filled latch means n requests waited together, so n threads made them;
    otherwise threads are counted by (id, name), as an id is reused once its thread ends."""
    urls, http = run.urls, run.http
    n, records = len(urls), http.records
    counts = Counter(r.url for r in records)
    missing = [u for u in urls if counts[u] == 0]
    again = [u for u in urls if counts[u] > 1]
    if missing and again:
        raise CheckFailed(
            f"{len(missing)} of the {n} URLs were never requested, and {again[0]} was "
            f"requested {counts[again[0]]} times",
            expected=f"one request for each of the {n} URLs, each from its own thread",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Give each thread its own URL as an argument: Thread(target=save_url, "
            "args=(url, path)). A lambda that reads the loop variables when the thread runs "
            "sees the values of a later turn of the loop.",
        )
    if missing:
        raise CheckFailed(
            f"{len(missing)} of the {n} URLs were never requested",
            expected=f"one request for each of the {n} URLs",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Loop over every URL: `for i, url in enumerate(urls)`.",
        )
    by_caller = [r for r in records if r.thread_id == run.caller]
    if by_caller:
        raise CheckFailed(
            f"download_threaded downloaded {len(by_caller)} of the URLs in the main thread",
            expected="every download in a thread of its own; the main thread only starts and "
            "joins them",
            got=f"{by_caller[0].url} was fetched by {by_caller[0].thread_name}, "
            "the thread that called download_threaded",
            hint="`Thread(target=save_url(url, path))` calls save_url right away, in the main "
            "thread: pass `target=save_url, args=(url, path)`. Download nothing yourself "
            "before or after the threads.",
        )
    if again:
        raise CheckFailed(
            f"download_threaded downloaded {again[0]} {counts[again[0]]} times",
            expected="each URL downloaded once",
            got=f"{len(again)} URL(s) downloaded more than once",
            hint="One thread per URL, each downloading its own URL once.",
        )
    if http.latch_filled:
        return
    threads = {(r.thread_id, r.thread_name) for r in records}
    if len(threads) < n:
        raise CheckFailed(
            f"Only {len(threads)} threads made the {n} downloads",
            expected=f"{n} threads, one per URL, all waiting for the server at once",
            got=f"{len(threads)} threads, at most {http.peak_in_flight} requests in flight",
            hint="Start one thread per URL (a pool of fewer threads makes some URLs wait).",
        )
    require_all_in_flight(http, urls)


@check(
    "Each URL downloads in a thread of its own, all in flight at the same time",
    points=4,
    requires=("R1", "R2"),
)
def in_flight(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(5, 8), rng)
    require_own_threads(run_threaded(ctx, urls, latency=0.01, latch=True, hold_new_threads=True))


@check(
    "result_{i}.txt holds URL i's page, whatever order threads run and finish in",
    points=3,
    requires="R3",
)
def files(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 7), rng)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls, latency=staggered(urls, 0.02)):
        with ForcedInterleaving(ctx.files, seed=ctx.seed, hold_new_threads=True):
            mod.download_threaded(list(urls), str(out_dir))
    require_files(pages(ctx, urls), out_dir, urls)


def require_done_at_return(ctx: Context, pending: int, unfinished: int, written: int) -> None:
    """R4: when download_threaded returned, every download it began had finished (its file
    written), no thread it started was still running, and files had been written: returning
    having written none is not "every file written"."""
    if pending or unfinished:
        got = f"{pending} download(s) still waiting for the server" if pending else ""
        got = got or f"{unfinished} download(s) begun but not finished"
        raise CheckFailed(
            "download_threaded returned before the downloads finished",
            expected="every download done and every file written when it returns",
            got=f"{got} when it returned",
            hint="Keep the Thread objects in a list and join() every one of them (not only "
            "the first or the last) before returning.",
        )
    ctx.require_joined(
        "download_threaded(urls, out_dir)",
        hint="Keep the Thread objects in a list and join() every one of them (not only the "
        "last one: `thread.join()` after the loop joins one thread) before returning.",
    )
    if not written:
        raise CheckFailed(
            "download_threaded returned without writing any file",
            expected="every result_{i}.txt written in out_dir when it returns",
            got="out_dir was still empty when download_threaded returned",
            hint="Start one thread per URL running save_url(url, path), with path "
            "os.path.join(out_dir, f'result_{i}.txt'); then join() them all before returning.",
        )


@check("download_threaded returns only when every file is written", points=2, requires="R4")
def returns_when_done(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(4, 7), rng)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    # Each download waits, as it begins, until its thread is joined, or the caller waits for
    # it another way, or download_threaded returns (graders.kit.join_gate). A thread the code
    # never joins is then still there at the return, in every run and under any load: no race
    # between a slow URL and the return. (A URL never downloaded is R1's: not counted here.)
    # A download made inside a lock of the learner's is not held: a thread waiting for that
    # lock might be the one the caller joins first.
    begun, ended = Counter[str](), Counter[str]()
    save_url, lock = mod.save_url, threading.Lock()

    def held_save_url(url: str, path: str) -> None:
        with lock:
            begun[url] += 1
        if not waitfor.holds_learner_lock():
            gate.hold()
        try:
            save_url(url, path)
        finally:
            with lock:
                ended[url] += 1

    with serve(ctx, urls, latency=0.01) as http, JoinGate(GATE_TIMEOUT) as gate:
        mod.save_url = held_save_url
        ctx.call(mod.download_threaded, list(urls), str(out_dir))
        with lock:
            pending, unfinished = http.in_flight, (begun - ended).total()
        written = len(list(out_dir.iterdir()))
    require_done_at_return(ctx, pending, unfinished, written)


@check("Threaded is much faster than sequential", points=3, requires=("R1", "R2"))
def speedup(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(6, rng)
    latency = {u: rng.uniform(0.15, 0.2) for u in urls}
    mod = ctx.load()
    # download_sequential is given: it waits for each server in turn, so its time is the sum
    # of the waits plus its own work per request (requests, the file), measured here without
    # the waits. Running it with them cost half a second of every downloader run.
    with serve(ctx, urls):
        start = _clock()
        mod.download_sequential(list(urls), str(ctx.tmp_dir()))
        sequential = _clock() - start + sum(latency.values())
    with serve(ctx, urls, latency=latency) as http:
        http.latch(len(urls), timeout=LATCH_TIMEOUT)
        start = _clock()
        mod.download_threaded(list(urls), str(ctx.tmp_dir()))
        threaded = _clock() - start
    # Counting the given code's own work too compares like with like. The waits (about 1 s
    # in all) must outweigh that work under load, which slows both sides' work but not the
    # waits: with 0.07-0.09 s each, a correct overlap fell under 1.5 once with both cores
    # busy and four grading processes (global_index, seed 1012). Code that waits one at a
    # time, or downloads again, stays at or below 1. The latch is the proof of overlap; the
    # ratio only adds that nothing else made it slow.
    if http.latch_filled and threaded * 1.5 <= sequential:
        return
    raise CheckFailed(
        "download_threaded is not faster than download_sequential",
        expected=f"{len(urls)} requests of about 0.18 s each, all waiting at once: much less "
        f"than the {sequential:.2f} s of the sequential version (two thirds of it at most)",
        got=f"threaded took {threaded:.2f} s, with at most {http.peak_in_flight} in flight",
        hint="Each thread should do one download, and nothing should download again after "
        "the threads are joined.",
    )


# ---------------------------------------------------------------- compare_timings, observed

_DOWNLOADERS = ("download_sequential", "download_threaded")


@dataclass
class DownloadCall:
    """One call of download_sequential or download_threaded, recorded by the grader."""

    func: str
    urls: object  # a copy of the urls argument as it was at the call
    out_dir: object
    start: float
    end: float | None = None
    nested: bool = False  # made while another recorded call ran (e.g. from download_threaded)

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else _clock()) - self.start


@dataclass
class DownloadLog:
    """The calls made to the module's two download functions, in start order."""

    calls: list[DownloadCall] = field(default_factory=list)
    running: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def direct(self, func: str | None = None) -> list[DownloadCall]:
        """The calls compare_timings made itself (not those made from inside another)."""
        with self.lock:
            return [c for c in self.calls if not c.nested and func in (None, c.func)]


def record_downloads(mod: ModuleType) -> DownloadLog:
    """Wrap the module's download_sequential and download_threaded (compare_timings calls them
    through the module's globals) so that each call is recorded with its arguments and span."""
    log = DownloadLog()
    for name in _DOWNLOADERS:
        setattr(mod, name, _recorder(name, getattr(mod, name), log))
    return log


def _recorder(name: str, func: Callable[..., Any], log: DownloadLog) -> Callable[..., Any]:
    try:
        params = list(inspect.signature(func).parameters)[:2]
    except (TypeError, ValueError):
        params = []

    @functools.wraps(func)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        urls, out_dir = _two_arguments(params, args, kwargs)
        call = DownloadCall(name, _copy(urls), out_dir, 0.0)
        with log.lock:
            call.nested = log.running > 0
            log.running += 1
            log.calls.append(call)
        call.start = _clock()
        try:
            return func(*args, **kwargs)
        finally:
            call.end = _clock()
            with log.lock:
                log.running -= 1

    return recorded


def _two_arguments(params: list[str], args: tuple, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """The urls and out_dir a download function was called with (None where absent)."""
    values = list(args[:2])
    for p in params[len(values) :]:
        values.append(kwargs.get(p))
    values += [None] * (2 - len(values))
    return values[0], values[1]


def _copy(urls: object) -> object:
    """A list or tuple copied as it is now (the learner may sort it later); anything else
    (an iterator) as it is, so that recording it never consumes it."""
    return list(urls) if isinstance(urls, list | tuple) else urls


def _same_dir(given: object, want: Path) -> bool:
    try:
        return Path(os.fspath(given)).resolve() == want.resolve()  # type: ignore[arg-type]
    except (TypeError, ValueError, OSError, RuntimeError):
        return False


def timing_latencies(rng: random.Random, urls: Sequence[str]) -> dict[str, float]:
    """Latencies where the sequential time (their sum) is far above the threaded one (their
    maximum), and one URL much slower than the rest, so no guess (a sum, a mean) passes.

    Measured under load (two busy loops and five checking processes on 2 cores, 20 runs
    each): the sequential time over the URL count (times_only_sequential) gave 0.029-0.036 s
    against threaded times of 0.07 s and more; the swapped pair was 0.07-0.10 s off."""
    slow = rng.randrange(len(urls))
    return {
        u: rng.uniform(0.07, 0.09) if i == slow else rng.uniform(0.015, 0.025)
        for i, u in enumerate(urls)
    }


@check(
    "compare_timings runs download_sequential and download_threaded once each, in out_dir",
    points=1,
    requires="R6",
)
def calls(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 6), rng)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    log = record_downloads(mod)
    with serve(ctx, urls):
        mod.compare_timings(list(urls), str(out_dir))
    for name in _DOWNLOADERS:
        made = log.direct(name)
        if len(made) != 1:
            raise CheckFailed(
                f"compare_timings called {name} {len(made)} times",
                expected=f"one call of {name}(urls, out_dir)",
                got=f"{len(made)} calls of {name}",
                hint=f"Time one call of each function: {name}(urls, out_dir), between two "
                "readings of time.perf_counter(). The functions do the downloading.",
            )
        call = made[0]
        if call.urls != urls or not _same_dir(call.out_dir, out_dir):
            raise CheckFailed(
                f"compare_timings called {name} with other arguments than it was given",
                expected=f"{name}(urls, out_dir) with the {len(urls)} URLs in their order "
                f"and the folder {out_dir}",
                got=f"{name}({_short(call.urls)}, {call.out_dir!r})",
                hint="Pass compare_timings' own urls and out_dir on to both functions.",
            )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@check("compare_timings returns the two times it measured", points=3, requires=("R7", "R8"))
def timings(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(6, rng)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    log = record_downloads(mod)
    with serve(ctx, urls, latency=timing_latencies(rng, urls)) as http:
        result = mod.compare_timings(list(urls), str(out_dir))
    spans = [
        phase_spans(log, http, name, main=name == "download_sequential") for name in _DOWNLOADERS
    ]
    if all(agrees_with(result, i, spans[i]) for i in range(2)):
        return
    shown = tuple(f"{s.seconds:.2f}" for s in spans)
    raise CheckFailed(
        "compare_timings returned times that do not match what was measured",
        expected=f"about ({shown[0]}, {shown[1]}) s: download_sequential took {shown[0]} s "
        f"and download_threaded {shown[1]} s",
        got=f"returned {_short(result)}",
        hint="Take time.perf_counter() before and after each call and return the two "
        "differences, sequential first.",
    )


@dataclass(frozen=True)
class Span:
    """How long one phase took, by the grader's wrapper (exact) or the fixture (rougher)."""

    seconds: float
    candidates: tuple[float, ...]  # each call's duration, and their sum
    exact: bool


def phase_spans(log: DownloadLog, http: HttpFixture, name: str, *, main: bool) -> Span:
    """The durations of compare_timings' own calls of `name`; if it made none (it downloaded
    some other way), what the server saw of that phase (main thread or the others)."""
    made = [c.seconds for c in log.direct(name)]
    if made:
        return Span(made[0], (*made, sum(made)), exact=True)
    observed = phase_span(http, main=main)
    return Span(observed, (observed,), exact=False)


def phase_span(http: HttpFixture, *, main: bool) -> float:
    """How long the server was busy with the main thread's requests (or the other threads')."""
    main_id = threading.main_thread().ident
    records = [r for r in http.records if (r.thread_id == main_id) == main]
    if not records:
        return 0.0
    return max(r.end for r in records) - min(r.start for r in records)


def agrees(result: object, index: int, observed: float) -> bool:
    """The learner's number for one phase is within a wide margin of what the server saw."""
    value = _number(result, index)
    if value is None or observed <= 0:
        return False
    return 0.9 * observed <= value <= 1.5 * observed + 0.25


def agrees_with(result: object, index: int, span: Span) -> bool:
    """The learner's number for one phase is the time that phase took: within milliseconds of
    the grader's own wrapper around one of the calls (or all of them), whose window lies inside
    the learner's; or, where there was no call to wrap, as `agrees` against the server."""
    if not span.exact:
        return agrees(result, index, span.seconds)
    value = _number(result, index)
    if value is None:
        return False
    # -0.006: a number rounded to the hundredth (round(x, 2)) still agrees.
    return any(0.98 * t - 0.006 <= value <= 1.25 * t + 0.06 for t in span.candidates if t > 0)


def _number(result: object, index: int) -> float | None:
    """Item `index` of a plain 2-tuple or 2-list of plain numbers (exact types: a subclass
    could compare as whatever the grader wants), else None."""
    if type(result) not in (tuple, list) or len(result) != 2:  # type: ignore[arg-type]
        return None
    value = result[index]  # type: ignore[index]
    return value if type(value) in (int, float) else None


# ---------------------------------------------------------------- which clock, and when

_CLOCKS = ("perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns")
_PERF = frozenset({"perf_counter", "perf_counter_ns"})


@dataclass(frozen=True)
class ClockRead:
    name: str  # "perf_counter", "time", ...
    at: float  # the grader's own perf_counter at the read


@contextmanager
def clock_reads(mod: ModuleType, thread: int) -> Iterator[list[ClockRead]]:
    """Note every clock the learner's file reads from `thread` (time.perf_counter(), also as
    `from time import perf_counter`, and the other clocks, to say which one was used).

    The time module's functions are wrapped only inside the block, and put back only where
    the wrapper is still in place (so learner code that replaced them is still seen replaced).
    """
    reads: list[ClockRead] = []
    files = _file_names(mod)
    installed: list[tuple[Any, str, Any, Any]] = []  # (namespace, key, previous, wrapper)
    try:
        for name in _CLOCKS:
            current = getattr(time, name, None)
            if current is None:
                continue
            wrapper = _clock_wrapper(name, current, reads, files, thread)
            installed.append((time, name, current, wrapper))
            setattr(time, name, wrapper)
            # The same function under other names: `from time import perf_counter` in the
            # learner's module, timeit.default_timer.
            for namespace in (mod, sys.modules.get("timeit")):
                for key, value in list(vars(namespace).items()) if namespace else ():
                    if value is current:
                        installed.append((namespace, key, current, wrapper))
                        setattr(namespace, key, wrapper)
        yield reads
    finally:
        for namespace, key, previous, wrapper in reversed(installed):
            if getattr(namespace, key, None) is wrapper:
                setattr(namespace, key, previous)


def _file_names(mod: ModuleType) -> frozenset[str]:
    path = getattr(mod, "__file__", None) or ""
    return frozenset({path, os.path.abspath(path), os.path.realpath(path)} - {""})


def _clock_wrapper(
    name: str, func: Callable[[], Any], reads: list[ClockRead], files: frozenset[str], thread: int
) -> Callable[[], Any]:
    @functools.wraps(func)
    def read_clock() -> Any:
        value = func()
        if _get_ident() == thread and _getframe(1).f_code.co_filename in files:
            reads.append(ClockRead(name, _clock()))
        return value

    return read_clock


def missing_clock_read(log: DownloadLog, reads: Sequence[ClockRead]) -> str:
    """'' if, for each download function compare_timings called, one of its calls has a
    perf_counter read between the call before it (or the start) and its start, and another
    between its end and the next call (or the return); else which read is missing."""
    made = sorted(log.direct(), key=lambda c: c.start)
    perf = [r.at for r in reads if r.name in _PERF]
    if not made:
        return "" if len(perf) >= 3 else "around the two downloads"
    for name in _DOWNLOADERS:
        mine = [i for i, c in enumerate(made) if c.func == name]
        if not mine:
            continue
        missing = ""
        for i in mine:
            low = made[i - 1].end if i > 0 else float("-inf")
            high = made[i + 1].start if i + 1 < len(made) else float("inf")
            before = any(low <= t <= made[i].start for t in perf)
            after = any(made[i].end <= t <= high for t in perf)  # type: ignore[operator]
            if before and after:
                missing = ""
                break
            missing = missing or (f"just before {name}" if not before else f"just after {name}")
        if missing:
            return missing
    return ""


@check("compare_timings reads time.perf_counter() around each call", points=1, requires="R8")
def clock(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 6), rng)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    log = record_downloads(mod)
    with serve(ctx, urls):
        with clock_reads(mod, _get_ident()) as reads:
            mod.compare_timings(list(urls), str(out_dir))
    missing = missing_clock_read(log, reads)
    if not missing:
        return
    used = Counter(r.name for r in reads)
    shown = ", ".join(f"time.{k}() x{v}" for k, v in used.items()) or "no clock at all"
    raise CheckFailed(
        f"compare_timings did not read time.perf_counter() {missing}",
        expected="time.perf_counter() read just before and just after each of the two calls",
        got=f"compare_timings read {shown}",
        hint="start = time.perf_counter(); download_sequential(urls, out_dir); "
        "sequential_s = time.perf_counter() - start; and the same for download_threaded. "
        "perf_counter is the clock made for measuring durations.",
    )


# ---------------------------------------------------------------- the notebook's own sizes


def workshop_urls(mod: ModuleType) -> list[str]:
    """The module's own URLS, as `__main__` uses them (the stub's list if it is not a list of
    http(s) URLs any more)."""
    urls = getattr(mod, "URLS", None)
    if isinstance(urls, list | tuple) and all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls
    ):
        return list(urls)
    return list(WORKSHOP_URLS)


def require_pair_of_seconds(result: object, out_dir: Path, n: int) -> None:
    """What `__main__` needs from compare_timings: two numbers to print, and the files."""
    if type(result) not in (tuple, list) or len(result) != 2:  # type: ignore[arg-type]
        raise CheckFailed(
            "compare_timings(URLS, out_dir) did not return two numbers",
            expected="(sequential_seconds, threaded_seconds)",
            got=f"returned {_short(result)}",
            hint="Return both durations as a tuple: `return sequential_s, threaded_s`.",
        )
    if not all(type(v) in (int, float) and v > 0 for v in result):  # type: ignore[union-attr]
        raise CheckFailed(
            "compare_timings(URLS, out_dir) returned something other than two durations",
            expected="two positive numbers of seconds",
            got=f"returned {_short(result)}",
            hint="Each duration is time.perf_counter() after the call minus before it.",
        )
    written = {p.name for p in out_dir.iterdir()}
    missing = [f"result_{i}.txt" for i in range(n) if f"result_{i}.txt" not in written]
    if missing:
        raise CheckFailed(
            f"compare_timings(URLS, out_dir) left {missing[0]} unwritten in out_dir",
            expected=f"result_0.txt to result_{n - 1}.txt in the folder it was given",
            got=f"files there: {sorted(written) or 'none'}",
            hint="Pass compare_timings' own out_dir on to both download functions.",
        )


def workshop(ctx: Context) -> None:
    """download_threaded(URLS, out_dir), then compare_timings(URLS, out_dir) as `__main__`
    does, with the module's own five URLs (served by the fixture, quickly)."""
    mod = ctx.load()
    urls = workshop_urls(mod)
    run = run_threaded(
        ctx,
        urls,
        latency=staggered(urls, 0.015),
        latch=True,
        hold_new_threads=True,
        exit_gate=True,  # a thread left unjoined is alive at the return, not just by luck
        mod=mod,
    )
    require_own_threads(run)
    require_files(pages(ctx, urls), run.out_dir, urls)
    ctx.require_joined("download_threaded(URLS, out_dir)")
    out_dir = ctx.tmp_dir()
    with serve(ctx, urls, latency=0.01):
        result = mod.compare_timings(list(urls), str(out_dir))
    require_pair_of_seconds(result, out_dir, len(urls))


# Graded hints for `make hint TASK=downloader`: one more each time, never the answer.
HINTS = (
    "Look at download_sequential: each URL i is saved by save_url to result_{i}.txt in "
    "out_dir. Your version does the same, but each save_url call runs in a thread of its own. "
    "Waiting for a server releases the GIL, so the waits can overlap.",
    "Give every thread its own values through args: target=save_url with args holding that "
    "URL and its path. A lambda reads the loop variables when the thread runs, by which time "
    "the loop may have moved on; target=save_url(...) downloads at once, in the main thread.",
    "Start all the threads in one loop and keep them in a list; join them all in a second "
    "loop. `make timeline TASK=downloader` draws your requests: they should overlap.",
    "compare_timings: call download_sequential(urls, out_dir) and download_threaded(urls, "
    "out_dir) once each, reading time.perf_counter() just before and just after each call; "
    "each difference is one duration. Return them as a tuple, sequential first.",
)
