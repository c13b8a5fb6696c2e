"""Task downloader: thread an I/O-bound downloader.

`download_sequential` below fetches the URLs one after the other: while it waits for one
server it does nothing else, so the total time is the sum of all the waits. Waiting for the
network releases the GIL, so threads can wait at the same time.

Your job: `download_threaded(urls, out_dir)` gives the same result as `download_sequential`,
faster:
  1. each URL is downloaded once, in a thread of its own: one thread per URL, and the main
     thread downloads nothing itself;
  2. start every thread before you join any, so that all the downloads wait at the same time;
  3. URL number i of the list (in the order given) is saved to `out_dir/result_{i}.txt`;
  4. return only when every file is written and every thread has finished;
  5. any number of URLs works, one and none included, and `out_dir` may be a str or a
     `pathlib.Path`.

Then `compare_timings(urls, out_dir)` shows the difference:
  6. it calls `download_sequential(urls, out_dir)` once and `download_threaded(urls, out_dir)`
     once, with the URLs and the folder it was given;
  7. it returns `(sequential_seconds, threaded_seconds)`, in that order;
  8. each number is the time its call took: read `time.perf_counter()` just before and just
     after the call.

Pass the URL and the path to each thread as arguments (`args=(url, path)`): a lambda that
uses the loop variables sees them change under its feet.

Check your work with:  make check TASK=downloader
"""

import os
import threading  # noqa: F401  (you will need it)
import time  # noqa: F401  (you will need it)

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


def download_sequential(urls, out_dir):
    """Download every URL, one after the other, into out_dir/result_{i}.txt. Given."""
    for i, url in enumerate(urls):
        save_url(url, os.path.join(out_dir, f"result_{i}.txt"))


def download_threaded(urls, out_dir):
    """Like download_sequential, with one thread per URL running at the same time."""
    # TODO: one thread per URL running save_url(url, path); start them all, then join them all.
    raise NotImplementedError("download_threaded is not written yet")


def compare_timings(urls, out_dir):
    """Return (sequential_seconds, threaded_seconds), each measured with time.perf_counter()."""
    # TODO: time download_sequential(urls, out_dir), then download_threaded(urls, out_dir),
    # and return both durations.
    raise NotImplementedError("compare_timings is not written yet")


if __name__ == "__main__":
    sequential_s, threaded_s = compare_timings(URLS, ".")
    print(f"sequential {sequential_s:.2f} s, threaded {threaded_s:.2f} s")
