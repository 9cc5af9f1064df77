"""Small, dependency-free SVG charts for the evidence pack: read at a glance, print well.

Functions return SVG text and never do I/O. Every piece of text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

PALETTE = ("#b2182b", "#ef8a62", "#f4a582", "#67a9cf", "#2166ac", "#777777", "#1b7837")
STATUS_COLOURS = {"delivered": "#1b7837", "not_sent": "#67a9cf", "failed": "#b2182b",
                  "missed": "#000000", "pending": "#f4a582", "not_started": "#e8e8e8"}
FONT = 'font-family="sans-serif" font-size="11"'
TITLE_FONT = 'font-family="sans-serif" font-size="14" font-weight="bold"'


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def bar_chart(title: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[float | None]]], *, unit: str = "",
              max_value: float | None = None, width: int = 720, height: int = 300) -> str:
    """Grouped vertical bars: one group per category, one bar per series; None draws no bar."""
    left, right, top, bottom = 56, 16, 40, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    peak = max_value if max_value is not None else max(values, default=0.0)
    peak = peak if peak > 0 else 1.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_t(title)}">',
           f'<title>{_t(title)}</title>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{left}" y="22" {TITLE_FONT}>{_t(title)}</text>']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" {FONT} text-anchor="end">'
                   f'{_t(_fmt(peak * i / 4))}{_t(unit)}</text>')
    if not categories or not series:
        out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" {FONT} '
                   'text-anchor="middle">no data in the period</text>')
    group_w = plot_w / max(1, len(categories))
    bar_w = min(48.0, max(2.0, (group_w * 0.8) / max(1, len(series))))
    for ci, cat in enumerate(categories):
        gx = left + ci * group_w + group_w * 0.1
        for si, (name, vs) in enumerate(series):
            v = vs[ci] if ci < len(vs) else None
            if v is None:
                continue
            h = plot_h * min(v, peak) / peak
            x, y = gx + si * bar_w, top + plot_h - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}">'
                       f'<title>{_t(name)} {_t(cat)}: {_t(_fmt(v))}{_t(unit)}</title></rect>')
            if bar_w >= 18:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" {FONT} '
                           f'text-anchor="middle">{_t(_fmt(v))}{_t(unit)}</text>')
        centre = gx + bar_w * len(series) / 2
        out.append(f'<text x="{centre:.1f}" y="{top + plot_h + 16}" {FONT} '
                   f'text-anchor="middle">{_t(cat)}</text>')
    lx = left
    for si, (name, _) in enumerate(series):
        out.append(f'<rect x="{lx}" y="{height - 24}" width="10" height="10" '
                   f'fill="{PALETTE[si % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 15}" {FONT}>{_t(name)}</text>')
        lx += 24 + 7 * len(name)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def day_strip(title: str, days: Sequence[tuple[date, str]], *, width: int = 720) -> str:
    """One square per day, coloured by what happened (delivered, not_sent, failed, missed)."""
    cell, per_row, left, top = 18, 31, 16, 40
    rows = max(1, -(-len(days) // per_row))
    height = top + rows * (cell + 4) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_t(title)}">',
           f'<title>{_t(title)}</title>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{left}" y="22" {TITLE_FONT}>{_t(title)}</text>']
    for i, (day, status) in enumerate(days):
        x = left + (i % per_row) * (cell + 4)
        y = top + (i // per_row) * (cell + 4)
        colour = STATUS_COLOURS.get(status, "#000000")
        out.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{colour}">'
                   f'<title>{_t(day.isoformat())}: {_t(status)}</title></rect>')
        if day.day == 1 or i == 0:
            out.append(f'<text x="{x}" y="{y + cell + 11}" font-family="sans-serif" font-size="9">'
                       f'{_t(day.strftime("%m-%d"))}</text>')
    lx = left
    for status, colour in STATUS_COLOURS.items():
        out.append(f'<rect x="{lx}" y="{height - 20}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 11}" {FONT}>{_t(status)}</text>')
        lx += 30 + 7 * len(status)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
