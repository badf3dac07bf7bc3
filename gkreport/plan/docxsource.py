"""Word documents: the task table (merged cells, tables broken across pages), else the body."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from gkreport.core.limits import MAX_COLS, MAX_ROWS
from gkreport.core.problems import GkreportError, problem
from gkreport.core.text import clean, squash
from gkreport.plan.body import HEADING, ITEM_KINDS, UNITS_PAREN, document_title, tasks_from_body
from gkreport.plan.rules import (
    TaskTable,
    table_title,
    text_year,
    year_from_title,
)
from gkreport.plan.table import parse_task_table


def _docx_grid(table: Any) -> list[list[object]]:
    # python-docx repeats a merged cell's text in every grid cell it spans; rows that
    # start late are padded so columns stay aligned.
    grid: list[list[object]] = []
    for row in table.rows[:MAX_ROWS]:
        cells: list[object] = [None] * row.grid_cols_before
        cells += [c.text for c in row.cells]
        grid.append(cells[:MAX_COLS])
    return grid


def _auto_number(paragraph: Any, text: str) -> str:
    """Give Word's automatic numbering back to the text: it is not part of `.text`."""
    line = clean(text)
    if not line or HEADING.match(line) or any(rx.match(line) for rx in ITEM_KINDS.values()):
        return text
    ppr = paragraph._p.pPr
    style = paragraph.style.name if paragraph.style is not None else ""
    numbered = (ppr is not None and ppr.numPr is not None) or style.startswith("List Number")
    if numbered and UNITS_PAREN.search(line):
        return f"1.{line}"
    if re.fullmatch(r"Heading [1-9]|标题 ?[1-9]", style) and not year_from_title(line):
        return f"一、{line}"
    return text


def _open(path: Path, file: str) -> Any:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail=f"不是有效的 Word 文档（{exc.__class__.__name__}）"),
                            ) from exc


def _blocks(document: Any) -> tuple[list[tuple[int, str]], list[tuple[list[list[object]], str]]]:
    """Body paragraphs (numbered from 1) and tables with the paragraph above each."""
    from docx.table import Table

    lines: list[tuple[int, str]] = []
    blocks: list[tuple[list[list[object]], str]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            above = next((t for _, t in reversed(lines) if clean(t)
                          and not re.fullmatch(r"附件\s*\d*[:：]?", clean(t))), "")
            blocks.append((_docx_grid(block), above))
        else:
            for part in block.text.splitlines() or [""]:
                lines.append((len(lines) + 1, _auto_number(block, part)))
    return lines, blocks


def read_docx(path: Path, file: str) -> tuple[TaskTable, str]:
    """The task table of a Word document (else its numbered body), and its title line."""
    lines, blocks = _blocks(_open(path, file))
    title = document_title([t for _, t in lines])
    year = text_year([t for _, t in lines] + [clean(c) for g, _ in blocks for r in g for c in r])
    failure: GkreportError | None = None
    for k, (grid, above) in enumerate(blocks):
        try:
            table = parse_task_table(grid, file=file, sheet=f"表格{k + 1}")
        except GkreportError as exc:
            if failure is None or exc.problems[0].code != "plan-no-tasks":
                failure = exc
            continue
        if not table.tasks:
            failure = failure or GkreportError(problem(
                "plan-header-no-rows", file=file, sheet=f"表格{k + 1}",
                header="、".join(table.header)))
            continue
        # A table broken across pages: following tables that go on numbering.
        for more, _ in blocks[k + 1:]:
            if not more or not re.fullmatch(r"\d+", squash(more[0][0])):
                break
            grid = grid + more
        if len(grid) > len(blocks[k][0]):
            table = parse_task_table(grid, file=file, sheet=f"表格{k + 1}")
        return TaskTable(table.title or table_title([above]), table.tasks, table.problems, table.header,
                         year), title
    body = tasks_from_body(lines, file=file)
    if body is not None:
        return TaskTable(body.title, body.tasks, body.problems, year=year), title
    if failure is not None:
        raise failure
    raise GkreportError(problem("plan-no-tasks", file=file,
                                detail="文档中没有任务分解表，也没有带责任单位的编号条目"))
