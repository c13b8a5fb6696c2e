"""Visible checks for named_workers: every worker says, from its own thread, who it is and what
it fetches; the downloads still overlap and the files are right.

Output is captured per thread (graders.thread_output), and every request the HTTP fixture
served names the thread that made it, so each printed line can be tied to the download it
talks about. The print format is free. How "its name" is found: a worker's *name* is a word
that appears in every line that worker prints and not in every line of any other worker
(`name_words`). URLs, the output folder and result_N.txt file names are removed before words
are compared, so the URL or the file cannot serve as the name. `Thread-0: downloading URL`,
`[worker-A] GET URL` and `worker A fetching URL` all pass; `worker: downloading URL` from
every thread does not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from graders.checks import Context, check
from graders.feedback import CheckFailed
from graders.http_fixture import HttpFixture, RequestRecord
from graders.tasks.downloader import (
    make_urls,
    pages,
    require_all_in_flight,
    require_files,
    serve,
    staggered,
)
from graders.thread_output import Line, ThreadOutput

N_URLS = 5
LATCH_TIMEOUT = 1.0

_URL = re.compile(r"https?://[^\s'\"<>()\[\]{},]+")
_FILE_WORD = re.compile(r"\S*result_\d+\.txt\S*")
_WORD = re.compile(r"[A-Za-z0-9_]+(?:[-.#][A-Za-z0-9_]+)*")
_PRINT_HINT = (
    "Print inside the thread function, the target each thread runs: "
    "print(f'{name}: downloading {url}'), then save_url(url, path), then "
    "print(f'{name}: saved {path}')."
)


@dataclass
class Worker:
    """One thread that downloaded, with what it requested and the lines it printed itself."""

    requests: list[RequestRecord]
    lines: list[Line]

    @property
    def url(self) -> str:
        return self.requests[0].url

    @property
    def label(self) -> str:
        """How messages name it: by what it did (its thread name may differ from its name)."""
        return f"the thread that downloaded {self.url}"

    def printed_before(self) -> list[Line]:
        """Lines printed before its first request reached the server."""
        return [line for line in self.lines if line.time <= self.requests[0].start]

    def printed_after(self) -> list[Line]:
        """Lines printed after its last request was answered."""
        return [line for line in self.lines if line.time >= self.requests[-1].end]


@dataclass
class NamedRun:
    """What one call of download_named did: requests, per-thread output, concurrency."""

    urls: list[str]
    out_dir: Path
    workers: list[Worker]
    main_requests: list[RequestRecord]
    main_lines: list[Line]
    http: HttpFixture  # closed: read latch_filled and peak_in_flight


def run_named(ctx: Context, n: int = N_URLS) -> NamedRun:
    """Call download_named on n URLs with output captured per thread and a latch of n."""
    urls, out_dir = make_urls(n), ctx.tmp_dir()
    mod = ctx.load()
    with serve(ctx, urls, latency=0.01) as http:
        if n:
            http.latch(n, timeout=LATCH_TIMEOUT)
        with ThreadOutput(echo=True) as out:
            mod.download_named(list(urls), str(out_dir))
    main = threading.main_thread()
    printed = out.lines_by_thread()
    records = http.records
    workers = [
        Worker(reqs, _lines_of(printed, ident, name))
        for (ident, name), reqs in requests_by_thread(records).items()
        if ident != main.ident
    ]
    workers.sort(key=lambda w: urls.index(w.url) if w.url in urls else len(urls))
    return NamedRun(
        urls,
        out_dir,
        workers,
        [r for r in records if r.thread_id == main.ident],
        printed.get(main, []),
        http,
    )


def requests_by_thread(
    records: Iterable[RequestRecord],
) -> dict[tuple[int, str], list[RequestRecord]]:
    """Requests grouped by the thread that made them, in start order.

    A thread is known by its ident *and* its name: idents are reused once a thread ends,
    default names ("Thread-7 (fetch)") never are.
    """
    found: dict[tuple[int, str], list[RequestRecord]] = {}
    for record in records:
        found.setdefault((record.thread_id, record.thread_name), []).append(record)
    return found


def _lines_of(printed: dict[threading.Thread, list[Line]], ident: int, name: str) -> list[Line]:
    """What the thread with this ident and name printed (ident alone if it was renamed)."""
    same = [t for t in printed if t.ident == ident and t.name == name]
    same = same or [t for t in printed if t.ident == ident]
    return sorted((line for t in same for line in printed[t]), key=lambda line: line.order)


# ----------------------------------------------------------------- requirements


def require_own_threads(run: NamedRun) -> None:
    """Every download ran in a thread other than the main thread."""
    if not run.main_requests:
        return
    raise CheckFailed(
        "A download ran in the main thread, not in a worker thread",
        expected="every URL downloaded by a thread of its own",
        got=f"the main thread downloaded {run.main_requests[0].url}",
        hint="`Thread(target=fetch(name, url, path))` calls fetch right away, in the main "
        "thread: pass `target=fetch, args=(name, url, path)` and call start().",
    )


def require_workers_print(run: NamedRun) -> None:
    """Every worker thread printed at least one line itself."""
    require_own_threads(run)
    silent = [w for w in run.workers if not w.lines]
    if not silent:
        return
    details = [f"The main thread printed: {quote(line.text)}" for line in run.main_lines[:3]]
    if details:
        details.append("Those lines came from the main thread, not from the workers.")
    raise CheckFailed(
        f"{len(silent)} of your {len(run.workers)} worker threads printed nothing themselves"
        if len(silent) < len(run.workers)
        else f"Your {len(silent)} worker threads printed nothing themselves",
        expected="each worker thread prints a line with its name and its URL",
        got=f"nothing printed by {silent[0].label}",
        details=details,
        hint=_PRINT_HINT,
    )


def require_before_and_after(run: NamedRun) -> None:
    """Each worker printed a line before its download started and one after it finished."""
    for worker in run.workers:
        if not worker.printed_before():
            raise CheckFailed(
                "A worker did not say what it was fetching before it fetched it",
                expected=f"a line printed before the download of {worker.url} starts",
                got=f"{worker.label} printed only afterwards: {quote(worker.lines[0].text)}",
                hint="Print the name and the URL first, then call save_url.",
            )
        if not worker.printed_after():
            raise CheckFailed(
                "A worker did not say when its file was saved",
                expected=f"a line printed once {worker.url} is saved",
                got=f"{worker.label} printed only before the download: "
                f"{quote(worker.lines[-1].text)}",
                hint="After save_url(url, path) returns, print the name again and say it is saved.",
            )


def require_names(run: NamedRun) -> None:
    """Every line of a worker carries a word no other worker's lines all share: its name."""
    require_workers_print(run)
    commons = [common_words([line.text for line in w.lines], run.out_dir) for w in run.workers]
    for worker, common in zip(run.workers, commons):
        if not common:
            raise CheckFailed(
                "Not every line a worker prints carries its name",
                expected="the worker's name in every line it prints",
                got=f"the lines printed by {worker.label} have no word in common (URLs "
                "and file names do not count)",
                details=[quote(line.text) for line in worker.lines[:4]],
                hint="Pass each thread a name and start every line with it: "
                "print(f'{name}: downloading {url}').",
            )
    for worker, common, own in zip(run.workers, commons, name_words(commons)):
        if own:
            continue
        twin = next(w for w, c in zip(run.workers, commons) if w is not worker and c & common)
        raise CheckFailed(
            "Two workers print the same name, so their lines cannot tell them apart",
            expected="a different name for every thread",
            got=f"{worker.label} and the one that downloaded {twin.url} both call "
            f"themselves: {', '.join(sorted(common))}",
            details=[quote(worker.lines[0].text), quote(twin.lines[0].text)],
            hint="Give each thread its own name, for example "
            "args=(f'Thread-{i}', url, path) in the loop over enumerate(urls).",
        )


def require_right_urls(run: NamedRun) -> None:
    """Each worker announces the URL it then fetches, and mentions no other URL."""
    require_workers_print(run)
    for worker in run.workers:
        announced = urls_in(worker.printed_before())
        others = sorted(urls_in(worker.lines) - {worker.url})
        if worker.url in announced and not others:
            continue
        line = next((ln for ln in worker.lines if others[0] in ln.text), None) if others else None
        line = line or worker.lines[0]
        said = f"it named {others[0]}" if others else "its lines before the download name no URL"
        raise CheckFailed(
            "A worker says it fetches a different URL than the one it downloads",
            expected=f"{worker.label} says it fetches that URL",
            got=f"{said}: {quote(line.text)}",
            hint="Print the url argument the thread function was given, the same one it "
            "passes to save_url, not an entry from a list or another variable.",
        )


def common_words(lines: Sequence[str], out_dir: str | Path) -> set[str]:
    """Words in every one of `lines`, once URLs, paths and result file names are taken out."""
    sets = [words(line, out_dir) for line in lines]
    return set.intersection(*sets) if sets else set()


def name_words(commons: Sequence[set[str]]) -> list[set[str]]:
    """Per worker, the words common to all its lines that are not common to another worker's.

    Empty for a worker means its lines carry no name of its own.
    """
    return [
        common - set().union(*(other for j, other in enumerate(commons) if j != i))
        for i, common in enumerate(commons)
    ]


def words(text: str, out_dir: str | Path) -> set[str]:
    """The words of a printed line, URLs, the output folder and result_N.txt names removed."""
    text = _URL.sub(" ", text.replace(str(out_dir), " "))
    return set(_WORD.findall(_FILE_WORD.sub(" ", text)))


def urls_in(lines: Iterable[Line]) -> set[str]:
    """URLs mentioned in the lines (with trailing punctuation taken off)."""
    return {url.rstrip(".,;:!?") for line in lines for url in _URL.findall(line.text)}


def with_hint(failed: CheckFailed, hint: str) -> CheckFailed:
    """The same failure with another hint (a shared requirement, told for this task)."""
    return CheckFailed.from_feedback(replace(failed.feedback, hint=hint))


def quote(text: str, limit: int = 90) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ----------------------------------------------------------------- checks


@check(
    "Each worker prints from its own thread: before it downloads, and once it has saved", points=3
)
def worker_prints(ctx: Context) -> None:
    run = run_named(ctx)
    require_workers_print(run)
    require_before_and_after(run)


@check("Every line a worker prints carries its name, and every worker has its own", points=3)
def names(ctx: Context) -> None:
    require_names(run_named(ctx))


@check("Each worker says which URL it fetches: the one it really downloads", points=2)
def right_url(ctx: Context) -> None:
    require_right_urls(run_named(ctx))


@check("All downloads are in flight at the same time", points=2)
def in_flight(ctx: Context) -> None:
    run = run_named(ctx)
    require_own_threads(run)
    require_all_in_flight(run.http, run.urls)


@check("result_{i}.txt holds URL i's page", points=2)
def files(ctx: Context) -> None:
    urls = make_urls(N_URLS)
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls, latency=staggered(urls)):
        mod.download_named(list(urls), str(out_dir))
    require_files(pages(ctx, urls), out_dir, urls)


# Graded hints for `make hint TASK=named_workers`: one more each time, never the answer.
HINTS = (
    "Start from download_threaded in the downloader: one thread per URL, all started, then all "
    "joined. Only the target changes: each thread runs fetch(name, url, path).",
    "fetch runs inside the thread, so what it prints is said by that thread: print the name "
    "and the URL, call save_url(url, path), then print the name again. A print in "
    "download_named is said by the main thread, not by a worker.",
    "Make each name from the loop index: in `for i, url in enumerate(urls)`, pass "
    "args=(f'Thread-{i}', url, path); start every line fetch prints with {name}.",
)
