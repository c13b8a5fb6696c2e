"""Hidden checks for downloader: more URLs, one URL, none, and out_dir given as a Path."""

from __future__ import annotations

from pathlib import Path

from graders.checks import Context, check
from graders.tasks.downloader import make_urls, pages, require_files, serve, threaded_in_flight


@check("Twelve URLs are all in flight at once", points=2, hidden=True)
def many_urls(ctx: Context) -> None:
    threaded_in_flight(ctx, 12)


@check("One URL, no URLs, and out_dir as a Path work too", points=1, hidden=True)
def edge_cases(ctx: Context) -> None:
    for n in (1, 0):
        urls, out_dir = make_urls(n), ctx.tmp_dir()
        with serve(ctx, urls, latency=0.2):
            ctx.load().download_threaded(urls, Path(out_dir))
        require_files(pages(ctx, urls), out_dir, urls)
