"""The task registry: ids, workshop order, titles, the learner's file and what its demo shows.

This is the one place a new task is listed (as rustlings keeps info.toml): one entry in
TASKS. Everything else about a task lives in its own folders: graders/tasks/<id>/ (visible
checks, requirements, hints; hidden.py for instructors), fixtures/<id>/ (solution,
alternatives, mutants) and its stub exercises/<module> (graders.kit.task.Task.files).
Points are declared on the checks themselves.
"""

from __future__ import annotations

from graders.kit.task import Task

__all__ = ["TASKS", "Task", "get_task"]


TASKS: tuple[Task, ...] = (
    Task("start_join", "Start threads, then join them", "start_join.py"),
    Task("counter_lock", "Protect a shared counter with a lock", "counter.py"),
    Task("deadlock", "Transfers that cannot deadlock", "bank.py"),
    Task("downloader", "Thread an I/O-bound downloader", "downloader.py", "download_threaded"),
    Task(
        "named_workers",
        "Threads that say who they are (bonus)",
        "named_workers.py",
        "download_named",
    ),
    Task(
        "worker_pool",
        "Workers that pop jobs off a shared list (bonus)",
        "worker_pool.py",
        "download_with_workers",
    ),
    Task("cpu_bound", "Threads vs processes for work that needs the CPU", "cpu_bound.py", "cpu"),
    Task(
        "progress", "A main thread that stays responsive", "progress.py", "download_with_progress"
    ),
    Task(
        "async_downloader",
        "One thread, many waits: asyncio",
        "async_downloader.py",
        "download_async",
    ),
)


def get_task(task_id: str) -> Task:
    """The task with this id; a ValueError that lists the ids otherwise."""
    for task in TASKS:
        if task.id == task_id:
            return task
    known = ", ".join(t.id for t in TASKS)
    raise ValueError(f"unknown task {task_id!r}; the tasks are: {known}")
