"""Visible checks for downloader: threads that really wait together, and the right files.

Every URL is served by the HTTP fixture (nothing touches the network). Concurrency is proven
by observation first: the fixture's latch opens only when every request is in flight at once.
The clock is used only for the speedup (a wide margin) and to cross-check compare_timings
against what the fixture itself saw.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from graders.checks import Context, check
from graders.feedback import CheckFailed
from graders.http_fixture import HttpFixture
from graders.interleave import ForcedInterleaving

_clock = time.perf_counter

N_URLS = 5
LATCH_TIMEOUT = 1.5


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


@check("All requests are in flight at the same time", points=4)
def in_flight(ctx: Context) -> None:
    threaded_in_flight(ctx, N_URLS)


@check("result_{i}.txt holds URL i's page, whatever order threads run and finish in", points=3)
def files(ctx: Context) -> None:
    urls = make_urls(N_URLS)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls, latency=staggered(urls)):
        with ForcedInterleaving(ctx.files, seed=ctx.seed, hold_new_threads=True):
            mod.download_threaded(urls, str(out_dir))
    require_files(pages(ctx, urls), out_dir, urls)


@check("download_threaded returns only when every file is written", points=2)
def returns_when_done(ctx: Context) -> None:
    urls = make_urls(N_URLS)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls, latency=0.2) as http:
        mod.download_threaded(urls, str(out_dir))
        written = sorted(p.name for p in out_dir.iterdir())
        pending = http.in_flight
    if pending or len(written) < len(urls):
        raise CheckFailed(
            "download_threaded returned before the downloads finished",
            expected=f"{len(urls)} files written when it returns",
            got=f"{len(written)} written, {pending} request(s) still in flight",
            hint="Keep the Thread objects in a list and join() every one before returning.",
        )


@check("Threaded is much faster than sequential", points=3)
def speedup(ctx: Context) -> None:
    urls, latency = make_urls(6), 0.08
    mod = ctx.load()
    with serve(ctx, urls, latency=latency) as http:
        start = _clock()
        mod.download_sequential(urls, str(ctx.tmp_dir()))
        sequential = _clock() - start
        http.reset()
        http.latch(len(urls), timeout=LATCH_TIMEOUT)
        start = _clock()
        mod.download_threaded(urls, str(ctx.tmp_dir()))
        threaded = _clock() - start
    if http.latch_filled and threaded * 2.5 <= sequential:
        return
    raise CheckFailed(
        "download_threaded is not faster than download_sequential",
        expected=f"{len(urls)} requests of {latency:g} s each, all waiting at once: well under "
        f"half the sequential time ({sequential:.2f} s)",
        got=f"threaded took {threaded:.2f} s, with at most {http.peak_in_flight} in flight",
        hint="Each thread should do one download, and nothing should download again after "
        "the threads are joined.",
    )


@check("compare_timings returns times it measured", points=3)
def timings(ctx: Context) -> None:
    urls = make_urls(4)
    latency = random.Random(ctx.seed).uniform(0.04, 0.09)
    mod = ctx.load()
    with serve(ctx, urls, latency=latency) as http:
        result = mod.compare_timings(urls, str(ctx.tmp_dir()))
    seq_span = phase_span(http, main=True)
    thr_span = phase_span(http, main=False)
    if agrees(result, 0, seq_span) and agrees(result, 1, thr_span):
        return
    raise CheckFailed(
        "compare_timings returned times that do not match what was measured",
        expected=f"about ({seq_span:.2f}, {thr_span:.2f}) s: the server saw the sequential "
        f"downloads take {seq_span:.2f} s and the threaded ones {thr_span:.2f} s",
        got=f"returned {result!r}",
        hint="Take time.perf_counter() before and after each call and return the two "
        "differences, sequential first.",
    )


def phase_span(http: HttpFixture, *, main: bool) -> float:
    """How long the server was busy with the main thread's requests (or the other threads')."""
    main_id = threading.main_thread().ident
    records = [r for r in http.records if (r.thread_id == main_id) == main]
    if not records:
        return 0.0
    return max(r.end for r in records) - min(r.start for r in records)


def agrees(result: object, index: int, observed: float) -> bool:
    """The learner's number for one phase is within a wide margin of what the server saw."""
    if type(result) not in (tuple, list) or len(result) != 2:  # exact types: no lying __le__
        return False
    value = result[index]
    if type(value) not in (int, float) or observed <= 0:
        return False
    return 0.9 * observed <= value <= 1.5 * observed + 0.25


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
    "compare_timings: read the clock with time.perf_counter() before and after each of the "
    "two calls; each difference is one duration. Return them as a tuple, sequential first, "
    "and download nothing else in between.",
)
