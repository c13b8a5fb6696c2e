"""Task worker_pool (bonus): a few workers share one list of jobs.

One thread per URL is fine for five URLs, not for five thousand. A worker pool starts a fixed
number of threads instead; each one takes the next URL off a shared list, downloads it, and
comes back for more until the list is empty. `save_url(url, path)` below is the downloader's
given function.

Write `download_with_workers(urls, out_dir, n_workers=3)`:
  1. make one list of all the jobs and one `threading.Lock` for it, shared by every worker:
     each job is taken by one worker, so every entry of `urls` is downloaded exactly once
     (a URL that is on the list twice is downloaded twice);
  2. do not deal the jobs out in advance (no `urls[k::n_workers]`, no chunks): a worker takes
     a job only when it is free, so while one worker waits on a slow server, the other
     workers take every job that is left;
  3. start exactly `n_workers` threads (3 when the caller does not say), all running the same
     worker function, and start them all before joining any. With fewer URLs than workers,
     the extra workers find the list empty and stop (or start only one thread per URL);
  4. the worker loops: while holding the lock, it checks whether a job is left (if none is,
     it returns) and pops it;
  5. then, after letting go of the lock, it downloads that URL with `save_url`, so that
     `min(n_workers, jobs left)` downloads run at the same time;
  6. URL i (its index in `urls`) is saved to `out_dir/result_{i}.txt`: keep the index with
     the URL, for example by putting `(i, url)` pairs on the list;
  7. join all the workers before returning.

Why the lock: if two workers both see one URL left, both try to pop it, and the second pop
fails. The checks make exactly that happen; they also hold one download up, to see the other
workers keep going. (A `queue.Queue`, which locks itself, does the same job and passes too;
the list and the lock are the workshop's way.)

Check your work with:  make check TASK=worker_pool
"""

import os  # noqa: F401  (you will need it)
import threading  # noqa: F401  (you will need it)

import requests

URLS = [
    "https://httpbin.org/delay/1",
    "https://httpbin.org/uuid",
    "https://httpbin.org/ip",
    "https://httpbin.org/user-agent",
    "https://httpbin.org/headers",
]


def save_url(url, path):
    """Download one URL and write its text to `path`. Given; do not change it."""
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    with open(path, "w", encoding="utf-8") as f:
        f.write(response.text)


def download_with_workers(urls, out_dir, n_workers=3):
    """Download every URL with exactly n_workers threads that pop jobs off one shared list."""
    # TODO: a shared list of (i, url) jobs and a lock; n_workers threads that pop jobs under
    # the lock and download outside it; start them all, then join them all.
    raise NotImplementedError("download_with_workers is not written yet")


if __name__ == "__main__":
    download_with_workers(URLS, ".")
