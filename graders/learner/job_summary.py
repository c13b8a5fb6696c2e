"""The Markdown report `make check SUMMARY=file` appends, e.g. to GitHub's $GITHUB_STEP_SUMMARY.

The same facts as the terminal table (task, status, points, one-line reason, next up) and the
first failure in full, as plain text, so a learner or an instructor reading a workflow run on
GitHub sees what `make check` would have shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from graders.engine.runner import TaskResult
from graders.learner.terminal import is_not_started, next_task, reason
from graders.tasks import Task


def markdown(results: Sequence[TaskResult], tasks: dict[str, Task]) -> str:
    points = sum(r.points for r in results)
    total = sum(r.max_points for r in results)
    lines = [
        f"## threadkit: {points}/{total} points",
        "",
        "| Task | Status | Points | What to look at |",
        "| --- | --- | ---: | --- |",
    ]
    for result in results:
        lines.append(
            f"| {result.task} | {_status(result)} | {result.points}/{result.max_points} "
            f"| {_cell(reason(result, tasks.get(result.task)))} |"
        )
    nxt = next_task(results)
    if nxt is None:
        lines += ["", "**All tasks pass. Well done!**"]
        return "\n".join(lines) + "\n"
    lines += ["", f"**Next up: `{nxt.task}`** (`make check TASK={nxt.task}`)"]
    failure = nxt.first_failure
    if failure is not None and failure.feedback is not None:
        lines += ["", f"<details><summary>{nxt.task}: {_cell(failure.title)}</summary>", ""]
        lines += ["```text", failure.feedback.render(), "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def append(path: str | Path, results: Sequence[TaskResult], tasks: dict[str, Task]) -> None:
    """Add the report to the end of `path` (GitHub collects every step's additions)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(markdown(results, tasks))


def _status(result: TaskResult) -> str:
    if result.passed:
        return "✅ done"
    return "⬜ to do" if is_not_started(result) else "❌ not yet"


def _cell(text: str) -> str:
    """Text that cannot break a Markdown table row."""
    return text.replace("|", "\\|").replace("\n", " ")
