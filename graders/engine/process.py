"""One way to run learner code in another process: limited, in a session of its own, watched.

Whatever the kit runs in a child process (the grading process of graders.engine.isolated, a
picture's or the demo's child of graders.engine.child) gets, from here and nowhere else:

- a session (and so a process group) of its own, so the group can be killed with everything
  the learner's code started, grandchildren included;
- resource limits (`Limits`: address space, file size, no core dump) and death with its parent
  (Linux: SIGKILL when the thread that started it ends), applied before the command runs;
- the isolation level's command prefix (graders.engine.sandbox) and one environment
  (`environment`);
- its output (stdout and stderr, one pipe) drained while it runs, kept up to a cap, counted
  past it, and the group killed when it floods;
- the group killed at the wall-clock limit, and again when the process ends (threads or
  processes it left behind), and by `stop_all` (an interrupted batch stops at once).

How the result comes back is the caller's protocol, kept apart on purpose: a sealed verdict
channel for grading, a JSON file for pictures.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from graders.engine import bytecode
from graders.paths import KIT_ROOT

if TYPE_CHECKING:  # kept light: the zygote imports this module before it starts
    from graders.engine.sandbox import Sandbox

PR_SET_PDEATHSIG = 1

_live: set[int] = set()  # process groups of watched processes still running
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process; the defaults are the kit's, resolved here once
    (`make grade`'s options and command line take theirs from these)."""

    seconds: float = 60.0  # wall clock, from when the caller starts waiting
    memory_bytes: int = 2 * 1024**3  # address space
    output_bytes: int = 64 * 1024  # printed output kept
    flood_bytes: int = 1024**2  # printed output that gets the process killed
    file_bytes: int = 64 * 1024**2  # the biggest file it may write
    # at bwrap, with a zygote: all one submission's tasks may write, in a tmpfs of this size
    scratch_bytes: int = 256 * 1024**2
    # each import of the learner's module, in a grading process (graders.kit.import_budget);
    # None: the setting (THREADKIT_IMPORT_SECONDS, else 5 s), 0: no limit
    import_seconds: float | None = None


DEFAULT_LIMITS = Limits()


class Running(Protocol):
    """A started child process as the watcher needs it: a Popen, or a zygote's Forked."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None

    def wait(self, timeout: float | None = None) -> int: ...


# glibc gives each new thread that allocates a malloc arena of its own, reserving 64 MiB of
# address space each, up to 8 per core. Under the address-space limit (Limits.memory_bytes),
# 100 threads (deadlock's workshop size) reserved 1.8 GiB, 0.9 of it arenas: a correct program
# could fail with "can't start new thread" (seen on 3.13, where a mutant failed a check outside
# its requirement in 3 runs of 6). Two arenas: 0.9 GiB.
MALLOC_ARENAS = "2"


# All a grading process keeps of its caller's environment: where commands are, HOME, the
# locale and time zone (how text is decoded, times shown), and this kit's own settings. Learner
# code can print its environment into the feedback its learner reads, and an instructor's shell
# or a CI runner holds tokens and keys in theirs (and proxies, LD_PRELOAD, PYTHONSTARTUP).
KEPT_VARIABLES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ"})
KEPT_PREFIXES = ("LC_", "THREADKIT_")


def environment(
    *, sandbox: Sandbox | None = None, home: Path | None = None, tmp: Path | None = None
) -> dict[str, str]:
    """A child's environment: of the caller's, only what KEPT_VARIABLES and KEPT_PREFIXES
    name; this kit importable, output unbuffered, no .pyc litter, the script's own folder not
    on sys.path, glibc's malloc arenas capped; HOME and TMPDIR moved where given; the level's
    own variables."""
    env = {
        k: v for k, v in os.environ.items() if k in KEPT_VARIABLES or k.startswith(KEPT_PREFIXES)
    }
    env["PYTHONPATH"] = str(KIT_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONSAFEPATH"] = "1"
    env["MALLOC_ARENA_MAX"] = MALLOC_ARENAS
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    if home is not None:
        env["HOME"] = str(home)
    return env | (sandbox.env() if sandbox is not None else {})


def start(
    cmd: list[str],
    *,
    limits: Limits,
    env: dict[str, str],
    cwd: Path | None = None,
    sandbox: Sandbox | None = None,
    hidden_file: Path | None = None,
    stdin: int = subprocess.PIPE,
    pass_fds: Iterable[int] = (),
) -> subprocess.Popen[bytes]:
    """`cmd` started at the isolation level, in a session of its own, limited, dying with its
    parent; stdout and stderr into one pipe (read it with `Watched`)."""
    bytecode.prepare()
    if sandbox is not None:
        cmd = sandbox.wrap(cmd, workdir=cwd or Path.cwd(), hidden_file=hidden_file)
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=tuple(pass_fds),
        env=env,
        start_new_session=True,
        preexec_fn=lambda: apply_limits(limits),
    )


def apply_limits(limits: Limits) -> None:
    """In the child, before it runs anything: the resource limits, and death with the parent.
    (A zygote's forked child calls this too, right after its own setsid.)"""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _die_with_parent()
    _first_to_go_when_memory_runs_out()


def _first_to_go_when_memory_runs_out() -> None:
    """Ask Linux's OOM killer to pick this process first (oom_score_adj 1000; any process may
    raise its own). Submissions graded side by side may together hold more than the machine
    has (JOBS times the address-space limit): the kernel then kills a grading process, whose
    task fails, and never the grader. Best effort: elsewhere there is no such file."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    except OSError:
        return
    try:
        os.write(fd, b"1000")
    except OSError:
        pass
    finally:
        os.close(fd)


def _die_with_parent() -> None:
    """SIGKILL the child if its parent dies (Linux), so none is ever orphaned."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _find_prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up here, before any fork (importing after a fork can deadlock)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()


@dataclass(frozen=True)
class Finished:
    """How a watched process ended and what it printed."""

    exit_code: int | None  # None: killed for running past Limits.seconds
    output: str  # cut at Limits.output_bytes, with a note saying how much more there was
    flooded: bool  # it printed more than Limits.flood_bytes and was killed for it


class Watched:
    """A started process from now until it ends: its output drained (capped), its group killed
    on a flood, at the time limit and when it ends, and reachable by `stop_all` meanwhile.

    `echo` (a picture's live output) is given each kept chunk as it arrives.
    """

    def __init__(
        self, proc: Running, limits: Limits, *, echo: Callable[[bytes], None] | None = None
    ) -> None:
        if proc.stdout is None:
            raise RuntimeError("a watched process needs its stdout pipe")
        self.proc = proc
        self.limits = limits
        with _live_lock:
            _live.add(proc.pid)
        self.output = Drain(
            proc.stdout.fileno(), limits.output_bytes, limits.flood_bytes, proc.pid, echo
        )

    def kill(self) -> None:
        """Kill the process and everything in its group now."""
        kill_group(self.proc.pid)

    def finish(self) -> Finished:
        """Wait for the end (at most Limits.seconds, then kill), then collect the output."""
        exit_code = _wait(self.proc, self.limits.seconds)
        with _live_lock:
            _live.discard(self.proc.pid)
        self.output.join()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return Finished(exit_code, self.output.text(), self.output.flooded)


def stop_all() -> None:
    """Kill every watched process still running (an interrupted batch stops at once)."""
    with _live_lock:
        groups = list(_live)
    for pid in groups:
        kill_group(pid)


class Drain(threading.Thread):
    """Reads a pipe to its end while the child runs: keeps `limit` bytes, counts the rest.

    The child never blocks on a full pipe, however much it writes, and never dies of it;
    past `flood` bytes (0: never) the process group `group` is killed.
    """

    def __init__(
        self,
        fd: int,
        limit: int,
        flood: int = 0,
        group: int = 0,
        echo: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.limit = limit
        self.flood = flood
        self.group = group
        self.echo = echo
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
            if self.echo is not None:
                self._echo(chunk[:room], cut=len(chunk) > room and not self.dropped)
            kept += min(room, len(chunk))
            self.dropped += len(chunk) - min(room, len(chunk))
            if self.flood and not self.flooded and kept + self.dropped > self.flood:
                self.flooded = True
                kill_group(self.group)
        self.data = b"".join(self._chunks)

    def _echo(self, kept: bytes, *, cut: bool) -> None:
        assert self.echo is not None
        if kept:
            self.echo(kept)
        if cut:
            note = f"\n[output cut at {self.limit // 1024} KiB: the rest is not shown]\n"
            self.echo(note.encode())

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


def _wait(proc: Running, seconds: float) -> int | None:
    """The exit code, or None when the process had to be killed for running too long."""
    try:
        return proc.wait(timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait()
        return None
    finally:
        kill_group(proc.pid)  # threads or children the learner left behind


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (gone already, or not ours: nothing to do)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
