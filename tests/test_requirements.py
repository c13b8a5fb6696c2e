"""Every sentence of a task's text is checked, and every check is proven by its own mutant.

The task text (the stub's docstring) is broken into numbered requirements, `REQUIREMENTS` in
graders/tasks/<id>.py. Each `@check` names the requirement(s) it enforces; each mutant in
fixtures/<id>/mutants/ names the requirement(s) it breaks (`violates:`) and the checks that
must fail (`expect-fail:`, proven on every run by test_graders_verdicts). Together:

- every requirement has a check: a requirement nothing enforces is a false pass waiting;
- every check has a mutant that breaks only one requirement the check names, and the check
  kills it (or the task says in NO_MUTANT why no such mutant can exist);
- a mutant fails only checks that name a requirement it breaks: a check that fails code for
  a reason it does not declare enforces something the text does not ask.
"""

from __future__ import annotations

import pytest

from graders.tasks import TASKS
from tests.helpers import all_mutants

MUTANTS = all_mutants()


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_every_requirement_has_a_check(task):
    reqs = task.requirements()
    assert reqs, f"{task.id}: no REQUIREMENTS in graders/tasks/{task.id}.py"
    checks = task.checks(hidden=True)
    for chk in checks:
        assert chk.requires, f"{task.id}.{chk.name}: names no requirement (requires=)"
        unknown = set(chk.requires) - set(reqs)
        assert not unknown, f"{task.id}.{chk.name}: unknown requirement(s) {unknown}"
    covered = {r for chk in checks for r in chk.requires}
    assert set(reqs) <= covered, f"{task.id}: requirements with no check: {set(reqs) - covered}"


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_every_check_has_a_mutant_that_breaks_only_its_requirement(task):
    mine = [m for m in MUTANTS if m.task == task]
    waived = task.no_mutant()
    for chk in task.checks(hidden=True):
        proofs = [
            m.id
            for m in mine
            if len(m.violates) == 1
            and m.violates <= set(chk.requires)
            and chk.name in m.expect_fail
        ]
        if chk.name in waived:
            assert waived[chk.name].strip(), f"{task.id}.{chk.name}: NO_MUTANT needs a reason"
            continue
        assert proofs, (
            f"{task.id}.{chk.name} (requires {chk.requires}): no mutant breaks only one of its "
            "requirements and is killed by it"
        )


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_fails_only_checks_of_the_requirements_it_breaks(mutant):
    reqs = mutant.task.requirements()
    assert mutant.violates, f"{mutant.id}: no 'violates:' line"
    assert mutant.violates <= set(reqs), f"{mutant.id}: unknown {mutant.violates - set(reqs)}"
    by_name = {c.name: c for c in mutant.task.checks(hidden=True)}
    for name in mutant.expect_fail:
        declared = set(by_name[name].requires)
        assert declared & mutant.violates, (
            f"{mutant.id} breaks {sorted(mutant.violates)} but fails {name}, which enforces "
            f"{sorted(declared)}: the check enforces something it does not declare, or the "
            "mutant breaks more than it says"
        )
