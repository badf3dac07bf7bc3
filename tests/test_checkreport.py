"""The check report: every problem in a filterable sheet, a 汇总 sheet, and the per-unit table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from gkreport.core.model import Plan, Returns
from gkreport.intake.ingest import read_returns
from gkreport.render.checkreport import HEADERS, report_filename, unit_table, write_check_report

from .factories import PERIOD, UNIT, fill_form, set_cells


@pytest.fixture
def returns(plan: Plan, blank_forms: dict[str, Path], tmp_path: Path) -> Returns:
    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "财政.xlsx",
              set_cells(H6="差不多", H7="已完成", I7=90))
    fill_form(blank_forms["泗泾镇"], folder / "泗泾.xlsx")
    (folder / "坏文件.xlsx").write_bytes(b"")
    return read_returns(plan, PERIOD, folder)


def test_check_report_lists_every_problem(plan: Plan, returns: Returns, tmp_path: Path) -> None:
    path = write_check_report(returns, plan, PERIOD, tmp_path / "out" / report_filename(PERIOD))
    assert path.name == "校验报告_2025-06.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["问题清单", "汇总", "文件清单"]
    ws = wb["问题清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        (UNIT, "财政.xlsx", "H6", "错误", "unknown-status"),
        (UNIT, "财政.xlsx", "I7", "警告", "done-below-100"),
        ("（未识别）", "坏文件.xlsx", "", "错误", "file-unreadable"),
    ]
    assert rows[1][2] == "填报表" and "差不多" in rows[1][6] and "下拉列表" in rows[1][7]
    assert len(rows) - 1 == len(returns.problems)
    assert ws.auto_filter.ref == "A1:H4"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["G"].width > ws.column_dimensions["D"].width
    rules = {r.formula[0]: r.dxf.fill.bgColor.rgb for cf in ws.conditional_formatting for r in cf.rules}
    assert rules == {'$E2="错误"': "FFFFC7CE", '$E2="警告"': "FFFFEB9C"}
    summary = dict(wb["汇总"].iter_rows(min_row=2, values_only=True))
    # the terminal's words: 文件：发现 …；数据行：读取 N = 采用 N + 未采用 N
    assert summary == {"文件：发现": 3, "文件：读取": 2, "文件：拒收": 1, "文件：跳过": 0,
                       "文件：佐证材料": 0,
                       "文件：发现 = 读取 + 拒收 + 跳过 + 佐证材料": "3 = 2 + 1 + 0 + 0",
                       "数据行：读取": 27, "数据行：采用": 27, "数据行：未采用": 0,
                       "数据行：读取 = 采用 + 未采用": "27 = 27 + 0", "错误": 2, "警告": 1}


def test_unit_table(plan: Plan, returns: Returns) -> None:
    table = unit_table(returns, plan)
    assert [(u.unit, u.file, u.errors, u.warnings) for u in table] == [
        (UNIT, "财政.xlsx", 1, 1), ("泗泾镇", "泗泾.xlsx", 0, 0), ("", "坏文件.xlsx", 1, 0)]
    assert table[0].first_problems[0].startswith("H6：完成状态“差不多”")
    assert table[2].first_problems == ("文件无法读取（文件为空）",)


def test_empty_returns(plan: Plan, tmp_path: Path) -> None:
    r = read_returns(plan, PERIOD, tmp_path / "none")
    path = write_check_report(r, plan, PERIOD, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["问题清单"]
    assert ws.max_row == 1 and unit_table(r, plan) == []


def test_every_file_in_the_folder_is_accounted_for(plan: Plan, blank_forms: dict[str, Path],
                                                   tmp_path: Path) -> None:
    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "财政.xlsx")
    (folder / "~$财政.xlsx").write_bytes(b"lock")
    (folder / "Thumbs.db").write_bytes(b"x")
    (folder / "旧版").mkdir()  # an empty subfolder: nothing in it to account for
    (folder / "说明.docx").write_bytes(b"not a form")
    (folder / "区财政局").mkdir()
    (folder / "区财政局" / "会议纪要.pdf").write_bytes(b"%PDF-1.4")
    (folder / "区财政局" / "~$草稿.xlsx").write_bytes(b"lock")
    returns = read_returns(plan, PERIOD, folder)
    wb = openpyxl.load_workbook(write_check_report(returns, plan, PERIOD, tmp_path / "r.xlsx"))
    rows = list(wb["文件清单"].iter_rows(values_only=True))
    assert rows[0] == ("文件", "单位", "处理结果", "数据行：读取", "数据行：未采用", "错误",
                       "警告", "原因")
    listed = {r[0]: (r[1], r[2], r[7]) for r in rows[1:]}
    assert len(listed) == returns.files.found == 6
    assert listed["财政.xlsx"] == ("区财政局", "读取", None)
    assert listed["~$财政.xlsx"][1:] == ("跳过", "Excel/WPS 打开文件时生成的临时锁定文件，不是填报表")
    assert listed["Thumbs.db"][1] == listed["区财政局/~$草稿.xlsx"][1] == "跳过"
    # Evidence (佐证材料): listed with the unit its folder or name names, never refused
    assert listed["区财政局/会议纪要.pdf"][:2] == ("区财政局", "佐证材料")
    assert listed["说明.docx"][:2] == ("（未识别）", "佐证材料")
    assert [(p.code, p.file) for p in returns.problems if p.code == "evidence-no-unit"] == [
        ("evidence-no-unit", "说明.docx")]
    summary = dict(wb["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary["文件：发现 = 读取 + 拒收 + 跳过 + 佐证材料"] == "6 = 1 + 0 + 3 + 2"
