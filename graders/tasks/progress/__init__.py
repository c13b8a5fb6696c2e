"""Visible checks for progress: the calling thread keeps reporting while its threads download.

Everything is observed in the run itself:
- `report` is the grader's recorder: each call's time, thread and arguments;
- `save_url` is wrapped (graders.kit.observe.record): which thread ran each download; the
  fixture's records say when the server answered each one, so `done` is judged against the
  count of finished downloads at the moment of each report;
- the HTTP fixture serves the URLs with latencies drawn from the seed, one download much
  slower than the others (never the last in the list), so that there is a long stretch in
  which the caller has nothing to do but report; its latch proves the downloads overlap;
- in the run that judges `done`, every download waits for the first report before it starts:
  a count taken before that report is 0 in every run, however late the threads get to run;
- how the calling thread spent the call (graders.kit.time_split, Linux): how long it ran on
  a CPU, and how long it certainly slept inside calls it made (sleep, Event.wait, join with a
  timeout), never counting time it was queued for a CPU or waited for the GIL between two
  bytecodes. A thread that waits sleeps far longer than it runs, however loaded the machine
  is; a busy waiting one never sleeps by choice. Elsewhere, `time.thread_time()`: the CPU
  time it used;
- `ctx.call` notes the threads still running at the moment download_with_progress returns.

Two of the checks read clocks (the gaps between reports; the time the caller ran and waited); both
leave a wide margin for a loaded machine, and the runs that feed them are built so that a
wrong program misses the bound by far more than that margin. A gap between reports is also
charged only the time the caller was not queued for a CPU (the scheduler's record again): a
machine so loaded that it kept a right program off the CPU for longer than the margin does
not make it fail.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.exit_gate import ExitGate
from graders.kit.feedback import CheckFailed
from graders.kit.http_fixture import HttpFixture
from graders.kit.observe import Call, record
from graders.kit.time_split import TimeSplit, TimeWatch
from graders.tasks.downloader import make_urls, pages, require_files, serve, staggered

# Captured at import: learner code may monkeypatch time or threading while a check runs.
_clock = time.perf_counter
_thread_time = time.thread_time
_current_thread = threading.current_thread
_Lock = threading.Lock
_Event = threading.Event
_open = open
_SCHEDSTAT = "/proc/thread-self/schedstat"

TYPICAL_SECONDS = 1.4  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "Every URL is downloaded with the given save_url(url, path), each in a thread of its "
    "own, all started before waiting for any; the calling thread downloads nothing itself.",
    "R2": "URL number i of the list, in the order given, is saved to out_dir/result_{i}.txt.",
    "R3": "While any download is still running, the thread that called download_with_progress "
    "calls report(done, total) itself (never a download thread), at least every 0.1 s.",
    "R4": "total is len(urls) and done is how many of the download threads have finished at "
    "that moment: right at every report, so it never goes down.",
    "R5": "Between two reports the calling thread waits without using the CPU (sleep, "
    "Event.wait, Queue.get or join with a timeout): no busy waiting.",
    "R6": "Once every download has finished, report(total, total) is called one last time: "
    "once, as the last call, not once per thread.",
    "R7": "download_with_progress returns only when every file is written and every thread "
    "has finished.",
    "R8": "Any number of URLs works, one and none included, and out_dir may be a str or a "
    "pathlib.Path.",
}

REPORT_EVERY = 0.1  # what the task text asks
GAP_LIMIT = 0.25  # what the check allows: REPORT_EVERY plus a margin for a loaded machine
# The slow download: a stretch well over GAP_LIMIT with nothing else finishing. Not a multiple
# of 0.05 s, the wait the task text suggests: a caller that sleeps 0.05 s between looks then
# sees it end 0.02 s before its next look, not just after it (0.05 s more for every check).
# Measured under load (two busy loops and six checking processes on 2 cores, 20 runs each):
# the callers that wait 0.5 s (half_second_waits) or in join() on the slow one
# (report_per_join) left gaps of 0.31 s and more, against GAP_LIMIT's 0.25.
SLOW = 0.33
LAG = 0.1  # a download finished this long before a report must be counted in its `done`
BUSY_SHARE = 0.5  # the caller may run on a CPU at most this share of (running + chosen waits)
BUSY_MIN = 0.1  # a caller running or ready to run for less than this is not busy (Linux)
CPU_SHARE = 0.1  # elsewhere: CPU seconds per second of the call that count as busy waiting ...
CPU_MIN = 0.04  # ... and never less than this (starting threads costs a little)
LATCH_TIMEOUT = 1.5
SLOW_RUN = "slow"  # the Context.once key of slow_run, shared by the checks of R3 to R6
HOLD_TIMEOUT = 0.5  # downloads held for the first report wait at most this long

MAX_REPORTS = 50_000  # a loop that reports without waiting: keep this many, count the rest


# ----------------------------------------------------------------- one observed run


@dataclass
class Report:
    """One call of `report`, as the grader saw it."""

    time: float
    thread: threading.Thread
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    queued: float | None = None  # the reporting thread's seconds ready but not run, so far

    @property
    def pair(self) -> tuple[Any, Any]:
        """(done, total) as passed, positionally or by name."""
        args = list(self.args) + [self.kwargs.get("done"), self.kwargs.get("total")]
        if len(self.args) == 1:
            args = [self.args[0], self.kwargs.get("total")]
        return args[0], args[1]


class ReportRecorder:
    """The `report` the learner's function is given: notes every call, does nothing else."""

    def __init__(self) -> None:
        self._lock = _Lock()
        self.reports: list[Report] = []
        self.dropped = 0
        self.first = _Event()  # set at the first call

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        entry = Report(_clock(), _current_thread(), args, kwargs, queued_time())
        if not self.first.is_set():
            self.first.set()
        with self._lock:
            if len(self.reports) < MAX_REPORTS:
                self.reports.append(entry)
            else:
                self.dropped += 1
                self.reports[-1] = entry  # the last call is always kept


@dataclass
class ProgressRun:
    """One call of download_with_progress, observed."""

    urls: list[str]
    out_dir: Path
    http: HttpFixture
    saves: list[Call]  # the save_url calls, with the thread that made each
    reports: list[Report]
    dropped: int  # reports beyond MAX_REPORTS (only the last one is kept)
    caller: threading.Thread
    start: float
    end: float
    cpu: float  # CPU seconds the calling thread used during the call
    time_split: TimeSplit | None  # how it spent the call, if watched (None: not on Linux)
    queued_at: tuple[float | None, float | None]  # its queued_time() at the call's start, end
    written_at_return: frozenset[str]  # file names in out_dir when the call returned
    in_flight_at_return: int  # requests the fixture was still serving then
    written_after: frozenset[str]  # file names once the stray threads had time to finish
    answered: list[float]  # when the server answered each request, in the fixture's record

    @property
    def total(self) -> int:
        return len(self.urls)

    @property
    def last_download_end(self) -> float:
        """When the server answered the last request (the call's start if none was made)."""
        return max(self.answered, default=self.start)

    def finished_by(self, moment: float) -> int:
        """How many requests the server had answered at `moment`. A download thread ends just
        after its answer (it only writes the file), so no right `done` is ever larger."""
        return sum(1 for end in self.answered if end <= moment)


def held(save: Callable[..., Any], until: threading.Event) -> Callable[..., Any]:
    """`save`, once `until` is set (or HOLD_TIMEOUT has passed): the download thread is alive
    and has fetched nothing meanwhile."""

    def save_url(*args: Any, **kwargs: Any) -> Any:
        until.wait(HOLD_TIMEOUT)
        return save(*args, **kwargs)

    return save_url


def one_slow(urls: Sequence[str], rng: random.Random, slow: float) -> dict[str, float]:
    """Every download answers within 0.02 s but one, which takes `slow` seconds. That one is
    never the last in the list, so waiting on the threads in list order shows it too."""
    slow_index = rng.randrange(len(urls) - 1)
    latency = {u: round(rng.uniform(0.005, 0.02), 3) for u in urls}
    latency[urls[slow_index]] = slow
    return latency


def progress_run(
    ctx: Context,
    urls: Sequence[str],
    *,
    latency: float | dict[str, float],
    latch: bool = False,
    as_path: bool = False,
    watch_time: bool = False,
    hold: bool = False,
    gate: bool = False,
) -> ProgressRun:
    """Call download_with_progress(urls, out_dir, recorder) through ctx.call, with the
    fixture serving the URLs and save_url recorded. out_dir is a str, or a Path if `as_path`.
    `watch_time`: split the calling thread's time during the call (a profile hook on it).
    `hold`: every save_url waits for the first report (HOLD_TIMEOUT at most) before it starts,
    so no download has finished before it (whenever the threads get to run).
    `gate`: each thread the call starts waits at its end until the code joins it or looks at
    it (is_alive): one the code never waits for is alive at the return, every run."""
    mod = ctx.load()
    urls = list(urls)
    folder = ctx.tmp_dir()
    saves = record(mod, "save_url")
    reports = ReportRecorder()
    if hold:
        mod.save_url = held(mod.save_url, reports.first)
    with serve(ctx, urls, latency=latency) as http:
        if latch and urls:
            http.latch(len(urls), timeout=LATCH_TIMEOUT)
        given = folder if as_path else str(folder)
        watch = TimeWatch(exclude=(__file__,)) if watch_time else None
        queued, cpu, start = queued_time(), _thread_time(), _clock()
        exits = ExitGate(ctx.files) if gate else contextlib.nullcontext()
        with watch or contextlib.nullcontext(), exits:
            ctx.call(mod.download_with_progress, list(urls), given, reports)
        end, cpu = _clock(), _thread_time() - cpu
        queued_at = (queued, queued_time())
        at_return, in_flight = _names(folder), http.in_flight
    return ProgressRun(
        urls=urls,
        out_dir=folder,
        http=http,
        saves=saves.calls,
        reports=list(reports.reports),
        dropped=reports.dropped,
        caller=_current_thread(),
        start=start,
        end=end,
        cpu=cpu,
        time_split=watch.split if watch else None,
        queued_at=queued_at,
        written_at_return=at_return,
        in_flight_at_return=in_flight,
        written_after=_names(folder),
        answered=[r.end for r in http.records],
    )


def _schedstat() -> tuple[int, int] | None:
    """The calling thread's (nanoseconds on a CPU, nanoseconds ready but waiting for one),
    from Linux's scheduler statistics; None where they cannot be read."""
    try:
        with _open(_SCHEDSTAT, encoding="ascii") as f:
            on_cpu, queued = f.read().split()[:2]
        return int(on_cpu), int(queued)
    except (OSError, ValueError):
        return None


def queued_time() -> float | None:
    """Seconds the calling thread has spent ready to run but waiting for a free CPU: time a
    loaded machine took from it, not time its code chose to wait; None where unknown."""
    stat = _schedstat()
    return None if stat is None else stat[1] / 1e9


def report_gaps(run: ProgressRun) -> list[tuple[float, float, float]]:
    """(gap, its start, its end) between consecutive moments the caller reported, from the
    call's start to the last download's end. Each gap is less the time the machine kept the
    caller ready but queued for a CPU in it (read at each report and at the call's ends; the
    last gap is charged the queue time up to the call's end, which can only excuse more): a
    wait the learner's code chose counts, one a loaded machine imposed does not."""
    window_end = run.last_download_end
    inside = [r for r in run.reports if r.time < window_end and r.thread is run.caller]
    moments = [(run.start, run.queued_at[0])] + [(r.time, r.queued) for r in inside]
    moments.append((window_end, run.queued_at[1]))
    gaps = []
    for (a, qa), (b, qb) in zip(moments, moments[1:]):
        lost = qb - qa if qa is not None and qb is not None else 0.0
        gaps.append((b - a - max(lost, 0.0), a, b))
    return gaps


def _names(folder: Path) -> frozenset[str]:
    return frozenset(p.name for p in folder.iterdir())


def slow_run(ctx: Context) -> ProgressRun:
    """The run R3, R4, R5 and R6 judge, made once per task run (Context.once): 3 to 5 seeded URLs,
    one of them SLOW seconds long, the others quick; downloads held until the first report
    (R4), the caller's time split (R5). Neither changes what R3 sees: a caller that reports
    while the downloads run has reported before they start, and the split only notes time."""

    def make(rng: random.Random) -> ProgressRun:
        urls = make_urls(rng.randint(3, 5), rng)
        latency = one_slow(urls, rng, SLOW)
        return progress_run(ctx, urls, latency=latency, watch_time=True, hold=True)

    return ctx.once(SLOW_RUN, make)


def shown(report: Report) -> str:
    args = [repr(a) for a in report.args] + [f"{k}={v!r}" for k, v in report.kwargs.items()]
    return f"report({', '.join(args)})"


def since(run: ProgressRun, moment: float) -> str:
    return f"{moment - run.start:.2f} s"


def require_downloads(run: ProgressRun, judged: str, hint: str) -> None:
    """Nothing to judge unless a download ran: a call that downloads nothing meets no sentence."""
    if run.http.records:
        return
    raise CheckFailed(
        f"download_with_progress returned without downloading anything, so {judged}",
        expected=f"save_url(url, path) running for each of the {run.total} URLs, each in a "
        "thread of its own",
        got=f"no request for any of the {run.total} URLs",
        hint=hint,
    )


def require_reports(run: ProgressRun, judged: str, hint: str) -> None:
    """Nothing to judge unless report was called."""
    if run.reports:
        return
    raise CheckFailed(
        f"download_with_progress never called report, so {judged}",
        expected=f"report(done, total) called by the calling thread again and again while "
        f"the {run.total} downloads run, and once at the end",
        got="no call of report",
        hint=hint,
    )


# ----------------------------------------------------------------- the checks


@check("Every download runs in its own thread, all at once", points=2, requires="R1")
def in_flight(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 5), rng)
    run = progress_run(ctx, urls, latency=0.02, latch=True)
    by_caller = [r for r in run.http.records if r.thread_id == run.caller.ident]
    if by_caller:
        raise CheckFailed(
            "download_with_progress downloaded in the thread that called it",
            expected="every download in a thread of its own; the calling thread only starts "
            "them and reports",
            got=f"{by_caller[0].url} was fetched by {run.caller.name}",
            hint="Start a Thread(target=save_url, args=(url, path)) for every URL; do not "
            "call save_url yourself.",
        )
    if len(run.saves) != len(urls):
        raise CheckFailed(
            f"save_url was called {len(run.saves)} times for {len(urls)} URLs",
            expected="the given save_url(url, path) once per URL, each in its own thread",
            got=f"{len(run.saves)} calls of save_url",
            hint="Download with the given function: Thread(target=save_url, args=(url, path)), "
            "not requests.get of your own.",
        )
    counts = Counter(r.url for r in run.http.records)
    missing = [u for u in urls if counts[u] == 0]
    if missing:
        raise CheckFailed(
            f"{len(missing)} of the {len(urls)} URLs were never downloaded",
            expected=f"one download for each of the {len(urls)} URLs",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Start one thread for every URL: `for i, url in enumerate(urls)`.",
        )
    if not run.http.latch_filled:
        raise CheckFailed(
            "Your downloads did not wait for their servers at the same time",
            expected=f"all {len(urls)} requests in flight at once",
            got=f"at most {run.http.peak_in_flight} in flight at once",
            hint="Start every thread first, then watch them; waiting for one thread before "
            "starting the next makes the downloads run one after another.",
        )


@check("result_{i}.txt holds URL i's page", points=2, requires="R2")
def files(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 5), rng)
    run = progress_run(ctx, urls, latency=staggered(urls))
    require_files(pages(ctx, urls), run.out_dir, urls)


@check(
    "The caller reports at least every 0.1 s while downloads run",
    points=3,
    requires="R3",
    shares=SLOW_RUN,
)
def reports(ctx: Context) -> None:
    run = slow_run(ctx)
    others = [r for r in run.reports if r.thread is not run.caller]
    if others:
        raise CheckFailed(
            f"report was called from {others[0].thread.name}, not from the calling thread",
            expected=f"every report(done, total) call made by {run.caller.name}, the thread "
            "that called download_with_progress",
            got=f"{len(others)} of the {len(run.reports)} calls came from other threads",
            hint="Do not call report in the thread function. The caller starts the threads, "
            "then loops: count the finished threads, report, sleep a little.",
        )
    window_end = run.last_download_end
    gaps = report_gaps(run)
    gap, at, until = max(gaps)
    if gap <= GAP_LIMIT:
        # no download ran: there was no stretch to report through, so R3 is not shown
        require_downloads(
            run,
            "there was nothing to report on",
            hint="Start a Thread(target=save_url, args=(url, path)) for every URL, then "
            "report while any of them is alive.",
        )
        return
    during = len(gaps) - 1
    raise CheckFailed(
        f"No report for {until - at:.2f} s while downloads were running",
        expected=f"report(done, total) at least every {REPORT_EVERY:g} s until the last "
        f"download finished ({since(run, window_end)} after the call)",
        got=f"{during} report(s) while downloads ran; none from {since(run, at)} to "
        f"{since(run, until)}",
        hint="Report inside a loop that runs while any thread is alive, and wait only a "
        "little in it (time.sleep(0.05)): join() waits for a whole download.",
    )


@check(
    "done counts the finished downloads, total the URLs", points=3, requires="R4", shares=SLOW_RUN
)
def done_counts(ctx: Context) -> None:
    # Held until the first report: a count made before it (or only once) is 0 in every run.
    run = slow_run(ctx)
    previous: Report | None = None
    for k, rep in enumerate(run.reports):
        done, total = rep.pair
        if type(total) is not int or total != run.total:
            raise CheckFailed(
                f"report was given total={total!r}",
                expected=f"total = len(urls) = {run.total} at every call",
                got=f"call {k + 1}: {shown(rep)}",
                hint="total is the number of URLs: pass len(urls) every time.",
            )
        low = run.finished_by(rep.time - LAG)
        high = run.finished_by(rep.time)
        if type(done) is not int or not low <= done <= high:
            right = f"{low}" if low == high else f"between {low} and {high}"
            raise CheckFailed(
                f"report was given done={done!r} when {high} download(s) had finished",
                expected=f"done = the number of finished download threads: {right} at "
                f"{since(run, rep.time)}",
                got=f"call {k + 1}: {shown(rep)}",
                hint="Count the threads that are no longer alive, each time you report: "
                "sum(not t.is_alive() for t in threads).",
            )
        if previous is not None and done < previous.pair[0]:
            raise CheckFailed(
                "done went down between two reports",
                expected="done never decreases: finished threads stay finished",
                got=f"{shown(previous)} then {shown(rep)}",
                hint="Count the threads that have finished, not the ones still running.",
            )
        previous = rep
    # no download or no report: no `done` was judged, so R4 is not shown
    require_downloads(
        run,
        "no done could count finished downloads",
        hint="Start a Thread(target=save_url, args=(url, path)) for every URL, then count "
        "the finished ones each time you report.",
    )
    require_reports(
        run,
        "no done was given at all",
        hint="In a loop while any thread is alive: report(sum(not t.is_alive() for t in "
        "threads), len(urls)), then sleep a little.",
    )


@check(
    "The caller waits between reports instead of spinning", points=2, requires="R5", shares=SLOW_RUN
)
def no_busy_wait(ctx: Context) -> None:
    run = slow_run(ctx)
    wall = run.end - run.start
    count = len(run.reports) + run.dropped
    split = run.time_split
    if split is not None:
        if not busy(split):
            require_waited(run)
            return
        expected = (
            "the calling thread asleep between reports (sleep, Event.wait, join with a "
            "timeout): it waits far longer than it runs"
        )
        got = (
            f"in {wall:.2f} s it ran {split.on_cpu:.3f} s on a CPU and waited "
            f"{split.chosen_wait:.3f} s of its own accord (the rest it was kept off a CPU by "
            f"the machine), with {count} report(s)"
        )
    else:
        allowed = max(CPU_MIN, CPU_SHARE * wall)
        if run.cpu <= allowed:
            require_waited(run)
            return
        expected = f"almost no CPU while the downloads run: at most {allowed:.2f} s in {wall:.2f} s"
        got = f"{run.cpu:.2f} s of CPU in {wall:.2f} s, with {count} report(s)"
    raise CheckFailed(
        "The calling thread kept a CPU busy while it waited (busy waiting)",
        expected=expected,
        got=got,
        hint="Wait a little in every round of your loop: time.sleep(0.05), or "
        "event.wait(0.05) / t.join(timeout=0.05). Checking is_alive() in a tight loop never "
        "lets the CPU rest.",
    )


def busy(split: TimeSplit) -> bool:
    """The caller ran longer than it chose to wait (and wanted a CPU for BUSY_MIN at least):
    a thread that waits between reports runs for about a millisecond per wait of 0.05 s."""
    running = split.on_cpu > BUSY_SHARE * (split.on_cpu + split.chosen_wait)
    return running and split.runnable > BUSY_MIN


def require_waited(run: ProgressRun) -> None:
    """R5 judges how the caller waits for the downloads: none to judge if none ran. (One
    report after joins is a wait too: R3's business, not R5's.)"""
    require_downloads(
        run,
        "the calling thread had nothing to wait for",
        hint="Start a Thread(target=save_url, args=(url, path)) for every URL, then loop "
        "while any is alive: report, then time.sleep(0.05).",
    )


@check(
    "report(total, total) comes once, last, after every download",
    points=2,
    requires="R6",
    shares=SLOW_RUN,
)
def final_report(ctx: Context) -> None:
    run = slow_run(ctx)
    n = run.total
    if not run.reports or run.reports[-1].pair != (n, n):
        got = shown(run.reports[-1]) if run.reports else "report was never called"
        raise CheckFailed(
            f"The last call was not report({n}, {n})",
            expected=f"report({n}, {n}) as the very last call, when every download is done",
            got=f"the last call was {got}",
            hint="After the loop (and the joins), call report(len(urls), len(urls)) once.",
        )
    last = run.reports[-1]
    if last.time < run.last_download_end:
        raise CheckFailed(
            f"report({n}, {n}) came before every download had finished",
            expected=f"report({n}, {n}) after the last download, which finished "
            f"{since(run, run.last_download_end)} after the call",
            got=f"it came at {since(run, last.time)}",
            hint="Make the last report after the loop, once every thread has finished.",
        )
    # The workshop's `while any(t.is_alive() ...)` loop may count total done inside the loop
    # if the last thread ends between its test and its count: one repeat is allowed for that.
    # Only calls after the last download count: a (total, total) before it is a wrong `done`
    # (R4's business), not a second final report.
    finals = [r for r in run.reports if r.pair == (n, n) and r.time >= run.last_download_end]
    if len(finals) > 2:
        raise CheckFailed(
            f"report({n}, {n}) was called {len(finals)} times",
            expected=f"report({n}, {n}) once, as the last call",
            got=f"{len(finals)} calls of report({n}, {n})",
            hint="Report the end once, after the loop, not once per thread you join.",
        )


GATE_DETAIL = (
    "In this check each download thread keeps running at its very end until your code joins "
    "it or looks at it (is_alive), so a thread you never wait for is still running when "
    "download_with_progress returns (a finished download is not a finished thread)."
)


@check("download_with_progress returns when every thread is done", points=2, requires="R7")
def returns_when_done(ctx: Context) -> None:
    rng = ctx.rng()
    urls = make_urls(rng.randint(3, 5), rng)
    run = progress_run(ctx, urls, latency=one_slow(urls, rng, 0.15), gate=True)
    try:
        ctx.require_joined("download_with_progress(...)")
    except CheckFailed as failed:
        details = (*failed.feedback.details, GATE_DETAIL)
        raise CheckFailed.from_feedback(replace(failed.feedback, details=details)) from None
    later = sorted(run.written_after - run.written_at_return)
    if run.in_flight_at_return or later:
        raise CheckFailed(
            "download_with_progress returned before the downloads finished",
            expected="every file written when it returns",
            got=f"{run.in_flight_at_return} request(s) still in flight at the return; written "
            f"after it: {', '.join(later) or 'none'}",
            hint="Keep reporting until every thread has finished, then join them all.",
        )
    # no download ran: nothing was waited for, so R7 is not shown
    require_downloads(
        run,
        "nothing was waited for",
        hint="Start a Thread(target=save_url, args=(url, path)) for every URL, keep "
        "reporting while any is alive, then join them all.",
    )


# Graded hints for `make hint TASK=progress`: one more each time, never the answer.
HINTS = (
    "Start the threads exactly as in the downloader, but do not join them straight away: a "
    "join() blocks the caller until that download is over, and then nothing can be reported.",
    "Instead, loop as long as any thread is alive. In each round, count the threads that are "
    "no longer alive, pass that count and len(urls) to report, then sleep for a short while "
    "(0.05 s). Without the sleep the loop spins and burns a CPU core.",
    "Only the thread that called your function may call report: the thread function just "
    "downloads. When the loop ends, every thread is finished; join them (it returns at "
    "once) and make the last call, with both numbers equal to the number of URLs.",
    "`done` must be counted afresh in every round and never go down: count the finished "
    "threads (not the running ones), over all the threads, not just the one you wait for.",
)
