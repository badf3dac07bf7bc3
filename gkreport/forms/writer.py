"""The forms stage: one protected fill-in workbook per unit, and the office's distribution list.

The layout (sheet names, rows, columns, metadata keys) is `layout.py`, the contract with
`ingest`, which reads these forms back after units have filled them in Excel, WPS or
LibreOffice.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from gkreport.core.model import REPORTABLE, STATUS_ALIASES, Period, Plan, Status, Task
from gkreport.core.problems import GkreportError, problem
from gkreport.core.text import clean, column_width, display_width, safe_filename, unit_key
from gkreport.core.xlsx import (
    FONT_NAME,
    FONT_SIZE,
    close_workbook,
    new_workbook,
    row_height,
    wrapped_lines,
    write_xlsx,
)
from gkreport.forms import layout as L

LISTING_SHEET = "分发清单"
LISTING_HEADERS = ("序号", "单位名称", "单位类别", "文件名", "任务数", "联系人", "联系电话")

FILL_COLOUR = "#FFF2CC"  # fill-in cells: the one colour a unit types into
HEAD_COLOUR = "#D9E1F2"
FILL_HEAD_COLOUR = "#FFE699"
MAX_STEM_BYTES = 120  # a unit's part of the file name; whole name stays far below 255 bytes

# Excel's limits for data validation prompts.
MAX_PROMPT_TITLE = 32
MAX_PROMPT_MESSAGE = 255

STATUS_MEANING: dict[Status, str] = {
    Status.DONE: "本单位承担的该项任务已全部完成，完成进度应填 100",
    Status.ON_TRACK: "已启动，正按计划序时推进",
    Status.BEHIND: "进度落后于计划，或预计不能按时间节点完成；请在“存在问题”中说明原因",
    Status.NOT_STARTED: "本月尚未开展工作（进展情况可不填）",
}


@dataclass(frozen=True, slots=True)
class FormFile:
    """One written form."""

    unit: str
    path: Path
    tasks: int


@dataclass(frozen=True, slots=True)
class FormsResult:
    """The forms written for a period and the office's distribution list."""

    forms: tuple[FormFile, ...]
    listing: Path


# ---------------------------------------------------------------- names and defaults


def form_filename(unit: str, period: Period) -> str:
    """`<safe unit name>_<PERIOD>_填报表.xlsx`; two different units never get the same name.

    A name that had to be changed to be safe (separators, `..`, reserved or over-long names,
    upper case that a case-insensitive file system would fold) gets a short hash of the
    original name, so e.g. "a/b" and "a_b" stay apart.
    """
    stem = safe_filename(unit)
    while len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        stem = stem[:-1]
    changed = (stem != unit or unit != unit.casefold()
               or unit != unicodedata.normalize("NFC", unit))
    if changed:
        stem = f"{stem}_{hashlib.sha256(unit.encode('utf-8')).hexdigest()[:8]}"
    return f"{stem}_{period}_填报表.xlsx"


def listing_filename(period: Period) -> str:
    """`分发清单_<PERIOD>.xlsx`"""
    return f"{LISTING_SHEET}_{period}.xlsx"


def default_due(period: Period) -> date:
    """The return deadline when the office set none: the ledger's default day."""
    from gkreport.ledger import due_date

    return due_date(period)


def default_generated_at(period: Period) -> datetime:
    """A generation time derived from the period, so regenerated forms are identical."""
    return datetime.combine(period.end, time(9, 0))


def _date_label(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def resolve_units(plan: Plan, names: Sequence[str]) -> tuple[str, ...]:
    """Map names or aliases to expected units; unknown ones raise GkreportError."""
    expected = set(plan.expected_units)
    found: list[str] = []
    bad = []
    for raw in names:
        name = plan.unit_named(raw)
        if name in expected:
            if name not in found:
                found.append(name)
            continue
        if name:
            hint = "（该单位在本计划中没有任务）"
        else:
            keys = plan.index.names
            close = difflib.get_close_matches(unit_key(raw), list(keys), n=1, cutoff=0.5)
            hint = f"，是否是“{keys[close[0]]}”？" if close else ""
        bad.append(problem("forms-unknown-unit", name=raw, hint=hint))
    if bad:
        raise GkreportError(*bad)
    return tuple(found)


# ---------------------------------------------------------------- writing


def write_forms(plan: Plan, period: Period, out_dir: Path, *, units: Sequence[str] | None = None,
                password: str | None = None, due: date | None = None,
                previous: Mapping[tuple[int, str], tuple[str, str]] | None = None,
                contact: str = "", generated_at: datetime | None = None,
                progress: Callable[[int, int], None] | None = None) -> FormsResult:
    """Write one fill-in form per expected unit (or per named unit) and the distribution list."""
    chosen = resolve_units(plan, units) if units else plan.expected_units
    due = due or default_due(period)
    generated_at = generated_at or default_generated_at(period)
    previous = previous or {}
    out_dir.mkdir(parents=True, exist_ok=True)

    names = [form_filename(u, period) for u in chosen]
    folded = {n.casefold() for n in names}
    assert len(folded) == len(names), "form file names must be distinct"  # by construction

    forms: list[FormFile] = []
    for i, (unit, name) in enumerate(zip(chosen, names, strict=True)):
        tasks = plan.tasks_for(unit)
        path = out_dir / name
        write_xlsx(path, lambda tmp, unit=unit, tasks=tasks: _write_form(
            tmp, plan=plan, period=period, unit=unit, tasks=tasks, password=password, due=due,
            previous=previous, contact=contact, generated_at=generated_at))
        forms.append(FormFile(unit, path, len(tasks)))
        if progress:
            progress(i + 1, len(chosen))
    if not units:  # the whole set: a unit no longer expected must not be sent a form
        for stale in out_dir.glob(f"*_{period}_填报表.xlsx"):
            if stale.name.casefold() not in folded:
                stale.unlink()
    listing = out_dir / listing_filename(period)
    write_xlsx(listing, lambda tmp: _write_listing(tmp, plan, period, forms, generated_at, due))
    return FormsResult(tuple(forms), listing)


class _Formats:
    """Formats of one form workbook (xlsxwriter formats belong to a workbook: made once each)."""

    def __init__(self, wb: Any) -> None:
        def fmt(**props: Any) -> Any:
            return wb.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE,
                                  "valign": "vcenter", **props})

        self.title = fmt(bold=True, font_size=16, align="center", text_wrap=True)
        self.label = fmt(bold=True)
        self.label_right = fmt(bold=True, align="right")
        self.value = fmt()
        box = {"border": 1, "text_wrap": True}
        fill = {**box, "locked": False, "bg_color": FILL_COLOUR}
        self.head = fmt(bold=True, align="center", bg_color=HEAD_COLOUR, **box)
        self.fill_head = fmt(bold=True, align="center", bg_color=FILL_HEAD_COLOUR, **box)
        self.cell = fmt(**box)
        self.cell_center = fmt(align="center", **box)
        self.fill = fmt(**fill)
        self.fill_center = fmt(align="center", **fill)
        self.fill_progress = fmt(align="center", num_format="0", **fill)
        self.fill_text = fmt(num_format="@", **fill)
        self.fill_date = fmt(num_format="yyyy-mm-dd", align="center", **fill)
        self.guide_title = fmt(bold=True, font_size=14)
        self.guide_label = fmt(bold=True, text_wrap=True, valign="top", border=1,
                               bg_color=HEAD_COLOUR)
        self.guide_text = fmt(text_wrap=True, valign="top", border=1)


def _prompt(title: str, message: str) -> dict[str, str]:
    assert len(title) <= MAX_PROMPT_TITLE and len(message) <= MAX_PROMPT_MESSAGE
    return {"input_title": title, "input_message": message}


def _error(title: str, message: str) -> dict[str, str]:
    assert len(title) <= MAX_PROMPT_TITLE and len(message) <= MAX_PROMPT_MESSAGE
    return {"error_title": title, "error_message": message}


def _tidy_units(text: str) -> str:
    return re.sub(r"\s*、\s*", "、", clean(text))


def _row_height(cells: list[tuple[str, float]], minimum_lines: int = 1) -> float:
    """Height that shows every wrapped line of the row's cells (text, column width)."""
    return row_height(max([minimum_lines, *(wrapped_lines(
        [display_width(line) for line in text.splitlines()], width) for text, width in cells)]))


def _form_rows(tasks: tuple[Task, ...], unit: str,
               previous: Mapping[tuple[int, str], tuple[str, str]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for t in tasks:
        prev_status, prev_note = previous.get((t.no, unit), ("", ""))
        rows.append([t.no, t.category, t.text, _tidy_units(t.units_text), t.deadline.text,
                     str(prev_status or ""), str(prev_note or "")])
    return rows


def _widths(rows: list[list[object]]) -> list[float]:
    widths = []
    for i, col in enumerate(L.COLUMNS):
        if col.fill_in:
            widths.append(float(col.width))
        else:
            values = [col.header, *(str(r[i]) for r in rows)]
            widths.append(column_width(values, minimum=6, maximum=int(col.width)))
    # The reporter block shares the first columns: labels and values must fit there too.
    widths[0] = max(widths[0], column_width([L.LABEL_UNIT]))
    widths[4] = max(widths[4], column_width([L.LABEL_DATE]))
    widths[5] = max(widths[5], column_width(["2025-07-05"]))
    return widths


def _write_form(path: Path, *, plan: Plan, period: Period, unit: str, tasks: tuple[Task, ...],
                password: str | None, due: date, previous: Mapping[tuple[int, str], tuple[str, str]],
                contact: str, generated_at: datetime) -> None:
    title = f"{plan.title}推进情况填报表（{period.label}）"
    meta = {"gkreport_form": "1", "unit": unit, "period": str(period),
            "fingerprint": plan.fingerprint, "version": L.FORM_VERSION,
            "generated_at": generated_at.isoformat(timespec="seconds"), "year": str(plan.year)}
    wb = new_workbook(path, title=title, created=generated_at.replace(tzinfo=None),
                      subject=f"{unit} {period.label}", keywords="gkreport",
                      comments="由 gkreport 生成；请勿删除隐藏的工作表")
    # Assemble the parts in memory: xlsxwriter's default temp file per part costs more than
    # the whole form (1,000 forms must take well under 30 s). Read at close(), so safe to set.
    wb.in_memory = True
    for key in L.META_KEYS:
        wb.set_custom_property(f"{L.META_PROPERTY_PREFIX}{key}", meta[key])
    f = _Formats(wb)
    form = wb.add_worksheet(L.FORM_SHEET)
    guide = wb.add_worksheet(L.GUIDE_SHEET)
    lists = wb.add_worksheet(L.LISTS_SHEET)
    meta_ws = wb.add_worksheet(L.META_SHEET)

    _write_form_sheet(form, f, title=title, unit=unit, rows=_form_rows(tasks, unit, previous),
                      password=password)
    _write_guide(guide, f, plan=plan, period=period, unit=unit, tasks=len(tasks), due=due,
                 contact=contact, generated_at=generated_at, password=password)

    for r, status in enumerate(REPORTABLE):
        lists.write_string(r, 0, str(status))
    lists.protect(password or "")
    lists.hide()

    for r, key in enumerate(L.META_KEYS):
        meta_ws.write_string(r, 0, key)
        meta_ws.write_string(r, 1, meta[key])
    meta_ws.protect(password or "")
    meta_ws.very_hidden()

    form.activate()
    close_workbook(wb, path)


def _write_form_sheet(ws: Any, f: _Formats, *, title: str, unit: str, rows: list[list[object]],
                      password: str | None) -> None:
    ncols = len(L.COLUMNS)
    last_col = ncols - 1
    first, last = L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + max(len(rows), 1) - 1
    widths = _widths(rows)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)

    ws.merge_range(L.TITLE_ROW, 0, L.TITLE_ROW, last_col, title, f.title)
    ws.set_row(L.TITLE_ROW, 36)
    ws.write_string(L.UNIT_ROW, 0, L.LABEL_UNIT, f.label)
    ws.write_string(L.UNIT_ROW, 1, unit, f.label)
    ws.set_row(L.UNIT_ROW, 22)

    # 填报人 | value | 联系电话 | value | 填报日期 | value: each value right of its label.
    r = L.REPORTER_ROW
    ws.write_string(r, 0, L.LABEL_REPORTER, f.label)
    ws.write_blank(r, 1, None, f.fill)
    ws.write_string(r, 2, L.LABEL_PHONE, f.label_right)
    ws.write_blank(r, 3, None, f.fill_text)
    ws.write_string(r, 4, L.LABEL_DATE, f.label)
    ws.write_blank(r, 5, None, f.fill_date)
    ws.set_row(r, 22)
    ws.data_validation(r, 1, r, 1, {"validate": "any", **_prompt(
        "填报人", "请填写本表填报人姓名。")})
    ws.data_validation(r, 3, r, 3, {"validate": "any", **_prompt(
        "联系电话", "请填写填报人的联系电话（办公电话或手机），便于核实。")})
    ws.data_validation(r, 5, r, 5, {"validate": "any", **_prompt(
        "填报日期", "请填写填报日期，例如 2025-07-03。")})

    header_height = max(_row_height([(c.header, widths[i]) for i, c in enumerate(L.COLUMNS)]), 30)
    for c, col in enumerate(L.COLUMNS):
        ws.write_string(L.HEADER_ROW, c, col.header, f.fill_head if col.fill_in else f.head)
    ws.set_row(L.HEADER_ROW, header_height)

    centered = {L.COLUMN_INDEX[k] for k in ("no", "deadline", "prev_status")}
    fill_fmt = {L.COLUMN_INDEX["status"]: f.fill_center,
                L.COLUMN_INDEX["progress"]: f.fill_progress}
    for i, values in enumerate(rows):
        row = first + i
        for c, value in enumerate(values):
            fmt = f.cell_center if c in centered else f.cell
            if isinstance(value, int):
                ws.write_number(row, c, value, fmt)
            elif value:
                ws.write_string(row, c, str(value), fmt)
            else:
                ws.write_blank(row, c, None, fmt)
        for c in range(len(values), ncols):
            ws.write_blank(row, c, None, fill_fmt.get(c, f.fill))
        ws.set_row(row, _row_height([(str(v), widths[c]) for c, v in enumerate(values)], 2))

    if rows:
        s, p = L.COLUMN_INDEX["status"], L.COLUMN_INDEX["progress"]
        choices = "、".join(str(s) for s in REPORTABLE)
        ws.data_validation(first, s, last, s, {
            "validate": "list", "source": f"='{L.LISTS_SHEET}'!$A$1:$A${len(REPORTABLE)}",
            **_prompt("完成状态", f"请从下拉列表中选择：{choices}。"),
            **_error("完成状态填写有误", f"请从下拉列表中选择：{choices}。")})
        ws.data_validation(first, p, last, p, {
            "validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100,
            **_prompt("完成进度(%)", "请填写 0 到 100 之间的整数，例如 80（不要加 %）。已完成填 100。"),
            **_error("完成进度填写有误", "完成进度应为 0 到 100 之间的整数，例如 80，不要加 % 号。")})
        n = L.COLUMN_INDEX["note"]
        ws.data_validation(first, n, last, n, {"validate": "any", **_prompt(
            "进展情况", "请填写本月具体工作进展（做了什么、取得什么成效）。"
            "除“未启动”外必须填写，请勿照抄上月内容。")})
        q = L.COLUMN_INDEX["issues"]
        ws.data_validation(first, q, last, q, {"validate": "any", **_prompt(
            "存在问题", "如有困难或问题请填写；完成状态为“滞后”时请说明滞后原因。")})
        ws.autofilter(L.HEADER_ROW, 0, last, last_col)
        ws.set_selection(first, s, first, s)

    ws.freeze_panes(L.FIRST_DATA_ROW, L.COLUMN_INDEX["text"] + 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(L.HEADER_ROW)
    ws.print_area(0, 0, last, last_col)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.protect(password or "", {"format_columns": True, "format_rows": True,
                                "autofilter": True, "sort": False})


def _variants(status: Status) -> str:
    names = [k for k, v in STATUS_ALIASES.items() if v is status and k != str(status)]
    return "、".join(names)


def _write_guide(ws: Any, f: _Formats, *, plan: Plan, period: Period, unit: str, tasks: int,
                 due: date, contact: str, generated_at: datetime, password: str | None) -> None:
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, f"填报说明（{period.label}）", f.guide_title)
    ws.set_row(0, 28)
    status_lines = "\n".join(
        f"{s}：{STATUS_MEANING[s]}。" + (f"也可写作：{_variants(s)}。" if _variants(s) else "")
        for s in REPORTABLE)
    items = [
        ("填报单位", f"{unit}（共 {tasks} 项任务）"),
        ("填报期次", f"{period.label}，填写截至{period.label}底的推进情况"),
        ("报送截止", f"请于 {_date_label(due)} 前报送本表"),
        ("怎么填", "只在浅黄色单元格中填写；序号、任务内容等白色单元格已锁定，不需要也无法修改。"
                 "请不要插入、删除或调换行列，不要改动序号和任务内容。"),
        ("表头信息", "请在“填报表”上方填写填报人、联系电话和填报日期。"),
        ("完成状态", "从下拉列表中选择以下四种之一：\n" + status_lines),
        ("完成进度(%)", "填写 0 到 100 之间的整数，例如 80，不要加 % 号；已完成的任务填 100。"),
        ("进展情况", "填写本月具体做了什么、取得了什么成效。完成状态不是“未启动”时必须填写；"
                 "请在上月基础上更新，不要照抄上月内容。"),
        ("存在问题", "有困难或问题时填写；完成状态为“滞后”时必须说明原因。"),
        ("下步计划", "填写下一步的工作安排。"),
        ("上期状态、上期进展情况", "由系统按本单位本年度最近一次报送的内容预填（不是上月报送的，"
                           "在状态后注明月份），仅供参考，不需修改。"),
        ("保存和报送", "可以用 Excel、WPS 或 LibreOffice 填写，保存为 .xlsx（也可为 .xls、.ods）；"
                    "文件可以改名。请不要删除本工作簿中的任何工作表。"),
        ("联系方式", contact or "如有疑问，请联系发文单位。"),
        ("表单信息", f"{plan.title}；表单版本 {L.FORM_VERSION}；生成时间 "
                 f"{generated_at.strftime('%Y-%m-%d %H:%M')}"),
    ]
    for i, (label, text) in enumerate(items, start=2):
        ws.write_string(i, 0, label, f.guide_label)
        ws.write_string(i, 1, text, f.guide_text)
        ws.set_row(i, _row_height([(text, 90), (label, 16)]))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.protect(password or "", {"format_columns": True, "format_rows": True})


def _write_listing(path: Path, plan: Plan, period: Period, forms: list[FormFile],
                   generated_at: datetime, due: date) -> None:
    wb = new_workbook(path, title=f"{plan.title}填报表分发清单（{period.label}）",
                      created=generated_at.replace(tzinfo=None))
    head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                          "bg_color": HEAD_COLOUR, "font_name": FONT_NAME, "font_size": FONT_SIZE})
    cell = wb.add_format({"valign": "vcenter", "border": 1, "font_name": FONT_NAME,
                          "font_size": FONT_SIZE})
    num = wb.add_format({"valign": "vcenter", "align": "center", "border": 1,
                         "font_name": FONT_NAME, "font_size": FONT_SIZE})
    ws = wb.add_worksheet(LISTING_SHEET)
    rows: list[list[object]] = []
    for i, form in enumerate(forms, start=1):
        u = plan.unit(form.unit)
        rows.append([i, form.unit, str(u.kind) if u else "", form.path.name, form.tasks,
                     u.contact if u else "", u.phone if u else ""])
    ws.write_row(0, 0, LISTING_HEADERS, head)
    for r, values in enumerate(rows, start=1):
        for c, v in enumerate(values):
            if isinstance(v, int):
                ws.write_number(r, c, v, num)
            else:
                ws.write_string(r, c, str(v), cell)
    for c, h in enumerate(LISTING_HEADERS):
        ws.set_column(c, c, column_width([h, *(str(r[c]) for r in rows)], maximum=60))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(LISTING_HEADERS) - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_header(f"&C{plan.title}填报表分发清单（{period.label}，{_date_label(due)}前报送）")
    ws.set_footer("&C第 &P 页，共 &N 页")
    close_workbook(wb, path)
