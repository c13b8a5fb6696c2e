"""The isolation levels do what the README says, where this machine offers them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine.sandbox import LEVELS, Sandbox, detect, works
from graders.tasks import TASKS
from tests.helpers import ROOT, SOLUTIONS

GRADERS = ROOT / "graders"


def run_in(level: str, code: str, tmp_path: Path, hidden: Path | None = None) -> str:
    cmd = Sandbox(level).wrap([sys.executable, "-c", code], workdir=tmp_path, hidden_file=hidden)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_auto_picks_a_level_that_works_and_unknown_levels_are_refused():
    assert works(detect("auto").level)
    with pytest.raises(ValueError):
        detect("chroot")
    assert set(LEVELS) == {"process", "netns", "bwrap"}


@pytest.mark.skipif(not works("bwrap"), reason="bubblewrap does not work here")
def test_bwrap_shows_graders_and_the_tasks_own_hidden_checks_only(tmp_path):
    paths = [
        SOLUTIONS / "start_join.py",
        ROOT / "tests" / "conftest.py",
        GRADERS / "tasks" / "start_join" / "__init__.py",
        GRADERS / "tasks" / "start_join" / "hidden.py",
        GRADERS / "tasks" / "counter_lock" / "hidden.py",
        ROOT / "fixtures",
    ]
    code = f"import os; print([os.path.exists(p) for p in {[str(p) for p in paths]!r}])"
    seen = run_in("bwrap", code, tmp_path, GRADERS / "tasks" / "start_join" / "hidden.py")
    assert seen == str([False, False, True, True, True, False])  # counter_lock's: exists, empty
    other = str(GRADERS / "tasks" / "counter_lock" / "hidden.py")
    unreadable = (  # /dev/null bound over it: empty, or refused on a nodev mount
        f"try:\n    print(open({other!r}).read() == '')\nexcept PermissionError:\n    print(True)"
    )
    own_hidden = GRADERS / "tasks" / "start_join" / "hidden.py"
    assert run_in("bwrap", unreadable, tmp_path, own_hidden) == "True"
    assert run_in("bwrap", "import os; print(os.getpid())", tmp_path) != ""


@pytest.mark.skipif(not works("bwrap"), reason="bubblewrap does not work here")
def test_a_submissions_sandbox_shows_every_hidden_check_and_writes_only_its_folder(tmp_path):
    """One bwrap sandbox holds a submission's zygote and all its tasks (each imports its own
    hidden checks): the same view as a task's own, but with every task's hidden checks."""
    hidden = [task.files().hidden for task in TASKS]
    paths = [SOLUTIONS / "start_join.py", ROOT / "tests" / "conftest.py", ROOT / "fixtures"]
    code = (
        "import os, pathlib\n"
        f"print([bool(pathlib.Path(p).read_text()) for p in {[str(h) for h in hidden]!r}])\n"
        f"print([os.path.exists(p) for p in {[str(p) for p in paths]!r}])\n"
        f"print([os.access(p, os.W_OK) for p in {[str(tmp_path), str(GRADERS)]!r}])"
    )
    cmd = Sandbox("bwrap").wrap_submission([sys.executable, "-c", code], folder=tmp_path)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    readable, exists, writable = done.stdout.split("\n")[:3]
    assert readable == str([True] * len(hidden))
    assert exists == str([False, False, False])
    assert writable == str([True, False])
    with pytest.raises(ValueError):
        Sandbox("process").wrap_submission(["true"], folder=tmp_path)


@pytest.mark.skipif(not works("bwrap"), reason="bubblewrap does not work here")
def test_bwrap_works_for_a_kit_and_python_kept_under_tmp(tmp_path):
    """The probe binds a folder of its own: binding all of /tmp hid a kit copied there (as
    `make bench` copies it for its `make test` row), and bwrap was reported as not working."""
    kit = tmp_path / "kit"
    shutil.copytree(GRADERS, kit / "graders", ignore=shutil.ignore_patterns("__pycache__"))
    (kit / ".venv").symlink_to(Path(sys.prefix))  # sys.prefix: now under /tmp too
    python = kit / ".venv" / "bin" / Path(sys.executable).name
    code = "from graders.engine.sandbox import works; print(works('bwrap'))"
    env = {**os.environ, "PYTHONPATH": str(kit)}
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd=kit)
    assert done.stdout.strip() == "True", done.stderr


@pytest.mark.skipif(not works("netns"), reason="network namespaces do not work here")
def test_netns_has_no_interface_but_loopback(tmp_path):
    names = run_in("netns", "import socket; print([n for _, n in socket.if_nameindex()])", tmp_path)
    assert names == "['lo']"


HONEST_EXTRAS = """
import concurrent.futures
import logging
import pathlib
import queue
import tempfile
import traceback

import idna  # a package of the kit's .venv that the grader has not imported yet
import requests

logging.basicConfig(level=logging.INFO)


def demo():
    logging.getLogger(__name__).info("logging finds its caller with sys._getframe")
    try:
        raise ValueError("shown, then handled")
    except ValueError:
        traceback.print_exc()
    scratch = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    scratch.write_text("a file in the grading folder")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(len, ["ab", "c"])) == [2, 1]
    return queue.Queue(), idna, requests


demo()
"""


def test_honest_code_with_imports_logging_and_files_is_not_refused(tmp_path):
    from graders.engine.isolated import run_isolated

    (tmp_path / "start_join.py").write_text(
        (SOLUTIONS / "start_join.py").read_text() + HONEST_EXTRAS
    )
    run = run_isolated("start_join", tmp_path, seed=3, hidden=True, sandbox=Sandbox("process"))
    assert (run.tampering, run.blocked) == ([], [])
    assert run.result.points == run.result.max_points
