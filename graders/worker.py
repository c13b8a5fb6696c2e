"""The grading process: runs one task's checks and reports each verdict as soon as it is known.

Started by `graders.isolate`, never by hand. Before any learner code runs it reads its key from
stdin (then stdin is /dev/null), imports the task's checks, and installs the guard
(graders.guard), which from then on holds the key and the report pipe. Each verdict leaves as
`sys.audit("threadkit.report", body)` from `_send`, called by `main`: the guard seals it only
on that call stack. A verdict is sent before the next check loads learner code again, so a
later check cannot rewrite an earlier one. The process ends with os._exit, so threads the
learner left running cannot keep it alive.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders import guard
from graders.channel import Secret, sealer
from graders.checks import Context
from graders.registry import get_task
from graders.runner import CheckResult, run_check, submission_file
from graders.sandbox import NETNS_ENV, loopback_up

KIT_ROOT = Path(__file__).resolve().parent.parent


def main(
    argv: list[str] | None = None,
    _run_check=run_check,  # bound now: learner code may rebind module globals later
    _Context=Context,
    _exit=os._exit,
) -> None:
    args = _parse(argv)
    secret = _receive_secret()
    task = get_task(args.task)
    checks = task.checks(hidden=args.hidden)
    path = submission_file(task, args.submission)
    if os.environ.get(NETNS_ENV):
        loopback_up()
    hidden = [m.__file__ for n, m in sys.modules.items() if n.startswith("graders.hidden.")]
    policy = guard.Policy.for_run(str(KIT_ROOT), os.getcwd(), hidden)
    seal = sealer(secret.key)
    guard.install(
        seal, secret.nonce, args.result_fd, _send.__code__, policy, guard.watched_modules()
    )
    del secret, seal
    for chk in checks:
        result = _run_check(chk, _Context(task.id, path, args.seed))
        _send(_body(result))
    _send(("done", len(checks)))
    _flush()
    _exit(0)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m graders.worker")
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--hidden", action="store_true")
    parser.add_argument("--result-fd", type=int, required=True)
    return parser.parse_args(argv)


def _receive_secret() -> Secret:
    """The key and nonce from stdin; then stdin becomes /dev/null, so nothing else is there."""
    line = sys.stdin.buffer.readline()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return Secret.decode(line)


def _send(body: tuple, _audit=sys.audit, _event=guard.REPORT_EVENT) -> None:
    """Hand one message to the guard, which seals it and writes it to the report pipe."""
    _audit(_event, body)


def _body(result: CheckResult, _type=type, _str=str) -> tuple:
    """The message for one check: plain values only (the parent parses it as a literal)."""
    feedback = result.feedback.to_dict() if result.feedback is not None else None
    if feedback is not None:
        feedback = {
            k: (v if _type(v) is _str else [x for x in v if _type(x) is _str])
            for k, v in feedback.items()
        }
    passed = result.passed is True and feedback is None
    return ("check", _str(result.name), passed, float(result.seconds), feedback)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the learner may have replaced or closed them
            pass


if __name__ == "__main__":
    main()
