"""How one thread spent a stretch of time: on a CPU, queued for one, or asleep by its choice.

Linux keeps a record per thread (/proc/thread-self/schedstat): how long it ran and how long it
was ready to run but queued for a CPU; the rest of the time it slept. The share of a call a
thread was running or queued does not tell a thread that spins in a loop from one that sleeps
in a loop on a loaded machine: a thread that wakes often is queued after every wakeup, and a
spinning Python thread also sleeps, whenever another thread takes the GIL from it (on a loaded
machine that thread is itself queued before it runs and gives the GIL back).

Where the thread sleeps tells them apart. A wait its code chose (`time.sleep`, `Event.wait`,
`Thread.join`, `Queue.get` with a timeout: every one of them ends in a call into C that lets
go of the GIL) happens inside a call into C; the interpreter takes the GIL from a spinning
thread between two bytecodes, outside any such call. `TimeWatch` puts a profile hook on the
calling thread (`sys.setprofile`, the current thread only) that adds up the time the thread
was off a CPU while inside a call into C made from outside the `exclude`d files. Every second
the thread was queued, wherever it was, is then taken off that sum: what is left is time it
certainly slept inside calls it made, `TimeSplit.chosen_wait`.

Measured with progress's slow run (fixtures/progress) on 2 cores, load average 8 to 24: the
reference solution and its four alternatives chose to wait at least 0.05 to 0.45 s in calls
of 0.43 to 0.86 s, with 6 to 14 ms on a CPU; both busy-waiting mutants chose to wait 0 s in
each of 36 calls, with 10 to 87 ms on a CPU, while their share running or queued (what the
kit measured before) was as low as 42%, and a correct solution's as high as 77%.

A loop of `time.sleep(0)` lets go of the GIL inside the call, so the waits for the GIL it then
meets count as chosen there: on a loaded machine it can look like a thread that waits.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any

__all__ = ["TimeSplit", "TimeWatch", "scheduler_times"]

# Captured at import: learner code may monkeypatch these while a check runs.
_clock = time.perf_counter
_cpu = time.thread_time
_setprofile = sys.setprofile
_getprofile = sys.getprofile
_open = open
_SCHEDSTAT = "/proc/thread-self/schedstat"


def scheduler_times() -> tuple[float, float] | None:
    """The calling thread's (seconds on a CPU, seconds ready but queued for one) so far, from
    Linux's scheduler record; None where it cannot be read."""
    try:
        with _open(_SCHEDSTAT, encoding="ascii") as f:
            on_cpu, queued = f.read().split()[:2]
        return int(on_cpu) / 1e9, int(queued) / 1e9
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class TimeSplit:
    """How the thread spent one `TimeWatch` block, in seconds."""

    wall: float
    on_cpu: float  # running
    queued: float  # ready to run, waiting for a free CPU
    off_cpu_in_calls: float  # not running (queued or asleep) inside calls into C it made

    @property
    def chosen_wait(self) -> float:
        """At least this long the thread slept inside calls into C: a wait its code asked for
        (or a wait for the GIL right after one), never time the machine kept it queued."""
        return max(0.0, self.off_cpu_in_calls - self.queued)

    @property
    def runnable(self) -> float:
        """Running or ready to run: the thread wanted a CPU for this long."""
        return self.on_cpu + self.queued


class TimeWatch:
    """Context manager: split the calling thread's time inside the block (see the module).

    `split` is the result once the block is left; None where the scheduler's record cannot be
    read (not Linux). Calls into C made from a frame of an `exclude`d file (a check's own
    recorder, say) are not counted as the thread's waits.
    """

    def __init__(self, exclude: Iterable[str] = ()) -> None:
        self._exclude = frozenset(exclude) | {__file__}
        self._stack: list[bool] = []  # per open call: True for a counted call into C
        self._inside = False
        self._in_calls = 0.0
        self._last = (0.0, 0.0)  # (clock, CPU time) at the last event
        self._start: tuple[float, tuple[float, float] | None] = (0.0, None)
        self._previous: Any = None
        self.split: TimeSplit | None = None

    def __enter__(self) -> TimeWatch:
        self._previous = _getprofile()
        self._start = (_clock(), scheduler_times())
        self._last = (_clock(), _cpu())
        _setprofile(self._event)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _setprofile(self._previous)
        end, times = _clock(), scheduler_times()
        start, before = self._start
        if before is None or times is None:
            return
        self.split = TimeSplit(
            wall=end - start,
            on_cpu=times[0] - before[0],
            queued=times[1] - before[1],
            off_cpu_in_calls=self._in_calls,
        )

    def _event(self, frame: FrameType, event: str, arg: object) -> None:
        """The profile hook: charge the time since the last event, then follow the call stack.

        Only the innermost open call decides: a Python function that a call into C runs (a
        generator `sum` pulls, say) is not a wait.
        """
        now, cpu = _clock(), _cpu()
        if self._inside:
            self._in_calls += (now - self._last[0]) - (cpu - self._last[1])
        self._last = (now, cpu)
        stack = self._stack
        if event == "c_call":
            stack.append(frame.f_code.co_filename not in self._exclude)
        elif event == "call":
            stack.append(False)
        elif stack:  # return, c_return, c_exception; frames open before the block: none left
            stack.pop()
        self._inside = bool(stack) and stack[-1]
