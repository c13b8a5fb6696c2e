"""Trace and profile functions, for this thread and for new ones, installed one at a time.

On CPython 3.10 and 3.11, ``sys.settrace`` and ``sys.setprofile`` refuse to run while another
thread is inside either of them (one flag per process, set around the whole call, and the
call runs the audit hooks). The grading process has an audit hook written in Python
(graders.engine.guard), and Python code may hand the GIL to another thread at any call; so
while one thread installs a trace function, another that installs one fails with
``RuntimeError: Cannot install a trace function while another trace function is being
installed``. The thread that fails worst is a new one: ``threading.settrace`` makes every new
thread call ``sys.settrace`` in ``Thread._bootstrap_inner`` after ``start()`` has returned but
before ``run()``, outside the ``try`` that reports to ``threading.excepthook``. That thread
ends silently without running its target, ``join()`` returns at once, and a check sees a
correct download_threaded skip one URL ("1 of the 5 URLs were never requested").

So every trace or profile function the kit installs goes through this module, under one lock:
``settrace``/``setprofile`` for the calling thread, and ``settrace_new_threads``/
``setprofile_new_threads`` instead of ``threading.settrace``/``threading.setprofile``. For the
latter, while one is set, ``Thread._bootstrap_inner`` is wrapped: the new thread installs its
functions under the lock before threading's own start-up runs, and threading's own hooks are
set aside meanwhile (so they neither race nor replace the kit's), then put back. 3.12 and later
have no such flag; the same path is used there, so every version behaves alike.

The functions used are captured at import, because learner code may monkeypatch ``sys`` or
``threading`` while a grader runs it.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
from collections.abc import Callable, Iterable
from types import CodeType, FrameType
from typing import Any

__all__ = [
    "code_in",
    "file_spellings",
    "getprofile_new_threads",
    "gettrace_new_threads",
    "namespace_key",
    "remember_elsewhere",
    "setprofile",
    "setprofile_new_threads",
    "settrace",
    "settrace_new_threads",
]

TraceFunc = Callable[[FrameType, str, Any], Any]

_sys_settrace = sys.settrace
_sys_setprofile = sys.setprofile
_threading_settrace = threading.settrace
_threading_setprofile = threading.setprofile
_threading_gettrace = threading.gettrace
_threading_getprofile = threading.getprofile
_THREAD = threading.Thread
_ORIGINAL_BOOTSTRAP_INNER: Callable[[threading.Thread], None] = vars(_THREAD)["_bootstrap_inner"]

# Held around every install the kit makes. Re-entrant, and it knows its owner, so a test can
# ask, from inside sys.settrace's audit event, whether the caller holds it.
install_lock = _thread.RLock()
# A process forked while another thread held it (multiprocessing's fork) gets it free.
os.register_at_fork(after_in_child=install_lock._at_fork_reinit)  # type: ignore[attr-defined]

_for_new: dict[str, TraceFunc | None] = {"trace": None, "profile": None}
_set_aside: dict[str, TraceFunc | None] = {"trace": None, "profile": None}
failed_installs = 0  # new threads whose install raised anyway (then they run without it)


def file_spellings(files: Iterable[str | os.PathLike[str]]) -> frozenset[str]:
    """Every spelling of each path that may appear as a code object's co_filename (as given,
    absolute, symlinks resolved): what a hook compares a frame's file with."""
    names: set[str] = set()
    for f in files:
        path = os.fspath(f)
        names.update({path, os.path.abspath(path), os.path.realpath(path)})
    return frozenset(names)


_dict_get = dict.get
# A namespace's key in a hook's `seen`: the identity hash, which, unlike id(), raises no audit
# event. Equal keys are possible in principle, so a hook always compares the namespace itself.
namespace_key = object.__hash__


def remember_elsewhere(
    seen: dict[int, object], frame: FrameType, code: CodeType, files: frozenset[str]
) -> None:
    """`frame` runs `code`, its f_code: if that is in none of `files`, remember the frame's
    module namespace in `seen` (key -> namespace), so that a hook can skip that namespace's
    frames without reading their code: `seen.get(namespace_key(g)) is g`, g = frame.f_globals.

    Reading `frame.f_code` raises an audit event ("object.__getattr__"); in a grading process
    the guard's hook, in Python, runs for each: on every call a trace function sees (97k
    times in one downloader run, most of what the guard added to its CPU). `f_globals`
    raises none, and a function runs in its own module's namespace (in a grading process the
    guard refuses what would run one under another: exec, compile, function.__new__). Not
    remembered: a namespace that is the module of one of `files` (a dataclass's generated
    __init__ runs in its class's module, from no file), or not a plain dict. Kept alive in
    `seen`, so its key stays its own."""
    namespace = frame.f_globals
    if code.co_filename in files or type(namespace) is not dict:
        return
    if _dict_get(namespace, "__file__") not in files:
        seen[namespace_key(namespace)] = namespace


def code_in(files: frozenset[str], frame: FrameType, seen: dict[int, object]) -> CodeType | None:
    """`frame`'s code if it runs one of `files`, else None; skips a namespace `seen` holds
    without reading the code, and remembers one more (remember_elsewhere)."""
    namespace = frame.f_globals
    if seen.get(namespace_key(namespace)) is namespace:
        return None
    code = frame.f_code
    if code.co_filename in files:
        return code
    remember_elsewhere(seen, frame, code, files)
    return None


# CPython 3.12 (3.12.1 here) crashes with SIGSEGV when a thread sets its trace function to
# None while other threads trace with opcode events on (a forced interleaving that ends while a
# learner's unjoined threads still run): the downloader mutant that joins only its last thread
# killed the grading process in every run. Replacing the function with one that traces nothing
# does not crash, so on 3.12 "no trace" is that function (tests/test_tracehooks.py).
_PARK_INSTEAD_OF_NONE = sys.version_info[:2] == (3, 12)


def _untraced(frame: FrameType, event: str, arg: Any) -> None:
    """A trace function that traces nothing: 3.12's stand-in for None (see above)."""
    return None


def settrace(func: TraceFunc | None) -> None:
    """``sys.settrace(func)`` for the calling thread, never while another install runs. On
    3.12, None installs `_untraced` instead (see _PARK_INSTEAD_OF_NONE)."""
    if func is None and _PARK_INSTEAD_OF_NONE:
        func = _untraced
    with install_lock:
        _sys_settrace(func)


def setprofile(func: TraceFunc | None) -> None:
    """``sys.setprofile(func)`` for the calling thread, never while another install runs."""
    with install_lock:
        _sys_setprofile(func)


def gettrace_new_threads() -> TraceFunc | None:
    """The trace function the kit gives new threads (None: the kit gives none)."""
    return _for_new["trace"]


def getprofile_new_threads() -> TraceFunc | None:
    """The profile function the kit gives new threads (None: the kit gives none)."""
    return _for_new["profile"]


def settrace_new_threads(func: TraceFunc | None) -> None:
    """What ``threading.settrace(func)`` does, without the race: every thread started from now
    on calls ``sys.settrace(func)`` first thing, under the lock. None stops it and gives
    threading back the hook it had before."""
    _set_for_new("trace", func, _threading_gettrace, _threading_settrace)


def setprofile_new_threads(func: TraceFunc | None) -> None:
    """What ``threading.setprofile(func)`` does, without the race (see settrace_new_threads)."""
    _set_for_new("profile", func, _threading_getprofile, _threading_setprofile)


def _set_for_new(
    kind: str,
    func: TraceFunc | None,
    get_threading: Callable[[], Any],
    set_threading: Callable[[Any], None],
) -> None:
    """Fill or empty one slot; set threading's own hook aside while the slot is filled."""
    with install_lock:
        if func is not None and _for_new[kind] is None:
            _set_aside[kind] = get_threading()
            set_threading(None)
        elif func is None and _for_new[kind] is not None:
            set_threading(_set_aside[kind])
            _set_aside[kind] = None
        _for_new[kind] = func
        _wrap_bootstrap(_for_new["trace"] is not None or _for_new["profile"] is not None)


def _wrap_bootstrap(on: bool) -> None:
    """Put the wrapper in ``Thread._bootstrap_inner`` (or take it out, unless something else
    replaced it meanwhile: that stays, for the guard to see)."""
    current = vars(_THREAD).get("_bootstrap_inner")
    if on and current is not _bootstrap_inner:
        setattr(_THREAD, "_bootstrap_inner", _bootstrap_inner)  # noqa: B010 - private, typeshed
    elif not on and current is _bootstrap_inner:
        setattr(_THREAD, "_bootstrap_inner", _ORIGINAL_BOOTSTRAP_INNER)  # noqa: B010


def _bootstrap_inner(self: threading.Thread) -> None:
    """A new thread's start-up: the kit's functions first, under the lock, then threading's.

    It never raises: an exception here would end the thread before ``start()`` returns (which
    would then wait forever). A thread whose install failed runs without it, and is counted.
    """
    global failed_installs
    trace, profile = _for_new["trace"], _for_new["profile"]
    if trace is not None or profile is not None:
        try:
            with install_lock:
                if trace is not None:
                    _sys_settrace(trace)
                if profile is not None:
                    _sys_setprofile(profile)
        except Exception:  # noqa: BLE001 - see the docstring
            with install_lock:
                failed_installs += 1
    _ORIGINAL_BOOTSTRAP_INNER(self)
