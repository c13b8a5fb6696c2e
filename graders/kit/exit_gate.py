"""Threads that cannot end unseen: each one waits at its end until someone waits for it.

"Return only when every thread has finished" is hard to see when the threads are quick: a
function that waits for its threads' results (a queue, an event, a pool's map) but not for
the threads themselves usually returns a few microseconds after they end, and a check that
looks at the return passes it by luck. Inside an `ExitGate` block every thread started in the
grading process is held at the very end of its run() (its work all done, still alive) until

- some thread joins it (join() without a time limit, from the moment it is called), or
- the learner's code looks at it while it is held: is_alive(), or join(timeout), called from
  one of the learner's files, or
- the block ends (the check opens the gate once the learner's function has returned), or
- `timeout` seconds pass (code that waits for its threads some other way: slower, not wrong).

So a thread the code never waits for is still running when the function returns, in every
run. Code that joins its threads, or polls is_alive() until they are done, pays a poll at most.
Threads started in a forked child are never held (nobody there opens the gate).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

HOLD_TIMEOUT = 3.0  # longest a thread is held at its end when nothing waits for it

_Thread = threading.Thread
_Condition = threading.Condition
_Lock = threading.Lock
_current_thread = threading.current_thread
_getframe = sys._getframe
_getpid = os.getpid


class ExitGate:
    """Context manager: threads started inside it wait at their end until they are waited for.

    `files` are the learner's source files: only their is_alive() and join(timeout) calls let
    a held thread go (the kit's own looks must not).
    """

    def __init__(self, files: Iterable[str], *, timeout: float = HOLD_TIMEOUT) -> None:
        self.timeout = timeout
        self.timeouts = 0  # threads let go by the timeout, not by a wait or a look
        self._files = frozenset(
            name for f in files for name in (str(f), os.path.abspath(f), os.path.realpath(f))
        )
        self._cond = _Condition(_Lock())
        self._joined: set[threading.Thread] = set()  # threads a join() without time limit awaits
        self._held: dict[threading.Thread, bool] = {}  # a thread held at its end -> let go
        self._open = False
        self._pid = _getpid()
        self._saved: tuple[Any, ...] = ()
        self._patches: tuple[Any, ...] = ()

    def __enter__(self) -> ExitGate:
        start, join, is_alive = _Thread.start, _Thread.join, _Thread.is_alive
        self._saved = (start, join, is_alive)
        gate = self

        def gated_start(thread: threading.Thread) -> None:
            gate._wrap(thread)
            start(thread)

        def gated_join(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
            limited = (args[0] if args else kwargs.get("timeout")) is not None
            gate._waited_for(thread, look=limited, caller=_getframe(1))
            join(thread, *args, **kwargs)

        def gated_is_alive(thread: threading.Thread) -> bool:
            gate._waited_for(thread, look=True, caller=_getframe(1))
            return bool(is_alive(thread))

        _Thread.start = gated_start  # type: ignore[method-assign,assignment]
        _Thread.join = gated_join  # type: ignore[method-assign,assignment]
        _Thread.is_alive = gated_is_alive  # type: ignore[method-assign,assignment]
        self._patches = (gated_start, gated_join, gated_is_alive)
        return self

    def __exit__(self, *exc: object) -> None:
        """Put threading back (where nothing replaced the patches meanwhile) and let every
        held thread go."""
        for name, original, patch in zip(("start", "join", "is_alive"), self._saved, self._patches):
            if _Thread.__dict__.get(name) is patch:
                setattr(_Thread, name, original)
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def _wrap(self, thread: threading.Thread) -> None:
        """Make the thread's run() end with a wait at the gate."""
        if _getpid() != self._pid or getattr(thread, "_threadkit_gated", False):
            return
        run: Callable[[], None] = thread.run

        def gated_run() -> None:
            try:
                run()
            finally:
                self._hold(thread)

        thread.run = gated_run  # type: ignore[method-assign]
        thread._threadkit_gated = True  # type: ignore[attr-defined]

    def _waited_for(self, thread: threading.Thread, *, look: bool, caller: Any) -> None:
        """A join() (look=False) lets the thread go whenever it gets to its end; a look from the
        learner's code lets it go if it is held right now."""
        if thread is _current_thread():
            return
        with self._cond:
            if not look:
                self._joined.add(thread)
            elif caller is None or caller.f_code.co_filename not in self._files:
                return
            if thread in self._held:
                self._held[thread] = True
            self._cond.notify_all()

    def _hold(self, thread: threading.Thread) -> None:
        """At the end of the thread's run(): wait until it is waited for (bounded)."""
        if _getpid() != self._pid:
            return
        with self._cond:
            self._held[thread] = False
            let_go = self._cond.wait_for(
                lambda: self._open or self._held[thread] or thread in self._joined, self.timeout
            )
            if not let_go:
                self.timeouts += 1
            del self._held[thread]
