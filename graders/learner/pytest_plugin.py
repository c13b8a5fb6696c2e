"""`pytest --threadkit SUBMISSION`: every check of every task as a pytest item.

A thin layer over the engine, as requests_mock.contrib is over its Adapter: nothing is graded
here. Each task runs once per session through the same isolated path as `make check`
(graders.engine.isolated.run_isolated: a fresh guarded process, the same limits, the same
seed), its `TaskResult` is kept, and each check's item reports that check's verdict. So the
verdicts are `make check`'s, and pytest adds only its own tools: `-k`, `-m`, `-x`, `--junitxml`,
`--lf`.

- Items: `<submission>::<task id>::<check title>`, in workshop order, each marked `task(id)`
  and, for hidden checks (only with `--threadkit-hidden`, where they are installed), `hidden`;
  `-k` also matches the check's function name (`-k exact_total`).
- The task's grading process runs while the first of its items is set up, time-boxed by the
  engine (the task's wall-clock limit, as in `make check`); every item also carries its
  check's own timeout for pytest-timeout (`timeout(seconds, func_only=True)`).
- A failed check's text is the learner-facing message (`Feedback.render()`), never a grader
  traceback; what the learner's code printed is attached to the task's first failed item.

Registered by the conftest.py at the top of the kit and of a learner's release
(`pytest_plugins = ["graders.learner.pytest_plugin"]`), so plain `pytest --threadkit exercises`
works from either. Without `--threadkit` it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The engine and the registry are imported where they are used: every pytest run in the kit
# loads this plugin (tests/ too), and only --threadkit needs them.
if TYPE_CHECKING:
    from collections.abc import Iterator

    from _pytest._code.code import TerminalRepr
    from _pytest._io import TerminalWriter

    from graders.engine.runner import CheckResult
    from graders.engine.verdicts import IsolatedRun
    from graders.kit.checks import Check
    from graders.kit.feedback import Feedback
    from graders.kit.task import Task


@dataclass
class Checking:
    """One pytest session's submission, seed, and each task's run (made once, on first use)."""

    folder: Path
    seed: int
    hidden: bool
    runs: dict[str, IsolatedRun] = field(default_factory=dict)

    def run(self, task_id: str) -> IsolatedRun:
        """The task's isolated run on the submission, started the first time it is asked for."""
        if task_id not in self.runs:
            from graders.engine.isolated import run_isolated

            self.runs[task_id] = run_isolated(
                task_id, self.folder, seed=self.seed, hidden=self.hidden
            )
        return self.runs[task_id]

    def verdict(self, task_id: str, check_name: str) -> CheckResult:
        for result in self.run(task_id).result.checks:
            if result.name == check_name:
                return result
        raise LookupError(f"{task_id} reported no verdict for {check_name}")  # engine contract


SESSION = pytest.StashKey[Checking]()


@dataclass(frozen=True)
class Crash:
    """What pytest's short summary and --junitxml's `message` show: the first line."""

    path: str
    lineno: int
    message: str


class Message:
    """A failed check's text as pytest prints it (duck-types pytest's TerminalRepr): the
    learner-facing message alone, with its first line for the `FAILED ... - reason` summary."""

    def __init__(self, text: str, summary: str) -> None:
        self.text = text
        self.reprcrash = Crash("", 0, summary)

    def toterminal(self, tw: TerminalWriter) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


class CheckFailedVerdict(Exception):
    """Raised by an item whose check failed: carries the learner-facing message, no traceback."""

    def __init__(self, feedback: Feedback | None) -> None:
        super().__init__(feedback.summary if feedback else "failed")
        self.feedback = feedback


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("threadkit", "threadkit: the checks of every task as pytest items")
    group.addoption(
        "--threadkit",
        metavar="SUBMISSION",
        help="collect every check of every task, run on SUBMISSION (a folder laid out like "
        "exercises/) instead of the usual tests",
    )
    group.addoption(
        "--threadkit-hidden",
        action="store_true",
        help="also collect the hidden checks (where they are installed), marked `hidden`",
    )
    group.addoption(
        "--threadkit-seed",
        type=int,
        metavar="N",
        help="the forced-interleaving seed (default: a fresh one, shown in the header)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(id): a threadkit check of the task `id`")
    config.addinivalue_line("markers", "hidden: a threadkit check learners do not see")
    submission = config.getoption("threadkit")
    if submission is None:
        return
    folder = Path(submission).resolve()
    if not folder.is_dir():
        raise pytest.UsageError(f"--threadkit {submission}: not a folder laid out like exercises/")
    from graders.engine.runner import new_seed

    seed = config.getoption("threadkit_seed")
    config.stash[SESSION] = Checking(
        folder,
        new_seed() if seed is None else seed,
        bool(config.getoption("threadkit_hidden")),
    )


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash.get(SESSION, None)
    if session is None:
        return None
    hidden = " --threadkit-hidden" if session.hidden else ""
    return [
        f"threadkit: checks of {session.folder}, seed {session.seed} (replay: pytest "
        f"--threadkit {config.getoption('threadkit')}{hidden} --threadkit-seed {session.seed})"
    ]


def pytest_collection(session: pytest.Session) -> bool | None:
    """With --threadkit, collect the submission folder only (not testpaths, not the tests)."""
    if session.config.stash.get(SESSION, None) is None:
        return None
    session.perform_collect([str(session.config.stash[SESSION].folder)])
    return True


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The submission folder becomes a `Submission` collector: its tasks, nothing else in it."""
    session = parent.config.stash.get(SESSION, None)
    if session is not None and path == session.folder:
        root = parent.config.rootpath
        nodeid = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        return Submission.from_parent(parent, path=path, nodeid=nodeid)
    return None


class Submission(pytest.Directory):
    """The folder under check: one `TaskChecks` per registered task, in workshop order."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from graders.tasks import TASKS

        for task in TASKS:
            yield TaskChecks.from_parent(self, name=task.id, path=self.path / task.module)


class TaskChecks(pytest.Collector):
    """One task: its checks as items. Setting it up runs the task (once per session)."""

    @property
    def task(self) -> Task:
        from graders.tasks import get_task

        return get_task(self.name)

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        session = self.config.stash[SESSION]
        for chk in self.task.checks(hidden=session.hidden):
            yield CheckItem.from_parent(self, name=chk.title, check=chk)

    def setup(self) -> None:
        self.config.stash[SESSION].run(self.name)


class CheckItem(pytest.Item):
    """One check of one task; it passes exactly when the task's isolated run passed it."""

    def __init__(self, *, check: Check, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.check = check
        self.task_id = self.parent.name if self.parent is not None else ""
        self.add_marker(pytest.mark.task(self.task_id))
        if check.hidden:
            self.add_marker(pytest.mark.hidden)
        if self.config.pluginmanager.hasplugin("timeout"):
            self.add_marker(pytest.mark.timeout(check.timeout, func_only=True))
        self.extra_keyword_matches.add(check.name)

    def runtest(self) -> None:
        session = self.config.stash[SESSION]
        verdict = session.verdict(self.task_id, self.check.name)
        if verdict.passed:
            return
        run = session.run(self.task_id)
        if run.output and verdict is run.result.first_failure:
            self.add_report_section("call", "what your code printed", run.output)
        raise CheckFailedVerdict(verdict.feedback)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: str | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailedVerdict):
            feedback = excinfo.value.feedback
            text = feedback.render() if feedback is not None else "This check failed."
            text += f"\n  (seed {self.config.stash[SESSION].seed})"
            return Message(text, text.splitlines()[0])  # type: ignore[return-value]
        return super().repr_failure(excinfo, style=style)  # type: ignore[arg-type]

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.task_id}: {self.check.title}"
