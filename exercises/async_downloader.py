"""Task async_downloader: one thread, many waits, with asyncio.

Threads are one way to wait for many servers at once; asyncio is another. One thread runs an
*event loop*. Each download is a coroutine (an `async def` function), and at every `await` it
hands the loop back, so that other coroutines run while it waits. `asyncio.run(main())`
starts a loop, runs the coroutine `main()` to its end and closes the loop again;
`await asyncio.gather(*coroutines)` runs many coroutines at the same time and waits for all.

One catch: `save_url` uses `requests`, which blocks. Called inside a coroutine, it would stop
the whole loop until its download is over. `await asyncio.to_thread(save_url, url, path)`
runs it in a worker thread that asyncio manages, and lets the loop carry on meanwhile. (An
async HTTP library such as aiohttp would need no threads at all; you do not need one here.)

Write `download_async(urls, out_dir)`:
  1. run all the downloads in one event loop, started once per call with `asyncio.run(...)`
     (not once per URL);
  2. start every download before waiting for any (`asyncio.gather`), so that all of them
     wait for their servers at the same time;
  3. each download runs the given `save_url(url, path)` through `asyncio.to_thread` (or
     `loop.run_in_executor(None, ...)`, which it uses): never call `save_url` (or anything
     else that blocks) directly in a coroutine, and start no threads or thread pools of your
     own: `asyncio.to_thread` brings its own;
  4. URL number i of the list (in the order given) is saved to `out_dir/result_{i}.txt`;
  5. return only when every file is written and every thread has finished (`asyncio.run`
     waits for both);
  6. any number of URLs works, one and none included, and `out_dir` may be a str or a
     `pathlib.Path`.

There is nothing to time: run this file and it prints how long `download_async` took, to
compare with your threaded downloader. (In a Jupyter notebook a loop is already running and
asyncio.run refuses to start another: try `await download_all(URLS, ".")` in a cell there.)

Check your work with:  make check TASK=async_downloader
"""

import asyncio  # noqa: F401  (you will need it)
import os  # noqa: F401  (you will need it)
import time

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


async def download_one(url, path):
    """Download one URL into `path` without blocking the event loop."""
    # TODO: await save_url(url, path) run in a worker thread by asyncio.to_thread.
    raise NotImplementedError("download_one is not written yet")


async def download_all(urls, out_dir):
    """Download every URL at the same time: URL i into out_dir/result_{i}.txt."""
    # TODO: one download_one(...) coroutine per URL, all awaited together with asyncio.gather.
    raise NotImplementedError("download_all is not written yet")


def download_async(urls, out_dir):
    """Download every URL with asyncio: one event loop, one coroutine per URL."""
    # TODO: run download_all(urls, out_dir) in an event loop with asyncio.run.
    raise NotImplementedError("download_async is not written yet")


if __name__ == "__main__":
    start = time.perf_counter()
    download_async(URLS, ".")
    print(f"download_async took {time.perf_counter() - start:.2f} s")
