"""Task cpu_bound (bonus): threads or processes, for work that needs the CPU.

Downloading is mostly waiting, and threads wait together. Counting primes never waits: it
keeps the CPU busy. In CPython the GIL (global interpreter lock) lets one thread run Python
code at a time, so threads do not make this kind of work faster. Processes can: each one has
its own interpreter and its own GIL, so n processes can use n cores. (On a free-threaded
CPython, 3.13t, there is no GIL, and threads speed this up too.)

`count_primes(start, stop)` below is given: it counts the primes p with start <= p < stop.
`ranges` is a list of (start, stop) pairs, at least n of them; "the total" is the sum of
count_primes(start, stop) over all the pairs. `n` is the number of workers (1 or more).

Write `count_in_threads(ranges, n)`:
  1. return the total, calling count_primes(start, stop) exactly once for each pair;
  2. do it in exactly n threads, none of them the main thread, all n counting at the same
     time: concurrent.futures.ThreadPoolExecutor(max_workers=n) does that;
  3. return only when every thread it started has finished (a `with` block around the
     executor does it).

Write `count_in_processes(ranges, n)`:
  4. return the total, calling count_primes(start, stop) exactly once for each pair;
  5. do it in exactly n worker processes, never in this one, all n counting at the same time:
     concurrent.futures.ProcessPoolExecutor(max_workers=n) or multiprocessing.Pool(n), with
     the default start method. A pool sends the function you give it to its processes by
     name, so give it one defined at the top of this file (count_primes, or your own), never
     a lambda or a function defined inside another;
  6. return only when every process and thread it started has finished (a `with` block).

Write `compare(ranges, n)`:
  7. count the total three ways, each exactly once, in any order: with a plain loop (or sum)
     in compare itself that calls count_primes(start, stop) for each pair, no threads; with
     count_in_threads(ranges, n); and with count_in_processes(ranges, n);
  8. return (sequential_s, threads_s, processes_s), the seconds each way took: read
     time.perf_counter() right before the way starts and right after it ends, and return
     the difference, so that each number times its own way and nothing else.

Which way is fastest depends on the machine: `make demo TASK=cpu_bound` times all three on
yours, with the RANGES and N below (and `python cpu_bound.py` prints what compare returns).

Check your work with:  make check TASK=cpu_bound
"""

import concurrent.futures  # noqa: F401  (you will need it)
import time  # noqa: F401  (you will need it)

# The workshop's sizes: 8 ranges of 10,000 numbers, counted by 4 workers.
RANGES = [(1_000_000 + i * 10_000, 1_010_000 + i * 10_000) for i in range(8)]
N = 4


def count_primes(start, stop):
    """How many primes p there are with start <= p < stop. Pure Python, on purpose: it keeps
    the CPU busy the whole time. Given; do not change it."""
    count = 0
    for candidate in range(max(start, 2), stop):
        divisor = 2
        while divisor * divisor <= candidate:
            if candidate % divisor == 0:
                break
            divisor += 1
        else:
            count += 1
    return count


def count_in_threads(ranges, n):
    """The total of count_primes over `ranges`, counted by exactly n threads at once."""
    # TODO: a ThreadPoolExecutor with n workers; map count_primes over the pairs; sum.
    raise NotImplementedError("count_in_threads is not written yet")


def count_in_processes(ranges, n):
    """The total of count_primes over `ranges`, counted by exactly n processes at once."""
    # TODO: a ProcessPoolExecutor (or multiprocessing.Pool) with n workers; the same map.
    raise NotImplementedError("count_in_processes is not written yet")


def compare(ranges, n):
    """(sequential_s, threads_s, processes_s): how long each way takes, by time.perf_counter."""
    # TODO: time a plain loop, count_in_threads and count_in_processes, once each.
    raise NotImplementedError("compare is not written yet")


if __name__ == "__main__":  # a process pool needs this guard where processes are spawned
    sequential_s, threads_s, processes_s = compare(RANGES, N)
    print(
        f"sequential {sequential_s:.2f} s, threads {threads_s:.2f} s, processes {processes_s:.2f} s"
    )
