"""The review workbook (年度汇总_<range>.xlsx): an xlsxwriter rendering of one Review, on the
monthly workbook's conventions (render.workbook.Book: formats, tables, status colours, print
set-up)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

from gkreport.core.model import OVERDUE, REPORTABLE, Colour, SubmissionState
from gkreport.core.text import column_width
from gkreport.core.xlsx import FONT_NAME, FONT_SIZE, close_workbook, new_workbook, write_xlsx
from gkreport.render.workbook import (
    CHART_COLOUR,
    Book,
    Cell,
    Col,
    chart_font,
    col_index,
    column_letter,
)
from gkreport.review.model import Review

SHEET_OVERVIEW = "总览"
SHEET_TASKS = "任务完成情况"
SHEET_UNITS = "单位考核"
SHEET_SUBMISSIONS = "报送明细"
SHEETS = (SHEET_OVERVIEW, SHEET_TASKS, SHEET_UNITS, SHEET_SUBMISSIONS)
ON_TIME_HEX = "#4472C4"  # the on-time rate's line: a series, not a status


def workbook_name(review: Review) -> str:
    return f"年度汇总_{review.span.label}.xlsx"


def write_review_workbook(review: Review, path: Path) -> Path:
    """Write the review workbook atomically; return its path."""
    title = review.title

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, title=title,
                          created=datetime.combine(review.last.end, time(18)),
                          subject=f"{review.span.words}推进情况汇总",
                          keywords="政务公开;推进情况;年度汇总;考核",
                          comments="计划指纹 " + "、".join(v.fingerprint for v in review.versions))
        book = Book(wb, title, review.span.words)
        _overview(book, review)
        _tasks(book, review)
        _units(book, review)
        _submissions(book, review)
        close_workbook(wb, tmp)

    return write_xlsx(path, build)


def figures(review: Review) -> list[tuple[str, Cell]]:
    """总览's key figures (label, value; None: a section heading), from Review.totals as the
    memo's sentences are."""
    t = review.totals
    gaps = "、".join(str(p) for p in review.gaps) or "无"
    return [
        ("任务完成情况", None), ("任务总数（时段末）", t.tasks),
        *((s.value, n) for s, n in t.by_status.items()), (f"其中：{OVERDUE}", t.overdue),
        ("本时段内完成", t.done_in_span), ("此前已完成", t.done_before),
        ("按期完成", t.done_on_time), ("完成后又改报未完成", t.reverted),
        ("时段内新增任务", t.added), ("时段内取消任务", t.removed),
        ("单位报送情况", None), ("应报单位数", t.units), ("应报期次（单位×期）", t.expected),
        ("已报送", t.submitted), ("按时报送", t.on_time), ("逾期报送", t.late),
        (SubmissionState.MISSING.value, t.missing), ("退回修改（轮）", t.returned),
        ("一次通过（期）", t.first_pass),
        ("按时报送率", t.on_time / t.expected if t.expected else 0.0),
        ("一次通过率", t.first_pass / t.submitted if t.submitted else 0.0),
        ("期次与计划", None), ("已汇总期数", len(review.periods)),
        ("首个期次", str(review.periods[0])), ("最后期次", str(review.last)),
        ("其间未汇总的月份", gaps), ("计划版本数", len(review.versions)),
    ]


def _cell_rule(book: Book, ws: Any, span: tuple[int, int, int, int], criteria: str,
               value: object, fmt: Any) -> None:
    """One conditional format over rows first..last, columns c1..c2 (none when no rows)."""
    first, c1, last, c2 = span
    if last >= first:
        kind = "text" if criteria == "begins with" else "cell"
        ws.conditional_format(first, c1, last, c2, {"type": kind, "criteria": criteria,
                                                    "value": value, "format": fmt})


# --- 总览 -------------------------------------------------------------------------------------

PERIOD_HEADS = ("期次", *(s.value for s in REPORTABLE), OVERDUE, "应报单位", "已报送",
                "按时报送", "逾期报送", SubmissionState.MISSING.value, "退回轮次", "按时报送率")


def _overview(book: Book, review: Review) -> None:
    ws = book.sheet(SHEET_OVERVIEW)
    f = book.fmt
    width = len(PERIOD_HEADS) + 3
    ws.merge_range(0, 0, 0, width - 1, review.title, f["title"])
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, width - 1, f"时段：{review.span.words}（{review.span.start}至"
                   f"{review.span.end}）　{review.coverage}　计划版本：{len(review.versions)}个",
                   f["subtitle"])
    top = 3
    rows = figures(review)
    ws.write_row(top, 0, ["指标", "数值"], f["head"])
    for r, (label, value) in enumerate(rows, start=top + 1):
        if value is None:
            ws.merge_range(r, 0, r, 1, label, f["section"])
        else:
            ws.write_string(r, 0, label, f["text"])
            book.cell(ws, r, 1, value, "percent" if isinstance(value, float) else
                      "number" if isinstance(value, int) else "center")
    ws.set_column(0, 0, column_width([label for label, _ in rows], maximum=30))
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 3)
    last = _periods_table(book, ws, review, top)
    after = _versions_table(book, ws, review, last + 2)
    _charts(book, ws, top, len(review.by_period), max(after, top + len(rows)) + 2)
    ws.freeze_panes(top + 1, 0)
    ws.repeat_rows(top)
    ws.hide_gridlines(2)


def _periods_table(book: Book, ws: Any, review: Review, top: int) -> int:
    """Each period's task statuses and submissions, read by the charts; its last row."""
    f = book.fmt
    ws.write_row(top, 3, PERIOD_HEADS, f["head"])
    for r, p in enumerate(review.by_period, start=top + 1):
        ws.write_string(r, 3, str(p.period), f["center"])
        ws.write_row(r, 4, [*(p.by_status[s] for s in REPORTABLE), p.overdue, p.expected,
                            p.submitted, p.on_time, p.late, p.missing, p.returned],
                     f["number"])
        ws.write_number(r, 3 + len(PERIOD_HEADS) - 1, p.on_time / p.expected if p.expected
                        else 0.0, f["percent"])
    ws.set_column(3, 3, 18)  # 期次, and the plan versions' fingerprints below
    ws.set_column(4, 3 + len(PERIOD_HEADS) - 1, 9)
    last = top + len(review.by_period)
    overdue = 4 + len(REPORTABLE)
    _cell_rule(book, ws, (top + 1, overdue, last, overdue), ">", 0, book.warn[Colour.RED])
    missing = PERIOD_HEADS.index(SubmissionState.MISSING.value) + 3
    _cell_rule(book, ws, (top + 1, missing, last, missing), ">", 0, book.missing)
    return last


def _versions_table(book: Book, ws: Any, review: Review, top: int) -> int:
    """The plan versions the span's periods used; its last row."""
    f = book.fmt
    ws.write_row(top, 3, ["计划版本", "起", "止", "任务数", "新增任务", "取消任务"], f["head"])
    # 第N版 for the leaders; the fingerprints are in the file's properties (备注)
    for r, v in enumerate(review.versions, start=top + 1):
        ws.write_string(r, 3, f"第{r - top}版", f["center"])
        ws.write_string(r, 4, str(v.first), f["center"])
        ws.write_string(r, 5, str(v.last), f["center"])
        ws.write_row(r, 6, [v.tasks, v.added, v.removed], f["number"])
    return top + len(review.versions)


def _charts(book: Book, ws: Any, top: int, n: int, anchor: int) -> None:
    """Native charts reading the periods table: task statuses per period (stacked columns)
    and the on-time rate per period (a line)."""
    name, first, last = SHEET_OVERVIEW, top + 1, top + n
    columns = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    for i, s in enumerate(REPORTABLE, start=4):
        columns.add_series({"name": [name, top, i], "categories": [name, first, 3, last, 3],
                            "values": [name, first, i, last, i],
                            "fill": {"color": CHART_COLOUR[s]}, "gap": 60})
    columns.set_title({"name": "各期任务状态", "name_font": chart_font(11, True)})
    columns.set_legend({"position": "bottom", "font": chart_font()})
    columns.set_x_axis({"num_font": chart_font()})
    columns.set_y_axis({"num_font": chart_font(), "min": 0, "num_format": "0",
                        "major_gridlines": {"visible": True}})
    ws.insert_chart(anchor, 3, columns, {"x_scale": 1.2, "y_scale": 1.1})

    rate = 3 + len(PERIOD_HEADS) - 1
    line = book.wb.add_chart({"type": "line"})
    line.add_series({"name": [name, top, rate], "categories": [name, first, 3, last, 3],
                     "values": [name, first, rate, last, rate],
                     "line": {"color": ON_TIME_HEX, "width": 2.25},
                     "marker": {"type": "circle", "size": 6,
                                "fill": {"color": ON_TIME_HEX}, "border": {"color": ON_TIME_HEX}},
                     "data_labels": {"value": True, "num_format": "0%", "position": "above",
                                     "font": chart_font(8)}})
    line.set_title({"name": "各期按时报送率", "name_font": chart_font(11, True)})
    line.set_legend({"none": True})
    line.set_x_axis({"num_font": chart_font()})
    line.set_y_axis({"num_font": chart_font(), "min": 0, "max": 1, "major_unit": 0.2,
                     "num_format": "0%", "major_gridlines": {"visible": True}})
    ws.insert_chart(anchor, 3, line, {"x_offset": 590, "x_scale": 1.0, "y_scale": 1.1})


# --- 任务完成情况 -------------------------------------------------------------------------------

def _tasks(book: Book, review: Review) -> None:
    ws = book.sheet(SHEET_TASKS)
    periods = review.periods
    cols = (Col("序号", "number", 6), Col("一级指标", "wrap", 14), Col("任务内容", "wrap", 40),
            Col("时间节点", "center", 10), Col("截止日期", "center", 12),
            Col("最终状态", "center", 10), Col(OVERDUE, "center", 6),
            Col("首次完成期次", "center", 10), Col("按期完成", "center", 8),
            Col("未完成单位", "wrap", 24),
            *(Col(str(p), "center", 10) for p in periods), Col("变动", "wrap", 16))
    rows: list[list[Cell]] = []
    for t in review.tasks:
        change = (f"{t.added}起新增" if t.added else
                  f"{t.removed}起已从计划中取消" if t.removed else
                  f"原序号{t.last_no}，已从现行计划中取消" if t.no is None else "")
        on_time = "" if t.on_time is None else "是" if t.on_time else "否"
        rows.append([t.no, t.category, t.text, t.deadline_text, t.deadline or "无",
                     t.status.value, t.overdue, str(t.completed_in or ""), on_time,
                     "、".join(u.unit for u in t.open_units),
                     *(s.value if s else "" for s in t.statuses), change])
    first, last = book.table(ws, cols, rows)
    ws.freeze_panes(first, 3)
    status, late, timely = (col_index(cols, h) for h in ("最终状态", OVERDUE, "按期完成"))
    book.flag_rule(ws, first, last, status, f'=${column_letter(late)}{first + 1}="是"',
                   Colour.RED)
    book.status_rules(ws, first, last, status)
    grid = col_index(cols, str(periods[0]))
    book.status_rules(ws, first, last, grid, grid + len(periods) - 1)
    _cell_rule(book, ws, (first, late, last, late), "==", '"是"', book.warn[Colour.RED])
    _cell_rule(book, ws, (first, timely, last, timely), "==", '"是"', book.warn[Colour.GREEN])
    _cell_rule(book, ws, (first, timely, last, timely), "==", '"否"', book.warn[Colour.RED])


# --- 单位考核 -----------------------------------------------------------------------------------

UNIT_COLS = (
    Col("排名", "number", 6), Col("单位", "wrap", 20), Col("类别", "center", 10),
    Col("应报期数", "number", 8), Col("已报期数", "number", 8), Col("按时报送", "number", 8),
    Col("逾期报送", "number", 8), Col("逾期天数合计", "number", 8),
    Col(SubmissionState.MISSING.value, "number", 8), Col("退回轮次", "number", 8),
    Col("一次通过期数", "number", 8), Col("一次通过率", "percent", 8),
    Col("应按期完成任务", "number", 8), Col("按期完成任务", "number", 8),
    Col("得分", "number", 8),
)


def _units(book: Book, review: Review) -> None:
    ws = book.sheet(SHEET_UNITS)
    f = book.fmt
    width = len(UNIT_COLS)
    ws.merge_range(0, 0, 0, width - 1, f"单位考核排名（{review.span.words}，{review.coverage}）",
                   f["title"])
    ws.set_row(0, 30)
    wrap = book.wb.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE,
                               "text_wrap": True, "valign": "top"})
    for r, line in enumerate(review.method, start=1):
        ws.merge_range(r, 0, r, width - 1, ("计算方法：" if r == 1 else "") + line, wrap)
        ws.set_row(r, 28)
    top = len(review.method) + 2
    rows: list[list[Cell]] = [
        [u.rank, u.name, u.kind, u.expected, u.submitted, u.on_time, u.late, u.late_days,
         u.missing, u.returned, u.first_pass, u.first_pass_rate, u.tasks_due, u.tasks_on_time,
         float(u.score)] for u in review.units]
    first, last = book.table(ws, UNIT_COLS, rows, top=top)
    ws.freeze_panes(first, 2)
    score = col_index(UNIT_COLS, "得分")
    book.progress_bar(ws, first, last, score)
    for header, fmt in ((SubmissionState.MISSING.value, book.missing),
                        ("逾期报送", book.warn[Colour.RED]),
                        ("退回轮次", book.warn[Colour.YELLOW])):
        c = col_index(UNIT_COLS, header)
        _cell_rule(book, ws, (first, c, last, c), ">", 0, fmt)


# --- 报送明细 -----------------------------------------------------------------------------------

def _submissions(book: Book, review: Review) -> None:
    ws = book.sheet(SHEET_SUBMISSIONS)
    periods = review.periods
    cols = (Col("单位", "wrap", 20), Col("类别", "center", 10),
            *(Col(str(p), "center", 16) for p in periods),
            Col("按时报送", "number", 8), Col("逾期报送", "number", 8),
            Col(SubmissionState.MISSING.value, "number", 8), Col("退回轮次", "number", 8),
            Col("按时报送率", "percent", 9))
    rows: list[list[Cell]] = [  # by rank, as on 单位考核
        [u.name, u.kind, *(u.cell(i) for i in range(len(periods))), u.on_time, u.late,
         u.missing, u.returned, u.on_time / u.expected if u.expected else 0.0]
        for u in review.units]
    first, last = book.table(ws, cols, rows)
    ws.freeze_panes(first, 2)
    span = (first, 2, last, 1 + len(periods))
    _cell_rule(book, ws, span, "begins with", "按时", book.warn[Colour.GREEN])
    _cell_rule(book, ws, span, "begins with", OVERDUE, book.warn[Colour.RED])
    _cell_rule(book, ws, span, "begins with", SubmissionState.MISSING.value, book.missing)
    c = col_index(cols, "退回轮次")
    _cell_rule(book, ws, (first, c, last, c), ">", 0, book.warn[Colour.YELLOW])


__all__ = ["write_review_workbook", "workbook_name", "figures", "SHEETS"]
