"""The wait-for graph's findings, told in the learner's terms.

Threads are named as threading names them ("Thread-2 (increment)", "the main thread"); locks by
the name the learner's code gives them (a module global, an attribute, a local of the function
that made them, or the name assigned on the line that made them), else by where they were made.
Every line number points into the learner's file.
"""

from __future__ import annotations

import ast
import linecache
import queue
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from graders.kit.feedback import CheckFailed, Feedback, Location
from graders.kit.frames import current_frames
from graders.kit.waitfor.graph import Graph, Order, Stuck, Wait
from graders.kit.waitfor.tracked import Site, ThreadState, TrackedLock, line_of

_enumerate = threading.enumerate  # captured: the learner's code may replace threading's functions
_main_thread = threading.main_thread
_is_alive = threading.Thread.is_alive  # never a learner override, from any thread
_SYNC_TYPES = (threading.Condition, threading.Event, threading.Semaphore, threading.Barrier)
_INTERNALS = ("_lock", "mutex", "_cond", "not_empty", "not_full", "all_tasks_done")
_MAX_ITEMS = 200  # entries of one namespace or list searched for a lock's name

HINT_SKIPPED_RELEASE = (
    "Every path from acquire() must reach release(): a `continue`, `break` or `return` between "
    "them (or an exception) skips it, and the next acquire() waits forever. A `with lock:` "
    "block releases on every path."
)
HINT_TAKEN_TWICE = (
    "A Lock cannot be taken twice, not even by the thread that holds it: do not call code that "
    "takes the lock while you hold it (or make it a threading.RLock)."
)
HINT_JOIN_CIRCLE = (
    "Only the thread that started a worker should join it: a thread that joins the main "
    "thread, or a thread that waits for it, waits for itself."
)
HINT_LOCK_AND_JOIN = (
    "A thread that holds a lock must not wait (join) for a thread that needs that lock: "
    "release the lock first."
)
HINT_FINISHED_HOLDING = (
    "Release the lock on every path before the thread's function ends: a `return`, "
    "`continue`, `break` or an exception between acquire() and release() skips it. A "
    "`with lock:` block releases on every path."
)
HINT_NOBODY_WAKES = (
    "Every wait needs another thread that will end it later (put() for get(), set() for "
    "wait(), notify() for a Condition): check that such a thread is started and reaches that "
    "call on every path (one stop signal per worker, for example)."
)


def explain(graph: Graph, stuck: Stuck) -> Feedback:
    """The learner-facing failure for threads the graph proved stuck."""
    return _Story(graph, stuck.waits, stuck.alive).tell(stuck).feedback


def plain_verdict(stuck: Stuck) -> Feedback:
    """The verdict without the story (should telling it fail): the stuck threads' names."""
    names = sorted("the main thread" if t is _main_thread() else t.name for t in stuck.threads)
    return Feedback(
        "Your threads are stuck: each waits for something only another stuck thread can give",
        got="stuck: " + ", ".join(names[:6]),
        hint=HINT_NOBODY_WAKES,
        kind="deadlock",
    )


def inversion_failure(graph: Graph, pair: tuple[Order, Order]) -> CheckFailed:
    """Two threads took the same two locks in opposite orders (the run did not hang)."""
    first, second = pair
    story = _Story(graph, {}, set())
    a, b = story.name(first.outer), story.name(first.inner)
    got = (
        f"{story.who(first.thread)} took {a} ({story.at(first.outer_site)}) and then, still "
        f"holding it, {b} ({story.at(first.inner_site)}); {story.who(second.thread)} took {b} "
        f"({story.at(second.outer_site)}) and then, still holding it, {a} "
        f"({story.at(second.inner_site)})"
    )
    return CheckFailed(
        f"Two threads take {a} and {b} in opposite orders: they can deadlock",
        expected="every thread that holds two locks at once takes them in the same order",
        got=got,
        location=story.spot(second.inner_site),
        details=[
            "This run finished by luck: had each thread taken its first lock at the same "
            "moment, each would wait for the other's lock forever."
        ],
        hint=f"Take the locks in one fixed order in every thread (for example always {a} "
        f"before {b}), or hold only one lock at a time.",
        kind="deadlock",
    )


def waits_now(graph: Graph) -> list[str]:
    """The tracked waits of this moment, for a check that ran out of time: each waiting
    thread, what it waits for, and where a running thread it waits for is busy."""
    waits = graph.waiting(timeout=0.2)[1]
    alive = {t for t in _enumerate() if _is_alive(t)}
    story = _Story(graph, waits, alive)
    lines = []
    for thread in story._ordered(set(waits), graph.checker)[:3]:
        text = _cap(story._step(thread, first=True))
        target = story._next(thread)
        if target is not None and target not in waits and target in alive:
            text += f"; {story.who(target)} is not waiting on anything the checker can see"
            spot = _running_at(graph, target)
            if spot:
                text += f": it is at {spot} (a loop or a sleep that never ends?)"
        lines.append(text)
    return lines


def _running_at(graph: Graph, thread: threading.Thread) -> str:
    """The learner's line a running thread is at now, or ''."""
    frame = current_frames().get(thread.ident or -1)
    site = graph.site(frame)
    return _Story.where(site) if site[0] is not None else ""


class _Story:
    """Names and sentences for one report."""

    def __init__(
        self, graph: Graph, waits: dict[threading.Thread, Wait], alive: set[threading.Thread]
    ) -> None:
        self.graph = graph
        self.waits = waits
        self.alive = alive
        self._named: dict[int, str] = {}
        self._file_shown = False

    # ------------------------------------------------------------------ the verdicts

    def tell(self, stuck: Stuck) -> CheckFailed:
        order = self._ordered(stuck.threads, stuck.checker)
        found = self._circle(order)
        if found is not None:
            prefix, circle = found
            if len(circle) == 1:
                failure = self._self_wait(prefix, circle[0])
            else:
                failure = self._deadlock(prefix, circle)
        else:
            chain = self._chain(order[0])
            wait = self.waits[chain[-1]]
            holder = self._holder(wait)
            if holder is not None and holder not in self.alive:
                failure = self._finished_holding(chain, holder)
            else:
                failure = self._nobody_wakes(order)
        seconds = f"{stuck.seconds:.2f}".rstrip("0").rstrip(".")
        note = f"Stopped {seconds} s into the check: none of these waits could ever end."
        feedback = failure.feedback
        return CheckFailed.from_feedback(replace(feedback, details=(*feedback.details[:5], note)))

    def _self_wait(self, prefix: list[threading.Thread], thread: threading.Thread) -> CheckFailed:
        wait = self.waits[thread]
        lock: TrackedLock = wait.obj
        name, who = self.name(lock), self.who(thread)
        got = f"{who} waits for {name} ({self.at(wait.site)}), but it holds {name} already: "
        got += f"it took it at {self.at(lock.site)}"
        if lock.scoped:
            got += " in a `with` block it is still inside"
            hint = HINT_TAKEN_TWICE
        else:
            got += f", and no release() of {name} ran after that"
            if lock.released_at[0] is not None:
                got += f" (the last one ran at {self.at(lock.released_at)})"
            same_line = line_of(lock.site) == line_of(wait.site) and lock.site[0] is wait.site[0]
            hint = HINT_SKIPPED_RELEASE if same_line else HINT_TAKEN_TWICE
        if prefix:
            got += "; " + self._sentence(prefix, last=False)
        return CheckFailed(
            f"{_cap(who)} waits for {name}, which it already holds: it can never go on",
            expected=f"{name} released before it is acquired again",
            got=got,
            location=self.spot(wait.site),
            details=list(self._taken(thread, lock)),
            hint=hint,
            kind="deadlock",
        )

    def _deadlock(
        self, prefix: list[threading.Thread], circle: list[threading.Thread]
    ) -> CheckFailed:
        kinds = {self.waits[t].kind for t in circle}
        names = [self.who(t) for t in circle]
        if kinds == {"lock"}:
            locks = [self.name(self.waits[t].obj) for t in circle]
            summary = (
                f"Deadlock: {names[0]} and {names[1]} each wait for a lock the other holds"
                if len(circle) == 2
                else f"Deadlock: {len(circle)} threads each wait for a lock the next one holds"
            )
            hint = (
                f"Take the locks in one fixed order in every thread (for example always "
                f"{locks[-1]} before {locks[0]}), or hold only one lock at a time."
            )
        elif kinds == {"join"}:
            summary = (
                f"Deadlock: {names[0]} and {names[1]} wait for each other to finish"
                if len(circle) == 2
                else f"Deadlock: {len(circle)} threads wait for each other to finish, in a circle"
            )
            hint = HINT_JOIN_CIRCLE
        else:
            summary = f"Deadlock: {_join_names(names)} wait for each other, in a circle"
            hint = HINT_LOCK_AND_JOIN
        got = self._sentence(prefix + circle, last=True) + ": a circle, none of them can go on"
        return CheckFailed(
            _cap(summary),
            expected="every thread gets what it waits for, and finishes",
            got=_cap(got),
            location=self.spot(self.waits[circle[0]].site),
            details=list(self._positions(circle)),
            hint=hint,
            kind="deadlock",
        )

    def _finished_holding(
        self, chain: list[threading.Thread], holder: threading.Thread
    ) -> CheckFailed:
        lock: TrackedLock = self.waits[chain[-1]].obj
        name, who = self.name(lock), self.who(holder)
        got = f"{who} finished while still holding {name}, taken at {self.at(lock.site)}; "
        got += f"no release() of {name} ran after that"
        if lock.released_at[0] is not None:
            got += f" (the last one ran at {self.at(lock.released_at)})"
        got += "; " + self._sentence(chain, last=False)
        return CheckFailed(
            f"{_cap(who)} finished while still holding {name}: "
            f"{self.who(chain[-1])} waits for it forever",
            expected=f"{name} released before the thread that took it ends",
            got=got,
            location=self.spot(lock.site),
            details=[*self._taken(holder, lock), *self._positions(chain[-1:])],
            hint=HINT_FINISHED_HOLDING,
            kind="deadlock",
        )

    def _nobody_wakes(self, order: list[threading.Thread]) -> CheckFailed:
        shown = order[:4]
        got = "; ".join(self._step(t, first=True) for t in shown)
        if len(order) > len(shown):
            got += f"; and {len(order) - len(shown)} more thread(s) wait the same way"
        first = next((t for t in order if self.waits[t].kind != "join"), order[0])
        return CheckFailed(
            "All your threads are waiting, and none is left to wake the others",
            expected="some thread that will set, put, release or notify what the others wait for",
            got=_cap(got),
            location=self.spot(self.waits[first].site),
            details=list(self._positions(order)),
            hint=HINT_NOBODY_WAKES,
            kind="deadlock",
        )

    # ------------------------------------------------------------------ the graph's shape

    def _ordered(
        self, stuck: set[threading.Thread], checker: threading.Thread
    ) -> list[threading.Thread]:
        """The checking thread first, then the others in the order they were started."""
        rest = [t for t in _enumerate() if t in stuck and t is not checker]
        rest += sorted((t for t in stuck if t not in rest and t is not checker), key=id)
        return ([checker] if checker in stuck else []) + rest

    def _next(self, thread: threading.Thread) -> threading.Thread | None:
        wait = self.waits.get(thread)
        if wait is None:
            return None
        if wait.kind == "join":
            joined: threading.Thread = wait.obj  # a join's obj is the thread joined
            return joined
        return self._holder(wait)

    @staticmethod
    def _holder(wait: Wait) -> threading.Thread | None:
        if wait.kind != "lock" or wait.obj.holder is None:
            return None
        holder: ThreadState = wait.obj.holder  # a lock wait's obj is a TrackedLock
        return holder.thread

    def _chain(self, start: threading.Thread) -> list[threading.Thread]:
        """start, what it waits for, what that waits for, ... (waiting threads only)."""
        chain = [start]
        nxt = self._next(start)
        while nxt is not None and nxt in self.waits and nxt not in chain:
            chain.append(nxt)
            nxt = self._next(nxt)
        return chain

    def _circle(
        self, order: list[threading.Thread]
    ) -> tuple[list[threading.Thread], list[threading.Thread]] | None:
        """(threads leading to it, the circle) for the first wait-for circle found."""
        for start in order:
            path = [start]
            nxt = self._next(start)
            while nxt is not None and nxt in self.waits:
                if nxt in path:
                    at = path.index(nxt)
                    return path[:at], path[at:]
                path.append(nxt)
                nxt = self._next(nxt)
        return None

    # ------------------------------------------------------------------ sentences

    def _sentence(self, threads: list[threading.Thread], *, last: bool) -> str:
        """'A waits in join() for B, which waits for `x`, held by C, ...'."""
        parts = [
            self._step(t, first=i == 0, holder=last or i < len(threads) - 1)
            for i, t in enumerate(threads)
        ]
        return ", ".join(parts)

    def _step(self, thread: threading.Thread, *, first: bool, holder: bool = True) -> str:
        wait = self.waits[thread]
        subject = self.who(thread) if first else "which"
        if wait.kind == "join":
            return f"{subject} waits in join() ({self.at(wait.site)}) for {self.who(wait.obj)}"
        if wait.kind == "lock":
            text = f"{subject} waits for {self.name(wait.obj)} ({self.at(wait.site)})"
            owner = self._holder(wait)
            if holder and owner is not None:
                text += f", held by {self.who(owner)} (taken at {self.at(wait.obj.site)})"
            return text
        return f"{subject} waits in {wait.op}() on {self.name(wait.obj)} ({self.at(wait.site)})"

    def _positions(self, threads: list[threading.Thread]) -> Iterator[str]:
        """Where in the learner's file each thread took the lock another one of them waits
        for, and where it waits."""
        for thread in threads[:3]:
            for other in threads:
                wait = self.waits.get(other)
                if wait is not None and self._holder(wait) is thread and wait.obj.site[0]:
                    yield (
                        f"{_cap(self.who(thread))} took {self.name(wait.obj)} at "
                        f"{self.where(wait.obj.site)}"
                    )
            wait = self.waits.get(thread)
            if wait is not None and wait.site[0] is not None:
                yield f"{_cap(self.who(thread))} waits at {self.where(wait.site)}"

    def _taken(self, holder: threading.Thread, lock: TrackedLock) -> Iterator[str]:
        """Where `holder` took `lock`, and where the last release of it ran."""
        if lock.site[0] is not None:
            yield f"{_cap(self.who(holder))} took {self.name(lock)} at {self.where(lock.site)}"
        if lock.released_at[0] is not None and not lock.scoped:
            yield f"The last release() of {self.name(lock)} ran at {self.where(lock.released_at)}"

    def who(self, thread: threading.Thread) -> str:
        if thread is _main_thread():
            return "the main thread"
        return thread.name

    def at(self, site: Site) -> str:
        """'counter.py:11' the first time, then 'line 12' (one learner file)."""
        frame, line = site[0], line_of(site)
        if frame is None:
            return "a line outside your file"
        if self._file_shown:
            return f"line {line}"
        self._file_shown = True
        return f"{Path(frame.f_code.co_filename).name}:{line}"

    @staticmethod
    def where(site: Site) -> str:
        found = _Story.spot(site)
        return found.text if found is not None else ""

    @staticmethod
    def spot(site: Site) -> Location | None:
        """The learner's line of `site` (None outside the learner's file)."""
        frame = site[0]
        return Location.of(frame.f_code.co_filename, line_of(site)) if frame is not None else None

    # ------------------------------------------------------------------ naming locks

    def name(self, obj: Any) -> str:
        """The learner's name for a lock, condition or queue, in backticks."""
        key = id(obj)
        if key not in self._named:
            frames = [w.site[0] for w in self.waits.values() if w.site[0] is not None]
            self._named[key] = _name_of(obj, frames)
        return self._named[key]


def _name_of(obj: Any, frames: list[Any]) -> str:
    """Search the module that made it, the function that made it, the functions that wait
    for it; else the name assigned on the line that made it; else that line."""
    lock = obj if isinstance(obj, TrackedLock) else _plain(obj).get("_lock")
    if not isinstance(lock, TrackedLock):
        return "a lock"
    frame, line, maker = lock.created
    spaces = [frame.f_globals, _locals(frame), *(_locals(f) for f in frames)]
    for space in spaces:
        for target in (obj, lock) if obj is not lock else (obj,):
            found = _search(space, target)
            if found:
                return f"`{found}`"
    assigned = _assigned_name(frame.f_code.co_filename, line)
    if assigned:
        return f"`{assigned}`"
    kind = maker or ("RLock" if lock.reentrant else "Lock")
    return f"the {kind} made at line {line}"


def _locals(frame: Any) -> dict[str, Any]:
    try:
        return dict(frame.f_locals)
    except Exception:  # noqa: BLE001 - a name is a nicety; never fail the report for it
        return {}


def _search(space: dict[str, Any], target: object) -> str:
    """The name in `space` that refers to `target`, directly or one step in."""
    items = [(k, v) for k, v in list(space.items())[:_MAX_ITEMS] if not k.startswith("__")]
    for key, value in items:
        if _holds(value, target):
            return key
    for key, value in items:
        for sub, part in _parts(value):
            if _holds(part, target):
                return f"{key}{sub}"
    return ""


def _holds(value: object, target: object) -> bool:
    """Is `value` the target, or a Condition/Event/Semaphore/Barrier/Queue built on it?"""
    if value is target:
        return True
    if not isinstance(value, (*_SYNC_TYPES, queue.Queue)):
        return False
    own = _plain(value)
    for attr in _INTERNALS:
        part = own.get(attr)
        if part is target or (part is not None and _plain(part).get("_lock") is target):
            return True
    return False


def _parts(value: object) -> Iterator[tuple[str, object]]:
    """('.attr', v) of a learner object or class, ('[i]', v) of a list, tuple or dict."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value[:_MAX_ITEMS]):
            yield f"[{i}]", item
    elif isinstance(value, dict):
        for k, item in list(value.items())[:_MAX_ITEMS]:
            yield f"[{k!r}]", item
    elif not isinstance(value, (*_SYNC_TYPES, queue.Queue, TrackedLock)):
        for attr, item in list(_plain(value).items())[:_MAX_ITEMS]:
            if not attr.startswith("__"):
                yield f".{attr}", item


def _plain(value: object) -> dict[str, Any]:
    """An object's own attributes, read without running any of its code."""
    try:
        own = object.__getattribute__(value, "__dict__")
    except Exception:  # noqa: BLE001 - no __dict__, or an odd one: no attributes to offer
        return {}
    return dict(own) if isinstance(own, dict) or type(own).__name__ == "mappingproxy" else {}


_MAKER_CALLS = frozenset(
    {"Lock", "RLock", "Condition", "Event", "Semaphore", "BoundedSemaphore", "Barrier"}
    | {"Queue", "LifoQueue", "PriorityQueue"}
)


def _assigned_name(filename: str, line: int) -> str:
    """`x` for a line `x = threading.Lock()` (also `self.x = ...`, `x: Lock = Lock()`)."""
    text = linecache.getline(filename, line).strip()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    stmt = tree.body[0] if tree.body else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return ""
    func = value.func if isinstance(value, ast.Call) else None
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ast.unparse(target) if called in _MAKER_CALLS else ""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join_names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
