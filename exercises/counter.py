"""Task counter_lock: protect shared state with a lock.

Five threads each add 1 to the global `counter` ten thousand times. The total should be
50,000, but `increment` reads the counter, adds one and writes it back in two steps: if
another thread writes in between, one of the two updates is lost. CPython rarely switches
threads at exactly that moment, so the bug hides on your machine; the grader forces such
switches and will find it.

Your job: write `run_threads(n_threads, times)` so that it

  1. sets the global `counter` back to 0, whatever it held before;
  2. runs `increment(times)`, with the `times` it was given, in `n_threads` new threads:
     one call in each thread;
  3. runs those threads at the same time: start them all before you join any;
  4. joins every thread, so that none is still running when it returns;
  5. returns the global `counter` itself (not a number you compute).

Then make `increment` safe:

  6. create ONE `threading.Lock()` at module level, shared by all the threads, and hold it
     while you read *and* write `counter`: `with lock:` around those two lines, inside the
     loop. Held around the whole loop instead, the threads would take turns thread by
     thread, not update by update, and would no longer run at the same time (3).
  7. Keep the defaults: `run_threads()`, 5 threads x 10,000, returns exactly 50,000, in
     well under 10 seconds.

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
