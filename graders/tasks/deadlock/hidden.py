"""Hidden checks for deadlock: a ring of transfers, an order that changes, the workshop's sizes.

- three or four transfers in a ring (a->b, b->c, c->a) deadlock with any per-transfer order;
- an order taken from the balances looks global at any one moment but changes as money
  moves: a bystander transfer changes the balances between the first transfer's choice and
  the second's, so both choose differently and deadlock (both directions of the change);
- run_transfers at the size of the stub's own demo (10 accounts of 1,000, 100 transfers),
  plainly (no thread held): every balance right, every balance touched under its lock.
"""

from __future__ import annotations

from random import Random

from graders.kit.checks import Context, check
from graders.tasks.deadlock import (
    Call,
    LockWatch,
    open_in_random_order,
    plan_transfers,
    require_returned,
    run_calls,
    run_plan,
)

DEMO_ACCOUNTS, DEMO_BALANCE, DEMO_TRANSFERS = 10, 1_000, 100  # the stub's __main__


@check("Transfers in a ring never deadlock", points=1, requires="R1", hidden=True, timeout=20.0)
def ring_of_transfers(ctx: Context) -> None:
    rng = ctx.rng("ring")
    n = rng.randint(3, 4)
    numbers = rng.sample(range(1, 100), n)
    moneys = rng.sample(range(50, 500), n)  # all different: no tie for an order to break
    mod = ctx.load()
    with LockWatch(ctx.files) as watch:
        ring = open_in_random_order(mod, watch, rng, list(zip(numbers, moneys)))
        most = min(moneys) // 2
        calls = [
            Call(mod.transfer, ring[i], ring[(i + 1) % n], rng.randint(1, most), f"Thread-{i + 1}")
            for i in range(n)
        ]
        run_calls(watch, calls)
        require_returned(ctx, watch, calls)


def changing_order(ctx: Context, rng: Random, *, richer_src: bool) -> None:
    """transfer(a, b) takes its first lock; a bystander moves money so that a and b swap
    places by balance; then transfer(b, a) chooses its first lock."""
    a_num, b_num, c_num = rng.sample(range(1, 100), 3)
    x, d = rng.randint(40, 200), rng.randint(5, 30)
    m = d + rng.randint(1, x // 2)  # more than the gap d: the order by balance flips
    mod = ctx.load()
    with LockWatch(ctx.files) as watch:
        if richer_src:  # a > b; the bystander pays b so that b > a
            specs = [(a_num, x + d), (b_num, x), (c_num, m + rng.randint(0, 100))]
        else:  # a < b; the bystander takes from b so that b < a
            specs = [(a_num, x), (b_num, x + d), (c_num, rng.randint(0, 200))]
        a, b, c = open_in_random_order(mod, watch, rng, specs)
        bystander = Call(mod.transfer, c, b, m, "Thread-2", grouped=False)
        if not richer_src:
            bystander = Call(mod.transfer, b, c, m, "Thread-2", grouped=False)
        calls = [
            Call(mod.transfer, a, b, rng.randint(1, x // 4), "Thread-1"),
            bystander,
            Call(mod.transfer, b, a, rng.randint(1, x // 4), "Thread-3"),
        ]
        run_calls(watch, calls)
        require_returned(ctx, watch, calls)


@check(
    "The lock order does not change while money moves",
    points=1,
    requires="R1",
    hidden=True,
    timeout=30.0,
)
def order_that_changes(ctx: Context) -> None:
    rng = ctx.rng("flip")
    changing_order(ctx, rng, richer_src=False)
    changing_order(ctx, rng, richer_src=True)


@check(
    "run_transfers at the workshop's size: 10 accounts, 100 transfers",
    points=1,
    requires=("R3", "R7"),
    hidden=True,
    timeout=30.0,
)
def workshop_size(ctx: Context) -> None:
    rng = ctx.rng("demo")
    numbers = rng.sample(range(100, 1000), DEMO_ACCOUNTS)
    specs = [(number, DEMO_BALANCE) for number in numbers]
    run_plan(ctx, plan_transfers(rng, specs, DEMO_TRANSFERS, 0, most=80), hold=False)
