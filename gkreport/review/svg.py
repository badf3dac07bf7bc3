"""The geometry of the review memo's month-by-month chart (inline SVG in the HTML): task
statuses per period as stacked columns, the on-time rate as a line on its own 0–100 % scale.
Computed here, so the template only places ready numbers (STYLE.md 14)."""

from __future__ import annotations

from typing import Any

from gkreport.core.model import REPORTABLE
from gkreport.render.workbook import CHART_COLOUR
from gkreport.review.model import Review
from gkreport.review.workbook import ON_TIME_HEX as RATE_COLOUR

LEFT, TOP, HEIGHT = 44, 16, 180  # plot area: left edge, top edge, height
SLOT_MAX, PLOT_WIDTH = 56, 520  # a period's width at most, and the plot's at most


def trend_chart(review: Review) -> dict[str, Any]:
    """Columns, the rate's polyline and points, axes and legend, in SVG user units."""
    periods = review.by_period
    slot = min(SLOT_MAX, PLOT_WIDTH / len(periods))
    width = slot * len(periods)
    most = max((p.tasks for p in periods), default=0) or 1
    bottom = TOP + HEIGHT
    columns, points = [], []
    for i, p in enumerate(periods):
        x = LEFT + i * slot + slot * 0.2
        y = bottom
        segments = []
        for s in REPORTABLE:
            h = p.by_status[s] * HEIGHT / most
            y -= h
            if p.by_status[s]:
                segments.append({"x": _r(x), "y": _r(y), "w": _r(slot * 0.6), "h": _r(h),
                                 "fill": CHART_COLOUR[s], "label": s.value,
                                 "count": p.by_status[s]})
        columns.append({"segments": segments, "label": f"{p.period.month}月",
                        "label_x": _r(LEFT + (i + 0.5) * slot), "label_y": bottom + 16})
        if p.expected:
            rate = p.on_time / p.expected
            cy = bottom - rate * HEIGHT
            points.append({"x": _r(LEFT + (i + 0.5) * slot), "y": _r(cy),
                           "text": f"{rate * 100:.0f}%", "text_y": _r(cy - 6)})
    right = LEFT + width
    legend = [*({"label": s.value, "fill": CHART_COLOUR[s]} for s in REPORTABLE),
              {"label": "按时报送率", "fill": RATE_COLOUR}]
    for i, item in enumerate(legend):
        item.update({"x": LEFT + i * 96, "y": bottom + 30, "text_x": LEFT + i * 96 + 16,
                     "text_y": bottom + 40})
    return {
        "width": _r(right + 48), "height": bottom + 52, "columns": columns, "points": points,
        "polyline": " ".join(f"{pt['x']},{pt['y']}" for pt in points),
        "rate_colour": RATE_COLOUR, "left": LEFT, "right": _r(right), "top": TOP,
        "bottom": bottom, "most": most, "most_label_y": TOP + 4,
        "count_label_x": LEFT - 6, "rate_label_x": _r(right + 6),
        "legend": legend,
    }


def _r(x: float) -> float:
    return round(x, 1)
