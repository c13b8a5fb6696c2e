"""Task named_workers (bonus): threads that say who they are.

When several threads print, you cannot tell which line came from which thread, unless each
thread says who it is. `save_url(url, path)` below is the downloader's given function.

Write `fetch(name, url, path)`, the function each thread runs. Inside its thread, it:
  1. prints a line with the `url` it was given before it downloads, for example
     `Thread-0: downloading https://httpbin.org/uuid` (and names no other URL);
  2. calls save_url(url, path), and once save_url has returned, prints another line,
     for example `Thread-0: saved result_0.txt`;
  3. puts `name`, the argument it was given, in every line it prints, as a word of its own
     (`Thread-1` is not found inside `Thread-10`; URLs and file names do not count).

Write `download_named(urls, out_dir)`:
  4. one thread per URL, each running fetch(name, url, path) for that one URL;
  5. URL i saved to `out_dir/result_{i}.txt` (out_dir may be a str or a pathlib.Path);
  6. every thread given a different name: "Thread-0", "Thread-1", ... or any names you like;
  7. every thread started before any is joined, so that all the downloads are under way at once;
  8. it returns only once every thread has finished.

Any wording works: the checks look for the name and the URL in your lines, not for a format.

Check your work with:  make check TASK=named_workers
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


def fetch(name, url, path):
    """The thread function: say who you are and what you fetch, save it, say it is saved."""
    # TODO: print a line with `name` and `url`; call save_url(url, path); print `name` again.
    raise NotImplementedError("fetch is not written yet")


def download_named(urls, out_dir):
    """One thread per URL running fetch(name, url, path), each with its own name."""
    # TODO: one thread per URL, each with a different name; start them all, then join them all.
    raise NotImplementedError("download_named is not written yet")


if __name__ == "__main__":
    download_named(URLS, ".")
