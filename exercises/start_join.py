"""Task start_join: start threads, then join them.

`worker(name, steps, delay)` below is done: it prints a few steps and sleeps between them,
like a slow job. Run one at a time, two workers with 3 steps of 1 s take 6 s. In threads they
take 3 s, because while one sleeps the other can run.

Write `run_workers(names, steps, delay)`. `names` is a sequence of names (a tuple or a list,
of one name or many); `steps` and `delay` are for `worker`. It must:
  1. call `worker` exactly once per name in `names`: one `threading.Thread` per name;
  2. give every worker the `steps` and `delay` that run_workers got, as
     `args=(name, steps, delay)`, not worker's own defaults;
  3. run each worker in a new thread of its own, never in the main thread;
  4. start them all before joining any, so that all the workers run at the same time;
  5. then join them all, so that `run_workers` returns only when every worker is done;
  6. keep its defaults: `run_workers()` runs "Thread-A" and "Thread-B", 3 steps of 1.0 s each.

Check your work with:  make check TASK=start_join
"""

import threading  # noqa: F401  (you will need it)
import time


def worker(name, steps=3, delay=1.0):
    """A slow job: `steps` steps of `delay` seconds each. Given; do not change it."""
    for step in range(1, steps + 1):
        print(f"{name}: step {step} of {steps}")
        time.sleep(delay)
    print(f"{name}: done")


def run_workers(names=("Thread-A", "Thread-B"), steps=3, delay=1.0):
    """Run `worker(name, steps, delay)` for every name, each in its own thread, all at once."""
    # TODO: start one thread per name, then join them all.
    raise NotImplementedError("run_workers is not written yet")


if __name__ == "__main__":
    started = time.perf_counter()
    run_workers()
    print(f"took {time.perf_counter() - started:.1f} s")
