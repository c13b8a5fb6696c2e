"""Running a learner's download functions once, for a picture: the timeline and the demo.

Both call the same two functions of a downloading task, in the same order: the sequential
baseline (the learner's `download_sequential`, or their `save_url` one URL at a time where the
task has none), then the learner's threaded function named in DOWNLOAD_TASKS. A call never
raises: whatever the function or one of its threads raised becomes one learner-facing line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from graders.kit.feedback import CheckFailed, describe_exception
from graders.kit.thread_watch import ThreadWatch
from graders.tasks import TASKS

# Task id -> the learner's function that downloads with threads, f(urls, out_dir) (the
# exercise contract in docs/design.md), from the registry: a downloading task names it in its
# registry line (`Task.demo`) to get a timeline and a demo.
DOWNLOAD_TASKS: dict[str, str] = {t.id: t.demo for t in TASKS if t.demo and t.demo != "cpu"}
SEQUENTIAL = "download_sequential"
DEFAULT_URLS = (
    "https://httpbin.org/delay/1",
    "https://httpbin.org/uuid",
    "https://httpbin.org/ip",
    "https://httpbin.org/user-agent",
    "https://httpbin.org/headers",
)
_clock = time.perf_counter
Downloader = Callable[[list[str], str], Any]  # f(urls, out_dir)


def function_for(task_id: str) -> str:
    """The task's threaded download function; ValueError if the task does not download."""
    try:
        return DOWNLOAD_TASKS[task_id]
    except KeyError:
        known = ", ".join(DOWNLOAD_TASKS)
        raise ValueError(f"task {task_id!r} has no timeline or demo; these do: {known}") from None


def learner_urls(mod: ModuleType) -> list[str]:
    """The learner's URLS (the workshop's httpbin list), or that list if they removed it."""
    urls = getattr(mod, "URLS", None)
    if isinstance(urls, list | tuple) and urls and all(isinstance(u, str) for u in urls):
        return list(urls)
    return list(DEFAULT_URLS)


def sequential_baseline(mod: ModuleType) -> tuple[str, Downloader]:
    """The learner's download_sequential, or their save_url one URL at a time, and its name."""
    given = getattr(mod, SEQUENTIAL, None)
    if callable(given):
        return SEQUENTIAL, given

    def one_by_one(urls: list[str], out_dir: str) -> None:
        for i, url in enumerate(urls):
            mod.save_url(url, os.path.join(out_dir, f"result_{i}.txt"))

    return "save_url, one URL at a time", one_by_one


def download_plan(task_id: str, mod: ModuleType) -> list[tuple[str, str, Downloader | None]]:
    """What both pictures (timeline, demo) run: the sequential baseline, then the learner's
    threaded function (None if their module has no such function)."""
    name = function_for(task_id)
    func = getattr(mod, name, None)
    return [
        ("Sequential", *sequential_baseline(mod)),
        ("Yours", name, func if callable(func) else None),
    ]


def call_learner(
    name: str,
    func: Downloader,
    urls: list[str],
    out_dir: str,
    files: list[str],
    *,
    settle: Callable[[], None] | None = None,
) -> tuple[float, str]:
    """Call func(urls, out_dir): the seconds until it returned, and what went wrong ('' if
    nothing did, in the call or in any thread it started). `settle` runs after the return,
    while the threads are still watched (to let threads nobody joined finish)."""
    with ThreadWatch(files) as watch:
        start = _clock()
        error = ""
        try:
            func(urls, out_dir)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            error = learner_error(exc, files, name)
        seconds = _clock() - start
        if settle is not None:
            settle()
    if not error and watch.errors:
        first = watch.errors[0]
        error = learner_error(first.exc, files, f"Your thread {first.thread}")
    return seconds, error


def learner_error(exc: BaseException, files: list[str], name: str) -> str:
    """What went wrong in the learner's function, in one line, with their line if known."""
    failure = exc if isinstance(exc, CheckFailed) else describe_exception(exc, files, name)
    fb = failure.feedback
    return f"{fb.summary} ({fb.where})" if fb.where else fb.summary
