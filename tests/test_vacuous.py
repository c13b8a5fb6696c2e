"""A submission that does nothing scores 0: no check passes vacuously.

Each stub's unfinished functions end in `raise NotImplementedError`; here they `return None`
instead, the way a learner's first empty attempt looks. Every requirement of every task asks
for something to happen, so a check that passes such a module proves nothing (the examiners'
false passes started this way: a check whose condition held because nothing ran).
"""

from __future__ import annotations

import re

import pytest

from graders.engine.isolated import run_isolated
from graders.tasks import TASKS

SEED = 20261129
RAISE = re.compile(r"^(\s*)raise NotImplementedError\(.*\)$", re.MULTILINE)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_a_module_that_does_nothing_scores_zero(task, tmp_path):
    stub = task.files().stub.read_text()
    assert RAISE.search(stub), f"{task.id}: the stub has no `raise NotImplementedError` line"
    (tmp_path / task.module).write_text(RAISE.sub(r"\1return None", stub))
    run = run_isolated(task.id, tmp_path, seed=SEED, hidden=True)
    passed = [c.name for c in run.result.checks if c.passed]
    assert passed == [], f"{task.id}: checks passed by a module that does nothing: {passed}"
