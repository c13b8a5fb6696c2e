"""Context.once: one observed run that several checks of a task judge."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from graders.kit.checks import Context
from graders.kit.feedback import CheckFailed


def contexts(shared: dict[str, object]) -> tuple[Context, Context]:
    first = Context("progress", Path("x.py"), 7, check="reports", shares="slow", shared=shared)
    second = Context("progress", Path("x.py"), 7, check="done_counts", shares="slow", shared=shared)
    return first, second


def test_the_run_is_made_once_and_every_check_gets_its_record() -> None:
    made: list[int] = []

    def make(rng: random.Random) -> list[int]:
        made.append(1)
        return [rng.randrange(1000)]

    first, second = contexts({})
    assert first.once("slow", make) is second.once("slow", make)
    assert made == [1]


def test_the_input_does_not_depend_on_which_check_asked_first() -> None:
    def draw(ctx: Context) -> int:
        return ctx.once("slow", lambda rng: rng.randrange(10**9))

    a, b = contexts({})
    c, d = contexts({})
    assert draw(a) == draw(d)  # "reports" made one, "done_counts" the other


def test_a_failure_is_shared_too() -> None:
    calls: list[int] = []

    def make(rng: random.Random) -> None:
        calls.append(1)
        raise CheckFailed("Your code raised ValueError")

    first, second = contexts({})
    for ctx in (first, second):
        with pytest.raises(CheckFailed, match="raised ValueError"):
            ctx.once("slow", make)
    assert calls == [1]


def test_without_a_shared_dict_each_check_makes_its_own() -> None:
    made: list[int] = []
    for name in ("reports", "done_counts"):
        ctx = Context("progress", Path("x.py"), 7, check=name, shares="slow")
        ctx.once("slow", lambda rng: made.append(1))
    assert made == [1, 1]


def test_a_check_may_use_only_the_run_it_declares() -> None:
    """Undeclared, the check could land in another grading process than the run's other
    checks when a task is split (graders.engine.shards): the kit's own mistake, said at once."""
    ctx = Context("progress", Path("x.py"), 7, check="reports", shares="other")
    with pytest.raises(RuntimeError, match="shares='slow'"):
        ctx.once("slow", lambda rng: 1)
