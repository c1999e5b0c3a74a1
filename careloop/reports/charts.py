"""R3: the summary's charts as server-rendered SVG — no JavaScript, no CDN, so they show the
same on screen, in the PDF (WeasyPrint draws inline SVG) and on a machine without a network.

Pure functions: plain values in, an SVG string out. Every piece of text is escaped here (a
department's or a category's name is data), so callers may mark the result safe. Values are
numbers, Decimals or None ("no data": drawn as a gap or an empty bar, never as 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape as _escape

FONT = "Noto Sans CJK SC"
SERIES_COLORS = ("#1f6fb2", "#e07b00", "#2e8b57", "#8e44ad")
BAR_COLOR = "#1f6fb2"
AXIS_COLOR = "#888888"
GRID_COLOR = "#e3e3e3"
TEXT_COLOR = "#222222"
# 很好 / 好 / 一般 / 差, best first, as on the paper form.
RATING_SEGMENTS = (
    ("very_good", "很好", "#2e7d32"),
    ("good", "好", "#8bc34a"),
    ("fair", "一般", "#ffb300"),
    ("poor", "差", "#e53935"),
)
NO_DATA = "暂无数据"

Number = int | float | Decimal | None


def esc(text) -> str:
    """Text for an SVG element or attribute (quotes too)."""
    return _escape(str(text), {'"': "&quot;", "'": "&#39;"})


def _num(value: Number) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"
    return f"{text}{unit}"


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × 10^n) — never 0, so nothing divides by 0."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" '
        f'font-family="{FONT}" font-size="12" fill="{TEXT_COLOR}">',
        f"<title>{esc(title)}</title>",
        f'<text class="chart-title" x="{width / 2:.1f}" y="18" text-anchor="middle" '
        f'font-size="14" font-weight="bold">{esc(title)}</text>',
    ]


def _no_data(parts: list[str], width: int, height: int) -> str:
    parts.append(
        f'<text class="no-data" x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" '
        f'fill="{AXIS_COLOR}">{NO_DATA}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    *,
    title: str,
    unit: str = "%",
    y_max: float | None = None,
    width: int = 680,
    height: int = 280,
) -> str:
    """The trend by month: one polyline per series over the labels; a None value breaks the
    line (a month without data is not a 0%). Rates default to a 0–100 axis."""
    parts = _open(width, height, title, "line-chart")
    values = [_num(v) for _name, vs in series for v in vs]
    present = [v for v in values if v is not None]
    if not labels or not present:
        return _no_data(parts, width, height)
    top = y_max if y_max else (100.0 if unit == "%" else _nice_max(max(present)))
    top = max(top, max(present), 1e-9)
    left, right, upper, lower = 48, 16, 52, 44
    plot_w, plot_h = width - left - right, height - upper - lower
    n = len(labels)
    step = plot_w / (n - 1) if n > 1 else 0.0

    def x(i: int) -> float:
        return left + (i * step if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return upper + plot_h - (v / top) * plot_h

    # Legend.
    for k, (name, _vs) in enumerate(series):
        color = SERIES_COLORS[k % len(SERIES_COLORS)]
        lx = left + k * 140
        parts.append(
            f'<rect x="{lx}" y="30" width="12" height="12" fill="{color}"/>'
            f'<text class="legend" x="{lx + 16}" y="40">{esc(name)}</text>'
        )
    # Grid and the value axis (0, ¼, ½, ¾, top).
    for q in range(5):
        v = top * q / 4
        gy = y(v)
        parts.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" '
            f'stroke="{GRID_COLOR}"/>'
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="10">'
            f"{esc(_fmt(v, unit))}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{upper + plot_h}" x2="{width - right}" y2="{upper + plot_h}" '
        f'stroke="{AXIS_COLOR}"/>'
    )
    for i, label in enumerate(labels):
        parts.append(
            f'<text class="x-label" x="{x(i):.1f}" y="{upper + plot_h + 16}" '
            f'text-anchor="middle" font-size="10">{esc(label)}</text>'
        )
    for k, (name, vs) in enumerate(series):
        color = SERIES_COLORS[k % len(SERIES_COLORS)]
        run: list[str] = []
        points = [_num(v) for v in vs][:n]
        for i, v in enumerate([*points, None]):
            if v is None:
                if len(run) > 1:
                    parts.append(
                        f'<polyline class="series" fill="none" stroke="{color}" '
                        f'stroke-width="2" points="{" ".join(run)}"/>'
                    )
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
        for i, v in enumerate(points):
            if v is None:
                continue
            parts.append(
                f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                f"<title>{esc(name)} {esc(labels[i])}：{esc(_fmt(v, unit))}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, Number]],
    *,
    title: str,
    unit: str = "%",
    max_value: float | None = None,
    width: int = 680,
    bar_height: int = 18,
) -> str:
    """The department comparison: one horizontal bar per item, in the order given, its value
    written beside it ("—" when None: an empty bar)."""
    gap = 8
    upper, lower = 30, 12
    height = upper + lower + max(len(items), 1) * (bar_height + gap)
    parts = _open(width, height, title, "bar-chart")
    present = [_num(v) for _label, v in items if _num(v) is not None]
    if not items:
        return _no_data(parts, width, height)
    longest = max(len(str(label)) for label, _v in items)
    left = min(max(60, 13 * longest + 12), width // 3)
    right = 64
    plot_w = width - left - right
    top = max_value or (100.0 if unit == "%" else _nice_max(max(present, default=0)))
    top = max(top, max(present, default=0), 1e-9)
    for i, (label, value) in enumerate(items):
        v = _num(value)
        by = upper + i * (bar_height + gap)
        w = 0.0 if v is None else max(v, 0) / top * plot_w
        text = "—" if v is None else _fmt(v, unit)
        parts.append(
            f'<text class="bar-label" x="{left - 6}" y="{by + bar_height * 0.72:.1f}" '
            f'text-anchor="end">{esc(label)}</text>'
            f'<rect class="bar" x="{left}" y="{by}" width="{w:.1f}" height="{bar_height}" '
            f'fill="{BAR_COLOR}"><title>{esc(label)}：{esc(text)}</title></rect>'
            f'<text class="bar-value" x="{left + w + 4:.1f}" y="{by + bar_height * 0.72:.1f}" '
            f'font-size="11">{esc(text)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{upper - 4}" x2="{left}" y2="{height - lower}" '
        f'stroke="{AXIS_COLOR}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_chart(
    rows: Sequence[tuple[str, dict[str, int]]],
    *,
    title: str,
    segments: Sequence[tuple[str, str, str]] = RATING_SEGMENTS,
    width: int = 680,
    bar_height: int = 20,
) -> str:
    """The dimension breakdown: one 100% bar per row (服务态度, 出院指导 …) split into 很好 / 好 /
    一般 / 差 by their counts; a row without ratings says so instead of dividing by zero."""
    gap = 10
    upper, lower = 52, 12
    height = upper + lower + max(len(rows), 1) * (bar_height + gap)
    parts = _open(width, height, title, "stacked-chart")
    for k, (_key, name, color) in enumerate(segments):
        lx = 16 + k * 80
        parts.append(
            f'<rect x="{lx}" y="28" width="12" height="12" fill="{color}"/>'
            f'<text class="legend" x="{lx + 16}" y="38">{esc(name)}</text>'
        )
    if not rows:
        return _no_data(parts, width, height)
    longest = max(len(str(label)) for label, _c in rows)
    left = min(max(60, 13 * longest + 12), width // 3)
    plot_w = width - left - 16
    for i, (label, counts) in enumerate(rows):
        by = upper + i * (bar_height + gap)
        parts.append(
            f'<text class="bar-label" x="{left - 6}" y="{by + bar_height * 0.72:.1f}" '
            f'text-anchor="end">{esc(label)}</text>'
        )
        values = [max(int(counts.get(key, 0) or 0), 0) for key, _n, _c in segments]
        total = sum(values)
        if not total:
            parts.append(
                f'<text class="no-data" x="{left + 4}" y="{by + bar_height * 0.72:.1f}" '
                f'fill="{AXIS_COLOR}">暂无评价</text>'
            )
            continue
        x = float(left)
        for (key, name, color), n in zip(segments, values, strict=True):
            if not n:
                continue
            w = n / total * plot_w
            share = f"{n * 100 / total:.1f}%"
            parts.append(
                f'<rect class="segment" data-rating="{esc(key)}" x="{x:.1f}" y="{by}" '
                f'width="{w:.1f}" height="{bar_height}" fill="{color}">'
                f"<title>{esc(label)} {esc(name)}：{n}（{share}）</title></rect>"
            )
            if w >= 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{by + bar_height * 0.72:.1f}" '
                    f'text-anchor="middle" font-size="10" fill="#ffffff">{n}</text>'
                )
            x += w
    parts.append("</svg>")
    return "".join(parts)
