"""The consolidated workbook (汇总表_PERIOD.xlsx): an xlsxwriter rendering of one Report."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from gkreport.consolidate import NEAR_DEADLINE_DAYS, substantive_issue
from gkreport.core.model import (
    COLOUR_HEX,
    MISSING_HEX,
    MISSING_TEXT_HEX,
    OVERDUE,
    REPORTABLE,
    STATUS_COLOUR,
    Colour,
    Entry,
    Status,
    SubmissionState,
)
from gkreport.core.report import FileRecord, Outcome, Report, Summary, TaskResult
from gkreport.core.text import column_width, display_width
from gkreport.core.xlsx import (
    FONT_NAME,
    FONT_SIZE,
    close_workbook,
    new_workbook,
    row_height,
    wrapped_lines,
    write_xlsx,
)

SHEET_OVERVIEW = "总览"
SHEET_TASKS = "任务汇总"
SHEET_DETAIL = "单位填报明细"
SHEET_ISSUES = "问题与建议"
SHEET_OVERDUE = "逾期滞后"
SHEET_UNITS = "报送情况"
SHEET_TREND = "历史趋势"
SHEETS = (SHEET_OVERVIEW, SHEET_TASKS, SHEET_DETAIL, SHEET_ISSUES, SHEET_OVERDUE, SHEET_UNITS,
          SHEET_TREND)

HEAD_FONT = "黑体"
MAX_CELL_CHARS = 32767  # Excel's limit; xlsxwriter would silently truncate (-2)
TRUNCATED = "…（超出 Excel 单元格长度，已截断）"

# Fills and text colours of the warning conventions; fills come from the model.
_FONT_COLOUR = {Colour.RED: "#9C0006", Colour.YELLOW: "#7F6000", Colour.BLUE: "#1F4E78",
                Colour.GREEN: "#006100"}
# Saturated versions for chart fills (pale cell fills are unreadable as chart slices), by the
# model's one status colour table; the two uncoloured statuses get two neutral greys, and
# never blue (blue means a deadline is near).
_SATURATED = {Colour.GREEN: "#70AD47", Colour.YELLOW: "#FFC000", Colour.RED: "#C00000"}
CHART_COLOUR = {**{k: _SATURATED[c] for k, c in STATUS_COLOUR.items() if c in _SATURATED},
                 Status.ON_TRACK: "#7F7F7F", Status.NOT_STARTED: "#BFBFBF",
                 SubmissionState.MISSING: "#A5A5A5"}
# Which warning colour a value in a status column carries (uncoloured values get no rule).
_STATUS_COLOUR = {k: c for k, c in STATUS_COLOUR.items() if c is not Colour.NONE}
UNUSED_ROW_NOTE = "该行未采用，见校验报告"
CARRIED = "沿用上期"  # the 来源文件 of a report carried from an earlier period


@dataclass(frozen=True, slots=True)
class Col:
    """A table column: header, cell style and the widest it may grow."""

    header: str
    kind: str = "text"  # text | wrap | center | number | percent (a share, 0–1) | date
    max_width: int = 30


Cell = str | int | float | date | None


def write_workbook(report: Report, path: Path) -> Path:
    """Write the consolidated workbook for a Report, atomically; return its path."""
    import gc

    # Hundreds of thousands of small cell objects, none cyclic: the collector's passes
    # over them cost a tenth of the time on a big month.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _write_workbook(report, path)
    finally:
        if enabled:
            gc.enable()


def _write_workbook(report: Report, path: Path) -> Path:
    title = f"{report.plan.title}推进情况汇总（截至{report.period.label}）"

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, title=title, created=datetime.combine(report.period.end, time(18)),
                          subject=f"{report.period} 期汇总", keywords="政务公开;推进情况;汇总",
                          comments=f"计划指纹 {report.plan.fingerprint}")
        book = Book(wb, title, report.period.label)
        _overview(book, report, report.summary, title)
        _tasks(book, report)
        _detail(book, report)
        _issues(book, report)
        _overdue(book, report)
        _units(book, report)
        _trend(book, report)
        close_workbook(wb, tmp)

    return write_xlsx(path, build)


class Book:
    """The workbook with its formats, each created once."""

    def __init__(self, wb: Any, title: str, label: str) -> None:
        self.wb = wb
        self.title = title
        self.label = label
        body = {"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "vcenter", "border": 1}
        self.fmt = {
            "text": wb.add_format(body),
            "wrap": wb.add_format({**body, "text_wrap": True}),
            "center": wb.add_format({**body, "align": "center", "text_wrap": True}),
            "number": wb.add_format({**body, "align": "center", "num_format": "0"}),
            "progress": wb.add_format({**body, "align": "center", "num_format": "0.0"}),
            "percent": wb.add_format({**body, "align": "center", "num_format": "0.0%"}),
            "date": wb.add_format({**body, "align": "center", "num_format": "yyyy-mm-dd"}),
            "head": wb.add_format({**body, "font_name": HEAD_FONT, "bold": True, "align": "center",
                                   "text_wrap": True, "bg_color": "#D9E1F2"}),
            "section": wb.add_format({**body, "font_name": HEAD_FONT, "bold": True,
                                      "bg_color": "#F2F2F2"}),
            "title": wb.add_format({"font_name": HEAD_FONT, "font_size": 16, "bold": True,
                                    "align": "center", "valign": "vcenter"}),
            "subtitle": wb.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE,
                                       "align": "center", "valign": "vcenter"}),
        }
        # Conditional formats (dxf): fill + text colour per warning colour.
        self.warn = {c: wb.add_format({"font_name": FONT_NAME, "bg_color": COLOUR_HEX[c],
                                       "font_color": _FONT_COLOUR[c]})
                     for c in (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.GREEN)}
        self.missing = wb.add_format({"font_name": FONT_NAME, "bg_color": MISSING_HEX,
                                      "font_color": MISSING_TEXT_HEX})
        self.red_text = wb.add_format({"font_name": FONT_NAME, "font_color": MISSING_TEXT_HEX,
                                       "bold": True})

    def sheet(self, name: str) -> Any:
        """A worksheet with the common print set-up: A4 landscape, 1 page wide, page numbers."""
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        ws.set_header(f"&L{_amp(self.title)}&R{_amp(name)}")
        ws.set_footer("&C&P / &N")
        return ws

    def cell(self, ws: Any, r: int, c: int, value: Cell, kind: str = "text") -> None:
        """Write one value by its Python type; text always as a string, never a formula."""
        fmt = self.fmt["date" if isinstance(value, date) else kind]
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(r, c, "是" if value else "否", fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, self.fmt["number" if not isinstance(value, float) else
                                                  "percent" if kind == "percent" else "progress"])
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime.combine(value, time()), fmt)
        else:
            ws.write_string(r, c, _fit(str(value)), fmt)

    def table(self, ws: Any, cols: Sequence[Col], rows: Sequence[Sequence[Cell]],
              top: int = 0) -> tuple[int, int]:
        """Header + rows with widths, frozen header, filter and repeated header; data row span."""
        # Each distinct text is measured once per column (task texts, unit names and statuses
        # repeat on every row of a big month); the widths size the columns, then the rows.
        shown = [values if all(type(v) is str for v in values) else [_shown(v) for v in values]
                 for values in (zip(*rows, strict=True) if rows else [() for _ in cols])]
        measured = [{text: _line_widths(text) for text in set(texts)} for texts in shown]
        head = [_line_widths(c.header) for c in cols]
        widths = [_column_width([head[c], *measured[c].values()], col.max_width)
                  for c, col in enumerate(cols)]
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.write_row(top, 0, [c.header for c in cols], self.fmt["head"])
        ws.set_row(top, _row_height(head, widths))
        fmts = [self.fmt[col.kind] for col in cols]
        write_string, set_row = ws.write_string, ws.set_row
        heights = _row_heights(shown, measured, widths, len(rows))
        for r, row in enumerate(rows, start=top + 1):
            for c, (col, value) in enumerate(zip(cols, row, strict=True)):
                if type(value) is str and value:  # most cells: text, written directly
                    write_string(r, c, _fit(value), fmts[c])
                else:
                    self.cell(ws, r, c, value, col.kind)
            set_row(r, heights[r - top - 1])
        last = top + len(rows)
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, last, len(cols) - 1)
        ws.repeat_rows(top)
        return top + 1, last

    def status_rules(self, ws: Any, first: int, last: int, c1: int, c2: int | None = None) -> None:
        """Warning colours on a status column: green done, yellow behind, grey/red missing."""
        if last < first:
            return
        c2 = c1 if c2 is None else c2
        for value, colour in _STATUS_COLOUR.items():
            ws.conditional_format(first, c1, last, c2, {
                "type": "cell", "criteria": "==", "value": f'"{value}"',
                "format": self.warn[colour]})
        ws.conditional_format(first, c1, last, c2, {
            "type": "cell", "criteria": "==", "value": f'"{Status.MISSING.value}"',
            "format": self.missing})

    def flag_rule(self, ws: Any, first: int, last: int, c: int, formula: str,
                  colour: Colour) -> None:
        """Colour a column where a row-wise formula holds (first data row in the formula)."""
        if last >= first:
            ws.conditional_format(first, c, last, c, {
                "type": "formula", "criteria": formula, "format": self.warn[colour],
                "stop_if_true": True})

    def progress_bar(self, ws: Any, first: int, last: int, c: int) -> None:
        """A data bar on a 0–100 progress column."""
        if last >= first:
            ws.conditional_format(first, c, last, c, {
                "type": "data_bar", "bar_color": "#63BE7B", "bar_solid": True,
                "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 100})


def _amp(text: str) -> str:
    return text.replace("&", "&&")


def _fit(text: str) -> str:
    if len(text) <= MAX_CELL_CHARS:
        return text
    return text[: MAX_CELL_CHARS - len(TRUNCATED)] + TRUNCATED


@functools.lru_cache(maxsize=1 << 16)
def _line_widths(text: str) -> tuple[int, ...]:
    """Display width of each line of a cell's text (cached: task texts, unit names and
    statuses repeat on every row of a big month)."""
    return tuple(display_width(line) for line in text.splitlines()) or (0,)


def _column_width(cells: Sequence[tuple[int, ...]], maximum: float) -> float:
    """As `text.column_width`, from widths already measured."""
    widest = max((w for lines in cells for w in lines), default=0)
    return float(min(max(widest + 2, 6), maximum))


def _row_height(cells: Sequence[tuple[int, ...]], widths: Sequence[float]) -> float:
    return row_height(max(wrapped_lines(w, width) for w, width in zip(cells, widths, strict=True)))


def _row_heights(shown: Sequence[Sequence[str]], measured: Sequence[dict[str, tuple[int, ...]]],
                 widths: Sequence[float], n: int) -> list[float]:
    """Each data row's height, as `_row_height` gives it: only the columns where some text
    wraps are looked at, each distinct text's line count worked out once."""
    lines = [1] * n
    for texts, sizes, width in zip(shown, measured, widths, strict=True):
        need = {text: wrapped_lines(w, width) for text, w in sizes.items()}
        if max(need.values(), default=1) <= 1:
            continue  # everything in this column fits on one line
        for r, text in enumerate(texts):
            if need[text] > lines[r]:
                lines[r] = need[text]
    return [row_height(k) for k in lines]


def _shown(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def col_index(cols: Sequence[Col], header: str) -> int:
    """The index of the column with this header."""
    return next(i for i, c in enumerate(cols) if c.header == header)


def column_letter(c: int) -> str:
    from gkreport.core.problems import a1

    return a1(0, c)[:-1]


# --- 总览 -------------------------------------------------------------------------------------

def _overview(book: Book, report: Report, summary: Summary, title: str) -> None:
    ws = book.sheet(SHEET_OVERVIEW)
    f = book.fmt
    ws.merge_range(0, 0, 0, 9, title, f["title"])
    ws.set_row(0, 30)
    due = f"　报送截止：{report.due.isoformat()}" if report.due else ""
    ws.merge_range(1, 0, 1, 9, f"期次：{report.period}　截至：{report.period.end.isoformat()}{due}",
                   f["subtitle"])
    tasks, units, files, rows = summary.tasks, summary.units, summary.files, summary.rows
    problems = summary.problems
    figures: list[tuple[str, Cell]] = [
        ("任务推进情况", None), ("任务总数", tasks.total),
        *((s.value, tasks.by_status[s]) for s in REPORTABLE),
        ("其中：逾期", tasks.overdue),
        # the memo's figures for blue and 待核实, from the same summary
        (f"其中：{NEAR_DEADLINE_DAYS}日内到期", len(summary.near_deadline)),
        ("有待核实填报的任务", summary.unverified_tasks),
        ("待核实填报（条）", summary.unverified_reports),
        ("单位报送情况", None), ("应报单位数", units.expected),
        (SubmissionState.SUBMITTED, units.submitted),
        (SubmissionState.MISSING, len(units.missing)),
        ("已报送但需修改", len(units.needs_fix)),
        ("其中：按时报送", len(units.on_time)), ("其中：逾期报送", len(units.late)),
        ("被退回修改的单位", len(units.returned)),
        # the terminal's and the check report's words for the same reconciliation
        ("文件与数据行核对", None), ("文件：发现", files.found), ("文件：读取", files.read),
        ("文件：拒收", files.refused), ("文件：跳过", files.skipped),
        ("文件：佐证材料", files.evidence),
        ("数据行：读取", rows.read), ("数据行：采用", rows.merged),
        ("数据行：未采用（见校验报告）", rows.rejected),
        ("沿用上期的填报（条）", rows.carried),
        ("数据行：读取 = 采用 + 未采用",
         "一致" if rows.read == rows.merged + rows.rejected else "不一致"),
        ("校验问题", None), ("错误", problems.errors), ("警告", problems.warnings),
    ]
    top = 3
    ws.write_row(top, 0, ["指标", "数值"], f["head"])
    where: dict[str, int] = {}
    for r, (label, value) in enumerate(figures, start=top + 1):
        if value is None:
            ws.merge_range(r, 0, r, 1, label, f["section"])
            continue
        where.setdefault(label, r)
        ws.write_string(r, 0, label, f["text"])
        book.cell(ws, r, 1, value, "number" if isinstance(value, int) else "center")
    ws.set_column(0, 0, column_width([label for label, _ in figures], maximum=30))
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 3)
    missing_row = where[SubmissionState.MISSING]
    ws.conditional_format(missing_row, 1, missing_row, 1, {
        "type": "cell", "criteria": ">", "value": 0, "format": book.red_text})

    # Breakdown by 一级指标, read by the stacked bar chart.
    cats = summary.tasks.by_category
    heads = ["一级指标", "任务数", *(s.value for s in REPORTABLE), OVERDUE]
    ws.write_row(top, 3, heads, f["head"])

    def numbers(total: int, by_status: dict[Status, int], overdue: int) -> list[int]:
        return [total, *(by_status[s] for s in REPORTABLE), overdue]

    for r, c in enumerate(cats, start=top + 1):
        ws.write_string(r, 3, c.name, f["wrap"])
        ws.write_row(r, 4, numbers(c.total, c.by_status, c.overdue), f["number"])
    total_row = top + 1 + len(cats)
    ws.write_string(total_row, 3, "合计", f["section"])
    ws.write_row(total_row, 4, numbers(tasks.total, tasks.by_status, tasks.overdue), f["number"])
    ws.set_column(3, 3, column_width(heads[:1] + [c.name for c in cats], maximum=28))
    ws.set_column(4, 4 + len(heads) - 2, 10)
    overdue_col = 4 + len(heads) - 2
    ws.conditional_format(top + 1, overdue_col, total_row, overdue_col, {
        "type": "cell", "criteria": ">", "value": 0, "format": book.warn[Colour.RED]})

    largest = max((c.total for c in cats), default=0)
    _charts(book, ws, where, top, len(cats), largest, total_row + 2)
    ws.freeze_panes(top + 1, 0)
    ws.repeat_rows(top)
    ws.hide_gridlines(2)


def chart_font(size: int = 9, bold: bool = False) -> dict[str, Any]:
    return {"name": FONT_NAME, "size": size, "bold": bold}


def _charts(book: Book, ws: Any, where: dict[str, int], top: int, n_cats: int,
            largest: int, anchor: int) -> None:
    """Native charts reading the cells above: status doughnut, units pie, category bars."""
    name = SHEET_OVERVIEW
    first = where[Status.DONE.value]
    last = first + len(REPORTABLE) - 1
    doughnut = book.wb.add_chart({"type": "doughnut"})
    doughnut.add_series({
        "name": "任务状态", "categories": [name, first, 0, last, 0],
        "values": [name, first, 1, last, 1],
        "points": [{"fill": {"color": CHART_COLOUR[s]}} for s in REPORTABLE],
        "data_labels": {"value": True, "font": chart_font()},
    })
    doughnut.set_title({"name": "任务推进状态", "name_font": chart_font(11, True)})
    doughnut.set_legend({"position": "right", "font": chart_font()})
    doughnut.set_hole_size(50)
    ws.insert_chart(anchor, 3, doughnut, {"x_scale": 1.0, "y_scale": 1.0})

    sub = where[SubmissionState.SUBMITTED]
    pie = book.wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": "单位报送", "categories": [name, sub, 0, sub + 1, 0],
        "values": [name, sub, 1, sub + 1, 1],
        "points": [{"fill": {"color": CHART_COLOUR[SubmissionState.SUBMITTED]}},
                   {"fill": {"color": CHART_COLOUR[SubmissionState.MISSING]}}],
        "data_labels": {"value": True, "category": True, "font": chart_font()},
    })
    pie.set_title({"name": "单位报送情况", "name_font": chart_font(11, True)})
    pie.set_legend({"position": "right", "font": chart_font()})
    ws.insert_chart(anchor, 3, pie, {"x_offset": 500})

    bar = book.wb.add_chart({"type": "bar", "subtype": "stacked"})
    step = max(1, math.ceil(largest / 10))  # whole tasks, at most ~10 gridlines
    c_first, c_last = top + 1, top + n_cats
    for i, s in enumerate(REPORTABLE, start=5):
        bar.add_series({
            "name": [name, top, i], "categories": [name, c_first, 3, c_last, 3],
            "values": [name, c_first, i, c_last, i],
            "fill": {"color": CHART_COLOUR[s]}, "gap": 60,
        })
    bar.set_title({"name": "各一级指标任务状态", "name_font": chart_font(11, True)})
    bar.set_legend({"position": "bottom", "font": chart_font()})
    # Bar charts swap axes: x is the value axis, y the categories (first category on top).
    bar.set_x_axis({"num_font": chart_font(), "major_gridlines": {"visible": True},
                    "min": 0, "major_unit": step, "num_format": "0"})
    bar.set_y_axis({"num_font": chart_font(), "reverse": True, "crossing": "max"})
    ws.insert_chart(anchor + 16, 3, bar, {"x_scale": 2.05, "y_scale": 1.2})


# --- 任务汇总 -----------------------------------------------------------------------------------

TASK_COLS = (
    Col("序号", "number", 6), Col("一级指标", "wrap", 16), Col("任务内容", "wrap", 44),
    Col("责任单位（牵头）", "wrap", 22), Col("时间节点", "center", 10), Col("截止日期", "center", 12),
    Col("应报单位数", "number", 8), Col("已报单位数", "number", 8), Col("已完成单位数", "number", 8),
    Col("滞后单位数", "number", 8), Col("未报送单位数", "number", 8), Col("任务状态", "center", 12),
    Col("预警", "center", 6), Col("逾期", "center", 6), Col("平均进度", "number", 10),
    Col("上月状态", "center", 12), Col("变化", "center", 22),
    Col("沿用上期单位数", "number", 8),
)


def _task_row(t: TaskResult) -> list[Cell]:
    return [t.task.no, t.task.category, t.task.text, t.task.units_text, t.task.deadline.text,
            t.task.deadline.date or "无", t.expected, t.reported, t.done, t.behind, t.missing,
            t.status.value, t.colour.value, t.overdue,
            None if t.avg_progress is None else float(t.avg_progress),
            t.previous_status.value if t.previous_status else "", t.change,
            len(t.carried_units)]


def previous_header(report: Report) -> str:
    """上月状态, or 上期状态（2025-04） when the previous period is not the month before."""
    prev = report.previous_period
    if prev is None or prev == report.period.previous:
        return "上月状态"
    return f"上期状态（{prev}）"


def _tasks(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_TASKS)
    header = previous_header(report)
    cols = tuple(Col(header, c.kind, max(c.max_width, display_width(header) + 2))
                 if c.header == "上月状态" else c for c in TASK_COLS)
    first, last = book.table(ws, cols, [_task_row(t) for t in report.tasks])
    status, warn, late = (col_index(cols, h) for h in ("任务状态", "预警", "逾期"))
    is_late = f'=${column_letter(late)}{first + 1}="是"'
    book.flag_rule(ws, first, last, status, is_late, Colour.RED)
    book.status_rules(ws, first, last, status)
    book.status_rules(ws, first, last, col_index(cols, header))
    for colour in (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.GREEN):
        ws.conditional_format(first, warn, last, warn, {
            "type": "cell", "criteria": "==", "value": f'"{colour.value}"',
            "format": book.warn[colour]})
    ws.conditional_format(first, late, last, late, {
        "type": "cell", "criteria": "==", "value": '"是"', "format": book.warn[Colour.RED]})
    deadline = col_index(cols, "截止日期")
    book.flag_rule(ws, first, last, deadline, is_late, Colour.RED)
    book.flag_rule(ws, first, last, deadline, f'=${column_letter(warn)}{first + 1}="{Colour.BLUE.value}"',
                   Colour.BLUE)
    book.progress_bar(ws, first, last, col_index(cols, "平均进度"))


# --- 单位填报明细 -------------------------------------------------------------------------------

DETAIL_COLS = (
    Col("序号", "number", 6), Col("任务内容", "wrap", 36), Col("单位", "wrap", 18),
    Col("完成状态", "center", 10), Col("原填状态", "center", 10), Col("完成进度", "number", 9),
    Col("进展情况", "wrap", 40), Col("存在问题", "wrap", 26), Col("下步计划", "wrap", 26),
    Col("来源文件", "wrap", 22), Col("工作表", "center", 10), Col("单元格", "center", 8),
)


def _unused_row(report: Report, no: int, unit: str) -> Entry:
    """A stand-in 待核实 entry: the unit's form was used, but not its row for this task."""
    file = next((s.file for s in report.submissions if s.unit == unit and s.accepted),
                next((u.file for u in report.units if u.unit.name == unit), ""))
    return Entry(task_no=no, unit=unit, status=Status.UNVERIFIED, raw_status="",
                 progress=None, note=UNUSED_ROW_NOTE, issues="", next_steps="", file=file,
                 sheet="", row=0, cell="")


def detail_rows(report: Report) -> list[tuple[int, str, Entry | None]]:
    """(task no, unit, entry or None for 未报送) per task x unit, in plan and unit order.

    A unit whose form was accepted but whose row for the task was not gets a stand-in
    待核实 entry naming its file, with the note UNUSED_ROW_NOTE (row 0, no cell).
    """
    by_task = dict(report.entries_of_task)
    out: list[tuple[int, str, Entry | None]] = []
    for t in report.tasks:
        entries = {e.unit: e for e in by_task.pop(t.task.no, [])}
        entries |= {u: _unused_row(report, t.task.no, u) for u in t.unverified_units
                    if u not in entries}
        missing = set(t.missing_units)
        for unit in t.task.expected_units:
            if unit in entries:
                out.append((t.task.no, unit, entries.pop(unit)))
            elif unit in missing:
                missing.discard(unit)
                out.append((t.task.no, unit, None))
        out.extend((t.task.no, u, e) for u, e in entries.items())  # open tasks: any unit
        out.extend((t.task.no, u, None) for u in t.missing_units if u in missing)
    # Entries for a task the Report does not list: still shown, nothing is lost.
    out.extend((no, e.unit, e) for no, es in by_task.items() for e in es)
    return out


def _task_text(report: Report, no: int, entry: Entry | None) -> str:
    task = report.plan.task(no)
    return task.text if task else (entry.task_text if entry else "")


def _detail(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_DETAIL)
    rows: list[list[Cell]] = []
    for no, unit, e in detail_rows(report):
        text = _task_text(report, no, e)
        if e is None:
            rows.append([no, text, unit, Status.MISSING.value, *[""] * 8])
        else:
            # a carried report names where it came from instead of a file of this period
            source = (f"{CARRIED}（{e.carried_from}）", "", "") if e.carried_from else \
                (e.file, e.sheet, e.cell)
            rows.append([no, text, unit, e.status.value, e.raw_status,
                         None if e.progress is None else float(e.progress), e.note, e.issues,
                         e.next_steps, *source])
    cols = DETAIL_COLS
    first, last = book.table(ws, cols, rows)
    book.status_rules(ws, first, last, col_index(cols, "完成状态"))
    book.progress_bar(ws, first, last, col_index(cols, "完成进度"))


# --- 问题与建议, 逾期滞后 -----------------------------------------------------------------------

def _issues(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_ISSUES)
    cols = (Col("序号", "number", 6), Col("任务内容", "wrap", 40), Col("单位", "wrap", 18),
            Col("完成状态", "center", 10), Col("存在问题", "wrap", 44), Col("下步计划", "wrap", 44))
    rows: list[list[Cell]] = [
        [no, _task_text(report, no, e), unit, e.status.value, e.issues, e.next_steps]
        for no, unit, e in detail_rows(report) if e is not None and substantive_issue(e.issues)]
    first, last = book.table(ws, cols, rows)
    book.status_rules(ws, first, last, col_index(cols, "完成状态"))


def _joined(lines: Iterable[str]) -> str:
    return "\n".join(lines)


def _overdue(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_OVERDUE)
    cols = (Col("序号", "number", 6), Col("一级指标", "wrap", 14), Col("任务内容", "wrap", 36),
            Col("责任单位（牵头）", "wrap", 18), Col("截止日期", "center", 12),
            Col("任务状态", "center", 10), Col("逾期", "center", 6), Col("滞后单位", "wrap", 20),
            Col("未完成单位", "wrap", 20), Col("未报送单位", "wrap", 24),
            Col("原因（单位填报的存在问题）", "wrap", 44))
    rows: list[list[Cell]] = []
    for t in report.tasks:
        if not (t.overdue or t.status is Status.BEHIND):
            continue
        mine = report.entries_of_task.get(t.task.no, ())
        reasons = _joined(f"{e.unit}：{e.issues.strip()}" for e in mine
                          if substantive_issue(e.issues) and e.status is not Status.DONE)
        waits = t.late_units()
        rows.append([t.task.no, t.task.category, t.task.text, t.task.units_text,
                     t.task.deadline.date or "无", t.status.value, t.overdue,
                     *("、".join(units) for units in waits.values()), reasons])
    first, last = book.table(ws, cols, rows)
    late = col_index(cols, "逾期")
    book.flag_rule(ws, first, last, col_index(cols, "任务状态"), f'=${column_letter(late)}{first + 1}="是"',
                   Colour.RED)
    book.status_rules(ws, first, last, col_index(cols, "任务状态"))
    ws.conditional_format(first, late, last, late, {
        "type": "cell", "criteria": "==", "value": '"是"', "format": book.warn[Colour.RED]})


# --- 报送情况, 历史趋势 -------------------------------------------------------------------------

def _files(files: Iterable[FileRecord], evidence: bool) -> str:
    """A unit's files of the period, one a line: name, received, what became of it."""
    return "\n".join(f"{f.name}（{f.received:%m-%d %H:%M}，{f.outcome.value}"
                     + (f"，错误{f.errors}处" if f.errors else "") + "）"
                     for f in files if (f.outcome is Outcome.EVIDENCE) == evidence)


def _units(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_UNITS)
    cols = (Col("单位", "wrap", 20), Col("类别", "center", 12), Col("状态", "center", 10),
            Col("文件", "wrap", 30), Col("任务数", "number", 8), Col("错误", "number", 6),
            Col("警告", "number", 6), Col("联系人", "text", 12), Col("联系电话", "text", 16),
            Col("首次报送时间", "center", 17), Col("截止日期", "center", 12),
            Col("报送时效", "center", 10), Col("退回修改次数", "number", 8),
            Col("全部报送文件", "wrap", 44), Col("佐证材料", "wrap", 36))
    rows: list[list[Cell]] = [
        [u.unit.name, u.unit.kind.value, u.state, u.file, u.tasks, u.errors, u.warnings,
         u.unit.contact, u.unit.phone,
         f"{u.received:%Y-%m-%d %H:%M}" if u.received else "", report.due or "",
         u.timeliness, u.rounds, _files(u.files, False), _files(u.files, True)]
        for u in report.units]
    first, last = book.table(ws, cols, rows)
    book.status_rules(ws, first, last, col_index(cols, "状态"))
    errors = col_index(cols, "错误")
    timely = col_index(cols, "报送时效")
    if last >= first:
        ws.conditional_format(first, errors, last, errors, {
            "type": "cell", "criteria": ">", "value": 0, "format": book.red_text})
        ws.conditional_format(first, timely, last, timely, {
            "type": "text", "criteria": "begins with", "value": OVERDUE,
            "format": book.warn[Colour.RED]})
        ws.conditional_format(first, timely, last, timely, {
            "type": "cell", "criteria": "==", "value": f'"{SubmissionState.MISSING.value}"',
            "format": book.missing})


def _trend(book: Book, report: Report) -> None:
    ws = book.sheet(SHEET_TREND)
    periods = report.trend_periods or (report.period,)
    cols = (Col("序号", "number", 6), Col("一级指标", "wrap", 14), Col("任务内容", "wrap", 40),
            *(Col(str(p), "center", 12) for p in periods), Col("变动", "wrap", 16))
    rows: list[list[Cell]] = []
    for r in report.trend:
        change = (f"{r.added}起新增" if r.added else
                  f"{r.removed}起已从计划中取消" if r.removed else "")
        rows.append([r.no, r.category, r.text, *(str(r.statuses.get(p, "")) for p in periods),
                     change])
    first, last = book.table(ws, cols, rows)
    ws.freeze_panes(first, 3)
    book.status_rules(ws, first, last, 3, 3 + len(periods) - 1)
