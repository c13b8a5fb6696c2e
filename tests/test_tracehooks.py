"""Tests for graders.kit.tracehooks: no new thread dies before its target runs.

On CPython 3.10/3.11 a thread that calls sys.settrace (or sys.setprofile) while another
thread is inside one of them gets a RuntimeError; threading.settrace made every new thread do
that in Thread._bootstrap_inner, after start() had returned and outside threading.excepthook,
so the thread ended without running its target. Under the grading process's audit hook (Python
code, which may hand the GIL over inside sys.settrace) and heavy load, a correct
download_threaded was told it "never requested" one URL.

The first test forces that moment every run, in a fresh interpreter (an audit hook cannot be
removed): its audit hook holds the first new thread inside sys.settrace, with the GIL released,
until the main thread has started every other thread (or a second has passed, which is how
long the fixed kit keeps the others waiting for their turn). Before the fix one thread of
each run died; the hook also checks that every install is made under tracehooks' lock.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from graders.kit import tracehooks

ROOT = Path(__file__).resolve().parent.parent
N_THREADS = 8

LEARNER = """\
import threading


def run(n, ran, started_all):
    threads = [threading.Thread(target=lambda i=i: ran.append(i)) for i in range(n)]
    for t in threads:
        t.start()
    started_all.set()
    for t in threads:
        t.join()
"""

# Runs in a fresh interpreter: argv = instrument, learner file, number of threads.
FORCED_WINDOW = """\
import _thread, importlib.util, json, sys, threading
from graders.kit import tracehooks

mode, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = importlib.util.spec_from_file_location("learner", path)
learner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(learner)
main = _thread.get_ident()
started_all = threading.Event()
held, unlocked, deaths, ran = [], [], [], []


def hook(event, args):
    if event not in ("sys.settrace", "sys.setprofile"):
        return
    if not tracehooks.install_lock._is_owned():
        unlocked.append(event)
    if _thread.get_ident() != main and not held:
        held.append(event)
        started_all.wait(1.0)  # inside sys.settrace, GIL released: main starts the others


sys.addaudithook(hook)
sys.unraisablehook = lambda u: deaths.append(repr(u.exc_value))
threading.excepthook = lambda a: deaths.append(repr(a.exc_value))
if mode == "hold":
    from graders.kit.interleave import ForcedInterleaving
    block = ForcedInterleaving([path], seed=1, yield_probability=0.0, hold_new_threads=True)
else:
    from graders.kit.interleave import ForcedInterleaving
    block = ForcedInterleaving([path], seed=1, stall_last_pop=True)
with block:
    learner.run(n, ran, started_all)
print(json.dumps({
    "held": held, "ran": sorted(ran), "deaths": deaths, "unlocked": unlocked,
    "bootstrap_restored": "_bootstrap_inner" in vars(threading.Thread)
    and vars(threading.Thread)["_bootstrap_inner"].__module__ == "threading",
}))
"""


@pytest.mark.parametrize("mode", ["hold", "stall"])
def test_every_new_thread_runs_while_another_is_inside_settrace(tmp_path: Path, mode: str):
    learner = tmp_path / "learner.py"
    learner.write_text(LEARNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", FORCED_WINDOW, mode, str(learner), str(N_THREADS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["held"], "the audit hook never held a new thread inside settrace"
    assert seen["deaths"] == []
    assert seen["ran"] == list(range(N_THREADS))
    assert seen["unlocked"] == [], "an install was made without tracehooks' lock"
    assert seen["bootstrap_restored"]


def _noop(frame: FrameType, event: str, arg: object) -> None:
    return None


def _other(frame: FrameType, event: str, arg: object) -> None:
    return None


def test_new_threads_get_the_hook_and_threading_gets_its_own_back():
    seen: list[object] = []
    saved = threading.gettrace()
    threading.settrace(_other)
    try:
        tracehooks.settrace_new_threads(_noop)
        assert threading.gettrace() is None  # set aside: it would race, and replace ours
        assert tracehooks.gettrace_new_threads() is _noop
        thread = threading.Thread(target=lambda: seen.append(sys.gettrace()))
        thread.start()
        thread.join()
        tracehooks.settrace_new_threads(None)
        assert threading.gettrace() is _other
    finally:
        tracehooks.settrace_new_threads(None)
        threading.settrace(saved)
    assert seen == [_noop]
    assert vars(threading.Thread)["_bootstrap_inner"].__module__ == "threading"


def test_a_thread_whose_install_fails_still_runs(monkeypatch: pytest.MonkeyPatch):
    def refuse(func: object) -> None:
        raise RuntimeError("Cannot install a trace function")

    ran: list[int] = []
    before = tracehooks.failed_installs
    monkeypatch.setattr(tracehooks, "_sys_settrace", refuse)
    tracehooks.settrace_new_threads(_noop)
    try:
        thread = threading.Thread(target=lambda: ran.append(1))
        thread.start()  # returns: the wrapper never raises before threading's start-up
        thread.join(10)
    finally:
        tracehooks.settrace_new_threads(None)
    assert ran == [1]
    assert tracehooks.failed_installs == before + 1


UNTRACE_WHILE_OTHERS_TRACE_OPCODES = """
import sys, threading, time
from graders.kit import tracehooks

def local(frame, event, arg):
    return local

def trace(frame, event, arg):
    if frame.f_code.co_filename != __file__:
        return None
    frame.f_trace_opcodes = True
    return local

def work(i):
    time.sleep(0.05 + 0.01 * i)
    return i + 1

sys._getframe().f_trace_opcodes = True  # 3.12 turns opcode events on only after a frame asks
tracehooks.settrace_new_threads(trace)
tracehooks.settrace(trace)
threads = [threading.Thread(target=work, args=(i,)) for i in range(5)]
for t in threads:
    t.start()
tracehooks.settrace(None)  # while the threads still trace, opcodes on
tracehooks.settrace_new_threads(None)
for t in threads:
    t.join()
print("ok")
"""


def test_untracing_while_other_threads_trace_opcodes_does_not_crash(tmp_path: Path) -> None:
    """CPython 3.12 crashed with SIGSEGV here with sys.settrace(None) (every run on 3.12.1):
    a forced interleaving ending while a learner's unjoined threads still ran killed the
    grading process. tracehooks.settrace(None) installs a function that traces nothing there."""
    script = tmp_path / "untrace.py"
    script.write_text(UNTRACE_WHILE_OTHERS_TRACE_OPCODES)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_a_namespace_is_remembered_only_when_no_watched_file_runs_in_it(tmp_path: Path):
    """remember_elsewhere lets a hook skip a frame by its f_globals, which raises no audit
    event (f_code does). A learner module's own namespace is never skipped, even when the
    first frame seen in it runs code from no file (a dataclass's generated __init__)."""
    learner = tmp_path / "learner.py"
    learner.write_text("import sys\ndef here():\n    return sys._getframe()\n")
    spec = importlib.util.spec_from_file_location("learner_ns", learner)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = tracehooks.file_spellings([learner])
    seen: dict[int, object] = {}
    generated: dict[str, Any] = {}
    exec("import sys\ndef init():\n    return sys._getframe()\n", vars(module), generated)
    frame = generated["init"]()  # no file, the learner's namespace
    tracehooks.remember_elsewhere(seen, frame, frame.f_code, files)
    assert seen == {}
    frame = module.here()
    tracehooks.remember_elsewhere(seen, frame, frame.f_code, files)
    assert seen == {}
    frame = sys._getframe()
    tracehooks.remember_elsewhere(seen, frame, frame.f_code, files)  # this test's own module
    key = tracehooks.namespace_key(frame.f_globals)
    assert seen == {key: frame.f_globals} and seen[key] is globals()
    tracehooks.remember_elsewhere(seen, frame, frame.f_code, files | {frame.f_code.co_filename})
    assert len(seen) == 1


def test_a_namespace_key_raises_no_audit_event():
    events: list[str] = []
    frame = sys._getframe()
    sys.addaudithook(lambda event, args: events.append(event) if record else None)
    record = True
    tracehooks.namespace_key(frame.f_globals)
    frame.f_globals  # noqa: B018
    record = False
    assert events == []


def test_code_in_gives_a_watched_frames_code_and_skips_other_modules_unread():
    here = sys._getframe()
    files = frozenset({here.f_code.co_filename})
    seen: dict[int, object] = {}
    assert tracehooks.code_in(files, here, seen) is here.f_code and seen == {}
    frame = eval("sys._getframe()", {"sys": sys})  # noqa: S307 - a frame in no file, no module
    assert tracehooks.code_in(files, frame, seen) is None
    assert list(seen.values()) == [frame.f_globals]
