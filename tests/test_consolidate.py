"""The consolidate stage on hand-built plans and returns: status rule, colours, history."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from gkreport.consolidate import colour_for, consolidate
from gkreport.core.model import (
    Colour,
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    Unit,
    UnitKind,
)
from gkreport.core.problems import problem
from gkreport.history import History
from gkreport.year import build_prior

from .factories import make_entry, make_task

DONE, ON, BEHIND, NOT, UNVER = (Status.DONE, Status.ON_TRACK, Status.BEHIND,
                                Status.NOT_STARTED, Status.UNVERIFIED)
JUNE = Period(2025, 6)


def make_plan(year: int = 2025) -> Plan:
    """Five units, five tasks covering each deadline kind and open (各有关单位) tasks."""
    dept, town = UnitKind.DEPARTMENT, UnitKind.STREET_TOWN
    units = (Unit("区甲局", dept), Unit("区乙局", dept), Unit("丙街道", town),
             Unit("丁镇", town), Unit("区戊局", dept))

    tasks = (
        make_task(1, ("区甲局", "区乙局"), date(year, 12, 31)),
        make_task(2, ("区甲局",), date(year, 4, 30)),
        make_task(3, ("丙街道", "丁镇"), None, category="二、重点"),
        make_task(4, ("区甲局",), date(year, 7, 15), open_=True, category="二、重点"),
        make_task(5, (), date(year, 12, 31), open_=True, category="二、重点"),
    )
    return Plan(year=year, title=f"{year}年测试工作要点", tasks=tasks, units=units)


PLAN = make_plan()


def entry(no: int, unit: str, status: Status, progress: float | None = None,
          note: str = "有进展", file: str | None = None, row: int = 6) -> Entry:
    return make_entry(no, unit, status, progress, note=note, file=file, row=row)


def returns(*entries: Entry, period: Period = JUNE, problems=(), submissions=None,
            rejected: int = 0) -> Returns:
    units = sorted({e.unit for e in entries})
    subs = submissions if submissions is not None else tuple(
        Submission(file=f"{u}.xlsx", unit=u, sha256="0" * 64, size=1000,
                   read_at="2025-07-01T09:00:00", rows_read=sum(e.unit == u for e in entries))
        for u in units)
    return Returns(period=str(period), entries=tuple(entries), submissions=tuple(subs),
                   problems=tuple(problems), files=FileCounts(len(subs), len(subs), 0, 0),
                   rows=RowCounts(len(entries) + rejected, len(entries), rejected))


def result(report, no: int):
    return next(t for t in report.tasks if t.task.no == no)


def counts(t) -> tuple:
    return (t.status, t.overdue, t.colour, t.expected, t.reported, t.done, t.behind, t.missing)


# ---------------------------------------------------------------- the task status rule

def test_all_done_is_done_and_green():
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE, 100), entry(1, "区乙局", DONE, 100)), JUNE)
    t = result(r, 1)
    assert counts(t) == (DONE, False, Colour.GREEN, 2, 2, 2, 0, 0)
    assert t.avg_progress == 100 and t.missing_units == () and t.change == ""


def test_one_behind_makes_the_task_behind():
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE, 100), entry(1, "区乙局", BEHIND, 40)),
                    JUNE)
    assert counts(result(r, 1)) == (BEHIND, False, Colour.YELLOW, 2, 2, 1, 1, 0)
    assert result(r, 1).avg_progress == 70


def test_one_missing_unit_keeps_the_task_open():
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE, 100)), JUNE)
    t = result(r, 1)
    assert counts(t) == (ON, False, Colour.NONE, 2, 1, 1, 0, 1)
    assert t.missing_units == ("区乙局",)


def test_no_reports_is_not_started():
    t = result(consolidate(PLAN, returns(), JUNE), 1)
    assert counts(t) == (NOT, False, Colour.NONE, 2, 0, 0, 0, 2)
    assert t.avg_progress is None and t.missing_units == ("区甲局", "区乙局")


def test_all_not_started_is_not_started():
    r = consolidate(PLAN, returns(entry(1, "区甲局", NOT, 0), entry(1, "区乙局", NOT)), JUNE)
    assert counts(result(r, 1)) == (NOT, False, Colour.NONE, 2, 2, 0, 0, 0)
    assert result(r, 1).avg_progress == 0


@pytest.mark.parametrize("status", [ON, NOT, UNVER])
def test_overdue_when_deadline_before_period_end_and_not_done(status):
    t = result(consolidate(PLAN, returns(entry(2, "区甲局", status)), JUNE), 2)
    assert (t.status, t.overdue, t.colour) == (BEHIND, True, Colour.RED)


def test_overdue_without_any_report():
    t = result(consolidate(PLAN, returns(), JUNE), 2)
    assert (t.status, t.overdue, t.colour, t.missing) == (BEHIND, True, Colour.RED, 1)


def test_done_after_deadline_is_not_overdue():
    t = result(consolidate(PLAN, returns(entry(2, "区甲局", DONE, 100)), JUNE), 2)
    assert (t.status, t.overdue, t.colour) == (DONE, False, Colour.GREEN)


def test_deadline_on_the_period_end_is_overdue_in_that_period():
    # Task 2 is due 30 April. April's report is written in May: not done by then, it is
    # overdue (红), never "due within 30 days"; in March it is blue.
    april = consolidate(PLAN, returns(entry(2, "区甲局", ON)), Period(2025, 4))
    assert counts(result(april, 2))[:3] == (BEHIND, True, Colour.RED)
    march = consolidate(PLAN, returns(entry(2, "区甲局", ON)), Period(2025, 3))
    assert counts(result(march, 2))[:3] == (ON, False, Colour.BLUE)
    done = consolidate(PLAN, returns(entry(2, "区甲局", DONE, 100)), Period(2025, 4))
    assert counts(result(done, 2))[:3] == (DONE, False, Colour.GREEN)


def test_ongoing_task_without_deadline_is_never_overdue():
    december = Period(2025, 12)
    r = consolidate(PLAN, returns(entry(3, "丙街道", NOT), entry(3, "丁镇", NOT),
                                  period=december), december)
    assert counts(result(r, 3)) == (NOT, False, Colour.NONE, 2, 2, 0, 0, 0)
    r = consolidate(PLAN, returns(entry(3, "丙街道", ON), period=december), december)
    assert counts(result(r, 3)) == (ON, False, Colour.NONE, 2, 1, 0, 0, 1)


def test_open_task_counts_an_extra_unit_as_reported_not_expected():
    r = consolidate(PLAN, returns(entry(4, "区甲局", DONE, 100), entry(4, "区戊局", ON, 50)), JUNE)
    t = result(r, 4)
    # the extra unit has not finished, so the task is not done yet
    assert counts(t) == (ON, False, Colour.BLUE, 1, 2, 1, 0, 0)
    assert t.avg_progress == 75
    r = consolidate(PLAN, returns(entry(4, "区甲局", DONE), entry(4, "区戊局", DONE)), JUNE)
    assert counts(result(r, 4)) == (DONE, False, Colour.GREEN, 1, 2, 2, 0, 0)
    assert [(e.task_no, e.unit) for e in r.entries] == [(4, "区甲局"), (4, "区戊局")]


def test_open_task_with_no_expected_unit():
    assert counts(result(consolidate(PLAN, returns(), JUNE), 5)) == (
        NOT, False, Colour.NONE, 0, 0, 0, 0, 0)
    r = consolidate(PLAN, returns(entry(5, "丁镇", DONE, 100)), JUNE)
    assert counts(result(r, 5)) == (DONE, False, Colour.GREEN, 0, 1, 1, 0, 0)


def test_unaccepted_entries_are_rejected_with_a_problem_not_lost():
    stray = entry(1, "区戊局", DONE, row=7)  # not expected, task 1 is not open
    dup = entry(1, "区甲局", BEHIND, row=9)
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE), stray, dup), JUNE)
    assert [(e.task_no, e.unit, e.row) for e in r.entries] == [(1, "区甲局", 6)]
    assert [(p.code, p.unit, p.cell) for p in r.problems] == [
        ("duplicate-task", "区甲局", "H9"), ("unknown-task", "区戊局", "H7")]
    assert (r.rows.read, r.rows.merged, r.rows.rejected) == (3, 1, 2)
    # consolidating its own output again changes nothing
    again = consolidate(PLAN, replace(returns(*r.entries), problems=r.problems, rows=r.rows,
                                      submissions=r.submissions, files=r.files), JUNE)
    assert again == r


# ---------------------------------------------------------------- 待核实

def test_unverified_is_reported_but_neither_done_nor_started():
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE, 100), entry(1, "区乙局", UNVER)), JUNE)
    assert counts(result(r, 1)) == (ON, False, Colour.YELLOW, 2, 2, 1, 0, 0)
    r = consolidate(PLAN, returns(entry(3, "丙街道", UNVER), entry(3, "丁镇", NOT)), JUNE)
    assert counts(result(r, 3)) == (NOT, False, Colour.YELLOW, 2, 2, 0, 0, 0)
    r = consolidate(PLAN, returns(entry(3, "丙街道", UNVER), entry(3, "丁镇", BEHIND)), JUNE)
    assert counts(result(r, 3)) == (BEHIND, False, Colour.YELLOW, 2, 2, 0, 1, 0)


# ---------------------------------------------------------------- colours

END = date(2025, 6, 30)


@pytest.mark.parametrize(("status", "overdue", "deadline", "unverified", "colour"), [
    (BEHIND, True, date(2025, 4, 30), False, Colour.RED),
    (ON, True, date(2025, 4, 30), True, Colour.RED),
    (BEHIND, False, date(2025, 12, 31), False, Colour.YELLOW),
    (UNVER, False, date(2025, 12, 31), False, Colour.YELLOW),
    (ON, False, date(2025, 7, 1), True, Colour.YELLOW),
    (BEHIND, False, date(2025, 7, 1), False, Colour.YELLOW),  # yellow wins over blue
    (ON, False, END, False, Colour.NONE),  # due on the period's last day: overdue, not blue
    (ON, False, date(2025, 7, 1), False, Colour.BLUE),  # the day after: blue
    (NOT, False, date(2025, 7, 30), False, Colour.BLUE),  # day 30: still blue
    (ON, False, date(2025, 7, 31), False, Colour.NONE),  # day 31: not yet
    (ON, False, None, False, Colour.NONE),
    (DONE, False, date(2025, 7, 10), False, Colour.GREEN),
    (DONE, False, None, False, Colour.GREEN),
    (NOT, False, date(2025, 12, 31), False, Colour.NONE),
])
def test_colour_for(status, overdue, deadline, unverified, colour):
    assert colour_for(status, overdue=overdue, deadline=deadline, period_end=END,
                      unverified=unverified) is colour


# ---------------------------------------------------------------- units

def test_unit_results_cover_every_expected_unit_in_plan_order():
    subs = (
        Submission(file="甲.xlsx", unit="区甲局", sha256="a" * 64, size=1, read_at="t"),
        Submission(file="乙-旧.xlsx", unit="区乙局", sha256="b" * 64, size=1, read_at="t",
                   accepted=False, superseded=True),
        Submission(file="乙.xlsx", unit="区乙局", sha256="c" * 64, size=1, read_at="t"),
        Submission(file="丙-5月.xlsx", unit="丙街道", sha256="d" * 64, size=1, read_at="t",
                   accepted=False),
    )
    probs = (
        problem("unknown-status", file="乙.xlsx", sheet="填报表", cell="H6", unit="区乙局",
                value="差不多"),
        problem("form-duplicate", file="乙-旧.xlsx", unit="区乙局", kept="乙.xlsx"),
        problem("behind-without-issue", file="甲.xlsx", cell="K6", unit="区甲局"),
        problem("form-wrong-period", file="丙-5月.xlsx", unit="丙街道", found="2025-05",
                period="2025-06"),
    )
    rets = returns(entry(1, "区甲局", BEHIND, file="甲.xlsx"), entry(1, "区乙局", UNVER,
                                                                       file="乙.xlsx"),
                   submissions=subs, problems=probs)
    r = consolidate(PLAN, rets, JUNE)
    assert [(u.unit.name, u.state, u.file, u.tasks, u.errors, u.warnings) for u in r.units] == [
        ("区甲局", "已报送", "甲.xlsx", 3, 0, 1),
        ("区乙局", "需修改", "乙.xlsx", 1, 1, 0),
        ("丙街道", "未报送", "丙-5月.xlsx", 1, 1, 0),
        ("丁镇", "未报送", "", 1, 0, 0),
    ]
    s = r.summary.to_json()
    assert s["units"] == {"expected": 4, "submitted": 2, "missing": ["丙街道", "丁镇"],
                          "needs_fix": ["区乙局"], "due": None, "on_time": [], "late": [],
                          "returned": {}}  # no due date, no ledger: nothing said of time
    assert s["problems"] == {"错误": 2, "警告": 2}


# ---------------------------------------------------------------- summary figures

def test_summarise_figures_and_reconciliation():
    rets = returns(entry(1, "区甲局", DONE, 100), entry(1, "区乙局", DONE, 100),
                   entry(2, "区甲局", ON, 50), entry(3, "丙街道", BEHIND, 10),
                   entry(4, "区甲局", ON), rejected=2)
    r = consolidate(PLAN, rets, JUNE)
    s = r.summary.to_json()
    assert s["rows"] == {"read": 7, "merged": 5, "rejected": 2, "carried": 0}
    assert s["rows"]["read"] == s["rows"]["merged"] + s["rows"]["rejected"]
    assert s["rows"]["merged"] == len(r.entries)
    assert s["tasks"] == {
        "total": 5, "已完成": 1, "按计划推进": 1, "滞后": 2, "未启动": 1, "逾期": 1,
        "by_category": {
            "一、基础": {"total": 2, "已完成": 1, "按计划推进": 0, "滞后": 1, "未启动": 0,
                       "逾期": 1},
            "二、重点": {"total": 3, "已完成": 0, "按计划推进": 1, "滞后": 1, "未启动": 1,
                       "逾期": 0}}}
    assert s["colours"] == {"红": 1, "黄": 1, "蓝": 1, "绿": 1}
    assert s["units"]["expected"] == 4 and s["units"]["submitted"] == 3
    assert s["files"] == {"found": 3, "read": 3, "refused": 0, "skipped": 0, "evidence": 0}
    assert s["period"] == "2025-06" and s["previous_period"] is None


def test_bundled_plan_with_no_returns(plan):
    r = consolidate(plan, returns(), JUNE)
    s = r.summary.to_json()
    assert s["tasks"]["total"] == 27 == len(r.tasks)
    assert s["units"]["expected"] == 56 == len(s["units"]["missing"])
    overdue = [t.task.no for t in r.tasks if t.overdue]
    assert overdue == [t.no for t in plan.tasks if t.deadline.date and t.deadline.date < JUNE.end]
    assert all(t.status is (BEHIND if t.overdue else NOT) for t in r.tasks)


def test_deterministic_whatever_the_input_order():
    es = [entry(no, u, st, p) for no, u, st, p in [
        (1, "区乙局", DONE, 100), (1, "区甲局", ON, 60), (3, "丁镇", ON, 20),
        (3, "丙街道", NOT, 0), (4, "区戊局", ON, 30), (4, "区甲局", DONE, 100)]]
    first = consolidate(PLAN, returns(*es), JUNE)
    rng = random.Random(5)
    for _ in range(5):
        rng.shuffle(es)
        again = consolidate(PLAN, replace(returns(*es), submissions=first.submissions), JUNE)
        assert again == first
    assert [(e.task_no, e.unit) for e in first.entries] == [
        (1, "区甲局"), (1, "区乙局"), (3, "丙街道"), (3, "丁镇"), (4, "区甲局"), (4, "区戊局")]


# ---------------------------------------------------------------- history

def prior(h: History, plan, period: Period):
    """What consolidate is given of the year before `period`, as the workspace reads it."""
    return build_prior(plan, h.year_rows(plan.year, period))


def trend(report, no: int) -> dict[Period, Status]:
    return next(r.statuses for r in report.trend if r.no == no)


def test_previous_status_change_and_trend(tmp_path):
    h = History(tmp_path / "history.sqlite")
    may = Period(2025, 5)
    h.record(consolidate(PLAN, returns(entry(1, "区甲局", ON), entry(1, "区乙局", ON),
                                       period=may), may))
    # another plan year's period is not this plan's history
    h.record(consolidate(make_plan(2024), returns(period=Period(2024, 12)), Period(2024, 12)))
    june = returns(entry(1, "区甲局", DONE), entry(1, "区乙局", DONE))
    r = consolidate(PLAN, june, JUNE, prior=prior(h, PLAN, JUNE))
    assert r.previous_period == Period.parse("2025-05")
    t1, t3 = result(r, 1), result(r, 3)
    assert (t1.previous_status, t1.change) == (ON, "按计划推进→已完成")
    assert (t3.previous_status, t3.change) == (NOT, "")
    assert tuple(map(str, r.trend_periods)) == ("2025-05", "2025-06")
    assert trend(r, 1) == {Period(2025, 5): ON, Period(2025, 6): DONE}
    # task 2 (due in April) is overdue in both months: 滞后
    assert trend(r, 2) == {Period(2025, 5): BEHIND, Period(2025, 6): BEHIND}
    assert r.summary.to_json()["previous_period"] == "2025-05"

    # a stored copy of this period is ignored: recording then re-running gives the same Report
    h.record(r)
    assert consolidate(PLAN, june, JUNE, prior=prior(h, PLAN, JUNE)) == r
    assert [str(p) for p in h.periods()] == ["2024-12", "2025-05", "2025-06"]


def test_rerunning_an_earlier_period_ignores_later_ones(tmp_path):
    h = History(tmp_path / "history.sqlite")
    may = Period(2025, 5)
    may_returns = returns(entry(1, "区甲局", ON), entry(1, "区乙局", ON), period=may)
    first = consolidate(PLAN, may_returns, may, prior=prior(h, PLAN, may))
    h.record(first)
    h.record(consolidate(PLAN, returns(entry(1, "区甲局", DONE), entry(1, "区乙局", DONE)),
                         JUNE, prior=prior(h, PLAN, JUNE)))
    again = consolidate(PLAN, may_returns, may, prior=prior(h, PLAN, may))
    assert again.trend_periods == (may,) and JUNE not in trend(again, 1)
    assert again == first
    # the later period sees the earlier one
    june = consolidate(PLAN, returns(), JUNE, prior=prior(h, PLAN, JUNE))
    assert june.trend_periods == (may, JUNE) and june.previous_period == may


def test_previous_period_follows_tasks_by_their_text(tmp_path):
    """上期 is the latest consolidated period of the year, whatever plan version it used; a
    task is the same task while its text is unchanged (renumbered or not)."""
    h = History(tmp_path / "history.sqlite")
    april, may = Period(2025, 4), Period(2025, 5)
    h.record(consolidate(PLAN, returns(entry(1, "区甲局", ON), entry(1, "区乙局", ON),
                                       period=april), april))
    # May's plan: task 1 reworded (a new task), tasks 2-5 renumbered 12-15
    may_plan = replace(PLAN, tasks=tuple(
        replace(t, text="改后任务1") if t.no == 1 else replace(t, no=t.no + 10)
        for t in PLAN.tasks))
    assert may_plan.fingerprint != PLAN.fingerprint
    h.record(consolidate(may_plan, returns(entry(1, "区甲局", BEHIND), entry(13, "丙街道", ON),
                                           period=may), may))
    r = consolidate(PLAN, returns(entry(3, "丙街道", DONE)), JUNE, prior=prior(h, PLAN, JUNE))
    assert r.previous_period == may
    # task 3 was numbered 13 in May: the same task (丙街道 done, 丁镇 not reporting: 按计划推进)
    assert (result(r, 3).status, result(r, 3).previous_status, result(r, 3).change) == (
        ON, ON, "")
    assert trend(r, 3) == {april: NOT, may: ON, JUNE: ON}
    # task 1's text was not in May's plan: 新增 again in June, its April status kept
    assert (result(r, 1).previous_status, result(r, 1).change, result(r, 1).new) == (
        None, "新增", True)
    # nobody reported it in June: both units' April reports are carried (沿用上期)
    assert trend(r, 1) == {april: ON, JUNE: ON}
    assert result(r, 1).carried_units == ("区甲局", "区乙局")
    # May's reworded task ends its row in June: removed from the plan
    gone = next(row for row in r.trend if row.no is None)
    assert (gone.text, gone.statuses, gone.removed) == ("改后任务1", {may: BEHIND}, JUNE)


def test_rejected_row_of_an_accepted_form_is_unverified_not_missing():
    # 区乙局 sent a usable form, but its task 1 row was rejected (e.g. text mismatch)
    subs = tuple(Submission(file=f"{u}.xlsx", unit=u, sha256="0" * 64, size=1, read_at="t")
                 for u in ("区甲局", "区乙局"))
    mismatch = problem("task-text-mismatch", file="区乙局.xlsx", sheet="填报表", cell="C6",
                       unit="区乙局", no=1)
    r = consolidate(PLAN, returns(entry(1, "区甲局", DONE, 100), entry(2, "区甲局", DONE),
                                  entry(4, "区甲局", DONE), submissions=subs,
                                  problems=(mismatch,), rejected=1), JUNE)
    t = result(r, 1)
    assert counts(t) == (ON, False, Colour.YELLOW, 2, 2, 1, 0, 0)
    assert t.missing_units == () and t.unverified_units == ("区乙局",)
    assert r.summary.to_json()["unverified"] == {"tasks": 1, "reports": 1}
    # a unit with no accepted form at all stays 未报送
    t3 = result(r, 3)
    assert t3.missing_units == ("丙街道", "丁镇") and t3.unverified_units == ()
    assert [(u.unit.name, u.state) for u in r.units][:2] == [("区甲局", "已报送"),
                                                             ("区乙局", "需修改")]
    # every task of a form whose rows were all rejected is 待核实
    r = consolidate(PLAN, returns(submissions=subs[1:]), JUNE)
    assert result(r, 1).unverified_units == ("区乙局",) and result(r, 1).colour is Colour.YELLOW
    assert result(r, 1).status is NOT


@pytest.mark.parametrize(("text", "raised"), [
    ("无", False), ("暂无。", False), (" 无问题 ", False), ("—", False), ("", False),
    ("暂未发现问题", False), ("无。", False), ("经费未到位", True), ("无法按期完成", True),
])
def test_substantive_issue(text, raised):
    from gkreport.consolidate import substantive_issue

    assert substantive_issue(text) is raised


def test_near_deadline_is_the_blue_rule():
    from gkreport.consolidate import near_deadline

    for status, deadline, colour in [(ON, END, Colour.NONE), (NOT, date(2025, 7, 30), Colour.BLUE),
                                     (ON, date(2025, 7, 31), Colour.NONE),
                                     (DONE, END, Colour.GREEN)]:
        assert near_deadline(status, deadline, END) is (colour is Colour.BLUE)
        assert colour_for(status, overdue=False, deadline=deadline, period_end=END) is colour


def test_a_completion_taken_back_is_flagged_once(tmp_path):
    """status-reverted compares with the unit's latest own report: the month it takes 已完成
    back, not every later month it stays unfinished."""
    h = History(tmp_path / "history.sqlite")
    said = {Period(2025, 5): DONE, Period(2025, 6): ON, Period(2025, 7): ON, Period(2025, 8): DONE,
            Period(2025, 9): BEHIND}
    flagged = {}
    for p, status in said.items():
        report = consolidate(PLAN, returns(entry(1, "区甲局", status),
                                           entry(1, "区乙局", ON), period=p), p,
                             prior=prior(h, PLAN, p))
        h.record(report)
        flagged[p] = [x.message for x in report.problems if x.code == "status-reverted"]
    # taken back in June (done in May) and in September (done in August), said nowhere else
    assert flagged == {p: ([f"序号 1 的任务在2025年{q.month}月已报“已完成”，本期报“{said[p].value}”"]
                           if q else [])
                       for p, q in ((Period(2025, 5), None), (Period(2025, 6), Period(2025, 5)),
                                    (Period(2025, 7), None), (Period(2025, 8), None),
                                    (Period(2025, 9), Period(2025, 8)))}
