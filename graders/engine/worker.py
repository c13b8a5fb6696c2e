"""The grading process: runs one task's checks and reports each verdict as soon as it is known.

Started by `graders.engine.isolated`, never by hand. Before any learner code runs it reads its key
from
stdin (then stdin is /dev/null), imports the task's checks, and installs the guard
(graders.engine.guard), which from then on holds the key and the report pipe. Each verdict leaves as
`sys.audit("threadkit.report", body)` from `_send`, called by `main`: the guard seals it only
on that call stack. A verdict is sent before the next check loads learner code again, so a
later check cannot rewrite an earlier one. The process ends with os._exit, so threads the
learner left running cannot keep it alive.

Every import of the learner's module shares one budget (graders.kit.import_budget,
`--import-seconds`): the module is imported once before the first check, and once the budget
has run out (top-level code that never ends), every check left fails with where that code was,
at once, and the process ends.

A task whose suite declares PROCESS_CAP (cpu_bound) may start processes, through
multiprocessing's fork only (graders.engine.guard): the worker makes fork the default start
method before the guard is installed, and kills every process a check left when it ends.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from graders.engine import guard
from graders.engine.channel import Secret, sealer
from graders.engine.runner import CheckResult, run_check, submission_file
from graders.engine.sandbox import NETNS_ENV, loopback_up
from graders.kit.checks import Context, select
from graders.kit.feedback import Feedback, grader_error
from graders.kit.import_budget import ImportBudget, setting
from graders.kit.loader import load_module
from graders.paths import KIT_ROOT
from graders.tasks import TASKS, get_task

if TYPE_CHECKING:  # annotations only: the guard's snapshot covers this module's namespace
    from collections.abc import Callable
    from typing import NoReturn

    from graders.kit.checks import Check


def main(
    argv: list[str] | None = None,
    prior: guard.Snapshot | None = None,
    # bound now: learner code may rebind module globals later
    _run_check: Callable[[Check, Context], CheckResult] = run_check,
    _Context: type[Context] = Context,
    _CheckResult: type[CheckResult] = CheckResult,
    _exit: Callable[[int], NoReturn] = os._exit,
) -> None:
    args = _parse(argv)
    secret = _receive_secret()
    task = get_task(args.task)
    checks = select(task.checks(hidden=args.hidden), args.only.split(",") if args.only else None)
    path = submission_file(task, args.submission)
    budget = ImportBudget(args.import_seconds, path) if args.import_seconds > 0 else None
    if os.environ.get(NETNS_ENV):
        loopback_up()
    hidden = [str(task.files().hidden)] if args.hidden else []
    every_hidden = [str(t.files().hidden) for t in TASKS]
    _load_what_the_suite_uses()
    cap = task.process_cap()
    stop_children = _allow_processes() if cap else None
    policy = guard.Policy.for_run(
        str(KIT_ROOT), os.getcwd(), hidden, every_hidden, process_cap=cap, scratch=args.scratch
    )
    seal = sealer(secret.key)
    modules = guard.watched_modules()
    guard.install(seal, secret.nonce, args.result_fd, _send.__code__, policy, modules, prior)
    del secret, seal, prior
    if budget is not None:
        first = budget
        first.first_import(lambda: load_module(path, first))
        if stop_children is not None:
            stop_children()
    shared: dict[str, object] = {}  # the runs checks share (Context.once)
    for chk in checks:
        overrun = budget.overrun if budget is not None else None
        if overrun is None:
            result = _run_check(
                chk, _Context(task.id, path, args.seed, import_budget=budget, shared=shared)
            )
        else:  # the budget ran out: no check may run the module again
            result = _CheckResult.of(task.id, chk, overrun)
        if stop_children is not None:
            stop_children()
        _send(_body(result))
    _send(("done", len(checks)))
    _flush()
    _exit(0)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m graders.engine.worker")
    parser.add_argument("--task", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--hidden", action="store_true")
    parser.add_argument("--only", default="", help="these checks only, comma-separated")
    parser.add_argument("--result-fd", type=int, required=True)
    parser.add_argument("--scratch", default="", help="a writable folder besides the current one")
    parser.add_argument(
        "--import-seconds",
        type=float,
        default=setting(),
        help="seconds each import of the learner's module may take (0: no limit)",
    )
    return parser.parse_args(argv)


def warm_up() -> None:
    """Work every grading process does the same way, done once ahead in a zygote so that its
    children inherit it: argparse's patterns for these arguments, sysconfig's paths for the
    guard's policy. About 2 ms a task."""
    _parse(["--task", TASKS[0].id, "--submission", ".", "--seed", "0", "--result-fd", "3"])
    guard.Policy.for_run(str(KIT_ROOT), str(KIT_ROOT))


def _load_what_the_suite_uses() -> None:
    """requests and requests_mock, if the task's suite serves HTTP: the fixture imports them
    lazily (graders.kit.http_fixture.load_requests), and the guard's snapshot must hold the
    ones imported before any learner code runs."""
    fixture = sys.modules.get("graders.kit.http_fixture")
    if fixture is not None:
        fixture.load_requests()


def _allow_processes() -> Callable[[], None]:
    """Fork as the default start method (the platform's default differs: spawn on macOS,
    forkserver from 3.14), and the function that ends a check's processes.

    Fork, because its children inherit the guard and the limits with the forked memory, and
    see the learner's module, which was loaded under a private name a spawned interpreter
    could not import. Called before the guard's snapshot, so multiprocessing is in it.
    """
    import multiprocessing
    import multiprocessing.popen_fork  # noqa: F401 - the guard's allowed fork path

    multiprocessing.set_start_method("fork", force=True)
    active_children = multiprocessing.active_children

    def stop_children() -> None:
        for child in active_children():
            child.kill()
            child.join(1.0)

    return stop_children


def _receive_secret() -> Secret:
    """The key and nonce from stdin; then stdin becomes /dev/null, so nothing else is there."""
    line = sys.stdin.buffer.readline()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return Secret.decode(line)


def _send(
    body: tuple[object, ...],
    _audit: Callable[..., None] = sys.audit,
    _event: str = guard.REPORT_EVENT,
) -> None:
    """Hand one message to the guard, which seals it and writes it to the report pipe."""
    _audit(_event, body)


def _body(result: CheckResult, _str: type[str] = str) -> tuple[object, ...]:
    """The message for one check: plain values only (the parent parses it as a literal)."""
    feedback = _plain_feedback(result.feedback)
    passed = result.passed is True and feedback is None
    return ("check", _str(result.name), passed, float(result.seconds), feedback)


def _unsendable(exc: BaseException) -> dict[str, object]:
    """A grader error in place of feedback that cannot cross the channel."""
    why = f"{type(exc).__name__}: {exc}"
    return grader_error("The grader could not send this check's verdict", why).to_dict()


def _plain_feedback(
    feedback: Feedback | None,
    _Feedback: type[Feedback] = Feedback,
    _unsendable: Callable[[BaseException], dict[str, object]] = _unsendable,
) -> dict[str, object] | None:
    """The feedback's plain form, checked here as the parent will check it (exact str, int,
    None, lists and dicts: a str subclass's repr could forge the sealed line). A check, or
    learner code raising CheckFailed itself, that gave a field of the wrong type is reported
    as a grader error, and the verdict still leaves."""
    if feedback is None:
        return None
    try:
        data = feedback.to_dict()
        _Feedback.from_dict(data)
    except Exception as exc:  # noqa: BLE001 - whatever `feedback` is, a verdict must leave
        return _unsendable(exc)
    return data


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the learner may have replaced or closed them
            pass


if __name__ == "__main__":
    main()
