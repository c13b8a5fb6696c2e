"""One task's checks split across grading processes that run side by side.

`make watch` and `make check TASK=id` check one task while the other cores idle, and most of a
task's time is waiting (latencies, latches, settling), one check after the other. Split into
shards, its checks wait side by side, and the task takes about as long as its longest check
(graders.learner.commands.check decides when: only where cores would otherwise idle).

Each shard is an ordinary grading process (graders.engine.isolated with `only`): its own
guard, key, limits and copy of the submission, a fresh module for every check, as always. The
checks never depended on one another (each loads the module afresh and draws its inputs from
the seed and its own name), except those that judge one shared run (Context.once): they
declare it (`@check(shares=...)`) and stay in one shard, so the run is still made once.

The merged run is what one process would have reported: every check in the task's order; what
failed every check of a shard (tampering, a flood of output) fails every check of the task, and
a shard that did not finish fails every check that passed, in any shard, as one process that
died early would have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graders.engine.isolated import run_isolated
from graders.engine.runner import TaskResult
from graders.engine.verdicts import IsolatedRun, fail_all
from graders.kit.checks import Check
from graders.tasks import get_task

# What one more grading process costs the task's wall time (fork, guard, first import, and
# the CPU it takes from the others), measured on 2 cores: a shard must save more than this.
SHARD_COST = 0.04


def plan(checks: Sequence[Check], seconds: Mapping[str, float], slots: int) -> list[list[str]]:
    """The checks' names in at most `slots` shards, each shard in the task's order.

    The units are the checks, with those that share a run as one; each goes, longest first,
    to the shard that is done soonest (the longest-processing-time rule), by `seconds` (each
    check's last time; unknown ones count as the mean of the rest). Of the shard counts up to
    `slots`, the one with the least (longest shard + SHARD_COST per extra process).
    """
    units = _units(checks)
    known = [seconds[c.name] for c in checks if c.name in seconds]
    default = sum(known) / len(known) if known else 1.0
    weight = {u: sum(seconds.get(name, default) for name in u) for u in units}
    best: list[list[str]] = [[c.name for c in checks]]
    best_cost = sum(weight.values())
    for count in range(2, min(slots, len(units)) + 1):
        bins = _longest_first(units, weight, count)
        cost = max(load for load, _ in bins) + SHARD_COST * (count - 1)
        if cost < best_cost:
            best, best_cost = [names for _, names in bins], cost
    position = {c.name: i for i, c in enumerate(checks)}
    return [sorted(names, key=position.__getitem__) for names in best]


def _units(checks: Sequence[Check]) -> list[tuple[str, ...]]:
    """Each check alone, except the checks of one shared run, together."""
    groups: dict[str, list[str]] = {}
    for chk in checks:
        groups.setdefault(chk.shares or f"\0{chk.name}", []).append(chk.name)
    return [tuple(names) for names in groups.values()]


def _longest_first(
    units: list[tuple[str, ...]], weight: Mapping[tuple[str, ...], float], count: int
) -> list[tuple[float, list[str]]]:
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(count)]
    for unit in sorted(units, key=lambda u: -weight[u]):
        i = min(range(count), key=lambda k: bins[k][0])
        load, names = bins[i]
        bins[i] = (load + weight[unit], names + list(unit))
    return [b for b in bins if b[1]]


def run_sharded(
    task_id: str,
    submission: str | Path,
    shards: Sequence[Sequence[str]],
    *,
    seed: int,
    hidden: bool = False,
) -> IsolatedRun:
    """The task's checks on `submission`, each shard in a grading process of its own, at once;
    one shard (or none) is a plain run_isolated."""
    if len(shards) <= 1:
        return run_isolated(task_id, submission, seed=seed, hidden=hidden)
    with ThreadPoolExecutor(max_workers=len(shards)) as pool:
        runs = list(
            pool.map(
                lambda names: run_isolated(
                    task_id, submission, seed=seed, hidden=hidden, only=names
                ),
                shards,
            )
        )
    return merge(task_id, seed, hidden, runs)


def merge(task_id: str, seed: int, hidden: bool, runs: Sequence[IsolatedRun]) -> IsolatedRun:
    """The shards' runs as one run of the whole task (see the module's docstring)."""
    by_name = {c.name: c for run in runs for c in run.result.checks}
    order = [c.name for c in get_task(task_id).checks(hidden=hidden)]
    result = TaskResult(task_id, seed, [by_name[name] for name in order if name in by_name])
    codes = [run.exit_code for run in runs]
    merged = IsolatedRun(
        result,
        output="".join(run.output for run in runs),
        exit_code=None if None in codes else next((c for c in codes if c), 0),
        tampering=[t for run in runs for t in run.tampering],
        blocked=[b for run in runs for b in run.blocked],
        seconds=max(run.seconds for run in runs),
        ended_early=next((run.ended_early for run in runs if run.ended_early), None),
    )
    spoiled = next((run.spoiled for run in runs if run.spoiled), None)
    if spoiled is not None:
        fail_all(merged, spoiled)
    elif merged.ended_early is not None:
        for chk in result.checks:
            if chk.passed:
                chk.passed, chk.feedback = False, merged.ended_early
    return merged
