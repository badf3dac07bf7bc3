"""Unit forms: read the generated workbooks back and check what a unit and the reader rely on."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from gkreport.core.model import Period, Plan
from gkreport.core.problems import GkreportError
from gkreport.forms import layout as L
from gkreport.forms.writer import (
    LISTING_HEADERS,
    default_due,
    form_filename,
    write_forms,
)

from .lo import convert, needs_lo, pdf_pages

JUNE = Period(2025, 6)
COL = {c.key: i + 1 for i, c in enumerate(L.COLUMNS)}  # 1-based for openpyxl
HEADER = L.HEADER_ROW + 1
FIRST = L.FIRST_DATA_ROW + 1


@pytest.fixture(scope="module")
def june(tmp_path_factory: pytest.TempPathFactory, plan: Plan):
    """All forms of 2025-06, with one previous answer prefilled."""
    out = tmp_path_factory.mktemp("forms") / "2025-06"
    seen: list[tuple[int, int]] = []
    result = write_forms(plan, JUNE, out, previous={(1, "泗泾镇"): ("滞后", "五月做了培训")},
                         contact="区政府办公室 王五 57770000", progress=lambda i, n: seen.append((i, n)))
    return result, seen


def _form(result, unit: str) -> openpyxl.Workbook:
    path = next(f.path for f in result.forms if f.unit == unit)
    return openpyxl.load_workbook(path)


def _task_nos(ws) -> list[int]:
    nos = []
    for r in range(FIRST, ws.max_row + 1):
        v = ws.cell(r, COL["no"]).value
        if v is not None:
            nos.append(v)
    return nos


def test_one_form_per_expected_unit(june, plan: Plan) -> None:
    result, seen = june
    assert len(result.forms) == len(plan.expected_units) == 56
    assert [f.unit for f in result.forms] == list(plan.expected_units)
    assert all(f.path.name == form_filename(f.unit, JUNE) for f in result.forms)
    assert {p.name for p in result.listing.parent.iterdir()} == {
        *(f.path.name for f in result.forms), "分发清单_2025-06.xlsx"}
    assert seen[-1] == (56, 56) and len(seen) == 56

    ws = openpyxl.load_workbook(result.listing)["分发清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == LISTING_HEADERS
    assert len(rows) == 57
    first = dict(zip(LISTING_HEADERS, rows[1], strict=True))
    assert first["单位名称"] == "区政府办公室"
    assert first["文件名"] == "区政府办公室_2025-06_填报表.xlsx"
    assert first["任务数"] == len(plan.tasks_for("区政府办公室"))


def test_town_gets_every_task_naming_jiezhen(june, plan: Plan) -> None:
    towns = [u.name for u in plan.units if u.kind == "街镇"]
    assert len(towns) == 17
    wanted = [t.no for t in plan.tasks if "各街镇" in t.units_text]
    for town in towns:
        assert _task_nos(_form(june[0], town)[L.FORM_SHEET]) == wanted, town


def test_department_gets_tasks_naming_it_or_all_departments(june, plan: Plan) -> None:
    result, _ = june
    departments = [u.name for u in plan.units if u.kind == "区政府部门" and u.name in plan.expected_units]
    for dept in departments:
        wanted = [t.no for t in plan.tasks
                  if "区政府各部门" in t.units_text or dept in t.named_units]
        assert _task_nos(_form(result, dept)[L.FORM_SHEET]) == wanted, dept
    # An open task (各有关单位) reaches a unit only when the task also names it.
    assert 8 in _task_nos(_form(result, "区科委")[L.FORM_SHEET])
    assert 8 not in _task_nos(_form(result, "区财政局")[L.FORM_SHEET])


def test_form_values(june, plan: Plan) -> None:
    ws = _form(june[0], "泗泾镇")[L.FORM_SHEET]
    assert ws.cell(L.TITLE_ROW + 1, 1).value == "2025年松江区政务公开工作要点推进情况填报表（2025年6月）"
    assert [ws.cell(L.UNIT_ROW + 1, c).value for c in (1, 2)] == [L.LABEL_UNIT, "泗泾镇"]
    reporter = [ws.cell(L.REPORTER_ROW + 1, c).value for c in range(1, 7)]
    assert reporter == [L.LABEL_REPORTER, None, L.LABEL_PHONE, None, L.LABEL_DATE, None]
    assert [c.value for c in ws[HEADER]] == [c.header for c in L.COLUMNS]
    task = plan.task(1)
    row = [c.value for c in ws[FIRST]]
    assert row[:7] == [1, task.category, task.text, "区政府各部门、各街镇", "全年", "滞后", "五月做了培训"]
    assert row[7:] == [None] * 5
    second = [c.value for c in ws[FIRST + 1]]
    assert second[5:7] == [None, None]  # no history for this task: empty, not "None"
    assert ws.max_row == FIRST + len(plan.tasks_for("泗泾镇")) - 1


def test_guide_sheet(june) -> None:
    ws = _form(june[0], "泗泾镇")[L.GUIDE_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for needle in ("泗泾镇", "2025年7月5日", "区政府办公室 王五 57770000", "已完成", "按计划推进",
                   "滞后", "未启动", "推进中", "已办结", "未开始", "0 到 100"):
        assert needle in text, needle
    assert default_due(Period(2025, 12)) == date(2026, 1, 5)


def test_validations(june) -> None:
    ws = _form(june[0], "泗泾镇")[L.FORM_SHEET]
    last = ws.max_row
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    letter = {k: openpyxl.utils.get_column_letter(i) for k, i in COL.items()}
    status = dvs[f"{letter['status']}{FIRST}:{letter['status']}{last}"]
    assert status.type == "list"
    assert status.formula1 == f"'{L.LISTS_SHEET}'!$A$1:$A$4"  # a hidden sheet, not inline
    assert status.showErrorMessage and status.showInputMessage
    progress = dvs[f"{letter['progress']}{FIRST}:{letter['progress']}{last}"]
    assert (progress.type, progress.formula1, progress.formula2) == ("whole", "0", "100")
    assert progress.operator in (None, "between")  # "between" is the default, often omitted
    for dv in ws.data_validations.dataValidation:
        assert len(dv.promptTitle or "") <= 32 and len(dv.prompt or "") <= 255
        assert len(dv.errorTitle or "") <= 32 and len(dv.error or "") <= 255
        assert dv.promptTitle and dv.prompt
    assert "完成进度" in progress.error
    lists = _form(june[0], "泗泾镇")[L.LISTS_SHEET]
    assert [c.value for c in lists["A"]] == ["已完成", "按计划推进", "滞后", "未启动"]


def test_protection_and_locked_cells(june) -> None:
    ws = _form(june[0], "泗泾镇")[L.FORM_SHEET]
    p = ws.protection
    assert p.sheet and p.password is None
    # False = not protected: units may resize rows and columns and filter.
    assert (p.formatColumns, p.formatRows, p.autoFilter) == (False, False, False)
    assert ws.auto_filter.ref == f"A{HEADER}:L{ws.max_row}"
    for key in ("no", "category", "text", "units", "deadline", "prev_status", "prev_note"):
        cell = ws.cell(FIRST, COL[key])
        assert cell.protection.locked, key
    for key in ("status", "progress", "note", "issues", "next_steps"):
        cell = ws.cell(ws.max_row, COL[key])
        assert not cell.protection.locked, key
        assert cell.fill.fgColor.rgb == "FFFFF2CC"
        assert cell.alignment.wrap_text
    assert ws.cell(FIRST, COL["progress"]).number_format == "0"
    for col in (2, 4, 6):  # 填报人, 联系电话, 填报日期 values
        assert not ws.cell(L.REPORTER_ROW + 1, col).protection.locked
    assert ws.cell(L.REPORTER_ROW + 1, 4).number_format == "@"
    assert ws.cell(L.UNIT_ROW + 1, 2).protection.locked
    assert ws.cell(FIRST, COL["text"]).alignment.wrap_text


def test_password(tmp_path: Path, plan: Plan) -> None:
    result = write_forms(plan, JUNE, tmp_path, units=["泗泾镇"], password="s3cret")
    wb = openpyxl.load_workbook(result.forms[0].path)
    assert wb[L.FORM_SHEET].protection.password  # stored as Excel's hash
    assert wb[L.FORM_SHEET].protection.sheet


def test_sheets_and_print_settings(june) -> None:
    wb = _form(june[0], "区政府办公室")
    assert wb.sheetnames == [L.FORM_SHEET, L.GUIDE_SHEET, L.LISTS_SHEET, L.META_SHEET]
    states = {ws.title: ws.sheet_state for ws in wb}
    assert states == {L.FORM_SHEET: "visible", L.GUIDE_SHEET: "visible",
                      L.LISTS_SHEET: "hidden", L.META_SHEET: "veryHidden"}
    assert wb.active.title == L.FORM_SHEET
    ws = wb[L.FORM_SHEET]
    assert ws.freeze_panes == f"D{FIRST}"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${HEADER}:${HEADER}"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    widths = {c.header: ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
              for i, c in enumerate(L.COLUMNS)}
    assert widths["任务内容"] > widths["时间节点"] > 0
    assert widths["完成状态"] >= 10  # "按计划推进" is 10 columns wide in East-Asian width
    assert ws.row_dimensions[FIRST].height > 20  # wrapped task text gets a taller row


def test_metadata(june, plan: Plan) -> None:
    wb = _form(june[0], "佘山镇")
    meta = {r[0]: r[1] for r in wb[L.META_SHEET].iter_rows(values_only=True)}
    assert list(meta) == list(L.META_KEYS)
    assert meta == {"gkreport_form": "1", "unit": "佘山镇", "period": "2025-06",
                    "fingerprint": plan.fingerprint, "version": L.FORM_VERSION,
                    "generated_at": "2025-06-30T09:00:00", "year": "2025"}
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props == {f"{L.META_PROPERTY_PREFIX}{k}": v for k, v in meta.items()}
    assert wb.properties.created == datetime(2025, 6, 30, 9, 0)


def test_reproducible(tmp_path: Path, plan: Plan) -> None:
    a = write_forms(plan, JUNE, tmp_path / "a", units=["泗泾镇"])
    b = write_forms(plan, JUNE, tmp_path / "b", units=["泗泾镇"],
                    generated_at=datetime(2025, 6, 30, 9, 0))

    def dump(path: Path) -> list:
        wb = openpyxl.load_workbook(path)
        return [[c.value for c in row] for ws in wb for row in ws.iter_rows()]

    assert dump(a.forms[0].path) == dump(b.forms[0].path)


def test_units_subset_and_aliases(tmp_path: Path, plan: Plan) -> None:
    result = write_forms(plan, JUNE, tmp_path, units=["区发改委", "泗泾镇", "区发展改革委"])
    assert [f.unit for f in result.forms] == ["区发展改革委", "泗泾镇"]
    rows = list(openpyxl.load_workbook(result.listing).active.iter_rows(values_only=True))
    assert len(rows) == 3


def test_unknown_units(tmp_path: Path, plan: Plan) -> None:
    with pytest.raises(GkreportError) as err:
        write_forms(plan, JUNE, tmp_path, units=["泗泾镇", "泗径镇", "不存在的局"])
    codes = [(p.code, p.message) for p in err.value.problems]
    assert codes == [("forms-unknown-unit", "“泗径镇”不是本计划需要填报的单位，是否是“泗泾镇”？"),
                     ("forms-unknown-unit", "“不存在的局”不是本计划需要填报的单位")]
    assert not list(tmp_path.iterdir())


HOSTILE = ["../x", "..", "a/b", "a_b", "a\\b", "a:b", "a?b", "CON", "con", "未命名_CON", "nul.txt",
           " x ", "x", "X", "Ab", "aB", "区" * 200, "区" * 199 + "镇", "a\x00b", "名称.", "名称"]


@pytest.mark.parametrize("name", HOSTILE)
def test_safe_file_name(tmp_path: Path, name: str) -> None:
    file = form_filename(name, JUNE)
    assert "/" not in file and "\\" not in file and not file.startswith(".")
    assert not set(file) & set('<>:"|?*\x00')
    assert file.endswith("_2025-06_填报表.xlsx")
    assert len(file.encode("utf-8")) < 200
    stem = file.split("_")[0].split(".")[0].upper()
    assert stem not in {"CON", "NUL", "PRN", "AUX"}
    (tmp_path / file).write_text("x")
    assert (tmp_path / file).parent == tmp_path


def test_file_names_never_collide() -> None:
    names = [form_filename(n, JUNE) for n in HOSTILE]
    assert len({n.casefold() for n in names}) == len(HOSTILE)
    assert form_filename("泗泾镇", JUNE) == "泗泾镇_2025-06_填报表.xlsx"


# ---------------------------------------------------------------- real LibreOffice

FILLED = {"status": "按计划推进", "progress": 60, "note": "=1+1 已召开专题会", "issues": "<script>",
          "next_steps": "继续推进"}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory, plan: Plan):
    """One blank and one filled form, converted by LibreOffice to pdf, xlsx, xls and ods."""
    tmp = tmp_path_factory.mktemp("lo")
    result = write_forms(plan, JUNE, tmp / "forms", units=["泗泾镇", "区财政局"])
    blank = result.forms[1].path
    # Fill one form as a unit would (openpyxl saves like Excel: validations and protection kept).
    filled = tmp / "泗泾镇6月报表（终稿）.xlsx"
    wb = openpyxl.load_workbook(result.forms[0].path)
    ws = wb[L.FORM_SHEET]
    ws.cell(L.REPORTER_ROW + 1, 2, "张三")
    ws.cell(L.REPORTER_ROW + 1, 4, "021-57001234")
    ws.cell(L.REPORTER_ROW + 1, 6, date(2025, 7, 3))
    for r in range(FIRST, ws.max_row + 1):
        for key, value in FILLED.items():
            cell = ws.cell(r, COL[key], value)
            if isinstance(value, str):
                cell.data_type = "s"  # typed as text (openpyxl would make "=…" a formula)
    wb.save(filled)
    files = [filled, blank]
    return {fmt: convert(files, fmt, tmp / fmt) for fmt in ("pdf", "xlsx", "xls", "ods")}


@needs_lo
def test_libreoffice_pdf(round_trip) -> None:
    # The blank form: 填报表 (one A4 page wide) and 填报说明, a page each; the hidden sheets
    # print nothing. Filled in, the taller rows may take the table onto a second page.
    filled, blank = (pdf_pages(pdf) for pdf in round_trip["pdf"])
    assert blank == 2 and 2 <= filled <= 3


@needs_lo
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_libreoffice_round_trip(round_trip, fmt: str, plan: Plan) -> None:
    from python_calamine import CalamineWorkbook

    filled, blank = round_trip[fmt]
    for path, unit in ((filled, "泗泾镇"), (blank, "区财政局")):
        wb = CalamineWorkbook.from_path(str(path))
        assert L.META_SHEET in wb.sheet_names and L.FORM_SHEET in wb.sheet_names
        meta = {r[0]: r[1] for r in wb.get_sheet_by_name(L.META_SHEET).to_python() if r and r[0]}
        assert meta["unit"] == unit and meta["period"] == "2025-06"
        assert meta["fingerprint"] == plan.fingerprint
        assert str(meta["gkreport_form"]) == "1"
        rows = wb.get_sheet_by_name(L.FORM_SHEET).to_python()
        assert rows[L.UNIT_ROW][1] == unit
        assert [str(v) for v in rows[L.HEADER_ROW][:len(L.COLUMNS)]] == [c.header for c in L.COLUMNS]
        data = [r for r in rows[L.FIRST_DATA_ROW:] if r and r[0] != ""]
        tasks = plan.tasks_for(unit)
        assert [int(r[0]) for r in data] == [t.no for t in tasks]
        assert [r[COL["text"] - 1] for r in data] == [t.text for t in tasks]
        if unit == "泗泾镇":
            assert rows[L.REPORTER_ROW][1] == "张三"
            assert rows[L.REPORTER_ROW][3] == "021-57001234"
            for r in data:
                got = {k: r[COL[k] - 1] for k in FILLED}
                assert got == {**FILLED, "progress": got["progress"]}
                assert float(got["progress"]) == 60
