"""Time-boxing the imports of the learner's module: top-level code that never ends costs a task
seconds, not its whole time limit.

An honest module imports in milliseconds: it defines functions, a lock, a few constants. But
everything at the top level of a module runs when it is imported, and a module whose top level
never finishes (`while True: pass`, `time.sleep(10**9)`, a lock taken twice, a computation that
runs for minutes) would hold every check until the check's own time limit, and the task until
the grading process's (60 s).

So the grading process (graders.engine.worker) gives each import of the learner's module a
budget, `ImportBudget` (`setting()`: SECONDS, or THREADKIT_IMPORT_SECONDS, or the
`--import-seconds` of `make grade`; 0 turns it off):

- before any check, the module is imported once (`first_import`), and the threads that import
  started get what is left of its budget to end. When the budget runs out first, every check
  of the task fails with where the module's code was, and the process ends at once;
- each check's own fresh import (graders.kit.loader, called by `Context.load`) has the same
  budget of its own; once one import overran, every later one fails at once, so a module that
  never finishes costs a task one budget. The budget is per import, not shared, so a module
  that runs a slow demo at its top level (a second, say) is slow to grade but not failed.

Each import runs in a thread of its own while the calling thread waits for it, so the waiting
is grader code only: learner code cannot catch it, ignore it or outlast it, whatever it does to
exceptions, signals or its own thread. Learner code that keeps the interpreter's lock in C
(`sum(range(10**12))`) starves the waiting thread too: faulthandler's watchdog, a C thread that
needs no interpreter lock, armed before the import starts, ends the process HARD_STOP_GRACE s
after the budget (its traceback of every thread goes to the task's output), and the parent's
time limit stays the last backstop.
"""

from __future__ import annotations

import _thread
import faulthandler
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from graders.kit.feedback import CheckFailed, Feedback, Location, display_path, location
from graders.kit.frames import current_frames

SECONDS = 5.0  # honest modules import in milliseconds, even on a loaded machine
ENV_VARIABLE = "THREADKIT_IMPORT_SECONDS"
HARD_STOP_GRACE = 5.0  # seconds after the budget when faulthandler ends a starved process
THREAD_NAME = "threadkit-import"
POLL = 0.005  # seconds between two looks at the threads an import started
END_GRACE = 1.0  # at most what a finished import's thread gets to end before the check goes on

# Bound now, before any learner code runs: a check may wrap Thread.start while it loads, and
# learner code may replace what it finds in a module (the guard reports that, but too late).
_clock = time.monotonic
_sleep = time.sleep
_enumerate = threading.enumerate
_allocate = _thread.allocate_lock
_Thread = threading.Thread
_start = threading.Thread.start
_join = threading.Thread.join
_arm = faulthandler.dump_traceback_later
_disarm = faulthandler.cancel_dump_traceback_later
_MAX_WAIT = min(threading.TIMEOUT_MAX, 10.0**6)


def setting(environ: Mapping[str, str] = os.environ) -> float:
    """The import budget, in seconds: THREADKIT_IMPORT_SECONDS when it holds a number >= 0,
    else SECONDS. 0 means no budget: every import runs in the calling thread, unbounded."""
    text = environ.get(ENV_VARIABLE, "").strip()
    try:
        seconds = float(text) if text else SECONDS
    except ValueError:
        return SECONDS
    return seconds if seconds >= 0 and seconds == seconds else SECONDS


class ImportOverrun(CheckFailed):
    """The import budget ran out: this check, and every check after it, fails with this."""


class ImportBudget:
    """`seconds` for each import of the learner's module at `path` in this process.

    `overrun` is the failure every check gets once the budget has run out (None until then).
    """

    def __init__(self, seconds: float, path: str | Path) -> None:
        self.seconds = seconds
        self.path = Path(path).resolve()  # as the module's code names its file
        self.spent = 0.0
        self.imports = 0
        self.overrun: Feedback | None = None

    def execute(self, top_level: Callable[[], object]) -> None:
        """Run one import's top-level code in a thread of its own, within the budget.

        Raises what the code raised, or ImportOverrun when the budget runs out first (and
        at once for every import after that: the module is never run twice past it).
        """
        if self.overrun is not None:
            raise ImportOverrun.from_feedback(self.overrun)
        first = self.imports == 0
        self.imports += 1
        done = _allocate()
        done.acquire()
        outcome: list[BaseException | None] = []
        # The thread finds its work in a list it empties at once: nothing learner code can
        # reach from its own thread (threading.current_thread()._args) lets it say "done".
        box: list[Any] = [(top_level, done, outcome)]
        thread = _Thread(target=_run, args=(box,), name=THREAD_NAME, daemon=True)
        start = _clock()
        _arm(min(self.seconds + HARD_STOP_GRACE, _MAX_WAIT), exit=True, file=1)
        finished, stuck = False, None
        try:
            _start(thread)
            wait = min(max(0.0, self.seconds - (_clock() - start)), _MAX_WAIT)
            finished = done.acquire(True, wait)
        finally:  # also when the check's own time limit interrupted the wait
            _disarm()
            self.spent += _clock() - start
            if not finished:
                self.overrun = stuck = self._stuck(thread.ident, first)
        if stuck is not None:
            raise ImportOverrun.from_feedback(stuck)
        # Its work is done; let it end, so that it is never one of the threads the learner's
        # code "left running" (a check counts the threads alive when its function returns).
        _join(thread, END_GRACE)
        if outcome and outcome[0] is not None:
            raise outcome[0]

    def first_import(self, load: Callable[[], object]) -> Feedback | None:
        """Import the module once, before any check (`load`), then give the threads that
        import started what is left of the budget to end.

        The failure every check gets when the budget runs out first, else None. Whatever
        else the import raised is left to the checks: each imports the module again and
        reports it in its own words.
        """
        before = set(current_frames())
        spent = self.spent
        try:
            load()
        except ImportOverrun as overrun:
            return overrun.feedback
        except BaseException:  # noqa: BLE001, S110 - the checks' own imports report it
            pass
        start, left = _clock(), max(0.0, self.seconds - (self.spent - spent))
        started = _started_since(before)  # the import's own thread too, for its last moments
        while started and _clock() - start < left:
            _sleep(POLL)
            started = _started_since(before)
        self.spent += _clock() - start
        if started:
            self.overrun = self._left_running(started)
        return self.overrun

    def _stuck(self, ident: int | None, first: bool) -> Feedback:
        """The failure for an import that did not finish: where its code was."""
        shown = display_path(self.path)
        frames = current_frames()
        frame = frames.get(ident) if ident is not None else None
        spot = _spot(frame, self.path)
        if first:
            summary = f"Importing {shown} did not finish within {self.seconds:g} s"
        else:
            summary = (
                f"Importing {shown} again for a check did not finish within {self.seconds:g} s"
            )
        at = Location.of(self.path, spot) if spot else None
        running = "" if spot or frame is None else _function_at(frame)
        return Feedback(
            summary,
            got=f"the import was still running{running}",
            where=at.text if at is not None else "",
            details=(TOP_LEVEL,),
            hint=HINT,
            kind="timeout",
            location=at,
        )

    def _left_running(self, idents: set[int]) -> Feedback:
        """The failure for threads the first import started that outlived the budget."""
        names = {t.ident: t.name for t in _enumerate()}
        frames = current_frames()
        shown = [names.get(i, "a thread started with _thread") for i in sorted(idents)]
        lines = []
        for ident, name in zip(sorted(idents)[:3], shown):
            spot = _spot(frames.get(ident), self.path)
            lines.append(f"{name} is at {location(self.path, spot)}" if spot else name)
        return Feedback(
            f"Importing {display_path(self.path)} started threads that were still running "
            f"{self.seconds:g} s later",
            got=f"still running: {', '.join(shown[:5])}",
            details=(*lines, TOP_LEVEL),
            hint="Start threads inside your functions, and join them there: never at the top "
            "level of the module.",
        )


TOP_LEVEL = (
    "Code at the top level of your module (outside every function) runs when the module is "
    "imported, before any check can call your functions."
)
HINT = (
    "Keep only definitions at the top level: put the work inside functions, and anything you "
    'run to try them out under `if __name__ == "__main__":`.'
)


def _started_since(before: set[int]) -> set[int]:
    """The threads running now that were not running before."""
    return set(current_frames()) - before


def _run(box: list[Any]) -> None:
    """The import thread: run the top-level code, note what it raised, say it is done."""
    top_level, done, outcome = box.pop()
    try:
        top_level()
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
        outcome.append(exc)
    else:
        outcome.append(None)
    finally:
        done.release()


def _spot(frame: FrameType | None, path: Path) -> int:
    """The line of the learner's file the innermost frame in it is on (0 if none)."""
    wanted = str(path)
    line = 0
    for entry in traceback.extract_stack(frame) if frame is not None else ():
        if entry.filename == wanted and entry.lineno:
            line = entry.lineno
    return line


def _function_at(frame: FrameType) -> str:
    code = frame.f_code
    return f", in {code.co_name}() ({display_path(code.co_filename)})"
