"""The guard's rules, one by one, and the installed hook end to end (graders.engine.guard).

Each rule factory is given a fake event, its args and a fake frame (an object with f_code,
f_back and f_lineno, whose code object claims a file of the grader, the library or the
learner) and either lets it pass or refuses it with the very message a learner sees, noted as
"tamper" or "blocked". Then: the shared loopback test, the event -> rule table and the hook
that reads it, that rules keep what they bound at installation, and one real process with the
guard installed that tries each kind of thing and reports what was refused.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import pathlib
import subprocess
import sys
import types
from dataclasses import dataclass

import pytest

from graders.engine import guard, loopback
from graders.engine.loopback import is_loopback, loopback_test
from tests.helpers import ROOT

KIT = "/kit"
WORK = "/work/run"
HIDDEN = f"{KIT}/graders/tasks/this/hidden.py"
OTHER_HIDDEN = f"{KIT}/graders/tasks/other/hidden.py"
POLICY = guard.Policy(
    kit_root=KIT,
    grader_root=f"{KIT}/graders",
    hidden_files=(HIDDEN, OTHER_HIDDEN),
    allowed_hidden=(HIDDEN,),
    write_roots=(WORK,),
    library_roots=("/lib/python3",),
)


def code_in(path: str, source: str = "pass") -> types.CodeType:
    return compile(source, path, "exec")


@dataclass
class Frame:
    """Enough of a frame for the guard: its code, the frame below, the line."""

    f_code: types.CodeType
    f_back: Frame | None = None
    f_lineno: int = 7


LEARNER = Frame(code_in("/home/ada/start_join.py"))
GRADER = Frame(code_in(f"{KIT}/graders/tasks/this/__init__.py"))
LIBRARY = Frame(code_in("/lib/python3/pathlib.py"))
LIBRARY_FOR_LEARNER = Frame(code_in("/lib/python3/pathlib.py"), f_back=LEARNER)
LIBRARY_FOR_GRADER = Frame(code_in("/lib/python3/pathlib.py"), f_back=GRADER)


class Judge:
    """The shared parts of every rule, as install() makes them, over POLICY."""

    def __init__(self, policy: guard.Policy = POLICY) -> None:
        import _thread

        self.lock = _thread.allocate_lock()
        self.kind = guard._classifier(policy)
        self.origin = guard._origin_finder(self.kind)
        self.refuse, self.take = guard._notebook(guard._where_finder(self.kind), self.lock)
        self.normpath = guard._normaliser()
        self.check_write = guard._write_check(policy, self.refuse)
        self.check_read = guard._read_check(policy, self.origin, self.refuse)

    def verdict(self, rule, event, args=(), frame=LEARNER):
        """None when the rule lets the event pass, else (kind, the learner's message)."""
        try:
            rule(event, args, frame)
        except PermissionError as refusal:
            (note,) = self.take()
            return note[0], str(refusal)
        assert self.take() == ()
        return None


def said(what: str) -> str:
    return f"threadkit grading: {what} is not allowed while grading"


def tamper(what: str) -> tuple[str, str]:
    return "tamper", said(what)


def blocked(what: str) -> tuple[str, str]:
    return "blocked", said(what)


@pytest.fixture
def judge() -> Judge:
    return Judge()


# Whose code --------------------------------------------------------------------------------


def test_code_is_the_graders_the_librarys_or_the_learners(judge):
    assert judge.kind(GRADER.f_code) == "grader"
    assert judge.kind(LIBRARY.f_code) == "library"
    assert judge.kind(code_in("<frozen importlib._bootstrap>")) == "library"
    assert judge.kind(LEARNER.f_code) == "learner"
    assert judge.kind(code_in(f"{KIT}/fixtures/this/solution.py")) == "learner"
    assert judge.kind(code_in(f"{KIT}/graders-not/x.py")) == "learner"  # a prefix, not a folder


def test_the_origin_is_the_first_frame_outside_the_library(judge):
    assert judge.origin(LIBRARY_FOR_LEARNER) == ("learner", LEARNER)
    assert judge.origin(LIBRARY_FOR_GRADER) == ("grader", GRADER)
    assert judge.origin(LIBRARY) == ("learner", None)  # nobody known behind it: the strict side
    assert judge.origin(None) == ("learner", None)


def test_a_note_says_where_in_the_learners_code():
    where = guard._where_finder(Judge().kind)
    assert where(LIBRARY_FOR_LEARNER) == "start_join.py:7"
    assert where(LIBRARY_FOR_GRADER) == "a thread of yours"


def test_refusals_are_noted_up_to_max_notes_and_taken_once(judge):
    for n in range(guard.MAX_NOTES + 5):
        with pytest.raises(PermissionError, match=r"^threadkit grading: try \d+ is not allowed"):
            judge.refuse("blocked", f"try {n}", LEARNER)
    notes = judge.take()
    assert len(notes) == guard.MAX_NOTES
    assert notes[0] == ("blocked", "try 0", "start_join.py:7")
    assert judge.take() == ()


# Paths -------------------------------------------------------------------------------------


def test_paths_are_normalised_by_name_from_the_current_folder(judge, monkeypatch):
    monkeypatch.chdir("/")
    assert judge.normpath("/a/./b/../c//d") == "/a/c/d"
    assert judge.normpath("x/../../y") == "/y"
    assert judge.normpath(b"/a/b") == "/a/b"
    assert judge.normpath(pathlib.PurePosixPath("/a/../b")) == "/b"
    assert judge.normpath(3) == ""

    class Sly(os.PathLike):  # could name one file to the guard and another to open
        def __fspath__(self):
            return "/a"

    assert judge.normpath(Sly()) == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{WORK}/notes.txt", None),
        (WORK, None),  # the folder itself (os.utime, a mkdir that exists)
        ("/dev/null", None),
        (f"{KIT}/graders/x.py", tamper(f"changing the kit's files (open {KIT}/graders/x.py)")),
        (KIT, tamper(f"changing the kit's files (open {KIT})")),
        ("/etc/passwd", blocked("writing outside the grading folder (open /etc/passwd)")),
        (f"{WORK}-other/x", blocked(f"writing outside the grading folder (open {WORK}-other/x)")),
    ],
)
def test_writes_go_to_the_work_folder_only(judge, path, expected):
    assert judge.verdict(lambda e, a, f: judge.check_write(path, e, f), "open") == expected


@pytest.mark.parametrize(
    ("path", "frame", "expected"),
    [
        ("/proc/self/mem", LIBRARY_FOR_LEARNER, tamper("reading /proc/self/mem")),
        ("/proc/self/statm", GRADER, None),
        ("/lib/python3/json/__init__.py", LEARNER, None),
        ("/etc/hosts", LEARNER, None),
        (f"{KIT}/graders/kit/checks.py", LEARNER, None),
        (HIDDEN, LEARNER, None),  # this task's hidden checks: imported already
        (OTHER_HIDDEN, LEARNER, tamper(f"reading the kit's file {OTHER_HIDDEN}")),
        (OTHER_HIDDEN, GRADER, None),
        (
            f"{KIT}/graders/tasks/other/__pycache__/hidden.cpython-311.pyc",
            LIBRARY_FOR_LEARNER,
            tamper(
                "reading the kit's file "
                f"{KIT}/graders/tasks/other/__pycache__/hidden.cpython-311.pyc"
            ),
        ),
        (
            f"{KIT}/fixtures/this/solution.py",
            LEARNER,
            tamper(f"reading the kit's file {KIT}/fixtures/this/solution.py"),
        ),
        (f"{KIT}/fixtures/this/solution.py", GRADER, None),
    ],
)
def test_learner_code_reads_none_of_the_kits_secrets(judge, path, frame, expected):
    assert judge.verdict(lambda e, a, f: judge.check_read(path, f), "open", frame=frame) == expected


# The rules ---------------------------------------------------------------------------------


OUTSIDE = blocked("writing outside the grading folder (open /etc/hosts)")


@pytest.fixture
def open_rule(judge):
    return guard._open_rule(judge.normpath, judge.check_write, judge.check_read, judge.refuse)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((3, "r", 0), None),  # a descriptor: opened (and judged) already
        ((f"{WORK}/a.txt", "w", 0), None),
        ((f"{WORK}/a.txt", None, os.O_WRONLY | os.O_CREAT), None),
        (("/etc/hosts", "r", 0), None),
        (("/etc/hosts", "a", 0), OUTSIDE),
        (("/etc/hosts", None, os.O_RDWR), OUTSIDE),
        (
            (f"{KIT}/graders/x.py", "r+", 0),
            tamper(f"changing the kit's files (open {KIT}/graders/x.py)"),
        ),
        ((f"{KIT}/fixtures/a/sol.py",), tamper(f"reading the kit's file {KIT}/fixtures/a/sol.py")),
        ((3.5, "r", 0), tamper("opening a file through a float object")),
    ],
)
def test_open(judge, open_rule, args, expected):
    assert judge.verdict(open_rule, "open", args) == expected


def test_open_takes_only_pathlibs_own_path_objects(judge, open_rule):
    class MyPath(os.PathLike):
        def __fspath__(self):
            return f"{WORK}/a.txt"

    assert judge.verdict(open_rule, "open", (pathlib.PosixPath(f"{WORK}/a.txt"), "w", 0)) is None
    assert judge.verdict(open_rule, "open", (MyPath(), "r", 0)) == tamper(
        "opening a file through a MyPath object"
    )


@pytest.mark.parametrize("event", sorted(guard.INTROSPECTION) + ["sys.monitoring.use_tool_id"])
def test_introspection_is_refused_to_learner_code_only(judge, event):
    rule = guard._introspection_rule(judge.kind, judge.refuse)
    assert judge.verdict(rule, event) == tamper(f"{event} (introspection of the grader)")
    assert judge.verdict(rule, event, frame=GRADER) is None
    assert judge.verdict(rule, event, frame=LIBRARY_FOR_LEARNER) is None  # logging reads frames
    assert judge.verdict(rule, event, frame=None) is None


@pytest.mark.parametrize("name", sorted(guard.FORBIDDEN_IMPORTS))
def test_some_imports_are_refused_from_anyone(judge, name):
    rule = guard._import_rule(judge.refuse)
    assert judge.verdict(rule, "import", (name, None, None, None, None)) == tamper(
        f"importing {name}"
    )
    assert judge.verdict(rule, "import", (name,), frame=GRADER) == tamper(f"importing {name}")
    assert judge.verdict(rule, "import", ("json", None, None, None, None)) is None
    assert judge.verdict(rule, "import", ()) is None


def test_ctypes_events_are_refused_from_anyone(judge):
    rule = guard._ctypes_rule(judge.refuse)
    assert judge.verdict(rule, "ctypes.dlopen", ("libc.so.6",), GRADER) == tamper("ctypes.dlopen")


@pytest.mark.parametrize("event", sorted(guard.OBJECT_WALKS))
def test_object_walks_are_refused_when_learner_code_is_behind_them(judge, event):
    rule = guard._object_walk_rule(judge.origin, judge.refuse)
    expected = tamper(f"{event} (walking the grader's objects)")
    assert judge.verdict(rule, event, frame=LIBRARY_FOR_LEARNER) == expected
    assert judge.verdict(rule, event, frame=LIBRARY_FOR_GRADER) is None


@pytest.mark.parametrize("event", sorted(guard.PROCESSES))
def test_processes_are_refused_from_anyone_without_a_cap(judge, event):
    may_fork, _ = guard._fork_allowance(POLICY, os.getpid(), judge.lock, judge.refuse)
    rule = guard._process_rule(may_fork, judge.refuse)
    assert judge.verdict(rule, event, frame=GRADER) == blocked(f"starting a process ({event})")


def test_under_a_cap_multiprocessings_fork_starts_that_many_per_check(judge):
    capped = dataclasses.replace(POLICY, process_cap=2)
    may_fork, new_check = guard._fork_allowance(capped, os.getpid(), judge.lock, judge.refuse)
    rule = guard._process_rule(may_fork, judge.refuse)
    launch = Frame(guard._fork_path())
    over = tamper("starting more than 2 processes in one check")
    assert [judge.verdict(rule, "os.fork", frame=launch) for _ in range(3)] == [None, None, over]
    new_check()  # a report ends the check
    assert judge.verdict(rule, "os.fork", frame=launch) is None
    # not that function, not a fork, not the process that installed the guard (a child):
    assert judge.verdict(rule, "os.fork", frame=LEARNER) == blocked("starting a process (os.fork)")
    assert judge.verdict(rule, "os.posix_spawn", frame=launch) == blocked(
        "starting a process (os.posix_spawn)"
    )
    child, _ = guard._fork_allowance(capped, os.getpid() + 1, judge.lock, judge.refuse)
    assert judge.verdict(guard._process_rule(child, judge.refuse), "os.fork", frame=launch) == (
        blocked("starting a process (os.fork)")
    )


def test_signals_reach_this_process_and_its_group_only(judge):
    rule = guard._signal_rule(guard._own_child_test(POLICY, os.getpid()), judge.refuse)
    for target in (0, os.getpid(), -os.getpgrp()):
        assert judge.verdict(rule, "os.kill", (target, 0)) is None
    assert judge.verdict(rule, "os.killpg", (os.getpgrp(), 0)) is None
    assert judge.verdict(rule, "os.kill", (1, 9)) == tamper("signalling another process (os.kill)")
    assert judge.verdict(rule, "os.killpg", (1, 9)) == tamper(
        "signalling another process (os.killpg)"
    )


def test_under_a_cap_the_grading_process_may_signal_the_processes_it_started():
    capped = dataclasses.replace(POLICY, process_cap=2)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        own_child = guard._own_child_test(capped, os.getpid())
        assert own_child("os.kill", child.pid)
        assert not own_child("os.killpg", child.pid)
        assert not own_child("os.kill", os.getppid())  # its parent: no child of ours
        assert not own_child("os.kill", os.getpid())
        assert not guard._own_child_test(POLICY, os.getpid())("os.kill", child.pid)  # no cap
        assert not guard._own_child_test(capped, os.getpid() + 1)("os.kill", child.pid)
    finally:
        child.kill()
        child.wait()


def test_file_changes_are_writes_of_both_paths(judge):
    rule = guard._file_change_rule(judge.normpath, judge.check_write)
    assert judge.verdict(rule, "os.rename", (f"{WORK}/a", f"{WORK}/b", -1, -1)) is None
    assert judge.verdict(rule, "os.rename", (f"{WORK}/a", f"{KIT}/graders/a", -1, -1)) == tamper(
        f"changing the kit's files (os.rename {KIT}/graders/a)"
    )
    assert judge.verdict(rule, "os.remove", ("/etc/hosts", -1)) == blocked(
        "writing outside the grading folder (os.remove /etc/hosts)"
    )
    assert judge.verdict(rule, "os.chmod", (3, 0o644, -1)) is None  # a descriptor


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        (("127.0.0.1", 80), True),
        ((b"127.0.0.1", 80), True),
        (("127.3.2.1", 80), True),
        (("localhost", 80), True),
        (("::1", 80, 0, 0), True),
        (("10.0.0.1", 80), False),
        (("127.evil.com", 80), False),  # a name that merely starts like loopback
        (("", 80), False),  # bound, every interface
        ("/tmp/socket", False),  # AF_UNIX: no (host, port) address
        ((), False),
    ],
)
def test_the_network_is_loopback_only(judge, address, allowed):
    rule = guard._network_rule(loopback_test(), judge.refuse)
    expected = None if allowed else blocked(f"the network (socket.connect to {address!r})")
    assert judge.verdict(rule, "socket.connect", (object(), address), GRADER) == expected


def test_an_event_without_an_address_passes(judge):
    assert judge.verdict(guard._network_rule(loopback_test(), judge.refuse), "socket.bind") is None


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("localhost", None),
        (b"127.0.0.1", None),
        ("::1", None),
        ("example.com", "'example.com'"),
        (b"example.com", "'example.com'"),
        (None, "None"),
    ],
)
def test_name_lookups_are_of_loopback_only(judge, host, shown):
    rule = guard._name_lookup_rule(loopback_test(), judge.refuse)
    expected = None if shown is None else blocked(f"the network (looking up {shown})")
    assert judge.verdict(rule, "socket.getaddrinfo", (host, 80, 0, 0, 0), GRADER) == expected


# Learner values are read without running learner code -----------------------------------

RAN: list[str] = []  # what learner code ran while a rule decided (it must stay empty)


class Host(str):
    def __repr__(self):
        RAN.append("__repr__")
        return "'127.0.0.1'"

    def __hash__(self):
        RAN.append("__hash__")
        return 1

    def __eq__(self, other):
        RAN.append("__eq__")
        return True


class Meta(type):
    def __eq__(cls, other):
        RAN.append("metaclass __eq__")
        return True

    def __hash__(cls):
        RAN.append("metaclass __hash__")
        return hash(str)

    @property
    def __name__(cls):
        RAN.append("metaclass __name__")
        return "str"


class Sly(metaclass=Meta):
    pass


@pytest.fixture
def ran():
    RAN.clear()
    yield RAN
    RAN.clear()


def test_plain_values_are_shown_as_repr_shows_them_and_nothing_else_runs(ran):
    shown, type_name = guard._describer()
    for value in ("a'b", b"x", 3, 2.5, True, None, (), ("x",), ("10.0.0.1", 80, (1, 2))):
        assert shown(value) == repr(value)
    assert shown((Host("10.0.0.1"), 9)) == "(<Host object>, 9)"
    assert shown(Sly()) == "<Sly object>" and type_name(Sly) == "Sly"
    assert ran == []


def test_a_learner_type_is_never_asked_whether_it_is_a_path(judge, open_rule, ran):
    assert judge.verdict(open_rule, "open", (Sly(), "r", 0)) == tamper(
        "opening a file through a Sly object"
    )
    rule = guard._file_change_rule(judge.normpath, judge.check_write)
    assert judge.verdict(rule, "os.remove", (Sly(), -1)) is None  # no path: nothing to check
    assert judge.normpath(Sly()) == ""
    assert ran == []


def test_a_host_of_a_str_subclass_is_refused_without_its_repr(judge, ran):
    network = guard._network_rule(loopback_test(), judge.refuse)
    lookups = guard._name_lookup_rule(loopback_test(), judge.refuse)
    assert judge.verdict(network, "socket.connect", (None, (Host("10.0.0.1"), 9))) == blocked(
        "the network (socket.connect to (<Host object>, 9))"
    )
    assert judge.verdict(lookups, "socket.getaddrinfo", (Host("127.0.0.1"),)) == blocked(
        "the network (looking up <Host object>)"
    )
    assert ran == []


def test_a_signal_target_is_compared_only_as_an_int(judge, ran):
    class Pid(int):
        def __eq__(self, other):
            RAN.append("__eq__")
            return True

        __hash__ = int.__hash__

    rule = guard._signal_rule(guard._own_child_test(POLICY, os.getpid()), judge.refuse)
    assert judge.verdict(rule, "os.kill", (Pid(1), 9)) == tamper(
        "signalling another process (os.kill)"
    )
    assert judge.verdict(rule, "os.kill", (Sly(), 9)) == tamper(
        "signalling another process (os.kill)"
    )
    assert ran == []


def test_an_import_name_of_a_str_subclass_is_read_as_its_text(judge, ran):
    rule = guard._import_rule(judge.refuse)
    assert judge.verdict(rule, "import", (Host("ctypes"),)) == tamper("importing ctypes")
    assert judge.verdict(rule, "import", (Host("json"),)) is None
    assert judge.verdict(rule, "import", (Sly(),)) is None
    assert ran == []


# The report --------------------------------------------------------------------------------

MAIN = code_in(f"{KIT}/graders/engine/worker.py", "main = 1")
MODULE = code_in(f"{KIT}/graders/engine/worker.py", "module = 1")
SEND = code_in(f"{KIT}/graders/engine/worker.py", "send = 1")


@pytest.fixture
def reports(judge):
    """A report rule writing to a pipe; returns (rule, read the lines, the new-check count)."""
    read_end, write_end = os.pipe()
    checks = []
    rule = guard._report_rule(
        seal=lambda body: repr(body).encode() + b"\n",
        nonce="n0nce",
        fd=write_end,
        report_code=SEND,
        chain=(MAIN, MODULE),
        lock=judge.lock,
        take_notes=judge.take,
        changed=lambda: (("tamper", "x.f was replaced", "your code"),),
        new_check=lambda: checks.append(1),
        refuse=judge.refuse,
    )

    def lines():
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            return [ast.literal_eval(line.decode()) for line in pipe]

    yield rule, lines, checks


def test_a_report_from_the_report_function_is_sealed_with_the_notes(judge, reports):
    rule, lines, checks = reports
    sender = Frame(SEND, Frame(MAIN, Frame(MODULE)))
    with pytest.raises(PermissionError):
        judge.refuse("blocked", "the network (looking up 'x')", LEARNER)
    assert judge.verdict(rule, guard.REPORT_EVENT, (("check", "a", True),), sender) is None
    assert judge.verdict(rule, guard.REPORT_EVENT, (("done", 1),), sender) is None
    replaced = ("tamper", "x.f was replaced", "your code")
    assert lines() == [
        (
            "n0nce",
            0,
            "check",
            "a",
            True,
            (("blocked", "the network (looking up 'x')", "start_join.py:7"), replaced),
        ),
        ("n0nce", 1, "done", 1, (replaced,)),
    ]
    assert len(checks) == 2


@pytest.mark.parametrize(
    ("frame", "args"),
    [
        (LEARNER, (("done", 1),)),
        (Frame(SEND, Frame(MAIN)), (("done", 1),)),  # not the whole chain
        (Frame(SEND, Frame(MAIN, Frame(MODULE, LEARNER))), (("done", 1),)),  # called from more
        (Frame(SEND, Frame(LEARNER.f_code, Frame(MODULE))), (("done", 1),)),
        (Frame(SEND, Frame(MAIN, Frame(MODULE))), ("done",)),  # the body is no tuple
        (Frame(SEND, Frame(MAIN, Frame(MODULE))), (("done",), 1)),
        (None, (("done", 1),)),
    ],
)
def test_any_other_report_is_tampering_and_writes_nothing(judge, reports, frame, args):
    rule, lines, checks = reports
    assert judge.verdict(rule, guard.REPORT_EVENT, args, frame) == tamper(
        "sending a grading report"
    )
    assert lines() == [] and checks == []


def test_replacements_of_watched_functions_and_modules_are_found(monkeypatch):
    module = types.ModuleType("fake_watched")
    exec("def f(): pass\nclass C:\n    def m(self): pass\n", vars(module))
    monkeypatch.setitem(sys.modules, "fake_watched", module)
    changed = guard._replacement_finder([module])
    assert changed() == ()
    module.f = lambda: None
    module.C.m = lambda self: None
    monkeypatch.setitem(sys.modules, "fake_watched", types.ModuleType("fake_watched"))
    assert changed() == (
        ("tamper", "sys.modules['fake_watched'] was replaced", "your code"),
        ("tamper", "fake_watched.f was replaced", "your code"),
        ("tamper", "fake_watched.C.m was replaced", "your code"),
    )


def _fake_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("fake_watched")
    exec("LIMIT = 3\ndef f(): pass\nclass C:\n    def m(self): pass\n", vars(module))
    monkeypatch.setitem(sys.modules, "fake_watched", module)
    return module


def test_a_snapshot_taken_ahead_is_reused_only_for_what_did_not_change(monkeypatch):
    module = _fake_module(monkeypatch)
    prior = guard.Snapshot([module])
    assert prior.unchanged(module) == guard.snapshot([module])
    module.g = lambda: None  # a callable added since (a zygote's child imported something)
    assert prior.unchanged(module) is None
    assert guard.snapshot([module], prior) == guard.snapshot([module])
    assert any(key == "g" for _, _, items in guard.snapshot([module], prior) for key, _ in items)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: setattr(m, "LIMIT", 4),  # not a callable: still not the same namespace
        lambda m: setattr(m.C, "m", lambda self: None),
        lambda m: delattr(m, "LIMIT"),
        lambda m: sys.modules.__setitem__("fake_watched", types.ModuleType("fake_watched")),
    ],
)
def test_any_rebinding_since_the_snapshot_means_a_fresh_one(monkeypatch, change):
    module = _fake_module(monkeypatch)
    prior = guard.Snapshot([module])
    change(module)
    current = sys.modules["fake_watched"]
    assert prior.unchanged(current) is None
    assert guard.snapshot([current], prior) == guard.snapshot([current])


def test_replacements_are_found_with_a_snapshot_taken_ahead(monkeypatch):
    module = _fake_module(monkeypatch)
    changed = guard._replacement_finder([module], guard.Snapshot([module]))
    assert changed() == ()
    module.f = lambda: None
    assert changed() == (("tamper", "fake_watched.f was replaced", "your code"),)


# The shared loopback test ------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.255.0.9", b"127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "::1%lo", "localhost",
     "LocalHost", b"localhost", "localhost.localdomain", "ip6-localhost"],
)  # fmt: skip
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["", "0.0.0.0", "10.0.0.1", "128.0.0.1", "127.1", "127.evil.com", "127.0.0.1.evil.com",
     "::", "::2", "::ffff:127.0.0.1", "fe80::1%lo", "example.com", "localhost.evil.com",
     "127.0.0.1\x00", "127.0.0.é", None, 2130706433, ("127.0.0.1", 80)],
)  # fmt: skip
def test_anything_else_could_leave_the_machine(host):
    assert not is_loopback(host)


def test_offline_and_the_guard_share_the_loopback_test():
    from graders.engine import offline

    assert offline.is_loopback is loopback.is_loopback
    assert not hasattr(guard, "LOOPBACK_NAMES")


# The table and the hook --------------------------------------------------------------------


def test_no_event_has_two_rules():
    groups = (
        guard.INTROSPECTION,
        guard.OBJECT_WALKS,
        guard.PROCESSES,
        guard.KILLS,
        guard.FILE_CHANGES,
        guard.NETWORK,
        guard.NAME_LOOKUPS,
        frozenset({guard.REPORT_EVENT, "open", "import"}),
    )
    table = guard._dispatch(*((events, print) for events in groups))
    assert len(table) == sum(len(g) for g in groups)
    with pytest.raises(ValueError, match="os.fork has two rules"):
        guard._dispatch((("os.fork",), print), (("os.fork", "open"), print))


class Calls:
    """Rules that record what they were given; `again` raises an event from inside one."""

    def __init__(self):
        self.seen = []
        self.hook = None

    def rule(self, name):
        def record(event, args, frame):
            self.seen.append((name, event, args, frame.f_code.co_name if frame else None))
            if event == "again":
                self.hook("again", ("inner",))

        return record


def test_the_hook_finds_the_rule_by_name_then_by_prefix():
    calls = Calls()
    table = {"open": calls.rule("open"), "object.__getattr__": calls.rule("attr")}
    calls.hook = hook = guard._hook(table, (("ctypes.", calls.rule("ctypes")),))
    table["open"] = calls.rule("replaced")  # the hook holds its own copy

    def raiser():
        hook("open", ("/x", "r", 0))
        hook("ctypes.dlopen", ("libc",))
        hook("os.listdir", (".",))  # no rule
        hook("object.__getattr__", (None, "f_code"))  # harmless without a frame: skipped
        hook("object.__getattr__", (None, "f_back"))

    raiser()
    assert calls.seen == [
        ("open", "open", ("/x", "r", 0), "raiser"),
        ("ctypes", "ctypes.dlopen", ("libc",), "raiser"),
        ("attr", "object.__getattr__", (None, "f_back"), "raiser"),
    ]


def test_events_raised_while_a_rule_decides_pass_and_the_hook_recovers():
    calls = Calls()
    calls.hook = hook = guard._hook({"again": calls.rule("again")}, ())
    hook("again", ("outer",))
    hook("again", ("later",))
    assert [s[2] for s in calls.seen] == [("outer",), ("later",)]


def test_rules_keep_what_they_bound_when_made(judge, monkeypatch):
    imports = guard._import_rule(judge.refuse)
    network = guard._network_rule(loopback_test(), judge.refuse)
    signals = guard._signal_rule(guard._own_child_test(POLICY, os.getpid()), judge.refuse)
    monkeypatch.setattr(guard, "FORBIDDEN_IMPORTS", frozenset())
    monkeypatch.setattr(loopback, "LOOPBACK_NAMES", frozenset({"evil.com"}))
    monkeypatch.setattr(loopback._socket, "inet_pton", lambda family, host: b"\x7f\0\0\1")
    monkeypatch.setattr(os, "getpid", lambda: 1)
    assert judge.verdict(imports, "import", ("ctypes",)) == tamper("importing ctypes")
    address = ("evil.com", 80)
    assert judge.verdict(network, "socket.connect", (None, address)) == blocked(
        f"the network (socket.connect to {address!r})"
    )
    assert judge.verdict(network, "socket.connect", (None, ("10.0.0.1", 80)))[0] == "blocked"
    assert judge.verdict(signals, "os.kill", (1, 9)) == tamper(
        "signalling another process (os.kill)"
    )


# End to end: a process with the guard installed --------------------------------------------

GUARDED = """
import gc, os, socket, subprocess, sys
import _posixsubprocess
from graders.engine import guard


def send(body):
    sys.audit("threadkit.report", body)


def attempt(results, name, action):
    try:
        action()
        results[name] = "allowed"
    except PermissionError as refusal:
        results[name] = str(refusal)


class Host(str):
    def __repr__(self):  # would run inside the hook, where nothing is checked
        return repr(open(KIT + "/fixtures/start_join/solution.py").read()[:20])


def main(kit):
    policy = guard.Policy.for_run(kit, os.getcwd())
    guard.install(lambda body: repr(body).encode() + b"\\n", "n0nce", 1, send.__code__, policy, [])
    server = socket.socket()
    results = {}
    tries = [
        ("write here", lambda: open("mine.txt", "w").close()),
        ("read a solution", lambda: open(kit + "/fixtures/start_join/solution.py").close()),
        ("write the kit", lambda: open(kit + "/graders/_probe.txt", "w").close()),
        ("write elsewhere", lambda: open("/tmp/_threadkit_probe.txt", "w").close()),
        ("read /proc", lambda: open("/proc/self/status").close()),
        ("rename into the kit", lambda: os.rename("absent.txt", kit + "/graders/_probe.txt")),
        ("bind loopback", lambda: server.bind(("127.0.0.1", 0))),
        ("connect far", lambda: socket.socket().connect(("10.255.255.1", 9))),
        ("connect far, sly", lambda: socket.socket().connect((Host("10.255.255.1"), 9))),
        ("look up a name", lambda: socket.getaddrinfo("example.com", 80)),
        ("look up loopback", lambda: socket.getaddrinfo("127.0.0.1", 80)),
        ("subprocess", lambda: subprocess.run(["true"])),
        ("fork_exec", lambda: _posixsubprocess.fork_exec()),
        ("kill another", lambda: os.kill(1, 0)),
        ("kill myself", lambda: os.kill(os.getpid(), 0)),
        ("import ctypes", lambda: __import__("ctypes")),
        ("frames", lambda: sys._getframe()),
        ("gc", lambda: gc.get_objects()),
        ("forge a report", lambda: sys.audit("threadkit.report", ("done", 0))),
    ]
    for name, action in tries:
        attempt(results, name, action)
    send(("done", results))


KIT = sys.argv[1]
main(KIT)
"""


def test_the_installed_guard_refuses_and_permits_as_each_rule_says(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text(GUARDED)
    done = subprocess.run(
        [sys.executable, str(script), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, done.stderr
    nonce, sequence, kind, results, notes = ast.literal_eval(done.stdout.splitlines()[-1])
    assert (nonce, sequence, kind) == ("n0nce", 0, "done")
    kit = str(ROOT)
    probe = f"{kit}/graders/_probe.txt"
    assert results == {
        "write here": "allowed",
        "read a solution": said(f"reading the kit's file {kit}/fixtures/start_join/solution.py"),
        "write the kit": said(f"changing the kit's files (open {kit}/graders/_probe.txt)"),
        "write elsewhere": said(
            "writing outside the grading folder (open /tmp/_threadkit_probe.txt)"
        ),
        "read /proc": said("reading /proc/self/status"),
        "rename into the kit": said(f"changing the kit's files (os.rename {probe})"),
        "bind loopback": "allowed",
        "connect far": said("the network (socket.connect to ('10.255.255.1', 9))"),
        "connect far, sly": said("the network (socket.connect to (<Host object>, 9))"),
        "look up a name": said("the network (looking up 'example.com')"),
        "look up loopback": "allowed",
        "subprocess": said("starting a process (subprocess.Popen)"),
        "fork_exec": said("starting a process (_posixsubprocess.fork_exec)"),
        "kill another": said("signalling another process (os.kill)"),
        "kill myself": "allowed",
        "import ctypes": said("importing ctypes"),
        "frames": said("sys._getframe (introspection of the grader)"),
        "gc": said("gc.get_objects (walking the grader's objects)"),
        "forge a report": said("sending a grading report"),
    }
    refusals = [said(what) for _, what, _ in notes]
    assert refusals == [message for message in results.values() if message != "allowed"]
    assert [kind for kind, _, _ in notes] == [
        "tamper", "tamper", "blocked", "tamper", "tamper", "blocked", "blocked", "blocked",
        "blocked", "blocked", "tamper", "tamper", "tamper", "tamper", "tamper",
    ]  # fmt: skip
    assert all(where.startswith("guarded.py:") for _, _, where in notes)
