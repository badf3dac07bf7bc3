"""Forms returned for correction: the unit's own file, bad cells filled and commented."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl

from gkreport.core.model import Plan
from gkreport.intake.ingest import read_returns
from gkreport.render.annotate import ERROR_FILL, WARNING_FILL, annotate_returns

from .factories import PERIOD, UNIT, fill_form, no_metadata_no_unit, set_cells
from .lo import needs_lo


def test_annotated_copy_of_the_units_own_form(plan: Plan, blank_forms: dict[str, Path],
                                              tmp_path: Path) -> None:
    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "财政局6月.xlsx",
              set_cells(H6="差不多", H7="已完成", I7=90, B3=None))
    fill_form(blank_forms["泗泾镇"], folder / "泗泾.xlsx", set_cells(H6="已完成", I6=95))
    fill_form(blank_forms["区发展改革委"], folder / "报送.xlsx", no_metadata_no_unit)
    (folder / "坏.xlsx").write_bytes(b"garbage" * 10)
    r = read_returns(plan, PERIOD, folder)
    out = annotate_returns(r, folder, tmp_path / "退回修改")
    assert out == {UNIT: tmp_path / "退回修改" / f"{UNIT}.xlsx",
                   "报送.xlsx": tmp_path / "退回修改" / "未识别_报送.xlsx"}

    wb = openpyxl.load_workbook(out[UNIT])
    assert "_gkreport" in wb.sheetnames and wb["_gkreport"].sheet_state == "veryHidden"
    ws = wb["填报表"]
    assert ws.protection.sheet  # the unit's form keeps its protection and dropdowns
    assert any("H6" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    commented = {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}
    assert set(commented) == {"H6", "I7", "B3"}
    assert commented["H6"].startswith("【错误】完成状态“差不多”无法识别")
    assert "修改建议：请从下拉列表选择" in commented["H6"]
    assert ws["H6"].fill.fgColor.rgb == "00" + ERROR_FILL
    assert ws["I7"].fill.fgColor.rgb == "00" + WARNING_FILL
    assert ws["H6"].value == "差不多" and ws["J6"].value.startswith("第1项")

    ws = openpyxl.load_workbook(out["报送.xlsx"])["填报表"]
    assert ws["B2"].comment.text.startswith("【错误】无法识别是哪个单位的填报表")


@needs_lo
def test_annotate_xls_and_ods(plan: Plan, lo_forms: dict[str, dict[str, Path]],
                              tmp_path: Path) -> None:
    for fmt in ("xls", "ods"):
        folder = tmp_path / fmt
        folder.mkdir()
        shutil.copy(lo_forms[fmt]["damaged"], folder / f"财政.{fmt}")
        r = read_returns(plan, PERIOD, folder)
        out = annotate_returns(r, folder, tmp_path / f"out-{fmt}")
        assert out == {UNIT: tmp_path / f"out-{fmt}" / f"{UNIT}.xlsx"}
        ws = openpyxl.load_workbook(out[UNIT])["填报表"]
        assert ws["H6"].value == "差不多" and ws["A6"].value == 1
        assert ws["H6"].comment.text.startswith("【错误】完成状态“差不多”")
        assert ws["I7"].comment and ws["B3"].comment
        assert ws["H6"].fill.fgColor.rgb == "00" + ERROR_FILL


def test_annotated_names_never_collide(plan: Plan, blank_forms: dict[str, Path],
                                       tmp_path: Path) -> None:
    """Two units whose safe names coincide ("甲/乙办" and "甲_乙办") get two files, as forms do."""
    from dataclasses import replace

    from gkreport.forms.writer import form_filename

    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "a.xlsx", set_cells(H6="差不多"))
    fill_form(blank_forms["泗泾镇"], folder / "b.xlsx", set_cells(H6="差不多"))
    r = read_returns(plan, PERIOD, folder)
    rename = {UNIT: "甲/乙办", "泗泾镇": "甲_乙办"}
    r = replace(r, submissions=tuple(replace(s, unit=rename[s.unit]) for s in r.submissions),
                problems=tuple(replace(p, unit=rename[p.unit]) for p in r.problems))
    out = annotate_returns(r, folder, tmp_path / "退回修改")
    assert len({p.name for p in out.values()}) == 2
    for unit, path in out.items():
        assert path.name == form_filename(unit, PERIOD).replace(f"_{PERIOD}_填报表", "")
        assert openpyxl.load_workbook(path)["填报表"]["H6"].comment is not None
    assert out["甲_乙办"].name == "甲_乙办.xlsx"


def test_a_copy_that_cannot_be_made_is_never_an_xlsx_of_other_bytes(tmp_path: Path) -> None:
    """退回修改/ holds .xlsx files only: an .xls or .ods neither way could copy is not sent
    back as it came under an .xlsx name (Excel would refuse it); an .xlsx is."""
    from gkreport.core.problems import problem
    from gkreport.render.annotate import OFFICE_HINT, UNMARKED, annotate_file

    bad = [problem("unknown-status", file="x", sheet="填报表", cell="H6", value="？")]
    for suffix in (".xls", ".ods", ".xlsx"):
        source = tmp_path / f"坏{suffix}"
        source.write_bytes(b"not a spreadsheet at all" * 10)
        target = tmp_path / f"copy{suffix}.xlsx"
        note = annotate_file(source, bad, target)
        if suffix == ".xlsx":
            assert note == UNMARKED + OFFICE_HINT and target.read_bytes() == source.read_bytes()
        else:
            assert note.startswith("未能生成退回件") and not target.exists()
