"""Task start_join: start threads, then join them.

`worker(name, steps, delay)` below is done: it prints a few steps and sleeps between them,
like a slow job. Run one at a time, two workers with 3 steps of 1 s take 6 s. In threads they
take 3 s, because while one sleeps the other can run.

Write `run_workers(names, steps, delay)`:
  1. create one `threading.Thread` per name, running `worker(name, steps, delay)`;
  2. start them all;
  3. then join them all, so that `run_workers` returns only when every worker is done.

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
