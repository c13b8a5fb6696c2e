"""A grading process forked by the zygote is one a fresh interpreter would have been.

The same learner module, graded once through the zygote and once with THREADKIT_ZYGOTE=0,
reports what it can see of its process: open descriptors, its session, its limits, its folders,
its network, whether ctypes is loaded, which hidden checks are imported; and both runs are
refused the same things (graders/engine/zygote.py argues why, promise by promise).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graders.engine import zygote
from graders.engine.isolated import run_isolated
from graders.engine.process import Limits
from graders.engine.sandbox import SCRATCH, Sandbox, scratch_sized, works
from graders.engine.verdicts import IsolatedRun

PROBE = """
import os, resource, socket, sys, tempfile

cwd = os.getcwd()
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))  # and the report pipe's number
print("FACT fds", fds[:3], len(fds))
print("FACT session leader", os.getsid(0) == os.getpid() == os.getpgrp())
print("FACT memory", resource.getrlimit(resource.RLIMIT_AS))
print("FACT core", resource.getrlimit(resource.RLIMIT_CORE))
tmp = os.environ["TMPDIR"]  # the run's folder, or at bwrap the sandbox's tmpfs (SCRATCH)
print("FACT folders", tmp in (cwd + "/tmp", "/tmp/" + os.path.basename(cwd)))
print("FACT tempfile", tempfile.gettempdir() == tmp, os.access(tmp, os.W_OK))
print("FACT home", os.environ["HOME"] == cwd)
print("FACT interfaces", sorted(n for _, n in socket.if_nameindex())[:1])
print("FACT ctypes loaded", [m for m in sys.modules if "ctypes" in m])
print("FACT hidden", sorted(m for m in sys.modules if m.endswith(".hidden")))
print("FORKED", "graders.engine.zygote" in sys.modules)
try:
    import ctypes  # noqa: F401
except PermissionError:
    print("FACT ctypes refused")


def worker(name, steps=3, delay=1.0):
    pass


def run_workers(names=("Thread-A", "Thread-B"), steps=3, delay=1.0):
    os.kill(os.getppid(), 0)
"""


def facts(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FACT")]


LEVELS = [
    "process",
    pytest.param(
        "netns", marks=pytest.mark.skipif(not works("netns"), reason="no network namespaces")
    ),
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(not works("bwrap"), reason="bubblewrap does not work")
    ),
]


def run_forked(task: str, submission: Path, level: str, **options: Any) -> IsolatedRun:
    """One run forked from a zygote: at bwrap, the submission's own inside its sandbox (as
    graders.instructor.batch.run does), else the shared one."""
    with zygote.for_submission(Sandbox(level)) as warm:
        assert (warm is not None) == (level in zygote.SANDBOXED)
        return run_isolated(task, submission, sandbox=Sandbox(level), zygote=warm, **options)


@pytest.mark.skipif(not zygote.usable(Sandbox("process")), reason="no zygote on this platform")
@pytest.mark.parametrize("level", LEVELS)
def test_a_forked_grading_process_sees_and_is_refused_what_a_fresh_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: str
):
    (tmp_path / "start_join.py").write_text(PROBE)
    forked = run_forked("start_join", tmp_path, level, seed=5, hidden=True)
    monkeypatch.setenv(zygote.ENV_SWITCH, "0")
    fresh = run_isolated("start_join", tmp_path, seed=5, hidden=True, sandbox=Sandbox(level))
    assert "FORKED True" in forked.output and "FORKED False" in fresh.output
    if level == "bwrap":  # a fresh sandbox's session is led by bwrap's own init, pid 1 there
        assert "FACT session leader True" in forked.output
        assert "FACT session leader False" in fresh.output
        forked.output = forked.output.replace("leader True", "leader False")
    assert facts(forked.output) == facts(fresh.output) != []
    assert "FACT ctypes refused" in forked.output and "FACT ctypes loaded []" in forked.output
    assert sorted(forked.tampering) == sorted(fresh.tampering)
    assert any("signalling another process" in t for t in forked.tampering)
    assert forked.result.points == fresh.result.points == 0


def test_a_sandbox_that_wraps_the_worker_otherwise_is_never_forked():
    """AsUser runs the grading process as an unprivileged user through its own command; a fork
    of the zygote (root's, on Gradescope) would skip that command and run the learner as root."""
    from graders.instructor.as_user import AsUser

    for level in ("process", "netns"):
        assert not zygote.usable(AsUser(level, "nobody", 65534, 65534))
    with zygote.for_submission(AsUser("bwrap", "nobody", 65534, 65534)) as warm:
        assert warm is None


HANGS = """
import time
while True:
    time.sleep(0.01)
"""


@pytest.mark.skipif(not works("bwrap"), reason="bubblewrap does not work here")
def test_a_task_past_its_limit_in_a_submissions_sandbox_is_killed_there(tmp_path: Path):
    """Inside the submission's sandbox a grading process has another pid than outside. The
    parent kills its group by the pid the kernel gave it (SO_PASSCRED), not the zygote's
    number: else the time limit would miss it, and the run would never end."""
    (tmp_path / "start_join.py").write_text(HANGS)
    limits = Limits(seconds=1.0, import_seconds=0)
    start = time.monotonic()
    run = run_forked("start_join", tmp_path, "bwrap", seed=5, limits=limits)
    assert time.monotonic() - start < 15
    assert run.exit_code is None  # killed at the limit
    assert run.result.points == 0
    assert "FORKED" not in run.output


HANGS_AT_IMPORT = """
import os, time
open(os.path.join(os.getcwd(), "importing"), "w").close()
time.sleep(120)
"""
PARENT = """
import sys
from graders.engine.isolated import run_isolated
run_isolated("start_join", sys.argv[1], seed=5)
"""


@pytest.mark.skipif(not zygote.usable(Sandbox("process")), reason="no zygote on this platform")
def test_a_killed_parent_leaves_no_folder_behind(tmp_path: Path):
    """SIGKILL gives the grading parent no chance to clean up: its zygote notices (EOF on its
    socket), kills the run still going, and removes the run's folder and its own home."""
    submission, scratch = tmp_path / "submission", tmp_path / "tmp"
    submission.mkdir(), scratch.mkdir()
    (submission / "start_join.py").write_text(HANGS_AT_IMPORT)
    env = os.environ | {"TMPDIR": str(scratch), "THREADKIT_IMPORT_SECONDS": "0"}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(submission)], env=env)
    try:
        assert until(lambda: list(scratch.glob("threadkit-run-*/importing"))), "no run started"
        assert {p.name.split("-")[1] for p in scratch.iterdir()} == {"run", "zygote"}
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert until(lambda: not any(scratch.iterdir())), sorted(p.name for p in scratch.iterdir())


def until(condition: Callable[[], object], seconds: float = 20.0) -> bool:
    """Whether `condition` comes true within `seconds` (polled: it depends on other processes)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


WRITES_IN_TMPDIR = """
import errno, os, tempfile

tmp = tempfile.gettempdir()
print("FACT in the sandbox's tmpfs", tmp == "/tmp/" + os.path.basename(os.getcwd()))
print("FACT runs in there", len([n for n in os.listdir("/tmp") if n.startswith("threadkit-run")]))
try:
    with open(os.path.join(tmp, "big"), "wb") as f:
        for _ in range(8):
            f.write(b"x" * 1024 * 1024)
    print("FACT wrote 8 MiB")
except OSError as exc:
    print("FACT full", exc.errno == errno.ENOSPC)
"""


@pytest.mark.skipif(not (works("bwrap") and scratch_sized()), reason="no bwrap with --size")
def test_a_submissions_tmpdirs_share_one_capped_tmpfs_and_each_goes_with_its_run(tmp_path: Path):
    """At bwrap each run's TMPDIR is a folder in the submission's own tmpfs: never on the
    host's disk, capped at `scratch_bytes` for all of the submission's tasks (a learner who
    fills it fails only their own checks), and removed by the zygote when the run ends."""
    (tmp_path / "start_join.py").write_text(WRITES_IN_TMPDIR)
    with zygote.for_submission(Sandbox("bwrap"), scratch_bytes=4 * 1024**2) as warm:
        assert warm is not None and warm.scratch == "/tmp"
        runs = [
            run_isolated("start_join", tmp_path, seed=5, sandbox=Sandbox("bwrap"), zygote=warm)
            for _ in range(2)
        ]
    for run in runs:
        assert "FACT in the sandbox's tmpfs True" in run.output
        assert "FACT full True" in run.output, run.output
        assert "FACT runs in there 1" in run.output  # the first run's folder went with it
    with zygote.for_submission(Sandbox("bwrap"), scratch_bytes=16 * 1024**2) as warm:
        run = run_isolated("start_join", tmp_path, seed=5, sandbox=Sandbox("bwrap"), zygote=warm)
    assert "FACT wrote 8 MiB" in run.output, run.output


def test_a_bwrap_sandbox_caps_its_tmpfs_only_when_asked():
    from graders.engine.sandbox import _bwrap_prefix

    capped = _bwrap_prefix(Path("/w"), set(), 1024)
    at = capped.index("--tmpfs")
    assert capped[at - 2 : at + 2] == ["--size", "1024", "--tmpfs", SCRATCH]
    assert "--size" not in _bwrap_prefix(Path("/w"), set())
