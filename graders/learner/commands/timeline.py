"""`make timeline TASK=id`: see your threads. One row per thread, one bar per request.

Your threaded version is drawn under the sequential one, on the same time scale, from what the
kit's fake server recorded (no network). With `OUT=file.png` the picture is saved with
matplotlib, which `make timeline` installs into .venv only when OUT is given.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from graders.learner.commands.check import DEFAULT_SUBMISSION, submission_folder
from graders.learner.pictures.downloads import DOWNLOAD_TASKS
from graders.learner.pictures.timeline import record_timeline
from graders.learner.pictures.timeline_view import render, save_png
from graders.tasks import get_task

HELP = "draw your requests over time, thread by thread (make timeline TASK=id)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="downloader", help=f"one of {', '.join(DOWNLOAD_TASKS)}")
    parser.add_argument("--submission", default=str(DEFAULT_SUBMISSION), help="folder or file")
    parser.add_argument("--out", help="also save the picture to this PNG file")


def run(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    console = Console(highlight=False)
    with submission_folder(args.submission, [task]) as folder:
        with console.status("Running your downloads against the kit's fake server..."):
            timeline = record_timeline(task.id, folder)
    console.print(render(timeline, console.width))
    if args.out:
        try:
            path = save_png(timeline, args.out)
        except ImportError:
            console.print("[red]matplotlib is missing: `make timeline OUT=...` installs it.[/]")
            return 1
        except ValueError as exc:
            console.print(f"[red]No picture saved: {exc}[/]")
            return 1
        console.print(f"Saved the picture to [bold]{path}[/]")
    return 0
