"""Visible checks for worker_pool: a fixed number of workers share one list under a lock.

The HTTP fixture records which thread made each request, so the number of workers and what
each one fetched are observed, not guessed. Its latch in waves (DESIGN fact 4) holds requests
until min(n_workers, URLs left) are in flight at once, then releases them together: that
proves the downloads happen outside the lock, that every worker got work, and it sends the
workers back to the shared list at the same moment. The pop check adds forced interleaving
with `stall_last_pop`: the worker about to pop the last URL is held until a second worker
reaches the list too, so a check-then-pop outside the lock fails in every run, not once in a
while.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graders.checks import Context, check
from graders.feedback import CheckFailed, describe_exception
from graders.http_fixture import HttpFixture
from graders.interleave import ForcedInterleaving
from graders.tasks.downloader import make_urls, pages, require_files, serve, staggered
from graders.tasks.named_workers import requests_by_thread, with_hint
from graders.thread_watch import ThreadWatch

N_URLS, N_WORKERS = 7, 3
LATCH_TIMEOUT = 1.0
STALL_TIMEOUT = 0.5  # a correct pool pays this once per forced run (the stalled pop holds the lock)

_LOCK_HINT = (
    "Check and pop in one `with lock:` block: if the list is empty the worker stops, "
    "otherwise it pops its (i, url). Call save_url after the block."
)


@dataclass
class PoolRun:
    """What one call of download_with_workers did, as the HTTP fixture saw it."""

    urls: list[str]
    n_workers: int
    out_dir: Path
    http: HttpFixture  # closed: records, latch and peak stay readable

    @property
    def at_once(self) -> int:
        """How many downloads must be in flight together."""
        return min(self.n_workers, len(self.urls))

    def setting(self) -> str:
        return f"{len(self.urls)} URL(s) and n_workers={self.n_workers}"


def run_pool(
    ctx: Context,
    urls: Sequence[str] | None = None,
    n_workers: int = N_WORKERS,
    *,
    latency: float | dict[str, float] = 0.01,
    forced: bool = False,
) -> PoolRun:
    """Call download_with_workers (on a copy of the list) behind a latch in waves.

    With `forced`, under forced interleaving that stalls the last pop. A worker that dies
    with an exception fails the check right here.
    """
    urls = list(make_urls(N_URLS) if urls is None else urls)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    interleaving = (
        ForcedInterleaving(
            ctx.files, seed=ctx.seed, stall_last_pop=True, stall_timeout=STALL_TIMEOUT
        )
        if forced
        else contextlib.nullcontext()
    )
    with serve(ctx, urls, latency=latency) as http:
        run = PoolRun(urls, n_workers, out_dir, http)
        if urls:
            http.latch(run.at_once, timeout=LATCH_TIMEOUT, waves=True, expected=len(urls))
        with ThreadWatch(ctx.files) as watch, interleaving:
            mod.download_with_workers(list(urls), str(out_dir), n_workers=n_workers)
    if watch.errors:
        raise worker_failure(run, watch.errors[0].exc, ctx, forced=forced)
    return run


def worker_failure(run: PoolRun, exc: BaseException, ctx: Context, *, forced: bool) -> CheckFailed:
    """A worker died: for an IndexError, say how two workers got to one last URL."""
    failed = describe_exception(exc, ctx.files, "A worker")
    if not isinstance(exc, IndexError):
        return failed
    details = [f"With {run.setting()}."]
    if forced:
        details.append(
            "To test this, the grader held the worker about to pop the last URL until "
            "another worker reached the list too (forced interleaving; make check SEED="
            f"{ctx.seed} replays it)."
        )
    return CheckFailed(
        "A worker popped from an empty list",
        expected="each worker checks that a URL is left and pops it while holding the lock, "
        "so only one worker can take the last one",
        got=failed.feedback.got,
        where=failed.feedback.where,
        details=details,
        hint=_LOCK_HINT,
    )


# ----------------------------------------------------------------- requirements


def require_workers(run: PoolRun) -> None:
    """Exactly n_workers threads (never the main thread) download, all busy at once."""
    groups = requests_by_thread(run.http.records)
    main = [r for r in run.http.records if r.thread_id == threading.main_thread().ident]
    if main:
        raise CheckFailed(
            "The main thread downloaded a URL itself",
            expected=f"only the {run.n_workers} worker threads download",
            got=f"the main thread downloaded {main[0].url}",
            hint="download_with_workers only starts the workers and joins them; pass "
            "`target=worker` (the function itself) to each Thread and call start().",
        )
    if len(groups) > run.n_workers:
        raise CheckFailed(
            f"{len(groups)} threads downloaded, but the pool has {run.n_workers} workers",
            expected=f"exactly {run.n_workers} threads, each taking URL after URL off the list",
            got=f"{len(groups)} different threads downloaded the {len(run.urls)} URLs",
            hint="Start n_workers threads, not one per URL: each worker loops, taking the "
            "next URL off the shared list until the list is empty.",
        )
    require_in_flight(run)


def require_in_flight(run: PoolRun) -> None:
    """min(n_workers, URLs) downloads were in flight together in every wave."""
    if not run.urls or run.http.latch_filled:
        return
    threads = len(requests_by_thread(run.http.records))
    raise CheckFailed(
        f"Your {run.at_once} workers were never all downloading at the same time",
        expected=f"{run.at_once} downloads in flight at once, one per worker",
        got=f"at most {run.http.peak_in_flight} at once, by {threads} thread(s) in all "
        f"({run.setting()})",
        hint="Hold the lock only to take a URL off the list; call save_url after the "
        "`with lock:` block, so the other workers can take theirs meanwhile. And start "
        "n_workers threads before joining any.",
    )


def require_each_once(run: PoolRun) -> None:
    """Every entry of the list was downloaded exactly once (a URL listed twice: twice)."""
    got = Counter(run.http.urls_requested())
    want = Counter(run.urls)
    for url in want:
        if got[url] > want[url]:
            raise CheckFailed(
                "A URL was downloaded more often than it is on the list",
                expected=f"{url} downloaded {want[url]} time(s)",
                got=f"downloaded {got[url]} times ({run.setting()})",
                hint="Create the list once, in download_with_workers, and let every worker "
                "pop from that same list: a worker with its own copy downloads everything. "
                "Take the URL off the list in the same `with lock:` block that finds it.",
            )
        if got[url] < want[url]:
            raise CheckFailed(
                "A URL on the list was never downloaded",
                expected=f"{url} downloaded {want[url]} time(s)",
                got=f"downloaded {got[url]} time(s) ({run.setting()})",
                hint="Keep every worker looping until the list is empty.",
            )
    if run.http.refused:
        raise CheckFailed(
            "A worker requested a URL that is not on the list",
            got=f"requested {run.http.refused[0]}",
            hint="Download exactly the URLs in `urls`.",
        )


def require_pool_files(ctx: Context, run: PoolRun) -> None:
    """result_{i}.txt holds the page of urls[i], i the index in the original list."""
    try:
        require_files(pages(ctx, run.urls), run.out_dir, run.urls)
    except CheckFailed as failed:
        raise with_hint(
            failed,
            "i is the URL's index in urls, not the order of downloading: put (i, url) pairs "
            "on the list and save each URL to result_{i}.txt with the i it came with.",
        ) from None


# ----------------------------------------------------------------- checks


@check("Exactly n_workers threads download, and every one of them gets work", points=3)
def worker_count(ctx: Context) -> None:
    require_workers(run_pool(ctx))


@check("Every URL on the list is downloaded exactly once", points=2)
def each_once(ctx: Context) -> None:
    require_each_once(run_pool(ctx))


@check("result_{i}.txt holds the page of URL i (its index in urls)", points=2)
def files(ctx: Context) -> None:
    urls = make_urls(N_URLS)
    require_pool_files(ctx, run_pool(ctx, urls, latency=staggered(urls, 0.02)))


@check("n_workers downloads are in flight at once: the download is outside the lock", points=3)
def in_flight(ctx: Context) -> None:
    require_in_flight(run_pool(ctx))


@check("When two workers race for the last URL, the pop never fails or doubles", points=4)
def pop_safe(ctx: Context) -> None:
    require_each_once(run_pool(ctx, forced=True))


# Graded hints for `make hint TASK=worker_pool`: one more each time, never the answer.
HINTS = (
    "Make the jobs once, before starting any thread: list(enumerate(urls)) gives (i, url) "
    "pairs, so each URL keeps its index. One threading.Lock() guards that list.",
    "The worker loops: inside `with lock:` it returns if the list is empty, else pops one "
    "(i, url). The check and the pop belong in the same with-block: between them another "
    "worker could take the last job.",
    "Download after the with-block, so the lock is free while the server answers: "
    "save_url(url, os.path.join(out_dir, f'result_{i}.txt')). Start n_workers threads with "
    "target=worker (no parentheses), then join them all.",
)
