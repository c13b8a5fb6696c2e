"""Task counter_lock: protect shared state with a lock.

Five threads each add 1 to the global `counter` ten thousand times. The total should be
50,000, but `increment` reads the counter, adds one and writes it back in two steps: if
another thread writes in between, one of the two updates is lost. CPython rarely switches
threads at exactly that moment, so the bug hides on your machine; the grader forces such
switches and will find it.

Your job:
  1. write `run_threads(n_threads, times)`: set `counter` back to 0, run
     `increment(times)` in `n_threads` threads at the same time, join them all, and
     return `counter`;
  2. make `increment` safe: create one `threading.Lock()` for the module and hold it
     while you read *and* write `counter` (`with lock: ...`).

Check your work with:  make check TASK=counter_lock
"""

import threading  # noqa: F401  (you will need it)

counter = 0


def increment(times):
    """Add 1 to the global counter `times` times. Racy: two threads can lose updates."""
    global counter
    for _ in range(times):
        new = counter + 1
        counter = new


def run_threads(n_threads=5, times=10_000):
    """Reset `counter`, run `increment(times)` in `n_threads` threads at once, return `counter`."""
    # TODO: reset the counter, start n_threads threads running increment(times),
    #       join them all, and return the counter.
    raise NotImplementedError("run_threads is not written yet")


if __name__ == "__main__":
    print(run_threads())
