"""Task progress: a main thread that stays responsive.

In the downloader, the main thread starts the threads and then sits in join() until they are
all done: to the user, the program looks frozen. It does not have to be. While the other
threads wait for their servers, the thread that started them is free to do something useful:
tell the user how far along the downloads are (or check whether they pressed a key).
`t.is_alive()` says whether thread `t` is still running, without waiting for it.

Write `download_with_progress(urls, out_dir, report=show_progress)`:
  1. download every URL with the given `save_url(url, path)`, each in a thread of its own,
     all started before you wait for any; the calling thread downloads nothing itself;
  2. URL number i of the list (in the order given) is saved to `out_dir/result_{i}.txt`;
  3. while any download is still running, the thread that called download_with_progress
     calls `report(done, total)` itself, at least every 0.1 s (never from the download
     threads);
  4. `total` is `len(urls)`, and `done` is how many of the download threads have finished at
     that moment (so it never goes down);
  5. between two reports, wait without using the CPU: `time.sleep(0.05)`, or
     `event.wait(0.05)`, `queue.get(timeout=0.05)`, `t.join(timeout=0.05)` if the threads
     signal you. A loop that checks `is_alive()` over and over without waiting keeps a CPU
     core busy doing nothing (busy waiting);
  6. once every download has finished, call `report(total, total)` one last time: once, as
     the last call (not once per thread);
  7. return only when every file is written and every thread has finished;
  8. any number of URLs works, one and none included, and `out_dir` may be a str or a
     `pathlib.Path`.

The workshop's loop is `while any(t.is_alive() for t in threads): ...`: report, then sleep.

Check your work with:  make check TASK=progress
"""

import os  # noqa: F401  (you will need it)
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


def show_progress(done, total):
    """Show `done/total downloaded` on one line, rewritten in place. Given; do not change it."""
    print(f"\r{done}/{total} downloaded", end="\n" if done == total else "", flush=True)


def download_with_progress(urls, out_dir, report=show_progress):
    """Download every URL in its own thread; meanwhile call report(done, total) from here."""
    # TODO: start one thread per URL running save_url(url, path); while any is alive, call
    # report(done, total) and sleep a little; then report(total, total) once.
    raise NotImplementedError("download_with_progress is not written yet")


if __name__ == "__main__":
    download_with_progress(URLS, ".")
