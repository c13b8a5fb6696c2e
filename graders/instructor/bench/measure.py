"""Timing one run of the kit's command line: wall-clock seconds and CPU seconds, and the spread.

CPU is the user+system time of the process and of every descendant it waited for (the grading
processes, the zygote and its children), read from RUSAGE_CHILDREN before and after: on a
loaded machine the wall time grows with the load while the CPU time mostly does not, so the
two together tell a slower kit from a busier machine. The bench runs one command at a time, so
nothing else of ours is counted.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Kit:
    """A checkout of the kit to measure: its label in the table and its root folder."""

    label: str
    root: Path

    @property
    def python(self) -> str:
        """The checkout's own .venv interpreter, with the packages its requirements install
        (a baseline before a requirements change keeps its own); else this interpreter."""
        own = self.root / ".venv" / "bin" / "python"
        return str(own) if own.exists() else sys.executable

    def command(self, *args: str) -> list[str]:
        """`python -m graders ARGS` for this checkout (its own graders/ and interpreter)."""
        return [self.python, "-m", "graders", *args]

    def grades(self, module: str) -> bool:
        """Whether this checkout has the task of `module` (an older one may have fewer)."""
        return (self.root / "exercises" / module).is_file()

    def env(self, **extra: str) -> dict[str, str]:
        """This checkout first on the path, output unbuffered, a fixed terminal width."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env |= {"PYTHONPATH": str(self.root), "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
        return env | extra


@dataclass(frozen=True)
class Sample:
    """One timed process: seconds of wall clock and of CPU, its exit code and its output."""

    wall: float
    cpu: float
    code: int
    output: str


def children_cpu() -> float:
    """CPU seconds used so far by the descendants this process waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Sample:
    """Run `cmd` to its end and time it (its output is kept for the verdict)."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - start
    output = done.stdout.decode("utf-8", errors="replace")
    return Sample(wall, children_cpu() - cpu, done.returncode, output)


@dataclass(frozen=True)
class Spread:
    """The median of some values and their range."""

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: list[float]) -> Spread | None:
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values), len(values))

    def to_dict(self) -> dict[str, float]:
        return {
            "median": round(self.median, 4),
            "min": round(self.low, 4),
            "max": round(self.high, 4),
            "n": self.count,
        }


def load_average() -> float:
    """The 1-minute load average (0.0 where the system does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0
