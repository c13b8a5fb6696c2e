"""Hidden checks for downloader: forty URLs, one URL, none, out_dir given as a Path, and the
notebook's own five URLs run as `__main__` runs them."""

from __future__ import annotations

from pathlib import Path

from graders.kit.checks import Context, check
from graders.tasks.downloader import (
    make_urls,
    pages,
    require_files,
    require_own_threads,
    run_threaded,
    serve,
    workshop,
)


@check("Forty URLs are all in flight at once", points=2, requires=("R1", "R2"), hidden=True)
def many_urls(ctx: Context) -> None:
    # More than the 32 threads ThreadPoolExecutor() ever makes by default, on any machine.
    rng = ctx.rng()
    urls = make_urls(40, rng)
    require_own_threads(run_threaded(ctx, urls, latency=0.01, latch=True, hold_new_threads=True))


@check(
    "One URL, no URLs, and out_dir as a Path work too",
    points=1,
    requires=("R3", "R5"),
    hidden=True,
)
def edge_cases(ctx: Context) -> None:
    rng = ctx.rng()
    for n in (1, 0):
        urls, out_dir = make_urls(n, rng), ctx.tmp_dir()
        with serve(ctx, urls, latency=0.05):
            ctx.load().download_threaded(list(urls), Path(out_dir))
        require_files(pages(ctx, urls), out_dir, urls)


@check(
    "The notebook's own URLS, with download_threaded and compare_timings as in __main__",
    points=2,
    requires=("R1", "R2", "R3", "R4", "R6", "R7"),
    hidden=True,
)
def workshop_sizes(ctx: Context) -> None:
    workshop(ctx)
