"""The check report (校验报告): every problem found in the returned forms, and a per-unit table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from .model import Period, Plan, Returns
from .problems import Problem, Severity
from .text import column_width
from .xlsxutil import FONT_NAME, FONT_SIZE, close_workbook, new_workbook, write_xlsx

PROBLEMS_SHEET = "问题清单"
SUMMARY_SHEET = "汇总"
HEADERS = ("单位", "文件", "工作表", "单元格", "严重程度", "问题代码", "问题说明", "修改建议")
ERROR_FILL = "#FFC7CE"
WARNING_FILL = "#FFEB9C"
HEAD_FILL = "#D9E1F2"
FIRST_PROBLEMS = 3  # problems shown per unit in the terminal table


def report_filename(period: Period) -> str:
    """校验报告_PERIOD.xlsx"""
    return f"校验报告_{period}.xlsx"


@dataclass(frozen=True, slots=True)
class UnitCheck:
    """One line of `check`'s per-unit table."""

    unit: str  # "" for a file no unit could be found for
    file: str
    errors: int
    warnings: int
    first_problems: tuple[str, ...]


def unit_table(returns: Returns, plan: Plan) -> list[UnitCheck]:
    """One line per file read or refused, units in registry order, unidentified files last."""
    order = {u.name: i for i, u in enumerate(plan.units)}
    by_file: dict[str, list[Problem]] = {}
    for p in returns.problems:
        by_file.setdefault(p.file, []).append(p)
    lines = []
    for s in returns.submissions:
        found = by_file.get(s.file, [])
        ranked = sorted(found, key=lambda p: not p.is_error)  # errors first, stable
        lines.append(UnitCheck(
            unit=s.unit, file=s.file, errors=sum(p.is_error for p in found),
            warnings=sum(not p.is_error for p in found),
            first_problems=tuple(_short(p) for p in ranked[:FIRST_PROBLEMS])))
    lines.sort(key=lambda u: (u.unit == "", order.get(u.unit, len(order)), u.unit, u.file))
    return lines


def _short(p: Problem) -> str:
    return f"{p.cell}：{p.message}" if p.cell else p.message


def summary_rows(returns: Returns) -> list[tuple[str, int]]:
    """The reconciliation figures shown in 汇总 (and printed by `check`)."""
    errors = sum(p.is_error for p in returns.problems)
    return [
        ("发现文件", returns.files.found), ("读取文件", returns.files.read),
        ("拒收文件", returns.files.refused), ("跳过文件", returns.files.skipped),
        ("读取数据行", returns.rows.read), ("采用数据行", returns.rows.merged),
        ("未采用数据行", returns.rows.rejected),
        ("错误", errors), ("警告", len(returns.problems) - errors),
    ]


def write_check_report(returns: Returns, plan: Plan, period: Period, path: Path) -> Path:
    """Write 校验报告_PERIOD.xlsx: every problem (filterable) and a 汇总 sheet."""
    order = {u.name: i for i, u in enumerate(plan.units)}
    problems = sorted(returns.problems, key=lambda p: (
        p.unit == "", order.get(p.unit, len(order)), p.file))  # stable: file order kept within
    created = datetime.combine(period.end, time(18, 0))

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, title=f"{plan.title}填报校验报告（{period.label}）", created=created)
        base = {"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "top"}
        head = wb.add_format({**base, "bold": True, "bg_color": HEAD_FILL, "border": 1,
                              "align": "center", "valign": "vcenter"})
        cell = wb.add_format({**base, "text_wrap": True, "border": 1})
        number = wb.add_format({**base, "border": 1, "align": "right"})
        red = wb.add_format({"bg_color": ERROR_FILL})
        yellow = wb.add_format({"bg_color": WARNING_FILL})

        ws = wb.add_worksheet(PROBLEMS_SHEET)
        rows = [(p.unit or "（未识别）", p.file, p.sheet, p.cell, str(p.severity), p.code,
                 p.message, p.fix) for p in problems]
        ws.write_row(0, 0, HEADERS, head)
        for r, values in enumerate(rows, start=1):
            for c, v in enumerate(values):
                ws.write_string(r, c, v, cell)
        for c, h in enumerate(HEADERS):
            maximum = 50 if c >= 6 else 36
            ws.set_column(c, c, column_width([h, *(v[c] for v in rows)], maximum=maximum))
        last = max(len(rows), 1)
        ws.autofilter(0, 0, last, len(HEADERS) - 1)
        ws.freeze_panes(1, 0)
        sev = HEADERS.index("严重程度")
        for value, fmt in ((Severity.ERROR, red), (Severity.WARNING, yellow)):
            ws.conditional_format(1, 0, last, len(HEADERS) - 1, {
                "type": "formula", "criteria": f'=${chr(65 + sev)}2="{value}"', "format": fmt})
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)

        summary = wb.add_worksheet(SUMMARY_SHEET)
        summary.write_row(0, 0, ("项目", "数量"), head)
        figures = summary_rows(returns)
        for r, (label, n) in enumerate(figures, start=1):
            summary.write_string(r, 0, label, cell)
            summary.write_number(r, 1, n, number)
        summary.set_column(0, 0, column_width([lb for lb, _ in figures]))
        summary.set_column(1, 1, 10)
        ws.activate()
        close_workbook(wb, tmp)

    return write_xlsx(path, build)
