"""`plan import`: turn the official document (txt export, .docx, .xlsx) into a plan workbook.

The task table wins wherever the document has one (textsource.py, docxsource.py, the
workbook reader); a document without a table gives its numbered body text instead
(body.py). The registry written beside the tasks comes from registry.py.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from gkreport.core.model import Plan
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.text import clean, nfkc
from gkreport.intake.sheets import Refused, open_book, package_kind, read_grid, sheet_names
from gkreport.plan.body import document_title, tasks_from_body
from gkreport.plan.book import read_settings, write_plan_workbook
from gkreport.plan.docxsource import read_docx
from gkreport.plan.registry import choose_registry, empty_collectives
from gkreport.plan.rules import (
    TaskTable,
    build_collectives,
    build_plan,
    plan_name,
    text_year,
    year_from_title,
)
from gkreport.plan.table import parse_task_table
from gkreport.plan.textsource import table_from_text

# Larger than any real plan document; refuses zip bombs and mislabelled media files.
MAX_SOURCE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `import_plan` wrote: the plan as read back from the source, and its problems."""

    plan: Plan
    path: Path
    problems: tuple[Problem, ...]


def _decode(data: bytes, file: str) -> str:
    if b"\x00" in data[:4096]:
        raise GkreportError(problem("plan-unreadable", file=file,
                                    detail="不是文本、Word 或 Excel 文件"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GkreportError(problem("plan-unreadable", file=file,
                                detail="不是 UTF-8 或 GB18030 编码的文本"))


def _text_source(data: bytes, file: str) -> tuple[TaskTable, str]:
    text = _decode(data, file)
    lines = text.splitlines()
    table = table_from_text(text, file=file)
    if table is not None and table.tasks:
        return table, document_title(lines)
    body = tasks_from_body(list(enumerate(lines, start=1)), file=file)
    if body is not None:
        return replace(body, year=text_year(lines)), document_title(lines)
    if table is not None:
        raise GkreportError(problem("plan-header-no-rows", file=file,
                                    header="、".join(table.header)))
    raise GkreportError(problem("plan-no-tasks", file=file,
                                detail="没有找到任务分解表，也没有带责任单位的编号条目"))


def _best_table(sheets: list[tuple[str, list[list[object]]]], file: str) -> TaskTable:
    failure: GkreportError | None = None
    # The sheet named 任务分解表 first, then the others in workbook order.
    sheets = sorted(sheets, key=lambda s: "任务" not in s[0])
    for name, rows in sheets:
        try:
            table = parse_task_table(rows, file=file, sheet=name)
        except GkreportError as exc:
            if failure is None or (exc.problems[0].code != "plan-no-tasks"
                                   and failure.problems[0].code == "plan-no-tasks"):
                failure = exc
            continue
        if table.tasks:
            return replace(table, year=text_year([clean(c) for r in rows for c in r]))
        failure = failure or GkreportError(problem("plan-header-no-rows", file=file, sheet=name,
                                                   header="、".join(table.header)))
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
        return read_docx(path, file)
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


def _title_and_year(doc_title: str, table: TaskTable, year: int | None,
                    ) -> tuple[str, int | None]:
    """The plan's name and year: --year wins, then a year in the title, then in the text;
    the name then carries that year."""
    name = doc_title or plan_name(table.title)
    found = year or year_from_title(name) or year_from_title(table.title) or table.year
    if found is None:
        return name, None
    if not name:
        return f"{found}年工作要点", found
    if year_from_title(name) is None:
        return f"{found}年{name}", found
    # The workbook's title is where read_plan finds the year: keep the two in step.
    return re.sub(r"20\d{2}(?=\s*年)", str(found), nfkc(name), count=1), found


def import_plan(source: Path, *, out: Path, year: int | None = None,
                registry: Path | None = None, new_registry: bool | None = False,
                ) -> ImportResult:
    """Read an official document (.txt/.docx/.xlsx/.xls) and write it as a plan workbook.

    The 单位名录 and 集合名称 come from the workbook `registry` (the workspace's current
    plan) when given, else the bundled defaults; `new_registry` True builds 单位名录 from
    the units the plan names, None does so only when the registry does not know them all
    (registry.choose_registry). Raises GkreportError, writing nothing, when the source
    holds no recognisable plan or names no year and `year` is not given; unknown units and
    odd deadlines are problems of the result, and the workbook is written so the office
    can correct it.
    """
    table, doc_title = read_source(source)
    title, found = _title_and_year(doc_title, table, year)
    if found is None:
        raise GkreportError(problem("plan-year-required", file=source.name))
    reg, registry_problems = choose_registry(table.tasks, path=registry, new=new_registry,
                                             file=source.name)
    problems: list[Problem] = [*table.problems, *registry_problems]
    collectives, coll_problems = build_collectives(list(reg.collectives), reg.units,
                                                   file=registry.name if registry else "")
    problems += coll_problems + empty_collectives(table.tasks, collectives, file=source.name)
    plan = build_plan(year=found, title=title, raw=table.tasks, units=reg.units,
                      collectives=collectives, problems=problems, file=source.name, sheet="")
    settings = read_settings(registry) if registry is not None else None
    write_plan_workbook(out, title=title, tasks=table.tasks, units=reg.units, settings=settings,
                        collectives=list(reg.collectives), notes=dict(reg.notes))
    return ImportResult(plan=plan, path=out, problems=plan.problems)
