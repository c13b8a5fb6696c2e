"""Running one task's checks in a fresh grading process: the sealed verdict channel's side.

A learner's module may hang, exit, flood output, eat memory or crash the interpreter; none of
that reaches the caller. The grading process (graders.engine.worker) gets a private copy of the
exercise modules only (graders.engine.intake), a work folder of its own, and a fresh key on
stdin; its session, limits, environment, isolation level, captured output and time limit are
graders.engine.process's. Its verdict comes back on a pipe of its own as lines sealed with that
key (graders.engine.channel), judged against the task's own checks by graders.engine.verdicts:
whatever happens, the caller gets an `IsolatedRun` with every check of the task.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from graders.engine import intake, process, zygote
from graders.engine.channel import Secret, unseal
from graders.engine.process import DEFAULT_LIMITS, Limits, Running
from graders.engine.sandbox import Sandbox
from graders.engine.verdicts import IsolatedRun, decode, fail_all, flooded
from graders.engine.zygote import Zygote
from graders.kit import import_budget
from graders.tasks import get_task

PROCESS = Sandbox("process")
MAX_REPORT_BYTES = 8 * 1024 * 1024


def run_isolated(
    task_id: str,
    submission: str | Path,
    *,
    seed: int,
    hidden: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    sandbox: Sandbox = PROCESS,
    stop: threading.Event | None = None,
    zygote: Zygote | None = None,
    only: Sequence[str] | None = None,
) -> IsolatedRun:
    """Run `task_id`'s checks on `submission` in a child process and collect the verdict.

    Setting `stop` (then calling `process.stop_all`) kills the process at once, even one that
    is only just starting: an interrupted batch does not wait for anything. `zygote`: the
    submission's own, inside its sandbox (graders.engine.zygote.for_submission); the run's
    folder is then made in that sandbox's folder. `only`: run just these checks of the task
    (one shard of it: graders.engine.shards); the result then holds just those.
    """
    task = get_task(task_id)
    only = list(only) if only else None
    secret = Secret.new()
    start = time.monotonic()
    root = zygote.folder if zygote is not None else None
    with tempfile.TemporaryDirectory(prefix="threadkit-run-", dir=root) as tmp:
        workdir = Path(tmp).resolve()
        copy = intake.copy_modules(Path(submission), workdir)
        (workdir / "tmp").mkdir()
        read_fd, write_fd = os.pipe()
        args = [
            f"--task={task.id}",
            f"--submission={copy}",
            f"--seed={seed}",
            f"--result-fd={write_fd}",
            f"--import-seconds={_import_seconds(limits)}",
        ] + (["--hidden"] if hidden else [])
        if only is not None:
            args.append(f"--only={','.join(only)}")
        hidden_file = task.files().hidden if hidden else None
        try:
            proc = _start(args, sandbox, workdir, hidden_file, write_fd, limits, zygote)
        finally:
            os.close(write_fd)
        watched = process.Watched(proc, limits)
        if stop is not None and stop.is_set():
            watched.kill()
        report = process.Drain(read_fd, MAX_REPORT_BYTES)
        _hand_over(proc, secret)
        finished = watched.finish()
        report.join()
    opened = unseal(secret, report.data)
    run = decode(task_id, seed, hidden, opened, finished.exit_code, limits, only)
    if finished.flooded:
        fail_all(run, flooded(limits))
    run.output = finished.output
    run.seconds = time.monotonic() - start
    return run


def _start(
    args: list[str],
    sandbox: Sandbox,
    workdir: Path,
    hidden_file: Path | None,
    write_fd: int,
    limits: Limits,
    warm: Zygote | None,
) -> Running:
    """The grading process running graders.engine.worker with `args`: forked from the warm
    zygote (`warm`, else the shared one) where the level allows (graders.engine.zygote says
    why that is as safe), else a
    fresh interpreter, wrapped by the sandbox, as always. Either way graders.engine.process
    gives it its session, limits and environment."""
    env = process.environment(sandbox=sandbox, home=workdir, tmp=workdir / "tmp")
    forked = zygote.fork_worker(
        args, sandbox=sandbox, cwd=workdir, env=env, limits=limits, result_fd=write_fd, zygote=warm
    )
    if forked is not None:
        return forked
    return process.start(
        [sys.executable, "-m", "graders.engine.worker", *args],
        limits=limits,
        env=env,
        cwd=workdir,
        sandbox=sandbox,
        hidden_file=hidden_file,
        pass_fds=(write_fd,),
    )


def _import_seconds(limits: Limits) -> float:
    return import_budget.setting() if limits.import_seconds is None else limits.import_seconds


def _hand_over(proc: Running, secret: Secret) -> None:
    """Give the child its key on stdin, then close stdin (a child that died early is fine)."""
    if proc.stdin is None:
        raise RuntimeError("the grading process has no stdin pipe")
    try:
        proc.stdin.write(secret.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
