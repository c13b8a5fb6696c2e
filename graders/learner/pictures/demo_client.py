"""The learner's side of `make demo`: their downloads, timed, against the local demo server.

Run by graders.learner.commands.demo as `python -m graders.learner.pictures.demo_client --result
FILE --task ID
--submission DIR --base http://127.0.0.1:PORT`, in a child process so a hang cannot keep the
server up. Their `URLS` (and the list passed to their functions) are rewritten from
httpbin.org to the demo server, and the learner's code runs under graders.engine.offline, so even a
URL written into their code cannot reach anything but loopback.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from graders.engine.child import write_result
from graders.engine.offline import offline
from graders.kit.feedback import CheckFailed
from graders.kit.loader import load_module
from graders.learner.pictures.downloads import Downloader, call_learner, download_plan, learner_urls
from graders.learner.pictures.httpbin_like import path_of
from graders.tasks import get_task


def local_urls(urls: list[str], base: str) -> list[str]:
    """`https://httpbin.org/delay/1` -> `http://127.0.0.1:PORT/delay/1`, for every URL."""
    return [base.rstrip("/") + path_of(url) for url in urls]


def timed(name: str, func: Downloader, urls: list[str], path: str) -> dict[str, Any]:
    """Call func(urls, out_dir): its wall time, or the learner-facing reason it failed."""
    with tempfile.TemporaryDirectory(prefix="threadkit-demo-") as out_dir:
        seconds, error = call_learner(name, func, urls, out_dir, [path])
    return {"function": name, "seconds": None if error else seconds, "error": error}


def run_demo(task_id: str, submission: Path, base: str) -> dict[str, Any]:
    """Both runs against the demo server at `base`, timed, in order."""
    path = submission / get_task(task_id).module
    try:
        mod = load_module(path)
    except CheckFailed as failed:
        return {"error": failed.feedback.summary, "runs": []}
    urls = local_urls(learner_urls(mod), base)
    mod.URLS = urls
    runs = []
    for _, name, func in download_plan(task_id, mod):
        print(f"\n--- {name}: {len(urls)} URLs ---", flush=True)
        if func is None:
            runs.append({"function": name, "seconds": None, "error": f"{name} is missing"})
        else:
            runs.append(timed(name, func, urls, str(path)))
    return {"error": "", "runs": runs, "urls": urls}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graders.learner.pictures.demo_client")
    parser.add_argument("--result", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--base", required=True)
    args = parser.parse_args(argv)
    with offline():
        write_result(args.result, run_demo(args.task, Path(args.submission), args.base))


if __name__ == "__main__":
    main()
