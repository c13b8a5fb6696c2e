"""The grading process's guard: what learner code may not do, and the one way a verdict leaves.

graders.engine.worker installs it after the task's checks are imported and before any learner code
runs. It is an audit hook (PEP 578), which Python code cannot remove, and it keeps everything it
needs in its closure: the key that seals reports, the report pipe, a snapshot of the grader's
modules, the notes on what learner code tried. Once installed it

- refuses, from learner code: ctypes, gc's object walks, frame and trace introspection, eval,
  exec and code objects, reading the kit's files (solutions, tests, hidden checks) or /proc;
- refuses from anyone: writing under the kit, starting processes, signalling other processes,
  and every network address but loopback (the HTTP fixture never opens a socket). Starting a
  process includes multiprocessing's spawn and forkserver, which go through
  `_posixsubprocess.fork_exec` and raise no audit event of their own: the guard wraps it;
- for a task that declares a process cap (`Policy.process_cap`, from the suite's PROCESS_CAP)
  and only there, lets multiprocessing's own fork (`multiprocessing.popen_fork.Popen._launch`)
  start up to that many processes per check, from the grading process itself, and lets it
  signal the processes of its own process group (a pool's terminate()). The children inherit
  this guard, its closure and the limits with the forked memory; in them every process start
  is refused, so a child cannot start more, and a child may grow the address space it
  inherited by CHILD_MEMORY at most, so that the cap cannot multiply the memory limit;
- seals a report only when `sys.audit("threadkit.report", body)` comes from the worker's own
  report function on the worker's own call stack, and adds to it, where the worker cannot leave
  them out, the notes and any grader function or class that was replaced since installation.

"Learner code" is decided from the call stack: the first frame outside the standard library
and site-packages is either the grader's (trusted) or not (learner). Refusals of the first
kind are tampering: the parent gives the task 0. The others just raise PermissionError in the
learner's code, as a sandbox would. This is defence in depth, not a sandbox: CPython has no
boundary inside one process, so the parent also screens the source
(graders.instructor.batch.screen) and,
where it can, runs the process in a namespace or bubblewrap (graders.engine.sandbox).
"""

from __future__ import annotations

import _posixsubprocess
import _thread
import os
import pathlib
import resource
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import BuiltinFunctionType, CodeType, FunctionType, MethodType, ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the snapshot covers this module's namespace
    from collections.abc import Mapping
    from types import FrameType
    from typing import Any

    # One module or class in a snapshot: its label, its namespace, the callables in it.
    _Part = tuple[str, Mapping[str, object], tuple[tuple[str, object], ...]]

REPORT_EVENT = "threadkit.report"
MAX_NOTES = 20

# Modules whose functions and classes must be the same at every report as at installation.
WATCHED = (
    "graders",
    "threading",
    "_thread",
    "time",
    "requests",
    "requests_mock",
    "json",
    "random",
    "os",
    "posixpath",
    "sys",
    "builtins",
    "socket",
    "queue",
    "concurrent",
    "functools",
    "traceback",
    "linecache",
    "tempfile",
    "pathlib",
    "shutil",
    "io",
    "hashlib",
    "binascii",
    "signal",
    "contextlib",
    "collections",
    "importlib",
    "types",
    "dataclasses",
    "subprocess",
    "_posixsubprocess",
    "multiprocessing",
)
# _posixsubprocess is imported (and wrapped) before the guard is installed: importing it again
# means it was taken out of sys.modules to get a fresh, unwrapped fork_exec.
FORBIDDEN_IMPORTS = frozenset({"ctypes", "_ctypes", "cffi", "_cffi_backend", "_posixsubprocess"})
INTROSPECTION = frozenset(
    {
        "sys._getframe",
        "sys._getframemodulename",
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "sys.monitoring.register_callback",
        "object.__getattr__",
        "object.__setattr__",
        "object.__delattr__",
        "compile",
        "exec",
        "code.__new__",
        "function.__new__",
        "marshal.loads",
        "marshal.load",
    }
)
OBJECT_WALKS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents"})
PROCESSES = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
        "_posixsubprocess.fork_exec",  # raised by the guard's own wrapper (no audit event)
    }
)
KILLS = frozenset({"os.kill", "os.killpg"})
FILE_CHANGES = frozenset(
    {
        "os.rename",
        "os.remove",
        "os.rmdir",
        "os.mkdir",
        "os.symlink",
        "os.link",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
    }
)
NETWORK = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind"})
NAME_LOOKUPS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
    }
)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "ip6-localhost"})
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
PATH_TYPES = frozenset({pathlib.PosixPath, pathlib.PurePosixPath, os.DirEntry})
SPECIAL_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/urandom"})
CHILD_MEMORY = 128 * 1024**2  # address space a forked child may add to what it inherits


@dataclass(frozen=True)
class Policy:
    """Where things are: what counts as the grader, the library, and what may be written."""

    kit_root: str
    grader_root: str
    hidden_files: tuple[str, ...]  # every task's hidden checks (Task.files().hidden)
    allowed_hidden: tuple[str, ...]  # hidden-check files this task must import (already did)
    write_roots: tuple[str, ...]  # the run's private work folder
    library_roots: tuple[str, ...]
    process_cap: int = 0  # processes multiprocessing's fork may start per check (0: none)

    @classmethod
    def for_run(
        cls,
        kit_root: str,
        workdir: str,
        hidden: Iterable[str] = (),
        hidden_files: Iterable[str] = (),
        process_cap: int = 0,
    ) -> Policy:
        kit_root = os.path.realpath(kit_root)
        return cls(
            kit_root=kit_root,
            grader_root=os.path.join(kit_root, "graders"),
            hidden_files=tuple(os.path.realpath(h) for h in hidden_files),
            allowed_hidden=tuple(os.path.realpath(h) for h in hidden),
            write_roots=(os.path.realpath(workdir),),
            library_roots=_library_roots(),
            process_cap=process_cap,
        )


def _library_roots() -> tuple[str, ...]:
    """The standard library and site-packages, as Python spells them and as the disk resolves
    them: a .venv that is a symlink (a git worktree sharing one) loads its packages under the
    spelling, and the guard compares paths without resolving links."""
    roots: set[str] = set()
    for scheme_vars in ({}, {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}):
        paths = sysconfig.get_paths(vars=scheme_vars or None)
        roots.update(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib"))
    roots.add(os.path.dirname(os.__file__))
    return tuple(sorted({os.path.abspath(r) for r in roots} | {os.path.realpath(r) for r in roots}))


def _fork_path() -> CodeType:
    """The one function allowed to fork under a process cap: multiprocessing's own launcher."""
    import multiprocessing.popen_fork

    launch: FunctionType = vars(multiprocessing.popen_fork.Popen)["_launch"]
    return launch.__code__


def watched_modules() -> list[ModuleType]:
    """The loaded modules the snapshot covers (graders.*, and what graders rely on)."""
    found = []
    for name, module in sorted(sys.modules.items()):
        top = name.partition(".")[0]
        if top in WATCHED and isinstance(module, ModuleType):
            found.append(module)
    return found


def snapshot(modules: Iterable[ModuleType]) -> tuple[_Part, ...]:
    """For each module (and each class it defines): its namespace and the callables in it."""
    parts: list[_Part] = []
    for module in modules:
        name = module.__name__
        parts.append((name, vars(module), _callables(vars(module))))
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                label = f"{name}.{value.__qualname__}"
                parts.append((label, value.__dict__, _callables(value.__dict__)))
    return tuple(parts)


_CALLABLE_TYPES = (
    FunctionType,
    BuiltinFunctionType,
    MethodType,
    type,
    classmethod,
    staticmethod,
    property,
)


def _callables(namespace: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    return tuple(
        (k, v)
        for k, v in list(namespace.items())
        if isinstance(v, _CALLABLE_TYPES) and not (k.startswith("__") and k.endswith("__"))
    )


def install(
    seal: Callable[[tuple[object, ...]], bytes],
    nonce: str,
    fd: int,
    report_code: CodeType,
    policy: Policy,
    modules: Iterable[ModuleType],
) -> None:
    """Install the guard. Call it from the function that will call the report function.

    Everything the hook uses is bound here, as a local of this call, so nothing learner code
    does to a module (this one included) changes what the hook does.
    """
    _getframe = sys._getframe
    _write = os.write
    _getpid = os.getpid
    _getpgrp = os.getpgrp
    _getpgid = os.getpgid
    _getcwd = os.getcwd
    _fspath = os.fspath
    _type, _str, _bytes, _int, _tuple = type, str, bytes, int, tuple
    _len = len
    _decode = bytes.decode
    _any, _getattr = any, getattr
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC
    report_event, max_notes, special_files = REPORT_EVENT, MAX_NOTES, SPECIAL_FILES
    introspection, forbidden_imports, object_walks = INTROSPECTION, FORBIDDEN_IMPORTS, OBJECT_WALKS
    processes, kills, file_changes = PROCESSES, KILLS, FILE_CHANGES
    network, name_lookups, loopback_names = NETWORK, NAME_LOOKUPS, LOOPBACK_NAMES
    forbidden_events = frozenset({"import"})
    frame_attrs, path_types = FRAME_ATTRIBUTES, PATH_TYPES
    _lock = _thread.allocate_lock()
    _local = _thread._local()
    _sep = "/"
    PermissionError_ = PermissionError
    kit = policy.kit_root + _sep
    graders_dir = policy.grader_root + _sep
    hidden_files = frozenset(policy.hidden_files)
    hidden_compiled = _tuple(  # their bytecode: folder/__pycache__/hidden.*.pyc
        h.rsplit(_sep, 1)[0] + "/__pycache__/hidden." for h in policy.hidden_files
    )
    allowed_hidden = frozenset(policy.allowed_hidden)
    libraries = _tuple(r + _sep for r in policy.library_roots)
    write_roots = _tuple(r + _sep for r in policy.write_roots)
    installer = _getpid()
    cap = policy.process_cap
    fork_code = _fork_path() if cap > 0 else None
    if cap > 0:
        os.register_at_fork(after_in_child=_limit_child_memory)
    modules = list(modules)
    _wrap_fork_exec(lambda args: hook("_posixsubprocess.fork_exec", args))
    snap = snapshot(modules)
    sys_modules = sys.modules
    module_ids = _tuple((m.__name__, m) for m in modules)
    state = {"seq": 0, "started": 0}  # reports sealed; processes started in this check
    notes: list[tuple[str, str, str]] = []
    callers: list[CodeType] = []
    frame: FrameType | None = _getframe(1)
    while frame is not None:
        callers.append(frame.f_code)
        frame = frame.f_back
    chain = _tuple(callers)
    del frame

    def kind(code: CodeType) -> str:
        name = code.co_filename
        if name.startswith("<"):
            return "library"
        if name.startswith(graders_dir):
            return "grader"
        if name.startswith(libraries):
            return "library"
        return "learner"

    def origin(frame: FrameType | None) -> tuple[str, FrameType | None]:
        """Who is behind an event: the first frame outside the library, and that frame."""
        while frame is not None:
            who = kind(frame.f_code)
            if who != "library":
                return who, frame
            frame = frame.f_back
        return "learner", None

    def where(frame: FrameType | None) -> str:
        while frame is not None:
            if kind(frame.f_code) == "learner":
                name = frame.f_code.co_filename.rpartition(_sep)[2]
                return f"{name}:{frame.f_lineno}"
            frame = frame.f_back
        return "a thread of yours"

    def note(kind_: str, what: str, frame: FrameType | None) -> None:
        with _lock:
            if _len(notes) < max_notes:
                notes.append((kind_, what, where(frame)))

    def refuse(kind_: str, what: str, frame: FrameType | None) -> None:
        note(kind_, what, frame)
        raise PermissionError_(f"threadkit grading: {what} is not allowed while grading")

    def normpath(path: Any) -> str:  # any audit argument; checked below by exact type
        if _type(path) in path_types:
            path = _fspath(path)  # pathlib's own classes (a learner's PathLike is refused)
        if _type(path) is _bytes:
            path = _decode(path, "utf-8", "surrogateescape")
        if _type(path) is not _str:
            return ""
        if not path.startswith(_sep):
            path = _getcwd() + _sep + path
        parts: list[str] = []
        for part in path.split(_sep):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
            else:
                parts.append(part)
        return _sep + _sep.join(parts)

    def writable(path: str) -> bool:
        return path in special_files or (path + _sep).startswith(write_roots)

    def check_write(path: str, event: str, frame: FrameType | None) -> None:
        if (path + _sep).startswith(kit):
            refuse("tamper", f"changing the kit's files ({event} {path})", frame)
        if not writable(path):
            refuse("blocked", f"writing outside the grading folder ({event} {path})", frame)

    def check_read(path: str, frame: FrameType | None) -> None:
        if path.startswith("/proc/") and origin(frame)[0] == "learner":
            refuse("tamper", f"reading {path}", frame)
        if path.startswith(libraries):  # a lazy import, even of a package in the kit's .venv
            return
        if not (path + _sep).startswith(kit) or path.startswith(graders_dir):
            secret = path in hidden_files or path.startswith(hidden_compiled)
            if not secret or path in allowed_hidden:
                return
        if origin(frame)[0] == "learner":
            refuse("tamper", f"reading the kit's file {path}", frame)

    def on_open(args: tuple[Any, ...], frame: FrameType | None) -> None:
        path, mode, flags = (_tuple(args) + (None, None, None))[:3]
        if _type(path) is _int:
            return
        if _type(path) not in (_str, _bytes) and _type(path) not in path_types:
            refuse("tamper", f"opening a file through a {_type(path).__name__} object", frame)
        path = normpath(path)
        writing = (_type(mode) is _str and _any(c in mode for c in "wax+")) or (
            _type(flags) is _int and flags & write_flags
        )
        if writing:
            check_write(path, "open", frame)
        check_read(path, frame)

    def loopback(address: Any) -> bool:
        if _type(address) is _tuple and address:
            host = address[0]
            if _type(host) is _bytes:
                host = _decode(host, "ascii", "replace")
            return _type(host) is _str and (host in loopback_names or host.startswith("127."))
        return False

    def on_report(args: tuple[Any, ...], frame: FrameType | None) -> None:
        genuine = frame is not None and frame.f_code is report_code
        up = frame.f_back if genuine and frame is not None else None
        for code in chain:
            if up is None or up.f_code is not code:
                genuine = False
                break
            up = up.f_back
        if not genuine or up is not None or _len(args) != 1 or _type(args[0]) is not _tuple:
            refuse("tamper", "sending a grading report", frame)
        with _lock:
            found = _tuple(notes) + changed()
            notes.clear()
            line = seal((nonce, state["seq"]) + args[0] + (found,))
            state["seq"] += 1
            state["started"] = 0  # a report ends a check: the next one has the whole cap
            while line:
                line = line[_write(fd, line) :]

    def may_fork(event: str, frame: FrameType | None) -> bool:
        """multiprocessing's own fork, from the grading process, within this check's cap."""
        if fork_code is None or event != "os.fork" or _getpid() != installer:
            return False
        if frame is None or frame.f_code is not fork_code:
            return False
        with _lock:
            allowed = state["started"] < cap
            state["started"] += allowed
        if not allowed:
            refuse("tamper", f"starting more than {cap} processes in one check", frame)
        return True

    def own_child(event: str, target: Any) -> bool:
        """A signal from the grading process (under a cap) to a process it started: a pool's
        workers that terminate() stops.

        The grading process leads its group (a new session), so the group's other members are
        the processes it started; where it does not, the target's parent (Linux's /proc) says.
        """
        if fork_code is None or event != "os.kill" or _type(target) is not _int or target <= 0:
            return False
        if _getpid() != installer or target == installer:
            return False
        if _getpgrp() != installer:
            return parent_of(target) == installer
        try:
            return _getpgid(target) == installer
        except OSError:  # already gone: the signal reaches no one
            return True

    def parent_of(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                return _int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return -1

    def changed() -> tuple[tuple[str, str, str], ...]:
        found = []
        for name, module in module_ids:
            if sys_modules.get(name) is not module:
                found.append(("tamper", f"sys.modules[{name!r}] was replaced", "your code"))
        for label, namespace, items in snap:
            for key, value in items:
                if namespace.get(key) is not value:
                    found.append(("tamper", f"{label}.{key} was replaced", "your code"))
        return _tuple(found[:max_notes])

    def decide(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        if event == report_event:
            on_report(args, frame)
        elif event == "open":
            on_open(args, frame)
        elif event in introspection or event.startswith("sys.monitoring"):
            if frame is not None and kind(frame.f_code) == "learner":
                refuse("tamper", f"{event} (introspection of the grader)", frame)
        elif event == "import" and args and args[0] in forbidden_imports:
            refuse("tamper", f"importing {args[0]}", frame)
        elif event.startswith("ctypes."):
            refuse("tamper", event, frame)
        elif event in object_walks:
            if origin(frame)[0] == "learner":
                refuse("tamper", f"{event} (walking the grader's objects)", frame)
        elif event in processes:
            if not may_fork(event, frame):
                refuse("blocked", f"starting a process ({event})", frame)
        elif event in kills:
            target = args[0] if args else None
            ours = (0, _getpgrp()) if event == "os.killpg" else (0, _getpid(), -_getpgrp())
            if target not in ours and not own_child(event, target):
                refuse("tamper", f"signalling another process ({event})", frame)
        elif event in file_changes:
            for path in args[:2]:
                if _type(path) in (_str, _bytes) or _type(path) in path_types:
                    check_write(normpath(path), event, frame)
        elif event in network:
            if _len(args) > 1 and not loopback(args[1]):
                refuse("blocked", f"the network ({event} to {args[1]!r})", frame)
        elif event in name_lookups:
            host: Any = args[0] if args else None
            if _type(host) is _bytes:
                host = _decode(host, "ascii", "replace")
            if not (_type(host) is _str and (host in loopback_names or host.startswith("127."))):
                refuse("blocked", f"the network (looking up {host!r})", frame)

    handled = (
        introspection | forbidden_events | object_walks | processes | kills | file_changes
    ) | (network | name_lookups | frozenset({report_event, "open", "import"}))

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in handled and not event.startswith(("ctypes.", "sys.monitoring")):
            return
        if event == "object.__getattr__" and (_len(args) < 2 or args[1] not in frame_attrs):
            return  # f_code and the like: harmless without a frame, and the grader's own
        if _getattr(_local, "busy", False):
            return  # an event the guard itself raised (reading a frame's f_code)
        _local.busy = True
        try:
            try:
                frame = _getframe(1)
            except ValueError:
                frame = None
            decide(event, args, frame)
        finally:
            _local.busy = False

    sys.addaudithook(hook)


def _limit_child_memory() -> None:
    """In a forked child: its address-space limit becomes what it inherited plus CHILD_MEMORY
    (never more than the limit it had). Linux only; elsewhere the inherited limit stays."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    size = pages * os.sysconf("SC_PAGE_SIZE") + CHILD_MEMORY
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or size < soft:
        resource.setrlimit(resource.RLIMIT_AS, (size, hard))


def _wrap_fork_exec(audit: Callable[[tuple[Any, ...]], None]) -> None:
    """Put an audit in front of `_posixsubprocess.fork_exec`, which has none of its own.

    subprocess.Popen raises "subprocess.Popen" first, but multiprocessing's spawn and
    forkserver (multiprocessing.util.spawnv_passfds) and a direct call reach fork_exec
    unannounced. subprocess keeps a reference of its own (3.11+), replaced too; a fresh import
    of `_posixsubprocess` would be a new "import" event, and both modules are in WATCHED.
    """
    original = _posixsubprocess.fork_exec

    def fork_exec(*args: Any) -> Any:
        audit(args)
        return original(*args)

    setattr(_posixsubprocess, "fork_exec", fork_exec)  # noqa: B010 - typeshed's signature
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None and hasattr(subprocess, "_fork_exec"):
        setattr(subprocess, "_fork_exec", fork_exec)  # noqa: B010
