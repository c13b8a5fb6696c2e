"""Visible checks for named_workers: every worker says, from its own thread, who it is and what
it fetches; the downloads still overlap, the files are right, and the call waits for them.

Output is captured per thread (graders.kit.thread_output), every request the HTTP fixture served
names the thread that made it, and the learner's `fetch` and `save_url` are recorded
(graders.kit.observe), so each printed line is tied to the thread that printed it, to the download
it talks about and to the `name` argument that thread's fetch was given. The print format is
free: a line carries a name when the name is in it as a word of its own, once URLs, the output
folder and result_N.txt file names are taken out (`has_name`).

Inputs come from the seed (`ctx.rng`): 6 to 8 URLs (more in the hidden checks) in an unsorted
order, always with two "twins" that share their endpoint, length and last characters, so a
name made from a piece of the URL is never unique; page bodies of seeded lengths.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed
from graders.kit.http_fixture import HttpFixture, RequestRecord
from graders.kit.observe import Call, CallRecorder, record
from graders.kit.thread_output import Line, ThreadOutput
from graders.learner.pictures.downloads import learner_urls
from graders.learner.pictures.httpbin_like import wait_for
from graders.tasks.downloader import (
    make_urls,
    pages,
    require_all_in_flight,
    require_files,
    serve,
    staggered,
)

# The task text, sentence by sentence (numbered as in the stub's docstring).
TYPICAL_SECONDS = 0.55  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "fetch prints, from inside its thread and before it downloads, a line with the url it "
    "was given, and names no other URL",
    "R2": "fetch calls save_url(url, path) and, once save_url has returned, prints another line "
    "from inside its thread",
    "R3": "every line fetch prints holds `name`, the argument it was given, as a word of its own",
    "R4": "download_named runs one thread per URL, each running fetch(name, url, path) for that "
    "one URL",
    "R5": "URL i is saved to out_dir/result_{i}.txt, out_dir a str or a pathlib.Path",
    "R6": "every thread is given a different name",
    "R7": "every thread is started before any is joined: all the downloads are in flight at once",
    "R8": "download_named returns only once every thread it started has finished",
}

N_URLS = (6, 8)  # seeded count; at least 6, so a fixed list of five names always repeats one
LATCH_TIMEOUT = 2.5  # only for waits the wait-for graph cannot see (see http_fixture, quiet)
GATE_TIMEOUT = 1.0  # at most what a worker never joined by anyone waits in the `joined` check
WORKSHOP_SCALE = 0.05  # the workshop URLs' real waits times this: delay/1 65 ms, the others 15 ms

_URL = re.compile(r"https?://[^\s'\"<>()\[\]{},]+")
_FILE_WORD = re.compile(r"\S*result_\d+\.txt\S*")
_WORD = re.compile(r"[A-Za-z0-9_]+(?:[-.#][A-Za-z0-9_]+)*")
_WORD_CHAR = "A-Za-z0-9_-"
_PRINT_HINT = (
    "Print inside the thread function, the target each thread runs: "
    "print(f'{name}: downloading {url}'), then save_url(url, path), then "
    "print(f'{name}: saved {path}')."
)


def _fetch_signature(name: object, url: object, path: object) -> None:
    """The stub's fetch(name, url, path): what a recorded call's arguments are bound to."""


_FETCH = inspect.signature(_fetch_signature)


# ----------------------------------------------------------------- inputs


def seeded_urls(ctx: Context, n: int, label: str = "") -> list[str]:
    """`n` fixture URLs from the seed (make_urls), in an unsorted order, two of them twins.

    The twin of a URL has the same endpoint, the same length and the same last characters
    (only the first digit of its number differs), so names made from url[-1], the endpoint or
    the length of the URL repeat in every run, not only for unlucky seeds.
    """
    rng = ctx.rng(f"urls{label}")
    if n < 2:
        return make_urls(n, rng)
    urls = make_urls(n - 1, rng)
    base, token = urls[rng.randrange(len(urls))].rsplit("/", 1)
    twin = next(
        f"{base}/{digit}{token[1:]}"
        for digit in rng.sample("123456789", 9)
        if f"{base}/{digit}{token[1:]}" not in urls
    )
    urls.insert(rng.randrange(n), twin)
    while n > 2 and (urls == sorted(urls) or urls == sorted(urls, reverse=True)):
        rng.shuffle(urls)
    return urls


def url_count(ctx: Context, low: int = N_URLS[0], high: int = N_URLS[1]) -> int:
    return ctx.rng("n").randint(low, high)


# ----------------------------------------------------------------- one observed run


@dataclass
class Worker:
    """One thread that downloaded: its requests, its own lines, its fetch and save_url calls."""

    requests: list[RequestRecord]
    lines: list[Line]
    fetches: list[Call] = field(default_factory=list)
    saves: list[Call] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.requests[0].url

    @property
    def urls(self) -> list[str]:
        """The URLs it downloaded, in the order it first requested them."""
        return list(dict.fromkeys(r.url for r in self.requests))

    @property
    def label(self) -> str:
        """How messages name it: by what it did (its thread name may differ from its name)."""
        return f"the thread that downloaded {self.url}"

    @property
    def names(self) -> list[str]:
        """The `name` arguments its fetch calls were given (empty if it never ran fetch)."""
        found = (fetch_args(call) for call in self.fetches)
        return list(dict.fromkeys(str(args[0]) for args in found if args is not None))

    def printed_before(self, url: str) -> list[Line]:
        """Lines printed before its first request for `url` reached the server."""
        start = min(r.start for r in self.requests if r.url == url)
        return [line for line in self.lines if line.time <= start]

    def printed_after_saving(self) -> list[Line]:
        """Lines printed once its last save_url call returned (its last request, without one)."""
        ends = [c.end for c in self.saves if c.end is not None]
        done = max([self.requests[-1].end, *ends])
        return [line for line in self.lines if line.time >= done]


@dataclass
class NamedRun:
    """What one call of download_named did: requests, per-thread output, fetch calls."""

    urls: list[str]
    out_dir: Path
    workers: list[Worker]
    main_requests: list[RequestRecord]
    main_lines: list[Line]
    fetches: list[Call]  # every recorded fetch call, in any thread
    http: HttpFixture  # closed: read latch_filled and peak_in_flight


def run_named(ctx: Context, n: int | None = None) -> NamedRun:
    """Call download_named on n seeded URLs (6 to 8 by default), output captured per thread,
    fetch and save_url recorded, behind a latch of n; its threads settle inside the capture."""
    n = url_count(ctx) if n is None else n
    urls, out_dir = seeded_urls(ctx, n), ctx.tmp_dir()
    mod = ctx.load()
    fetches, saves = _recorder(mod, "fetch"), _recorder(mod, "save_url")
    with ThreadOutput(echo=True) as out, serve(ctx, urls, latency=0.01) as http:
        if n:
            http.latch(n, timeout=LATCH_TIMEOUT)
        mod.download_named(list(urls), str(out_dir))
    main = threading.main_thread()
    printed = out.lines_by_thread()
    fetch_calls = fetches.calls if fetches else []
    save_calls = saves.calls if saves else []
    known = set(printed) | {c.thread for c in fetch_calls + save_calls}
    workers = []
    for (ident, name), reqs in requests_by_thread(http.records).items():
        if ident == main.ident:
            continue
        threads = _threads_of(known, ident, name)
        workers.append(
            Worker(
                reqs,
                sorted((ln for t in threads for ln in printed.get(t, [])), key=lambda x: x.order),
                [c for c in fetch_calls if c.thread in threads],
                [c for c in save_calls if c.thread in threads],
            )
        )
    workers.sort(key=lambda w: urls.index(w.url) if w.url in urls else len(urls))
    return NamedRun(
        urls,
        out_dir,
        workers,
        [r for r in http.records if r.thread_id == main.ident],
        printed.get(main, []),
        fetch_calls,
        http,
    )


def _recorder(mod: ModuleType, name: str) -> CallRecorder | None:
    """Record calls of the module's function `name`, if it has one."""
    return record(mod, name) if callable(getattr(mod, name, None)) else None


def requests_by_thread(
    records: Iterable[RequestRecord],
) -> dict[tuple[int, str], list[RequestRecord]]:
    """Requests grouped by the thread that made them, in start order.

    A thread is known by its ident *and* its name: idents are reused once a thread ends,
    default names ("Thread-7 (fetch)") never are.
    """
    found: dict[tuple[int, str], list[RequestRecord]] = {}
    for record_ in records:
        found.setdefault((record_.thread_id, record_.thread_name), []).append(record_)
    return found


def _threads_of(known: Iterable[threading.Thread], ident: int, name: str) -> list[threading.Thread]:
    """The thread objects with this ident and name (ident alone if it was renamed)."""
    known = list(known)
    same = [t for t in known if t.ident == ident and t.name == name]
    return same or [t for t in known if t.ident == ident]


def fetch_args(call: Call) -> tuple[object, object, object] | None:
    """(name, url, path) of a recorded fetch call; None if it was not called that way."""
    try:
        bound = _FETCH.bind(*call.args, **call.kwargs)
    except TypeError:
        return None
    return bound.arguments["name"], bound.arguments["url"], bound.arguments["path"]


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
    """Every worker thread printed at least one line itself (and there were worker threads:
    no thread that ran means no worker printed anything)."""
    require_own_threads(run)
    if run.urls and not run.workers:
        raise CheckFailed(
            "download_named returned without any worker thread downloading anything",
            expected=f"{len(run.urls)} worker threads, each printing a line with its name and "
            "its URL, saving it, then printing again",
            got="no thread made a request, and so no worker printed anything"
            + (f"; fetch was called {len(run.fetches)} time(s)" if run.fetches else ""),
            details=_main_lines(run),
            hint="Start one thread per URL with Thread(target=fetch, args=(name, url, path)), "
            "and write fetch: print, save_url(url, path), print.",
        )
    silent = [w for w in run.workers if not w.lines]
    if not silent:
        return
    raise CheckFailed(
        f"{len(silent)} of your {len(run.workers)} worker threads printed nothing themselves"
        if len(silent) < len(run.workers)
        else f"Your {len(silent)} worker threads printed nothing themselves",
        expected="each worker thread prints a line with its name and its URL",
        got=f"nothing printed by {silent[0].label}",
        details=_main_lines(run),
        hint=_PRINT_HINT,
    )


def _main_lines(run: NamedRun) -> list[str]:
    details = [f"The main thread printed: {quote(line.text)}" for line in run.main_lines[:3]]
    if details:
        details.append("Those lines came from the main thread, not from the workers.")
    return details


def require_before_and_after(run: NamedRun) -> None:
    """Each worker printed a line before its download started and one after save_url returned."""
    require_workers_print(run)
    for worker in run.workers:
        if not worker.printed_before(worker.url):
            raise CheckFailed(
                "A worker did not say what it was fetching before it fetched it",
                expected=f"a line printed by that thread before the download of {worker.url} "
                "starts",
                got=f"{worker.label} printed only afterwards: {quote(worker.lines[0].text)}",
                details=_main_lines(run),
                hint="In fetch, print the name and the URL first, then call save_url.",
            )
        if not worker.printed_after_saving():
            raise CheckFailed(
                "A worker did not say when its file was saved",
                expected=f"a line printed by that thread once save_url has saved {worker.url}",
                got=f"{worker.label} printed nothing after save_url returned; its last line: "
                f"{quote(worker.lines[-1].text)}",
                details=_main_lines(run),
                hint="After save_url(url, path) returns, print the name again and say it is "
                "saved, in fetch itself.",
            )


def require_names(run: NamedRun) -> None:
    """Every line a worker prints holds the name its fetch was given, and no two share one.

    A worker that never ran fetch is held to the free rule instead: a word in all its lines,
    and no other worker's (`name_words`). With no fetch call and no line printed at all, no
    name was given or printed: that fails too.
    """
    if run.urls and not run.fetches and not any(w.lines for w in run.workers):
        raise CheckFailed(
            "download_named returned without running fetch: no worker was given a name",
            expected="one thread per URL running fetch(name, url, path), each with its own name, "
            "printing that name in every line",
            got="fetch was never called and no worker thread printed a line",
            details=_main_lines(run),
            hint="In the loop over enumerate(urls), start Thread(target=fetch, "
            "args=(f'Thread-{i}', url, path)); in fetch, print(f'{name}: downloading {url}').",
        )
    for worker in run.workers:
        if worker.lines:
            _require_own_name(run, worker)
    given = [(w, name) for w in run.workers for name in w.names]
    for i, (worker, name) in enumerate(given):
        twin = next((w for w, other in given[:i] if other == name and w is not worker), None)
        if twin is not None:
            raise _same_name(worker, twin, name)
    unnamed = [w for w in run.workers if w.lines and not w.names]
    commons = [common_words([line.text for line in w.lines], run.out_dir) for w in unnamed]
    for worker, common, own in zip(unnamed, commons, name_words(commons)):
        if not own:
            twin = next(w for w, c in zip(unnamed, commons) if w is not worker and c & common)
            raise _same_name(worker, twin, ", ".join(sorted(common)))


def _require_own_name(run: NamedRun, worker: Worker) -> None:
    """Every line of this worker carries its name: the one fetch was given, if it ran fetch."""
    names = worker.names
    if names:
        line = next(
            (
                ln
                for ln in worker.lines
                if not any(has_name(n, ln.text, run.out_dir) for n in names)
            ),
            None,
        )
        if line is None:
            return
        raise CheckFailed(
            "A line a worker printed does not hold the name its fetch was given",
            expected=f"{names[0]!r}, the name argument, in every line {worker.label} prints",
            got=quote(line.text),
            hint="Print the `name` parameter of fetch in every line, as in "
            "print(f'{name}: downloading {url}'), not another thread's name or "
            "threading.current_thread().name.",
        )
    if common_words([line.text for line in worker.lines], run.out_dir):
        return
    raise CheckFailed(
        "Not every line a worker prints carries its name",
        expected="the worker's name in every line it prints",
        got=f"the lines printed by {worker.label} have no word in common (URLs "
        "and file names do not count)",
        details=[quote(line.text) for line in worker.lines[:4]],
        hint="Pass each thread a name and start every line with it: "
        "print(f'{name}: downloading {url}').",
    )


def _same_name(worker: Worker, twin: Worker, name: str) -> CheckFailed:
    return CheckFailed(
        "Two workers print the same name, so their lines cannot tell them apart",
        expected="a different name for every thread",
        got=f"{worker.label} and the one that downloaded {twin.url} both call themselves {name}",
        details=[quote(w.lines[0].text) for w in (worker, twin) if w.lines],
        hint="Give each thread its own name, for example args=(f'Thread-{i}', url, path) in "
        "the loop over enumerate(urls); a piece of the URL is not always different.",
    )


def require_right_urls(run: NamedRun) -> None:
    """Each worker announces every URL it fetches before fetching it, and mentions no other."""
    require_workers_print(run)
    for worker in run.workers:
        others = sorted(urls_in(worker.lines) - set(worker.urls))
        silent = next((u for u in worker.urls if u not in urls_in(worker.printed_before(u))), "")
        if not others and not silent:
            continue
        line = next((ln for ln in worker.lines if others[0] in ln.text), None) if others else None
        line = line or worker.lines[0]
        said = f"it named {others[0]}" if others else "its lines before the download name no URL"
        raise CheckFailed(
            "A worker says it fetches a different URL than the one it downloads",
            expected=f"{worker.label} says it fetches that URL, before it does",
            got=f"{said}: {quote(line.text)}",
            hint="Print the url parameter of fetch, the same one it passes to save_url, not an "
            "entry from a list or a variable of download_named.",
        )


def require_one_thread_per_url(run: NamedRun) -> None:
    """Every URL downloaded by a thread of its own that downloads nothing else, running fetch."""
    require_own_threads(run)
    owners: dict[str, list[Worker]] = {}
    for worker in run.workers:
        for url in worker.urls:
            owners.setdefault(url, []).append(worker)
    missing = [u for u in run.urls if u not in owners]
    if missing:
        raise CheckFailed(
            f"{len(missing)} of the {len(run.urls)} URLs were never downloaded",
            expected="one thread for each URL",
            got=f"never requested: {', '.join(missing[:3])}",
            hint="Start one thread per URL: `for i, url in enumerate(urls)`, each thread with "
            "args=(name, url, path) of that iteration.",
        )
    for worker in run.workers:
        if len(worker.urls) > 1:
            raise CheckFailed(
                f"One thread downloaded {len(worker.urls)} URLs",
                expected="one thread per URL, each downloading its own URL only",
                got=f"one thread downloaded {', '.join(worker.urls[:3])}",
                hint="Create a Thread for every URL, each running fetch for that URL alone.",
            )
    shared = next((u for u, ws in owners.items() if len(ws) > 1), None)
    if shared is not None:
        raise CheckFailed(
            "Several threads downloaded the same URL",
            expected="each URL downloaded by one thread",
            got=f"{len(owners[shared])} threads downloaded {shared}",
            hint="Pass each thread the url of its own loop iteration in args; a lambda reads "
            "the loop variable when the thread runs, by which time the loop has moved on.",
        )
    _require_fetch_ran(run)


def _require_fetch_ran(run: NamedRun) -> None:
    """Each worker ran fetch(name, url, path) with the URL it downloaded."""
    for worker in run.workers:
        args = [fetch_args(c) for c in worker.fetches]
        if not args:
            raise CheckFailed(
                "A worker thread downloaded without running fetch",
                expected="every thread runs fetch(name, url, path), the given thread function",
                got=f"{worker.label} never called fetch",
                hint="Pass fetch itself as the thread's target: Thread(target=fetch, "
                "args=(name, url, path)); write the printing and the saving in fetch.",
            )
        urls = [a[1] for a in args if a is not None]
        if worker.url not in urls:
            shown = f"with url={urls[0]!r}" if urls else "not as fetch(name, url, path)"
            raise CheckFailed(
                "A worker ran fetch with other arguments than the URL it downloaded",
                expected=f"{worker.label} runs fetch(name, url, path) with that url",
                got=f"it called fetch {shown}",
                hint="Keep fetch's parameters as given, fetch(name, url, path), and pass each "
                "thread args=(name, url, path).",
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


def _strip(text: str, out_dir: str | Path) -> str:
    """A printed line without URLs, the output folder and result_N.txt names."""
    return _FILE_WORD.sub(" ", _URL.sub(" ", text.replace(str(out_dir), " ")))


def words(text: str, out_dir: str | Path) -> set[str]:
    """The words of a printed line, URLs, the output folder and result_N.txt names removed."""
    return set(_WORD.findall(_strip(text, out_dir)))


def has_name(name: str, text: str, out_dir: str | Path) -> bool:
    """`name` is in the line as a word of its own (not inside a longer word, URL or file name)."""
    if not name.strip():
        return False
    pattern = rf"(?<![{_WORD_CHAR}]){re.escape(name)}(?![{_WORD_CHAR}])"
    return re.search(pattern, _strip(text, out_dir)) is not None


def urls_in(lines: Iterable[Line]) -> set[str]:
    """URLs mentioned in the lines (with trailing punctuation taken off)."""
    return {url.rstrip(".,;:!?") for line in lines for url in _URL.findall(line.text)}


def with_hint(failed: CheckFailed, hint: str) -> CheckFailed:
    """The same failure with another hint (a shared requirement, told for this task)."""
    return CheckFailed.from_feedback(replace(failed.feedback, hint=hint))


def quote(text: str, limit: int = 90) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ----------------------------------------------------------------- the join gate


class JoinGate:
    """Holds each worker's save_url until some thread join()s that worker or the call returns.

    This makes "returned before its threads finished" an observation, not a race: a worker the
    learner's function never joins is still held when the function returns, whichever worker
    it is and however the threads are scheduled. Correct code is held only until it joins each
    worker (the downloads then run one after another, which this check does not mind); a worker
    waited for some other way (Event, polling) goes on after GATE_TIMEOUT.
    """

    def __init__(self, mod: ModuleType, timeout: float = GATE_TIMEOUT) -> None:
        self._mod = mod
        self._timeout = timeout
        self._cond = threading.Condition()
        self._joined: set[threading.Thread] = set()
        self._open = False
        self._join = threading.Thread.join

    def __enter__(self) -> JoinGate:
        gate, join = self, self._join

        def noted_join(thread: threading.Thread, timeout: float | None = None) -> None:
            with gate._cond:
                gate._joined.add(thread)
                gate._cond.notify_all()
            join(thread, timeout)

        save_url = getattr(self._mod, "save_url", None)
        if callable(save_url):

            def held_save_url(*args: Any, **kwargs: Any) -> Any:
                gate._hold()
                return save_url(*args, **kwargs)

            self._mod.save_url = held_save_url
        threading.Thread.join = noted_join  # type: ignore[method-assign]
        return self

    def _hold(self) -> None:
        me = threading.current_thread()
        if me is threading.main_thread():
            return
        with self._cond:
            self._cond.wait_for(lambda: self._open or me in self._joined, timeout=self._timeout)

    def __exit__(self, *exc: object) -> None:
        threading.Thread.join = self._join  # type: ignore[method-assign]
        with self._cond:
            self._open = True
            self._cond.notify_all()


@contextmanager
def in_folder(path: Path) -> Iterator[None]:
    """Run the block with `path` as the current folder (as `python named_workers.py` would)."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


# ----------------------------------------------------------------- checks


@check(
    "Each worker prints from its own thread: before it downloads, and once save_url returned",
    points=3,
    requires=("R1", "R2"),
)
def worker_prints(ctx: Context) -> None:
    require_before_and_after(run_named(ctx))


@check(
    "Each worker says which URL it fetches, before fetching it: the one it really downloads",
    points=2,
    requires="R1",
)
def right_url(ctx: Context) -> None:
    require_right_urls(run_named(ctx))


@check(
    "Every line a worker prints holds the name its fetch was given; every worker has its own",
    points=3,
    requires=("R3", "R6"),
)
def names(ctx: Context) -> None:
    require_names(run_named(ctx))


@check("One thread per URL, each running fetch(name, url, path) for it", points=2, requires="R4")
def own_threads(ctx: Context) -> None:
    require_one_thread_per_url(run_named(ctx))


@check("All downloads are in flight at the same time", points=2, requires=("R4", "R7"))
def in_flight(ctx: Context) -> None:
    run = run_named(ctx)
    require_own_threads(run)
    require_all_in_flight(run.http, run.urls)


@check("result_{i}.txt holds URL i's page, whatever order they finish in", points=2, requires="R5")
def files(ctx: Context) -> None:
    urls = seeded_urls(ctx, url_count(ctx))
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls, latency=staggered(urls, step=0.02)):
        mod.download_named(list(urls), str(out_dir))
    require_files(pages(ctx, urls), out_dir, urls)


@check("download_named returns only once every thread has finished", points=2, requires="R8")
def joined(ctx: Context) -> None:
    urls = seeded_urls(ctx, url_count(ctx))
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    with serve(ctx, urls) as http, JoinGate(mod):
        ctx.call(mod.download_named, list(urls), str(out_dir))
    ctx.require_joined(
        "download_named(urls, out_dir)",
        hint="Keep every Thread in a list; after starting them all, join() every one of them, "
        "not only the last: threads finish in any order.",
    )
    # Read once the threads have settled: a worker held by the gate downloads after the return.
    if not http.records:
        raise CheckFailed(
            "download_named returned without downloading anything: no thread did any work",
            expected=f"{len(urls)} threads, each downloading its URL, all finished when "
            "download_named returns",
            got="no request reached the server, during the call or after it",
            hint="Start one thread per URL running fetch(name, url, path), keep them in a list, "
            "and join() every one of them before returning.",
        )


@check("download_named(URLS, '.') as the file's __main__ calls it", points=1, requires="R5")
def workshop(ctx: Context) -> None:
    mod, out_dir = ctx.load(), ctx.tmp_dir()
    urls = learner_urls(mod)
    latency = {u: wait_for(u, scale=WORKSHOP_SCALE) for u in urls}
    with in_folder(out_dir), serve(ctx, urls, latency=latency) as http:
        http.latch(len(urls), timeout=LATCH_TIMEOUT)
        mod.download_named(list(urls), ".")
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
