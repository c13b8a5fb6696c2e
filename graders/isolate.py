"""Running one task in a fresh process, time-boxed, with its output captured and capped.

A learner's module may hang, exit, flood output or crash the interpreter; none of that reaches
the caller. Whatever happens, the caller gets a `TaskResult` with every check of the task, and
a check the process did not report on is failed with the reason.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from graders.feedback import Feedback
from graders.registry import get_task
from graders.runner import CheckResult, TaskResult

KIT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    """Per-task resource limits for the grading process."""

    seconds: float = 60.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 64 * 1024


DEFAULT_LIMITS = Limits()


@dataclass
class IsolatedRun:
    result: TaskResult
    output: str  # what the learner's code printed (cut at Limits.output_bytes)
    exit_code: int | None


def run_isolated(
    task_id: str,
    submission: str | Path,
    *,
    seed: int,
    hidden: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> IsolatedRun:
    """Run `task_id`'s checks on `submission` in a child process and collect the verdict."""
    read_fd, write_fd = os.pipe()
    cmd = [
        sys.executable,
        "-m",
        "graders.worker",
        f"--task={task_id}",
        f"--submission={Path(submission).resolve()}",
        f"--seed={seed}",
        f"--result-fd={write_fd}",
    ] + (["--hidden"] if hidden else [])
    with tempfile.TemporaryDirectory(prefix="threadkit-run-") as workdir:
        out_path = Path(workdir) / "output.txt"
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=_child_env(),
                start_new_session=True,
                preexec_fn=lambda: _apply_limits(limits),
            )
        os.close(write_fd)
        payload = _Reader(read_fd)
        exit_code = _wait(proc, limits.seconds)
        payload.join()
        output = _read_capped(out_path, limits.output_bytes)
    result = _decode(task_id, seed, hidden, payload.data, exit_code, limits)
    return IsolatedRun(result, output, exit_code)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(KIT_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _apply_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cap = limits.output_bytes * 16
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))


class _Reader(threading.Thread):
    """Drains the result pipe while the child runs, so a large report cannot block it."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.data = b""
        self.start()

    def run(self) -> None:
        with os.fdopen(self.fd, "rb") as pipe:
            self.data = pipe.read(8 * 1024 * 1024)


def _wait(proc: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The exit code, or None when the process had to be killed for running too long."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # threads or children the learner left behind
        except ProcessLookupError:
            pass


def _read_capped(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + "\n[output cut: more than the limit was printed]" if len(data) > limit else text


def _decode(
    task_id: str, seed: int, hidden: bool, data: bytes, exit_code: int | None, limits: Limits
) -> TaskResult:
    """The child's report, checked against the task's own list of checks."""
    expected = get_task(task_id).checks(hidden=hidden)
    reported: dict[str, CheckResult] = {}
    try:
        parsed = TaskResult.from_dict(json.loads(data.decode("utf-8")))
        if parsed.task == task_id and parsed.seed == seed:
            reported = {c.name: c for c in parsed.checks}
    except (ValueError, KeyError, TypeError):
        pass
    reason = _missing_reason(exit_code, limits)
    result = TaskResult(task_id, seed)
    for chk in expected:
        got = reported.get(chk.name)
        if got is None or got.max_points != chk.points:
            got = CheckResult(task_id, chk.name, chk.title, chk.points, chk.hidden, False, reason)
        result.checks.append(got)
    return result


def _missing_reason(exit_code: int | None, limits: Limits) -> Feedback:
    if exit_code is None:
        return Feedback(
            f"Your code kept the checks running past {limits.seconds:g} s, so they were stopped",
            hint="Look for a loop that never ends, or a join() or lock that waits forever.",
        )
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        return Feedback(
            f"The grading process was killed by {name} while running your code",
            hint="This usually means it used too much memory "
            f"(the limit is {limits.memory_bytes // 1024**2} MiB).",
        )
    return Feedback(
        f"The grading process ended (exit code {exit_code}) before your code was checked",
        hint="Do not call sys.exit(), os._exit() or os.kill() in your module.",
    )
