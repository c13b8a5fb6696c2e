"""Running learner code for a picture (timeline, demo) in a child process, time-boxed.

`make check` runs checks through graders.engine.isolated; the timeline and the demo only need the
learner's functions run once, but with the same guarantees: a hang, an exit() or a crash in
the learner's module never takes the learner's terminal down with it. The child writes its
result as JSON to a file whose path it is given (`--result`), so whatever the learner's code
prints stays plain output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.paths import KIT_ROOT


@dataclass(frozen=True)
class ChildRun:
    """What a child process left: its JSON result (None if it wrote none) and its output."""

    result: Any
    output: str
    timed_out: bool
    exit_code: int | None


def run_child(module: str, args: list[str], *, timeout: float, echo: bool = False) -> ChildRun:
    """Run `python -m module --result FILE *args`; `echo` lets its output through live."""
    with tempfile.TemporaryDirectory(prefix="threadkit-child-") as tmp:
        result_path = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", module, "--result", str(result_path), *args]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=None if echo else subprocess.PIPE,
            stderr=None if echo else subprocess.STDOUT,
            env=child_env(),
            start_new_session=True,
        )
        output, timed_out = _communicate(proc, timeout)
        result = json.loads(result_path.read_text()) if result_path.exists() else None
    return ChildRun(result, output, timed_out, None if timed_out else proc.returncode)


def child_env() -> dict[str, str]:
    """The environment of a child: this kit importable, output unbuffered, no .pyc litter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(KIT_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _communicate(proc: subprocess.Popen[bytes], timeout: float) -> tuple[str, bool]:
    """The child's output, and whether it had to be killed for running past `timeout`."""
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        out, _ = proc.communicate()
    finally:
        _kill_group(proc.pid)  # threads or children the learner left behind
    return (out or b"").decode("utf-8", errors="replace"), timed_out


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def write_result(path: str, data: Any) -> None:
    """For the child: write the result and leave at once (learner threads cannot hold it)."""
    Path(path).write_text(json.dumps(data), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
