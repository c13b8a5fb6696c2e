"""Task named_workers (bonus): threads that say who they are.

When several threads print, you cannot tell which line came from which thread, unless each
thread says who it is. `save_url(url, path)` below is the downloader's given function.

Write `download_named(urls, out_dir)`: one thread per URL, all started before any is joined,
URL i saved to `out_dir/result_{i}.txt` (as in the downloader). This time the thread function,
`fetch(name, url, path)`, takes a `name` argument, and prints from inside the thread:
  1. before it downloads: its name and the URL it is fetching,
     e.g. `Thread-0: downloading https://httpbin.org/uuid`;
  2. once the file is saved: its name again, e.g. `Thread-0: saved result_0.txt`.
Give every thread a different name (`"Thread-0"`, `"Thread-1"`, ... or any names you like).

Any format works. The checks look for each thread's name as a word that is in every line that
thread prints and is not already another thread's name (URLs and file names do not count),
and they check that the URL a thread says it fetches is the one that thread really downloads.

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
