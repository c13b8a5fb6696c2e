"""Hidden checks for progress: one URL, none, out_dir as a Path; the workshop's own run."""

from __future__ import annotations

import re

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed
from graders.kit.thread_output import ThreadOutput
from graders.tasks.downloader import (
    WORKSHOP_URLS,
    make_urls,
    pages,
    require_files,
    serve,
    staggered,
)
from graders.tasks.progress import progress_run

_SHOWN = re.compile(r"(\d+)/(\d+) downloaded")


@check(
    "One URL, no URLs, and out_dir as a Path work too", points=1, requires=("R2", "R8"), hidden=True
)
def edge_cases(ctx: Context) -> None:
    rng = ctx.rng()
    for n, as_path in ((1, False), (0, False), (rng.randint(3, 4), True)):
        urls = make_urls(n, rng)
        run = progress_run(ctx, urls, latency=staggered(urls), as_path=as_path)
        require_files(pages(ctx, urls), run.out_dir, urls)


@check("The workshop's URLs with the default report", points=1, requires=("R2", "R6"), hidden=True)
def workshop(ctx: Context) -> None:
    mod = ctx.load()
    given = getattr(mod, "URLS", None)
    urls = list(given) if isinstance(given, list) and given else list(WORKSHOP_URLS)
    latency = {u: (0.3 if "/delay/" in u else 0.02) for u in urls}
    out_dir = ctx.tmp_dir()
    with serve(ctx, urls, latency=latency), ThreadOutput() as out:
        ctx.call(mod.download_with_progress, urls, str(out_dir))
    require_files(pages(ctx, urls), out_dir, urls)
    shown = _SHOWN.findall(out.text())
    n = len(urls)
    if shown and shown[-1] == (str(n), str(n)):
        return
    raise CheckFailed(
        f"show_progress did not end with {n}/{n}",
        expected=f"download_with_progress(URLS, out_dir) with its default report ends with "
        f"report({n}, {n}), which prints '{n}/{n} downloaded'",
        got=f"the last progress printed was '{'/'.join(shown[-1])} downloaded'"
        if shown
        else "no progress was printed",
        hint="Keep `report=show_progress` as the default, call report(done, total) from "
        "your loop and report(len(urls), len(urls)) once at the end.",
    )
