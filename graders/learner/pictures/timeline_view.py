"""Drawing a `Timeline`: in the terminal with rich, or as a PNG with matplotlib.

Both pictures put the sequential run above the learner's threaded one on ONE time scale, so
overlap is seen, not read: the sequential row is a staircase of bars, a threaded version is a
stack of bars side by side, and a missing join() shows as bars running past the moment the
function returned.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text

from graders.learner.pictures.timeline import SCALE, Bar, Phase, Timeline

COLORS = ("cyan", "magenta", "yellow", "green", "blue", "red", "bright_cyan", "bright_magenta")
PNG_COLORS = ("#1f9bcf", "#c2449f", "#e0a800", "#3a9d3a", "#5d6ad6", "#d9534f", "#5bc0de")
LABEL_WIDTH = 22
TICKS = 4


def url_colors(timeline: Timeline) -> dict[str, int]:
    """A colour index per URL, in the order the URLs were first requested."""
    order: dict[str, int] = {}
    for phase in timeline.phases:
        for bar in sorted(phase.bars, key=lambda b: b.start):
            order.setdefault(bar.url, len(order))
    return order


def span(timeline: Timeline) -> float:
    """The common time scale: the longest phase (never zero)."""
    return max([p.end for p in timeline.phases] + [1e-3])


# ------------------------------------------------------------------ terminal


def render(timeline: Timeline, width: int = 80) -> RenderableType:
    """The timeline as rich renderables: a block per phase, one line per thread, an axis."""
    chart = max(20, width - LABEL_WIDTH - 1)
    scale = span(timeline)
    colors = url_colors(timeline)
    parts: list[RenderableType] = [Text(f"Timeline of {timeline.task}", style="bold underline")]
    for phase in timeline.phases:
        parts.append(_phase_header(phase))
        parts.extend(_row_line(row.thread, row.bars, scale, chart, colors) for row in phase.rows)
        if phase.error:
            parts.append(Text(f"  {phase.error}", style="red"))
        if phase.unfinished:
            parts.append(_return_marker(phase, scale, chart))
    parts.append(_axis(scale, chart))
    parts.append(_verdict(timeline))
    if timeline.note:
        parts.append(Text(timeline.note, style="bold red"))
    return Group(*parts)


def stats(phase: Phase) -> str:
    """`0.33 s · 5 threads · at most 5 requests at once`."""
    return (
        f"{phase.returned:.2f} s · {_plural(len(phase.rows), 'thread')} · "
        f"at most {_plural(phase.peak, 'request')} at once"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _phase_header(phase: Phase) -> Text:
    text = Text.assemble((f"{phase.title}: ", "bold"), (phase.function, "bold cyan"))
    if phase.rows:
        text.append(f"  {stats(phase)}", style="dim")
    return text


def _row_line(
    thread: str, bars: tuple[Bar, ...], scale: float, chart: int, colors: dict[str, int]
) -> Text:
    """`  Thread-1 (save_url)  [delay/1   ]  [uuid]`: each bar spans its request's columns."""
    line = Text(f"  {thread[: LABEL_WIDTH - 3]:<{LABEL_WIDTH - 2}}", style="bold", no_wrap=True)
    used = 0
    for bar in sorted(bars, key=lambda b: b.start):
        first, last = _columns(bar.start, bar.end, scale, chart)
        first = max(first, used)
        if first >= chart:
            break
        last = max(last, first + 1)
        line.append(" " * (first - used))
        style = f"black on {COLORS[colors[bar.url] % len(COLORS)]}"
        width = last - first
        shown = bar.label[: width - 1] if width >= 3 else bar.label[:width]  # a gap before the next
        line.append(shown.ljust(width), style=style)
        used = last
    return line


def _columns(start: float, end: float, scale: float, chart: int) -> tuple[int, int]:
    """The character cells [first, last) a bar covers: at least one, inside the chart."""
    first = min(chart - 1, max(0, int(start / scale * chart)))
    last = max(first + 1, min(chart, round(end / scale * chart)))
    return first, last


def _return_marker(phase: Phase, scale: float, chart: int) -> Text:
    column = min(chart - 1, int(phase.returned / scale * chart))
    text = Text(" " * (LABEL_WIDTH + column), no_wrap=True, overflow="ellipsis")
    text.append(f"▲ returned here; {phase.unfinished} still running", style="bold red")
    return text


def _axis(scale: float, chart: int) -> Text:
    """A ruler under the chart with a few ticks labelled in seconds."""
    ruler = ["─"] * chart
    labels = [" "] * chart
    for i in range(TICKS + 1):
        column = min(chart - 1, round(i * (chart - 1) / TICKS))
        ruler[column] = "┼"
        label = f"{scale * column / chart:.2f} s"
        at = min(column, chart - len(label))
        labels[at : at + len(label)] = label
    pad = " " * LABEL_WIDTH
    return Text(f"{pad}{''.join(ruler)}\n{pad}{''.join(labels).rstrip()}", style="dim")


def _verdict(timeline: Timeline) -> Text:
    """One sentence on what the picture shows."""
    phases = {p.title: p for p in timeline.phases}
    sequential, yours = phases.get("Sequential"), phases.get("Yours")
    if sequential is None or yours is None or not yours.bars:
        return Text("Your threaded version is not drawn yet: write it, then look again.", "yellow")
    if yours.error:
        return Text("Your threaded version failed (see above): fix that first.", "bold red")
    if yours.unfinished:
        return Text(
            "Some requests were still running when your function returned: join() every "
            "thread before returning.",
            style="bold red",
        )
    if yours.peak <= 1:
        return Text(
            "Your requests never overlapped: each waited for the one before, as in the "
            "sequential version.",
            style="bold red",
        )
    speedup = sequential.returned / yours.returned if yours.returned else 0.0
    return Text(
        f"Up to {yours.peak} requests waited at the same time: {yours.returned:.2f} s instead "
        f"of {sequential.returned:.2f} s ({speedup:.1f}x faster).",
        style="bold green",
    )


# ------------------------------------------------------------------ picture


def save_png(timeline: Timeline, path: str | Path) -> Path:
    """Draw the timeline with matplotlib (installed by `make timeline OUT=...`) into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [p for p in timeline.phases if p.rows] or list(timeline.phases)
    if not drawn:
        raise ValueError(f"nothing to draw: {timeline.note or 'no run was recorded'}")
    heights = [max(1, len(p.rows)) + 1.2 for p in drawn]
    fig, axes = plt.subplots(
        len(drawn), 1, sharex=True, figsize=(10, 1.0 + 0.42 * sum(heights)),
        gridspec_kw={"height_ratios": heights}, squeeze=False,
    )  # fmt: skip
    colors = url_colors(timeline)
    for ax, phase in zip(axes[:, 0], drawn):
        _draw_phase(ax, phase, colors)
    axes[-1, 0].set_xlim(0, span(timeline) * 1.02)
    axes[-1, 0].set_xlabel(
        f"seconds since the function was called (server waits: the real ones x {SCALE:g})"
    )
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=PNG_COLORS[i % len(PNG_COLORS)]) for i in colors.values()
    ]
    labels = [Bar(url, 0, 0).label for url in colors]
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels) or 1), frameon=False)
    fig.suptitle(f"{timeline.task}: {_verdict(timeline).plain}", fontsize=10, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _draw_phase(ax: object, phase: Phase, colors: dict[str, int]) -> None:
    title = f"{phase.title}: {phase.function}"
    if not phase.rows:
        ax.set_title(f"{title}: {phase.error}", loc="left", fontsize=9, color="#b00")
        ax.set_yticks([])
        return
    ax.set_title(f"{title}   {stats(phase)}", loc="left", fontsize=10)
    for y, row in enumerate(phase.rows):
        for bar in row.bars:
            color = PNG_COLORS[colors[bar.url] % len(PNG_COLORS)]
            ax.broken_barh([(bar.start, bar.end - bar.start)], (y - 0.38, 0.76), color=color)
            ax.text(bar.start + 0.004, y, bar.label, va="center", fontsize=7, clip_on=True)
    ax.axvline(phase.returned, color="#b00", linestyle="--", linewidth=1)
    ax.text(phase.returned, len(phase.rows) - 0.45, " returned", color="#b00", fontsize=8)
    ax.set_yticks(range(len(phase.rows)), [row.thread for row in phase.rows], fontsize=8)
    ax.set_ylim(len(phase.rows) - 0.4, -1.0)
    ax.grid(axis="x", alpha=0.3)
