"""Demo returns: reproducible, realistic, consistent month to month, with the planted mistakes."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from gkreport.core.model import Period, Plan, Status, normalise_status
from gkreport.core.problems import GkreportError
from gkreport.core.text import nfkc
from gkreport.forms import layout as L
from gkreport.forms.demo import (
    DemoResult,
    demo_answers,
    fill_demo,
    missing_units,
    regenerate_examples,
    trajectory,
)
from gkreport.forms.writer import write_forms

from .conftest import ROOT

MAY, JUNE = Period(2025, 5), Period(2025, 6)
COL = L.COLUMN_INDEX


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, DemoResult]]:
    """The two bundled months regenerated into a fresh workspace."""
    ws = tmp_path_factory.mktemp("demo")
    (ws / "input").mkdir()
    shutil.copy(ROOT / "input" / "任务分解表.xlsx", ws / "input")
    results = regenerate_examples(ws, ("2025-05", "2025-06"))
    return ws, {str(p): r for p, r in zip((MAY, JUNE), results, strict=True)}


def _values(path: Path) -> list[list[list[object]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return [wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names]


def _read(path: Path) -> tuple[str, list[list[object]]]:
    """(unit from the metadata, rows of the 填报表 sheet)."""
    wb = CalamineWorkbook.from_path(str(path))
    meta = {r[0]: r[1] for r in wb.get_sheet_by_name(L.META_SHEET).to_python()}
    return str(meta["unit"]), wb.get_sheet_by_name(L.FORM_SHEET).to_python()


def _forms(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".xlsx" and not p.name.startswith("~$"))


def test_bundled_months_are_up_to_date(months) -> None:
    """The committed input/2025-05 and input/2025-06 equal a fresh run (regenerate otherwise:
    `python -m gkreport.forms.demo`)."""
    ws, _ = months
    for period in ("2025-05", "2025-06"):
        fresh, bundled = ws / "input" / period, ROOT / "input" / period
        assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in bundled.iterdir())
        for path in _forms(fresh):
            assert _values(path) == _values(bundled / path.name), path.name


def test_deterministic(tmp_path: Path, plan: Plan) -> None:
    forms = write_forms(plan, JUNE, tmp_path / "forms", units=list(plan.expected_units[:8]))
    a = fill_demo(plan, JUNE, forms.listing.parent, tmp_path / "a")
    b = fill_demo(plan, JUNE, forms.listing.parent, tmp_path / "b")
    assert [p.name for p in a.files] == [p.name for p in b.files]
    assert a.mistakes == b.mistakes and a.missing == b.missing
    for pa, pb in zip(a.files, b.files, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name  # even the zip bytes are stable
    c = fill_demo(plan, JUNE, forms.listing.parent, tmp_path / "c", seed=7)
    assert [_values(p) for p in _forms(c.input_dir)] != [_values(p) for p in _forms(a.input_dir)]


def test_no_forms(tmp_path: Path, plan: Plan) -> None:
    with pytest.raises(GkreportError) as err:
        fill_demo(plan, JUNE, tmp_path, tmp_path / "in")
    assert err.value.problems[0].code == "demo-no-forms"


@pytest.mark.parametrize("period", ["2025-05", "2025-06"])
def test_missing_units_are_missing(months, plan: Plan, period: str) -> None:
    ws, results = months
    result = results[period]
    assert len(result.missing) == 3
    assert result.missing == missing_units(plan, Period.parse(period))
    units = Counter(_read(p)[0] for p in _forms(ws / "input" / period))
    assert set(units) == set(plan.expected_units) - set(result.missing)
    dup = next(m.unit for m in result.mistakes if m.kind == "duplicate-form")
    assert units[dup] == 2 and set(units.values()) == {1, 2} and list(units.values()).count(2) == 1


def test_missing_units_differ_by_month(months) -> None:
    _, results = months
    assert results["2025-05"].missing != results["2025-06"].missing


@pytest.mark.parametrize("period", ["2025-05", "2025-06"])
def test_mistakes_are_present(months, period: str) -> None:
    ws, results = months
    folder = ws / "input" / period
    mistakes = results[period].mistakes
    kinds = Counter(m.kind for m in mistakes)
    for kind in ("progress-percent", "progress-fraction", "progress-full-width", "unknown-status",
                 "missing-progress-note", "done-below-100", "renamed-file", "duplicate-form",
                 "lock-file", "missing-reporter", "behind-without-issue"):
        assert kinds[kind] == 1, kind
    assert kinds["status-variant"] == 3
    # Test strings (formulas, <script>) belong in the tests, not in the example leaders read.
    assert not any(m.value.startswith(("=", "<")) for m in mistakes)
    assert {m.value for m in mistakes if m.kind == "status-variant"} == {"推进中", "完成", "未开始"}
    if period == "2025-06":  # May has no previous month to copy from
        assert kinds["stale-progress"] == 1

    for m in mistakes:
        if not m.cell:
            continue
        ws_ = openpyxl.load_workbook(folder / m.file)[L.FORM_SHEET]
        cell = ws_[m.cell]
        if m.kind == "progress-fraction":
            assert isinstance(cell.value, float) and 0 < cell.value < 1
        elif m.kind in ("missing-progress-note", "behind-without-issue", "missing-reporter"):
            assert cell.value is None
        elif m.kind == "done-below-100":
            assert cell.value == 90
            assert ws_.cell(cell.row, COL["status"] + 1).value == "已完成"
        else:
            assert str(cell.value) == m.value, m
            assert cell.data_type == "s" or m.kind == "done-below-100"  # "=1+1" is text
        if m.kind == "progress-full-width":
            assert nfkc(cell.value).isdigit() and not cell.value.isascii()
        if m.kind == "progress-percent":
            assert cell.value.endswith("%")
        if m.kind == "stale-progress":
            assert cell.value == ws_.cell(cell.row, COL["prev_note"] + 1).value
        if m.kind == "missing-progress-note":
            assert ws_.cell(cell.row, COL["status"] + 1).value == "按计划推进"
        if m.kind == "behind-without-issue":
            assert ws_.cell(cell.row, COL["status"] + 1).value == "滞后"

    renamed = next(m for m in mistakes if m.kind == "renamed-file")
    month = Period.parse(period).month
    assert renamed.file == f"{renamed.unit}{month}月报表（终稿）.xlsx"
    assert _read(folder / renamed.file)[0] == renamed.unit
    lock = next(m for m in mistakes if m.kind == "lock-file")
    assert lock.file.startswith("~$") and (folder / lock.file).stat().st_size < 512


def test_duplicate_is_older(months) -> None:
    ws, results = months
    folder = ws / "input" / "2025-06"
    dup = next(m for m in results["2025-06"].mistakes if m.kind == "duplicate-form")
    files = [p for p in _forms(folder) if _read(p)[0] == dup.unit]
    by_date = sorted(files, key=lambda p: _read(p)[1][L.REPORTER_ROW][5])
    assert by_date[0].name == dup.file  # the superseded copy has the earlier 填报日期 ...
    assert by_date[0].stat().st_mtime < by_date[1].stat().st_mtime  # ... and file time
    assert "修改后" in by_date[1].name


def test_reporter_block(months, plan: Plan) -> None:
    ws, results = months
    no_phone = {m.unit for m in results["2025-06"].mistakes if m.kind == "missing-reporter"}
    for path in _forms(ws / "input" / "2025-06"):
        unit, rows = _read(path)
        name, phone, filled = (rows[L.REPORTER_ROW][i] for i in (1, 3, 5))
        assert 2 <= len(name) <= 3
        assert phone.startswith("021-") or unit in no_phone
        # the first days of July, two units a few days after the due date (the 5th)
        assert isinstance(filled, date | datetime) and date(2025, 6, 28) <= filled <= date(2025, 7, 9)
    late = [p for p in _forms(ws / "input" / "2025-06")
            if date.fromisoformat(str(_read(p)[1][L.REPORTER_ROW][5])[:10]) > date(2025, 7, 5)]
    assert len(late) == 2


def _status(value: object) -> Status | None:
    return normalise_status(value)


def _progress(value: object) -> float | None:
    if isinstance(value, float | int):
        return value * 100 if 0 < value < 1 else float(value)
    text = nfkc(str(value)).rstrip("%")
    return float(text) if text else None


def test_months_are_consistent(months, plan: Plan) -> None:
    ws, results = months
    planted = {(m.file, m.cell) for r in results.values() for m in r.mistakes}
    seen: dict[str, dict[tuple[str, int], tuple[Status, float]]] = {}
    for period in ("2025-05", "2025-06"):
        got = seen[period] = {}
        superseded = {m.file for m in results[period].mistakes if m.kind == "duplicate-form"}
        for path in _forms(ws / "input" / period):
            if path.name in superseded:
                continue
            unit, rows = _read(path)
            for i, r in enumerate(rows[L.FIRST_DATA_ROW:]):
                status_cell = f"H{L.FIRST_DATA_ROW + i + 1}"
                progress_cell = f"I{L.FIRST_DATA_ROW + i + 1}"
                if {(path.name, status_cell), (path.name, progress_cell)} & planted:
                    continue
                got[(unit, int(r[0]))] = (_status(r[COL["status"]]), _progress(r[COL["progress"]]))
    both = seen["2025-05"].keys() & seen["2025-06"].keys()
    assert len(both) > 400
    for key in both:
        (s5, p5), (s6, p6) = seen["2025-05"][key], seen["2025-06"][key]
        assert p6 >= p5, key
        if s5 is Status.DONE:
            assert s6 is Status.DONE, key
    statuses = Counter(s for s, _ in seen["2025-06"].values())
    # A realistic mix: every status occurs, most tasks on track, lagging rows are rare
    # (one lagging unit makes a whole task 滞后).
    assert all(statuses[s] >= 10 for s in (Status.DONE, Status.NOT_STARTED))
    assert 2 <= statuses[Status.BEHIND] <= sum(statuses.values()) / 20
    assert statuses[Status.ON_TRACK] > sum(statuses.values()) / 2
    assert statuses[Status.DONE] > sum(1 for s, _ in seen["2025-05"].values() if s is Status.DONE)


def test_trajectories(plan: Plan) -> None:
    for unit in plan.expected_units:
        for task in plan.tasks_for(unit):
            months = trajectory(plan, task, unit, 2025)
            progress = [p for _, p in months]
            assert progress == sorted(progress) and progress[-1] <= 100
            done = [s is Status.DONE for s, _ in months]
            assert done == sorted(done)  # once done, done for good
            for status, p in months:
                assert (status is Status.DONE) == (p == 100)
                assert (status is Status.NOT_STARTED) == (p == 0)


def test_text_is_plausible(plan: Plan) -> None:
    answers = demo_answers(plan, JUNE, "泗泾镇")
    for a, task in zip(answers, plan.tasks_for("泗泾镇"), strict=True):
        if a.status is not Status.NOT_STARTED:
            assert a.note.endswith("。") and len(a.note) > 15
        if a.status is Status.BEHIND:
            assert a.issues and "滞后" in a.issues
        assert a.task_no == task.no
    notes = [a.note for a in answers if a.note]
    assert len(set(notes)) == len(notes)
    may = {a.task_no: a.note for a in demo_answers(plan, MAY, "泗泾镇")}
    assert all(a.note != may[a.task_no] for a in answers if a.note)
