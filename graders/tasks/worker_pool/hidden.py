"""Hidden checks for worker_pool: a bigger pool, edge cases, and a URL listed twice."""

from __future__ import annotations

from graders.kit.checks import Context, check
from graders.tasks.downloader import staggered
from graders.tasks.worker_pool import (
    require_each_once,
    require_in_flight,
    require_pool_files,
    require_thread_count,
    run_pool,
    seeded_urls,
)


@check(
    "More URLs with n_workers=5: five workers, all busy at once, each URL once, right files",
    points=2,
    hidden=True,
    requires=("R1", "R3", "R5", "R6"),
)
def many_workers(ctx: Context) -> None:
    n = 5
    m = ctx.rng("size").choice((3, 4, 5)) * n - 1  # 14, 19 or 24: see pool_size(shares=True)
    run = run_pool(ctx, seeded_urls(ctx, m), n, latch="waves", latency=0.01, count_threads=True)
    require_thread_count(run)
    require_in_flight(run)
    require_each_once(run)
    require_pool_files(ctx, run)


@check(
    "No URLs, one URL, and fewer URLs than workers work too, and are joined",
    points=2,
    hidden=True,
    requires=("R1", "R3", "R4", "R5", "R6", "R7"),
)
def edge_cases(ctx: Context) -> None:
    rng = ctx.rng("size")
    for m in (0, 1, 2):
        urls = seeded_urls(ctx, m, label=f"urls{m}")
        run = run_pool(
            ctx, urls, rng.choice((3, 4, 5)), latch="waves", latency=staggered(urls, 0.05)
        )
        ctx.require_joined(run.call_text())
        require_each_once(run)
        require_in_flight(run)
        require_pool_files(ctx, run)


@check(
    "A URL listed twice is downloaded twice, into two files",
    points=1,
    hidden=True,
    requires=("R1", "R6"),
)
def duplicate_url(ctx: Context) -> None:
    a, b, c, d = seeded_urls(ctx, 4)
    urls = [a, b, a, c, d]
    n = ctx.rng("size").choice((2, 3))
    run = run_pool(ctx, urls, n, latency=staggered(urls, 0.02))
    require_each_once(run)
    require_pool_files(ctx, run)
