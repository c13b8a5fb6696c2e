"""`make watch`: a saved file gets its task checked again, within a bounded time."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from graders.learner.commands.watch import changed, stamp
from graders.tasks import get_task
from tests.helpers import EXERCISES, ROOT, SOLUTIONS

START_JOIN = get_task("start_join")


def test_changed_sees_an_edit_and_a_new_file(tmp_path: Path):
    (tmp_path / START_JOIN.module).write_text("x = 1\n")
    stamps = {START_JOIN.id: stamp(tmp_path / START_JOIN.module)}
    assert START_JOIN not in changed(tmp_path, stamps)
    (tmp_path / START_JOIN.module).write_text("x = 22\n")
    assert START_JOIN in changed(tmp_path, stamps)
    assert START_JOIN not in changed(tmp_path, stamps)  # remembered


def read_lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def wait_for(lines: queue.Queue, text: str, seconds: float) -> list[str]:
    """Lines read until one contains `text`; fails after `seconds`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not seen in {seconds} s:\n{''.join(seen)}")


def test_saving_a_file_rechecks_its_task(tmp_path: Path):
    shutil.copy(EXERCISES / START_JOIN.module, tmp_path / START_JOIN.module)
    cmd = [sys.executable, "-m", "graders", "watch", "--submission", str(tmp_path)]
    cmd += ["--interval", "0.1", "--max-runs", "1"]
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        wait_for(lines, "Watching", seconds=60)
        shutil.copy(SOLUTIONS / START_JOIN.module, tmp_path / START_JOIN.module)
        after = wait_for(lines, "✓ done", seconds=30)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert any("start_join.py changed: checking start_join" in line for line in after)
    assert any("Next up: counter_lock" in line for line in wait_rest(lines))


def wait_rest(lines: queue.Queue) -> list[str]:
    rest = []
    while (line := lines.get(timeout=5)) is not None:
        rest.append(line)
    return rest
