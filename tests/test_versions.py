"""The plan changes mid-year and nothing breaks (issue: plan versions). May and June run on one
plan; July's forms go out; then the plan changes (a task added, a task's units changed, a
unit renamed with its old name kept as 别名); the old July forms are read, the change is
shown, May re-runs with its own plan, June is re-checked without touching its record, and
August compares with July."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from gkreport.cli import app
from gkreport.core.model import Period, Status
from gkreport.forms import layout

from .factories import SMALL_TASKS, SMALL_UNITS, fill_unit_form, small_workspace

runner = CliRunner()
MAY, JUNE, JULY, AUGUST = (Period(2025, m) for m in (5, 6, 7, 8))
ON, DONE = Status.ON_TRACK, Status.DONE
OLD_NAME, NEW_NAME = "东街道", "东新街道"
# The changed plan: task 6 added; task 4 gets a second unit; 东街道 renamed 东新街道.
NEW_TASKS = tuple(
    (no, cat, text, units.replace(OLD_NAME, NEW_NAME) + ("、区乙局" if no == 4 else ""), d)
    for no, cat, text, units, d in SMALL_TASKS) + (
    (6, "三、质效", "推进基层政务公开标准化规范化", "区甲局、西镇", "年底前"),)
NEW_UNITS = tuple((NEW_NAME, kind, OLD_NAME) if name == OLD_NAME else (name, kind, aliases)
                  for name, kind, aliases in SMALL_UNITS)


def tasks_of(unit: str, tasks: tuple) -> list[int]:
    return [no for no, _c, _t, units, _d in tasks if unit in units.split("、")]


def send_forms_and_fill(ws: Path, p: Period, tasks: tuple, units: tuple) -> None:
    r = runner.invoke(app, ["forms", "-p", str(p), "-w", str(ws)])
    assert r.exit_code == 0, r.output
    nxt = p.next
    for name, _kind, _aliases in units:
        form = next((ws / "output" / "forms" / str(p)).glob(f"{name}_*.xlsx"))
        answers = dict.fromkeys(tasks_of(name, tasks), DONE if p >= JULY else ON)
        fill_unit_form(form, ws / "input" / str(p) / f"{name}.xlsx", answers,
                       received=datetime(nxt.year, nxt.month, 2, 9))


def digest(folder: Path) -> dict[str, str]:
    """Every file of a period's record (its subfolder 校验/ aside), by content."""
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file() and "校验" not in f.parts}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = small_workspace(tmp_path_factory.mktemp("versions"))
    for p in (MAY, JUNE):
        send_forms_and_fill(ws, p, SMALL_TASKS, SMALL_UNITS)
        r = runner.invoke(app, ["consolidate", "-p", str(p), "-w", str(ws)])
        assert r.exit_code == 0, r.output
    send_forms_and_fill(ws, JULY, SMALL_TASKS, SMALL_UNITS)  # July's forms: the old plan
    small_workspace(ws, tasks=NEW_TASKS, units=NEW_UNITS)  # then the plan changes
    return ws


def test_plan_diff_shows_the_change(ws: Path) -> None:
    r = runner.invoke(app, ["plan", "diff", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    diff = json.loads(r.stdout)
    assert (diff["added"], diff["removed"]) == ([6], [])
    # task 3 names the renamed unit, task 4 has a unit more: both their units changed
    assert diff["changed"] == [{"no": 3, "fields": ["units"]}, {"no": 4, "fields": ["units"]}]
    assert diff["renamed"] == [{"from": OLD_NAME, "to": NEW_NAME}]
    r = runner.invoke(app, ["plan", "diff", "-w", str(ws)])
    assert "新增：6. 推进基层政务公开标准化规范化" in r.stdout
    assert f"单位更名：{OLD_NAME} → {NEW_NAME}" in r.stdout


def test_old_july_forms_are_read_row_by_row(ws: Path) -> None:
    r = runner.invoke(app, ["consolidate", "-p", "2025-07", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    s = json.loads((ws / "output" / "2025-07" / "summary.json").read_text(encoding="utf-8"))
    # no form refused; every row of the old forms used (their tasks are all still there)
    rows_sent = sum(len(tasks_of(name, SMALL_TASKS)) for name, *_ in SMALL_UNITS)
    assert s["files"]["refused"] == 0 and s["files"]["read"] == len(SMALL_UNITS)
    assert s["rows"] == {"read": rows_sent, "merged": rows_sent, "rejected": 0, "carried": 0}
    assert s["units"]["missing"] == [] and s["problems"]["错误"] == 0
    checked = openpyxl.load_workbook(ws / "output" / "2025-07" / "校验报告_2025-07.xlsx")
    codes = [row[5] for row in checked["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["form-old-plan"] * len(SMALL_UNITS)  # one warning per form
    # the renamed unit's form (made for 东街道) is 东新街道's
    units = {row[0]: row for row in openpyxl.load_workbook(
        ws / "output" / "2025-07" / "汇总表_2025-07.xlsx")["报送情况"].iter_rows(values_only=True)}
    assert units[NEW_NAME][2] == "已报送" and OLD_NAME not in units
    # tasks new to a unit: not reported by it; the notice says which
    tasks = {row[0]: row for row in openpyxl.load_workbook(
        ws / "output" / "2025-07" / "汇总表_2025-07.xlsx")["任务汇总"].iter_rows(values_only=True)}
    assert tasks[6][10] == 2 and tasks[4][10] == 1  # 未报送单位数
    assert tasks[6][16] == "新增"
    notice = (ws / "output" / "2025-07" / "催报通知_2025-07.md").read_text(encoding="utf-8")
    assert "需补报新增任务的单位（3家）" in notice
    for line in ("区甲局：序号6", "区乙局：序号4", "西镇：序号6"):
        assert line in notice


def test_may_reruns_with_its_own_plan(ws: Path) -> None:
    before = (ws / "output" / "2025-05" / "summary.json").read_text(encoding="utf-8")
    workbook = openpyxl.load_workbook(ws / "output" / "2025-05" / "汇总表_2025-05.xlsx")
    cells = [list(s.iter_rows(values_only=True)) for s in workbook]
    r = runner.invoke(app, ["consolidate", "-p", "2025-05", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert (ws / "output" / "2025-05" / "summary.json").read_text(encoding="utf-8") == before
    again = openpyxl.load_workbook(ws / "output" / "2025-05" / "汇总表_2025-05.xlsx")
    assert [list(s.iter_rows(values_only=True)) for s in again] == cells
    assert json.loads(before)["plan"]["fingerprint"] != json.loads(
        (ws / "output" / "2025-07" / "summary.json").read_text(encoding="utf-8"))["plan"][
        "fingerprint"]
    r = runner.invoke(app, ["memo", "-p", "2025-05", "-w", str(ws)])
    assert r.exit_code == 0, r.output


def test_june_rechecked_keeps_its_record(ws: Path) -> None:
    record = digest(ws / "output" / "2025-06")
    r = runner.invoke(app, ["check", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert digest(ws / "output" / "2025-06") == record
    assert (ws / "output" / "2025-06" / "校验" / "校验报告_2025-06.xlsx").exists()


def test_august_compares_with_july_and_prefills_the_renamed_unit(ws: Path) -> None:
    r = runner.invoke(app, ["forms", "-p", "2025-08", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    forms = ws / "output" / "forms" / "2025-08"
    assert not list(forms.glob(f"{OLD_NAME}_*")) and list(forms.glob(f"{NEW_NAME}_*"))
    sheet = openpyxl.load_workbook(next(forms.glob(f"{NEW_NAME}_*")))[layout.FORM_SHEET]
    col = {c.key: i for i, c in enumerate(layout.COLUMNS)}
    prefilled = {row[col["no"]]: row[col["prev_status"]] for row in sheet.iter_rows(
        min_row=layout.FIRST_DATA_ROW + 1, values_only=True) if isinstance(row[col["no"]], int)}
    assert prefilled == {3: "已完成"}  # its July report, made under its old name's form
    send_forms_and_fill(ws, AUGUST, NEW_TASKS, NEW_UNITS)
    r = runner.invoke(app, ["consolidate", "-p", "2025-08", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    s = json.loads((ws / "output" / "2025-08" / "summary.json").read_text(encoding="utf-8"))
    assert s["previous_period"] == "2025-07"
    trend = openpyxl.load_workbook(ws / "output" / "2025-08" / "汇总表_2025-08.xlsx")["历史趋势"]
    rows = {row[0]: row for row in trend.iter_rows(values_only=True)}
    assert rows["序号"][3:7] == ("2025-05", "2025-06", "2025-07", "2025-08")
    assert rows[3][3:7] == ("按计划推进", "按计划推进", "已完成", "已完成")  # one task, all year
    # new in July: nobody had reported on it (未启动); its row starts in July
    assert rows[6][3:7] == (None, None, "未启动", "已完成") and rows[6][7] == "2025-07起新增"


def test_plan_diff_says_who_was_added_and_what_was_a_rename(ws: Path) -> None:
    r = runner.invoke(app, ["plan", "diff", "-p", "2025-06", "-w", str(ws)])  # June's version
    lines = {line.split("：", 1)[1].split(".")[0]: line for line in r.stdout.splitlines()
             if line.strip().startswith("调整")}
    added = sorted(set(NEW_TASKS[3][3].split("、")) - set(SMALL_TASKS[3][3].split("、")))
    assert lines["4"].endswith(f"（增加：{'、'.join(added)}）")  # task 4: 区乙局 added
    assert lines["3"].endswith("（单位更名）")  # task 3 names 东街道, now 东新街道: no one else


def test_the_memo_says_the_plan_was_changed(ws: Path) -> None:
    """July, the first period on the changed plan: its memo names the tasks added."""
    old = {text for _no, _c, text, _u, _d in SMALL_TASKS}
    added = [no for no, _c, text, _u, _d in NEW_TASKS if text not in old]
    memo = (ws / "output" / "2025-07" / "简报_2025-07.md").read_text(encoding="utf-8")
    assert (f"本期起按调整后的计划汇总，新增任务{len(added)}项"
            f"（序号{'、'.join(map(str, added))}）。") in memo
    june = (ws / "output" / "2025-06" / "简报_2025-06.md").read_text(encoding="utf-8")
    assert "调整后的计划" not in june
