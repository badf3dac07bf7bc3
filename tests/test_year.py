"""A scripted year (issue: the year, not just the month): March to December on a small plan,
run as the office runs it — forms, filled returns, consolidate — with units missing months,
one skipping December after finishing, one reverting a completion, deadlines passing, a
month caught up and a month without any returns. Every expected task status is computed
here from the rules (README "状态与预警", "跨月：一年的记录"), not read back from the product."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from gkreport.cli import app
from gkreport.core.model import Period, Status
from gkreport.forms import layout

from .factories import SMALL_TASKS, fill_unit_form, small_workspace

DONE, ON, BEHIND, NOT = Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED
runner = CliRunner()
MONTHS = [Period(2025, m) for m in range(3, 13)]
DEC = MONTHS[-1]
NO_RETURNS = Period(2025, 11)  # nobody returned anything in November
CAUGHT_UP = Period(2025, 8)  # returned, but only consolidated when September is
DEADLINES = {1: date(2025, 12, 31), 2: date(2025, 4, 30), 3: date(2025, 9, 30), 4: None,
             5: date(2025, 6, 30)}
UNITS_OF = {no: units.split("、") for no, _c, _t, units, _d in SMALL_TASKS}


def answer(unit: str, p: Period) -> dict[int, Status] | None:
    """What each unit reports (task -> status), or None for no form that month."""
    m = p.month
    if p == NO_RETURNS:
        return None
    if unit == "区甲局":
        return {1: DONE if m >= 9 else ON, 2: DONE if m >= 7 else ON}
    if unit == "区乙局":  # finished everything by September, then skips December
        return None if m == 12 else {1: DONE if m >= 9 else ON, 5: DONE if m >= 7 else ON}
    if unit == "区丙局":  # reports task 5 done in May, takes it back in June
        return {4: ON, 5: {5: DONE, 6: ON}.get(m, DONE if m >= 7 else ON)}
    if unit == "东街道":  # misses April and October
        return None if m in (4, 10) else {3: NOT if m == 3 else DONE if m >= 9 else ON}
    if unit == "西镇":
        return {3: NOT if m <= 4 else ON if m <= 7 else BEHIND if m == 8 else DONE}
    raise AssertionError(unit)


def effective(unit: str, no: int, p: Period) -> tuple[Status | None, Period | None]:
    """The unit's report on a task for p: its own, else its latest of the year (沿用上期)."""
    for q in reversed([q for q in MONTHS if q <= p]):
        got = answer(unit, q)
        if got is not None and no in got:
            return got[no], (None if q == p else q)
    return None, None


def expected_status(no: int, p: Period) -> tuple[Status, bool]:
    """The task status rule (README "状态与预警"), written out again here."""
    reports = [effective(u, no, p)[0] for u in UNITS_OF[no]]
    due = DEADLINES[no]
    if all(r is DONE for r in reports):
        return DONE, False
    overdue = due is not None and due <= p.end
    if overdue or any(r is BEHIND for r in reports):
        return BEHIND, overdue
    if not any(r in (DONE, ON, BEHIND) for r in reports):
        return NOT, False
    return ON, False


def expected_colour(no: int, p: Period) -> str | None:
    """三色预警 (README "状态与预警"): 红 overdue; 黄 behind; 蓝 due within 30 days after
    the period; 绿 done."""
    from datetime import timedelta

    status, overdue = expected_status(no, p)
    due = DEADLINES[no]
    if overdue:
        return "红"
    if status is BEHIND:
        return "黄"
    if status is not DONE and due is not None and p.end < due <= p.end + timedelta(days=30):
        return "蓝"
    return "绿" if status is DONE else None


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The year, run month by month: forms, the units' returns, consolidate (August is left
    for September's run to catch up; November has no returns and is never consolidated)."""
    ws = small_workspace(tmp_path_factory.mktemp("year"))
    for p in MONTHS:
        if p == NO_RETURNS:
            continue
        r = runner.invoke(app, ["forms", "-p", str(p), "-w", str(ws)])
        assert r.exit_code == 0, r.output
        forms = ws / "output" / "forms" / str(p)
        for unit in ("区甲局", "区乙局", "区丙局", "东街道", "西镇"):
            got = answer(unit, p)
            if got is not None:
                nxt = p.next
                fill_unit_form(next(forms.glob(f"{unit}_*.xlsx")),
                               ws / "input" / str(p) / f"{unit}.xlsx", got,
                               received=datetime(nxt.year, nxt.month, 3, 10))
        if p != CAUGHT_UP:
            r = runner.invoke(app, ["consolidate", "-p", str(p), "-w", str(ws)])
            assert r.exit_code == 0, r.output
            if p == Period(2025, 9):
                assert "先补汇总了本年度此前未汇总的期次：2025-08" in r.stdout
    return ws


def summary(ws: Path, p: Period) -> dict:
    return json.loads((ws / "output" / str(p) / "summary.json").read_text(encoding="utf-8"))


def task_rows(ws: Path, p: Period) -> dict[int, tuple]:
    """任务汇总 of the period's workbook: task -> its row."""
    sheet = openpyxl.load_workbook(ws / "output" / str(p) / f"汇总表_{p}.xlsx")["任务汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    return {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


@pytest.mark.parametrize("p", [p for p in MONTHS if p != NO_RETURNS], ids=str)
def test_every_task_status_follows_the_rules(year: Path, p: Period) -> None:
    rows = task_rows(year, p)
    for no in UNITS_OF:
        status, overdue = expected_status(no, p)
        assert (rows[no]["任务状态"], rows[no]["逾期"]) == (status.value, "是" if overdue else "否"), (
            p, no)
    s = summary(year, p)
    counts = {st.value: 0 for st in (DONE, ON, BEHIND, NOT)}
    for no in UNITS_OF:
        counts[expected_status(no, p)[0].value] += 1
    assert {k: s["tasks"][k] for k in counts} == counts
    # carried reports: every (unit, task) with no report of its own this month but an earlier one
    carried = sum(effective(u, no, p)[1] is not None for no, us in UNITS_OF.items() for u in us)
    assert s["rows"]["carried"] == carried
    colours = [expected_colour(no, p) for no in UNITS_OF]
    assert [rows[no]["预警"] for no in UNITS_OF] == colours
    assert s["colours"] == {c: colours.count(c) for c in ("红", "黄", "蓝", "绿")}


def test_finished_work_is_not_forgotten_in_december(year: Path) -> None:
    s = summary(year, Period(2025, 12))
    assert "区乙局" in s["units"]["missing"]  # still 未报送 in the submission figures
    # its finished tasks 1 and 5 stay done (carried); 4 is ongoing
    assert s["tasks"]["已完成"] == sum(expected_status(no, DEC)[0] is DONE for no in UNITS_OF)
    detail = openpyxl.load_workbook(year / "output" / "2025-12" / "汇总表_2025-12.xlsx")["单位填报明细"]
    rows = [r for r in detail.iter_rows(values_only=True) if r[2] == "区乙局"]
    carried = {(no, effective("区乙局", no, DEC)) for no in (1, 5)}
    assert {(r[0], r[3], r[9]) for r in rows} == {
        (no, status.value, f"沿用上期（{made}）") for no, (status, made) in carried}


def test_a_deadline_in_the_period_is_due_in_it(year: Path) -> None:
    # task 5 is due 30 June: blue in May (within 30 days after 31 May), red in June
    may, june = summary(year, Period(2025, 5)), summary(year, Period(2025, 6))
    assert 5 in may["near_deadline"] and 5 not in june["near_deadline"]
    assert task_rows(year, Period(2025, 6))[5]["预警"] == "红"
    memo = (year / "output" / "2025-06" / "简报_2025-06.md").read_text(encoding="utf-8")
    assert re.search(r"^\| 5 \| 完成政府网站集约化改造 \| 上半年 \| 到期未完成 \|", memo, re.M)
    # December: every deadline is on or before the period's last day, none "将于…到期"
    december = (year / "output" / "2025-12" / "简报_2025-12.md").read_text(encoding="utf-8")
    assert summary(year, Period(2025, 12))["near_deadline"] == [] and "将于" not in december


def test_a_completion_taken_back_is_flagged(year: Path) -> None:
    import sqlite3

    con = sqlite3.connect(year / "output" / "history.sqlite")
    found = con.execute("SELECT period, unit, task_no, message FROM problems "
                        "WHERE code = 'status-reverted'").fetchall()
    con.close()
    assert found == [("2025-06", "区丙局", 5, "序号 5 的任务在2025年5月已报“已完成”，本期报“按计划推进”")]
    memo = (year / "output" / "2025-06" / "简报_2025-06.md").read_text(encoding="utf-8")
    assert "此前已报完成、本期改报未完成的任务有1项（序号5：区丙局（5月已报完成））" in memo


def test_the_previous_period_is_named_when_it_is_not_last_month(year: Path) -> None:
    december = summary(year, Period(2025, 12))
    assert december["previous_period"] == "2025-10"  # November was never consolidated
    memo = (year / "output" / "2025-12" / "简报_2025-12.md").read_text(encoding="utf-8")
    assert "与上期（2025年10月）相比" in memo
    assert "上期状态（2025-10）" in task_rows(year, Period(2025, 12))[1]
    assert summary(year, Period(2025, 9))["previous_period"] == "2025-08"  # caught up


def test_forms_are_prefilled_with_each_units_own_latest_report(year: Path) -> None:
    def prefilled(p: Period, unit: str) -> dict[int, str]:
        path = next((year / "output" / "forms" / str(p)).glob(f"{unit}_*.xlsx"))
        ws = openpyxl.load_workbook(path)[layout.FORM_SHEET]
        col = {c.key: i for i, c in enumerate(layout.COLUMNS)}
        return {r[col["no"]]: r[col["prev_status"]] for r in
                ws.iter_rows(min_row=layout.FIRST_DATA_ROW + 1, values_only=True)
                if isinstance(r[col["no"]], int)}

    # 东街道 missed April: its May form carries its March answer, with the month said
    assert prefilled(Period(2025, 5), "东街道") == {3: "未启动（3月）"}
    assert prefilled(Period(2025, 6), "东街道") == {3: "按计划推进"}
    # December's forms come after October (November had none): the month is said
    assert prefilled(Period(2025, 12), "区甲局") == {1: "已完成（10月）", 2: "已完成（10月）"}


def test_check_counts_the_problems_consolidate_counts(year: Path) -> None:
    """A completion taken back is found when the period is merged: check, its report and the
    consolidated summary.json count it alike (check said one warning fewer)."""
    from gkreport.workspace import Paths, run_check

    june = Period(2025, 6)
    result = run_check(Paths(year), june)
    s = summary(year, june)["problems"]
    problems = result.returns.problems
    assert (sum(p.is_error for p in problems), sum(not p.is_error for p in problems)) == (
        s["错误"], s["警告"])
    sheet = openpyxl.load_workbook(result.check_report).worksheets[0]
    assert "status-reverted" in {c for row in sheet.iter_rows(values_only=True) for c in row}
