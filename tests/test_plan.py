"""The plan stage: deadlines, unit lists, the bundled plan, reading and writing plan workbooks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from gkreport.core.model import Plan, UnitKind
from gkreport.core.problems import GkreportError
from gkreport.core.text import fold
from gkreport.plan.book import (
    default_registry,
    plan_json,
    read_plan,
    units_from_records,
    write_plan_workbook,
)
from gkreport.plan.registry import guess_kind, term_rule
from gkreport.plan.rules import (
    RawTask,
    build_collectives,
    build_plan,
    parse_deadline,
    plan_name,
    resolve_units,
    table_title,
)
from gkreport.plan.table import parse_task_table
from gkreport.plan.unitphrases import parse_units, split_units

# ---------------------------------------------------------------- deadlines


@pytest.mark.parametrize(("text", "expected"), [
    ("全年", date(2025, 12, 31)),
    ("年内", date(2025, 12, 31)),
    ("年底前", date(2025, 12, 31)),
    ("年底", date(2025, 12, 31)),
    ("下半年", date(2025, 12, 31)),
    ("全年完成", date(2025, 12, 31)),
    ("4月", date(2025, 4, 30)),
    ("4月底前", date(2025, 4, 30)),
    ("4月底", date(2025, 4, 30)),
    ("2月", date(2025, 2, 28)),
    ("6月底前", date(2025, 6, 30)),
    ("６月底前", date(2025, 6, 30)),  # full-width digit
    ("6月10日前", date(2025, 6, 10)),
    ("6 月 10 日", date(2025, 6, 10)),
    ("上半年", date(2025, 6, 30)),
    ("第三季度", date(2025, 9, 30)),
    ("三季度", date(2025, 9, 30)),
    ("第一季度末", date(2025, 3, 31)),
    ("2025年9月", date(2025, 9, 30)),
    ("2025年6月底前", date(2025, 6, 30)),
    ("2025年上半年", date(2025, 6, 30)),
    ("2026年3月底前", date(2026, 3, 31)),  # an explicit year wins over the plan year
    ("2025-09-15", date(2025, 9, 15)),
    ("2025/9/15", date(2025, 9, 15)),
    ("长期坚持", None),
    ("长期", None),
    ("持续推进", None),
    (" 长期坚持。", None),
    (datetime(2025, 7, 15, 0, 0), date(2025, 7, 15)),  # an Excel date cell
    (date(2025, 11, 20), date(2025, 11, 20)),
])
def test_deadline_rules(text: object, expected: date | None) -> None:
    d = parse_deadline(text, 2025)
    assert d.date == expected
    assert d.ongoing is (expected is None)


def test_deadline_keeps_the_written_text() -> None:
    assert parse_deadline(" 6月底前 ", 2025).text == "6月底前"
    assert parse_deadline(datetime(2025, 7, 15), 2025).text == "2025-07-15"
    assert parse_deadline("长期坚持", 2025).label() == "无"


@pytest.mark.parametrize("text", ["", None, "尽快", "每月", "13月", "2月30日", "持续到6月",
                                  "视情况而定", "45838"])
def test_unknown_deadline_raises(text: object) -> None:
    with pytest.raises(ValueError):
        parse_deadline(text, 2025)


# ---------------------------------------------------------------- units


@pytest.fixture(scope="module")
def registry() -> tuple:
    units, rows = default_registry()
    collectives, problems = build_collectives(rows, units)
    assert problems == []
    return units, collectives


def test_default_registry() -> None:
    units, rows = default_registry()
    kinds = Counter(u.kind for u in units)
    assert kinds[UnitKind.STREET_TOWN] == 17
    assert sum(u.name.endswith("街道") for u in units) == 6
    assert sum(u.name.endswith("镇") for u in units) == 11
    assert kinds[UnitKind.DEPARTMENT] >= 30
    assert dict(rows) == {"各街镇": "类别=街镇", "区政府各部门": "类别=区政府部门",
                          "各有关单位": "开放"}
    # No name or alias is given twice.
    recs = [{"name": u.name, "kind": u.kind.value, "aliases": "、".join(u.aliases)} for u in units]
    assert units_from_records(recs)[1] == []


def test_split_units_on_every_separator() -> None:
    text = "区政府办公室、区发改委，区经委,区教育局；区民政局;区财政局\n区科委 \u3000各街镇"
    assert split_units(text) == ["区政府办公室", "区发改委", "区经委", "区教育局", "区民政局",
                                 "区财政局", "区科委", "各街镇"]
    # A slash belongs to a name (区A/B办), it does not separate units.
    assert split_units("区A/B办、区财政局") == ["区A/B办", "区财政局"]
    assert split_units("区政府办公室、各有关单位、 各街镇") == ["区政府办公室", "各有关单位", "各街镇"]
    assert split_units("") == []


def test_resolve_aliases_lead_and_streets(registry: tuple) -> None:
    units, collectives = registry
    named, expected, lead, is_open, unknown = resolve_units(
        "区发改委、区府办、\n 区城运办、各街镇", units, collectives)
    assert named == ["区发展改革委", "区政府办公室", "区城运中心"]
    assert expected[:3] == named
    assert len(expected) == 3 + 17
    assert expected[3:5] == ["岳阳街道", "永丰街道"]  # collective members in registry order
    assert lead == "区发展改革委"
    assert not is_open and unknown == []


def test_resolve_departments_collective(registry: tuple) -> None:
    units, collectives = registry
    named, expected, lead, is_open, _ = resolve_units("区政府各部门、各街镇", units, collectives)
    departments = [u.name for u in units if u.kind is UnitKind.DEPARTMENT]
    assert named == []
    assert expected == departments + [u.name for u in units if u.kind is UnitKind.STREET_TOWN]
    assert lead == "区政府各部门"  # the collective term as written
    assert not is_open


def test_open_collective_expects_nobody(registry: tuple) -> None:
    units, collectives = registry
    named, expected, lead, is_open, unknown = resolve_units(
        "区数据局、各有关单位", units, collectives)
    assert (named, expected, lead, is_open, unknown) == (["区数据局"], ["区数据局"], "区数据局",
                                                         True, [])
    _, expected, lead, is_open, _ = resolve_units("各有关单位", units, collectives)
    assert (expected, lead, is_open) == ([], "各有关单位", True)


def test_named_unit_also_in_collective_is_listed_once(registry: tuple) -> None:
    units, collectives = registry
    _, expected, _, _, _ = resolve_units("泗泾镇、各街镇、泗泾镇", units, collectives)
    assert expected.count("泗泾镇") == 1 and expected[0] == "泗泾镇"
    assert len(expected) == 17


def test_lead_marked_and_notes(registry: tuple) -> None:
    units, collectives = registry
    named, _, lead, _, unknown = resolve_units(
        "区财政局（配合）、区发改委（牵头）、区经委等", units, collectives)
    assert named == ["区财政局", "区发展改革委", "区经委"]
    assert lead == "区发展改革委"
    assert unknown == []


@pytest.mark.parametrize(("name", "suggestion"), [
    ("松江区财政局", "区财政局"),
    ("区发展改革委员会", "区发展改革委"),
    ("区文旅局局", "区文化旅游局"),
    ("各街道", "各街镇"),
])
def test_unknown_unit_suggests_the_closest(registry: tuple, name: str, suggestion: str) -> None:
    units, collectives = registry
    _, expected, lead, _, unknown = resolve_units(f"{name}、区财政局", units, collectives)
    assert unknown == [(name, f"，是否为“{suggestion}”？")]
    assert lead == name  # still the first written


def test_unknown_unit_is_a_plan_problem_naming_its_row(registry: tuple) -> None:
    units, collectives = registry
    raw = (RawTask(1, "类", "任务一", "区政府办公室", "全年", 3),
           RawTask(2, "类", "任务二", "区宇宙局、区财政局", "全年", 4),
           RawTask(3, "类", "任务三", "", "尽快", 5),
           RawTask(3, "类", "任务三重复", "区财政局", "全年", 6),
           RawTask(4, "类", "任务四", "区财政局", None, 7))
    plan = build_plan(year=2025, title="t", raw=raw, units=units, collectives=collectives,
                      problems=[], file="计划.xlsx")
    got = [(p.code, p.file, p.sheet, p.row) for p in plan.problems]
    assert got == [("plan-unknown-unit", "计划.xlsx", "任务分解表", 4),
                   ("plan-bad-deadline", "计划.xlsx", "任务分解表", 5),
                   ("plan-no-units", "计划.xlsx", "任务分解表", 5),
                   ("plan-duplicate-no", "计划.xlsx", "任务分解表", 6),
                   ("plan-empty-deadline", "计划.xlsx", "任务分解表", 7)]
    assert plan.problems[0].message == "责任单位“区宇宙局”不在单位名录中"
    assert "“尽快”" in plan.problems[1].message
    assert [t.no for t in plan.tasks] == [1, 2, 3, 4]
    assert plan.task(2).expected_units == ("区财政局",)
    assert plan.has_errors


def test_collective_rules(registry: tuple) -> None:
    units, _ = registry
    colls, problems = build_collectives(
        [("重点部门", "区财政局、区发改委"), ("乱写", "区财政局、区宇宙局"), ("开放集合", "开放")],
        units, file="p.xlsx")
    assert colls[0].members == ("区财政局", "区发展改革委")
    assert colls[2].open and colls[2].members == ()
    assert [(p.code, p.sheet) for p in problems] == [("plan-bad-collective", "集合名称")]


def test_unit_registry_problems() -> None:
    units, problems = units_from_records([
        {"name": "区甲局", "kind": "区政府部门", "aliases": "甲局"},
        {"name": "区乙局", "kind": "委办局", "aliases": "甲局"},
    ], file="p.xlsx")
    assert units[1].kind is UnitKind.OTHER
    assert [p.code for p in problems] == ["plan-unknown-kind", "plan-duplicate-unit"]


# ---------------------------------------------------------------- the bundled plan


def test_bundled_plan_facts(plan: Plan) -> None:
    assert plan.year == 2025
    assert plan.title == "2025年松江区政务公开工作要点"
    assert plan.problems == ()
    assert [t.no for t in plan.tasks] == list(range(1, 28))
    dates = Counter(t.deadline.date for t in plan.tasks)
    assert dates == {date(2025, 12, 31): 25, date(2025, 4, 30): 1, date(2025, 8, 31): 1}
    assert plan.task(9).deadline == parse_deadline("4月", 2025)
    assert plan.task(18).deadline.date == date(2025, 8, 31)
    assert [sum(t.category == c for t in plan.tasks) for c in plan.categories] == [4, 13, 4, 6]
    assert plan.categories == ("依法履行政府信息公开职责", "发挥以公开促落实、优服务、强监督的功能作用",
                               "持续深化政民(企)互动和公众参与", "不断提升政务公开质效")
    assert len(plan.expected_units) == 56


def test_bundled_plan_task_units(plan: Plan) -> None:
    t23 = plan.task(23)
    # The attachment table, not the body text, is authoritative.
    assert t23.named_units == ("区政府办公室", "区经委", "区文化旅游局", "区体育局", "区融媒体中心")
    assert t23.open and t23.lead_unit == "区政府办公室"
    assert len(t23.expected_units) == 5 + 17
    t2 = plan.task(2)
    assert t2.units_text == "区政府办公室、各有关单位、 各街镇"  # as written, stray space kept
    assert t2.lead_unit == "区政府办公室" and t2.open
    assert plan.task(1).lead_unit == "区政府各部门"
    assert len(plan.task(1).expected_units) == len(plan.units) - 4  # all but 类别 其他
    assert plan.task(15).expected_units == ("区发展改革委",)
    assert plan.task(13).named_units == ("区委编办",)
    assert not plan.task(21).open
    assert plan.accepts(plan.task(2), "区财政局")  # open task: any registered unit
    assert not plan.accepts(plan.task(15), "区财政局")


def test_plan_json(plan: Plan) -> None:
    data = json.loads(json.dumps(plan_json(plan), ensure_ascii=False))
    assert list(data) == ["year", "title", "fingerprint", "tasks", "units", "problems"]
    assert (data["year"], data["title"], data["fingerprint"]) == (
        2025, "2025年松江区政务公开工作要点", plan.fingerprint)
    assert len(data["tasks"]) == 27
    t9 = data["tasks"][8]
    assert t9 == {
        "no": 9, "category": "发挥以公开促落实、优服务、强监督的功能作用",
        "text": plan.task(9).text, "units_text": "区政府办公室、各有关单位、 各街镇",
        "lead_unit": "区政府办公室", "deadline_text": "4月", "deadline": "2025-04-30",
        "expected_units": list(plan.task(9).expected_units)}
    assert Counter(t["deadline"] for t in data["tasks"]) == {
        "2025-12-31": 25, "2025-04-30": 1, "2025-08-31": 1}
    assert data["units"][1] == {"name": "区发展改革委", "kind": "区政府部门",
                                "aliases": ["区发改委", "区发展和改革委员会"]}
    assert data["problems"] == []


def test_plan_json_problems_and_ongoing(registry: tuple) -> None:
    units, collectives = registry
    raw = (RawTask(1, "类", "任务", "区宇宙局", "长期坚持", 7),)
    plan = build_plan(year=2025, title="t", raw=raw, units=units, collectives=collectives,
                      problems=[], file="p.xlsx")
    data = plan_json(plan)
    assert data["tasks"][0]["deadline"] is None
    assert data["tasks"][0]["deadline_text"] == "长期坚持"
    assert data["problems"] == [{
        "code": "plan-unknown-unit", "severity": "错误",
        "message": plan.problems[0].message, "fix": plan.problems[0].fix,
        "file": "p.xlsx", "sheet": "任务分解表", "cell": "", "row": 7}]


# ---------------------------------------------------------------- tables and workbooks


def test_plan_name() -> None:
    assert plan_name("《2025年松江区政务公开工作要点》任务分解表") == "2025年松江区政务公开工作要点"
    assert plan_name("2025年松江区政务公开工作任务分解表") == "2025年松江区政务公开工作要点"
    assert plan_name("2025年松江区政务公开工作要点") == "2025年松江区政务公开工作要点"


def test_task_table_without_header_is_refused() -> None:
    with pytest.raises(GkreportError) as exc:
        parse_task_table([["随便"], ["什么"]], file="x.xlsx", sheet="Sheet1")
    assert exc.value.problems[0].code == "plan-no-tasks"
    with pytest.raises(GkreportError) as exc:
        parse_task_table([["序号", "二级指标", "时间节点"], [1, "任务", "全年"]], file="x.xlsx")
    p = exc.value.problems[0]
    assert p.code == "plan-missing-column"
    assert p.message.startswith("任务分解表缺少“责任单位”列")
    assert "x.xlsx" in str(exc.value)


def test_task_table_variants() -> None:
    rows: list[list[object]] = [
        ["附件1", None, None, None, None],
        ["《2025年某区工作要点》任务分解表", None, None, None, None],
        ["具体\n工作任务", "责任单位", "责任单位", "完成\n时限", "备注"],
        [None, "牵头单位", "配合单位", None, None],
        ["一、第一类", "一、第一类", "一、第一类", "一、第一类", "一、第一类"],  # merged row
        ["任务甲，很长的\n一句话", "区财政局", "区发改委、\n各街镇", "6月底前", ""],
        ["任务乙", "区财政局", None, datetime(2025, 9, 1), ""],
        ["二、第二类", None, None, None, None],
        ["具体\n工作任务", "责任单位", "责任单位", "完成\n时限", "备注"],  # header on a new page
        ["task\nmore 丙", "区民政局", "", "长期坚持", ""],
        ["注：本表由区政府办公室负责解释。", None, None, None, None],
    ]
    table = parse_task_table(rows, file="t.xlsx", sheet="S")
    assert table.title == "《2025年某区工作要点》任务分解表"
    assert [(t.no, t.category, t.text, t.units_text, t.deadline, t.row) for t in table.tasks] == [
        (1, "第一类", "任务甲，很长的一句话", "区财政局、区发改委、 各街镇", "6月底前", 6),
        (2, "第一类", "任务乙", "区财政局", datetime(2025, 9, 1), 7),
        (3, "第二类", "task more 丙", "区民政局", "长期坚持", 10),
    ]
    assert table.problems == ()


def test_task_table_renumbers_per_category_numbering() -> None:
    rows: list[list[object]] = [["序号", "类别", "工作任务", "责任单位", "时间节点"],
                                [1, "甲", "a", "区财政局", "全年"], [2, "甲", "b", "区财政局", "全年"],
                                [1, "乙", "c", "区财政局", "全年"]]
    table = parse_task_table(rows, file="t.xlsx", sheet="S")
    assert [t.no for t in table.tasks] == [1, 2, 3]
    assert [p.code for p in table.problems] == ["plan-renumbered"]
    # Restarting inside one category is a real duplicate: left for build_plan to report.
    rows[3][1] = "甲"
    assert [t.no for t in parse_task_table(rows).tasks] == [1, 2, 1]


def test_task_table_without_deadline_or_number() -> None:
    rows: list[list[object]] = [["工作任务", "责任单位"], ["a", "区财政局"], ["b", "区民政局"]]
    table = parse_task_table(rows, file="t.xlsx", sheet="S")
    assert [(t.no, t.deadline) for t in table.tasks] == [(1, "全年"), (2, "全年")]
    assert [(p.code, p.severity.value) for p in table.problems] == [
        ("plan-no-deadline-column", "警告")]


def _office_workbook(path: Path) -> Path:
    """A plan workbook as an office might edit it: title rows, merges, a date, a bad deadline."""
    wb = Workbook()
    ws = wb.active
    ws.title = "任务分解表"
    ws.append(["2026年某区政务公开工作要点"])
    ws.append([])
    ws.append(["序号", "一级指标", "二级指标", "责任单位", "时间节点"])
    ws.append([1, "类一", "任务一", "区发改委、\n  各街镇", "全年"])
    ws.append([2, None, "任务二", "区府办", None])
    ws.append([3, "类二", "任务三", "区财政局", datetime(2026, 5, 20)])
    ws.append([4, None, "任务四", "区财政局", "过几天"])
    ws.merge_cells("E4:E5")  # one deadline for two tasks
    ws.merge_cells("A1:E1")
    us = wb.create_sheet("单位名录")
    us.append(["单位名称", "类别", "别名"])
    for name, kind, alias in [("区发展改革委", "区政府部门", "区发改委"),
                              ("区政府办公室", "区政府部门", "区府办"),
                              ("区财政局", "区政府部门", None), ("甲镇", "街镇", None),
                              ("乙街道", "街镇", None)]:
        us.append([name, kind, alias])
    cs = wb.create_sheet("集合名称")
    cs.append(["名称", "成员规则"])
    cs.append(["各街镇", "类别=街镇"])
    wb.save(path)
    return path


def test_read_plan_tolerates_office_edits(tmp_path: Path) -> None:
    plan = read_plan(_office_workbook(tmp_path / "计划.xlsx"))
    assert (plan.year, plan.title) == (2026, "2026年某区政务公开工作要点")
    assert [t.deadline.date for t in plan.tasks] == [
        date(2026, 12, 31), date(2026, 12, 31), date(2026, 5, 20), date(2026, 12, 31)]
    assert plan.task(1).expected_units == ("区发展改革委", "甲镇", "乙街道")
    assert plan.task(2).category == "类一" and plan.task(2).lead_unit == "区政府办公室"
    assert [(p.code, p.file, p.sheet, p.row) for p in plan.problems] == [
        ("plan-bad-deadline", "计划.xlsx", "任务分解表", 7)]
    assert plan.problems[0].line() == (
        "[错误] 计划.xlsx / 任务分解表 / 第 7 行：时间节点“过几天”无法识别。"
        "请写成“全年”“6月底前”“上半年”“第三季度”“2025年9月”“长期坚持”或具体日期")


def test_read_plan_missing_sheet_and_garbage(tmp_path: Path) -> None:
    path = _office_workbook(tmp_path / "p.xlsx")
    wb = load_workbook(path)
    del wb["集合名称"]
    wb.save(path)
    with pytest.raises(GkreportError) as exc:
        read_plan(path)
    assert (exc.value.problems[0].code, exc.value.problems[0].sheet) == (
        "plan-missing-sheet", "集合名称")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(GkreportError) as exc:
        read_plan(bad)
    assert exc.value.problems[0].code == "plan-unreadable"
    with pytest.raises(GkreportError):
        read_plan(tmp_path / "none.xlsx")


def test_write_plan_workbook_round_trip(tmp_path: Path, plan: Plan) -> None:
    units, colls = default_registry()
    raw = [RawTask(t.no, t.category, t.text, t.units_text, t.deadline.text, 0) for t in plan.tasks]
    raw[0] = RawTask(1, raw[0].category, "=SUM(A1)", raw[0].units_text, date(2025, 3, 1), 0)
    path = write_plan_workbook(tmp_path / "out" / "p.xlsx", title=plan.title, tasks=raw,
                               units=units, collectives=colls)
    wb = load_workbook(path)
    assert wb.sheetnames == ["任务分解表", "单位名录", "集合名称", "设置"]
    ws = wb["任务分解表"]
    assert ws["A1"].value == plan.title
    assert [c.value for c in ws[2]] == ["序号", "一级指标", "二级指标", "责任单位", "时间节点"]
    assert sorted(str(r) for r in ws.merged_cells.ranges) == [
        "A1:E1", "B20:B23", "B24:B29", "B3:B6", "B7:B19"]
    assert ws["C3"].value == "=SUM(A1)" and ws["C3"].data_type == "s"  # text, not a formula
    assert ws["E3"].value == datetime(2025, 3, 1) and ws["E3"].number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A3"
    again = read_plan(path)
    assert again.task(1).deadline.date == date(2025, 3, 1)
    assert again.tasks[1:] == plan.tasks[1:]
    assert again.units == plan.units and again.collectives == plan.collectives
    assert [c.value for c in wb["单位名录"][1]] == ["单位名称", "类别", "别名", "联系人", "联系电话"]
    assert wb["集合名称"]["B4"].value == "开放"


# ---------------------------------------------------------------- unit phrases


@pytest.mark.parametrize(("cell", "entries", "tail"), [
    ("区财政局牵头，区民政局、各街镇配合",
     [("区财政局", "牵头"), ("区民政局", "配合"), ("各街镇", "配合")], ""),
    ("综合科牵头落实", [("综合科", "牵头")], ""),
    ("区教育局、区卫健委、区民政局分别牵头落实",
     [("区教育局", "牵头"), ("区卫健委", "牵头"), ("区民政局", "牵头")], ""),
    ("各街镇负责落实", [("各街镇", "")], ""),
    ("区财政局，区审计局、区国资委", [("区财政局", ""), ("区审计局", ""), ("区国资委", "")], ""),
    ("区住建委、区交通委等相关部门", [("区住建委", ""), ("区交通委", "")], "等相关部门"),
    ("区应急局等有关行业主管部门", [("区应急局", "")], "等有关行业主管部门"),
    ("区委宣传部（区政府新闻办）、区网信办", [("区委宣传部（区政府新闻办）", ""), ("区网信办", "")], ""),
    ("区财政局（配合）、区发改委（牵头）", [("区财政局", "配合"), ("区发改委", "牵头")], ""),
    ("区财政局\n（牵头）、区民政局", [("区财政局", "牵头"), ("区民政局", "")], ""),
    ("牵头单位：区财政局；配合单位：区民政局", [("区财政局", "牵头"), ("区民政局", "配合")], ""),
    ("區財政局牽頭，區民政局配合", [("區財政局", "牵头"), ("區民政局", "配合")], ""),
    ("各村（居）", [("各村（居）", "")], ""),
])
def test_unit_phrases(cell: str, entries: list[tuple[str, str]], tail: str) -> None:
    phrase = parse_units(cell)
    role = {(True, False): "牵头", (False, True): "配合", (False, False): ""}
    assert [(e.name, role[e.lead, e.partner]) for e in phrase.entries] == entries
    assert phrase.tail == tail


def test_lead_from_phrases(registry: tuple) -> None:
    units, collectives = registry
    assert resolve_units("区财政局配合，区发改委牵头", units, collectives)[2] == "区发展改革委"
    named, _, lead, _, unknown = resolve_units("區財政局、區民政局", units, collectives)
    assert (named, lead, unknown) == (["区财政局", "区民政局"], "区财政局", [])


def test_bracketed_second_name_is_decided_by_the_registry(registry: tuple) -> None:
    units, collectives = registry
    # An alias in brackets: one unit.
    assert resolve_units("区发改委（区发展和改革委员会）", units, collectives)[0] == ["区发展改革委"]
    # A unit of its own in brackets: both.
    assert resolve_units("区文化旅游局（区体育局）", units, collectives)[0] == [
        "区文化旅游局", "区体育局"]
    # Nothing known inside: one unknown name, never split at the bracket.
    assert resolve_units("区宇宙局（区银河办）", units, collectives)[4] == [("区宇宙局（区银河办）", "")]


def test_unknown_units_on_several_rows_are_one_problem(registry: tuple) -> None:
    units, collectives = registry
    raw = (RawTask(1, "类", "任务一", "区宇宙局、区财政局", "全年", 3),
           RawTask(2, "类", "任务二", "区宇宙局", "全年", 4),
           RawTask(3, "类", "任务三", "松江区财政局牵头，区银河办配合", "全年", 5))
    plan = build_plan(year=2025, title="t", raw=raw, units=units, collectives=collectives,
                      problems=[], file="计划.xlsx")
    assert [(p.code, p.row) for p in plan.problems] == [("plan-unknown-units", None)]
    assert plan.problems[0].message == (
        "3 个责任单位不在单位名录中：区宇宙局（第 3、4 行）；松江区财政局（第 5 行，是否为“区财政局”？）；"
        "区银河办（第 5 行）")


def test_plan_warnings_tail_nobody_and_same_text(registry: tuple) -> None:
    units, collectives = registry
    raw = (RawTask(1, "类", "重点任务", "区财政局等相关部门", "全年", 3),
           RawTask(2, "类", "重点任务", "各有关单位", "全年", 4),
           RawTask(3, "类", "重点任务", "区民政局等", "全年", 5))
    plan = build_plan(year=2025, title="t", raw=raw, units=units, collectives=collectives,
                      problems=[], file="计划.xlsx")
    assert [p.code for p in plan.problems] == ["plan-units-etc", "plan-no-expected-units",
                                               "plan-same-text"]
    assert [p.message for p in plan.problems] == [
        "2 项任务的责任单位以“等相关部门”“等”结尾，只计入列明的单位（第 3、5 行）",
        "1 项任务不要求任何单位报送（序号 2），责任单位只写了“各有关单位”",
        "3 项任务的内容相同：“重点任务”（序号 1、2、3）"]
    assert not plan.has_errors


# ---------------------------------------------------------------- headers and rows


def test_requirement_column_is_the_text_and_the_heading_a_category() -> None:
    rows: list[list[object]] = [
        ["重点任务", "具体要求", "责任科室", "时限要求"],
        ["加强主动公开", "要求甲。", "办公室", "全年"],
        ["", "要求乙。", "法规科", "6月底前"],
        ["深化政策解读", "要求丙。", "法规科", "全年"],
    ]
    table = parse_task_table(rows)
    assert [(t.no, t.category, t.text) for t in table.tasks] == [
        (1, "加强主动公开", "要求甲。"), (2, "加强主动公开", "要求乙。"), (3, "深化政策解读", "要求丙。")]


def test_three_heading_levels_keep_the_upper_level() -> None:
    rows: list[list[object]] = [
        ["工作任务", "责任单位", "完成时限"],
        ["一、甲类", "一、甲类", "一、甲类"],
        ["（一）子类A", None, None],
        ["1.任务一", "区财政局", "全年"],
        ["（二）子类B", None, None],
        ["2.任务二", "区民政局", "全年"],
        ["二、乙类", None, None],
        ["3.任务三", "区民政局", "全年"],
    ]
    table = parse_task_table(rows)
    assert [(t.no, t.category, t.text) for t in table.tasks] == [
        (1, "甲类／子类A", "任务一"), (2, "甲类／子类B", "任务二"), (3, "乙类", "任务三")]


def test_rows_that_do_not_line_up_are_right_aligned() -> None:
    rows: list[list[object]] = [
        ["序号", "工作任务", "责任单位", "完成时限"],
        ["第一类", 1, "任务一", "区财政局", "全年"],  # an extra leading category cell
        [2, "任务二", "区民政局", "6月底前"],
        ["", "", 3, "任务三", "区民政局", "长期坚持"],  # leading empty cells
    ]
    table = parse_task_table(rows, file="t.xlsx")
    assert [(t.no, t.category, t.text, t.units_text, t.deadline) for t in table.tasks] == [
        (1, "第一类", "任务一", "区财政局", "全年"), (2, "第一类", "任务二", "区民政局", "6月底前"),
        (3, "第一类", "任务三", "区民政局", "长期坚持")]
    assert table.problems == ()


def test_traditional_header_and_deadline() -> None:
    rows: list[list[object]] = [["序號", "工作任務", "責任單位", "完成時限"],
                                [1, "任務", "區財政局", "長期堅持"]]
    table = parse_task_table(rows)
    assert [(t.text, t.units_text) for t in table.tasks] == [("任務", "區財政局")]
    assert parse_deadline(table.tasks[0].deadline, 2025).ongoing
    assert fold("責任單位：區財政局") == "责任单位：区财政局"


def test_progress_report_is_refused() -> None:
    rows: list[list[object]] = [["序号", "任务内容", "完成状态", "完成进度"],
                                [1, "任务一", "已完成", "100%"], [2, "任务二", "进行中", "50%"]]
    with pytest.raises(GkreportError) as exc:
        parse_task_table(rows, file="回收表.xlsx", sheet="填报")
    p = exc.value.problems[0]
    assert (p.code, p.message) == ("plan-progress-report", "这是进度报告，不是任务分解表：表中有 4 处"
                                   "“已完成”“按计划推进”或完成比例等填报内容")


def test_a_plan_with_an_empty_progress_column_is_still_a_plan() -> None:
    rows: list[list[object]] = [["序号", "工作任务", "责任单位", "完成时限", "完成情况"],
                                [1, "任务一", "区财政局", "全年", ""]]
    assert len(parse_task_table(rows).tasks) == 1


@pytest.mark.parametrize(("lines", "title"), [
    (["https://www.example.gov.cn/art_1.html", "首页 > 政务公开", "某区2025年政务公开工作要点",
      "发布时间：2025-03-01"], "某区2025年政务公开工作要点"),
    (["www.example.gov.cn", "当前位置：首页 > 信息公开"], ""),
    (["附件1", "2025年某工作任务分解表"], "2025年某工作任务分解表"),
    (["2025年某区工作会议", "2025年3月5日"], "2025年某区工作会议"),
])
def test_table_title_skips_web_page_lines(lines: list[str], title: str) -> None:
    assert table_title(lines) == title


@pytest.mark.parametrize(("name", "kind"), [
    ("岳阳街道", "街镇"), ("西岭镇", "街镇"), ("某某乡", "街镇"), ("综合科", "其他"),
    ("党政办公室", "其他"), ("财政所", "其他"), ("政策法规处", "其他"), ("区政府办公室", "区政府部门"),
    ("县司法局", "区政府部门"), ("区疾控中心", "区政府部门"), ("平安办", "区政府部门")])
def test_guess_kind(name: str, kind: str) -> None:
    assert guess_kind(name).value == kind


@pytest.mark.parametrize(("term", "rule"), [
    ("各部门", "类别=区政府部门"), ("县政府各部门", "类别=区政府部门"), ("各乡镇街道", "类别=街镇"),
    ("各镇（街道）", "类别=街镇"), ("各科室", "类别=其他"), ("各业务处室", "类别=其他"),
    ("各相关单位", "开放"), ("有关部门", "开放"), ("各村（居）", "开放"), ("各中小学", "开放"),
    ("区财政局", None)])
def test_collective_terms_by_wording(term: str, rule: str | None) -> None:
    assert term_rule(term) == rule


def test_a_numbered_row_without_text_or_units_is_reported() -> None:
    rows: list[list[object]] = [["序号", "工作任务", "责任单位", "完成时限"],
                                [1, "任务一", "区财政局", "全年"], [2, "", "", "6月底前"],
                                ["（此处空白）", None, None, None]]
    table = parse_task_table(rows, file="t.xlsx", sheet="S")
    assert [t.no for t in table.tasks] == [1]
    assert [(p.code, p.row) for p in table.problems] == [("plan-empty-task", 3)]


def test_a_lone_unit_cell_is_not_taken_for_a_category() -> None:
    rows: list[list[object]] = [["序号", "一级指标", "工作任务", "责任单位", "完成时限"],
                                [1, "类一", "任务一", "区财政局", "全年"],
                                [None, None, None, "各街镇", None],  # a split cell
                                [2, None, "任务二", "区民政局", "全年"]]
    table = parse_task_table(rows, file="t.xlsx", sheet="S")
    assert [(t.no, t.category) for t in table.tasks] == [(1, "类一"), (2, "类一")]
    assert [(p.code, p.row) for p in table.problems] == [("plan-empty-task", 3)]


def test_registered_names_are_units_whatever_they_end_with(tmp_path: Path) -> None:
    """A city's registry names units the way it likes (测试单位0001, a company): a task naming
    several is a task, not prose in the unit column (the check a document's import needs)."""
    from gkreport.core.model import Unit

    names = [f"测试单位{i:05d}" for i in range(1, 9)] + ["城投集团有限公司"]
    units = tuple(Unit(n, UnitKind.OTHER) for n in names)
    cell = "、".join(names)  # 9 names, 85 characters, none ending like 局/委/镇
    path = tmp_path / "任务分解表.xlsx"
    write_plan_workbook(path, title="2025年某市工作要点",
                        tasks=[RawTask(1, "一、公开", "做好信息公开", cell, "全年", 1),
                               RawTask(2, "一、公开", "推进政务新媒体规范", names[0], "6月底前", 2)],
                        units=units, collectives=[])
    plan = read_plan(path)
    assert [p.code for p in plan.problems if p.is_error] == []
    assert [t.no for t in plan.tasks] == [1, 2]
    assert plan.task(1).expected_units == tuple(names)
