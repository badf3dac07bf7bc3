"""The check report (校验报告): every problem found in the returned forms, every file in the
folder and what became of it, the reconciliation figures, and the terminal's per-unit table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from gkreport.core.model import Period, Plan, Returns, Submission
from gkreport.core.problems import Problem, Severity, a1
from gkreport.core.text import column_width
from gkreport.core.xlsx import FONT_NAME, FONT_SIZE, close_workbook, new_workbook, write_xlsx
from gkreport.intake.ingest import skip_reason

PROBLEMS_SHEET = "问题清单"
SUMMARY_SHEET = "汇总"
FILES_SHEET = "文件清单"
HEADERS = ("单位", "文件", "工作表", "单元格", "严重程度", "问题代码", "问题说明", "修改建议")
FILE_HEADERS = ("文件", "单位", "处理结果", "数据行：读取", "数据行：未采用", "错误", "警告", "原因")
READ, SUPERSEDED, REFUSED, SKIPPED = "读取", "读取，未采用（有较新的一份）", "拒收", "跳过"
EVIDENCE = "佐证材料"
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
    by_file = returns.problems_of_file
    lines = []
    for s in returns.submissions:
        found = by_file.get(s.file, ())
        ranked = sorted(found, key=lambda p: not p.is_error)  # errors first, stable
        lines.append(UnitCheck(
            unit=s.unit, file=s.file, errors=sum(p.is_error for p in found),
            warnings=sum(not p.is_error for p in found),
            first_problems=tuple(_short(p) for p in ranked[:FIRST_PROBLEMS])))
    lines.sort(key=lambda u: (u.unit == "", order.get(u.unit, len(order)), u.unit, u.file))
    return lines


def _short(p: Problem) -> str:
    return f"{p.cell}：{p.message}" if p.cell else p.message


def summary_rows(returns: Returns) -> list[tuple[str, int | str]]:
    """The reconciliation figures shown in 汇总, in the terminal's words (文件：…, 数据行：…)."""
    f, r = returns.files, returns.rows
    errors = sum(p.is_error for p in returns.problems)
    return [
        ("文件：发现", f.found), ("文件：读取", f.read), ("文件：拒收", f.refused),
        ("文件：跳过", f.skipped), ("文件：佐证材料", f.evidence),
        ("文件：发现 = 读取 + 拒收 + 跳过 + 佐证材料",
         f"{f.found} = {f.read} + {f.refused} + {f.skipped} + {f.evidence}"
         + ("" if f.found == f.read + f.refused + f.skipped + f.evidence else "（不一致）")),
        ("数据行：读取", r.read), ("数据行：采用", r.merged), ("数据行：未采用", r.rejected),
        ("数据行：读取 = 采用 + 未采用", f"{r.read} = {r.merged} + {r.rejected}"
         + ("" if r.read == r.merged + r.rejected else "（不一致）")),
        ("错误", errors), ("警告", len(returns.problems) - errors),
    ]


def file_rows(returns: Returns) -> list[tuple[str, str, str, int | str, int | str, int | str,
                                             int | str, str]]:
    """One row per entry of the period folder (files read, refused, skipped), by name."""
    by_file = returns.problems_of_file

    def outcome(s: Submission) -> tuple[str, str]:
        found = by_file.get(s.file, ())
        if s.superseded:
            return SUPERSEDED, next((p.message for p in found if not p.is_error), "")
        if not s.accepted:
            return REFUSED, next((p.message for p in found if p.is_error), "")
        return READ, ""

    rows: list[tuple[str, str, str, int | str, int | str, int | str, int | str, str]] = []
    for s in returns.submissions:
        result, reason = outcome(s)
        found = by_file.get(s.file, ())
        errors = sum(p.is_error for p in found)
        rows.append((s.file, s.unit or "（未识别）", result, s.rows_read, s.rows_rejected,
                     errors, len(found) - errors, reason))
    rows += [(name, "", SKIPPED, "", "", "", "",
              skip_reason(name.rsplit("/", 1)[-1]) or "不是文件（如快捷方式），未读取")
             for name in returns.skipped_files]
    rows += [(e.file, e.unit or "（未识别）", EVIDENCE, "", "", "",
              len(by_file.get(e.file, ())), "佐证材料，列入报送情况，不作为填报表读取")
             for e in returns.evidence]
    return sorted(rows, key=lambda row: row[0])


def write_check_report(returns: Returns, plan: Plan, period: Period, path: Path) -> Path:
    """Write 校验报告_PERIOD.xlsx: every problem (filterable), 汇总, and every file (文件清单)."""
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
                "type": "formula", "criteria": f'=${a1(1, sev)}="{value}"', "format": fmt})
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)

        summary = wb.add_worksheet(SUMMARY_SHEET)
        summary.write_row(0, 0, ("项目", "数量"), head)
        figures = summary_rows(returns)
        for r, (label, n) in enumerate(figures, start=1):
            summary.write_string(r, 0, label, cell)
            if isinstance(n, int):
                summary.write_number(r, 1, n, number)
            else:
                summary.write_string(r, 1, n, number)
        summary.set_column(0, 0, column_width([lb for lb, _ in figures]))
        summary.set_column(1, 1, column_width(["数量", *(str(n) for _, n in figures)]))

        files = wb.add_worksheet(FILES_SHEET)
        listed = file_rows(returns)
        files.write_row(0, 0, FILE_HEADERS, head)
        for r, values in enumerate(listed, start=1):
            for c, v in enumerate(values):
                if isinstance(v, int):
                    files.write_number(r, c, v, number)
                elif not v:
                    files.write_blank(r, c, None, cell)
                else:
                    files.write_string(r, c, v, cell)
        for c, h in enumerate(FILE_HEADERS):
            files.set_column(c, c, column_width([h, *(str(v[c]) for v in listed)],
                                                maximum=50 if c == len(FILE_HEADERS) - 1 else 36))
        files.autofilter(0, 0, max(len(listed), 1), len(FILE_HEADERS) - 1)
        files.freeze_panes(1, 0)
        files.set_landscape()
        files.set_paper(9)
        files.fit_to_pages(1, 0)
        files.repeat_rows(0)
        ws.activate()
        close_workbook(wb, tmp)

    return write_xlsx(path, build)
