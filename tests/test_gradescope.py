"""`make gradescope`: the autograder zip, and its run_autograder end to end.

The zip is unpacked into a simulated /autograder (bubblewrap binds it at /autograder where
bubblewrap works here; otherwise run_autograder is pointed at it with AUTOGRADER_ROOT) and
graded three times, as Gradescope would: the reference solutions, the untouched stubs and a
mutant. Every results.json must satisfy a JSON Schema written from Gradescope's specification
(gradescope/autograder_samples, docs/specs.md), and say what `make grade` would: full marks,
zero, and exactly the mutant's expect-fail checks failed. setup.sh needs apt and root, so it is
not run here; its text is checked instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from graders.instructor import gradescope_zip
from graders.instructor.as_user import AsUser, for_user
from graders.instructor.mutants import read_mutant
from graders.tasks import TASKS, get_task
from tests.helpers import EXERCISES, SOLUTIONS

# Its module-scoped fixtures are built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("gradescope")

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
OUTPUT_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
TEST_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": OUTPUT_FORMAT,
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": OUTPUT_FORMAT,
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY,
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
}
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": OUTPUT_FORMAT,
        "test_output_format": OUTPUT_FORMAT,
        "test_name_format": OUTPUT_FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array"},
    },
    "additionalProperties": False,
    # "score: optional, but required if not on each test case"
    "anyOf": [
        {"required": ["score"]},
        {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}},
    ],
}
# What this kit promises on top of the specification: every field, on every test.
OUR_TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}
COUNTER = get_task("counter_lock")
MUTANT = read_mutant(COUNTER, COUNTER.files().mutants / "no_lock.py")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gradescope_zip.build(tmp_path_factory.mktemp("gradescope") / "autograder.zip").path


def test_the_zip_holds_what_grading_needs_and_nothing_else(autograder_zip: Path):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    names = set(infos)
    assert {"setup.sh", "run_autograder", "Makefile", "pyproject.toml"} <= names
    assert "requirements/learner.txt" in names
    for task in TASKS:
        assert f"graders/tasks/{task.id}/__init__.py" in names
        assert f"graders/tasks/{task.id}/hidden.py" in names  # the hidden checks grade too
    for name in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[name].external_attr >> 16) == 0o755
    forbidden = re.compile(r"^(fixtures|tests|exercises|\.venv|build|docs|templates)/")
    assert not [n for n in names if forbidden.match(n) or "__pycache__" in n or n.endswith(".pyc")]
    top = {n for n in names if "/" not in n}
    assert top == {"setup.sh", "run_autograder", "Makefile", "pyproject.toml"}


def test_the_zip_is_reproducible(autograder_zip: Path, tmp_path: Path):
    again = gradescope_zip.build(tmp_path / "again.zip").path
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_setup_sh_updates_apt_first_and_makes_the_learners_user():
    text = (gradescope_zip.KIT_ROOT / "templates/gradescope/setup.sh").read_text()
    commands = [line.strip() for line in text.splitlines() if not line.lstrip().startswith("#")]
    update = next(i for i, line in enumerate(commands) if line.startswith("apt-get update"))
    installs = [i for i, line in enumerate(commands) if line.startswith("apt-get install")]
    assert installs and update < min(installs)
    assert "python3-venv" in text and " make" in text and "bubblewrap" in text
    assert "useradd" in text and "threadkit" in text
    assert "make .venv/.learner-installed PYTHON=/usr/bin/python3" in text
    script = (gradescope_zip.KIT_ROOT / "templates/gradescope/run_autograder").read_text()
    assert 'user="${AUTOGRADER_USER-threadkit}"' in script


# --- run_autograder in a simulated /autograder ----------------------------------------------


def bwrap_binds() -> bool:
    """Whether bubblewrap can show a folder at /autograder here (root, bwrap installed)."""
    if shutil.which("bwrap") is None or os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(
            bwrap_prefix(Path(tmp)) + ["/bin/sh", "-c", "test -d /autograder"],
            capture_output=True,
            timeout=30,
        )
    return probe.returncode == 0


def bwrap_prefix(root: Path) -> list[str]:
    """This machine's filesystem, plus `root` at /autograder (nothing is created on the host)."""
    args = ["bwrap", "--tmpfs", "/"]
    for entry in sorted(os.listdir("/")):
        path = Path("/", entry)
        if entry in ("proc", "dev", "autograder"):
            continue
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--bind", str(path), str(path)]
    args += ["--proc", "/proc", "--dev-bind", "/dev", "/dev", "--cap-add", "ALL"]
    return args + ["--bind", str(root), "/autograder", "--chdir", "/autograder", "--"]


BWRAP = bwrap_binds()


def new_autograder(zip_path: Path, files: dict[str, Path]) -> Path:
    """A fresh /autograder: source/ from the zip, run_autograder copied up, a submission."""
    root = Path(tempfile.mkdtemp(prefix="threadkit-autograder-"))
    root.chmod(0o755)  # another user may have to read source/
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("run_autograder", "setup.sh"):
        (root / "source" / script).chmod(0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    # run_autograder's TMPDIR, so that what it leaves when killed goes with root
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)  # as /tmp
    for name, source in files.items():
        shutil.copy(source, root / "submission" / name)
    (root / "submission_metadata.json").write_text(json.dumps({"id": 123456}))
    return root


def start(root: Path) -> subprocess.Popen[str]:
    """run_autograder as Gradescope starts it: root's own user, working folder /autograder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AUTOGRADER"))}
    env["AUTOGRADER_PYTHON"] = sys.executable  # the zip has no .venv: setup.sh is not run
    env["AUTOGRADER_USER"] = "nobody" if os.geteuid() == 0 else ""
    if BWRAP:
        env["TMPDIR"] = "/autograder/tmp"
        cmd = bwrap_prefix(root) + ["/autograder/run_autograder"]
    else:
        env["AUTOGRADER_ROOT"] = str(root)
        env["TMPDIR"] = str(root / "tmp")
        cmd = [str(root / "run_autograder")]
    return subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def results_of(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


def by_task(results: dict) -> dict[str, tuple[float, float]]:
    """(score, max) per task, from the tests' tags."""
    totals: dict[str, tuple[float, float]] = {}
    for test in results["tests"]:
        task = test["tags"][0]
        score, most = totals.get(task, (0, 0))
        totals[task] = (score + test["score"], most + test["max_score"])
    return totals


def failures(results: dict) -> str:
    """The failed tests and their messages, for an assertion's explanation."""
    return "\n".join(
        f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] == "failed"
    )


def failed_checks(results: dict, task_id: str) -> set[str]:
    titles = {c.title: c.name for c in get_task(task_id).checks(hidden=True)}
    return {
        titles[t["name"].split(": ", 1)[1]]
        for t in results["tests"]
        if t["tags"][0] == task_id and t["status"] == "failed"
    }


@pytest.fixture(scope="module")
def three_runs(autograder_zip: Path) -> Iterator[dict[str, tuple[dict, str]]]:
    """results.json and the log of the solutions, the stubs and a mutant (one at a time, as
    Gradescope runs each in a container of its own: three at once on a loaded machine would
    test the machine)."""
    submissions = {
        "solutions": {t.module: SOLUTIONS / t.module for t in TASKS},
        "stubs": {t.module: EXERCISES / t.module for t in TASKS},
        "mutant": {t.module: SOLUTIONS / t.module for t in TASKS}
        | {MUTANT.task.module: MUTANT.path},
    }
    roots = {name: new_autograder(autograder_zip, files) for name, files in submissions.items()}
    logs = {}
    for name, root in roots.items():
        proc = start(root)
        logs[name] = proc.communicate(timeout=240)[0]
        assert proc.returncode == 0, logs[name]
    yield {name: (results_of(root), logs[name]) for name, root in roots.items()}
    for root in roots.values():
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("which", ["solutions", "stubs", "mutant"])
def test_results_json_follows_gradescopes_specification(three_runs, which: str):
    results, log = three_runs[which]
    jsonschema.validate(results, RESULTS_SCHEMA)
    checks = [(t, c) for t in TASKS for c in t.checks(hidden=True)]
    assert len(results["tests"]) == len(checks), log
    for test, (task, chk) in zip(results["tests"], checks):
        assert OUR_TEST_FIELDS <= set(test)
        assert test["name"] == f"{task.title}: {chk.title}" and test["tags"][0] == task.id
        assert test["max_score"] == chk.points
        assert test["visibility"] == ("after_published" if chk.hidden else "visible")
        assert (test["status"] == "passed") == (test["score"] == chk.points)
    assert results["score"] == sum(t["score"] for t in results["tests"])
    assert results["extra_data"]["pending_tasks"] == []
    assert results["extra_data"]["learner"] == "123456"  # Gradescope's submission id: the seed
    assert "learner_code_runs_as" in results["extra_data"]


def test_the_three_submissions_get_what_make_grade_gives(three_runs):
    solutions, stubs, mutant = (three_runs[w][0] for w in ("solutions", "stubs", "mutant"))
    full = {t.id: (t.max_points(hidden=True),) * 2 for t in TASKS}
    assert by_task(solutions) == full, failures(solutions)
    assert solutions["score"] == sum(t.max_points(hidden=True) for t in TASKS)
    assert {task: score for task, (score, _) in by_task(stubs).items()} == {t.id: 0 for t in TASKS}
    assert stubs["score"] == 0
    assert failed_checks(mutant, MUTANT.task.id) == MUTANT.expect_fail
    others = {k: v for k, v in by_task(mutant).items() if k != MUTANT.task.id}
    assert others == {k: v for k, v in full.items() if k != MUTANT.task.id}, failures(mutant)
    failed = [t for t in mutant["tests"] if t["status"] == "failed"]
    assert MUTANT.expect_message in failed[0]["output"]
    assert "Traceback" not in json.dumps(mutant)


def test_a_global_timeout_still_leaves_every_task_graded_so_far(autograder_zip: Path, tmp_path):
    """Gradescope kills run_autograder at its time limit: results.json, rewritten after each
    task, still shows the tasks already graded, and why the others are not."""
    hang = tmp_path / "downloader.py"
    hang.write_text(
        "import time\n\n"  # a wait the wait-for graph cannot see: only the time limit ends it
        "def download_sequential(urls, out_dir='.'):\n    time.sleep(3600)\n\n"
        "def download_threaded(urls, out_dir='.'):\n    time.sleep(3600)\n\n"
        "def compare_timings(urls, out_dir='.'):\n    time.sleep(3600)\n"
    )
    before = TASKS[: [t.id for t in TASKS].index("downloader")]  # graded before the hang
    files = {t.module: SOLUTIONS / t.module for t in before} | {"downloader.py": hang}
    root = new_autograder(autograder_zip, files)
    proc = start(root)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = (root / "results/results.json").exists() and results_of(root)
            if done and done["extra_data"]["graded_tasks"] >= len(before):
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the global timeout
        proc.communicate(timeout=30)
        results = results_of(root)
        jsonschema.validate(results, RESULTS_SCHEMA)
        assert results["extra_data"]["graded_tasks"] == len(before)
        totals = by_task(results)
        for task in before:
            assert totals[task.id] == (task.max_points(hidden=True),) * 2
        assert results["score"] == sum(t.max_points(hidden=True) for t in before)
        pending = [t for t in results["tests"] if t["tags"][0] not in {b.id for b in before}]
        assert pending and all(t["status"] == "failed" for t in pending)
        assert all("had not reached this task" in t["output"] for t in pending)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def test_a_grader_that_cannot_start_still_leaves_a_results_json(autograder_zip: Path):
    root = new_autograder(autograder_zip, {})
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER")}
        env |= {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": "/bin/false"}
        done = subprocess.run([str(root / "run_autograder")], env=env, timeout=60)
        assert done.returncode == 0
        results = results_of(root)
        jsonschema.validate(results, RESULTS_SCHEMA)
        assert results["score"] == 0 and "failed before it could grade" in results["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- learner code as another user --------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch users")
def test_the_learners_code_runs_as_the_user_and_owns_only_its_work_folder():
    """The work folder (root's, 0700, as run_isolated makes it) is handed to the user, who can
    write there and nowhere else of root's (e.g. the results folder)."""
    base = Path(tempfile.mkdtemp(prefix="threadkit-user-"))
    try:
        base.chmod(0o755)  # like /autograder/results: root's, readable, not writable by others
        work = base / "work"
        work.mkdir(mode=0o700)
        (work / "module.py").write_text("x = 1\n")
        box = AsUser("process", "nobody", 65534, 65534)
        probe = (
            f"id -u; cd {work} && test -w module.py && echo owns-work; "
            f"test -w {base} && echo writes-outside || echo not-outside"
        )
        cmd = box.wrap(["/bin/sh", "-c", probe], workdir=work, hidden_file=None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = str(gradescope_zip.KIT_ROOT)
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=60)
        assert done.stdout.split() == ["65534", "owns-work", "not-outside"], done.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_who_runs_the_learners_code_is_always_said():
    sandbox, who = for_user("")
    assert "no other user" in who and not isinstance(sandbox, AsUser)
    sandbox, who = for_user("no-such-user-here")
    if os.geteuid() == 0:
        assert "no user 'no-such-user-here'" in who
    else:
        assert "only root can switch" in who
    assert not isinstance(sandbox, AsUser)


def test_a_never_ending_import_costs_the_autograder_its_import_budget(
    autograder_zip: Path, tmp_path: Path, monkeypatch
):
    """run_autograder grades through the same grading process: its --import-seconds default
    (THREADKIT_IMPORT_SECONDS here) ends a module whose import never ends, not the task limit."""
    monkeypatch.setenv("THREADKIT_IMPORT_SECONDS", "1")
    hang = tmp_path / "counter.py"
    hang.write_text("while True:\n    pass\n")
    root = new_autograder(autograder_zip, {"counter.py": hang})
    try:
        began = time.monotonic()
        proc = start(root)
        log = proc.communicate(timeout=240)[0]
        took = time.monotonic() - began
        assert proc.returncode == 0, log
        results = results_of(root)
        tests = [t for t in results["tests"] if t["tags"][0] == "counter_lock"]
        assert tests and all(t["status"] == "failed" for t in tests)
        assert all("did not finish within 1 s" in t["output"] for t in tests), failures(results)
        assert took < 60, took  # one task's limit; the other tasks are not in the submission
    finally:
        shutil.rmtree(root, ignore_errors=True)
