"""The submission ledger (issue: due dates, on time or late, return rounds, evidence, reminders):
files received before and after the due date, a bad form taken away after `check` and
replaced, another left beside its correction, evidence files, over three periods. Timeliness
and return rounds are worked out here from the files' times, not read back from the product."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from gkreport.core.model import Period, Status
from gkreport.history import History
from gkreport.workspace import Paths, run_check, run_consolidate, run_forms, run_memo

from .factories import SMALL_TASKS, SMALL_UNITS, fill_unit_form, small_workspace

ON = Status.ON_TRACK
JUNE, JULY, AUGUST = Period(2025, 6), Period(2025, 7), Period(2025, 8)
DUE_DAY = 5


def tasks_of(unit: str) -> list[int]:
    return [no for no, _c, _t, units, _d in SMALL_TASKS if unit in units.split("、")]


def at(p: Period, day: int, hour: int = 10) -> datetime:
    """A time in the month after p (when its forms come in)."""
    nxt = p.next
    return datetime(nxt.year, nxt.month, day, hour)


# When each unit's files come (day of the next month), per period; "bad" = a form with an
# unreadable status. 区乙局 is late every month; 区丙局 is sent back in June and July.
SCRIPT = {
    JUNE: {"区甲局": [(3, "ok")], "区乙局": [(8, "ok")],
           "区丙局": [(4, "bad-removed"), (9, "ok")],  # taken away after check, replaced
           "东街道": [(2, "bad-kept"), (6, "ok")]},  # left beside its correction
    JULY: {"区甲局": [(5, "ok")], "区乙局": [(7, "ok")], "区丙局": [(1, "bad-removed"), (3, "ok")],
           "东街道": [(4, "ok")], "西镇": [(5, "ok")]},
    AUGUST: {"区甲局": [(1, "ok")], "区乙局": [(6, "ok")], "区丙局": [(2, "ok")],
             "东街道": [(12, "ok")], "西镇": [(3, "ok")]},
}


def expected(p: Period) -> tuple[list[str], list[tuple[str, int]], dict[str, int]]:
    """(on time, late with days, return rounds) from the script, by the rules: a unit's first
    form decides; a bad form followed by another file is a round."""
    due = date(p.next.year, p.next.month, DUE_DAY)
    on_time, late, rounds = [], [], {}
    for unit, *_ in SMALL_UNITS:
        files = SCRIPT[p].get(unit)
        if not files:
            continue
        first = min(day for day, _ in files)
        days = (date(p.next.year, p.next.month, first) - due).days
        if days > 0:
            late.append((unit, days))
        else:
            on_time.append(unit)
        bad = [day for day, kind in files if kind.startswith("bad")
               and any(other > day for other, _ in files)]
        if bad:
            rounds[unit] = len(bad)
    return on_time, late, rounds


def run_period(ws: Path, p: Period) -> None:
    """Forms out; files in as scripted (a checked bad form replaced); consolidate."""
    paths = Paths(ws)
    run_forms(paths, p)
    folder = ws / "input" / str(p)
    removed = []
    for unit, files in SCRIPT[p].items():
        form = next((ws / "output" / "forms" / str(p)).glob(f"{unit}_*.xlsx"))
        for n, (day, kind) in enumerate(files):
            answers = {no: "差不多" if kind.startswith("bad") and i == 0 else ON
                       for i, no in enumerate(tasks_of(unit))}
            path = fill_unit_form(form, folder / f"{unit}{'（修改后）' * n}.xlsx", answers,
                                  received=at(p, day), fill_date=at(p, day))
            if kind == "bad-removed":
                removed.append(path)
    run_check(paths, p)  # the office checks what has come in
    for path in removed:  # ... sends the bad forms back; the units' corrections replace them
        path.unlink()
    run_consolidate(paths, p, today=date(p.next.year, p.next.month, 10))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = small_workspace(tmp_path_factory.mktemp("ledger"), due_day=DUE_DAY)
    june = ws / "input" / "2025-06"
    (june / "区甲局").mkdir(parents=True)
    (june / "区甲局" / "会议纪要.pdf").write_bytes(b"%PDF-1.4 minutes")
    (june / "东街道佐证材料.docx").write_bytes(b"PK\x03\x04 not really")
    (june / "会议通知.pdf").write_bytes(b"%PDF-1.4 whose?")
    for p in (JUNE, JULY, AUGUST):
        run_period(ws, p)
    return ws


def summary(ws: Path, p: Period) -> dict:
    return json.loads((ws / "output" / str(p) / "summary.json").read_text(encoding="utf-8"))


def ledger_rows(ws: Path) -> list[tuple]:
    con = sqlite3.connect(ws / "output" / "history.sqlite")
    try:
        return con.execute("SELECT * FROM ledger ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("p", [JUNE, JULY, AUGUST], ids=str)
def test_on_time_late_and_rounds_follow_the_files(ws: Path, p: Period) -> None:
    on_time, late, rounds = expected(p)
    units = summary(ws, p)["units"]
    assert units["due"] == date(p.next.year, p.next.month, DUE_DAY).isoformat()
    assert units["on_time"] == on_time
    assert [(x["unit"], x["days"]) for x in units["late"]] == late
    assert units["returned"] == rounds
    assert units["missing"] == [u for u, *_ in SMALL_UNITS if u not in SCRIPT[p]]


def test_the_ledger_keeps_every_file_and_reruns_add_nothing(ws: Path) -> None:
    rows = ledger_rows(ws)
    names = {(r[1], r[2]) for r in rows}
    # the bad forms taken away after check are still there, with their errors
    assert ("2025-06", "区丙局.xlsx") in names and ("2025-07", "区丙局.xlsx") in names
    gone = [r for r in rows if r[1] == "2025-06" and r[2] == "区丙局.xlsx"]
    assert gone[0][5].startswith("2025-07-04") and gone[0][7] > 0  # received, errors
    assert not (ws / "input" / "2025-06" / "区丙局.xlsx").exists()
    before = ledger_rows(ws)
    run_consolidate(Paths(ws), JUNE, today=date(2025, 7, 10))
    run_check(Paths(ws), JUNE)
    assert ledger_rows(ws) == before


def test_evidence_is_listed_under_its_unit(ws: Path) -> None:
    rows = {(r[2], r[6], r[9]) for r in ledger_rows(ws) if r[1] == "2025-06"}  # name, unit, outcome
    assert ("区甲局/会议纪要.pdf", "区甲局", "佐证材料") in rows
    assert ("东街道佐证材料.docx", "东街道", "佐证材料") in rows
    assert ("会议通知.pdf", "", "佐证材料") in rows
    problems = json.loads((ws / "output" / "2025-06" / "summary.json").read_text())["problems"]
    assert problems["错误"] == 0  # evidence is no error (the bad forms were replaced)
    book = openpyxl.load_workbook(ws / "output" / "2025-06" / "汇总表_2025-06.xlsx")
    units = {r[0]: r for r in book["报送情况"].iter_rows(values_only=True)}
    assert "区甲局/会议纪要.pdf" in units["区甲局"][14]
    assert units["区乙局"][11] == "逾期3天" and units["区甲局"][11] == "按时"
    assert units["区丙局"][12] == 1  # 退回修改次数
    assert "区丙局.xlsx" in units["区丙局"][13]  # the removed file is still listed


def test_check_exits_zero_when_evidence_is_the_only_thing_beside_valid_forms(tmp_path) -> None:
    from typer.testing import CliRunner

    from gkreport.cli import app

    ws = small_workspace(tmp_path / "ws")
    run_forms(Paths(ws), JUNE)
    for unit, *_ in SMALL_UNITS:
        form = next((ws / "output" / "forms" / "2025-06").glob(f"{unit}_*.xlsx"))
        fill_unit_form(form, ws / "input" / "2025-06" / f"{unit}.xlsx",
                       dict.fromkeys(tasks_of(unit), ON), received=at(JUNE, 2))
    (ws / "input" / "2025-06" / "西镇情况说明.pdf").write_bytes(b"%PDF-1.4")
    r = CliRunner().invoke(app, ["check", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output


def test_the_notice_reads_right(ws: Path) -> None:
    text = (ws / "output" / "2025-06" / "催报通知_2025-06.md").read_text(encoding="utf-8")
    # issued on 10 July, due on the 5th: five days late, for the one unit still missing
    assert "《2025年某区政务公开工作要点》2025年6月推进情况的报送截止日期为2025年7月5日，现已逾期5天。" in text
    assert "一、未报送单位（1家）" in text
    assert "1. 西镇（联系人：名录未登记；电话：名录未登记），已逾期5天" in text
    assert "需修改" not in text and "0家" not in text  # nobody to correct: no such section
    assert text.rstrip().endswith("区政府办公室\n2025年7月10日")
    assert "（区政府办公室 王五 57771234）" in text
    # August: 区乙局 late in June, July and August: 红牌; 区丙局 sent back twice: 黄牌
    august = (ws / "output" / "2025-08" / "催报通知_2025-08.md").read_text(encoding="utf-8")
    assert "区乙局【红牌】：本年度已有3期逾期报送（6月、7月、8月）" in august
    assert "区丙局【黄牌】：本年度已有2期填报表被退回修改（6月、7月）" in august
    assert "红牌：本年度逾期报送3期及以上；黄牌：本年度被退回修改2期及以上" in august


def june_sent(tmp_path: Path, received: Callable[[str], datetime]) -> tuple[Path, Path]:
    """A small workspace whose units all returned June's forms (all 按计划推进), each file
    dated received(unit): (workspace, June's input folder)."""
    ws = small_workspace(tmp_path / "ws")
    run_forms(Paths(ws), JUNE)
    folder = ws / "input" / "2025-06"
    for unit, *_ in SMALL_UNITS:
        form = next((ws / "output" / "forms" / "2025-06").glob(f"{unit}_*.xlsx"))
        fill_unit_form(form, folder / f"{unit}.xlsx", dict.fromkeys(tasks_of(unit), ON),
                       received=received(unit))
    return ws, folder


def test_received_times_follow_the_receipt_register(tmp_path) -> None:
    """A copied folder dates every file to the copy; 收文登记.csv says when they came."""
    ws, folder = june_sent(tmp_path, lambda _u: datetime(2026, 1, 1))  # "copied" long after
    (folder / "收文登记.csv").write_text(
        "文件,收到时间\n" + "".join(f"{u}.xlsx,2025-07-0{2 + (u == '西镇') * 5} 09:00\n"
                                   for u, *_ in SMALL_UNITS), encoding="utf-8-sig")
    os.utime(folder / "收文登记.csv", (0, 0))
    result = run_consolidate(Paths(ws), JUNE, today=date(2025, 7, 10))
    units = result.report.summary.to_json()["units"]
    assert [(x["unit"], x["days"]) for x in units["late"]] == [("西镇", 2)]
    assert len(units["on_time"]) == len(SMALL_UNITS) - 1


def test_a_receipt_register_added_after_check_is_kept(tmp_path) -> None:
    """check saw the files first (dated by the copy); the register the office adds before
    consolidate decides, and still does when the period is re-rendered from the history."""
    ws, folder = june_sent(tmp_path, lambda _u: datetime(2025, 7, 20))  # 15 days late
    run_check(Paths(ws), JUNE, today=date(2025, 7, 20))
    (folder / "收文登记.csv").write_text(
        "文件,收到时间\n" + "".join(f"{u}.xlsx,2025-07-02 09:00\n" for u, *_ in SMALL_UNITS),
        encoding="utf-8-sig")
    os.utime(folder / "收文登记.csv", (0, 0))
    run_consolidate(Paths(ws), JUNE, today=date(2025, 7, 20))
    history = History(ws / "output" / "history.sqlite")
    assert {f.received for f in history.ledger(JUNE)} == {datetime(2025, 7, 2, 9)}
    memo = run_memo(Paths(ws), JUNE, today=date(2025, 7, 20)).report.summary.to_json()
    assert memo["units"]["late"] == [] and len(memo["units"]["on_time"]) == len(SMALL_UNITS)


def test_consolidate_names_late_units_at_the_terminal(tmp_path) -> None:
    from typer.testing import CliRunner

    from gkreport.cli import app

    late = {SMALL_UNITS[0][0]: 3}  # the due date is 5 July: three days after it
    ws, _folder = june_sent(tmp_path, lambda u: datetime(2025, 7, 5 + late.get(u, -3), 9))
    r = CliRunner().invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert "  逾期报送：" + "、".join(f"{u}（{d}天）" for u, d in late.items()) in r.output
