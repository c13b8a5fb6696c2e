"""graders.engine.process: every child process of the kit is limited, watched and killed whole.

Proved by observation, never by timing: a process is known dead when the last copy of a pipe
it held reaches end-of-file (a process closes its descriptors only when it dies), and a limit
is known applied when the child reads it back itself.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine import process
from graders.engine.process import Limits
from graders.learner.pictures.timeline import record_timeline

PY = sys.executable
EOF_WITHIN = 60.0  # seconds: generous on a loaded machine; a live holder never gives EOF


def eof(fd: int, within: float = EOF_WITHIN) -> bool:
    """True once every holder of the pipe's write end is gone (read to the end), False if one
    still held it after `within` seconds."""
    while True:
        ready, _, _ = select.select([fd], [], [], within)
        if not ready:
            return False
        if not os.read(fd, 4096):
            return True


def kill(pid: int) -> None:
    """Clean up after a failed test (a process that should be dead already)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_line(fd: int, within: float = EOF_WITHIN) -> str:
    ready, _, _ = select.select([fd], [], [], within)
    assert ready, "the child never wrote"
    return os.read(fd, 4096).decode().strip()


def start(code: str, limits: Limits, *args: str, pass_fds: tuple[int, ...] = ()):
    return process.start(
        [PY, "-c", code, *args],
        limits=limits,
        env=process.environment(),
        stdin=subprocess.DEVNULL,
        pass_fds=pass_fds,
    )


GRANDCHILD = """
import os, subprocess, sys, time
fd = sys.argv[1]
grandchild = (
    "import os, sys, time; os.write(int(sys.argv[1]), str(os.getpid()).encode()); time.sleep(600)"
)
subprocess.Popen([sys.executable, "-c", grandchild, fd], pass_fds=(int(fd),), stdout=-3, stderr=-3)
os.close(int(fd))
time.sleep(600)
"""


def test_the_time_limit_kills_the_whole_group_grandchildren_included():
    r, w = os.pipe()
    limits = Limits(seconds=1.0)
    try:
        proc = start(GRANDCHILD, limits, str(w), pass_fds=(w,))
    finally:
        os.close(w)
    watched = process.Watched(proc, limits)
    grandchild = int(read_line(r))  # running, holding the pipe (not the output); clock starts below
    finished = watched.finish()
    try:
        assert finished.exit_code is None  # killed at the limit, not ended
        assert eof(r), f"grandchild {grandchild} outlived its group's kill"
    finally:
        os.close(r)
        kill(grandchild)


def test_output_is_kept_up_to_the_cap_and_the_rest_counted():
    limits = Limits(output_bytes=1024)
    echoed: list[bytes] = []
    proc = start("import sys; sys.stdout.write('x' * 200_000)", limits)
    finished = process.Watched(proc, limits, echo=echoed.append).finish()
    assert finished.exit_code == 0 and not finished.flooded
    kept, note = finished.output.split("\n", 1)
    assert kept == "x" * 1024
    assert note == f"[output cut: {200_000 - 1024} more bytes were printed]"
    assert b"".join(echoed).startswith(b"x" * 1024) and b"output cut" in b"".join(echoed)


def test_a_flood_of_output_kills_the_group_long_before_the_time_limit():
    limits = Limits(seconds=600.0, output_bytes=1024, flood_bytes=256 * 1024)
    proc = start("import sys\nwhile True:\n    sys.stdout.write('y' * 65536)", limits)
    finished = process.Watched(proc, limits).finish()
    assert finished.flooded
    assert finished.exit_code == -9  # SIGKILL by the drain, not the time limit (None)


def test_stop_all_kills_every_watched_process_at_once():
    limits = Limits(seconds=600.0)
    proc = start("import time; time.sleep(600)", limits)
    watched = process.Watched(proc, limits)
    process.stop_all()
    assert watched.finish().exit_code == -9


MIDDLE = """
import os, subprocess, sys
from graders.engine import process
fd = int(sys.argv[1])
child = process.start(
    [sys.executable, "-c", "import time; time.sleep(600)"],
    limits=process.Limits(), env=process.environment(), stdin=subprocess.DEVNULL, pass_fds=(fd,),
)
os.write(fd, b"%d\\n" % child.pid)
os._exit(0)  # no clean-up of any kind: the child must die of its parent's death alone
"""


@pytest.mark.skipif(process._prctl is None, reason="no prctl: death with the parent is Linux's")
def test_a_child_dies_with_its_parent():
    r, w = os.pipe()
    try:
        middle = subprocess.Popen(
            [PY, "-c", MIDDLE, str(w)], pass_fds=(w,), env=process.environment()
        )
    finally:
        os.close(w)
    child = int(read_line(r))
    try:
        assert middle.wait(timeout=EOF_WITHIN) == 0
        assert eof(r), f"child {child} outlived its parent"
    finally:
        os.close(r)
        kill(child)


PROBE = """
import ctypes, json, os, resource, signal, sys
got = ctypes.c_int(0)
ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(got))  # PR_GET_PDEATHSIG
print(json.dumps({
    "as": resource.getrlimit(resource.RLIMIT_AS),
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE),
    "core": resource.getrlimit(resource.RLIMIT_CORE),
    "session leader": os.getsid(0) == os.getpid(),
    "pdeathsig": got.value,
    "oom": open("/proc/self/oom_score_adj").read().strip() if sys.platform == "linux" else "",
    "home": os.environ.get("HOME"), "tmp": os.environ.get("TMPDIR"),
    "malloc arenas": os.environ.get("MALLOC_ARENA_MAX"),
    "python vars": sorted(k for k in os.environ if k.startswith("PYTHON")),
}))
"""


def test_a_grading_process_gets_none_of_the_callers_secrets(monkeypatch: pytest.MonkeyPatch):
    """Learner code can print its environment into its feedback: an instructor's tokens and
    keys must not be in it. The locale and the kit's own settings are."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_for_learners")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-learners")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("THREADKIT_IMPORT_SECONDS", "7")
    proc = process.start(
        [PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
        limits=Limits(),
        env=process.environment(home=Path("/nonexistent/home")),
        stdin=subprocess.DEVNULL,
    )
    finished = process.Watched(proc, Limits()).finish()
    seen = json.loads(finished.output)
    assert "not_for_learners" not in finished.output and "not-for-learners" not in finished.output
    assert seen["LC_ALL"] == "C.UTF-8" and seen["THREADKIT_IMPORT_SECONDS"] == "7"
    assert seen["HOME"] == "/nonexistent/home" and seen["PATH"] == os.environ["PATH"]


def test_limits_session_and_environment_are_applied_before_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PYTHONSTARTUP", "/nonexistent/startup.py")  # the caller's: not passed
    limits = Limits(memory_bytes=1024**3, file_bytes=1024**2)
    proc = process.start(
        [PY, "-c", PROBE],
        limits=limits,
        env=process.environment(home=tmp_path, tmp=tmp_path / "tmp"),
        stdin=subprocess.DEVNULL,
    )
    finished = process.Watched(proc, limits).finish()
    assert finished.exit_code == 0, finished.output
    seen = json.loads(finished.output)
    assert seen["as"] == [1024**3, 1024**3]
    assert seen["fsize"] == [1024**2, 1024**2]
    assert seen["core"] == [0, 0]
    assert seen["session leader"] is True
    if process._prctl is not None:
        assert seen["pdeathsig"] == 9
    if sys.platform == "linux":
        assert seen["oom"] == "1000"  # the OOM killer takes a grading process first
    assert seen["home"] == str(tmp_path) and seen["tmp"] == str(tmp_path / "tmp")
    assert seen["malloc arenas"] == process.MALLOC_ARENAS
    assert seen["python vars"] == [
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",
        "PYTHONSAFEPATH",
        "PYTHONUNBUFFERED",
    ]


THREADS = """
import os, threading
ready, go = threading.Barrier(151), threading.Event()
def work():
    chunks = [bytearray(1000) for _ in range(50)]  # malloc in this thread: it gets an arena
    ready.wait()
    go.wait()
threads = [threading.Thread(target=work) for _ in range(150)]
for i, t in enumerate(threads):
    try:
        t.start()
    except RuntimeError as exc:
        print(f"thread {i}: {exc}", flush=True)
        os._exit(3)
ready.wait()
go.set()
for t in threads:
    t.join()
print("ok")
"""


def test_a_child_under_the_default_limits_can_run_150_threads_at_once():
    """More threads than any task starts (deadlock's workshop size: 100) fit in the address
    space a grading process is given, with room for the kit: without the arena cap, 150
    reserve over 2 GiB."""
    proc = start(THREADS, process.DEFAULT_LIMITS)
    finished = process.Watched(proc, process.DEFAULT_LIMITS).finish()
    assert (finished.exit_code, finished.output.strip()) == (0, "ok"), finished.output


def test_a_pictures_child_gets_the_same_limits(tmp_path: Path):
    """The timeline's child (graders.engine.child) floods: it is stopped and its output cut,
    where it used to fill the parent's memory until the timeout."""
    (tmp_path / "downloader.py").write_text(
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    )
    timeline = record_timeline("downloader", tmp_path, timeout=300.0)
    assert "exit code -9" in timeline.note and "output cut" in timeline.note, timeline.note
