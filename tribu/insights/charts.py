"""Server-rendered SVG charts and their CSV downloads.

The CSP forbids style attributes and inline scripts, so charts are plain SVG whose geometry
is in attributes and whose colours are CSS classes (insights.css) or a topic's validated
#rrggbb colour as a `fill` attribute. Every chart carries role="img", a <title> and a
<desc>; the page shows the same numbers as a table (in a <details>) and links a CSV.
"""

import csv
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

WIDTH = 720
HEIGHT = 220
PAD_LEFT = 44
PAD_RIGHT = 8
PAD_TOP = 10
PAD_BOTTOM = 26


@dataclass
class Series:
    name: str
    values: list
    css_class: str = ""  # e.g. "sent-negative"; used when `colour` is empty
    colour: str = ""  # a validated #rrggbb colour (topics)


@dataclass
class Chart:
    """What a template needs: the SVG markup, and the same data for the table and CSV."""

    key: str
    title: str
    description: str
    labels: list  # one label per column (x axis)
    series: list = field(default_factory=list)
    svg: str = ""
    # For the table alternative: one link per label to the mentions behind it (or None).
    links: list = field(default_factory=list)
    percent: bool = False

    @property
    def rows(self):
        """(label, link, [value per series], total) per label, for the table."""
        links = self.links or [None] * len(self.labels)
        return [
            (
                label,
                links[index],
                [series.values[index] for series in self.series],
                round(sum(series.values[index] for series in self.series), 1),
            )
            for index, label in enumerate(self.labels)
        ]


def _nice_max(value):
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def stacked_bars(chart, *, percent=False, tick_every=None):
    """Render `chart` as stacked columns (one column per label, one layer per series).
    With `percent`, values are shares in 0-100 and the axis stops at 100."""
    columns = len(chart.labels)
    totals = [sum(s.values[i] for s in chart.series) for i in range(columns)]
    chart.percent = percent
    top = 100 if percent else _nice_max(max(totals, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(columns, 1)
    bar_w = max(slot * 0.8, 0.5)
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-labelledby="{}-title {}-desc" preserveAspectRatio="none">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            chart.key,
            chart.key,
            chart.key,
            chart.title,
            chart.key,
            chart.description,
        )
    ]
    # Axis: 0, half and top, with light grid lines.
    for fraction in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - fraction)
        value = top * fraction
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                PAD_LEFT,
                WIDTH - PAD_RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                PAD_LEFT - 4,
                f"{y + 4:.1f}",
                _fmt(value) + ("%" if percent else ""),
            )
        )
    for index in range(columns):
        x = PAD_LEFT + slot * index + (slot - bar_w) / 2
        base = 0.0
        for series in chart.series:
            value = series.values[index]
            if value <= 0:
                continue
            h = plot_h * value / top
            y = PAD_TOP + plot_h * (1 - (base + value) / top)
            base += value
            paint = (
                format_html('fill="{}"', series.colour)
                if series.colour
                else format_html('class="{}"', series.css_class or "chart-bar")
            )
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" {}><title>{}: {} {}</title></rect>',
                    f"{x:.2f}",
                    f"{y:.2f}",
                    f"{bar_w:.2f}",
                    f"{h:.2f}",
                    paint,
                    chart.labels[index],
                    series.name,
                    _fmt(value) + ("%" if percent else ""),
                )
            )
    every = tick_every or max(1, columns // 8)
    for index in range(0, columns, every):
        x = PAD_LEFT + slot * index + slot / 2
        parts.append(
            format_html(
                '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                f"{x:.1f}",
                HEIGHT - 8,
                chart.labels[index],
            )
        )
    parts.append("</svg>")
    chart.svg = mark_safe("".join(str(part) for part in parts))  # noqa: S308 (all escaped)
    return chart


def share_bar(key, title, description, parts):
    """One horizontal bar split into shares: `parts` is [(label, value, css_class)]."""
    total = sum(value for _label, value, _css in parts) or 1
    out = [
        format_html(
            '<svg class="chart chart-share" viewBox="0 0 {} 24" width="100%" role="img" '
            'aria-labelledby="{}-title {}-desc" preserveAspectRatio="none">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            key,
            key,
            key,
            title,
            key,
            description,
        )
    ]
    x = 0.0
    for label, value, css in parts:
        if value <= 0:
            continue
        w = WIDTH * value / total
        out.append(
            format_html(
                '<rect x="{}" y="0" width="{}" height="24" class="{}"><title>{}: {}</title></rect>',
                f"{x:.2f}",
                f"{w:.2f}",
                css,
                label,
                value,
            )
        )
        x += w
    out.append("</svg>")
    return mark_safe("".join(str(part) for part in out))  # noqa: S308 (all escaped)


# CSV ------------------------------------------------------------------------------------


def csv_cell(value):
    """Spreadsheets run cells starting with = + - @ as formulas: neutralise them (the same
    rule as the mention stream's export)."""
    value = "" if value is None else str(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename, header, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([cell if isinstance(cell, int | float) else csv_cell(cell) for cell in row])
    return response


def chart_csv(chart):
    """Header (label, each series) and one row per label."""
    header = ["", *[series.name for series in chart.series]]
    rows = [
        [label, *[series.values[index] for series in chart.series]]
        for index, label in enumerate(chart.labels)
    ]
    return header, rows
