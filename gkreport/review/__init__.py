"""Reviews (`gkreport review`): a half-year, a quarter or the year, from the history.

`compute.compute_review` turns the history's frames (`gkreport.frames`, pandas) into a
`Review` (`model`: plain frozen dataclasses); `workbook` and `memo` render it, and
`Review.to_json` is `--json`. This package's own import loads no pandas: the CLI imports it
only when a review runs.
"""

from gkreport.review.model import (
    OpenUnit,
    PeriodYear,
    PlanVersion,
    Review,
    Span,
    TaskYear,
    UnitYear,
)

__all__ = ["OpenUnit", "PeriodYear", "PlanVersion", "Review", "Span", "TaskYear", "UnitYear"]
