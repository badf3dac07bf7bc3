"""Task tables in plain text copied from web pages and PDFs.

Three layouts: a whole row on one line ("a | b | c |", or cells separated by tabs); one
cell per line, ending in "|" or with "|" lines between them (the seed); one cell per line
with no separators at all. The header is the line (or run of lines) naming a text and a
unit column. Rows of a one-cell-per-line table start at the next expected 序号 when the
table has numbers, else end at the cell that reads as a deadline, else take the header's
width. The table's title is the nearest line above it naming the kind of document.
"""

from __future__ import annotations

import re

from gkreport.core.text import clean, parse_no, squash
from gkreport.plan.rules import TASK_HEADERS, TaskTable, match_header, table_title, text_year
from gkreport.plan.table import heading_level, is_deadline, parse_task_table, task_columns

PAGE_NUMBER = re.compile(r"^[-—–]\s*\d+\s*[-—–]$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$")
# Lines that end a table: notes, attachments, distribution lists.
_STOP = re.compile(r"^(注|备注|说明|附件|抄送|印发)\s*\d*\s*[:：]")
_RULE = re.compile(r"^:?-{2,}:?$")  # a Markdown table's |---|---| line


def row_cells(line: str) -> list[str] | None:
    """A one-line row's cells (tabs, or "|" between cells); [] for a Markdown rule line;
    None for a line that is not a row (one cell, perhaps ending in "|")."""
    s = line.strip()
    if "\t" in s:
        return [c.strip() for c in s.split("\t")]
    inner = s.removeprefix("|").removesuffix("|")
    if "|" not in inner:
        return None
    cells = [c.strip() for c in inner.split("|")]
    return [] if all(_RULE.match(c) for c in cells if c) else cells


def _one_cell(line: str) -> str:
    """A one-cell line without its "|" marks ("" for a lone "|")."""
    return line.strip().strip("|").strip()


def _complete(cols: dict[str, int]) -> bool:
    return "text" in cols and "units" in cols


def find_text_header(lines: list[str]) -> tuple[str, int, int, list[str]] | None:
    """("rows" or "cells", first line, line after the header, header cells), or None."""
    for i, line in enumerate(lines):
        cells = row_cells(line)
        if cells and len(cells) >= 2 and _complete(task_columns(cells)):
            return "rows", i, i + 1, cells
        if cells is None and _header_name(_one_cell(line)):
            run: list[str] = []
            j = i
            while j < len(lines):
                cell = _one_cell(lines[j])
                if cell and not _header_name(cell):
                    break
                if cell:
                    run.append(cell)
                j += 1
            if _complete(task_columns(list(run))):
                return "cells", i, j, run
    return None


def _header_name(cell: str) -> bool:
    return bool(cell) and len(squash(cell)) <= 12 and bool(match_header([cell], TASK_HEADERS))


def _row_layout(lines: list[str], start: int) -> tuple[list[list[object]], list[int]]:
    """Rows written one per line; lines without separators are heading rows."""
    rows: list[list[object]] = []
    numbers: list[int] = []
    for n in range(start, len(lines)):
        line = lines[n].strip()
        if not line or PAGE_NUMBER.match(line):
            continue
        cells = row_cells(line)  # tabs are separators: not cleaned away first
        if cells == []:
            continue
        if cells is None:
            line = _one_cell(clean(line))
            if _STOP.match(line) or (rows and not _heading_line(line)):
                break  # the text after the table
            if not line or not _heading_line(line):
                continue
            cells = [line]
        rows.append(list(cells))
        numbers.append(n + 1)
    return rows, numbers


def _heading_line(line: str) -> bool:
    return bool(heading_level(line)) or (len(line) <= 40 and not line.endswith(("。", "；")))


def _cell_stream(lines: list[str], start: int) -> list[tuple[str, int]]:
    """The cells after a one-cell-per-line header, with their line numbers.

    Where cells end in "|", a long line without it is a cell wrapped onto the next line
    (a PDF copy) and is joined to it; a short one is a last cell that lost its "|".
    """
    raw = [(clean(lines[n]), n + 1) for n in range(start, len(lines))]
    raw = [(s, n) for s, n in raw if s and not PAGE_NUMBER.match(s)]
    ended = sum(s.endswith("|") for s, _ in raw) * 2 > len(raw)
    cells: list[tuple[str, int]] = []
    wrapped = ""
    for k, (line, n) in enumerate(raw):
        cell = wrapped + _one_cell(line)
        if _STOP.match(cell):
            break
        nxt = _one_cell(raw[k + 1][0]) if k + 1 < len(raw) else ""
        if (ended and not line.endswith("|") and len(cell) > 10 and nxt
                and parse_no(nxt) is None and not heading_level(nxt)):
            wrapped = cell
            continue
        wrapped = ""
        if cell:
            cells.append((cell, n))
    return cells


def _stacked_layout(lines: list[str], start: int, header: list[str],
                    ) -> tuple[list[list[object]], list[int]]:
    """Rows written one cell per line, split by 序号, by the deadline cell, or by width."""
    stream = _cell_stream(lines, start)
    ints = [parse_no(c) for c, _ in stream]
    numbered = 1 in ints and 2 in ints[ints.index(1):]
    cols = task_columns(list(header))
    last = max((i, k) for k, i in cols.items() if k not in ("note", "progress"))[1]
    rows: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    expected = 1

    def close() -> None:
        nonlocal current
        if current:
            rows.append(current)
        current = []

    for cell, n in stream:
        if numbered and parse_no(cell) == expected:
            close()
            expected += 1
        elif heading_level(cell) and (not current or is_deadline(current[-1][0])
                                      or len(current) >= len(header)):
            close()
            rows.append([(cell, n)])
            continue
        current.append((cell, n))
        if not numbered and (is_deadline(cell) if last == "deadline"
                             else len(current) >= len(header)) and len(current) >= 2:
            close()
    close()
    return [[c for c, _ in r] for r in rows], [r[0][1] for r in rows]


def table_from_text(text: str, *, file: str = "") -> TaskTable | None:
    """The task table of a plain-text export, or None when the text has no table header."""
    lines = text.splitlines()
    found = find_text_header(lines)
    if found is None:
        return None
    kind, first, end, header = found
    if kind == "rows":
        rows, numbers = _row_layout(lines, end)
    else:
        rows, numbers = _stacked_layout(lines, end, header)
    table = parse_task_table([list(header), *rows], file=file,
                             row_numbers=[first + 1, *numbers])
    title = table_title([ln for ln in lines[max(0, first - 40):first] if clean(ln)])
    return TaskTable(title, table.tasks, table.problems, table.header, text_year(lines))
