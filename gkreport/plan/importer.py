"""`plan import`: turn the official document (txt export, .docx, .xlsx) into a plan workbook.

The task table wins wherever the document has one; a document without a table gives its
numbered body text instead (一、 headings are categories, 1. items are tasks, and a
parenthesis at the end of an item names its units and deadline).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gkreport.core.model import Plan
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.text import clean, nfkc, squash
from gkreport.intake.sheets import Refused, open_book, package_kind, read_grid, sheet_names
from gkreport.plan.book import default_registry, read_registry, write_plan_workbook
from gkreport.plan.rules import (
    MAX_COLS,
    MAX_ROWS,
    RawTask,
    TaskTable,
    build_collectives,
    build_plan,
    category_name,
    clean_text,
    join_units,
    parse_task_table,
    plan_name,
    table_title,
    year_from_title,
)

_PAGE_NUMBER = re.compile(r"^[-—–]\s*\d+\s*[-—–]$")
_DOC_TITLE = re.compile(r"^(20\d{2})\s*年.{1,40}(工作要点|工作计划|实施方案|任务清单)$")
# Larger than any real plan document; refuses zip bombs and mislabelled media files.
MAX_SOURCE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `import_plan` wrote: the plan as read back from the source, and its problems."""

    plan: Plan
    path: Path
    problems: tuple[Problem, ...]


def document_title(lines: list[str]) -> str:
    """The document's own title line (2025年…工作要点), if any."""
    for line in lines:
        s = clean(line).strip("《》")
        if _DOC_TITLE.match(s):
            return s
    return ""


# ---------------------------------------------------------------- plain text


def table_from_text(text: str, *, file: str = "") -> TaskTable | None:
    """The task table of a plain-text export: one cell per line ending in '|'.

    A row whose category cell was merged has one cell fewer; empty cells ('|' alone)
    and page numbers ('- 2 -') are dropped; the last cell of a row may lack its '|'.
    Rows are split where the next expected 序号 appears as a cell of its own. A table
    written one row per line (cells separated by tabs or '|') is read too.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if clean(ln).rstrip("|").strip() == "序号"), None)
    if start is None:
        return _delimited_table(lines, file=file)
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
    at = {k + title_rows + 2: n for k, n in enumerate(rows_at)}
    tasks = tuple(RawTask(t.no, t.category, t.text, t.units_text, t.deadline, at.get(t.row, t.row))
                  for t in table.tasks)
    problems = tuple(_at_line(p, at) for p in table.problems)
    return TaskTable(table.title, tasks, problems)


def _at_line(p: Problem, at: dict[int, int]) -> Problem:
    if p.row is None or p.row not in at:
        return p
    return Problem(p.code, p.severity, p.message, p.fix, p.file, p.sheet, p.cell, at[p.row], p.unit)


def _delimited_table(lines: list[str], *, file: str) -> TaskTable | None:
    """A table pasted as one row per line, cells separated by tabs or '|' (None if absent)."""
    grid: list[list[object]] = []
    for ln in lines:
        if "\t" in ln:
            grid.append([c.strip() for c in ln.split("\t")])
        elif ln.count("|") >= 2:
            grid.append([c.strip() for c in ln.strip().strip("|").split("|")])
        else:
            grid.append([ln.strip()])
    if not any(len(r) >= 3 and "序号" in [squash(c) for c in r] for r in grid):
        return None
    return parse_task_table(grid, file=file)


# ---------------------------------------------------------------- body text

_HEADING = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*\S")
_SUBHEAD = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[）)]\s*(\S.*)$")
_ITEM_KINDS = {
    "dot": re.compile(r"^\d{1,3}\s*[.．、](?!\d)\s*(\S.*)$"),
    "paren": re.compile(r"^[（(]\s*\d{1,3}\s*[）)]\s*(\S.*)$"),
    "subhead": _SUBHEAD,
}
_KEYS = ("牵头单位|牵头部门|责任单位|责任部门|主责单位|配合单位|协办单位|配合部门|"
         "完成时限|时间节点|完成时间|时限要求|时限")
_FIELD = re.compile(rf"({_KEYS})\s*[:：]")
_UNITS_PAREN = re.compile(rf"[（(]\s*((?:{_KEYS})\s*[:：].*)[）)]\s*[。.;；]?\s*$")
_FIELD_KIND = {"牵头单位": "lead", "牵头部门": "lead", "责任单位": "units", "责任部门": "units",
               "主责单位": "units", "配合单位": "partners", "协办单位": "partners",
               "配合部门": "partners"}


def _fields(content: str) -> dict[str, str]:
    """"牵头单位:A,责任单位:B、C,完成时限:全年" -> {"lead": "A", "units": "B、C", ...}."""
    out: dict[str, str] = {}
    marks = list(_FIELD.finditer(content))
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(content)
        value = content[m.end():end].strip(" \t,，;；、。")
        out.setdefault(_FIELD_KIND.get(m.group(1), "deadline"), value)
    return out


@dataclass
class _Item:
    kind: str
    text: str
    category: str
    line: int
    paren: re.Match[str] | None = None


def tasks_from_body(lines: list[tuple[int, str]], *, file: str = "") -> TaskTable | None:
    """Tasks from numbered body text: (line number, text) pairs; None when there are none.

    `一、` headings (or a finer `（一）` heading below one) name the category; numbered
    items (`1.` `1．` `1、` `（1）`, or `（一）` carrying units) are tasks; a parenthesis at
    an item's end gives 责任单位 and, when present, 牵头单位, 配合单位 and 完成时限. Only
    the numbering kinds that carry a units parenthesis somewhere are tasks, so `1.`
    points above `（1）` tasks become neither. A line that is no heading or item
    continues an item whose parenthesis has not appeared yet.
    """
    items: list[_Item] = []
    category = ""
    open_item: _Item | None = None
    preamble: list[str] = []  # lines above the first heading or item: the title is there
    for n, raw in lines:
        line = clean(raw)
        if not line or _PAGE_NUMBER.match(line):
            continue
        if not items and not category:
            preamble.append(line)
        kind = next((k for k, rx in _ITEM_KINDS.items() if rx.match(line)), None)
        if kind == "subhead" and not _UNITS_PAREN.search(line):
            category = category_name(_SUBHEAD.sub(r"\1", line)).rstrip("。.;；:：")
            open_item = None
            continue
        if kind is None and _HEADING.match(line):
            category = category_name(line).rstrip("。.;；:：")
            open_item = None
            continue
        if kind is not None:
            open_item = _Item(kind, _ITEM_KINDS[kind].sub(r"\1", line), category, n)
            items.append(open_item)
        elif open_item is not None and open_item.paren is None and not line.startswith("附件"):
            open_item.text += line  # a wrapped line of the same item
        else:
            open_item = None
            continue
        open_item.paren = _UNITS_PAREN.search(open_item.text)
    task_kinds = {i.kind for i in items if i.paren}
    if not task_kinds:
        return None
    tasks: list[RawTask] = []
    undated = 0
    for item in (i for i in items if i.kind in task_kinds):
        text, fields = item.text, {}
        if item.paren:
            text, fields = item.text[:item.paren.start()].rstrip(), _fields(item.paren.group(1))
        if not fields.get("deadline"):
            undated += 1
        units = join_units(fields.get("lead", ""), fields.get("units", ""),
                           fields.get("partners", ""))
        tasks.append(RawTask(len(tasks) + 1, item.category, clean_text(text), units,
                             fields.get("deadline") or "全年", item.line))
    problems = ([problem("plan-no-deadline-text", file=file, count=undated)] if undated else [])
    return TaskTable(table_title(preamble[:-1]), tuple(tasks), tuple(problems))


# ---------------------------------------------------------------- sources


def _text_source(data: bytes, file: str) -> tuple[TaskTable, str]:
    if b"\x00" in data[:4096]:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail="不是文本、Word 或 Excel 文件"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail="不是 UTF-8 或 GB18030 编码的文本"))
    lines = text.splitlines()
    table = table_from_text(text, file=file)
    if table is not None and table.tasks:
        return table, document_title(lines)
    body = tasks_from_body(list(enumerate(lines, start=1)), file=file)
    if body is not None:
        return body, document_title(lines)
    detail = "表格中没有任务行" if table is not None else "没有找到任务分解表，也没有带责任单位的编号条目"
    raise GkreportError(problem("plan-no-tasks", file=file, detail=detail))


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
    if not line or _HEADING.match(line) or any(rx.match(line) for rx in _ITEM_KINDS.values()):
        return text
    ppr = paragraph._p.pPr
    style = paragraph.style.name if paragraph.style is not None else ""
    numbered = (ppr is not None and ppr.numPr is not None) or style.startswith("List Number")
    if numbered and _UNITS_PAREN.search(line):
        return f"1.{line}"
    if re.fullmatch(r"Heading [1-9]|标题 ?[1-9]", style) and not year_from_title(line):
        return f"一、{line}"
    return text


def _docx_source(path: Path, file: str) -> tuple[TaskTable, str]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from lxml.etree import LxmlError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail=f"不是有效的 Word 文档（{exc.__class__.__name__}）"),
                            ) from exc
    lines: list[tuple[int, str]] = []  # body paragraphs, numbered from 1
    blocks: list[tuple[list[list[object]], str]] = []  # tables with the paragraph above them
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            above = next((t for _, t in reversed(lines) if clean(t)
                          and not re.fullmatch(r"附件\s*\d*[:：]?", clean(t))), "")
            blocks.append((_docx_grid(block), above))
        else:
            for part in block.text.splitlines() or [""]:
                lines.append((len(lines) + 1, _auto_number(block, part)))
    title = document_title([t for _, t in lines])
    failure: GkreportError | None = None
    for k, (grid, above) in enumerate(blocks):
        try:
            table = parse_task_table(grid, file=file, sheet=f"表格{k + 1}")
        except GkreportError as exc:
            if failure is None or exc.problems[0].code == "plan-missing-column":
                failure = exc
            continue
        if not table.tasks:
            failure = failure or GkreportError(problem(
                "plan-no-tasks", file=file, sheet=f"表格{k + 1}", detail="表格中没有任务行"))
            continue
        # A table broken across pages: following tables that go on numbering.
        for more, _ in blocks[k + 1:]:
            if not more or not re.fullmatch(r"\d+", squash(more[0][0])):
                break
            grid = grid + more
        if len(grid) > len(blocks[k][0]):
            table = parse_task_table(grid, file=file, sheet=f"表格{k + 1}")
        return TaskTable(table.title or above, table.tasks, table.problems), title
    body = tasks_from_body(lines, file=file)
    if body is not None:
        return body, title
    if failure is not None:
        raise failure
    raise GkreportError(problem("plan-no-tasks", file=file,
                                detail="文档中没有任务分解表，也没有带责任单位的编号条目"))


def _best_table(sheets: list[tuple[str, list[list[object]]]], file: str) -> TaskTable:
    failure: GkreportError | None = None
    # The sheet named 任务分解表 first, then the others in workbook order.
    sheets = sorted(sheets, key=lambda s: "任务" not in s[0])
    for name, rows in sheets:
        try:
            table = parse_task_table(rows, file=file, sheet=name)
        except GkreportError as exc:
            if failure is None or (exc.problems[0].code == "plan-missing-column"
                                   and failure.problems[0].code != "plan-missing-column"):
                failure = exc
            continue
        if table.tasks:
            return table
        failure = failure or GkreportError(problem("plan-no-tasks", file=file, sheet=name,
                                                   detail="表格中没有任务行"))
    if failure is not None:
        raise failure
    raise GkreportError(problem("plan-no-tasks", file=file, detail="工作簿中没有工作表"))


def _workbook_source(data: bytes, suffix: str, file: str) -> tuple[TaskTable, str]:
    """.xlsx/.xlsm/.xls/.ods, by the returned forms' reader: merged cells hold their value."""
    try:
        book = open_book(data, suffix)
        sheets = [(name, read_grid(book, name, merges="all")) for name in sheet_names(book)]
    except Refused as exc:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail="不是有效的 Excel 工作簿")) from exc
    return _best_table(sheets, file), ""


_WORD_SUFFIXES = {".docx", ".docm"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_OLD_SUFFIXES = {".xls", ".ods", ".et"}
_REFUSED = {".doc": "旧版 Word 文档（.doc）", ".wps": "WPS 文字文档（.wps）", ".pdf": "PDF 文件"}


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return package_kind(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return ""


def read_source(path: Path) -> tuple[TaskTable, str]:
    """The task table in an official document of any supported kind, and its title line.

    The kind is decided by content (a renamed file still reads); a file whose suffix
    promises Word or Excel but holds something else is refused with a clear message.
    """
    file = path.name
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_SOURCE_BYTES else b""
    except OSError as exc:
        raise GkreportError(problem("plan-unreadable", file=str(path),
                                    detail="文件不存在" if not path.exists() else str(exc))) from exc
    if size > MAX_SOURCE_BYTES:
        raise GkreportError(problem("plan-unreadable", file=file, detail="文件过大"))
    if not data.strip():
        raise GkreportError(problem("plan-no-tasks", file=file, detail="文件为空"))
    suffix = path.suffix.lower()
    kind = _sniff_zip(data) if data[:4] == b"PK\x03\x04" else ""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        kind = "doc" if suffix in (".doc", ".wps") else "ole"
    if kind == "ole" and suffix in _WORD_SUFFIXES | _EXCEL_SUFFIXES:
        # Office saves a password-protected .docx/.xlsx inside an OLE container.
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail="文件已加密（设置了打开密码），请取消密码后再导入"))
    if kind == "docx":
        return _docx_source(path, file)
    if kind in ("xlsx", "ods", "ole"):
        return _workbook_source(data, suffix, file)
    if kind == "doc" or suffix in _REFUSED:
        what = _REFUSED.get(suffix, "旧版 Office 文档")
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail=f"{what}无法直接导入，请在 Word/WPS 中另存为 .docx 后再导入"))
    if suffix in _WORD_SUFFIXES | _EXCEL_SUFFIXES | _OLD_SUFFIXES or data[:2] == b"PK":
        what = "Word 文档" if suffix in _WORD_SUFFIXES else "Excel 工作簿"
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail=f"文件已损坏或不是有效的 {what}"))
    return _text_source(data, file)


def _title_and_year(doc_title: str, table_title: str, year: int | None,
                    ) -> tuple[str, int | None]:
    """The plan's name and year: --year wins, and the name then carries that year."""
    name = doc_title or plan_name(table_title)
    found = year or year_from_title(name) or year_from_title(table_title)
    if found is None:
        return name, None
    if not name:
        return f"{found}年工作要点", found
    if year_from_title(name) is None:
        return f"{found}年{name}", found
    # The workbook's title is where read_plan finds the year: keep the two in step.
    return re.sub(r"20\d{2}(?=\s*年)", str(found), nfkc(name), count=1), found


def import_plan(source: Path, *, out: Path, year: int | None = None,
                registry: Path | None = None) -> ImportResult:
    """Read an official document (.txt/.docx/.xlsx/.xls) and write it as a plan workbook.

    The 单位名录 and 集合名称 come from the workbook `registry` (the workspace's current
    plan) when given, else the bundled defaults. Raises GkreportError, writing nothing,
    when the source holds no recognisable plan; unknown units and odd deadlines are
    problems of the result, and the workbook is written so the office can correct it.
    """
    table, doc_title = read_source(source)
    problems: list[Problem] = list(table.problems)
    if registry is not None:
        units, coll_rows, registry_problems = read_registry(registry)
        problems += registry_problems
    else:
        units, coll_rows = default_registry()
    collectives, coll_problems = build_collectives(coll_rows, units, file=registry.name
                                                   if registry else "")
    problems += coll_problems
    title, found = _title_and_year(doc_title, table.title, year)
    if found is None:
        from datetime import date

        found = date.today().year
        problems.append(problem("plan-no-year", file=source.name, year=found))
        title = f"{found}年{title}" if title else f"{found}年工作要点"
    plan = build_plan(year=found, title=title, raw=table.tasks, units=units,
                      collectives=collectives, problems=problems, file=source.name, sheet="")
    write_plan_workbook(out, title=title, tasks=table.tasks, units=units,
                        collectives=coll_rows)
    return ImportResult(plan=plan, path=out, problems=plan.problems)
