"""Reviews (issue: the half-year, the quarter and the year): a scripted year on a small plan,
January to August, run as the office runs it (forms, returns, consolidate), then reviewed.

Units send forms on time, late (by the files' times, and in February by the office's
收文登记.csv), not at all, with errors corrected by a second file (a return round) or left
uncorrected; tasks are finished in different months, one after its deadline; March has no
returns; in July the plan changes (a task added, a task removed, a unit renamed with its old
name as 别名). Every expected figure is computed here from the script, in plain Python, by
DESIGN.md's rules and the review's documented definitions: never read back from pandas."""

from __future__ import annotations

import json
import os
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from gkreport.cli import app
from gkreport.core.model import Period, Status
from gkreport.workspace import Paths, run_consolidate, run_forms

from .factories import SMALL_TASKS, SMALL_UNITS, fill_unit_form, small_workspace
from .lo import convert, needs_lo

DONE, ON, BEHIND, NOT, UNREAD = (Status.DONE, Status.ON_TRACK, Status.BEHIND,
                                 Status.NOT_STARTED, Status.UNVERIFIED)
runner = CliRunner()
DOCS = Path(__file__).resolve().parents[1] / "docs"
YEAR = 2025
PERIODS = [Period(YEAR, m) for m in (1, 2, 4, 5, 6, 7, 8)]  # March: nobody returned a form
CHANGE = Period(YEAR, 7)  # the plan changes before July's forms
REGISTER = Period(YEAR, 2)  # February's files were copied: 收文登记.csv says when they came
OLD, NEW = "东街道", "东新街道"
UNITS = ("区甲局", "区乙局", "区丙局", "东", "西镇")  # "东" is 东街道, renamed 东新街道 in July
NEW_TASKS = tuple(t for t in SMALL_TASKS if t[0] != 2) + (
    (6, "三、质效", "推进基层政务公开标准化规范化", "区甲局、西镇", "年底前"),)
NEW_UNITS = tuple((NEW, kind, OLD) if name == OLD else (name, kind, aliases)
                  for name, kind, aliases in SMALL_UNITS)
DEADLINES = {1: date(YEAR, 12, 31), 2: date(YEAR, 4, 30), 3: date(YEAR, 9, 30), 4: None,
             5: date(YEAR, 6, 30), 6: date(YEAR, 12, 31)}


def name(unit: str, p: Period) -> str:
    return (NEW if p >= CHANGE else OLD) if unit == "东" else unit


def units_of(no: int, p: Period) -> list[str]:
    """The task's expected units in the plan version of p (by script id)."""
    plan = NEW_TASKS if p >= CHANGE else SMALL_TASKS
    row = next((t for t in plan if t[0] == no), None)
    ids = {OLD: "东", NEW: "东"}
    return [ids.get(u, u) for u in row[3].split("、")] if row else []


def tasks_in(p: Period) -> list[int]:
    return [t[0] for t in (NEW_TASKS if p >= CHANGE else SMALL_TASKS)]


def answer(unit: str, no: int, p: Period) -> Status:
    """What the unit means to report on a task in p (when it sends a form)."""
    m = p.month
    if unit == "区甲局":
        return {1: DONE if m >= 8 else ON, 2: DONE if m >= 4 else ON,
                6: DONE if m >= 8 else ON}[no]
    if unit == "区乙局":
        return {1: BEHIND if m == 6 else ON, 5: DONE if m >= 5 else ON}[no]
    if unit == "区丙局":  # finishes task 5 in July, after its June deadline
        return {4: ON, 5: DONE if m >= 7 else ON}[no]
    if unit == "东":
        return NOT if m == 1 else DONE if m >= 6 else ON
    if unit == "西镇":
        return {3: NOT if m <= 2 else ON if m <= 5 else DONE, 6: ON}[no]
    raise AssertionError(unit)


# (day of the next month, kind): "ok", or "bad" (its first task's status unreadable). A bad
# file followed by another is a return round; a bad one alone stays the unit's form (需修改).
SCRIPT: dict[Period, dict[str, list[tuple[int, str]]]] = {
    Period(YEAR, 1): {"区甲局": [(3, "ok")], "区乙局": [(8, "ok")],
                      "区丙局": [(2, "bad"), (4, "ok")], "东": [(5, "ok")], "西镇": [(1, "ok")]},
    Period(YEAR, 2): {"区甲局": [(4, "ok")], "区丙局": [(3, "ok")], "东": [(6, "ok")],
                      "西镇": [(2, "bad")]},
    Period(YEAR, 4): {"区甲局": [(2, "ok")], "区乙局": [(7, "ok")], "区丙局": [(5, "ok")],
                      "西镇": [(3, "ok")]},
    Period(YEAR, 5): {"区甲局": [(1, "ok")], "区乙局": [(6, "ok")],
                      "区丙局": [(4, "bad"), (6, "ok")], "东": [(2, "ok")], "西镇": [(5, "ok")]},
    Period(YEAR, 6): {"区甲局": [(6, "ok")], "区乙局": [(9, "ok")], "区丙局": [(1, "ok")],
                      "东": [(3, "ok")], "西镇": [(4, "ok")]},
    Period(YEAR, 7): {"区甲局": [(2, "ok")], "区乙局": [(4, "ok")], "区丙局": [(3, "ok")],
                      "东": [(5, "ok")], "西镇": [(10, "ok")]},
    Period(YEAR, 8): {"区甲局": [(3, "ok")], "区乙局": [(2, "ok")], "区丙局": [(3, "ok")],
                      "东": [(12, "ok")]},
}


def received(p: Period, day: int) -> datetime:
    nxt = p.next
    return datetime(nxt.year, nxt.month, day, 10)


def build_period(ws: Path, p: Period) -> None:
    """The period's forms out, the units' files in as scripted, consolidate."""
    paths = Paths(ws)
    run_forms(paths, p)
    folder = ws / "input" / str(p)
    register = []
    for unit, files in SCRIPT[p].items():
        form = next((ws / "output" / "forms" / str(p)).glob(f"{name(unit, p)}_*.xlsx"))
        mine = [no for no in tasks_in(p) if unit in units_of(no, p)]
        for n, (day, kind) in enumerate(files):
            answers: dict[int, object] = {no: answer(unit, no, p) for no in mine}
            if kind == "bad":
                answers[mine[0]] = "差不多"
            file = f"{name(unit, p)}{'（修改后）' * n}.xlsx"
            when = received(p, day)
            fill_unit_form(form, folder / file, answers, fill_date=when,
                           received=datetime(2026, 1, 1) if p == REGISTER else when)
            register.append(f"{file},{when:%Y-%m-%d %H:%M}\n")
    if p == REGISTER:
        (folder / "收文登记.csv").write_text("文件,收到时间\n" + "".join(register),
                                            encoding="utf-8-sig")
    run_consolidate(paths, p, today=date(p.next.year, p.next.month, 10))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = small_workspace(tmp_path_factory.mktemp("review"))
    for p in PERIODS:
        if p == CHANGE:
            small_workspace(ws, tasks=NEW_TASKS, units=NEW_UNITS)
        build_period(ws, p)
    return ws


# ---------------------------------------------------------------- expected, from the script


def reports(no: int, p: Period) -> dict[str, Status]:
    """Each expected unit's report on the task in p: its own (待核实 for the bad row of a
    form it did not correct), else its latest earlier readable own report (沿用上期)."""
    out = {}
    for unit in units_of(no, p):
        for q in reversed([q for q in PERIODS if q <= p]):
            files = SCRIPT[q].get(unit)
            if not files or no not in tasks_in(q) or unit not in units_of(no, q):
                continue
            mine = [n for n in tasks_in(q) if unit in units_of(n, q)]
            unread = files[-1][1] == "bad" and no == mine[0]
            if q == p:
                out[unit] = UNREAD if unread else answer(unit, no, q)
                break
            if not unread:
                out[unit] = answer(unit, no, q)
                break
    return out


def task_status(no: int, p: Period) -> tuple[Status, bool]:
    """DESIGN.md's task status rule, written out again."""
    got = reports(no, p)
    if got and len(got) == len(units_of(no, p)) and all(s is DONE for s in got.values()):
        return DONE, False
    overdue = DEADLINES[no] is not None and DEADLINES[no] <= p.end
    if overdue or BEHIND in got.values():
        return BEHIND, overdue
    if not any(s in (DONE, ON, BEHIND) for s in got.values()):
        return NOT, False
    return ON, False


def expected_tasks(first: Period, last: Period) -> list[dict]:
    inside = [p for p in PERIODS if first <= p <= last]
    out = []
    current = [t[0] for t in NEW_TASKS]  # the year's latest plan version numbers the tasks
    for no in sorted({n for p in inside for n in tasks_in(p)},
                     key=lambda n: (n not in current, n)):
        mine = [p for p in inside if no in tasks_in(p)]
        status, overdue = task_status(no, mine[-1])
        done = [p for p in PERIODS if p <= last and no in tasks_in(p)
                and task_status(no, p)[0] is DONE]
        gone = next((p for p in inside if p > mine[-1]), None)
        seen = next(p for p in PERIODS if no in tasks_in(p))  # added after the year's first
        new = seen if PERIODS[0] < seen and seen >= first else None  # period, in the span
        out.append({"no": no if no in current else None,
                    "text": next(t[2] for t in (*SMALL_TASKS, *NEW_TASKS) if t[0] == no),
                    "status": status.value, "completed_in": str(done[0]) if done else None,
                    "overdue": overdue, "added": str(new) if new else None,
                    "removed": str(gone) if gone else None})
    return out


def scorecard(unit: str, first: Period, last: Period) -> dict:
    """A unit's record over the span, by the review's definitions (README "单位考核")."""
    inside = [p for p in PERIODS if first <= p <= last]
    card = {"expected": len(inside), "submitted": 0, "on_time": 0, "late": 0, "returned": 0,
            "first_pass": 0, "late_days": 0}
    for p in inside:
        files = SCRIPT[p].get(unit)
        if not files:
            continue
        card["submitted"] += 1
        days = min(day for day, _ in files) - 5
        card["on_time" if days <= 0 else "late"] += 1
        card["late_days"] += max(days, 0)
        rounds = sum(1 for i, (_, kind) in enumerate(files) if kind == "bad" and files[i + 1:])
        card["returned"] += rounds
        card["first_pass"] += rounds == 0 and files[-1][1] == "ok"
    # its tasks due in the span by the last period's end, finished (own report) by the
    # deadline's month
    due = {no for p in inside for no in tasks_in(p) if unit in units_of(no, p)
           and DEADLINES[no] and date(YEAR, first.month, 1) <= DEADLINES[no] <= inside[-1].end}
    on_time = {no for no in due if any(
        SCRIPT[p].get(unit) and answer(unit, no, p) is DONE and p <= last
        and p.month <= DEADLINES[no].month for p in PERIODS if no in tasks_in(p))}
    card["tasks_due"], card["tasks_on_time"] = len(due), len(on_time)
    share = len(on_time) / len(due) if due else 1
    card["score"] = round((60 * card["on_time"] + 20 * card["first_pass"]) / card["expected"]
                          + 20 * share, 1)
    card["missing"] = card["expected"] - card["submitted"]
    card["first_pass_rate"] = round(card["first_pass"] / card["submitted"], 4) \
        if card["submitted"] else None
    return card


def expected_units(first: Period, last: Period) -> dict[str, dict]:
    cards = {("东新街道" if u == "东" else u): scorecard(u, first, last) for u in UNITS}
    scores = sorted((c["score"] for c in cards.values()), reverse=True)
    for c in cards.values():
        c["rank"] = scores.index(c["score"]) + 1  # ties share the better rank
    return cards


def as_json(cards: dict[str, dict]) -> list[dict]:
    """The units' part of `--json`, in ranking order (ties in registry order)."""
    registry = [NEW if u == OLD else u for u, *_ in SMALL_UNITS]
    ordered = sorted(cards, key=lambda u: (cards[u]["rank"], registry.index(u)))
    keys = ("expected", "submitted", "missing", "on_time", "late", "returned")
    return [{"name": u, **{k: cards[u][k] for k in keys},
             "first_pass": cards[u]["first_pass_rate"], "rank": cards[u]["rank"],
             "score": cards[u]["score"]} for u in ordered]


SPANS = {"year": ([], Period(YEAR, 1), Period(YEAR, 12), "2025"),
         "half": (["--half", "1"], Period(YEAR, 1), Period(YEAR, 6), "2025-01_2025-06"),
         "quarter": (["--quarter", "3"], Period(YEAR, 7), Period(YEAR, 9), "2025-07_2025-09")}


@pytest.fixture(scope="module")
def reviewed(ws: Path) -> dict[str, dict]:
    """`gkreport review --json` for the year and for its first half."""
    out = {}
    for key, (args, *_rest) in SPANS.items():
        r = runner.invoke(app, ["review", "--year", "2025", *args, "--json", "-w", str(ws)])
        assert r.exit_code == 0, r.output
        out[key] = json.loads(r.stdout)
    return out


# ---------------------------------------------------------------- the figures


@pytest.mark.parametrize("key", SPANS)
def test_tasks_and_units_equal_the_script(reviewed: dict, key: str) -> None:
    _args, first, end, label = SPANS[key]
    got = reviewed[key]
    last = max(p for p in PERIODS if p <= end)
    assert got["year"] == YEAR and got["range"]["label"] == label
    assert got["periods"] == [str(p) for p in PERIODS if first <= p <= end]
    assert got["tasks"] == expected_tasks(first, last)
    assert got["units"] == as_json(expected_units(first, last))


def test_the_script_exercises_what_it_should(reviewed: dict) -> None:
    """Guards on the scenario itself, so a change to it cannot hollow out the test."""
    year = {t["no"]: t for t in reviewed["year"]["tasks"]}
    assert year[5]["completed_in"] == "2025-07"  # after its June deadline
    assert year[3]["completed_in"] == "2025-06"
    assert 2 not in year and year[None]["completed_in"] == "2025-04"  # removed in July
    assert [t["completed_in"] for t in reviewed["year"]["tasks"]].count(None) == 3
    units = {u["name"]: u for u in reviewed["year"]["units"]}
    assert units["区乙局"]["late"] == 4 and units["区乙局"]["missing"] == 1
    assert units["区丙局"]["returned"] == 2 and units["西镇"]["first_pass"] < 1
    assert units["东新街道"]["expected"] == 7  # its months as 东街道 count
    assert len({u["score"] for u in units.values()}) > 2
    half = {t["no"]: t for t in reviewed["half"]["tasks"]}
    assert half[5] == {**year[5], "status": "滞后", "completed_in": None, "overdue": True}
    assert reviewed["year"]["plan_versions"][1]["from"] == "2025-07"
    assert len(reviewed["half"]["plan_versions"]) == 1


def test_frames_follow_the_rename_and_the_plan_versions(ws: Path) -> None:
    from gkreport.frames import load_frames

    f = load_frames(ws)
    assert f.year == YEAR and list(f.periods["period"]) == [str(p) for p in PERIODS]
    east = f.submissions[f.submissions["unit"] == NEW]
    assert set(east["reported_as"]) == {OLD, NEW} and len(east) == len(PERIODS)
    removed = f.tasks[f.tasks["task_no"] == 2]  # 做好重要政策解读工作, gone from the plan
    assert removed["task"].isna().all() and len(removed) == 5
    assert f.tasks.loc[f.tasks["task_no"] == 6, "task"].tolist() == [6, 6]
    assert f.entries["carried"].sum() > 0 and OLD not in set(f.entries["unit"])
    late = f.submissions.pivot_table(index="period", columns="unit", values="late",
                                     aggfunc="max", fill_value=False)
    assert late["区乙局"].sum() == 4
    h1 = f.between("2025-01", "2025-06")
    assert list(h1.periods["period"]) == ["2025-01", "2025-02", "2025-04", "2025-05",
                                          "2025-06"]
    assert set(h1.assignments["plan"]) == {h1.periods["plan"].iloc[0]}


# ---------------------------------------------------------------- the workbook


def review_dir(ws: Path, label: str = "2025") -> Path:
    return ws / "output" / "review" / label


def sheet_rows(path: Path, name: str) -> list[tuple]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def submission_cell(unit: str, p: Period) -> str:
    files = SCRIPT[p].get(unit)
    if not files:
        return "未报送"
    days = min(day for day, _ in files) - 5
    rounds = sum(1 for i, (_, kind) in enumerate(files) if kind == "bad" and files[i + 1:])
    return ("按时" if days <= 0 else f"逾期{days}天") + (f"（退回{rounds}次）" if rounds else "")


def rules(ws) -> dict[str, list[tuple]]:
    """Conditional formats by range: (type, operator, formula or text) of each rule."""
    out: dict[str, list[tuple]] = {}
    for cf in ws.conditional_formatting:
        out[str(cf.sqref)] = [(r.type, r.operator, r.text or tuple(r.formula or ()))
                              for r in cf.rules]
    return out


def test_workbook_sheets_values_and_formats(ws: Path, reviewed: dict) -> None:
    path = review_dir(ws) / "年度汇总_2025.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["总览", "任务完成情况", "单位考核", "报送明细"]
    periods = [str(p) for p in PERIODS]
    # 任务完成情况: each task's final state, first 已完成 and its status in every period
    tasks = sheet_rows(path, "任务完成情况")
    assert tasks[0] == ("序号", "一级指标", "任务内容", "时间节点", "截止日期", "最终状态", "逾期",
                        "首次完成期次", "按期完成", "未完成单位", *periods, "变动")
    expected = expected_tasks(PERIODS[0], PERIODS[-1])
    assert [(r[0], r[2], r[5], r[6], r[7]) for r in tasks[1:]] == [
        (t["no"], t["text"], t["status"], "是" if t["overdue"] else "否", t["completed_in"])
        for t in expected]
    by_text = {r[2]: r for r in tasks[1:]}
    for no in DEADLINES:
        row = by_text[next(t[2] for t in (*SMALL_TASKS, *NEW_TASKS) if t[0] == no)]
        assert list(row[10:10 + len(PERIODS)]) == [
            task_status(no, p)[0].value if no in tasks_in(p) else None for p in PERIODS]
    assert by_text["完成政府网站集约化改造"][8] == "否"  # finished in July, due in June
    assert by_text["做好重要政策解读工作"][-1] == "2025-07起已从计划中取消"
    grid = f"K2:{chr(ord('K') + len(PERIODS) - 1)}{len(tasks)}"
    assert ("cellIs", "equal", ('"已完成"',)) in rules(book["任务完成情况"])[grid]
    # 单位考核: the ranking's method above the table, every unit's record as worked out here
    units = sheet_rows(path, "单位考核")
    top = next(i for i, r in enumerate(units) if r[0] == "排名")
    assert units[1][0].startswith("计算方法：得分（满分100）= 60×（按时报送期数÷应报期数）")
    cards = expected_units(PERIODS[0], PERIODS[-1])
    assert units[top + 1:] == [
        (c["rank"], u, kind, c["expected"], c["submitted"], c["on_time"], c["late"],
         c["late_days"], c["missing"], c["returned"], c["first_pass"],
         c["first_pass"] / c["submitted"], c["tasks_due"], c["tasks_on_time"], c["score"])
        for u, kind, c in sorted(((u, "街镇" if u in (NEW, "西镇") else "区政府部门", c)
                                  for u, c in cards.items()),
                                 key=lambda x: (x[2]["rank"], [n["name"] for n in as_json(
                                     cards)].index(x[0])))]
    ranked = rules(book["单位考核"])
    assert any(r[0] == "dataBar" for r in ranked[f"O{top + 2}:O{len(units)}"])
    # 报送明细: unit × period, 按时 / 逾期N天 / 未报送 with return rounds
    detail = sheet_rows(path, "报送明细")
    assert detail[0] == ("单位", "类别", *periods, "按时报送", "逾期报送", "未报送", "退回轮次",
                         "按时报送率")
    ids = {NEW: "东"}
    for row in detail[1:]:
        unit = ids.get(row[0], row[0])
        assert list(row[2:2 + len(PERIODS)]) == [submission_cell(unit, p) for p in PERIODS]
    marks = rules(book["报送明细"])[f"C2:{chr(ord('C') + len(PERIODS) - 1)}{len(detail)}"]
    assert {(t, text) for t, _op, text in marks} == {("beginsWith", "按时"),
                                                    ("beginsWith", "逾期"),
                                                    ("beginsWith", "未报送")}
    for sheet in book:
        assert sheet.page_setup.orientation == "landscape" and sheet.freeze_panes


def test_workbook_charts_read_the_periods_table(ws: Path, reviewed: dict) -> None:
    path = review_dir(ws) / "年度汇总_2025.xlsx"
    rows = sheet_rows(path, "总览")
    head = next(i for i, r in enumerate(rows) if r[3] == "期次")
    table = rows[head + 1:head + 1 + len(PERIODS)]
    assert [r[3] for r in table] == [str(p) for p in PERIODS]
    for r, p in zip(table, PERIODS, strict=True):  # statuses counted, and the on-time rate
        statuses = [task_status(no, p)[0] for no in tasks_in(p)]
        assert list(r[4:8]) == [statuses.count(s) for s in (DONE, ON, BEHIND, NOT)]
        on_time = sum(1 for u in UNITS if SCRIPT[p].get(u)
                      and min(d for d, _ in SCRIPT[p][u]) <= 5)
        assert r[15] == pytest.approx(on_time / len(UNITS))
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist()
                  if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 2
    columns = next(c for c in charts if "<c:barChart>" in c)
    line = next(c for c in charts if "<c:lineChart>" in c)
    first, last = head + 2, head + 1 + len(PERIODS)
    assert '<c:grouping val="stacked"/>' in columns and '<c:barDir val="col"/>' in columns
    assert f"总览!$E${first}:$E${last}" in columns and f"总览!$P${first}:$P${last}" in line


# ---------------------------------------------------------------- the memo


def docx_text(path: Path) -> str:
    from tests.test_memo import docx_text as text

    return text(path)


def html_text(path: Path) -> str:
    import html

    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<tr>", "\n|", re.sub(r"<t[dh][^>]*>", " ", re.sub(r"</t[dh]>", " |", raw)))
    return html.unescape(re.sub(r"<(?!/?t)[^>]+>|</?t[a-z]*[^>]*>", "", raw))


def check_memo(text: str, got: dict) -> None:
    """Every figure of the memo, parsed back, equals `--json` (tasks and units) or, for the
    months, what the script says."""
    final = [t for t in got["tasks"] if t["removed"] is None]
    count = {s: sum(t["status"] == s for t in final) for s in ("已完成", "按计划推进", "滞后", "未启动")}
    m = re.search(r"截至2025年(\d+)月，共有任务(\d+)项：已完成(\d+)项、按计划推进(\d+)项、"
                  r"滞后(\d+)项(?:（其中逾期(\d+)项）)?、未启动(\d+)项，完成率([\d.]+)%。", text)
    assert m, text
    assert (int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0), int(m[7])) \
        == (Period.parse(got["periods"][-1]).month, len(final), *count.values(),
            sum(t["overdue"] for t in final))[:5] + (sum(t["overdue"] for t in final),
                                                     count["未启动"])
    assert m[8] == f"{count['已完成'] * 100 / len(final):.1f}"
    done = [t for t in final if t["status"] == "已完成"]
    m = re.search(r"本时段内完成(\d+)项", text)
    assert int(m[1]) == sum(t["completed_in"] >= got["range"]["from"] for t in done)
    units = got["units"]
    total = {k: sum(u[k] for u in units) for k in ("expected", "submitted", "on_time", "late",
                                                   "missing", "returned")}
    passed = sum(round(u["first_pass"] * u["submitted"]) for u in units if u["first_pass"])
    m = re.search(r"(\d+)家单位共应报送(\d+)期次，已报送(\d+)期次，其中按时(\d+)期次、逾期(\d+)期次，"
                  r"未报送(\d+)期次，按时报送率([\d.]+)%；退回修改(\d+)轮，一次通过(\d+)期次，"
                  r"一次通过率([\d.]+)%。", text)
    assert m.groups() == (
        str(len(units)), *(str(total[k]) for k in ("expected", "submitted", "on_time", "late",
                                                    "missing")),
        f"{total['on_time'] * 100 / total['expected']:.1f}", str(total["returned"]),
        str(passed), f"{passed * 100 / total['submitted']:.1f}")
    # tasks finished, and when: one row each
    rows = re.findall(r"^\|\s*(\S+)\s*\|[^|]+\|\s*(\d{4})年(\d+)月\s*\|\s*(按期|逾期完成)\s*\|\s*$",
                      text, re.M)
    shown = [(int(no) if no.isdigit() else None, f"{y}-{int(mo):02d}") for no, y, mo, _ in rows]
    assert sorted(shown, key=str) == sorted(((t["no"], t["completed_in"]) for t in done), key=str)
    assert all(no.isdigit() or no.startswith("原") for no, *_ in rows)  # 原N: removed since
    # units: every unit (five), by rank, with its figures
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|"
                      r"\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)%\s*\|\s*([\d.]+)\s*\|\s*$", text, re.M)
    assert rows == [(str(u["rank"]), u["name"], str(u["expected"]), str(u["on_time"]),
                     str(u["late"]), str(u["missing"]), str(u["returned"]),
                     f"{u['first_pass'] * 100:.1f}", f"{u['score']:.1f}") for u in units]
    # month by month
    rows = re.findall(r"^\|\s*(2025-\d\d)\s*\|((?:\s*\d+\s*\|){6})\s*([\d.]+)%\s*\|\s*$", text,
                      re.M)
    assert [r[0] for r in rows] == got["periods"]
    for period, cells, rate in rows:
        p = Period.parse(period)
        statuses = [task_status(no, p) for no in tasks_in(p)]
        assert [int(x) for x in cells.split("|") if x.strip()] == [
            *(sum(s is x for s, _ in statuses) for x in (DONE, ON, BEHIND, NOT)),
            sum(o for _, o in statuses), sum(1 for u in UNITS if not SCRIPT[p].get(u))]
        on_time = sum(1 for u in UNITS if SCRIPT[p].get(u) and min(
            d for d, _ in SCRIPT[p][u]) <= 5)
        assert rate == f"{on_time * 100 / len(UNITS):.1f}"


def test_memo_figures_equal_the_json(ws: Path, reviewed: dict) -> None:
    folder = review_dir(ws)
    got = reviewed["year"]
    md = (folder / "年度总结_2025.md").read_text(encoding="utf-8")
    assert md.startswith("# 2025年某区政务公开工作要点年度推进情况总结\n")
    for text in (md, docx_text(folder / "年度总结_2025.docx"),
                 html_text(folder / "年度总结_2025.html")):
        check_memo(text, got)
    assert "本时段计划调整1次：7月起按调整后的计划汇总（新增任务1项、取消1项）。" in md
    assert "逾期报送3期及以上的单位（红牌）：区乙局。" in md
    assert "被退回修改2期及以上的单位（黄牌）：区丙局。" in md
    assert "已汇总2025年1月至8月共7期（3月未汇总）" in md
    assert re.search(r"^## 六、下步工作建议$", md, re.M)  # December not yet consolidated
    half = (review_dir(ws, "2025-01_2025-06") / "年度总结_2025-01_2025-06.md").read_text(
        encoding="utf-8")
    assert half.startswith("# 2025年某区政务公开工作要点上半年推进情况总结\n")
    check_memo(half, reviewed["half"])


def test_html_memo_is_self_contained_with_a_trend_chart(ws: Path, reviewed: dict) -> None:
    page = (review_dir(ws) / "年度总结_2025.html").read_text(encoding="utf-8")
    assert not re.search(r"\b(src|href)=|<link|<script|url\(|@import", page)
    svg = re.search(r"<svg[\s\S]*?</svg>", page)[0]
    assert svg.count("<circle ") == len(PERIODS)  # the on-time rate, one point a month
    assert "<polyline " in svg and ">8月</text>" in svg and ">1月</text>" in svg


# ---------------------------------------------------------------- the command


def test_a_review_reads_only_the_history(ws: Path, reviewed: dict, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws / "output", copy / "output", ignore=shutil.ignore_patterns("review"))
    r = runner.invoke(app, ["review", "--year", "2025", "--json", "-w", str(copy)])
    assert r.exit_code == 0, r.output  # no plan file, no forms: the same review
    assert json.loads(r.stdout) == reviewed["year"]
    r = runner.invoke(app, ["review", "-w", str(copy)])  # the latest period's year
    assert r.exit_code == 0, r.output
    assert "已汇总2025年1月至8月共7期（3月未汇总）" in r.stdout and "已写入：" in r.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--from", "2025-09", "--to", "2025-12"], 1,
     "[错误] 2025年9月至12月（2025-09至2025-12）没有已汇总的期次，无法总结。请先用 gkreport "
     "consolidate --period 期次 汇总该时段的月份（2025年已汇总的期次：2025-01、2025-02、2025-04、"
     "2025-05、2025-06、2025-07、2025-08）"),
    (["--year", "2024"], 1, "[错误] 2024年度（2024-01至2024-12）没有已汇总的期次"),
    (["--from", "2025-13"], 2, "期次“2025-13”格式不对"),
    (["--year", "2025", "--to", "2024-06"], 2, "期次 2024-06 不在 2025 年内"),
    (["--from", "2025-07", "--to", "2025-03"], 2, "起始期次 2025-07 晚于截止期次 2025-03"),
    (["--half", "3"], 2, "“3”不对，应为 1（上半年）或 2（下半年）"),
    (["--quarter", "2", "--from", "2025-04"], 2, "--half、--quarter 不能与 --from、--to 同时使用"),
    (["--year", "二〇二五"], 2, "年度“二〇二五”应为 2000–2099 之间的四位数字"),
])
def test_a_span_with_nothing_or_bad_options_is_refused(ws: Path, args: list[str], code: int,
                                                      message: str) -> None:
    before = sorted((ws / "output" / "review").rglob("*"))
    r = runner.invoke(app, ["review", *args, "-w", str(ws)])
    assert r.exit_code == code, r.output
    assert message in r.stderr
    assert sorted((ws / "output" / "review").rglob("*")) == before


def test_usage_errors_are_chinese_lines(ws: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "gkreport", "review", "--from", "2025-13", "-w",
                        str(ws)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "[用法错误] 选项 --from 的值无效：期次“2025-13”格式不对，应为 YYYY-MM，例如 2025-06",
        "运行 gkreport review -h 查看用法。"]


def test_an_empty_history_is_said_so(tmp_path: Path) -> None:
    from gkreport.core.problems import GkreportError
    from gkreport.frames import load_frames

    r = runner.invoke(app, ["review", "-w", str(tmp_path)])
    assert r.exit_code == 1 and "中还没有已汇总的期次" in r.stderr
    with pytest.raises(GkreportError):
        load_frames(tmp_path)


def test_the_workspace_template_overrides_the_bundled_one(ws: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(ws / "output", copy / "output", ignore=shutil.ignore_patterns("review"))
    (copy / "templates").mkdir()
    (copy / "templates" / "review.md.j2").write_text("{{ title }}：{{ overview.done_pct }}\n",
                                                     encoding="utf-8")
    r = runner.invoke(app, ["review", "--quarter", "3", "-w", str(copy)])
    assert r.exit_code == 0, r.output
    out = review_dir(copy, "2025-07_2025-09")
    assert (out / "年度总结_2025-07_2025-09.md").read_text(encoding="utf-8") == \
        "2025年某区政务公开工作要点第三季度推进情况总结：40.0%\n"
    (copy / "templates" / "review.html.j2").write_text("{{ titel }}", encoding="utf-8")
    r = runner.invoke(app, ["review", "--half", "2", "-w", str(copy)])
    assert r.exit_code == 1 and "模板 review.html.j2 第 1 行：变量 titel 未定义" in r.stderr
    assert not review_dir(copy, "2025-07_2025-12").exists()  # nothing half-written


def test_the_command_line_loads_no_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys, gkreport.cli, gkreport.review, gkreport.workspace; "
            "assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- LibreOffice


@pytest.mark.libreoffice
@needs_lo
def test_the_memo_prints_as_a_gbt9704_document(ws: Path, reviewed: dict,
                                                tmp_path: Path) -> None:
    import subprocess

    (pdf,) = convert([review_dir(ws) / "年度总结_2025.docx"], "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    assert 2 <= int(re.search(r"Pages:\s+(\d+)", info)[1]) <= 5
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")
    assert "年度推进情况" in pages[0] and "一、总体情况" in pages[0]
    assert re.search(r"—\s*1\s*—", pages[0]) and "六、下步工作建议" in text
    if os.environ.get("GKREPORT_UPDATE_DOCS"):  # opt-in: refresh the README's picture of it
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(DOCS / "review-page1")], check=True)


def test_the_readme_example_finds_units_late_three_periods_running(ws: Path, capsys) -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    code = readme.split("### 用 pandas 分析历史", 1)[1].split("```python\n", 1)[1]
    code = code.split("```", 1)[0].replace('load_frames(".", 2025)', f"load_frames({str(ws)!r}, 2025)")
    exec(compile(code, "README.md", "exec"), {})
    late = {u: [bool(SCRIPT[p].get(u)) and min(d for d, _ in SCRIPT[p][u]) > 5 for p in PERIODS]
            for u in UNITS}
    running = sorted(NEW if u == "东" else u for u, flags in late.items()
                     if any(all(flags[i:i + 3]) for i in range(len(flags) - 2)))
    assert running == ["区乙局"] and capsys.readouterr().out == f"{running}\n"


def test_units_ranked_last_keep_ties_whole(ws: Path) -> None:
    """"排名靠后" (memo, terminal) names the last units by rank and never cuts a tie."""
    from dataclasses import replace

    from gkreport.review import Span
    from gkreport.workspace import run_review

    review = run_review(Paths(ws), Span.of(YEAR)).review
    units = review.units
    scores = [100.0, 90.0] + [80.0] * (len(units) - 2)  # the last ones tied
    ranked = replace(review, units=tuple(
        replace(u, score=s, rank=1 + sum(x > s for x in scores))
        for u, s in zip(units, scores, strict=True)))
    tied = [u.name for u in units[2:]]
    assert [u.name for u in ranked.ranked_last(1)] == tied
    assert [u.name for u in ranked.ranked_last(2)] == tied
    assert [u.name for u in ranked.ranked_last(len(units) - 1)] == [units[1].name, *tied]
    assert ranked.ranked_last(len(units)) == ()  # no more units than asked: none singled out
    same = replace(review, units=tuple(replace(u, score=90.0, rank=1) for u in units))
    assert same.ranked_last(1) == ()  # all on the top score: nobody is last


def test_a_task_done_then_taken_back_is_not_done_on_time(ws: Path) -> None:
    """按期完成 speaks of tasks finished at the span's end: one reported 已完成 and taken
    back has its first completion, and no 按期完成 (是/否)."""
    from dataclasses import replace

    from gkreport.review import Span
    from gkreport.workspace import run_review

    task = run_review(Paths(ws), Span.of(YEAR)).review.tasks[0]
    once = replace(task, status=Status.ON_TRACK, completed_in=Period(YEAR, 3),
                   deadline=date(YEAR, 12, 31))
    assert once.reverted and once.on_time is None
    assert replace(once, status=Status.DONE).on_time is True
    assert replace(once, status=Status.DONE, deadline=date(YEAR, 2, 28)).on_time is False


def test_the_trend_sentence_says_when_a_count_moved_and_came_back() -> None:
    from gkreport.review.memo import _change

    assert _change([0, 0, 0]) == "保持0项"
    assert _change([0, 1, 0]) == "期间有增减、期末仍为0项"  # not "保持0项": May had one
    assert _change([1, 3]) == "由1项增至3项" and _change([3, 2, 1]) == "由3项减至1项"


def test_a_plan_change_is_said_without_zeros() -> None:
    from dataclasses import replace

    from gkreport.review.memo import _version_change
    from gkreport.review.model import PlanVersion

    v = PlanVersion("f", Period(YEAR, 6), Period(YEAR, 8), tasks=28)
    assert _version_change(replace(v, added=1)) == "（新增任务1项）"  # not "、取消0项"
    assert _version_change(replace(v, added=1, removed=2)) == "（新增任务1项、取消2项）"
    assert _version_change(v) == "（调整了任务的责任单位、时间节点等）"


def replace(v, **changes):
    from dataclasses import replace

    return replace(v, **changes)
