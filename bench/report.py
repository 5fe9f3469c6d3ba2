"""The results table in docs/performance.md: one section per scale, replaced on each run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.harness import Result

HEAD = "<!-- bench: results at scale {scale} -->"
TAIL = "<!-- /bench: results at scale {scale} -->"


def table(results: list[Result], *, scale: float, machine: str) -> str:
    lines = [
        f"### Scale {scale:g}, {dt.date.today():%Y-%m-%d}, {machine}",
        "",
        "| | what | ours | baseline | ratio | target | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        met = "yes" if r.ok else "**no**"
        notes = "; ".join(r.notes)
        lines.append(
            f"| {r.key} | {r.what} | {r.ours} | {r.baseline} | {ratio} | {r.target} | {met} | {notes} |"
        )
    return "\n".join(lines)


def write(path: Path, scale: float, text: str) -> None:
    """Replace this scale's section of the results (or append it), leaving the prose alone."""
    head, tail = HEAD.format(scale=f"{scale:g}"), TAIL.format(scale=f"{scale:g}")
    block = f"{head}\n{text}\n{tail}"
    current = path.read_text() if path.exists() else "# Performance\n"
    if head in current and tail in current:
        before, rest = current.split(head, 1)
        after = rest.split(tail, 1)[1]
        current = before + block + after
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current)
