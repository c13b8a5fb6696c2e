"""cpu_bound may start processes; nothing else may, and its processes stay in their cage.

The grading process's guard lets multiprocessing's own fork start processes for cpu_bound
only (its suite declares PROCESS_CAP), up to the cap per check, from the grading process
only. These tests go through the real path (run_isolated) where they can:

- another task's submission that starts a process, any way (spawn and forkserver included,
  which raise no audit event of their own), is refused, and nothing it asked for ran;
- a cpu_bound submission that starts 100 processes scores 0 (tampering), never has more than
  the cap alive, leaves nothing behind, and another task graded beside it is unharmed;
- the children inherit the guard and the limits: a child may not fork, start a process,
  write outside the grading folder or read /proc, and may not grow by more than 128 MiB;
- nothing a check starts outlives it; and `make demo TASK=cpu_bound` times the three ways.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graders.engine.isolated import run_isolated
from graders.engine.process import DEFAULT_LIMITS
from graders.tasks import get_task
from graders.tasks.cpu_bound import PROCESS_CAP, prime_count
from tests.helpers import EXERCISES, SOLUTIONS, checks_in_this_process
from tests.learner_cli import graders

TAG = "THREADKIT_TEST_TAG"
CPU = get_task("cpu_bound")
SOLUTION = (SOLUTIONS / "cpu_bound.py").read_text()
POOL = "with concurrent.futures.ProcessPoolExecutor(max_workers=n) as pool:"


def submission(folder: Path, module: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / module).write_text(source)
    return folder


def tagged(tag: str) -> list[int]:
    """Live processes whose environment carries this test's tag (zombies have none)."""
    wanted = f"{TAG}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path("/proc", entry, "environ").read_bytes()
            except OSError:
                continue
            if wanted in environ.split(b"\0"):
                found.append(int(entry))
    return found


def none_left(tag: str, timeout: float = 5.0) -> bool:
    """Whether every tagged process is gone (a killed one may take a moment to exit)."""
    deadline = time.monotonic() + timeout
    while tagged(tag):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Census(threading.Thread):
    """Counts this test's tagged processes while a grading runs: the most alive at once."""

    def __init__(self, tag: str) -> None:
        super().__init__(daemon=True)
        self.tag, self.peak, self.done = tag, 0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, len(tagged(self.tag)))
            self.done.wait(0.02)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


@pytest.fixture
def tag(monkeypatch: pytest.MonkeyPatch) -> str:
    """A tag in the environment every grading process (and its children) inherits."""
    value = uuid.uuid4().hex
    monkeypatch.setenv(TAG, value)
    return value


def test_the_graders_prime_count_is_the_given_count_primes():
    given = {}
    exec(compile((EXERCISES / "cpu_bound.py").read_text(), "cpu_bound.py", "exec"), given)
    rng = random.Random(12)
    cases = [(0, 0), (0, 2), (-5, 3), (2, 3), (3, 3), (10, 2), (0, 100), (7919, 7920)]
    cases += [(a, a + rng.randint(0, 400)) for a in rng.sample(range(0, 20000), 40)]
    for start, stop in cases:
        assert prime_count(start, stop) == given["count_primes"](start, stop), (start, stop)


# ----------------------------------------------------------------- no other task gains the right

STARTS = {
    "fork (default context)": "multiprocessing.Process(target=time.sleep, args=(30,)).start()",
    "spawn": "multiprocessing.get_context('spawn').Process(target=TOUCH).start()",
    "forkserver": "multiprocessing.get_context('forkserver').Process(target=TOUCH).start()",
    "process pool": "concurrent.futures.ProcessPoolExecutor(2).submit(TOUCH).result()",
    "os.fork": "os.fork()",
    "subprocess": "subprocess.run(['touch', MARK])",
}


@pytest.mark.parametrize("way", STARTS, ids=lambda w: w.split()[0])
def test_another_task_cannot_start_a_process(way, tmp_path):
    mark = tmp_path / "escaped"  # outside the grading folder: only an unguarded process writes it
    attempt = f"""
import concurrent.futures, multiprocessing, os, pathlib, subprocess, time
MARK = {str(mark)!r}
TOUCH = pathlib.Path(MARK).touch
REFUSED = []

def attempt():
    try:
        {STARTS[way]}
    except PermissionError as exc:
        REFUSED.append(str(exc))
"""
    source = (SOLUTIONS / "start_join.py").read_text() + attempt
    source = source.replace("    threads = [", "    attempt()\n    threads = [", 1)
    folder = submission(tmp_path / "sub", "start_join.py", source)
    run = run_isolated("start_join", folder, seed=5)
    said = " ".join(run.blocked + run.tampering)
    assert "starting a process" in said
    assert not mark.exists()


def test_a_fresh_import_of_posixsubprocess_is_tampering(tmp_path):
    trick = (
        "\nimport sys\n"
        "def fresh():\n"
        "    sys.modules.pop('_posixsubprocess')\n"
        "    import _posixsubprocess\n"
        "    return _posixsubprocess\n"
    )
    source = (SOLUTIONS / "start_join.py").read_text() + trick
    source = source.replace("    threads = [", "    fresh()\n    threads = [", 1)
    run = run_isolated("start_join", submission(tmp_path, "start_join.py", source), seed=5)
    assert run.result.points == 0
    assert any("importing _posixsubprocess" in t for t in run.tampering)


def test_only_cpu_bound_declares_a_process_cap():
    from graders.tasks import TASKS

    assert {t.id: t.process_cap() for t in TASKS if t.process_cap()} == {"cpu_bound": PROCESS_CAP}


# ----------------------------------------------------------------- cpu_bound's processes, caged


def test_a_hundred_processes_score_zero_and_harm_nothing_else(tmp_path, tag):
    hog = submission(
        tmp_path / "hog", CPU.module, SOLUTION.replace(POOL, POOL.replace("n)", "100)"))
    )
    census = Census(tag)
    with ThreadPoolExecutor(2) as pool:
        hogged = pool.submit(run_isolated, "cpu_bound", hog, seed=3, hidden=True)
        other = pool.submit(run_isolated, "start_join", SOLUTIONS, seed=3, hidden=True)
        hogged, other = hogged.result(), other.result()
    peak = census.stop()
    assert hogged.result.points == 0
    assert any(f"starting more than {PROCESS_CAP} processes" in t for t in hogged.tampering)
    assert other.result.points == other.result.max_points  # graded beside it, unharmed
    assert peak <= PROCESS_CAP + 2  # the two grading processes and at most the cap
    assert none_left(tag)  # nothing outlives its grading


def test_the_solution_forks_only_what_it_asks_for_and_leaves_nothing(tag):
    census = Census(tag)
    run = run_isolated("cpu_bound", SOLUTIONS, seed=4, hidden=True)
    peak = census.stop()
    assert run.result.points == run.result.max_points
    assert (run.tampering, run.blocked) == ([], [])
    assert peak <= 1 + 8  # the grading process and at most one pool of n <= 8
    assert none_left(tag)


CHILD_PROBE = '''

def probe():
    """Run in a pool process: what may this child do?"""
    import json, os, resource, subprocess
    tried = {}
    for name, action in {
        "fork": os.fork,
        "process": lambda: multiprocessing.Process(target=os.getpid).start(),
        "subprocess": lambda: subprocess.run(["true"]),
        "write outside": lambda: open("/tmp/threadkit-child-escape", "w").close(),
        "read /proc": lambda: open(f"/proc/{os.getppid()}/environ", "rb").close(),
        "300 MB more": lambda: bytearray(300 * 1024**2),
    }.items():
        try:
            action()
            tried[name] = "allowed"
        except (PermissionError, MemoryError):
            tried[name] = "refused"
    tried["memory limit"] = resource.getrlimit(resource.RLIMIT_AS)[0]
    tried["pid"], tried["parent"] = os.getpid(), os.getppid()
    print("CHILD " + json.dumps(tried), flush=True)


def count_in_processes(ranges, n):
    with concurrent.futures.ProcessPoolExecutor(max_workers=n) as pool:
        pool.submit(probe).result()
'''


def test_children_inherit_the_guard_and_the_limits(tmp_path):
    source = SOLUTION.replace(
        "import concurrent.futures\n", "import concurrent.futures\nimport multiprocessing\n"
    )
    folder = submission(tmp_path, CPU.module, source + CHILD_PROBE)
    run = run_isolated("cpu_bound", folder, seed=6)
    reports = [
        json.loads(line[6:]) for line in run.output.splitlines() if line.startswith("CHILD ")
    ]
    assert reports, run.output
    for report in reports:
        refused = {k: v for k, v in report.items() if v in ("allowed", "refused")}
        assert set(refused.values()) == {"refused"}, report
        assert report["memory limit"] < DEFAULT_LIMITS.memory_bytes  # what it has + 128 MiB
        assert report["pid"] != report["parent"]
    assert not Path("/tmp/threadkit-child-escape").exists()


def test_an_explicit_spawn_context_is_refused_and_explained(tmp_path):
    spawned = POOL.replace(
        "max_workers=n)", "max_workers=n, mp_context=multiprocessing.get_context('spawn'))"
    )
    source = SOLUTION.replace(POOL, spawned).replace(
        "import concurrent.futures\n", "import concurrent.futures\nimport multiprocessing\n"
    )
    run = run_isolated("cpu_bound", submission(tmp_path, CPU.module, source), seed=6)
    failed = {c.name: c.feedback.render() for c in run.result.checks if not c.passed}
    assert "Your pool could not start its processes" in failed["processes_total"]
    assert "threads_total" not in failed and run.tampering == []
    assert any("starting a process" in b for b in run.blocked)


def test_a_process_left_running_does_not_outlive_its_check(tmp_path):
    linger = SOLUTION.replace(
        POOL,
        "multiprocessing.Process(target=time.sleep, args=(60,)).start()\n    " + POOL,
    ).replace("import concurrent.futures\n", "import concurrent.futures\nimport multiprocessing\n")
    folder = submission(tmp_path, CPU.module, linger)
    import multiprocessing

    result = checks_in_this_process("cpu_bound", folder, seed=8)  # the check's own clean-up
    verdicts = {c.name: c for c in result.checks}
    assert "processes, not" in verdicts["processes_workers"].feedback.summary  # one too many
    assert multiprocessing.active_children() == []


# ----------------------------------------------------------------- make demo TASK=cpu_bound


def test_demo_times_the_three_ways_and_names_the_machine():
    run = graders("demo", "--task", "cpu_bound", "--submission", str(SOLUTIONS), "--scale", "0.02")
    assert run.returncode == 0, run.stdout + run.stderr
    out = " ".join(run.stdout.split())
    for way in ("the loop (count_primes)", "count_in_threads", "count_in_processes"):
        assert re.search(re.escape(way) + r" │ +\d+\.\d\d s │", out), out
    assert re.search(r"This machine: \d+ core\(s\), \d+ usable by this program; CPython", out)
    assert "GIL" in out and "Against the loop: threads" in out


GUARDED = """
import json, multiprocessing, os, sys
from graders.engine import guard

multiprocessing.set_start_method("fork", force=True)
import multiprocessing.popen_fork


def install():
    policy = guard.Policy.for_run(sys.argv[1], os.getcwd(), process_cap=int(sys.argv[2]))
    null = os.open(os.devnull, os.O_WRONLY)
    guard.install(lambda body: b"", "nonce", null, install.__code__, policy, [])


install()
said = {"leader": os.getpgrp() == os.getpid()}
with multiprocessing.Pool(2) as pool:  # its with block ends in terminate(): os.kill
    said["pool"] = pool.map(abs, [-1, -2, -3])
try:
    with multiprocessing.Pool(3) as pool:
        pool.map(abs, [1])
except PermissionError as exc:
    said["over the cap"] = str(exc)
try:
    os.kill(os.getppid(), 0)
except PermissionError as exc:
    said["parent"] = str(exc)
print(json.dumps(said))
"""


@pytest.mark.parametrize("cap", [4, 0])
def test_the_guard_counts_forks_and_lets_a_pool_terminate_outside_a_new_session(cap, tmp_path):
    """Outside a session of its own (as under some sandboxes), a pool's terminate() still
    signals only its own children; the cap counts multiprocessing's forks; no cap, no fork."""
    import subprocess
    import sys

    script = tmp_path / "guarded.py"
    script.write_text(GUARDED)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run(
        [sys.executable, str(script), str(Path(__file__).resolve().parent.parent), str(cap)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    if cap == 0:
        assert "starting a process (os.fork)" in done.stderr
        return
    said = json.loads(done.stdout.strip().splitlines()[-1])
    assert said["leader"] is False
    assert said["pool"] == [1, 2, 3]
    assert "starting more than 4 processes in one check" in said["over the cap"]
    assert "signalling another process" in said["parent"]
