"""Hidden checks for named_workers: many workers, one URL, none, and out_dir given as a Path."""

from __future__ import annotations

from pathlib import Path

from graders.kit.checks import Context, check
from graders.kit.feedback import describe_exception
from graders.tasks.downloader import pages, require_all_in_flight, require_files, serve
from graders.tasks.named_workers import (
    require_before_and_after,
    require_names,
    require_one_thread_per_url,
    require_right_urls,
    run_named,
    seeded_urls,
    url_count,
    with_hint,
)


@check(
    "Ten to fourteen workers all print their own name and URL, and overlap",
    points=2,
    hidden=True,
    requires=("R1", "R2", "R3", "R4", "R6", "R7"),
)
def many_workers(ctx: Context) -> None:
    run = run_named(ctx, url_count(ctx, 10, 14))
    require_names(run)
    require_before_and_after(run)
    require_right_urls(run)
    require_one_thread_per_url(run)
    require_all_in_flight(run.http, run.urls)


@check(
    "One URL, no URLs, and out_dir as a Path work too",
    points=1,
    hidden=True,
    requires=("R1", "R3", "R5"),
)
def edge_cases(ctx: Context) -> None:
    run = run_named(ctx, 1)
    require_names(run)
    require_right_urls(run)
    for n in (1, 0):
        urls, out_dir = seeded_urls(ctx, n, label=f"path{n}"), ctx.tmp_dir()
        with serve(ctx, urls):
            try:
                ctx.load().download_named(urls, Path(out_dir))
            except TypeError as exc:
                failed = describe_exception(
                    exc, ctx.files, "With out_dir given as a Path, your code"
                )
                raise with_hint(
                    failed,
                    "out_dir may be a pathlib.Path, not only a str: build file paths with "
                    "os.path.join(out_dir, f'result_{i}.txt'), not with +.",
                ) from None
        require_files(pages(ctx, urls), out_dir, urls)
