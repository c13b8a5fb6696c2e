"""Visible checks for async_downloader: one event loop, every download waiting at once, each
in a worker thread that asyncio.to_thread manages.

What the checks observe while download_async runs (`AsyncWatch`, installed before the learner's
module is loaded and taken away when the call is over):
- every call of asyncio.run, and every event loop that runs (`BaseEventLoop.run_forever`,
  through which asyncio.run and run_until_complete both go): "one event loop, started once
  with asyncio.run" is counted, not inferred;
- every `run_in_executor` call (asyncio.to_thread makes one, with the loop's own pool) and
  whether it was handed a pool of the learner's;
- every thread started (`Thread.start`), and whether the learner's code started it (the
  first frame up the stack that is either the learner's file or asyncio's own code);
- `save_url`, wrapped (graders.kit.observe.record): which thread ran each download;
- the HTTP fixture: its latch opens only when every request is in flight at once.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import asyncio.runners
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed, Location
from graders.kit.http_fixture import HttpFixture
from graders.kit.observe import Call, record
from graders.tasks.downloader import make_urls, pages, require_files, serve, staggered

# Captured at import: learner code may monkeypatch these while a check runs.
_Loop = asyncio.base_events.BaseEventLoop
_ASYNCIO_RUN = asyncio.runners.run
_RUN_FOREVER = _Loop.__dict__["run_forever"]
_RUN_IN_EXECUTOR = _Loop.__dict__["run_in_executor"]
_THREAD_START = threading.Thread.__dict__["start"]
_getframe = sys._getframe
_current_thread = threading.current_thread
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep

TYPICAL_SECONDS = 1.0  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "All the downloads run in one event loop, started once per call with asyncio.run "
    "(not once per URL, not a loop made by hand).",
    "R2": "Every download is started before any is waited for (asyncio.gather), so that all "
    "of them wait for their servers at the same time.",
    "R3": "Each download runs the given save_url(url, path) through asyncio.to_thread (or "
    "loop.run_in_executor(None, ...), which it uses): save_url never runs in the event loop's "
    "own thread, and the code starts no threads or thread pools of its own.",
    "R4": "URL number i of the list, in the order given, is saved to out_dir/result_{i}.txt.",
    "R5": "download_async returns only when every file is written and every thread has finished.",
    "R6": "Any number of URLs works, one and none included, and out_dir may be a str or a "
    "pathlib.Path.",
}

NO_MUTANT = {
    "returns_when_done": "asyncio.run returns only after the loop's tasks are done and its "
    "own pool of threads is shut down: a download can outlive download_async only in a "
    "thread or pool of the learner's own (R3) or in a loop not run by asyncio.run (R1).",
}

LATCH_TIMEOUT = 1.5

MAX_AT_ONCE = 5  # asyncio's default pool has min(32, CPUs + 4) threads: at least 5


# ----------------------------------------------------------------- watching asyncio


@dataclass
class AsyncWatch:
    """What happened inside asyncio and threading while the learner's function ran."""

    files: frozenset[str]
    runs: int = 0  # calls of asyncio.run
    loops: list[object] = field(default_factory=list)  # every loop that ran, first run first
    own_pools: list[str] = field(default_factory=list)  # run_in_executor given a learner's pool
    learner_threads: list[threading.Thread] = field(default_factory=list)
    learner_lines: list[tuple[str, int]] = field(default_factory=list)  # where each was started
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def asyncio_run(self) -> None:
        with self._lock:
            self.runs += 1

    def loop_ran(self, loop: object) -> None:
        with self._lock:
            if not any(seen is loop for seen in self.loops):
                self.loops.append(loop)

    def executor_used(self, executor: object) -> None:
        if executor is not None:
            with self._lock:
                self.own_pools.append(type(executor).__name__)

    def thread_started(self, thread: threading.Thread, frame: FrameType | None) -> None:
        line = self._learner_line(frame)
        if line is not None:
            with self._lock:
                self.learner_threads.append(thread)
                self.learner_lines.append(line)

    def _learner_line(self, frame: FrameType | None) -> tuple[str, int] | None:
        """Walk out from Thread.start's caller: the learner's file first means their code
        started it (directly, or through a pool it made), at that line; asyncio's own code
        first means the loop did (None)."""
        while frame is not None:
            name = frame.f_code.co_filename
            if name in self.files:
                return name, frame.f_lineno
            if name.startswith(_ASYNCIO_DIR):
                return None
            frame = frame.f_back
        return None


@contextmanager
def watching_asyncio(files: Sequence[str]) -> Iterator[AsyncWatch]:
    """Wrap asyncio.run, run_forever, run_in_executor and Thread.start for the duration of
    the block. Load the learner's module inside it, so `from asyncio import run` binds the
    wrapper too."""
    watch = AsyncWatch(frozenset(files))

    def run(*args: Any, **kwargs: Any) -> Any:
        watch.asyncio_run()
        return _ASYNCIO_RUN(*args, **kwargs)

    def run_forever(loop: Any, *args: Any, **kwargs: Any) -> Any:
        watch.loop_ran(loop)
        return _RUN_FOREVER(loop, *args, **kwargs)

    def run_in_executor(loop: Any, executor: Any, func: Any, *args: Any) -> Any:
        watch.executor_used(executor)
        return _RUN_IN_EXECUTOR(loop, executor, func, *args)

    def start(thread: threading.Thread) -> None:
        watch.thread_started(thread, _getframe(1))
        _THREAD_START(thread)

    patches: list[tuple[object, str, Callable[..., Any], Any]] = [
        (asyncio, "run", run, _ASYNCIO_RUN),
        (asyncio.runners, "run", run, _ASYNCIO_RUN),
        (_Loop, "run_forever", run_forever, _RUN_FOREVER),
        (_Loop, "run_in_executor", run_in_executor, _RUN_IN_EXECUTOR),
        (threading.Thread, "start", start, _THREAD_START),
    ]
    for owner, name, wrapper, _ in patches:
        setattr(owner, name, wrapper)
    try:
        yield watch
    finally:
        for owner, name, _, original in patches:
            setattr(owner, name, original)


@dataclass
class AsyncRun:
    """One call of download_async, observed."""

    urls: list[str]
    out_dir: Path
    http: HttpFixture
    watch: AsyncWatch
    saves: list[Call]
    caller: threading.Thread
    written_at_return: frozenset[str]
    in_flight_at_return: int


def async_run(
    ctx: Context,
    urls: Sequence[str],
    *,
    latency: float | dict[str, float] = 0.02,
    latch: bool = False,
    as_path: bool = False,
) -> AsyncRun:
    """Load the learner's module and call download_async(urls, out_dir) through ctx.call,
    watched, with the fixture serving the URLs and save_url recorded."""
    urls, out_dir = list(urls), ctx.tmp_dir()
    with serve(ctx, urls, latency=latency) as http, watching_asyncio(ctx.files) as watch:
        mod = ctx.load()  # loaded inside: `from asyncio import run` binds the watched one
        saves = record(mod, "save_url")
        if latch and urls:
            http.latch(len(urls), timeout=LATCH_TIMEOUT)
        ctx.call(mod.download_async, list(urls), out_dir if as_path else str(out_dir))
        at_return = frozenset(p.name for p in out_dir.iterdir())
        in_flight = http.in_flight
    return AsyncRun(
        urls, out_dir, http, watch, saves.calls, _current_thread(), at_return, in_flight
    )


def require_downloads(run: AsyncRun, judged: str, hint: str) -> None:
    """Nothing to judge unless a download ran: a call that downloads nothing meets no sentence."""
    if run.http.records:
        return
    raise CheckFailed(
        f"download_async returned without downloading anything, so {judged}",
        expected=f"save_url(url, path) run through asyncio.to_thread for each of the "
        f"{len(run.urls)} URLs",
        got=f"no request for any of the {len(run.urls)} URLs",
        hint=hint,
    )


def seeded_urls(ctx: Context, label: str = "") -> list[str]:
    """3 to MAX_AT_ONCE URLs from the seed: asyncio's own pool runs that many at once."""
    rng = ctx.rng(label)
    return make_urls(rng.randint(3, MAX_AT_ONCE), rng)


# ----------------------------------------------------------------- the checks


@check("One event loop, started once with asyncio.run", points=2, requires="R1")
def one_loop(ctx: Context) -> None:
    run = async_run(ctx, seeded_urls(ctx))
    loops, runs = len(run.watch.loops), run.watch.runs
    if loops == 1 and runs == 1:
        return
    if runs == 0:
        summary = "download_async never called asyncio.run"
    elif runs > 1:
        summary = f"download_async called asyncio.run {runs} times"
    else:
        summary = f"download_async ran {loops} event loops"
    raise CheckFailed(
        summary,
        expected="one event loop for the whole call, started with asyncio.run(...) once",
        got=f"{runs} call(s) of asyncio.run and {loops} event loop(s) for {len(run.urls)} URLs",
        hint="Call asyncio.run once, in download_async, with one coroutine that gathers every "
        "download: it makes the loop, runs it, stops the loop's threads and closes it.",
    )


@check("All downloads wait for their servers at the same time", points=3, requires="R2")
def in_flight(ctx: Context) -> None:
    urls = seeded_urls(ctx)
    run = async_run(ctx, urls, latch=True)
    if run.http.latch_filled:
        return
    missing = [u for u in urls if u not in run.http.urls_requested()]
    if missing:
        raise CheckFailed(
            f"{len(missing)} of the {len(urls)} URLs were never requested",
            expected=f"one request for each of the {len(urls)} URLs",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Make one download per URL: `for i, url in enumerate(urls)`.",
        )
    raise CheckFailed(
        "Your downloads did not wait for their servers at the same time",
        expected=f"all {len(urls)} requests in flight at once",
        got=f"at most {run.http.peak_in_flight} in flight at once",
        hint="Make all the coroutines first and await them together: "
        "`await asyncio.gather(*coroutines)`. Awaiting each one in a for loop runs them one "
        "after another; and save_url called without asyncio.to_thread blocks the loop.",
    )


@check("save_url runs in asyncio's worker threads, not the loop's", points=2, requires="R3")
def to_thread(ctx: Context) -> None:
    urls = seeded_urls(ctx)
    run = async_run(ctx, urls)
    in_loop = [c for c in run.saves if c.thread is run.caller]
    if in_loop:
        raise CheckFailed(
            "save_url ran in the event loop's own thread, which blocks the loop",
            expected="every save_url call in a worker thread: await asyncio.to_thread(save_url, "
            "url, path)",
            got=f"{len(in_loop)} of {len(run.saves)} save_url calls ran in {run.caller.name}, "
            "the thread that runs the loop",
            hint="A plain call save_url(url, path) inside a coroutine waits for the download "
            "with the whole loop stopped. Hand it to asyncio.to_thread and await that.",
        )
    if len(run.saves) != len(urls):
        raise CheckFailed(
            f"save_url was called {len(run.saves)} times for {len(urls)} URLs",
            expected="the given save_url(url, path) once per URL, through asyncio.to_thread",
            got=f"{len(run.saves)} calls of save_url",
            hint="Download with the given function: asyncio.to_thread(save_url, url, path), "
            "not requests.get of your own.",
        )


@check("No threads or pools of your own", points=2, requires="R3")
def no_threads(ctx: Context) -> None:
    run = async_run(ctx, seeded_urls(ctx))
    started = run.watch.learner_threads
    if started:
        raise CheckFailed(
            f"Your code started {len(started)} thread(s) of its own",
            expected="no threading.Thread and no thread pool of yours: asyncio.to_thread runs "
            "save_url in asyncio's own worker threads",
            got=f"threads started by your code: {', '.join(t.name for t in started[:4])}",
            location=Location.of(*run.watch.learner_lines[0]),
            hint="Replace the thread with `await asyncio.to_thread(save_url, url, path)` in a "
            "coroutine; the event loop provides and stops the threads.",
        )
    if run.watch.own_pools:
        raise CheckFailed(
            "Your code gave the event loop a thread pool of its own",
            expected="asyncio.to_thread, which uses the loop's own pool",
            got=f"run_in_executor was given a {run.watch.own_pools[0]}",
            hint="Use `await asyncio.to_thread(save_url, url, path)`; the loop brings the "
            "threads and shuts them down when asyncio.run ends.",
        )
    # no download ran: nothing ran in any thread, so R3's threads are not shown
    require_downloads(
        run,
        "no download ran in asyncio's worker threads",
        hint="In a coroutine, `await asyncio.to_thread(save_url, url, path)` for each URL, "
        "gathered, and run it with asyncio.run.",
    )


@check("result_{i}.txt holds URL i's page, whatever order they finish in", points=2, requires="R4")
def files(ctx: Context) -> None:
    urls = seeded_urls(ctx)
    run = async_run(ctx, urls, latency=staggered(urls))
    require_coroutine_files(ctx, run)


@check("download_async returns when every thread is done", points=2, requires="R5")
def returns_when_done(ctx: Context) -> None:
    urls = seeded_urls(ctx)
    run = async_run(ctx, urls, latency=staggered(urls))
    ctx.require_joined(
        "download_async(...)",
        hint="Let asyncio.run wait for everything: await every download inside the coroutine "
        "you give it, and start no threads of your own.",
    )
    written = {p.name for p in run.out_dir.iterdir()}
    later = sorted(written - run.written_at_return)
    if run.in_flight_at_return or later:
        raise CheckFailed(
            "download_async returned before the downloads finished",
            expected="every file written when it returns",
            got=f"{run.in_flight_at_return} request(s) still in flight at the return; written "
            f"after it: {', '.join(later) or 'none'}",
            hint="Await every download inside the coroutine that asyncio.run runs.",
        )
    # no download ran: nothing was waited for, so R5 is not shown
    require_downloads(
        run,
        "nothing was waited for",
        hint="asyncio.run(download_all(urls, out_dir)), where download_all awaits "
        "asyncio.gather of one asyncio.to_thread(save_url, url, path) per URL.",
    )


def require_coroutine_files(ctx: Context, run: AsyncRun) -> None:
    """require_files, with a hint about coroutines instead of threads."""
    try:
        require_files(pages(ctx, run.urls), run.out_dir, run.urls)
    except CheckFailed as failed:
        hint = (
            "Give each download its own url and path as arguments: "
            "download_one(url, os.path.join(out_dir, f'result_{i}.txt')), or "
            "asyncio.to_thread(save_url, url, path). A lambda that reads the loop variables "
            "runs after the loop has moved on."
        )
        raise CheckFailed.from_feedback(replace(failed.feedback, hint=hint)) from None


# Graded hints for `make hint TASK=async_downloader`: one more each time, never the answer.
HINTS = (
    "Three layers: download_one awaits one download, download_all makes one download_one "
    "coroutine per URL and awaits them all together, and download_async (an ordinary "
    "function) runs download_all in an event loop. Only download_async calls asyncio.run.",
    "In download_one, save_url must not run in the loop's thread: asyncio.to_thread takes "
    "the function and its arguments separately (like Thread's target and args) and returns "
    "something to await.",
    "In download_all, build the list of coroutines first (calling an async function only "
    "makes a coroutine; nothing runs yet), then hand them all to asyncio.gather with a star "
    "and await what it returns. Awaiting them one by one in a loop is sequential again.",
    "`make timeline TASK=async_downloader` draws your requests: they should overlap, each in "
    "a thread named asyncio_N that the loop made for you, none in MainThread.",
)
