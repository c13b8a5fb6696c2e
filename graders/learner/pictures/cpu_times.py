"""`make demo TASK=cpu_bound`: the learner's three ways of counting primes, timed on their machine.

The downloading tasks' demo needs a server; this one needs cores. In a child process (a hang
or a crash never takes the terminal with it) the learner's module is imported under its own
name from its folder, as `python cpu_bound.py` would find it, so a pool works with whatever
start method the platform uses. Then the child times, with time.perf_counter, a plain loop
over their RANGES with their count_primes, their count_in_threads(RANGES, N) and their
count_in_processes(RANGES, N), checks that the three totals agree, and says how many cores
this machine has and whether this Python has a GIL: what decides which way wins.

Run as `python -m graders.learner.pictures.cpu_times --result FILE --task ID --submission DIR
--scale F` it is that child.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from graders.engine.child import run_child, write_result
from graders.kit.thread_watch import ThreadWatch
from graders.learner.pictures.downloads import learner_error
from graders.tasks import TASKS, Task, get_task

# tasks whose demo times CPU-bound work instead of downloads (`Task.demo` "cpu" in the registry)
CPU_TASKS = tuple(t.id for t in TASKS if t.demo == "cpu")
TIMEOUT = 300.0
WAYS = (
    ("the loop (count_primes)", None),
    ("count_in_threads", "count_in_threads"),
    ("count_in_processes", "count_in_processes"),
)
_clock = time.perf_counter


def run_cpu_demo(task: Task, folder: Path, scale: float, console: Console) -> int:
    """Time the learner's three ways in a child process and print them; 0 if all three ran."""
    console.print(
        "[bold]Counting primes three ways[/] with your RANGES and N"
        + (f", every range {scale:g} times as long" if scale != 1 else "")
        + ": this takes a few seconds."
    )
    args = ["--task", task.id, "--submission", str(folder.resolve()), "--scale", str(scale)]
    run = run_child("graders.learner.pictures.cpu_times", args, timeout=TIMEOUT, echo=True)
    if run.timed_out:
        console.print(f"[red]Your code did not finish within {TIMEOUT:g} s; it was stopped.[/]")
        return 1
    result = run.result or {"error": f"the demo ended early (exit code {run.exit_code})"}
    console.print(report(result))
    return 0 if not result.get("error") and all(r["seconds"] for r in result["runs"]) else 1


def report(result: dict[str, Any]) -> Group:
    """The three wall times side by side, the speed-ups, and the machine they depend on."""
    table = Table(title="make demo: your three ways, timed here", title_justify="left")
    for column, justify in (("Way", "left"), ("Wall time", "right"), ("Total", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("Note")
    if result.get("error"):
        table.add_row("your module", "-", "-", Text(result["error"], style="red"))
        return Group(table)
    for run in result["runs"]:
        seconds = f"{run['seconds']:.2f} s" if run["seconds"] else "-"
        total = f"{run['total']:,}" if isinstance(run["total"], int) else "-"
        table.add_row(run["way"], seconds, total, Text(run["error"], style="red"))
    lines = [Text(f"{result['size']}. This machine: {result['machine']}.")]
    loop, threads, processes = (r["seconds"] for r in result["runs"])
    if loop and threads and processes:
        lines.append(
            Text.assemble(
                (f"Against the loop: threads {loop / threads:.1f}x, ", "bold"),
                (f"processes {loop / processes:.1f}x as fast. ", "bold"),
                result["why"],
            )
        )
    return Group(table, *lines)


# ----------------------------------------------------------------- the child


def machine() -> tuple[str, str]:
    """This machine in one phrase, and why threads do (not) help here."""
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    free = gil_enabled is not None and not gil_enabled()
    build = "free-threaded (no GIL)" if free else "with the GIL"
    version = f"{platform.python_implementation()} {platform.python_version()}"
    said = f"{cores} core(s), {usable} usable by this program; {version} {build}"
    why = (
        "Without a GIL, threads can run Python code on several cores at once too."
        if free
        else "The GIL lets one thread run Python code at a time, so threads cannot beat the "
        f"loop; processes can, up to {usable}x with {usable} usable core(s), minus the time "
        "it takes to start them."
    )
    return said, why


def scaled(ranges: list[tuple[int, int]], scale: float) -> list[tuple[int, int]]:
    return [(start, start + max(1, round((stop - start) * scale))) for start, stop in ranges]


def run_demo(task_id: str, submission: Path, scale: float) -> dict[str, Any]:
    """The three ways, timed in order, with the learner's RANGES and N."""
    module = Path(submission) / get_task(task_id).module
    sys.path.insert(0, str(module.parent))
    try:
        mod = importlib.import_module(module.stem)
        ranges = scaled([(int(a), int(b)) for a, b in mod.RANGES], scale)
        n = int(mod.N)
    except Exception as exc:  # noqa: BLE001 - the learner's module may raise anything
        return {"error": learner_error(exc, [str(module)], f"Importing {module.name}"), "runs": []}
    said, why = machine()
    runs = []
    for way, name in WAYS:
        print(f"--- {way} ---", flush=True)
        func = loop_of(mod) if name is None else getattr(mod, name, None)
        runs.append(timed(way, func, ranges, n, str(module)))
    totals = {r["total"] for r in runs if r["total"] is not None}
    numbers = sum(stop - start for start, stop in ranges)
    size = f"{len(ranges)} ranges, {numbers:,} numbers, N = {n}"
    error = "" if len(totals) <= 1 else f"the three totals differ: {sorted(totals)}"
    return {"error": error, "runs": runs, "size": size, "machine": said, "why": why}


def loop_of(mod: Any) -> Any:
    def loop(ranges: list[tuple[int, int]], n: int) -> int:
        return sum(mod.count_primes(start, stop) for start, stop in ranges)

    return loop


def timed(way: str, func: Any, ranges: list[tuple[int, int]], n: int, path: str) -> dict[str, Any]:
    """func(ranges, n): its wall time and total, or the learner-facing reason it failed."""
    if not callable(func):
        return {"way": way, "seconds": None, "total": None, "error": f"{way} is missing"}
    error, total = "", None
    with ThreadWatch([path]) as watch:
        start = _clock()
        try:
            total = func(list(ranges), n)
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            error = learner_error(exc, [path], way)
        seconds = _clock() - start
    if not error and watch.errors:
        error = learner_error(watch.errors[0].exc, [path], f"Your thread {watch.errors[0].thread}")
    total = total if type(total) is int else None
    return {"way": way, "seconds": None if error else seconds, "total": total, "error": error}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graders.learner.pictures.cpu_times")
    parser.add_argument("--result", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    write_result(args.result, run_demo(args.task, Path(args.submission), args.scale))


if __name__ == "__main__":
    main()
