"""The grading process's guard: what learner code may not do, and the one way a verdict leaves.

graders.engine.worker installs it after the task's checks are imported and before any learner code
runs. It is an audit hook (PEP 578), which Python code cannot remove. install() makes every rule
below with its factory, as a closure over all it needs (the key that seals reports, the report
pipe, a snapshot of the grader's modules, the notes on what learner code tried, the builtins it
calls), and the hook finds a rule in a table (event name, else prefix -> rule) that only its own
closure holds. Nothing learner code does afterwards to a module, this one included, changes a
rule. Nor does a rule ever run learner code: while it decides, the hook lets every event pass
(its own included), so the values an event carries are read through the builtin types only,
never through their own __repr__, __eq__, __hash__ or a metaclass (`_exactly`, `_describer`).

Whose code is behind an event is read from the call stack: a code object's file is the grader's
(under graders/), the library's (the standard library, site-packages, "<frozen ...>") or the
learner's (anything else). Learner code cannot make a code object that claims another file:
compile, exec, code.__new__ and function.__new__ are refused to it. Some rules ask about the
frame that raised the event, others about its origin, the first frame outside the library, so
that the library doing the learner's bidding (pathlib opening a file) counts as the learner.

A refusal is "tamper" (the parent gives the task 0) or "blocked" (PermissionError in the learner's
code, as a sandbox would raise; the grade stands). The rules, by factory:

- `_report_rule` (threadkit.report): a report is sealed and written only when it is raised by the
  worker's report function called through exactly the frames that called install(), with one
  tuple as body; anything else is tamper. It holds because learner code can neither make nor
  swap code objects, and the key and the pipe exist only in this closure. The notes and every
  grader function or class replaced since installation (`_replacement_finder`) go into the
  sealed report here, where the worker cannot leave them out.
- `_open_rule` (open): the path must be str, bytes or pathlib's own (a learner's PathLike could
  name one file to the guard and another to open: tamper). Writing goes to the run's work folder
  (and its TMPDIR, when that is in a sandbox's tmpfs) and a few devices only: never the kit
  (tamper), nowhere else (blocked). Learner code reads no /proc and none of the kit's files but
  the grader's own and the hidden checks the task has already imported (tamper). Paths are
  normalised by name from the current folder, as the open resolves them; links inside the kit
  are the sandbox's concern (graders.engine.sandbox).
- `_introspection_rule` (frames, tracing, audit hooks, eval/exec/compile, code and function
  objects, marshal, sys.monitoring.*): tamper when the frame that raised it is the learner's.
  The library uses these honestly (logging reads frames), so only direct use is refused.
- `_import_rule` (import): ctypes, cffi and a second _posixsubprocess (an unwrapped fork_exec)
  are tamper, from anyone: they reach any memory or start processes unseen.
- `_ctypes_rule` (ctypes.*): tamper, from anyone, should ctypes be loaded already.
- `_object_walk_rule` (gc.get_objects, get_referrers, get_referents): tamper when learner code is
  behind them: they reach every object, this guard's closures included.
- `_process_rule` (subprocess, os.system/exec/spawn/fork, pty, `_posixsubprocess.fork_exec`):
  blocked from anyone. multiprocessing's spawn and forkserver raise no event of their own and go
  through fork_exec, so install() wraps it (`_wrap_fork_exec`) before taking the snapshot.
  The one exception (`_fork_allowance`): for a task that declares a process cap
  (`Policy.process_cap`, the suite's PROCESS_CAP), multiprocessing's own fork
  (`multiprocessing.popen_fork.Popen._launch`, identified by its code object) may start up to
  that many processes per check from the grading process itself; one more is tamper. The
  children inherit this guard, its closures and limits with the forked memory; in them every
  start is refused (their pid is not the installer's), so a child cannot start more, and a
  child may grow the address space it inherited by CHILD_MEMORY at most, so that the cap cannot
  multiply the memory limit.
- `_signal_rule` (os.kill, os.killpg): tamper unless the target is this process or its own
  group, or, under a cap, a process the grading process started (`_own_child_test`: a pool's
  terminate()), judged by group or, outside a session of its own, by the target's parent.
- `_file_change_rule` (rename, remove, mkdir, links, chmod, shutil's copies and moves ...): both
  paths are checked as writes, as open's are.
- `_network_rule` (socket connect, sendto, sendmsg, bind): blocked unless the address is a
  (host, port) whose host is loopback, by graders.engine.loopback's test (made here, at
  installation), the one offline() uses too. The HTTP fixture never opens a socket.
- `_name_lookup_rule` (getaddrinfo, gethostbyname ...): blocked unless the name is loopback; a
  look-up of any other name is traffic in itself.

This is defence in depth, not a sandbox: CPython has no boundary inside one process, so the
parent also screens the source (graders.instructor.batch.screen) and, where it can, runs the
process in a namespace or bubblewrap (graders.engine.sandbox).
"""

from __future__ import annotations

import _posixsubprocess
import _thread
import operator
import os
import pathlib
import resource
import sys
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import BuiltinFunctionType, CodeType, FunctionType, MethodType, ModuleType
from typing import TYPE_CHECKING

from graders.engine.loopback import loopback_test

if TYPE_CHECKING:  # annotations only: the snapshot covers this module's namespace
    from collections.abc import Mapping
    from types import FrameType
    from typing import Any, NoReturn

    # One module or class in a snapshot: its label, its namespace, the callables in it.
    _Part = tuple[str, Mapping[str, object], tuple[tuple[str, object], ...]]
    # A namespace's names, and the objects bound to them, in its order.
    _Bindings = tuple[tuple[str, ...], tuple[object, ...]]
    # A rule: (event, args, the frame that raised it) -> None, or PermissionError.
    _Rule = Callable[[str, tuple[Any, ...], FrameType | None], None]
    # refuse(kind, what, frame): note it ("tamper" or "blocked") and raise PermissionError.
    _Refuse = Callable[[str, str, FrameType | None], NoReturn]
    # A note for the parent: (kind, what, where).
    _Note = tuple[str, str, str]

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
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
PATH_TYPES = frozenset({pathlib.PosixPath, pathlib.PurePosixPath, os.DirEntry})
SPECIAL_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/urandom"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC
CHILD_MEMORY = 128 * 1024**2  # address space a forked child may add to what it inherits


@dataclass(frozen=True)
class Policy:
    """Where things are: what counts as the grader, the library, and what may be written."""

    kit_root: str
    grader_root: str
    hidden_files: tuple[str, ...]  # every task's hidden checks (Task.files().hidden)
    allowed_hidden: tuple[str, ...]  # hidden-check files this task must import (already did)
    write_roots: tuple[str, ...]  # the run's private work folder (and TMPDIR, if elsewhere)
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
        scratch: str = "",
    ) -> Policy:
        """`workdir` and `scratch` (a TMPDIR outside it, if any) are the writable folders."""
        kit_root = os.path.realpath(kit_root)
        return cls(
            kit_root=kit_root,
            grader_root=os.path.join(kit_root, "graders"),
            hidden_files=tuple(os.path.realpath(h) for h in hidden_files),
            allowed_hidden=tuple(os.path.realpath(h) for h in hidden),
            write_roots=tuple(os.path.realpath(p) for p in (workdir, scratch) if p),
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


_is = operator.is_


def snapshot(modules: Iterable[ModuleType], prior: Snapshot | None = None) -> tuple[_Part, ...]:
    """For each module (and each class it defines): its namespace and the callables in it.
    A module `prior` holds unchanged gives its parts from there (see Snapshot)."""
    parts: list[_Part] = []
    for module in modules:
        kept = prior.unchanged(module) if prior is not None else None
        parts.extend(kept if kept is not None else _module_parts(module))
    return tuple(parts)


def _module_parts(module: ModuleType) -> tuple[_Part, ...]:
    name = module.__name__
    parts: list[_Part] = [(name, vars(module), _callables(vars(module)))]
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == name:
            label = f"{name}.{value.__qualname__}"
            parts.append((label, value.__dict__, _callables(value.__dict__)))
    return tuple(parts)


class Snapshot:
    """The parts of modules, taken ahead (by the zygote, before it forks), with every name and
    object of each namespace they came from.

    Taking the parts costs a grading process ~10.5 ms (every name of ~800 namespaces, tested
    one by one); telling whether a namespace still binds every name to the same object, and
    nothing more, costs ~1.4 ms for all of them. When it does, a snapshot taken now would
    find exactly these parts, so a child reuses them: its snapshot is still the state at its
    install.
    """

    def __init__(self, modules: Iterable[ModuleType]) -> None:
        self._taken: dict[str, tuple[ModuleType, tuple[_Part, ...], tuple[_Bindings, ...]]] = {}
        for module in modules:
            parts = _module_parts(module)
            bindings = tuple((tuple(ns), tuple(ns.values())) for _, ns, _ in parts)
            self._taken[module.__name__] = (module, parts, bindings)

    def unchanged(self, module: ModuleType) -> tuple[_Part, ...] | None:
        """The module's parts, if it is the module they were taken from and none of their
        namespaces changed since; else None."""
        taken = self._taken.get(module.__name__)
        if taken is None or taken[0] is not module:
            return None
        _, parts, bindings = taken
        for (_, namespace, _), (names, objects) in zip(parts, bindings):
            if len(namespace) != len(names) or tuple(namespace) != names:
                return None
            if not all(map(_is, namespace.values(), objects)):
                return None
        return parts


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
    prior: Snapshot | None = None,
) -> None:
    """Install the guard. Call it from the function that will call the report function.

    Every rule is made here, by its factory, as a closure over what it needs; the hook holds
    them in a table that lives only in its own closure, so nothing learner code does to a
    module (this one included) changes what the hook does.
    """
    chain = _callers(sys._getframe(1))  # the report must come back through these frames
    lock, installer = _thread.allocate_lock(), os.getpid()
    kind = _classifier(policy)
    origin, where = _origin_finder(kind), _where_finder(kind)
    refuse, take_notes = _notebook(where, lock)
    may_fork, new_check = _fork_allowance(policy, installer, lock, refuse)
    if policy.process_cap > 0:
        os.register_at_fork(after_in_child=_limit_child_memory)
    modules = list(modules)
    _wrap_fork_exec(lambda args: hook("_posixsubprocess.fork_exec", args))
    # after the wrap: the wrapped fork_exec is the one in the snapshot
    changed = _replacement_finder(modules, prior)
    normpath, is_loopback = _normaliser(), loopback_test()
    check_write = _write_check(policy, refuse)
    report = _report_rule(
        seal=seal,
        nonce=nonce,
        fd=fd,
        report_code=report_code,
        chain=chain,
        lock=lock,
        take_notes=take_notes,
        changed=changed,
        new_check=new_check,
        refuse=refuse,
    )
    introspection = _introspection_rule(kind, refuse)
    table = _dispatch(
        ((REPORT_EVENT,), report),
        (("open",), _open_rule(normpath, check_write, _read_check(policy, origin, refuse), refuse)),
        (INTROSPECTION, introspection),
        (("import",), _import_rule(refuse)),
        (OBJECT_WALKS, _object_walk_rule(origin, refuse)),
        (PROCESSES, _process_rule(may_fork, refuse)),
        (KILLS, _signal_rule(_own_child_test(policy, installer), refuse)),
        (FILE_CHANGES, _file_change_rule(normpath, check_write)),
        (NETWORK, _network_rule(is_loopback, refuse)),
        (NAME_LOOKUPS, _name_lookup_rule(is_loopback, refuse)),
    )
    prefixed = (("ctypes.", _ctypes_rule(refuse)), ("sys.monitoring", introspection))
    hook = _hook(table, prefixed)
    sys.addaudithook(hook)


def _callers(frame: FrameType | None) -> tuple[CodeType, ...]:
    """The code of every frame from `frame` outwards: the installer's call stack."""
    codes: list[CodeType] = []
    while frame is not None:
        codes.append(frame.f_code)
        frame = frame.f_back
    return tuple(codes)


def _dispatch(*groups: tuple[Iterable[str], _Rule]) -> dict[str, _Rule]:
    """The event -> rule table. An event named by two groups is a mistake in this module."""
    table: dict[str, _Rule] = {}
    for events, rule in groups:
        for event in events:
            if event in table:
                raise ValueError(f"guard: {event} has two rules")
            table[event] = rule
    return table


def _hook(
    table: Mapping[str, _Rule], prefixed: tuple[tuple[str, _Rule], ...]
) -> Callable[[str, tuple[Any, ...]], None]:
    """The audit hook: the rule for the event (by name, else by prefix), given the frame that
    raised it. Events the guard raises itself while deciding (reading a frame's f_code) pass."""
    _getframe, _getattr, _len, no_frame = sys._getframe, getattr, len, ValueError
    rule_for, frame_attrs = dict(table).get, FRAME_ATTRIBUTES
    prefixes = tuple(prefix for prefix, _ in prefixed)
    local = _thread._local()

    def by_prefix(event: str) -> _Rule | None:
        for prefix, rule in prefixed:
            if event.startswith(prefix):
                return rule
        return None

    def hook(event: str, args: tuple[Any, ...]) -> None:
        rule = rule_for(event)
        if rule is None and event.startswith(prefixes):  # one test for most events: not ours
            rule = by_prefix(event)
        if rule is None:
            return
        if event == "object.__getattr__" and (_len(args) < 2 or args[1] not in frame_attrs):
            return  # f_code and the like: harmless without a frame, and the grader's own
        if _getattr(local, "busy", False):
            return  # an event the guard itself raised (reading a frame's f_code)
        local.busy = True
        try:
            try:
                frame = _getframe(1)
            except no_frame:
                frame = None
            rule(event, args, frame)
        finally:
            local.busy = False

    return hook


# Who is behind an event ----------------------------------------------------------------------


def _classifier(policy: Policy) -> Callable[[CodeType], str]:
    """Whose code: "grader" (under graders/), "library" (the standard library, site-packages,
    frozen and generated code) or "learner" (anything else)."""
    graders_dir = policy.grader_root + "/"
    libraries = tuple(r + "/" for r in policy.library_roots)

    def kind(code: CodeType) -> str:
        name = code.co_filename
        if name.startswith("<"):
            return "library"
        if name.startswith(graders_dir):
            return "grader"
        if name.startswith(libraries):
            return "library"
        return "learner"

    return kind


def _origin_finder(
    kind: Callable[[CodeType], str],
) -> Callable[[FrameType | None], tuple[str, FrameType | None]]:
    def origin(frame: FrameType | None) -> tuple[str, FrameType | None]:
        """Who is behind an event: the first frame outside the library, and that frame."""
        while frame is not None:
            who = kind(frame.f_code)
            if who != "library":
                return who, frame
            frame = frame.f_back
        return "learner", None

    return origin


def _where_finder(kind: Callable[[CodeType], str]) -> Callable[[FrameType | None], str]:
    def where(frame: FrameType | None) -> str:
        """The learner's line behind an event, for the note: `file.py:line`."""
        while frame is not None:
            if kind(frame.f_code) == "learner":
                name = frame.f_code.co_filename.rpartition("/")[2]
                return f"{name}:{frame.f_lineno}"
            frame = frame.f_back
        return "a thread of yours"

    return where


def _notebook(
    where: Callable[[FrameType | None], str], lock: _thread.LockType
) -> tuple[_Refuse, Callable[[], tuple[tuple[str, str, str], ...]]]:
    """`refuse` notes what was tried (at most MAX_NOTES) and raises PermissionError; `take`
    hands the notes over and empties them (its caller holds `lock`)."""
    notes: list[tuple[str, str, str]] = []
    _len, _tuple, max_notes, PermissionError_ = len, tuple, MAX_NOTES, PermissionError

    def refuse(kind: str, what: str, frame: FrameType | None) -> NoReturn:
        with lock:
            if _len(notes) < max_notes:
                notes.append((kind, what, where(frame)))
        raise PermissionError_(f"threadkit grading: {what} is not allowed while grading")

    def take() -> tuple[tuple[str, str, str], ...]:
        found = _tuple(notes)
        notes.clear()
        return found

    return refuse, take


def _replacement_finder(
    modules: list[ModuleType], prior: Snapshot | None = None
) -> Callable[[], tuple[_Note, ...]]:
    """Snapshot the modules now; `changed()` names every module or callable replaced since."""
    snap, sys_modules = snapshot(modules, prior), sys.modules
    module_ids = tuple((m.__name__, m) for m in modules)
    _tuple, max_notes = tuple, MAX_NOTES

    def changed() -> tuple[_Note, ...]:
        found = []
        for name, module in module_ids:
            if sys_modules.get(name) is not module:
                found.append(("tamper", f"sys.modules[{name!r}] was replaced", "your code"))
        for label, namespace, items in snap:
            for key, value in items:
                if namespace.get(key) is not value:
                    found.append(("tamper", f"{label}.{key} was replaced", "your code"))
        return _tuple(found[:max_notes])

    return changed


# Paths ---------------------------------------------------------------------------------------


def _normaliser() -> Callable[[Any], str]:
    """`normpath(arg)`: an audit argument as an absolute path with . and .. resolved by name
    (not through links), or "" when it is no path. Only exact types count: str, bytes and
    pathlib's own classes (a learner's PathLike could answer differently each time)."""
    _type, _str, _bytes, _fspath, _getcwd = type, str, bytes, os.fspath, os.getcwd
    _decode, is_path_object = bytes.decode, _exactly(PATH_TYPES)

    def normpath(path: Any) -> str:
        if is_path_object(_type(path)):
            path = _fspath(path)
        if _type(path) is _bytes:
            path = _decode(path, "utf-8", "surrogateescape")
        if _type(path) is not _str:
            return ""
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        parts: list[str] = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
            else:
                parts.append(part)
        return "/" + "/".join(parts)

    return normpath


def _write_check(policy: Policy, refuse: _Refuse) -> Callable[[str, str, FrameType | None], None]:
    """`check_write(path, event, frame)`: nothing under the kit; elsewhere only the run's work
    folder and a few special files."""
    kit, special_files = policy.kit_root + "/", SPECIAL_FILES
    write_roots = tuple(r + "/" for r in policy.write_roots)

    def check_write(path: str, event: str, frame: FrameType | None) -> None:
        if (path + "/").startswith(kit):
            refuse("tamper", f"changing the kit's files ({event} {path})", frame)
        if not (path in special_files or (path + "/").startswith(write_roots)):
            refuse("blocked", f"writing outside the grading folder ({event} {path})", frame)

    return check_write


def _read_check(
    policy: Policy,
    origin: Callable[[FrameType | None], tuple[str, FrameType | None]],
    refuse: _Refuse,
) -> Callable[[str, FrameType | None], None]:
    """`check_read(path, frame)`: learner code reads no /proc and none of the kit's files but
    the grader's own code and the hidden checks this task already imported; the library
    (a lazy import, even from the kit's .venv) reads what it needs."""
    kit, graders_dir = policy.kit_root + "/", policy.grader_root + "/"
    libraries = tuple(r + "/" for r in policy.library_roots)
    hidden_files, allowed_hidden = frozenset(policy.hidden_files), frozenset(policy.allowed_hidden)
    hidden_compiled = tuple(  # their bytecode: folder/__pycache__/hidden.*.pyc
        h.rsplit("/", 1)[0] + "/__pycache__/hidden." for h in policy.hidden_files
    )

    def check_read(path: str, frame: FrameType | None) -> None:
        if path.startswith("/proc/") and origin(frame)[0] == "learner":
            refuse("tamper", f"reading {path}", frame)
        if path.startswith(libraries):
            return
        if not (path + "/").startswith(kit) or path.startswith(graders_dir):
            secret = path in hidden_files or path.startswith(hidden_compiled)
            if not secret or path in allowed_hidden:
                return
        if origin(frame)[0] == "learner":
            refuse("tamper", f"reading the kit's file {path}", frame)

    return check_read


# Learner values, read without running learner code ---------------------------------------


def _exactly(types: Iterable[type]) -> Callable[[type], bool]:
    """`one_of(cls)`: is `cls` one of `types`? By identity: `in` would ask the learner's
    metaclass (its __eq__ and __hash__), and run its code inside the hook."""
    kinds = tuple(types)

    def one_of(cls: type) -> bool:
        for kind in kinds:
            if cls is kind:
                return True
        return False

    return one_of


def _describer() -> tuple[Callable[[Any], str], Callable[[type], str]]:
    """`shown(value)`: repr() of a value built of plain builtins (str, bytes, int, float, bool,
    None, tuples of them), else `<TypeName object>`; `type_name(cls)`: a class's name.

    A refusal's message names what was tried, but the guard must never run learner code: a
    str subclass's __repr__, or a metaclass's __name__, would run inside the hook, where every
    event passes unseen (the hook is busy deciding). Both read through the builtin types only.
    """
    _type, _tuple, _len, _repr = type, tuple, len, repr
    is_plain = _exactly((str, bytes, int, float, bool, type(None)))
    name_of = vars(type)["__name__"].__get__  # type's own getter: no metaclass

    def type_name(cls: type) -> str:
        name: str = name_of(cls)
        return name

    def shown(value: Any) -> str:
        kind = _type(value)
        if is_plain(kind):
            return _repr(value)
        if kind is _tuple:
            inside = ", ".join([shown(item) for item in value])
            return f"({inside},)" if _len(value) == 1 else f"({inside})"
        return f"<{type_name(kind)} object>"

    return shown, type_name


# The rules: one per kind of event, each (event, args, frame) -> None or PermissionError ------


def _report_rule(
    *,
    seal: Callable[[tuple[object, ...]], bytes],
    nonce: str,
    fd: int,
    report_code: CodeType,
    chain: tuple[CodeType, ...],
    lock: _thread.LockType,
    take_notes: Callable[[], tuple[_Note, ...]],
    changed: Callable[[], tuple[_Note, ...]],
    new_check: Callable[[], None],
    refuse: _Refuse,
) -> _Rule:
    """threadkit.report: seal the body, with the notes and the replacements, and write it to
    `fd`, only when it comes from `report_code` called through exactly the frames that called
    install (`chain`). Each report ends a check: the fork count starts again."""
    _write, _len, _type, _tuple = os.write, len, type, tuple
    sequence = 0

    def on_report(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        nonlocal sequence
        genuine = frame is not None and frame.f_code is report_code
        up = frame.f_back if genuine and frame is not None else None
        for code in chain:
            if up is None or up.f_code is not code:
                genuine = False
                break
            up = up.f_back
        if not genuine or up is not None or _len(args) != 1 or _type(args[0]) is not _tuple:
            refuse("tamper", "sending a grading report", frame)
        with lock:
            found = take_notes() + changed()
            line = seal((nonce, sequence) + args[0] + (found,))
            sequence += 1
            new_check()
            while line:
                line = line[_write(fd, line) :]

    return on_report


def _open_rule(
    normpath: Callable[[Any], str],
    check_write: Callable[[str, str, FrameType | None], None],
    check_read: Callable[[str, FrameType | None], None],
    refuse: _Refuse,
) -> _Rule:
    """open: a path of an exact type (a descriptor passes: it was opened already), checked for
    writing when the mode or flags write, and always for reading."""
    _type, _str, _int, _tuple, _any, write_flags = type, str, int, tuple, any, WRITE_FLAGS
    is_path, type_name = _exactly((str, bytes, *PATH_TYPES)), _describer()[1]

    def on_open(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        path, mode, flags = (_tuple(args) + (None, None, None))[:3]
        if _type(path) is _int:
            return
        if not is_path(_type(path)):
            refuse("tamper", f"opening a file through a {type_name(_type(path))} object", frame)
        path = normpath(path)
        writing = (_type(mode) is _str and _any(c in mode for c in "wax+")) or (
            _type(flags) is _int and flags & write_flags
        )
        if writing:
            check_write(path, "open", frame)
        check_read(path, frame)

    return on_open


def _introspection_rule(kind: Callable[[CodeType], str], refuse: _Refuse) -> _Rule:
    """Frames, tracing, eval/exec/compile, code and function objects, audit hooks: refused
    when the frame that raised the event is the learner's (the library uses them honestly)."""

    def on_introspection(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        if frame is not None and kind(frame.f_code) == "learner":
            refuse("tamper", f"{event} (introspection of the grader)", frame)

    return on_introspection


def _import_rule(refuse: _Refuse) -> _Rule:
    """import: never ctypes, cffi, or a second _posixsubprocess (an unwrapped fork_exec).
    A name of a str subclass is read as the plain str it holds (its __hash__ and __eq__ are
    learner code)."""
    forbidden, _type, _str, _issubclass = FORBIDDEN_IMPORTS, type, str, issubclass
    plain_str = str.__str__  # of a subclass: a copy as an exact str

    def on_import(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        name = args[0] if args else None
        if _type(name) is not _str and _issubclass(_type(name), _str):
            name = plain_str(name)  # an exact copy, made in C
        if _type(name) is _str and name in forbidden:
            refuse("tamper", f"importing {name}", frame)

    return on_import


def _ctypes_rule(refuse: _Refuse) -> _Rule:
    """ctypes.*: never, from anyone (it reads and writes any memory)."""

    def on_ctypes(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        refuse("tamper", event, frame)

    return on_ctypes


def _object_walk_rule(
    origin: Callable[[FrameType | None], tuple[str, FrameType | None]], refuse: _Refuse
) -> _Rule:
    """gc's object walks: refused when learner code is behind them (they reach every object)."""

    def on_object_walk(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        if origin(frame)[0] == "learner":
            refuse("tamper", f"{event} (walking the grader's objects)", frame)

    return on_object_walk


def _process_rule(may_fork: Callable[[str, FrameType | None], bool], refuse: _Refuse) -> _Rule:
    """Starting a process: refused from anyone, but multiprocessing's fork under a cap."""

    def on_process(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        if not may_fork(event, frame):
            refuse("blocked", f"starting a process ({event})", frame)

    return on_process


def _signal_rule(own_child: Callable[[str, Any], bool], refuse: _Refuse) -> _Rule:
    """os.kill and os.killpg: only this process, its group, or (under a cap) its children.
    The target is compared only as an exact int (os.kill's own are; a sys.audit's need not be)."""
    _getpid, _getpgrp, _type, _int = os.getpid, os.getpgrp, type, int

    def on_signal(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        target = args[0] if args else None
        ours = (0, _getpgrp()) if event == "os.killpg" else (0, _getpid(), -_getpgrp())
        mine = _type(target) is _int and target in ours
        if not mine and not own_child(event, target):
            refuse("tamper", f"signalling another process ({event})", frame)

    return on_signal


def _file_change_rule(
    normpath: Callable[[Any], str], check_write: Callable[[str, str, FrameType | None], None]
) -> _Rule:
    """Renames, removals, links, chmod and the like: both paths checked as writes."""
    _type, is_path = type, _exactly((str, bytes, *PATH_TYPES))

    def on_file_change(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        for path in args[:2]:
            if is_path(_type(path)):
                check_write(normpath(path), event, frame)

    return on_file_change


def _network_rule(is_loopback: Callable[[object], bool], refuse: _Refuse) -> _Rule:
    """connect, sendto, sendmsg, bind: only to a loopback (host, port) address."""
    _type, _tuple, _len, shown = type, tuple, len, _describer()[0]

    def on_network(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        if _len(args) < 2:
            return
        address = args[1]
        if not (_type(address) is _tuple and address and is_loopback(address[0])):
            refuse("blocked", f"the network ({event} to {shown(address)})", frame)

    return on_network


def _name_lookup_rule(is_loopback: Callable[[object], bool], refuse: _Refuse) -> _Rule:
    """Name look-ups: only of loopback names and addresses (a look-up is traffic itself)."""
    _type, _bytes, _decode, shown = type, bytes, bytes.decode, _describer()[0]

    def on_name_lookup(event: str, args: tuple[Any, ...], frame: FrameType | None) -> None:
        host: Any = args[0] if args else None
        if _type(host) is _bytes:
            host = _decode(host, "ascii", "replace")
        if not is_loopback(host):
            refuse("blocked", f"the network (looking up {shown(host)})", frame)

    return on_name_lookup


# Processes under a cap -----------------------------------------------------------------------


def _fork_allowance(
    policy: Policy, installer: int, lock: _thread.LockType, refuse: _Refuse
) -> tuple[Callable[[str, FrameType | None], bool], Callable[[], None]]:
    """`may_fork(event, frame)`: multiprocessing's own fork, from the grading process, within
    this check's cap (more is tampering); `new_check()` starts the count again (under `lock`)."""
    cap, _getpid = policy.process_cap, os.getpid
    fork_code = _fork_path() if cap > 0 else None
    started = 0

    def may_fork(event: str, frame: FrameType | None) -> bool:
        nonlocal started
        if fork_code is None or event != "os.fork" or _getpid() != installer:
            return False
        if frame is None or frame.f_code is not fork_code:
            return False
        with lock:
            allowed = started < cap
            started += allowed
        if not allowed:
            refuse("tamper", f"starting more than {cap} processes in one check", frame)
        return True

    def new_check() -> None:
        nonlocal started
        started = 0

    return may_fork, new_check


def _own_child_test(policy: Policy, installer: int) -> Callable[[str, Any], bool]:
    """`own_child(event, target)`: a signal from the grading process (under a cap) to a process
    it started: a pool's workers that terminate() stops.

    The grading process leads its group (a new session), so the group's other members are
    the processes it started; where it does not, the target's parent (Linux's /proc) says.
    """
    enabled = policy.process_cap > 0
    _getpid, _getpgrp, _getpgid, _type, _int, _open = (
        os.getpid,
        os.getpgrp,
        os.getpgid,
        type,
        int,
        open,
    )
    gone, unreadable = OSError, (OSError, ValueError, IndexError)

    def own_child(event: str, target: Any) -> bool:
        if not enabled or event != "os.kill" or _type(target) is not _int or target <= 0:
            return False
        if _getpid() != installer or target == installer:
            return False
        if _getpgrp() != installer:
            return parent_of(target) == installer
        try:
            return _getpgid(target) == installer
        except gone:  # already gone: the signal reaches no one
            return True

    def parent_of(pid: int) -> int:
        try:
            with _open(f"/proc/{pid}/stat", "rb") as stat:
                return _int(stat.read().rsplit(b")", 1)[1].split()[1])
        except unreadable:
            return -1

    return own_child


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
