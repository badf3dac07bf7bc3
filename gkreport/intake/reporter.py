"""The reporter block of a returned form (填报单位, 填报人, 联系电话, 填报日期): where it is and
what it says.

Above the header, where no task row can be, a cell starting with a label is one. Below it,
the block is found by position and shape, never by a prefix anywhere in a row: after the
last row with a 序号, rows made only of labels and their values (a label cell, then its
value in the next non-empty cell, or 填报人：张三 in one). A task row whose 进展情况 begins
with 联系电话 is a task row.
"""

from __future__ import annotations

from datetime import date, datetime

from gkreport.core.text import clean, nfkc, squash
from gkreport.forms import layout
from gkreport.intake.rows import Form, Rows

LABELS = (layout.LABEL_UNIT, layout.LABEL_REPORTER, layout.LABEL_PHONE, layout.LABEL_DATE)
_LABEL_FIRST = {label[0] for label in LABELS}
Found = dict[str, tuple[str, int, int]]  # label -> (value, row, col of the value cell)


def text_of(value: object) -> str:
    """A cell's value as text: a date as YYYY-MM-DD, anything else cleaned."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean(value)


def cell_at(grid: list[list[object]], r: int, c: int | None) -> object:
    """The value at (r, c), None outside the grid."""
    if c is None or r >= len(grid) or c >= len(grid[r]):
        return None
    return grid[r][c]


def labels_above(grid: list[list[object]]) -> Found:
    """label -> (value, row, col of the value cell) for the reporter block above the header,
    where no task row can be: a cell starting with a label is one."""
    found: Found = {}
    for r, cells in enumerate(grid):
        for c, value in enumerate(cells):
            # Every label starts with 填 or 联: skip the other cells cheaply.
            if not isinstance(value, str) or value.lstrip()[:1] not in _LABEL_FIRST:
                continue
            text = squash(nfkc(clean(value)))
            label = next((lb for lb in LABELS if text.startswith(lb)), None)
            if label is None or label in found or len(text) > len(label) + 40:
                continue
            rest = text[len(label):].lstrip(":：")
            if rest:
                found[label] = (rest, r, c)
                continue
            vc = c + 1
            for k in range(c + 1, len(cells)):
                ktext = squash(nfkc(clean(cells[k])))
                if any(ktext.startswith(lb) for lb in LABELS):
                    break
                if ktext:
                    vc = k
                    break
            found[label] = (text_of(cell_at(grid, r, vc)).lstrip(":：").strip(), r, vc)
    return found


def _label_cell(value: object) -> tuple[str, str] | None:
    """(label, value in the same cell) when a cell is a reporter label by its shape: the
    label alone, or followed by a colon or a space and the value (填报人：张三). A note that
    merely starts with one (联系电话已在官网更新并公示) is not."""
    if not isinstance(value, str) or value.lstrip()[:1] not in _LABEL_FIRST:
        return None
    text = nfkc(clean(value))
    label = next((lb for lb in LABELS if text.startswith(lb)), None)
    if label is None:
        return None
    rest = text[len(label):]
    if rest.strip(" :") == "":
        return label, ""
    if rest[0] in ": " and len(rest) <= 60:
        return label, rest.lstrip(" :").strip()
    return None


def _label_pairs(cells: list[object]) -> dict[str, tuple[str, int]] | None:
    """label -> (value, col of the value cell) when a row is made of reporter labels and
    their values only (a label cell, then its value in the next non-empty cell); else None."""
    filled = [(c, v) for c, v in enumerate(cells) if clean(v)]
    pairs: dict[str, tuple[str, int]] = {}
    i = 0
    while i < len(filled):
        c, value = filled[i]
        hit = _label_cell(value)
        if hit is None:
            return None
        label, rest = hit
        following = filled[i + 1] if i + 1 < len(filled) else None
        if rest:
            pairs.setdefault(label, (rest, c))
            i += 1
        elif following is not None and _label_cell(following[1]) is None:
            pairs.setdefault(label, (text_of(following[1]).lstrip(":：").strip(), following[0]))
            i += 2
        else:
            pairs.setdefault(label, ("", c + 1))
            i += 1
    return pairs or None


def reporter_below(form: Form, rows: Rows) -> tuple[Found, set[int]]:
    """The reporter block below the table: (label -> (value, row, col), its rows). Found by
    position (after the last row with a 序号) and shape (labels and values only)."""
    last = max((r for r, _cells, no in rows if no not in (None, -1)), default=form.header)
    found: Found = {}
    at: set[int] = set()
    for r in range(last + 1, len(form.grid)):
        pairs = _label_pairs(form.grid[r])
        if pairs:
            at.add(r)
            for label, (value, c) in pairs.items():
                found.setdefault(label, (value, r, c))
    return found, at
