"""`make demo`: your downloader against a real (local) server, with real waits, timed.

For a CPU-bound task (`TASK=cpu_bound`) there is no server: your three ways of counting
primes are timed on your own cores instead (graders.learner.pictures.cpu_times).

Starts an httpbin-like server on 127.0.0.1 (graders.learner.pictures.demo_server), runs your
download_sequential and your threaded version against it with your `URLS` rewritten from
httpbin.org to that server, prints both wall times, and stops the server. Nothing leaves your
machine: name lookups other than loopback fail in the process that runs your code.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from graders.engine.child import run_child
from graders.learner.commands.check import DEFAULT_SUBMISSION, submission_folder
from graders.learner.pictures.cpu_times import CPU_TASKS, run_cpu_demo
from graders.learner.pictures.demo_server import DemoServer
from graders.learner.pictures.downloads import DOWNLOAD_TASKS, function_for
from graders.learner.pictures.httpbin_like import NETWORK_LATENCY
from graders.tasks import get_task

HELP = "time your downloader against a local server with real delays (make demo)"
TIMEOUT = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    tasks = ", ".join([*DOWNLOAD_TASKS, *CPU_TASKS])
    parser.add_argument("--task", default="downloader", help=f"one of {tasks}")
    parser.add_argument("--submission", default=str(DEFAULT_SUBMISSION), help="folder or file")
    parser.add_argument(
        "--latency",
        type=float,
        default=NETWORK_LATENCY,
        help=f"seconds every request waits, like a round trip (default {NETWORK_LATENCY})",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every wait (cpu_bound: every range's length) by this (tests: 0.1)",
    )


def run(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    console = Console(highlight=False)
    if task.id in CPU_TASKS:
        with submission_folder(args.submission, [task]) as folder:
            return run_cpu_demo(task, folder, args.scale, console)
    function_for(task.id)  # a task that does not download has no demo: ValueError
    with submission_folder(args.submission, [task]) as folder:
        with DemoServer(latency=args.latency, scale=args.scale) as server:
            console.print(
                f"[bold]Demo server[/] on {server.url}: your httpbin.org URLs are sent here. "
                f"Each request takes {args.latency:g} s, /delay/N N s more"
                + (f", all times {args.scale:g}." if args.scale != 1 else ".")
            )
            child = ["--task", task.id, "--submission", str(folder.resolve()), "--base", server.url]
            run = run_child(
                "graders.learner.pictures.demo_client", child, timeout=TIMEOUT, echo=True
            )
            peak, served = server.peak_in_flight, len(server.served)
        console.print("[dim]Demo server stopped.[/]\n")
    if run.timed_out:
        console.print(f"[red]Your code did not finish within {TIMEOUT:g} s; it was stopped.[/]")
        return 1
    result = run.result or {"error": f"the demo ended early (exit code {run.exit_code})"}
    console.print(report(result, peak=peak, served=served))
    return 0 if not result.get("error") and all(r["seconds"] for r in result["runs"]) else 1


def report(result: dict[str, Any], *, peak: int, served: int) -> Group:
    """Both wall times side by side, and what the server saw."""
    table = Table(title="make demo: real waits on 127.0.0.1", title_justify="left")
    table.add_column("Function", no_wrap=True)
    table.add_column("Wall time", justify="right", no_wrap=True)
    table.add_column("Note")
    if result.get("error"):
        table.add_row("your module", "-", Text(result["error"], style="red"))
        return Group(table)
    times = [run["seconds"] for run in result["runs"]]
    for run in result["runs"]:
        seconds = f"{run['seconds']:.2f} s" if run["seconds"] else "-"
        table.add_row(run["function"], seconds, Text(run["error"], style="red"))
    verdict = Text(f"The server answered {served} requests, at most {peak} at once.")
    if len(times) == 2 and all(times):
        verdict = Text.assemble(
            (f"{times[0] / times[1]:.1f}x faster with threads. ", "bold green"), verdict
        )
    return Group(table, verdict)
