"""Running one task in a fresh process, time-boxed, with its output captured and capped.

A learner's module may hang, exit, flood output, eat memory or crash the interpreter; none of
that reaches the caller. The grading process (graders.engine.worker) gets a private copy of the
exercise modules only, a work folder of its own, resource limits, the isolation level asked
for (graders.engine.sandbox), and a fresh key on stdin. Its verdict comes back on a pipe of its own
as
lines sealed with that key (graders.engine.channel); the parent believes only lines that verify, in
sequence, naming exactly the task's checks in order, each once. Points always come from the
parent's own registry, never from the report. Whatever happens, the caller gets a `TaskResult`
with every check of the task, and a check the process did not report on is failed with the
reason; when the process's guard saw tampering, every check of the task is failed.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from graders.engine import zygote
from graders.engine.channel import Opened, Secret, unseal
from graders.engine.runner import CheckResult, TaskResult
from graders.engine.sandbox import Sandbox
from graders.kit.feedback import Feedback
from graders.paths import KIT_ROOT
from graders.tasks import TASKS, get_task

if TYPE_CHECKING:  # annotations only, like the modules the guard snapshots
    from typing import Any

PROCESS = Sandbox("process")
MAX_REPORT_BYTES = 8 * 1024 * 1024
PR_SET_PDEATHSIG = 1

_live: set[int] = set()  # process groups of grading processes still running
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Per-task resource limits for the grading process."""

    seconds: float = 60.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 64 * 1024  # printed output kept for the report
    flood_bytes: int = 1024**2  # printed output that stops the task: it scores 0
    file_bytes: int = 64 * 1024**2


DEFAULT_LIMITS = Limits()


@dataclass
class IsolatedRun:
    result: TaskResult
    output: str  # what the learner's code printed (cut at Limits.output_bytes)
    exit_code: int | None  # None: killed for running past Limits.seconds
    tampering: list[str] = field(default_factory=list)  # why the task was not graded
    blocked: list[str] = field(default_factory=list)  # what the learner's code was refused
    seconds: float = 0.0


def run_isolated(
    task_id: str,
    submission: str | Path,
    *,
    seed: int,
    hidden: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    sandbox: Sandbox = PROCESS,
    stop: threading.Event | None = None,
) -> IsolatedRun:
    """Run `task_id`'s checks on `submission` in a child process and collect the verdict.

    Setting `stop` (then calling `stop_all`) kills the process at once, even one that is
    only just starting: an interrupted batch does not wait for anything.
    """
    task = get_task(task_id)
    secret = Secret.new()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="threadkit-run-") as tmp:
        workdir = Path(tmp).resolve()
        copy = copy_modules(Path(submission), workdir)
        (workdir / "tmp").mkdir()
        read_fd, write_fd = os.pipe()
        args = [
            f"--task={task.id}",
            f"--submission={copy}",
            f"--seed={seed}",
            f"--result-fd={write_fd}",
        ] + (["--hidden"] if hidden else [])
        hidden_file = task.files().hidden if hidden else None
        try:
            proc = _start(args, sandbox, workdir, hidden_file, write_fd, limits)
        finally:
            os.close(write_fd)
        with _live_lock:
            _live.add(proc.pid)
        if stop is not None and stop.is_set():
            _kill_group(proc.pid)
        report = _Drain(read_fd, MAX_REPORT_BYTES)
        if proc.stdout is None:
            raise RuntimeError("the grading process has no stdout pipe")
        output = _Drain(proc.stdout.fileno(), limits.output_bytes, limits.flood_bytes, proc.pid)
        _hand_over(proc, secret)
        exit_code = _wait(proc, limits.seconds)
        with _live_lock:
            _live.discard(proc.pid)
        report.join()
        output.join()
        proc.stdout.close()
    opened = unseal(secret, report.data)
    run = _decode(task_id, seed, hidden, opened, exit_code, limits)
    if output.flooded:
        _fail_all(run, _flooded(limits))
    run.output = output.text()
    run.seconds = time.monotonic() - start
    return run


class GradingProcess(Protocol):
    """What run_isolated needs of the grading process: a Popen, or a zygote's Forked."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None

    def wait(self, timeout: float | None = None) -> int: ...


def _start(
    args: list[str],
    sandbox: Sandbox,
    workdir: Path,
    hidden_file: Path | None,
    write_fd: int,
    limits: Limits,
) -> GradingProcess:
    """The grading process running graders.engine.worker with `args`: forked from the warm
    zygote where the level allows (graders.engine.zygote says why that is as safe), else a
    fresh interpreter, wrapped by the sandbox, as always."""
    env = _child_env(workdir, sandbox)
    forked = zygote.fork_worker(
        args, sandbox=sandbox, cwd=workdir, env=env, limits=limits, result_fd=write_fd
    )
    if forked is not None:
        return forked
    cmd = [sys.executable, "-m", "graders.engine.worker", *args]
    return subprocess.Popen(
        sandbox.wrap(cmd, workdir=workdir, hidden_file=hidden_file),
        cwd=workdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(write_fd,),
        env=env,
        start_new_session=True,
        preexec_fn=lambda: _apply_limits(limits),
    )


def stop_all() -> None:
    """Kill every grading process still running (an interrupted batch stops at once)."""
    with _live_lock:
        groups = list(_live)
    for pid in groups:
        _kill_group(pid)


def copy_modules(submission: Path, workdir: Path) -> Path:
    """A private copy holding only the exercise modules (no conftest.py, no results file).

    The copy keeps the submission folder's name, so messages still say `exercises/counter.py`.
    """
    copy = workdir / (submission.resolve().name or "submission")
    copy.mkdir()
    for task in TASKS:
        source = submission / task.module
        if source.is_file() and not source.is_symlink():
            shutil.copyfile(source, copy / task.module)
    return copy


def _child_env(workdir: Path, sandbox: Sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(KIT_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONSAFEPATH"] = "1"
    env["TMPDIR"] = str(workdir / "tmp")
    env["HOME"] = str(workdir)
    return env | sandbox.env()


def _apply_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _die_with_parent()


def _die_with_parent() -> None:
    """SIGKILL the grading process if its parent dies (Linux), so none is ever orphaned."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _find_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up here, before any fork (importing after a fork can deadlock)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()


def _hand_over(proc: GradingProcess, secret: Secret) -> None:
    """Give the child its key on stdin, then close stdin (a child that died early is fine)."""
    if proc.stdin is None:
        raise RuntimeError("the grading process has no stdin pipe")
    try:
        proc.stdin.write(secret.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass


class _Drain(threading.Thread):
    """Reads a pipe to its end while the child runs: keeps `limit` bytes, counts the rest.

    The child never blocks on a full pipe, however much it writes, and never dies of it.
    """

    def __init__(self, fd: int, limit: int, flood: int = 0, group: int = 0) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.limit = limit
        self.flood = flood  # past this many bytes, kill the process group `group`
        self.group = group
        self.flooded = False
        self.data = b""
        self.dropped = 0
        self._chunks: list[bytes] = []
        self.start()

    def run(self) -> None:
        kept = 0
        while chunk := _read(self.fd):
            room = max(0, self.limit - kept)
            self._chunks.append(chunk[:room])
            kept += min(room, len(chunk))
            self.dropped += len(chunk) - min(room, len(chunk))
            if self.flood and not self.flooded and kept + self.dropped > self.flood:
                self.flooded = True
                _kill_group(self.group)
        self.data = b"".join(self._chunks)

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output cut: {self.dropped} more bytes were printed]"
        return text


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def _wait(proc: GradingProcess, seconds: float) -> int | None:
    """The exit code, or None when the process had to be killed for running too long."""
    try:
        return proc.wait(timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
        return None
    finally:
        _kill_group(proc.pid)  # threads or children the learner left behind


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _decode(
    task_id: str, seed: int, hidden: bool, opened: Opened, exit_code: int | None, limits: Limits
) -> IsolatedRun:
    """The child's sealed report, checked against the task's own list of checks."""
    expected = get_task(task_id).checks(hidden=hidden)
    reported, notes, problems, done = _read_report(opened, [c.name for c in expected])
    tampering = [f"{what} ({where})" for kind, what, where in notes if kind == "tamper"]
    tampering += problems
    blocked = [f"{what} ({where})" for kind, what, where in notes if kind == "blocked"]
    reason = _tampered(tampering) if tampering else _missing_reason(exit_code, limits)
    result = TaskResult(task_id, seed)
    for chk in expected:
        passed, feedback, seconds = reported.get(chk.name, (False, reason, 0.0))
        if tampering:
            passed, feedback = False, reason
        elif passed and not done:  # the process died later on: the whole task scores 0
            passed, feedback = False, _ended_early(reason)
        result.checks.append(
            CheckResult(
                task_id, chk.name, chk.title, chk.points, chk.hidden, passed, feedback, seconds
            )
        )
    return IsolatedRun(result, "", exit_code, tampering, blocked)


Verdict = tuple[bool, Feedback | None, float]
Note = tuple[str, str, str]


def _read_report(
    opened: Opened, names: list[str]
) -> tuple[dict[str, Verdict], list[Note], list[str], bool]:
    """Verdicts by check name, the guard's notes, what was wrong with the report, and whether
    it ended properly (every check, then "done").

    A body is ("check", name, passed, seconds, feedback) or ("done", count), and the guard
    appends its notes to each. Only the first report of each expected check, in order, counts.
    """
    reported: dict[str, Verdict] = {}
    notes: list[Note] = []
    problems = [f"the report pipe carried a forged line: {r}" for r in opened.rejected[:3]]
    done = False
    for message in opened.messages:
        if type(message[-1]) is tuple:
            notes += [n for n in message[-1] if _is_note(n)]
        kind, body = message[0], message[1:-1]
        if done:
            problems.append("the report went on after it ended")
        elif kind == "done":
            done = True
            if body != (len(names),) or len(reported) != len(names):
                problems.append("the report's check count does not match the task's")
        elif kind != "check" or len(body) != 4 or len(reported) >= len(names):
            problems.append("the report held a message that is not a check of this task")
        elif body[0] != names[len(reported)]:
            problems.append(f"the report named an unexpected or repeated check: {body[0]!r}")
        else:
            reported[body[0]] = _verdict(body)
    return reported, notes, problems, done


def _is_note(note: object) -> bool:
    return type(note) is tuple and len(note) == 3 and all(type(x) is str for x in note)


def _verdict(body: tuple[Any, ...]) -> Verdict:
    """passed, feedback and seconds from a sealed (name, passed, seconds, feedback) body."""
    _, passed, seconds, feedback = body
    fb = Feedback.from_dict(feedback) if type(feedback) is dict else None
    secs = float(seconds) if type(seconds) in (int, float) else 0.0
    return passed is True, fb, secs


def _ended_early(reason: Feedback) -> Feedback:
    return Feedback(
        "This check passed, but the grading process did not finish the task, which scores 0",
        got=reason.summary,
        hint=reason.hint,
    )


def _fail_all(run: IsolatedRun, feedback: Feedback) -> None:
    for chk in run.result.checks:
        chk.passed, chk.feedback = False, feedback


def _flooded(limits: Limits) -> Feedback:
    return Feedback(
        f"Your code printed more than {limits.flood_bytes // 1024} KiB, so the task was stopped "
        "and scored 0",
        hint="Print a few lines per thread at most; never print inside a tight loop.",
    )


def _tampered(evidence: list[str]) -> Feedback:
    return Feedback(
        "Your code tampered with the grader, so this task was not graded (0 points)",
        got=evidence[0],
        details=tuple(evidence[1:5]),
        hint="Solve the task with ordinary threading code; ask your instructor to review.",
    )


def _missing_reason(exit_code: int | None, limits: Limits) -> Feedback:
    if exit_code is None:
        return Feedback(
            f"Your code kept the checks running past {limits.seconds:g} s, so they were stopped",
            hint="Look for a loop that never ends, or a join() or lock that waits forever.",
        )
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        if name == "SIGXFSZ":
            return Feedback(
                f"Your code wrote a file bigger than {limits.file_bytes // 1024**2} MiB, "
                "so the grading process was stopped",
                hint="Write each result file once, with just the page's text.",
            )
        return Feedback(
            f"The grading process was killed by {name} while running your code",
            hint="This usually means it used too much memory "
            f"(the limit is {limits.memory_bytes // 1024**2} MiB).",
        )
    return Feedback(
        f"The grading process ended (exit code {exit_code}) before your code was checked",
        hint="Do not call sys.exit(), os._exit() or os.kill() in your module.",
    )
