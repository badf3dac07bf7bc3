"""The consolidated workbook, read back with openpyxl (and opened by LibreOffice)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from gkreport.core.model import (
    Colour,
    Deadline,
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    SubmissionState,
    Task,
    Unit,
    UnitKind,
)
from gkreport.core.problems import problem
from gkreport.core.report import Report, TaskResult, TrendRow, UnitResult
from gkreport.render.workbook import SHEETS, TRUNCATED, detail_rows, write_workbook

from .factories import build_report, make_entry, make_task, rebuild, with_previous
from .lo import convert, needs_lo, pdf_pages

# openpyxl drops the Excel 2010 data-bar extension it cannot parse; the base rule is read.
pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

OFFICE, EDU, YUEYANG, SIJING = "区政府办公室", "区教育局", "岳阳街道", "泗泾镇"
# Text a unit may type that Excel would otherwise turn into formulas, numbers or links.
HAZARDS = ("=1+1", "+8613800000000", "-", "@x", "http://example.com/a?b=1")


def _entry(no: int, unit: str, status: Status, progress: float | None, note: str = "进展正常",
           issues: str = "", raw: str | None = None, row: int = 6) -> Entry:
    return make_entry(no, unit, status, progress, note=note, issues=issues, raw=raw, row=row)


def _task(no: int, cat: str, text: str, units: tuple[str, ...], deadline: Deadline) -> Task:
    return make_task(no, units, deadline, text=text, category=cat)


def small_report() -> Report:
    """Four tasks, four units: done, unverified, overdue, near-deadline, ongoing, one missing."""
    units = (Unit(OFFICE, UnitKind.DEPARTMENT, contact="@x", phone="+8613800000000"),
             Unit(EDU, UnitKind.DEPARTMENT, contact="-", phone="=1+1"),
             Unit(YUEYANG, UnitKind.STREET_TOWN, contact="王五", phone="57000000"),
             Unit(SIJING, UnitKind.STREET_TOWN))
    tasks = (
        _task(1, "依法履行政府信息公开职责", "深化信息公开，依法发布信息并做好解读。",
              (OFFICE, YUEYANG, SIJING), Deadline("全年", date(2025, 12, 31))),
        _task(2, "依法履行政府信息公开职责", "开展规范性文件协调性审核。", (EDU,),
              Deadline("5月底前", date(2025, 5, 31))),
        _task(3, "持续深化政民(企)互动和公众参与", "办好政府开放月活动。", (OFFICE, EDU),
              Deadline("7月", date(2025, 7, 31))),
        _task(4, "持续深化政民(企)互动和公众参与", "长期坚持做好政务新媒体管理。", (YUEYANG,),
              Deadline("长期坚持", None)),
    )
    plan = Plan(year=2025, title="2025年松江区政务公开工作要点", tasks=tasks, units=units)
    entries = (
        _entry(1, OFFICE, Status.DONE, 100.0, note=HAZARDS[0]),
        _entry(1, YUEYANG, Status.UNVERIFIED, None, note=HAZARDS[4], issues="@x 经费不足",
               raw="差不多"),
        _entry(2, EDU, Status.BEHIND, 30.0, note=HAZARDS[2], issues="=SUM(A1) 人手紧张"),
        _entry(3, OFFICE, Status.ON_TRACK, 50.0, row=7),
        _entry(3, EDU, Status.ON_TRACK, 40.0, row=7),
        _entry(4, YUEYANG, Status.NOT_STARTED, 0.0, row=7),
    )
    results = (
        TaskResult(tasks[0], Status.ON_TRACK, False, Colour.YELLOW, 3, 2, 1, 0, 1, 100.0,
                   missing_units=(SIJING,), previous_status=Status.ON_TRACK,
                   unverified=(YUEYANG,)),
        TaskResult(tasks[1], Status.BEHIND, True, Colour.RED, 1, 1, 0, 1, 0, 30.0,
                   previous_status=Status.ON_TRACK, change="按计划推进→滞后"),
        TaskResult(tasks[2], Status.ON_TRACK, False, Colour.BLUE, 2, 2, 0, 0, 0, 45.0),
        TaskResult(tasks[3], Status.NOT_STARTED, False, Colour.NONE, 1, 1, 0, 0, 0, 0.0),
    )
    unit_results = (
        UnitResult(units[0], SubmissionState("已报送"), f"{OFFICE}.xlsx", 2, 0, 0),
        UnitResult(units[1], SubmissionState("需修改"), f"{EDU}.xlsx", 2, 1, 0),
        UnitResult(units[2], SubmissionState("已报送"), f"{YUEYANG}.xlsx", 2, 0, 1),
        UnitResult(units[3], SubmissionState("未报送"), "", 1, 0, 0),
    )
    subs = tuple(Submission(file=f"{u}.xlsx", unit=u, sha256="0" * 64, size=1000,
                            read_at="2025-06-28T10:00:00") for u in (OFFICE, EDU, YUEYANG))
    problems = (problem("bad-progress", file=f"{EDU}.xlsx", sheet="填报表", cell="I9", unit=EDU,
                        value="八十"),
                problem("unknown-status", file=f"{YUEYANG}.xlsx", sheet="填报表", cell="H6",
                        unit=YUEYANG, value="差不多"))
    return build_report(
        period=Period(2025, 6), plan=plan, tasks=results, units=unit_results, entries=entries,
        submissions=subs, problems=problems, files=FileCounts(found=4, read=3, skipped=1),
        rows=RowCounts(read=7, merged=6, rejected=1), previous_period=Period(2025, 5),
        trend=tuple(TrendRow(t.no, t.category, t.text, {Period.parse(p): Status(v)
                                                        for p, v in row.items()},
                             added=Period(2025, 6) if t.no == 3 else None)
                    for t, row in zip(tasks, (
                        {"2025-05": "按计划推进", "2025-06": "按计划推进"},
                        {"2025-05": "按计划推进", "2025-06": "滞后"},
                        {"2025-06": "按计划推进"}, {"2025-05": "未启动", "2025-06": "未启动"}),
                        strict=True)),
        trend_periods=(Period(2025, 5), Period(2025, 6)),
    )


def bundled_report(plan: Plan) -> Report:
    """The bundled plan with two units reporting on every task they are expected on."""
    period = Period(2025, 6)
    reporting = {"区政府办公室", "岳阳街道"}
    results, entries = [], []
    for t in plan.tasks:
        mine = [u for u in t.expected_units if u in reporting]
        entries += [_entry(t.no, u, Status.ON_TRACK, 50.0) for u in mine]
        missing = tuple(u for u in t.expected_units if u not in reporting)
        overdue = t.deadline.date is not None and t.deadline.date < period.end
        results.append(TaskResult(
            t, Status.BEHIND if overdue else Status.ON_TRACK, overdue,
            Colour.RED if overdue else Colour.NONE, len(t.expected_units), len(mine), 0, 0,
            len(missing), 50.0 if mine else None, missing_units=missing))
    units = tuple(UnitResult(plan.unit(u), SubmissionState("已报送" if u in reporting else "未报送"),
                             f"{u}.xlsx" if u in reporting else "",
                             len(plan.tasks_for(u)), 0, 0) for u in plan.expected_units)
    return build_report(period=period, plan=plan, tasks=tuple(results), units=units,
                  entries=tuple(entries), submissions=(), problems=(),
                  files=FileCounts(found=2, read=2), rows=RowCounts(len(entries), len(entries)),
                  trend=tuple(TrendRow(r.task.no, r.task.category, r.task.text,
                                       {period: r.status}) for r in results),
                  trend_periods=(period,))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(small_report(), tmp_path_factory.mktemp("wb") / "汇总表_2025-06.xlsx")


@pytest.fixture(scope="module")
def book(written: Path) -> Any:
    import openpyxl

    return openpyxl.load_workbook(written)


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


def _header(ws: Any) -> list[Any]:
    return list(_rows(ws)[0])


def _rules(ws: Any) -> dict[str, list[tuple[str, str | None, tuple[str, ...]]]]:
    """sqref -> [(rule type, operator, formulas)] in priority order."""
    out: dict[str, list[Any]] = {}
    for cf in ws.conditional_formatting:
        for rule in sorted(cf.rules, key=lambda r: r.priority):
            out.setdefault(str(cf.sqref), []).append(
                (rule.type, rule.operator, tuple(rule.formula or ())))
    return out


def test_sheet_names_and_order(book: Any) -> None:
    assert book.sheetnames == list(SHEETS)
    assert book.sheetnames == ["总览", "任务汇总", "单位填报明细", "问题与建议", "逾期滞后",
                               "报送情况", "历史趋势"]


def test_headers(book: Any) -> None:
    assert _header(book["任务汇总"]) == [
        "序号", "一级指标", "任务内容", "责任单位（牵头）", "时间节点", "截止日期", "应报单位数",
        "已报单位数", "已完成单位数", "滞后单位数", "未报送单位数", "任务状态", "预警", "逾期",
        "平均进度", "上月状态", "变化", "沿用上期单位数"]
    assert _header(book["单位填报明细"]) == [
        "序号", "任务内容", "单位", "完成状态", "原填状态", "完成进度", "进展情况", "存在问题",
        "下步计划", "来源文件", "工作表", "单元格"]
    assert _header(book["报送情况"]) == [
        "单位", "类别", "状态", "文件", "任务数", "错误", "警告", "联系人", "联系电话",
        "首次报送时间", "截止日期", "报送时效", "退回修改次数", "全部报送文件", "佐证材料"]
    assert _header(book["问题与建议"]) == ["序号", "任务内容", "单位", "完成状态", "存在问题",
                                           "下步计划"]
    assert _header(book["逾期滞后"])[:7] == ["序号", "一级指标", "任务内容", "责任单位（牵头）",
                                            "截止日期", "任务状态", "逾期"]
    assert _header(book["历史趋势"]) == ["序号", "一级指标", "任务内容", "2025-05", "2025-06",
                                          "变动"]


def test_row_counts_equal_summary(book: Any) -> None:
    report = small_report()
    s = report.summary.to_json()
    assert book["任务汇总"].max_row - 1 == s["tasks"]["total"] == 4
    missing = sum(len(t.missing_units) for t in report.tasks)
    assert book["单位填报明细"].max_row - 1 == len(report.entries) + missing == 7
    assert book["报送情况"].max_row - 1 == s["units"]["expected"] == 4
    assert book["历史趋势"].max_row - 1 == s["tasks"]["total"]
    assert book["问题与建议"].max_row - 1 == 2
    assert [r[0] for r in _rows(book["逾期滞后"])[1:]] == [2]


def test_overview_figures(book: Any) -> None:
    s = small_report().summary.to_json()
    ws = book["总览"]
    assert ws["A1"].value == "2025年松江区政务公开工作要点推进情况汇总（截至2025年6月）"
    figures = {r[0]: r[1] for r in _rows(ws)[3:] if r[0] and r[1] is not None}
    assert figures["任务总数"] == s["tasks"]["total"]
    assert [figures[k] for k in ("已完成", "按计划推进", "滞后", "未启动", "其中：逾期")] == \
        [s["tasks"][k] for k in ("已完成", "按计划推进", "滞后", "未启动", "逾期")] == [0, 2, 1, 1, 1]
    assert (figures["应报单位数"], figures["已报送"], figures["未报送"],
            figures["已报送但需修改"]) == (4, 3, 1, 1)
    assert (figures["数据行：读取"], figures["数据行：采用"], figures["数据行：未采用（见校验报告）"],
            figures["数据行：读取 = 采用 + 未采用"]) == (7, 6, 1, "一致")
    assert [figures[f"文件：{k}"] for k in ("发现", "读取", "拒收", "跳过")] == [4, 3, 0, 1]
    assert (figures["错误"], figures["警告"]) == (2, 0)
    assert (figures["其中：30日内到期"], figures["有待核实填报的任务"],
            figures["待核实填报（条）"]) == (len(s["near_deadline"]), 1, 1) == (1, 1, 1)
    breakdown = {r[3]: r[4:10] for r in _rows(ws)[4:] if r[3]}
    assert breakdown["依法履行政府信息公开职责"] == (2, 0, 1, 1, 0, 1)
    assert breakdown["持续深化政民(企)互动和公众参与"] == (2, 0, 1, 0, 1, 0)
    assert breakdown["合计"] == (4, 0, 2, 1, 1, 1)


def test_task_cells(book: Any) -> None:
    rows = {r[0]: r for r in _rows(book["任务汇总"])[1:]}
    assert rows[2][5] == datetime(2025, 5, 31)
    assert book["任务汇总"]["F3"].number_format == "yyyy-mm-dd"
    assert rows[2][11:] == ("滞后", "红", "是", 30.0, "按计划推进", "按计划推进→滞后", 0)
    assert rows[3][12] == "蓝"
    assert rows[4][4:6] == ("长期坚持", "无")
    assert rows[4][13] == "否"
    assert rows[1][6:11] == (3, 2, 1, 0, 1)


def test_detail_rows_cover_every_expected_unit(book: Any) -> None:
    got = [(r[0], r[2], r[3]) for r in _rows(book["单位填报明细"])[1:]]
    assert got == [(1, OFFICE, "已完成"), (1, YUEYANG, "待核实"), (1, SIJING, "未报送"),
                   (2, EDU, "滞后"), (3, OFFICE, "按计划推进"), (3, EDU, "按计划推进"),
                   (4, YUEYANG, "未启动")]
    first = _rows(book["单位填报明细"])[1]
    assert first[9:] == (f"{OFFICE}.xlsx", "填报表", "H6")
    assert _rows(book["单位填报明细"])[2][4] == "差不多"


def test_unit_text_stays_text(book: Any) -> None:
    detail = book["单位填报明细"]
    assert detail["G2"].value == "=1+1" and detail["G2"].data_type == "s"
    assert detail["G3"].value == "http://example.com/a?b=1" and detail["G3"].hyperlink is None
    assert detail["G5"].value == "-" and detail["G5"].data_type == "s"
    units = book["报送情况"]
    assert [(c.value, c.data_type) for c in units[2][7:9]] == [("@x", "s"),
                                                              ("+8613800000000", "s")]
    assert (units["I3"].value, units["I3"].data_type) == ("=1+1", "s")
    issues = book["问题与建议"]
    assert {issues.cell(r, 5).value for r in (2, 3)} == {"@x 经费不足", "=SUM(A1) 人手紧张"}
    assert all(issues.cell(r, 5).data_type == "s" for r in (2, 3))


def test_conditional_formats(book: Any) -> None:
    tasks = _rules(book["任务汇总"])
    assert tasks["L2:L5"][0] == ("expression", None, ('$N2="是"',))
    assert ("cellIs", "equal", ('"已完成"',)) in tasks["L2:L5"]
    assert ("cellIs", "equal", ('"滞后"',)) in tasks["L2:L5"]
    assert [r[2] for r in tasks["M2:M5"]] == [('"红"',), ('"黄"',), ('"蓝"',), ('"绿"',)]
    assert tasks["N2:N5"] == [("cellIs", "equal", ('"是"',))]
    assert [r[2] for r in tasks["F2:F5"]] == [('$N2="是"',), ('$M2="蓝"',)]
    assert tasks["O2:O5"] == [("dataBar", None, ())]
    detail = _rules(book["单位填报明细"])
    assert ("cellIs", "equal", ('"未报送"',)) in detail["D2:D8"]
    assert ("cellIs", "equal", ('"待核实"',)) in detail["D2:D8"]
    assert detail["F2:F8"] == [("dataBar", None, ())]
    assert ("cellIs", "equal", ('"需修改"',)) in _rules(book["报送情况"])["C2:C5"]
    assert ("cellIs", "equal", ('"滞后"',)) in _rules(book["历史趋势"])["D2:E5"]


def test_warning_fill_colours(book: Any) -> None:
    ws = book["任务汇总"]
    fills = {}
    for cf in ws.conditional_formatting:
        if str(cf.sqref) == "M2:M5":
            for rule in cf.rules:
                fills[rule.formula[0].strip('"')] = rule.dxf.fill.bgColor.rgb[-6:]
    assert fills == {"红": "F8CBAD", "黄": "FFE699", "蓝": "BDD7EE", "绿": "C6EFCE"}


def test_data_bar_range(book: Any) -> None:
    for cf in book["任务汇总"].conditional_formatting:
        if str(cf.sqref) == "O2:O5":
            bar = cf.rules[0].dataBar
            assert [(v.type, float(v.val)) for v in bar.cfvo] == [("num", 0.0), ("num", 100.0)]


def test_charts(written: Path, book: Any) -> None:
    row = {r[0].value: r[0].row for r in book["总览"].iter_rows(max_col=1) if r[0].value}
    with zipfile.ZipFile(written) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode() for n in charts]
        rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    assert len(xml) == 3
    kinds = {next(k for k in ("doughnutChart", "pieChart", "barChart") if f"<c:{k}>" in x): x
             for x in xml}
    assert set(kinds) == {"doughnutChart", "pieChart", "barChart"}
    assert '<c:grouping val="stacked"/>' in kinds["barChart"]
    # Charts read the key figures written on 总览, not numbers of their own.
    assert f"总览!$B${row['已完成']}:$B${row['未启动']}" in kinds["doughnutChart"]
    assert f"总览!$B${row['已报送']}:$B${row['未报送']}" in kinds["pieChart"]
    assert "总览!$D$5:$D$6" in kinds["barChart"]
    assert "drawing" in rels


def test_sheet_layout_and_print_setup(book: Any) -> None:
    for name in SHEETS:
        ws = book[name]
        assert ws.page_setup.orientation == "landscape", name
        assert int(ws.page_setup.paperSize) == 9, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        # fitToWidth=1 is the OOXML default, so xlsxwriter omits it.
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
        assert ws.oddFooter.center.text == "&P / &N", name
    for name in SHEETS[1:]:
        ws = book[name]
        assert ws.freeze_panes == ("D2" if name == "历史趋势" else "A2"), name
        assert ws.print_title_rows == "$1:$1", name
        assert ws.auto_filter.ref.startswith("A1:"), name
    assert book["任务汇总"].auto_filter.ref == "A1:R5"
    assert book["单位填报明细"].auto_filter.ref == "A1:L8"
    assert book["报送情况"].auto_filter.ref == "A1:O5"
    assert book["总览"].freeze_panes == "A5"


def test_fonts_and_widths(book: Any) -> None:
    ws = book["任务汇总"]
    assert ws["A1"].font.name == "黑体"
    assert {ws.cell(2, c).font.name for c in range(1, 18)} == {"宋体"}
    assert ws["C2"].alignment.wrap_text
    widths = {c: ws.column_dimensions[c].width for c in "ABC"}
    assert widths["A"] < widths["B"] < widths["C"] <= 46  # capped, measured by East-Asian width


def test_row_heights_fit_wrapped_text(tmp_path: Path) -> None:
    import openpyxl

    report = small_report()
    # 进展情况 wraps at 40 characters (80 display columns of CJK text); a note with a line
    # break takes a line more.
    notes = {0: "短", 1: "很" * 50, 2: "很" * 130, 3: "第一行\n第二行\n第三行"}
    report = rebuild(report, entries=tuple(replace(e, note=notes.get(i, e.note))
                                           for i, e in enumerate(report.entries)))
    ws = openpyxl.load_workbook(write_workbook(report, tmp_path / "h.xlsx"))["单位填报明细"]
    rows = {ws.cell(r, 7).value: ws.row_dimensions[r].height for r in range(2, ws.max_row + 1)}
    width = ws.column_dimensions["G"].width
    assert 40 <= width < 41  # capped (Col max_width); xlsxwriter adds its padding

    def lines(n: int) -> Any:  # heights are stored in whole pixels (3/4 pt)
        return pytest.approx(13.5 * n + 4, abs=0.5)

    assert rows["短"] < rows["很" * 50]  # as tall as its task text needs, no more
    assert rows["很" * 50] == lines(3)  # 100 columns in 39 usable: 3 lines
    assert rows["很" * 130] == lines(7)  # 260 / 39 -> 7 lines
    assert rows["第一行\n第二行\n第三行"] == lines(3)
    assert ws.row_dimensions[1].height >= 17  # the header row too


def test_properties_from_period(book: Any) -> None:
    assert book.properties.title == "2025年松江区政务公开工作要点推进情况汇总（截至2025年6月）"
    assert book.properties.created == datetime(2025, 6, 30, 18, 0)


def test_same_report_same_cells(tmp_path: Path, book: Any) -> None:
    import openpyxl

    again = openpyxl.load_workbook(write_workbook(small_report(), tmp_path / "again.xlsx"))
    assert again.sheetnames == book.sheetnames
    for name in book.sheetnames:
        assert _rows(again[name]) == _rows(book[name]), name
    assert again.properties.created == book.properties.created


def test_long_text_truncated_visibly(tmp_path: Path) -> None:
    import openpyxl

    report = small_report()
    long = replace(report.entries[0], note="很" * 40000)
    report = rebuild(report, entries=(long, *report.entries[1:]))
    ws = openpyxl.load_workbook(write_workbook(report, tmp_path / "long.xlsx"))["单位填报明细"]
    assert len(ws["G2"].value) == 32767 and ws["G2"].value.endswith(TRUNCATED)


def test_nobody_reported(tmp_path: Path) -> None:
    import openpyxl

    report = small_report()
    report = rebuild(report, entries=(), rows=RowCounts(), tasks=tuple(
        replace(t, missing_units=t.task.expected_units) for t in report.tasks))
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "empty.xlsx"))
    assert book["单位填报明细"].max_row - 1 == 7
    assert {r[3] for r in _rows(book["单位填报明细"])[1:]} == {"未报送"}
    assert book["问题与建议"].max_row == 1


def test_bundled_plan(plan: Plan, tmp_path: Path) -> None:
    import openpyxl

    report = bundled_report(plan)
    s = report.summary.to_json()
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "bundled.xlsx"))
    assert book["任务汇总"].max_row - 1 == s["tasks"]["total"] == 27
    expected_pairs = sum(len(t.expected_units) for t in plan.tasks)
    assert book["单位填报明细"].max_row - 1 == len(detail_rows(report)) == expected_pairs
    assert book["报送情况"].max_row - 1 == s["units"]["expected"] == 56
    assert _header(book["历史趋势"])[3:] == ["2025-06", "变动"]


def _returns(plan: Plan, period: Period, status: Status, units: tuple[str, ...]) -> Returns:
    entries = [_entry(t.no, u, status, 50.0, note="=1+1" if u == units[0] else "按计划推进",
                      issues="人手不足" if status is Status.BEHIND else "", row=5 + i)
               for u in units for i, t in enumerate(plan.tasks_for(u))]
    entries.append(_entry(2, "区教育局", Status.DONE, 100.0, row=5))  # open task: extra unit
    subs = tuple(Submission(file=f"{u}.xlsx", unit=u, sha256="0" * 64, size=1000,
                            read_at="2025-07-01T09:00:00") for u in (*units, "区教育局"))
    return Returns(period=str(period), entries=tuple(entries), submissions=subs, problems=(),
                   files=FileCounts(len(subs), len(subs)),
                   rows=RowCounts(len(entries), len(entries)))


def test_renders_a_consolidated_report(plan: Plan, tmp_path: Path) -> None:
    import openpyxl

    from gkreport.consolidate import consolidate
    from gkreport.history import History
    from gkreport.year import build_prior

    units = ("区政府办公室", "岳阳街道", "泗泾镇")
    history = History(tmp_path / "history.sqlite")
    may, june = Period(2025, 5), Period(2025, 6)
    history.record(consolidate(plan, _returns(plan, may, Status.ON_TRACK, units), may))
    prior = build_prior(plan, history.year_rows(plan.year, june))
    report = consolidate(plan, _returns(plan, june, Status.BEHIND, units), june, prior=prior)
    s = report.summary.to_json()
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "汇总表_2025-06.xlsx"))
    assert book["任务汇总"].max_row - 1 == s["tasks"]["total"]
    missing = sum(len(t.missing_units) for t in report.tasks)
    unused = sum(len(t.unverified_units) for t in report.tasks)
    assert unused == len(plan.tasks_for("区教育局"))  # it sent a form with only an extra row
    assert book["单位填报明细"].max_row - 1 == len(report.entries) + missing + unused
    assert book["报送情况"].max_row - 1 == s["units"]["expected"]
    assert ("区教育局", "已完成") in {(r[2], r[3]) for r in _rows(book["单位填报明细"])[1:]}
    edu = {r[3] for r in _rows(book["单位填报明细"])[1:] if r[2] == "区教育局" and r[0] != 2}
    assert edu == {"待核实"}
    figures = {r[0]: r[1] for r in _rows(book["总览"])[3:] if r[0]}
    assert figures["滞后"] == s["tasks"]["滞后"] and figures["未报送"] == len(s["units"]["missing"])
    tasks = {r[0]: r for r in _rows(book["任务汇总"])[1:]}
    first = report.tasks[0]
    assert tasks[first.task.no][11:13] == (first.status.value, first.colour.value)
    assert tasks[first.task.no][15] == "按计划推进"  # 上月状态 from the history
    assert _header(book["历史趋势"])[3:] == ["2025-05", "2025-06", "变动"]
    assert book["问题与建议"].max_row - 1 == sum(bool(e.issues) for e in report.entries)


@needs_lo
def test_libreoffice_converts_to_pdf(written: Path, plan: Plan, tmp_path: Path) -> None:
    bundled = write_workbook(bundled_report(plan), tmp_path / "bundled.xlsx")
    pdfs = convert([written, bundled], "pdf", tmp_path / "pdf")
    # Every sheet prints (seven sheets, the bundled month's long ones on several pages).
    small, big = (pdf_pages(p) for p in pdfs)
    assert small >= len(SHEETS) and big > small


def test_rows_not_used_from_an_accepted_form_are_unverified_not_missing(tmp_path: Path) -> None:
    import openpyxl

    report = small_report()
    # 泗泾镇's form was accepted, but its row for task 1 was rejected (text mismatch)
    sub = Submission(file="泗泾镇6月.xlsx", unit=SIJING, sha256="1" * 64, size=1, read_at="t")
    tasks = (replace(report.tasks[0], missing=0, reported=3, missing_units=(),
                     unverified_units=(SIJING,)), *report.tasks[1:])
    report = rebuild(report, tasks=tasks, submissions=(*report.submissions, sub))
    ws = openpyxl.load_workbook(write_workbook(report, tmp_path / "w.xlsx"))["单位填报明细"]
    row = next(r for r in _rows(ws)[1:] if r[2] == SIJING)
    assert row[3] == "待核实" and row[6] == "该行未采用，见校验报告" and row[9] == "泗泾镇6月.xlsx"
    assert "未报送" not in {r[3] for r in _rows(ws)[1:]}


def test_only_substantive_issues_are_listed(tmp_path: Path) -> None:
    import openpyxl

    report = small_report()
    none_said = [replace(e, issues=text) for e, text in zip(
        report.entries[3:], ("无", "暂无。", "—"), strict=True)]
    behind = _entry(2, EDU, Status.BEHIND, 30.0, issues="无")
    report = rebuild(report, entries=(*report.entries[:2], behind, *none_said))
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "w.xlsx"))
    assert [r[4] for r in _rows(book["问题与建议"])[1:]] == ["@x 经费不足"]
    late = {r[0]: r for r in _rows(book["逾期滞后"])[1:]}
    assert late[2][9] is None  # 区教育局：无 is not a reason


@pytest.mark.parametrize(("previous", "header"), [
    ("2025-05", "上月状态"), ("2025-04", "上期状态（2025-04）"), (None, "上月状态")])
def test_previous_status_header_names_an_older_period(tmp_path: Path, previous: str | None,
                                                      header: str) -> None:
    import openpyxl

    report = with_previous(small_report(), Period.parse(previous) if previous else None)
    ws = openpyxl.load_workbook(write_workbook(report, tmp_path / "w.xlsx"))["任务汇总"]
    assert _header(ws)[15] == header
    assert ("cellIs", "equal", ('"滞后"',)) in _rules(ws)["P2:P5"]
