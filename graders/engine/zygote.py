"""A warm grading process that forks one child per task, like multiprocessing's forkserver.

A fresh grading process spends ~0.4 s of CPU importing the kit, requests and the HTTP fixture
before it runs a single check: most of `make check` on the stubs, and a third of a batch. The
zygote (`python -m graders.engine.zygote`, started once per grading parent) imports all of
that once, then waits on a private socket. For each task the parent sends it the worker's
arguments, the environment, the limits and three file descriptors (the child's stdin, its
output pipe, its report pipe; SCM_RIGHTS); the zygote forks a child that becomes exactly the
grading process graders.engine.worker would have been, and tells the parent its pid and, later,
its exit status. The parent (graders.engine.isolated) then treats it as it treats a process it
started itself: it hands over the key on stdin, drains the two pipes, enforces the time limit
by killing the process group, and unseals the report.

Where os.fork and socket.send_fds exist:
- `process`, `netns`: one zygote per grading parent (`shared`), on the machine.
- `bwrap`: one zygote per submission (`for_submission`, used by graders.instructor.batch.run),
  inside a bwrap sandbox of its own; every task of that submission is forked from it. A fresh
  sandbox and interpreter per task cost `make grade-one` on the solutions 0.7 s of CPU more,
  of 2.7 (docs/design.md, "Grading processes").
Everywhere else, and whenever a zygote cannot start, dies, or does not answer, a task gets the
old path: a fresh interpreter (in a fresh sandbox, at bwrap). THREADKIT_ZYGOTE=0 turns zygotes
off; THREADKIT_ZYGOTE_DEBUG=1 lets the zygote's own errors reach the parent's stderr.

The parent learns a child's pid from the kernel, not from the zygote: the child announces
itself on the control socket, and SO_PASSCRED gives the parent the sender's pid as the parent
numbers it. In a bwrap sandbox (a PID namespace of its own) the zygote's number for the child
is another process's number outside; and no process in the sandbox can make the parent kill
a process group outside it.

Why the guard's promises (graders.engine.guard) still hold in a forked child
----------------------------------------------------------------------------
- The zygote never runs learner code and never installs the guard (an audit hook cannot be
  removed, and its closure would hold a stale key in every child). It imports the kit, the
  standard library and the task's *visible* suites only: hidden checks are imported by the
  child, for its own task, as the worker always did. No learner module is ever imported in
  the zygote, so no child inherits another submission's state.
- Fresh key: the key never passes through the zygote. The parent writes it into the child's
  own stdin pipe after the fork; the zygote only forwarded the pipe's read end. The child reads
  it, installs its own guard holding it, and makes stdin /dev/null (worker.main, unchanged).
- Own sealed channel: each child's report pipe reaches the zygote by SCM_RIGHTS and is closed
  in the zygote right after the fork, before it reads the next request (it is single-threaded),
  so no other child ever holds it. The child closes every descriptor but 0, 1, 2 and its report
  pipe: not the zygote's control socket (through which it could ask for more processes), not
  the zygote's wake-up pipe, nothing of another run.
- Own copy of modules: fork gives the child a copy-on-write copy of the zygote's memory.
  Whatever the learner's code patches (threading, requests, a grader function) changes the
  child's copy only; the zygote and the next child never see it. The guard's snapshot of the
  grader's modules is the state at the child's install, as in a fresh process, so a
  replacement is reported just the same: the zygote takes it ahead (guard.Snapshot), and the
  child keeps a module's parts only where every name of it still binds the same object at its
  install; it takes the rest (what the child imported, the wrapped fork_exec) then.
- Own limits: the child calls process.apply_limits (address space, file size, no core,
  SIGKILL when its parent, the zygote, dies) before any learner code, and starts a session of
  its own before it announces itself to the parent (so killing its process group, from the
  moment the parent can, kills it and nothing else); for `netns` it unshares a
  user and network namespace of its own, as `unshare --user --map-root-user --net` did. The
  parent enforces the wall-clock limit and the output cap as before; the zygote also kills the
  child's process group when it reaps it, while the pid cannot yet be reused.
- Refusals unchanged: ctypes is imported in the zygote (for prctl and unshare), so the child
  removes it from sys.modules before the guard is installed: a learner's `import ctypes` raises
  the import event and is refused as before; and every ctypes call raises a `ctypes.` event the
  guard refuses from anyone. Processes, signals, files, network: the same hook, the same rules.
- Randomness: random reseeds itself in a forked child (os.register_at_fork), tempfile's names
  too; the key comes from the parent's `secrets`. Only the str hash seed is shared between the
  children of one zygote, which no check relies on.
- No threads: the zygote never starts a thread, so no lock can be held at the fork.

What one sandbox per submission (bwrap) shares, and why that is as safe as one per task
---------------------------------------------------------------------------------------
The sandbox is the wall between a submission and everything else: the host, the kit's
solutions and tests, other submissions. That wall is the same: the sandbox shows the Python
installation, graders/, and this submission's folder only, and it is the only writable one.
Inside it, the tasks of one submission now share a /tmp, a PID namespace, a network namespace,
and the view of every task's hidden checks (each task's process imports its own). Everything
in there is the same learner's: a module that escaped the guard could reach the next task's
process, or read another task's hidden checks; but the same escape written into that task's
own file, which the learner also hands in, reaches as far in a sandbox of its own. So a
sandbox per task bought nothing against the learner whose files these are.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING

from graders.engine import bytecode, process
from graders.engine.process import DEFAULT_LIMITS

if TYPE_CHECKING:
    from typing import Any, NoReturn

    from graders.engine import guard
    from graders.engine.process import Limits
    from graders.engine.sandbox import Sandbox

ENV_SWITCH = "THREADKIT_ZYGOTE"  # "0": every task in a fresh interpreter, as before
LEVELS = ("process", "netns")  # one shared zygote on the machine serves these
SANDBOXED = ("bwrap",)  # a zygote inside each submission's own sandbox (for_submission)
MAX_MESSAGE = 1024 * 1024
START_TIMEOUT = 60.0  # seconds for the zygote to fork a child (it may still be importing)
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


# ---------------------------------------------------------------- the parent's side


class Forked:
    """A grading process forked by the zygote, as graders.engine.isolated uses a Popen.

    `stdin` takes the key, `stdout` carries what the process printed; `wait` returns its exit
    code (negative: killed by that signal) or raises subprocess.TimeoutExpired.
    """

    def __init__(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = 0
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self.error = ""
        self._started = threading.Event()
        self._exited = threading.Event()

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired("graders.engine.worker", timeout or 0.0)
        return self.returncode if self.returncode is not None else -signal.SIGKILL


class Zygote:
    """The parent's handle on one zygote process: send requests, dispatch its answers."""

    def __init__(self, sandbox: Sandbox | None = None, scratch_bytes: int | None = None) -> None:
        """A zygote on this machine (`process`, `netns`), or, given a bwrap `sandbox`, one
        inside a sandbox of its own whose folder (`folder`) must hold every run's folder.
        `scratch_bytes`: the sandbox's /tmp is a tmpfs of that size, and each run's TMPDIR
        is a folder in it (`scratch`), where bwrap can cap a tmpfs (else TMPDIR stays in the
        run's folder)."""
        bytecode.prepare()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if _PASSCRED:  # the kernel then says which process sent each message
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._home = tempfile.mkdtemp(prefix="threadkit-zygote-")
        self.folder = Path(self._home) if sandbox is not None else None
        from graders.engine.sandbox import SCRATCH, scratch_sized

        sized = sandbox is not None and scratch_bytes is not None and scratch_sized()
        self.scratch = SCRATCH if sized else None
        self._sock = ours
        self._send_lock = threading.Lock()
        self._runs: dict[int, Forked] = {}
        self._next = 0
        self._owner = os.getpid()
        self.alive = True
        cmd = [sys.executable, "-m", "graders.engine.zygote", str(theirs.fileno()), self._home]
        env = _zygote_env(self._home)
        if sandbox is not None:
            capped = scratch_bytes if sized else None
            cmd = sandbox.wrap_submission(cmd, folder=Path(self._home), scratch_bytes=capped)
            env |= sandbox.env()
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self._home,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL if not os.environ.get("THREADKIT_ZYGOTE_DEBUG") else None,
                pass_fds=(theirs.fileno(),),
                env=env,
                start_new_session=True,  # Ctrl-C in the terminal reaches the parent only
            )
        except OSError:
            shutil.rmtree(self._home, ignore_errors=True)
            raise
        finally:
            theirs.close()
        threading.Thread(target=self._read, name="threadkit-zygote", daemon=True).start()

    def fork(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        limits: Limits,
        result_fd: int,
        netns: bool,
    ) -> Forked | None:
        """Fork a grading process running worker.main(args); None if the zygote cannot.

        In a sandbox with a capped tmpfs the run's TMPDIR is a folder there, named as its
        work folder `cwd`: the child makes it and may write in it (worker's `--scratch`); the
        zygote removes it when the child ends. A learner's downloads then never reach a
        disk: creating and removing them on ext4 cost a graded submission 0.1 to 0.25 s of
        kernel CPU, more with every batch (docs/design.md, "Grading processes")."""
        scratch = f"{self.scratch}/{cwd.name}" if self.scratch else ""
        if scratch:
            args, env = [*args, f"--scratch={scratch}"], env | {"TMPDIR": scratch}
        key_r, key_w = os.pipe()
        out_r, out_w = os.pipe()
        run = Forked(os.fdopen(key_w, "wb"), os.fdopen(out_r, "rb"))
        request = {
            "args": list(args),
            "cwd": str(cwd),
            "env": dict(env),
            "limits": asdict(limits),
            "result_fd": result_fd,
            "netns": netns,
            "scratch": scratch,
        }
        try:
            with self._send_lock:
                self._next += 1
                request["id"] = number = self._next
                self._runs[number] = run
                payload = repr(request).encode("utf-8")
                socket.send_fds(self._sock, [payload], [key_r, out_w, result_fd])
        except OSError:
            self.alive = False
        finally:
            os.close(key_r)  # in flight, the descriptors belong to the message now
            os.close(out_w)
        if not self.alive or not run._started.wait(START_TIMEOUT) or run.error or not run.pid:
            self._forget(run)
            return None
        return run

    def _forget(self, run: Forked) -> None:
        for stream in (run.stdin, run.stdout):
            if stream is not None:
                stream.close()
        with self._send_lock:
            self._runs = {k: v for k, v in self._runs.items() if v is not run}

    def _read(self) -> None:
        """Dispatch the zygote's answers until it goes; then fail whatever is still waiting."""
        while True:
            try:
                data, ancillary, _, _ = self._sock.recvmsg(MAX_MESSAGE, _CREDENTIALS_SPACE)
            except OSError:
                data, ancillary = b"", []
            if not data:
                break
            try:
                kind, number, value = ast.literal_eval(data.decode("utf-8"))
            except (ValueError, SyntaxError, UnicodeDecodeError):
                continue
            with self._send_lock:
                run = self._runs.get(number)
                if kind == "exited":
                    self._runs.pop(number, None)
            if run is None:
                continue
            if kind == "started":  # sent by the child itself, once it leads its own session
                run.pid = _sender(ancillary) if _PASSCRED else int(value)
                run._started.set()
            elif kind == "failed":
                run.error = str(value)
                run._started.set()
            elif kind == "exited":
                run.error = run.error or ("" if run.pid else "it ended before it started")
                run.returncode = int(value)
                run._started.set()
                run._exited.set()
        self.alive = False
        with self._send_lock:
            left, self._runs = list(self._runs.values()), {}
        for run in left:
            run.error = run.error or "the zygote ended"
            run._started.set()
            run._exited.set()

    def close(self) -> None:
        """Stop the zygote (it kills its children's process groups first)."""
        if os.getpid() != self._owner:
            return  # a fork of the parent: the socket is shared, leave it to its owner
        self.alive = False
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self._home, ignore_errors=True)


_PASSCRED = hasattr(socket, "SO_PASSCRED") and hasattr(socket, "SCM_CREDENTIALS")
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
_CREDENTIALS_SPACE = socket.CMSG_SPACE(_CREDENTIALS.size) if _PASSCRED else 0


def _sender(ancillary: list[tuple[int, int, bytes]]) -> int:
    """The pid of the process that sent a message, as the kernel gives it in this process's
    own PID namespace (a child of a zygote in a bwrap sandbox has another number in there);
    0 if there is none."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            return int(_CREDENTIALS.unpack(data[: _CREDENTIALS.size])[0])
    return 0


def _zygote_env(home: str) -> dict[str, str]:
    """The zygote's environment: a grading process's (graders.engine.process.environment),
    with a private, empty HOME, so no user site-packages join sys.path. Each child gets its
    run's own environment after the fork."""
    return process.environment(home=Path(home), tmp=Path(home))


_shared: Zygote | None = None
_shared_lock = threading.Lock()


def _forget_shared() -> None:
    """In a forked copy of a grading parent: start a zygote of its own if it ever needs one."""
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_shared)


def usable(sandbox: Sandbox) -> bool:
    """Whether tasks at this isolation level can be forked from the shared zygote here."""
    return sandbox.level in LEVELS and _forks(sandbox)


def _forks(sandbox: Sandbox) -> bool:
    """Whether a zygote may serve this sandbox here. Only the plain levels: a Sandbox of
    another kind wraps the worker in a command of its own that a fork would skip
    (graders.instructor.as_user's AsUser drops to an unprivileged user)."""
    from graders.engine.sandbox import Sandbox

    return (
        type(sandbox) is Sandbox
        and hasattr(os, "fork")
        and hasattr(socket, "send_fds")
        and hasattr(socket, "SOCK_SEQPACKET")
        and os.environ.get(ENV_SWITCH, "1") != "0"
    )


@contextlib.contextmanager
def for_submission(
    sandbox: Sandbox, scratch_bytes: int = DEFAULT_LIMITS.scratch_bytes
) -> Iterator[Zygote | None]:
    """For the block: a zygote of its own inside one bwrap sandbox, for one submission's tasks
    (run_isolated's `zygote`); None at the other levels (the shared zygote serves them), or
    when it cannot start (each task then gets a fresh sandbox, as before)."""
    if sandbox.level not in SANDBOXED or not _forks(sandbox):
        yield None
        return
    try:
        warm = Zygote(sandbox, scratch_bytes)
    except OSError:
        yield None
        return
    try:
        yield warm
    finally:
        warm.close()


def warm_up(level: str = "process") -> None:
    """Start the shared zygote now, if tasks at this isolation level will use it: it imports
    while the caller imports and renders what it needs itself."""
    from graders.engine.sandbox import Sandbox

    if usable(Sandbox(level)):
        shared()


def shared() -> Zygote | None:
    """This process's zygote, started on first use (and again if it died); None if it cannot."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive:
            try:
                _shared = Zygote()
            except OSError:
                _shared = None
            else:
                atexit.register(_shared.close)
        return _shared


def fork_worker(
    args: list[str],
    *,
    sandbox: Sandbox,
    cwd: Path,
    env: dict[str, str],
    limits: Limits,
    result_fd: int,
    zygote: Zygote | None = None,
) -> Forked | None:
    """The grading process for worker `args`, forked from `zygote` (a submission's own,
    for_submission) or else from the shared one; None when the caller must start a fresh
    interpreter instead (level, platform, switch, zygote failure)."""
    if result_fd < 3:
        return None
    if zygote is None:
        zygote = shared() if usable(sandbox) else None
    if zygote is None or not zygote.alive:
        return None
    return zygote.fork(
        args, cwd=cwd, env=env, limits=limits, result_fd=result_fd, netns=sandbox.level == "netns"
    )


# ---------------------------------------------------------------- the zygote's side


def serve(control_fd: int, home: str = "") -> None:
    """The zygote's loop: import everything once, then fork a child per request until EOF.

    At EOF the parent is gone (or done): the zygote kills the children still running and
    removes what would otherwise stay behind if the parent was killed: their run folders and
    `home`, its own."""
    prior = _preload()

    unshare = _find_unshare()
    control = socket.socket(fileno=control_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: dict[int, int] = {}  # pid -> request id
    folders: dict[int, str] = {}  # pid -> its run folder, while it runs
    scratches: dict[int, str] = {}  # pid -> its TMPDIR in the sandbox's tmpfs, if it has one
    me = os.getpid()

    def answer(*message: object) -> None:
        try:
            control.send(repr(message).encode("utf-8"))
        except OSError:
            pass

    while True:
        for key, _ in selector.select():
            if key.fileobj is wake_r:
                _drain(wake_r)
                _reap(children, answer)
                for pid in [p for p in folders if p not in children]:
                    del folders[pid]
                    _remove_folders([scratches.pop(pid, "")])
                continue
            try:
                data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 3)
            except OSError:
                data, fds = b"", []
            if not data:  # the parent is gone: so are its grading processes
                for fd in fds:
                    os.close(fd)
                _kill_all(children)
                _remove_folders([folders[p] for p in children if p in folders] + [home])
                return
            request = _parse(data, fds)
            if request is None:
                for fd in fds:
                    os.close(fd)
                continue
            ready_r, ready_w = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:
                for fd in (*fds, ready_r, ready_w):
                    os.close(fd)
                answer("failed", request["id"], f"fork: {exc}")
                continue
            if pid == 0:
                closing = (selector, control, wake_r, wake_w, ready_r)
                limits = (process.apply_limits, process.Limits)
                _child(request, fds, closing, ready_w, me, limits, unshare, prior)
            for fd in (*fds, ready_w):  # the child has them; no later child may inherit them
                os.close(fd)
            _await_session(ready_r)
            children[pid] = request["id"]
            folders[pid] = request["cwd"]
            scratches[pid] = request["scratch"]


def _preload() -> guard.Snapshot:
    """Import what every grading process imports, once: the worker, the engine, the kit, the
    visible suites of every task (requests, requests_mock and the HTTP fixture with them).
    Hidden suites are not imported here: each child imports its own task's, as before.

    Returns the guard's snapshot of what was imported, for each child to reuse what it still
    holds (guard.Snapshot)."""
    from graders.engine import guard, worker
    from graders.kit.http_fixture import load_requests
    from graders.tasks import TASKS

    for task in TASKS:
        task.suite()
    load_requests()
    worker.warm_up()
    return guard.Snapshot(guard.watched_modules())


def _find_unshare() -> Callable[[int], int] | None:
    """unshare(2), looked up before any fork: os.unshare (3.12+), libc's (Linux), or None."""
    native = getattr(os, "unshare", None)
    if native is not None:

        def call(flags: int) -> int:
            native(flags)  # raises OSError on failure
            return 0

        return call
    try:
        import ctypes

        found: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).unshare
    except (OSError, AttributeError):
        return None
    return found


def _parse(data: bytes, fds: list[int]) -> dict[str, Any] | None:
    """A request, if it is one: a literal dict with the expected fields and three descriptors."""
    try:
        request = ast.literal_eval(data.decode("utf-8"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    fields = {"id", "args", "cwd", "env", "limits", "result_fd", "netns", "scratch"}
    if type(request) is not dict or set(request) != fields or len(fds) != 3:
        return None
    return request


def _await_session(ready: int) -> None:
    """Wait until the child leads a session of its own (or died trying): before that, killing
    its process group (_reap, _kill_all) would miss it."""
    try:
        os.read(ready, 1)
    finally:
        os.close(ready)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass


def _reap(children: dict[int, int], answer: Callable[..., None]) -> None:
    """Report every child that ended, after killing its process group. Where waitid exists
    the group is killed while the child is still a zombie, so its pid cannot have been reused
    by then; elsewhere just after it is reaped (as subprocess users do)."""
    while children:
        pid = _ended_child()
        if pid is None:
            return
        process.kill_group(pid)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = _reaped.pop(pid, 0)
        process.kill_group(pid)
        number = children.pop(pid, None)
        if number is not None:
            answer("exited", number, os.waitstatus_to_exitcode(status))


def _ended_child() -> int | None:
    """The pid of a child that has ended (not reaped yet where waitid can tell), or None."""
    try:
        if hasattr(os, "waitid"):
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            return info.si_pid if info is not None and info.si_pid else None
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return None
    if not pid:
        return None
    _reaped[pid] = status  # reaped already: os.waitpid(pid) below would find nothing
    return pid


_reaped: dict[int, int] = {}


def _remove_folders(paths: list[str]) -> None:
    """Remove each folder the kit made (named threadkit-*), whatever it holds; skip others."""
    for path in paths:
        if path and os.path.basename(path).startswith("threadkit-"):
            shutil.rmtree(path, ignore_errors=True)


def _kill_all(children: dict[int, int]) -> None:
    for pid in children:
        process.kill_group(pid)
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _child(
    request: dict[str, Any],
    fds: list[int],
    closing: tuple[selectors.BaseSelector, socket.socket, int, int, int],
    ready: int,
    zygote_pid: int,
    limits: tuple[Callable[[Limits], None], type[Limits]],
    unshare: Callable[[int], int] | None,
    prior: guard.Snapshot,
    _exit: Callable[[int], NoReturn] = os._exit,
) -> NoReturn:
    """In the forked child: become the grading process for this request, never return."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        selector, control, *raw = closing
        selector.close()
        for fd in raw:
            os.close(fd)
        os.setsid()
        apply_limits, limits_type = limits
        apply_limits(limits_type(**request["limits"]))
        os.close(ready)  # the zygote may go on (see _await_session)
        if os.getppid() != zygote_pid:  # the zygote died before PDEATHSIG was set
            _exit(1)
        _announce(control, request["id"])
        _redirect(fds, request["result_fd"])
        if request["netns"]:
            _enter_netns(unshare)
        if request["scratch"]:
            os.mkdir(request["scratch"], 0o700)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # TMPDIR is the run's own folder now
        _forget_ctypes()
        from graders.engine import worker

        worker.main(request["args"], prior=prior)
    except BaseException:  # noqa: BLE001 - whatever happens, never return into the zygote
        import traceback

        traceback.print_exc()
    finally:
        _exit(70)


def _announce(control: socket.socket, number: int) -> None:
    """Tell the parent this process has started, from this process itself: the kernel adds
    its pid as the parent sees it (Zygote._read), even across a PID namespace. Only then, as
    the session leader, so that killing the group from that moment kills it and nothing else.
    Then the control socket is closed: no learner code can reach the zygote."""
    try:
        control.send(repr(("started", number, os.getpid())).encode("utf-8"))
    finally:
        os.close(control.detach())  # no object left that would close a reused number later


def _redirect(fds: list[int], result_fd: int) -> None:
    """stdin, stdout+stderr and the report pipe at their numbers; every other one closed."""
    key, output, report = fds
    os.dup2(key, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    if report != result_fd:
        os.dup2(report, result_fd)
    for fd in _open_fds():
        if fd > 2 and fd != result_fd:
            try:
                os.close(fd)
            except OSError:
                pass


def _open_fds() -> list[int]:
    """This process's open descriptors (/proc/self/fd; else every number up to the limit)."""
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        pass
    try:
        top = int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        top = 65536
    return list(range(min(top, 65536)))


def _enter_netns(unshare: Callable[[int], int] | None) -> None:
    """A network namespace of its own, only loopback in it (as `unshare --net`; unprivileged:
    in a user namespace of its own, mapped to root as `--map-root-user` does)."""
    if unshare is None:
        raise OSError("unshare is not available: cannot isolate the network")
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if unshare(flags) != 0:
        raise OSError("unshare failed: cannot isolate the network")
    if flags & CLONE_NEWUSER:
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"0 {uid} 1"),
            ("gid_map", f"0 {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)


def _forget_ctypes() -> None:
    """Drop ctypes from sys.modules, so that a learner's import of it raises the import event
    the guard refuses, as in a fresh grading process (which never imports it)."""
    for name in [n for n in sys.modules if n in ("ctypes", "_ctypes") or n.startswith("ctypes.")]:
        del sys.modules[name]


if __name__ == "__main__":
    from graders.engine.zygote import serve as _serve  # the module's own copy, not __main__'s

    _serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
    os._exit(0)  # nothing to flush or clean: skip tearing down every module (~0.08 s)
