"""How far a grading process is walled off: the isolation levels, and the command that enters one.

Every level runs each task in a fresh process with resource limits and the in-process guard
(graders.engine.guard). The stronger levels add what the machine allows:

- ``process``: that alone. Network refused by the guard, kit files refused by the guard.
- ``netns``: also a network namespace of its own (``unshare --net``): no interface but a
  loopback, so no socket can reach another host whatever the learner's code does.
- ``bwrap``: bubblewrap: new user, PID, IPC, UTS and network namespaces, and a filesystem that
  holds only the Python installation, the kit's graders/ (of the hidden checks, only the
  task's own file), the submission copy and an empty /tmp: no reference solutions, no tests, no
  other task's hidden checks, no home folder, nothing writable outside the run's folder.
  A submission's zygote gets one such sandbox for all of its tasks (`wrap_submission`): every
  task's hidden checks shown, its folder writable, and its /tmp a tmpfs capped at
  `Limits.scratch_bytes`, where each task's TMPDIR goes (graders.engine.zygote).

``detect("auto")`` picks the strongest level that works here, once per process.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from graders.paths import KIT_ROOT
from graders.tasks import TASKS

LEVELS = ("process", "netns", "bwrap")
NETNS_ENV = "THREADKIT_NETNS"
SCRATCH = "/tmp"  # inside a bwrap sandbox: a tmpfs of its own

DESCRIPTIONS = {
    "process": "fresh process per task, resource limits, in-process guard (no namespaces here)",
    "netns": "fresh process per task, resource limits, in-process guard, own network namespace",
    "bwrap": "bubblewrap: own user/PID/network namespaces, read-only view of graders/ and "
    "Python only (no solutions, tests or other hidden checks), in-process guard, limits",
}


@dataclass(frozen=True)
class Sandbox:
    """One isolation level, and how to start a command inside it."""

    level: str

    def describe(self) -> str:
        return f"{self.level}: {DESCRIPTIONS[self.level]}"

    def wrap(self, cmd: list[str], *, workdir: Path, hidden_file: Path | None) -> list[str]:
        """`cmd` as it must be run at this level (the work folder is the only writable one)."""
        if self.level == "netns":
            return _unshare_prefix() + cmd
        if self.level == "bwrap":
            return _bwrap_prefix(workdir, {hidden_file} if hidden_file else set()) + cmd
        return cmd

    def wrap_submission(
        self, cmd: list[str], *, folder: Path, scratch_bytes: int | None = None
    ) -> list[str]:
        """`cmd` (a zygote, graders.engine.zygote) in one bwrap sandbox for every task of one
        submission: `folder`, which will hold each task's work folder, is writable, and every
        task's hidden checks are readable (each task's grading process imports its own).
        `scratch_bytes`: the sandbox's /tmp (SCRATCH) is a tmpfs of that size, where the
        tasks' TMPDIRs go (only where `scratch_sized()`). Only the bwrap level builds a
        sandbox per command."""
        if self.level != "bwrap":
            raise ValueError(f"isolation {self.level!r} has no sandbox of its own to share")
        every_hidden = {task.files().hidden for task in TASKS}
        return _bwrap_prefix(folder, every_hidden, scratch_bytes) + cmd

    def env(self) -> dict[str, str]:
        """Extra environment for the grading process at this level."""
        return {NETNS_ENV: "1"} if self.level in ("netns", "bwrap") else {}


def detect(requested: str = "auto") -> Sandbox:
    """The level asked for (ValueError if it does not work here), or the best one for "auto"."""
    if requested == "auto":
        for level in reversed(LEVELS):
            if works(level):
                return Sandbox(level)
    if requested not in LEVELS:
        raise ValueError(f"unknown isolation {requested!r}; choose from auto, {', '.join(LEVELS)}")
    if not works(requested):
        raise ValueError(f"isolation {requested!r} does not work on this machine")
    return Sandbox(requested)


@functools.cache
def works(level: str) -> bool:
    """Whether a trivial Python command runs at this level here (tried once, then remembered)."""
    if level == "process":
        return True
    # a folder of its own, as a run has: binding all of /tmp would hide a kit kept under /tmp
    with tempfile.TemporaryDirectory(prefix="threadkit-probe-") as tmp:
        probe = Sandbox(level).wrap(
            [sys.executable, "-c", "pass"], workdir=Path(tmp), hidden_file=None
        )
        if shutil.which(probe[0]) is None:
            return False
        try:
            done = subprocess.run(probe, capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


def _unshare_prefix() -> list[str]:
    if os.geteuid() == 0:
        return ["unshare", "--net"]
    return ["unshare", "--user", "--map-root-user", "--net"]


@functools.cache
def scratch_sized() -> bool:
    """Whether this bwrap can cap a tmpfs's size (`--size`, bubblewrap 0.7 and later)."""
    try:
        done = subprocess.run(["bwrap", "--help"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--size" in done.stdout + done.stderr


def _bwrap_prefix(
    workdir: Path, shown: Collection[Path], scratch_bytes: int | None = None
) -> list[str]:
    graders = KIT_ROOT / "graders"
    args = ["bwrap", "--die-with-parent", "--unshare-all", "--new-session"]
    args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(scratch_bytes)] if scratch_bytes is not None else []
    args += ["--tmpfs", SCRATCH]
    for name in ("bin", "lib", "lib64", "sbin"):
        if Path("/", name).is_symlink():
            args += ["--symlink", os.readlink(Path("/", name)), f"/{name}"]
    for root in sorted({sys.base_prefix, sys.prefix, sys.exec_prefix}):
        if not Path(root).resolve().is_relative_to("/usr"):
            args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(graders), str(graders)]
    for task in TASKS:  # every hidden checks file not shown (and its bytecode) reads as empty
        path = task.files().hidden
        if path.exists() and path not in shown:
            for secret in [path, *path.parent.glob("__pycache__/hidden.*.pyc")]:
                args += ["--ro-bind", "/dev/null", str(secret)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return args + ["--"]


def loopback_up() -> None:
    """Bring `lo` up inside a fresh network namespace (it starts down); best effort."""
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack("16sH14s", b"lo", 0, b"")
            flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, request))[1]
            up = struct.pack("16sH14s", b"lo", flags | iff_up, b"")
            fcntl.ioctl(sock, siocsifflags, up)
    except OSError:
        pass
