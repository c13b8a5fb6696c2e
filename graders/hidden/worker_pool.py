"""Hidden checks for worker_pool: other pool sizes, edge cases, and a URL listed twice."""

from __future__ import annotations

from graders.checks import Context, check
from graders.tasks.downloader import make_urls, staggered
from graders.tasks.worker_pool import (
    require_each_once,
    require_in_flight,
    require_pool_files,
    require_workers,
    run_pool,
)


@check(
    "Twenty URLs with n_workers=5: five workers, each URL once, right files", points=2, hidden=True
)
def many_workers(ctx: Context) -> None:
    run = run_pool(ctx, make_urls(20), n_workers=5)
    require_workers(run)
    require_each_once(run)
    require_pool_files(ctx, run)


@check("No URLs, one URL, and fewer URLs than workers work too", points=2, hidden=True)
def edge_cases(ctx: Context) -> None:
    for n_urls in (0, 1, 2):
        urls = make_urls(n_urls)
        run = run_pool(ctx, urls, n_workers=3, latency=staggered(urls, 0.05))
        require_each_once(run)
        require_in_flight(run)
        require_pool_files(ctx, run)


@check("A URL listed twice is downloaded twice, into two files", points=1, hidden=True)
def duplicate_url(ctx: Context) -> None:
    first, second, third = make_urls(3)
    run = run_pool(ctx, [first, second, first, third], n_workers=2)
    require_each_once(run)
    require_pool_files(ctx, run)
