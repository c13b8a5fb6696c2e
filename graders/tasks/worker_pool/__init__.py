"""Visible checks for worker_pool: a fixed number of workers share one list under a lock.

Everything is observed, never guessed:
- the HTTP fixture records which thread made each request; its latch (docs/design.md, fact 4) holds
  requests until min(n_workers, URLs left) are in flight at once, in waves: proof that the
  downloads run outside the lock, and it sends the workers back to the list together. Every
  run latches its first wave at least: no job is done before every worker has taken one, so
  no worker ever finds the list empty when it first comes to it (with more URLs than
  workers), however late it gets to run;
- `ThreadStarts` (graders.kit.thread_starts) notes every thread the learner's code starts, at
  the start itself, idle workers too, so "exactly n_workers threads" is counted, not inferred
  from who got work, and never depends on when a worker gets to run;
- `HeldFixture` holds the first download until every other job has been answered: in a pool
  that dealt the jobs out in advance, the held worker's other jobs wait for it; with one
  shared list the idle workers take them;
- forced interleaving with `stall_last_pop` holds the worker about to pop the last job until
  a second worker reaches the list too, so a check-then-pop outside the lock fails every run;
  `LockTurns` makes a worker that let go of the lock wait for another worker's turn at it, so
  a job found under the lock but taken after it (an index, say) is found twice, every run;
- `LockUse` notes which worker took which lock: a lock no two workers ever take is not the
  shared lock of R1, however the run went;
- `ctx.call` notes the threads still running at the moment download_with_workers returns.

Inputs come from the seed (`ctx.rng`): n_workers, URL counts that are not multiples of it,
the URLs and their order, the bodies.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Literal

from graders.kit import tracehooks, waitfor
from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed, describe_exception, learner_frame
from graders.kit.http_fixture import HttpFixture
from graders.kit.interleave import ForcedInterleaving
from graders.kit.thread_starts import ThreadStarts
from graders.kit.thread_watch import ThreadWatch
from graders.kit.waitfor.tracked import TrackedLock, TrackedRLock
from graders.learner.pictures.downloads import DEFAULT_URLS
from graders.tasks.downloader import make_urls, pages, require_files, staggered
from graders.tasks.named_workers import requests_by_thread, with_hint

# Captured at import: learner code may monkeypatch these while a check runs.
_current_thread = threading.current_thread
_main_thread = threading.main_thread
_clock = time.perf_counter

TYPICAL_SECONDS = 1.0  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "One list of jobs and one lock, shared by every worker: each job is taken by one "
    "worker, so every entry of urls is downloaded exactly once (a URL listed twice: twice).",
    "R2": "No jobs dealt out in advance: a worker takes a job when it is free, so while one "
    "worker waits on a slow server the other workers take every job left.",
    "R3": "Exactly n_workers threads (3 when not given; with fewer URLs than workers, one per "
    "URL is fine too), all running the worker function, all started before any is joined; "
    "the main thread downloads nothing itself.",
    "R4": "The worker checks that a job is left and pops it while holding the lock, and "
    "returns when none is left: two workers never race for the last job.",
    "R5": "The download (save_url) runs after the lock is let go: min(n_workers, jobs left) "
    "downloads at the same time.",
    "R6": "URL i, i its index in urls, is saved to out_dir/result_{i}.txt.",
    "R7": "Every worker has finished when download_with_workers returns (all joined).",
}

WORKSHOP_URLS = DEFAULT_URLS  # the module's own URLS, as the stub gives them
DEFAULT_WORKERS = 3
LATCH_TIMEOUT = 2.5  # only for waits the wait-for graph cannot see (see http_fixture, quiet)
STALL_TIMEOUT = 0.5  # a correct pool pays this once per forced run (the stalled pop holds the lock)
HOLD_TIMEOUT = 2.5  # only a pool whose other workers stop taking jobs waits this long

_LOCK_HINT = (
    "Check and pop in one `with lock:` block: if the list is empty the worker stops, "
    "otherwise it pops its (i, url). Call save_url after the block."
)

Latch = Literal["first", "waves"] | None


# ----------------------------------------------------------------- inputs


def pool_size(
    ctx: Context, workers: Sequence[int] = (2, 3, 4, 5), *, shares: bool = False
) -> tuple[int, int]:
    """n_workers and a URL count drawn from the seed; the count is never a multiple of it.

    With `shares`, the count is one short of 3 or 4 rounds (k * n_workers - 1): dealt out in
    advance, round robin or in chunks of ceil(count / n_workers), every worker's share then
    holds k or k - 1 >= 2 jobs. So a held worker always has another job of its share waiting
    (shared_jobs sees it), and the waves of the latch fill for such a pool too (in_flight
    judges the lock, not the sharing).
    """
    rng = ctx.rng("size")
    n = rng.choice(tuple(workers))
    if shares:
        return n, rng.choice((3, 4)) * n - 1
    return n, rng.choice([m for m in range(n + 1, 2 * n + 3) if m % n])


def seeded_urls(ctx: Context, m: int, label: str = "urls") -> list[str]:
    """`m` distinct URLs, in an order and with paths drawn from the seed."""
    if m == 2:  # every order of two URLs is sorted one way or the other: take two of three
        return make_urls(3, ctx.rng(label))[:2]
    return make_urls(m, ctx.rng(label))


# ----------------------------------------------------------------- observing a run


def _codes(owners: Iterable[type], names: Iterable[str]) -> frozenset[CodeType]:
    """The code objects of the Python-level methods `names` of the `owners` classes."""
    return frozenset(
        code
        for cls in owners
        for name in names
        if (code := getattr(getattr(cls, name, None), "__code__", None)) is not None
    )


# The Python-level acquire/`with` entry and release/`with` exit of every lock a learner may
# take: the wait-for graph's tracked locks (what threading.Lock() is while a check runs, see
# graders.kit.waitfor), a Condition, a Semaphore. A C lock's `with` block calls no method a
# profiler sees.
_ACQUIRES = _codes(
    (TrackedLock, TrackedRLock, threading.Condition, threading.Semaphore), ("acquire", "__enter__")
)
_RELEASES = _codes((TrackedLock, TrackedRLock), ("release", "__exit__"))
# their files: a frame in another module is skipped unread (graders.kit.tracehooks.code_in)
_LOCK_FILES = frozenset(code.co_filename for code in _ACQUIRES | _RELEASES)
_code_in = tracehooks.code_in
_C_LOCKS = (type(threading.Lock()), type(threading.RLock()))
TURN_TIMEOUT = 2.0  # longest a worker waits for another worker's turn at the lock
TURN_POLL = 0.01  # how often a waiting worker looks whether the others are still alive


class LockUse:
    """Which threads take which lock, for every acquire() or `with` entry in the learner's files.

    A profile hook on every thread started inside the block (graders.kit.tracehooks) sees the
    call: a Python-level one as a "call" event whose caller is a learner frame, a C lock's
    acquire() as a "c_call" made by a learner frame. The locks are kept, so that a lock made
    and dropped in a loop is never mistaken for the next one (ids are reused).
    """

    def __init__(self, files: Iterable[str]) -> None:
        self._files = tracehooks.file_spellings(files)
        self._lock = threading.Lock()
        self._takers: dict[int, tuple[object, set[threading.Thread]]] = {}
        self._active = False
        self._elsewhere: dict[int, object] = {}

    def __enter__(self) -> LockUse:
        self._active = True
        tracehooks.setprofile_new_threads(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        tracehooks.setprofile_new_threads(None)
        self._active = False

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self._active:
            tracehooks.setprofile(None)  # a thread that outlived the block: stop profiling it
            return
        if event == "call":
            if _code_in(_LOCK_FILES, frame, self._elsewhere) not in _ACQUIRES:
                return
            lock, caller = frame.f_locals.get("self"), frame.f_back
        elif event == "c_call":
            if getattr(arg, "__name__", None) not in ("acquire", "__enter__"):
                return
            lock, caller = getattr(arg, "__self__", None), frame
            if type(lock) not in _C_LOCKS:
                return
        else:
            return
        if lock is None or caller is None or caller.f_code.co_filename not in self._files:
            return
        with self._lock:
            self._takers.setdefault(id(lock), (lock, set()))[1].add(_current_thread())

    def worker_takers(self) -> list[set[threading.Thread]]:
        """For each lock the workers took, the worker threads (not the main one) that took it."""
        with self._lock:
            found = [
                {t for t in who if t is not _main_thread()} for _, who in self._takers.values()
            ]
        return [takers for takers in found if takers]


class LockTurns:
    """Workers take turns at the lock: after letting go of a lock in the learner's code, a
    worker waits until another worker lets go of one too (or no other worker is alive, or
    TURN_TIMEOUT passes, after which nobody waits any more). The workers are the threads
    that let go of a lock so far and every thread the learner's code started (`started`, from
    graders.kit.thread_starts): so one worker cannot run through the list while the others
    have not been scheduled yet, whatever the machine's load.

    So whatever a worker found out while it held the lock, another worker holds the lock
    before it acts on it: a worker that checks for a job under the lock but takes it after
    letting go has a second worker find the same last job, in every run (an index taken
    outside the lock as much as a pop). Code that checks and takes under the lock only pays a
    handoff per job. Seen by a profile hook (graders.kit.tracehooks) on the tracked locks'
    release, a Python call (see _RELEASES).
    """

    def __init__(
        self,
        files: Iterable[str],
        started: Sequence[threading.Thread] = (),
        timeout: float = TURN_TIMEOUT,
    ) -> None:
        self._files = tracehooks.file_spellings(files)
        self._started = started  # grows while the block runs
        self.timeout = timeout
        self._cond = threading.Condition(threading.Lock())
        self._releases: list[threading.Thread] = []
        self._workers: set[threading.Thread] = set()
        self._given_up = False
        self._active = False
        self._elsewhere: dict[int, object] = {}

    def __enter__(self) -> LockTurns:
        self._active = True
        tracehooks.setprofile_new_threads(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        tracehooks.setprofile_new_threads(None)
        with self._cond:
            self._active = False
            self._cond.notify_all()

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self._active:
            tracehooks.setprofile(None)  # a thread that outlived the block: stop profiling it
            return
        if event != "return" or _code_in(_LOCK_FILES, frame, self._elsewhere) not in _RELEASES:
            return
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename in self._files:
            self._released(_current_thread())

    def _released(self, me: threading.Thread) -> None:
        """Note a release by `me`, then wait for another worker's (bounded)."""
        with self._cond:
            self._workers.add(me)
            mine = len(self._releases)
            self._releases.append(me)
            self._cond.notify_all()
            end = _clock() + self.timeout
            while not self._turned(me, mine):
                if _clock() >= end:
                    self._given_up = True
                    self._cond.notify_all()
                    return
                self._cond.wait(TURN_POLL)  # also to see other workers end

    def _turned(self, me: threading.Thread, mine: int) -> bool:
        return (
            self._given_up
            or not self._active
            or any(t is not me for t in self._releases[mine + 1 :])
            or not any(t.is_alive() for t in self._workers.union(self._started) if t is not me)
        )


class HeldFixture(HttpFixture):
    """An HttpFixture that holds the first request to arrive until `others` other requests
    have been answered (or no other thread can answer one, or `timeout` passes): one worker
    stuck on a slow server.

    With one shared list the other workers take every job left meanwhile and the hold ends
    at once; in a pool that dealt the jobs out in advance, the held worker's other jobs wait.
    """

    def __init__(
        self,
        routes: Mapping[str, str],
        *,
        latency: float | Mapping[str, float],
        others: int,
        timeout: float,
    ) -> None:
        super().__init__(routes, latency=latency)
        self._hold_cond = threading.Condition(threading.Lock())
        self._others, self._hold_timeout = others, timeout
        self._hold_closed = False
        self.held: tuple[str, str] | None = None  # (url, thread name) of the held request
        self.answered = 0  # other requests answered so far
        self.answered_while_held = 0  # ... when the hold ended

    @property
    def kept_up(self) -> bool:
        """True iff the others answered every other job while the first request was held."""
        return self.held is not None and self.answered_while_held >= self._others

    def _respond(self, url: str, request: Any) -> bytes:
        """HttpFixture's per-request path, with the first request held (see the class)."""
        with self._hold_cond:
            first = self.held is None
            if first:
                self.held = (url, _current_thread().name)
                end = _clock() + self._hold_timeout
                waitfor.wait_quietly(  # quiet: the others ended, or wait on the held one
                    self._hold_cond,
                    lambda: self.answered >= self._others or self._hold_closed,
                    lambda: end,
                    waitfor.quiet_alone,  # a verdict: outlasts the latch the others may be at
                )
                self.answered_while_held = self.answered
        body = super()._respond(url, request)
        if not first:
            with self._hold_cond:
                self.answered += 1
                self._hold_cond.notify_all()
        return body

    def __exit__(self, *exc: object) -> None:
        with self._hold_cond:
            self._hold_closed = True
            self._hold_cond.notify_all()
        super().__exit__(*exc)


@dataclass
class PoolRun:
    """What one call of download_with_workers did, as the HTTP fixture saw it."""

    urls: list[str]
    n_workers: int | None  # None: not passed (the default applies)
    out_dir: Path
    http: HttpFixture  # closed: records, latch and peak stay readable
    threads: list[threading.Thread]  # threads the learner's code started (if counted)
    lock_takers: list[set[threading.Thread]] = field(default_factory=list)  # per lock (if watched)

    @property
    def workers(self) -> int:
        """The pool size asked for."""
        return DEFAULT_WORKERS if self.n_workers is None else self.n_workers

    @property
    def at_once(self) -> int:
        """How many downloads must be in flight together."""
        return min(self.workers, len(self.urls))

    def call_text(self) -> str:
        size = "" if self.n_workers is None else f", n_workers={self.n_workers}"
        urls = f"{len(self.urls)} URL" + ("" if len(self.urls) == 1 else "s")
        return f"download_with_workers(<list of {urls}>, out_dir{size})"

    def setting(self) -> str:
        size = "n_workers not given" if self.n_workers is None else f"n_workers={self.n_workers}"
        return f"{len(self.urls)} URL(s) and {size}"


@contextlib.contextmanager
def _serving(ctx: Context, http: HttpFixture) -> Iterator[HttpFixture]:
    """Serve; before the fixture goes, let the learner's stray threads finish against it."""
    with http:
        try:
            yield http
        finally:
            ctx.settle()


def run_pool(
    ctx: Context,
    urls: Sequence[str],
    n_workers: int | None,
    *,
    latency: float | dict[str, float] = 0.005,
    latch: Latch = "first",
    forced: bool = False,
    hold: bool = False,
    count_threads: bool = False,
    watch_locks: bool = False,
    turns: bool = False,
) -> PoolRun:
    """Call download_with_workers (through ctx.call, on a copy of the list) and observe it.

    `latch`: "first" holds the first min(n, URLs) requests until all are in flight; "waves"
    does so again for every round. `forced`: under forced interleaving that stalls the last
    pop. `hold`: the first request waits until every other job is answered (the first wave's
    latch then counts the others only). `count_threads`: note the threads the learner's code
    starts. `watch_locks`: note which workers take which lock (LockUse). `turns`: workers take
    turns at the lock (LockTurns; with no latch, which would wait for a worker held there). A
    worker that dies fails the check here.
    """
    urls = list(urls)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    bodies = pages(ctx, urls)
    http = (
        HeldFixture(bodies, latency=latency, others=len(urls) - 1, timeout=HOLD_TIMEOUT)
        if hold
        else HttpFixture(bodies, latency=latency)
    )
    run = PoolRun(urls, n_workers, out_dir, http, [])
    # Counting lasts until the stray threads have settled: a thread the call left running may
    # start more threads after it returned.
    counting = ThreadStarts(ctx.files) if count_threads or turns else contextlib.nullcontext()
    with counting, _serving(ctx, http), contextlib.ExitStack() as stack:
        if isinstance(counting, ThreadStarts):
            run.threads = counting.threads
        at_once = run.at_once - 1 if hold else run.at_once  # the held one is not in flight
        if at_once and latch:
            http.latch(
                at_once,
                timeout=LATCH_TIMEOUT,
                waves=latch == "waves",
                expected=len(urls) if latch == "waves" else None,
            )
        watch = stack.enter_context(ThreadWatch(ctx.files))
        if forced:
            stack.enter_context(
                ForcedInterleaving(
                    ctx.files, seed=ctx.seed, stall_last_pop=True, stall_timeout=STALL_TIMEOUT
                )
            )
        locks = stack.enter_context(LockUse(ctx.files)) if watch_locks else None
        if turns:
            stack.enter_context(LockTurns(ctx.files, started=run.threads))
        _call(ctx, run, mod.download_with_workers)
    if locks is not None:
        run.lock_takers = locks.worker_takers()
    if watch.errors:
        raise worker_failure(run, watch.errors[0].exc, ctx, forced=forced)
    return run


def _call(ctx: Context, run: PoolRun, func: Callable[..., object]) -> None:
    """The learner's function on a copy of the URLs; n_workers only when the run sets it."""
    size = {} if run.n_workers is None else {"n_workers": run.n_workers}
    try:
        ctx.call(func, list(run.urls), str(run.out_dir), **size)
    except TypeError as exc:
        if learner_frame(exc.__traceback__, ctx.files) is not None:
            raise
        raise CheckFailed(
            f"{run.call_text()} could not be called",
            expected="download_with_workers(urls, out_dir, n_workers=3): n_workers may be "
            "left out, and is 3 then",
            got=f"TypeError: {exc}",
            hint="Keep the signature the stub gives: def download_with_workers(urls, out_dir, "
            "n_workers=3).",
        ) from None


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
        location=failed.feedback.location,
        details=details,
        kind="race",
        hint=_LOCK_HINT,
    )


# ----------------------------------------------------------------- requirements


def require_thread_count(run: PoolRun) -> None:
    """The learner's code started exactly n_workers threads, and the main thread downloaded
    nothing.

    Only for runs with more URLs than workers (fewer: one thread per URL is allowed).
    """
    main = [r for r in run.http.records if r.thread_id == _main_thread().ident]
    if main:
        raise CheckFailed(
            "The main thread downloaded a URL itself",
            expected=f"only the {run.workers} worker threads download",
            got=f"the main thread downloaded {main[0].url} ({run.setting()})",
            hint="download_with_workers only starts the workers and joins them; pass "
            "`target=worker` (the function itself, no parentheses) to each Thread.",
        )
    ran = len(run.threads)
    if ran == run.workers:
        return
    asked = (
        f"n_workers={run.n_workers}"
        if run.n_workers is not None
        else f"n_workers not given (the default is {DEFAULT_WORKERS})"
    )
    if ran > run.workers:
        raise CheckFailed(
            f"Your code started {ran} thread(s), but the pool has {run.workers} workers",
            expected=f"exactly {run.workers} threads for {len(run.urls)} URLs with {asked}",
            got=f"{ran} threads started",
            hint="Start n_workers threads, not one per URL and not one more: each worker "
            "loops, taking the next URL off the shared list until the list is empty.",
        )
    raise CheckFailed(
        f"Your code started only {ran} thread(s), but the pool has {run.workers} workers",
        expected=f"exactly {run.workers} threads for {len(run.urls)} URLs with {asked}",
        got=f"{ran} thread(s) started",
        hint="Start as many threads as n_workers says: `for _ in range(n_workers)`, not a "
        "number of your own; keep n_workers=3 as the default in the signature.",
    )


def require_in_flight(run: PoolRun) -> None:
    """min(n_workers, URLs left) downloads were in flight together in every wave."""
    if not run.urls or run.http.latch_filled:
        return
    threads = len(requests_by_thread(run.http.records))
    peak, groups = run.http.peak_in_flight, run.http.latch_groups
    short = next(((i, g) for i, g in enumerate(groups, 1) if not g.filled), None)
    if peak >= run.at_once and short is not None:  # full once, short in a later round
        number, group = short
        raise CheckFailed(
            f"Your {run.at_once} workers were not all downloading together in every round",
            expected=f"min(n_workers, URLs left) downloads in flight at once, in every round "
            f"of {len(groups)}",
            got=f"round {number}: {group.held} of {group.target} in flight together "
            f"(released: {group.reason}); {peak} at once at most, by {threads} thread(s) "
            f"({run.setting()})",
            hint="Go back to the list as soon as a download is done, and hold the lock only "
            "to take a URL off it: every worker should be downloading until the list is empty.",
        )
    raise CheckFailed(
        f"Your {run.at_once} workers were never all downloading at the same time",
        expected=f"{run.at_once} downloads in flight at once, one per worker",
        got=f"at most {peak} at once, by {threads} thread(s) in all ({run.setting()})",
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


def require_shared_lock(run: PoolRun) -> None:
    """Workers that take locks share one of them: a lock only one worker ever takes keeps no
    other worker out, so it cannot be the list's lock (R1). Code that takes no lock of its
    own (a queue.Queue, an executor, an atomic pop) is not judged here."""
    takers = run.lock_takers
    workers = set().union(*takers) if takers else set()
    if len(workers) < 2 or any(len(threads) >= 2 for threads in takers):
        return
    raise CheckFailed(
        "Every worker took a lock of its own: no lock was shared by two workers",
        expected="one lock for the list, made once in download_with_workers and taken by "
        "every worker",
        got=f"{len(takers)} different locks taken by {len(workers)} workers, none of them by "
        f"two workers ({run.setting()})",
        hint="Create the lock once, next to the list, before you start the workers, and use "
        "that same lock in every worker. A lock made inside the worker (or inside its loop) "
        "is a new lock each time: it keeps nobody out.",
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


def nothing_downloaded(run: PoolRun, why: str) -> CheckFailed:
    """The call returned without a single download: there is nothing for the check to judge."""
    return CheckFailed(
        "download_with_workers returned without downloading anything",
        expected=f"{run.at_once} workers downloading the {len(run.urls)} URLs: {why}",
        got=f"{run.call_text()} returned, and no URL was requested ({run.setting()})",
        hint="Start n_workers threads with target=worker; each worker pops (i, url) jobs off "
        "the shared list and calls save_url on them until the list is empty.",
    )


def require_workers_done(ctx: Context, run: PoolRun) -> None:
    """The workers ran, and all had finished when the call returned (R7)."""
    ctx.require_joined(run.call_text())
    if not run.http.records and not run.http.refused:
        raise nothing_downloaded(run, "every one of them finished when it returns")


def require_shared(run: PoolRun) -> None:
    """While the first download was held, the other workers answered every other job."""
    http = run.http
    assert isinstance(http, HeldFixture)
    if http.held is None:
        raise nothing_downloaded(
            run, "while one download is held up, the others take every job left"
        )
    if http.kept_up:
        return
    url, thread = http.held
    others, done = len(run.urls) - 1, http.answered_while_held
    details = [
        f"The grader held the first download ({url}, by {thread}) until the other "
        f"{others} URLs were downloaded, for at most {HOLD_TIMEOUT:g} s, or until no other "
        f"worker could download anything ({run.setting()})."
    ]
    if done == 0:
        raise CheckFailed(
            "While one download was held up, no other worker downloaded anything",
            expected=f"the other workers download the other {others} URLs meanwhile",
            got="nothing else was downloaded while it was held",
            details=details,
            hint="Let go of the lock before calling save_url, and start every worker before "
            "joining any: then the others keep taking jobs while one waits on a slow server.",
        )
    raise CheckFailed(
        "While one worker waited on a slow download, other jobs waited for it too",
        expected=f"the idle workers take all the other {others} jobs meanwhile",
        got=f"they downloaded {done} of them, then waited for the held worker",
        details=details,
        hint="Do not deal the URLs out in advance (urls[k::n_workers], or a chunk per "
        "worker): put every job on one list, and let each worker pop its next job from it "
        "whenever it is free.",
    )


# ----------------------------------------------------------------- checks


@check("Exactly n_workers threads run the pool, never the main thread", points=3, requires="R3")
def worker_count(ctx: Context) -> None:
    n, m = pool_size(ctx, (2, 4, 5))  # never 3: a pool of a fixed 3 must show
    run = run_pool(ctx, seeded_urls(ctx, m), n, latch="first", count_threads=True)
    require_thread_count(run)


@check("Every URL on the list is downloaded exactly once", points=2, requires="R1")
def each_once(ctx: Context) -> None:
    n, m = pool_size(ctx)
    run = run_pool(ctx, seeded_urls(ctx, m), n, watch_locks=True)
    require_shared_lock(run)  # first: whether a private lock also loses a job is luck
    require_each_once(run)


@check("result_{i}.txt holds the page of URL i (its index in urls)", points=2, requires="R6")
def files(ctx: Context) -> None:
    n, m = pool_size(ctx)
    urls = seeded_urls(ctx, m)
    require_pool_files(ctx, run_pool(ctx, urls, n, latency=staggered(urls, 0.01)))


@check(
    "n_workers downloads run at once: save_url is called outside the lock",
    points=3,
    requires=("R3", "R5"),
)
def in_flight(ctx: Context) -> None:
    n, m = pool_size(ctx, (4, 5), shares=True)  # more than 3: a pool of a fixed 3 must show
    require_in_flight(run_pool(ctx, seeded_urls(ctx, m), n, latch="waves", latency=0.01))


@check(
    "When two workers race for the last URL, the pop never fails or doubles",
    points=4,
    requires=("R1", "R4"),
)
def pop_safe(ctx: Context) -> None:
    n, m = pool_size(ctx)
    urls = seeded_urls(ctx, m)
    require_each_once(run_pool(ctx, urls, n, latch="waves", latency=0.01, forced=True))
    # the last-pop stall sees a list.pop; taking turns at the lock catches any other way of
    # acting on a job left after letting go of the lock (an index, a peek then a pop)
    require_each_once(run_pool(ctx, urls, n, latch=None, latency=0.01, turns=True))


@check(
    "While one download is slow, the other workers take every job left",
    points=3,
    requires=("R2", "R3", "R5"),
)
def shared_jobs(ctx: Context) -> None:
    n, m = pool_size(ctx, shares=True)
    require_shared(run_pool(ctx, seeded_urls(ctx, m), n, latency=0.0, hold=True))


@check("download_with_workers returns only when every worker is done", points=2, requires="R7")
def joined(ctx: Context) -> None:
    n, m = pool_size(ctx)
    require_workers_done(ctx, run_pool(ctx, seeded_urls(ctx, m), n, latency=0.03))


@check(
    "The workshop's URLS with n_workers left out: three workers, all joined",
    points=2,
    requires=("R3", "R7"),
)
def workshop(ctx: Context) -> None:
    run = run_pool(ctx, WORKSHOP_URLS, None, latency=0.01, latch="first", count_threads=True)
    ctx.require_joined(run.call_text())
    require_thread_count(run)


# Graded hints for `make hint TASK=worker_pool`: one more each time, never the answer.
HINTS = (
    "Make the jobs once, before starting any thread: list(enumerate(urls)) gives (i, url) "
    "pairs, so each URL keeps its index. One threading.Lock() guards that list, and every "
    "worker takes from it: no worker gets a share of its own.",
    "The worker loops: inside `with lock:` it returns if the list is empty, else pops one "
    "(i, url). The check and the pop belong in the same with-block: between them another "
    "worker could take the last job.",
    "Download after the with-block, so the lock is free while the server answers: "
    "save_url(url, os.path.join(out_dir, f'result_{i}.txt')). Start n_workers threads with "
    "target=worker (no parentheses), then join them all.",
)
