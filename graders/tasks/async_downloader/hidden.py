"""Hidden checks for async_downloader: one URL, none, out_dir as a Path; the workshop's URLs."""

from __future__ import annotations

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed
from graders.tasks.async_downloader import async_run, require_coroutine_files
from graders.tasks.downloader import WORKSHOP_URLS, make_urls, staggered


@check(
    "One URL, no URLs, and out_dir as a Path work too", points=1, requires=("R4", "R6"), hidden=True
)
def edge_cases(ctx: Context) -> None:
    rng = ctx.rng()
    for n, as_path in ((1, False), (0, False), (rng.randint(3, 4), True)):
        urls = make_urls(n, rng)
        run = async_run(ctx, urls, latency=staggered(urls), as_path=as_path)
        require_coroutine_files(ctx, run)


@check("The workshop's URLs, all at once", points=1, requires=("R2", "R4"), hidden=True)
def workshop(ctx: Context) -> None:
    mod = ctx.load()
    given = getattr(mod, "URLS", None)
    urls = list(given) if isinstance(given, list) and given else list(WORKSHOP_URLS)
    latency = {u: (0.3 if "/delay/" in u else 0.02) for u in urls}
    run = async_run(ctx, urls, latency=latency, latch=len(urls) <= 5)
    if len(urls) <= 5 and not run.http.latch_filled:
        raise CheckFailed(
            "The workshop's downloads did not wait for their servers at the same time",
            expected=f"all {len(urls)} of URLS in flight at once",
            got=f"at most {run.http.peak_in_flight} in flight at once",
            hint="Gather every download: `await asyncio.gather(*coroutines)`.",
        )
    require_coroutine_files(ctx, run)
