"""`plan import`: turn the official document (txt export, .docx, .xlsx) into a plan workbook."""

from __future__ import annotations

import re
from pathlib import Path

from .plan import RawTask, TaskTable, parse_task_table
from .problems import GkreportError, problem
from .text import clean

_PAGE_NUMBER = re.compile(r"^[-—–]\s*\d+\s*[-—–]$")
_DOC_TITLE = re.compile(r"^(20\d{2})年.{2,40}(工作要点|工作计划|实施方案|任务清单)$")


def document_title(lines: list[str]) -> str:
    """The document's own title line (2025年…工作要点), if any."""
    for line in lines:
        s = clean(line).strip("《》")
        if _DOC_TITLE.match(s):
            return s
    return ""


def table_from_text(text: str, *, file: str = "") -> TaskTable | None:
    """The task table of a plain-text export: one cell per line ending in '|'.

    A row whose category cell was merged has one cell fewer; empty cells ('|' alone)
    and page numbers ('- 2 -') are dropped; the last cell of a row may lack its '|'.
    Rows are split where the next expected 序号 appears as a cell of its own.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if clean(ln).rstrip("|").strip() == "序号"), None)
    if start is None:
        return None
    cells: list[tuple[str, int]] = []
    for n, ln in enumerate(lines[start:], start=start + 1):
        s = clean(ln)
        if not s or _PAGE_NUMBER.match(s):
            continue
        s = s[:-1].strip() if s.endswith("|") else s
        if s:
            cells.append((s, n))
    header: list[object] = []
    i = 0
    while i < len(cells) and not re.fullmatch(r"\d+", cells[i][0]):
        header.append(cells[i][0])
        i += 1
    grid: list[list[object]] = []
    # Keep the lines just above the table (its title); the body text stays out of the grid.
    for line in [ln for ln in lines[:start] if clean(ln)][-3:]:
        grid.append([clean(line)])
    title_rows = len(grid)
    grid.append(header)
    expected = 1
    row: list[object] = []
    rows_at: list[int] = []
    while i < len(cells):
        value, n = cells[i]
        if value == str(expected):
            if row:
                grid.append(row)
            row = [value]
            rows_at.append(n)
            expected += 1
        else:
            row.append(value)
        i += 1
    if row:
        grid.append(row)
    width = len(header)
    # A row one cell short had its category merged from the row above: leave that cell empty.
    for k in range(title_rows + 1, len(grid)):
        if len(grid[k]) == width - 1:
            grid[k] = [grid[k][0], None, *grid[k][1:]]
    table = parse_task_table(grid, file=file)
    # Problems and tasks name the source line of the row's 序号, not the grid row.
    tasks = tuple(RawTask(t.no, t.category, t.text, t.units_text, t.deadline,
                          rows_at[t.no - 1] if 0 < t.no <= len(rows_at) else t.row)
                  for t in table.tasks)
    title = document_title(lines) or table.title
    return TaskTable(title, tasks, table.problems)


def read_source(path: Path) -> TaskTable:
    """Find the task table in an official document of any supported kind."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GkreportError(problem("plan-unreadable", file=str(path), detail=str(exc))) from exc
    if not data.strip():
        raise GkreportError(problem("plan-no-tasks", file=file, detail="文件为空"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise GkreportError(problem("plan-unreadable", file=file,
                                        detail="不是文本、Word 或 Excel 文件")) from exc
    table = table_from_text(text, file=file)
    if table is None or not table.tasks:
        raise GkreportError(problem("plan-no-tasks", file=file, detail="没有找到任务分解表"))
    return table
