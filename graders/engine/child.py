"""Running learner code for a picture (timeline, demo) in a child process: the JSON file's side.

`make check` runs checks through graders.engine.isolated; the timeline and the demo only need the
learner's functions run once, but with the same guarantees: a hang, an exit(), a crash, a flood
of output or a runaway allocation in the learner's module never takes the learner's terminal
down with it. The child is started and watched by graders.engine.process (its own session,
the kit's limits with the picture's own time limit, output capped, its process group killed at
the end); it writes its result as JSON to a file whose path it is given (`--result`), so
whatever the learner's code prints stays plain output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.engine import process
from graders.engine.process import DEFAULT_LIMITS


@dataclass(frozen=True)
class ChildRun:
    """What a child process left: its JSON result (None if it wrote none) and its output."""

    result: Any
    output: str  # cut at Limits.output_bytes
    timed_out: bool
    exit_code: int | None


def run_child(module: str, args: list[str], *, timeout: float, echo: bool = False) -> ChildRun:
    """Run `python -m module --result FILE *args` within the kit's limits and `timeout`
    seconds; `echo` lets its output through live (up to the output cap)."""
    limits = dataclasses.replace(DEFAULT_LIMITS, seconds=timeout)
    with tempfile.TemporaryDirectory(prefix="threadkit-child-") as tmp:
        result_path = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", module, "--result", str(result_path), *args]
        proc = process.start(
            cmd, limits=limits, env=process.environment(), stdin=subprocess.DEVNULL
        )
        finished = process.Watched(proc, limits, echo=_to_stdout if echo else None).finish()
        result = _read_result(result_path)
    timed_out = finished.exit_code is None
    return ChildRun(result, finished.output, timed_out, finished.exit_code)


def _to_stdout(chunk: bytes) -> None:
    """The child's output, live, on this process's stdout."""
    sys.stdout.flush()
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _read_result(path: Path) -> Any:
    """The child's JSON result; None if it wrote none (or was killed while writing it)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_result(path: str, data: Any) -> None:
    """For the child: write the result and leave at once (learner threads cannot hold it)."""
    Path(path).write_text(json.dumps(data), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
