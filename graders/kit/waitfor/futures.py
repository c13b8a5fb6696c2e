"""Threads that wait, without a time limit, for another thread to finish a future.

The executor makes the condition such a wait blocks on, so the graph does not track it (only
what the learner's own code creates is tracked). A learner's `pool.map(...)` or
`future.result()` then counts as running, and a kit hold next to it (an HTTP latch that a fixed
pool of four can never fill with six URLs) waited out its whole time limit. Seen from the
thread's frames instead:

- the innermost is `Condition.wait(None)` under `Future.result`, `Future.exception`,
  `as_completed` or `wait`;
- or an asyncio event loop waits in its selector with nothing scheduled (`_run_once` chose no
  time limit): awaiting `asyncio.to_thread(...)` one call at a time, the loop waits for the
  one worker thread, which only another thread's call_soon_threadsafe can end.

Such a wait ends only when another thread finishes something, so it can go on only while
another thread can: a condition wait, for `Graph.quiet` alone (the watchdog never tells a story
from frames).
"""

from __future__ import annotations

import selectors
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import _base
from types import CodeType, FrameType

from graders.kit.frames import current_frames

_COND_WAIT: CodeType = threading.Condition.wait.__code__
_EVENT_WAIT: CodeType = threading.Event.wait.__code__
_FUTURE_WAITS: frozenset[CodeType] = frozenset(
    {
        _base.Future.result.__code__,
        _base.Future.exception.__code__,
        _base.as_completed.__code__,
        _base.wait.__code__,
    }
)
_SELECTS: frozenset[CodeType] = frozenset(
    getattr(selectors, name).select.__code__
    for name in ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector")
    if hasattr(selectors, name)
)


def waiting_on_futures(threads: Iterable[threading.Thread]) -> dict[threading.Thread, FrameType]:
    """Of `threads`, those blocked without a time limit in a future's wait, each with the
    frame of the call that waits (`result`, `as_completed`, ...): a thread that moved on to
    another future's wait between two looks shows another frame."""
    frames = current_frames()
    found: dict[threading.Thread, FrameType] = {}
    for thread in threads:
        frame = frames.get(thread.ident or 0)
        call = _future_wait(frame) if frame is not None else None
        if call is not None:
            found[thread] = call
    return found


def _future_wait(frame: FrameType) -> FrameType | None:
    if frame.f_code in _SELECTS:
        return _idle_loop(frame)
    if frame.f_code is not _COND_WAIT or frame.f_locals.get("timeout") is not None:
        return None
    caller = frame.f_back
    if caller is not None and caller.f_code is _EVENT_WAIT:
        caller = caller.f_back  # as_completed and wait block on an Event of their own
    if caller is None or caller.f_code not in _FUTURE_WAITS:
        return None
    return caller


def _idle_loop(select: FrameType) -> FrameType | None:
    """The event loop's `_run_once` frame, if it waits in `select` with no time limit."""
    base_events = sys.modules.get("asyncio.base_events")  # no loop runs where asyncio is not
    caller = select.f_back
    if base_events is None or caller is None:
        return None
    if caller.f_code is not base_events.BaseEventLoop._run_once.__code__:
        return None
    return caller if caller.f_locals.get("timeout", 0) is None else None
