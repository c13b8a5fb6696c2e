"""`python -m graders` ends with cli.exit_now: the exit code, the output, the atexit handlers
and every thread that is not a daemon survive skipping the interpreter's teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from graders import paths


def _run(body: str) -> subprocess.CompletedProcess[str]:
    script = "from graders.cli import exit_now\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=paths.KIT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_code_output_and_atexit_handlers() -> None:
    done = _run(
        """
        import atexit, sys
        atexit.register(print, "atexit ran")
        sys.stdout.write("no newline, still buffered")
        exit_now(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout == "no newline, still bufferedatexit ran\n"
    assert done.stderr == ""


def test_waits_for_a_thread_that_is_not_a_daemon() -> None:
    done = _run(
        """
        import threading
        go = threading.Event()
        worker = threading.Thread(target=lambda: (go.wait(), print("worker finished")))
        worker.start()
        threading.Timer(0.05, go.set).start()
        exit_now(0)
        """
    )
    assert done.returncode == 0
    assert done.stdout == "worker finished\n"


def test_does_not_wait_for_a_daemon_thread() -> None:
    done = _run(
        """
        import threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        exit_now(0)
        """
    )
    assert done.returncode == 0
