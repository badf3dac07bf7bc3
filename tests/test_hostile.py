"""Hostile and unusual returns (issue #16): one bad file never stops the month.

Each class of file is built here the way a careless or hostile unit makes it: a form the
project generated, filled, then damaged, or a package crafted by hand. The read finishes
in seconds, the file's problem is reported with its code and place, every other unit's
rows are merged as in a clean read, and nothing a unit wrote is lost or taken for
something else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from gkreport.core.model import Plan, Returns, Status
from gkreport.core.xlsx import clean_leftovers
from gkreport.forms import layout
from gkreport.forms.writer import write_forms
from gkreport.intake import guards, sheets
from gkreport.intake.ingest import read_returns
from gkreport.render import annotate
from gkreport.render.annotate import COMMENT_LIMIT, annotate_returns

from .factories import (
    NOS,
    PERIOD,
    UNIT,
    assert_reconciled,
    fill_form,
    form,
    note_for,
    rezip,
    set_cells,
    write_cfb,
    xls_number,
    xls_text,
    xls_workbook,
)

OTHERS = ("泗泾镇", "区发展改革委")  # ordinary units read beside each hostile file
SECONDS = 5.0  # a read of a few files, hostile one included, on 2 cores
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FAR = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def others(plan: Plan, blank_forms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, Returns]:
    """Two ordinary units' filled forms, and what a read of them alone gives."""
    folder = tmp_path_factory.mktemp("others")
    for unit in OTHERS:
        fill_form(blank_forms[unit], folder / f"{unit}.xlsx")
    return folder, read_returns(plan, PERIOD, folder)


@pytest.fixture(scope="module")
def filled(blank_forms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """区财政局's form, filled as a careful unit does: the base every damage starts from."""
    return fill_form(blank_forms[UNIT], tmp_path_factory.mktemp("filled") / "filled.xlsx")


def part_of(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return guards.xlsx_sheet_parts(z.read("xl/workbook.xml"),
                                       z.read("xl/_rels/workbook.xml.rels"))[sheet]


def read_part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def with_rows(path: Path, rows: bytes, sheet: str = layout.FORM_SHEET) -> bytes:
    """The sheet's XML with `rows` added at the end of its data."""
    return read_part(path, part_of(path, sheet)).replace(b"</sheetData>", rows + b"</sheetData>")


def read_beside_others(plan: Plan, others: tuple[Path, Returns], files: list[Path],
                       tmp_path: Path, seconds: float = SECONDS) -> Returns:
    """Read `files` in a month with the ordinary units; check the read took under `seconds`
    and that the ordinary units' rows are exactly those of a read without `files`."""
    folder = tmp_path / "month"
    shutil.copytree(others[0], folder)
    for f in files:
        shutil.copy(f, folder / f.name)
    start = time.perf_counter()
    r = read_returns(plan, PERIOD, folder)
    assert time.perf_counter() - start < seconds
    ordinary = {f"{u}.xlsx" for u in OTHERS}
    assert [e for e in r.entries if e.file in ordinary] == list(others[1].entries)
    assert {e.note for e in r.entries if e.file in ordinary} >= {note_for(1)}
    assert_reconciled(r)
    return r


def problems_of(r: Returns, file: str) -> list[tuple[str, str, str]]:
    return [(p.code, p.sheet, p.cell) for p in r.problems if p.file == file]


# ---------------------------------------------------------------- 1. crafted small files


@pytest.mark.parametrize("damage", ["bad_crc", "local_name", "twice"])
def test_a_sheet_part_only_a_lenient_reader_could_read_is_refused(
        plan: Plan, others: tuple[Path, Returns], filled: Path, tmp_path: Path,
        damage: str) -> None:
    """A far cell hidden in a part Python's zipfile cannot read (wrong CRC, a local header
    name unlike the directory's) or in a second part of the same name: refused, unread."""
    part = part_of(filled, layout.FORM_SHEET)
    if damage == "twice":  # the first part harmless, the second with a cell at XFD1048576
        crafted = rezip(filled, tmp_path / "crafted.xlsx", twice=(part, with_rows(filled, FAR)))
    else:
        crafted = rezip(filled, tmp_path / "crafted.xlsx", {part: with_rows(filled, FAR)},
                        **{damage: part})
    r = read_beside_others(plan, others, [crafted], tmp_path)
    assert problems_of(r, "crafted.xlsx") == [("file-unreadable", "", "")]


ODD_CELLS = {
    "lower-case reference": b'<row r="9"><c r="xfd1048576"><v>1</v></c></row>',
    "single quotes": b"<row r='9'><c r='XFD1048576'><v>1</v></c></row>",
    "spaces around =": b'<row r="9"><c r = "XFD1048576"><v>1</v></c></row>',
    "prefix with a dash": (f'<row r="9"><my-ns:c xmlns:my-ns="{MAIN_NS}" r="XFD1048576">'
                           f"<my-ns:v>1</my-ns:v></my-ns:c></row>").encode(),
    "prefix in Chinese": (f'<row r="9"><前缀:c xmlns:前缀="{MAIN_NS}" r="XFD1048576">'
                          f"<前缀:v>1</前缀:v></前缀:c></row>").encode(),
    "comment before the value": b'<row r="9"><c r="XFD1048576"><!-- x --><v>1</v></c></row>',
    "leading zero": b'<row r="9"><c r="XFD01048576"><v>1</v></c></row>',
    "empty inline string": b'<row r="9"><c r="XFD1048576" t="inlineStr"><is></is></c></row>',
    "cells placed by their row": b'<row r="1048576"><c><v>1</v></c><c><v>2</v></c></row>',
}


@pytest.mark.parametrize("row", list(ODD_CELLS.values()), ids=list(ODD_CELLS))
def test_a_far_cell_written_any_way_xml_allows_is_refused(
        plan: Plan, others: tuple[Path, Returns], filled: Path, tmp_path: Path,
        row: bytes) -> None:
    part = part_of(filled, layout.FORM_SHEET)
    crafted = rezip(filled, tmp_path / "odd.xlsx", {part: with_rows(filled, row)})
    r = read_beside_others(plan, others, [crafted], tmp_path)
    assert problems_of(r, "odd.xlsx") == [("file-too-large", "", "")]


def test_a_cell_with_two_positions_is_refused(plan: Plan, others: tuple[Path, Returns],
                                              filled: Path, tmp_path: Path) -> None:
    part = part_of(filled, layout.FORM_SHEET)
    row = b'<row r="9"><c r="A9" r="XFD4000"><v>1</v></c></row>'
    crafted = rezip(filled, tmp_path / "two.xlsx", {part: with_rows(filled, row)})
    r = read_beside_others(plan, others, [crafted], tmp_path)
    assert problems_of(r, "two.xlsx") == [("file-unreadable", "", "")]
    assert "单元格位置重复" in r.problems[0].message


def test_a_shared_string_table_claiming_billions_is_refused(
        plan: Plan, others: tuple[Path, Returns], filled: Path, tmp_path: Path) -> None:
    """calamine reserves the declared count before reading: 2e9 strings is 48 GB."""
    sst = (f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="2000000000"><si><t>x</t></si>'
           "</sst>").encode()
    crafted = rezip(filled, tmp_path / "sst.xlsx", {"xl/sharedStrings.xml": sst})
    r = read_beside_others(plan, others, [crafted], tmp_path)
    assert problems_of(r, "sst.xlsx") == [("file-unreadable", "", "")]


@pytest.mark.parametrize("mini", [False, True], ids=["regular sectors", "mini stream"])
def test_an_xls_with_a_far_cell_is_refused_before_it_is_opened(
        plan: Plan, others: tuple[Path, Returns], tmp_path: Path, mini: bool) -> None:
    """calamine reads every sheet of an .xls when it opens it: one value at (65535, 255)
    on each of four sheets is 2 GB. A small stream lives in the mini stream."""
    stream = xls_workbook({f"表{i}": [xls_number(65535, 255, 1.0)] for i in range(4)})
    crafted = write_cfb(tmp_path / "far.xls", {"Workbook": stream}, mini=mini)
    r = read_beside_others(plan, others, [crafted], tmp_path)
    assert problems_of(r, "far.xls") == [("file-too-large", "", "")]
    assert "65536 行 × 256 列" in r.problems[0].message


# ---------------------------------------------------------------- 2. bounded pre-scans


TWO_MB = 2 * 2**20


def unclosed(head: bytes, tag: bytes, size: int = TWO_MB) -> bytes:
    """`head`, then `tag` repeated to `size`, never closed (a '>' never follows)."""
    return head + tag * (size // len(tag))


# In a file, just under the size from which a compression ratio counts as a zip bomb.
IN_FILE = guards.RATIO_FLOOR - 4096


SCANS: dict[str, Callable[[], object]] = {
    "sheet: <c ": lambda: guards.xlsx_extent(unclosed(b'<sheetData><row r="1">', b"<c ")),
    "sheet: <c r=": lambda: guards.xlsx_extent(unclosed(b"<sheetData>", b'<c r="A1" ')),
    "sheet: <x:c ": lambda: guards.xlsx_extent(unclosed(b"<sheetData>", b"<x:c ")),
    "sheet: <row ": lambda: guards.xlsx_extent(unclosed(b"<sheetData>", b"<row ")),
    "sheet: <c r=\" (closed once)": lambda: guards.xlsx_extent(
        unclosed(b"<sheetData>", b'<c r="A1" ') + b">"),
    ".ods: <table:table-cell ": lambda: guards.ods_extents(
        unclosed(b'<table:table table:name="x"><table:table-row>', b"<table:table-cell ")),
    ".ods: <table:table-row ": lambda: guards.ods_extents(
        unclosed(b'<table:table table:name="x">', b"<table:table-row ")),
    "custom.xml: <property ": lambda: sheets._properties(
        unclosed(b"<Properties>", b'<property name="gkreport.unit" '), b"property", b"name"),
    "meta.xml: <meta:user-defined ": lambda: sheets._properties(
        unclosed(b"<office:meta>", b"<meta:user-defined "), b"user-defined",
        rb"[^\s=:]+:name"),
    "workbook.xml: <sheet ": lambda: guards.xlsx_sheet_parts(
        unclosed(b"<sheets>", b'<sheet name="a" r:id="rId1" '), b"<Relationships/>"),
    "styles.xml: <cellXfs ": lambda: sheets._cell_xfs(unclosed(b"<styleSheet>", b"<cellXfs ")),
    "number format: [[[": lambda: sheets._is_percent_format("[" * TWO_MB),
    "cell references": lambda: guards.xlsx_extent(
        unclosed(b"<sheetData>", b'<c r="' + b"A" * 50)),
}


@pytest.mark.parametrize("scan", list(SCANS.values()), ids=list(SCANS))
def test_every_pre_scan_is_linear(scan: Callable[[], object]) -> None:
    """A 2 MB part crafted so that a tag never closes: well under a second (was minutes)."""
    start = time.perf_counter()
    try:
        scan()
    except guards.Refused:
        pass
    assert time.perf_counter() - start < 3.0


def test_crafted_parts_in_files_are_read_in_seconds(
        plan: Plan, others: tuple[Path, Returns], filled: Path, tmp_path: Path) -> None:
    """The same parts inside files: a form whose custom properties never close is still read
    (its metadata sheet identifies it); a truncated sheet and an .ods whose content never
    closes are refused."""
    custom = unclosed(b"<Properties>", b'<property name="gkreport.unit" ', IN_FILE)
    props = rezip(filled, tmp_path / "props.xlsx", {"docProps/custom.xml": custom})
    part = part_of(filled, layout.FORM_SHEET)
    cut = read_part(filled, part)
    cut = unclosed(cut[: cut.index(b"<sheetData>") + 11] + b'<row r="1">', b"<c ", IN_FILE)
    truncated = rezip(filled, tmp_path / "truncated.xlsx", {part: cut})
    ods = tmp_path / "content.ods"
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", unclosed(b'<office:document-content><table:table table:name='
                                           b'"x"><table:table-row>', b"<table:table-cell ",
                                           IN_FILE), zipfile.ZIP_DEFLATED)
    r = read_beside_others(plan, others, [props, truncated, ods], tmp_path)
    assert problems_of(r, "truncated.xlsx") == [("file-unreadable", "", "")]
    assert problems_of(r, "content.ods") == [("file-unreadable", "", "")]
    assert problems_of(r, "props.xlsx") == []
    assert [e.note for e in r.entries if e.file == "props.xlsx"] == [note_for(n) for n in NOS]


def test_a_page_of_text_in_a_status_or_task_cell_is_checked_in_time(
        plan: Plan, others: tuple[Path, Returns], blank_forms: dict[str, Path],
        tmp_path: Path) -> None:
    """Cell-level patterns too: 32,767 characters of punctuation and digits in 完成状态 and
    任务内容 (the status patterns and the text comparison were quadratic)."""
    page = ("，1月" * 11_000)[:32_000]
    nasty = fill_form(blank_forms[UNIT], tmp_path / "nasty.xlsx",
                      set_cells(H6="已完成" + page, C7=page, H8="已完成（" + page + "）"))
    r = read_beside_others(plan, others, [nasty], tmp_path)
    got = problems_of(r, "nasty.xlsx")
    assert ("unknown-status", "填报表", "H6") in got and ("task-text-mismatch", "填报表", "C7") in got
    entry = next(e for e in r.entries if e.file == "nasty.xlsx" and e.task_no == 1)
    assert entry.raw_status == "已完成" + page  # kept whole, only the message is clipped
    message = next(p.message for p in r.problems if p.cell == "H6")
    assert len(message) < 700 and f"共 {len('已完成' + page)} 字" in message


# ---------------------------------------------------------------- 3 and 12. annotated copies


def merged_status(wb: object) -> None:
    ws = form(wb)
    ws["H8"], ws["H9"] = "差不多", None
    ws.merge_cells("H8:H9")


def annotated(plan: Plan, folder: Path, out: Path) -> tuple[Returns, annotate.Copies]:
    r = read_returns(plan, PERIOD, folder)
    start = time.perf_counter()
    copies = annotate_returns(r, folder, out)
    assert time.perf_counter() - start < SECONDS
    return r, copies


def test_a_problem_cell_inside_a_merged_range_is_marked_on_its_first_cell(
        plan: Plan, blank_forms: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "merged.xlsx", merged_status)
    r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert [(p.code, p.cell) for p in r.problems] == [("unknown-status", "H8"),
                                                      ("unknown-status", "H9")]
    ws = openpyxl.load_workbook(copies[UNIT])["填报表"]
    assert ws["H8"].comment.text.count("完成状态“差不多”无法识别") == 2
    assert ws["H8"].value == "差不多" and "H8:H9" in {str(m) for m in ws.merged_cells.ranges}


def test_control_characters_in_a_value_are_shown_not_written_raw(
        plan: Plan, filled: Path, tmp_path: Path) -> None:
    """Excel writes a control character as _x0001_; the comment quoting it shows ␁ and ␛
    (raw, they made the comment XML invalid), and the cell keeps what the unit wrote."""
    part = part_of(filled, layout.FORM_SHEET)
    xml = read_part(filled, part)
    start = xml.index(b'<c r="H6"')
    end = xml.index(b"</c>", start) + 4
    cell = '<c r="H6" t="inlineStr"><is><t>已_x0001_完成_x001B_[31m</t></is></c>'.encode()
    xml = xml[:start] + cell + xml[end:]
    folder = tmp_path / "in"
    rezip(filled, folder / "ctrl.xlsx", {part: xml})
    r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert r.entries[0].raw_status == "已\x01完成\x1b[31m"
    ws = openpyxl.load_workbook(copies[UNIT])["填报表"]
    assert "完成状态“已␁完成␛[31m”无法识别" in ws["H6"].comment.text
    assert ws["H6"].value == "已_x0001_完成_x001B_[31m"


def test_another_sheet_that_cannot_be_parsed_leaves_a_values_copy(
        plan: Plan, filled: Path, blank_forms: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    damaged = fill_form(blank_forms[UNIT], tmp_path / "d.xlsx", set_cells(H6="差不多"))
    guide = part_of(damaged, layout.GUIDE_SHEET)
    broken = read_part(damaged, guide).replace(b"<sheetData>", b"<sheetData>&broken", 1)
    rezip(damaged, folder / "guide.xlsx", {guide: broken})
    r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert [(p.code, p.sheet, p.cell) for p in r.problems] == [
        ("unknown-status", "填报表", "H6")]  # 填报说明 is the form's own: not looked into
    wb = openpyxl.load_workbook(copies[UNIT])
    assert wb.sheetnames == ["填报表"]
    ws = wb["填报表"]
    assert ws["H6"].comment.text.startswith("【错误】完成状态“差不多”无法识别")
    assert ws["A6"].value == 1 and ws["J7"].value == note_for(4)
    assert "只含填报表的内容" in copies.notes[UNIT] and copies.notes[UNIT] in ws["A1"].comment.text


def test_a_copy_that_cannot_be_marked_goes_back_as_it_came_with_a_note(
        plan: Plan, blank_forms: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    fill_form(blank_forms[UNIT], folder / "a.xlsx", set_cells(H6="差不多"))
    fill_form(blank_forms["泗泾镇"], folder / "b.xlsx", set_cells(H6="差不多"))

    def broken(wb: object, problems: object, notes: object) -> None:
        if "区财政局" in str(problems):
            raise RuntimeError("a fault of this one file")
        real(wb, problems, notes)

    real = annotate._mark_all
    monkeypatch.setattr(annotate, "_mark_all", broken)
    _r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert copies[UNIT].read_bytes() == (folder / "a.xlsx").read_bytes()
    assert "未能在退回件中标注" in copies.notes[UNIT]
    ws = openpyxl.load_workbook(copies["泗泾镇"])["填报表"]
    assert ws["H6"].comment is not None and "泗泾镇" not in copies.notes


def test_a_long_value_is_clipped_in_the_comment_and_kept_in_the_row(
        plan: Plan, blank_forms: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    value = "差" * 32_767
    fill_form(blank_forms[UNIT], folder / "long.xlsx", set_cells(H6=value))
    r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert r.entries[0].raw_status == value
    text = openpyxl.load_workbook(copies[UNIT])["填报表"]["H6"].comment.text
    assert len(text) <= COMMENT_LIMIT + 100 and "共 32767 字" in text


def test_an_xlsm_goes_back_as_a_macro_free_xlsx(plan: Plan, blank_forms: dict[str, Path],
                                                tmp_path: Path) -> None:
    damaged = fill_form(blank_forms[UNIT], tmp_path / "d.xlsx", set_cells(H6="差不多"))
    types = read_part(damaged, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
        b"<Default ", b'<Default Extension="bin" ContentType="application/'
                      b'vnd.ms-office.vbaProject"/><Default ', 1)
    rels = read_part(damaged, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/'
                             b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                             b"</Relationships>")
    folder = tmp_path / "in"
    rezip(damaged, folder / "宏.xlsm", {"[Content_Types].xml": types,
                                        "xl/_rels/workbook.xml.rels": rels,
                                        "xl/vbaProject.bin": b"Attribute VB_Name" * 64})
    _r, copies = annotated(plan, folder, tmp_path / "退回修改")
    assert copies[UNIT].suffix == ".xlsx"
    with zipfile.ZipFile(copies[UNIT]) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
    assert "不含宏" in copies.notes[UNIT]
    ws = openpyxl.load_workbook(copies[UNIT])["填报表"]
    assert ws["H6"].comment and "不含宏" in ws["A1"].comment.text


# ---------------------------------------------------------------- 4. the reporter block


def reporter_below(wb: object) -> None:
    """The block moved under the table, label and value in one cell or two."""
    ws = form(wb)
    ws["B3"] = ws["D3"] = ws["F3"] = None
    ws["A14"], ws["B14"] = "填报人：李四", None
    ws["A15"], ws["B15"] = "联系电话", "021-57770000"


@pytest.mark.parametrize(("damage", "reporter", "phone"), [
    (set_cells(J6="联系电话已在官网更新并公示", K7="填报人变更后资料已移交", L8="填报日期以系统为准"),
     "张三", "021-57771234"),
    (reporter_below, "李四", "021-57770000"),
], ids=["task rows starting with a label", "block below the table"])
def test_the_reporter_block_is_found_by_position_and_shape(
        plan: Plan, others: tuple[Path, Returns], blank_forms: dict[str, Path],
        tmp_path: Path, damage: Callable[[object], None], reporter: str, phone: str) -> None:
    f = fill_form(blank_forms[UNIT], tmp_path / "f.xlsx", damage)
    r = read_beside_others(plan, others, [f], tmp_path)
    assert problems_of(r, "f.xlsx") == []
    assert [e.task_no for e in r.entries if e.file == "f.xlsx"] == list(NOS)
    sub = next(s for s in r.submissions if s.file == "f.xlsx")
    assert (sub.filled_by, sub.phone, sub.rows_read) == (reporter, phone, len(NOS))
    notes = {e.task_no: e.note for e in r.entries if e.file == "f.xlsx"}
    if reporter == "张三":
        assert notes[1] == "联系电话已在官网更新并公示"


# ---------------------------------------------------------------- 5. silent partial reads


def continued(wb: object) -> None:
    """Tasks 13, 16, 19 moved to a sheet 填报表（续） (header and all), off the first sheet."""
    ws = form(wb)
    more = wb.copy_worksheet(ws)  # type: ignore[attr-defined]
    more.title = "填报表（续）"
    more.delete_rows(6, 4)  # tasks 1, 4, 5, 7
    ws.delete_rows(10, 3)  # tasks 13, 16, 19


def filled_copy(wb: object) -> None:
    """The unit filled a copy 填报表 (2) and left the original blank."""
    ws = form(wb)
    copy = wb.copy_worksheet(ws)  # type: ignore[attr-defined]
    copy.title = "填报表 (2)"
    for r in range(6, 13):
        for c in (8, 9, 10, 12):
            ws.cell(r, c).value = None


def added_columns(wb: object) -> None:
    ws = form(wb)
    ws["M5"], ws["M6"], ws["M8"] = "备注", "附件已上传", "见附件"
    ws["O7"] = "无表头的补充"


def notes_sheet(wb: object) -> None:
    wb.create_sheet("附件说明")["A1"] = "佐证材料另行报送"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("damage", "expected", "sheets_read"), [
    (continued, [], {"填报表": [1, 4, 5, 7], "填报表（续）": [13, 16, 19]}),
    (filled_copy, [("sheet-not-read", "填报表", "")], {"填报表 (2)": list(NOS)}),
    (added_columns, [("form-extra-columns", "填报表", "M5")], {"填报表": list(NOS)}),
    (notes_sheet, [("sheet-not-read", "附件说明", "")], {"填报表": list(NOS)}),
], ids=["continuation sheet", "filled copy beside a blank original", "added columns",
        "a sheet without the form"])
def test_what_is_not_read_is_said_and_what_is_filled_is_read(
        plan: Plan, others: tuple[Path, Returns], blank_forms: dict[str, Path],
        tmp_path: Path, damage: Callable[[object], None],
        expected: list[tuple[str, str, str]], sheets_read: dict[str, list[int]]) -> None:
    f = fill_form(blank_forms[UNIT], tmp_path / "f.xlsx", damage)
    r = read_beside_others(plan, others, [f], tmp_path)
    assert problems_of(r, "f.xlsx") == expected
    got: dict[str, list[int]] = {}
    for e in r.entries:
        if e.file == "f.xlsx":
            got.setdefault(e.sheet, []).append(e.task_no)
            assert e.note == note_for(e.task_no) and e.status is Status.ON_TRACK
    assert got == sheets_read
    message = next((p.message for p in r.problems if p.file == "f.xlsx"), "")
    if damage is added_columns:
        assert "M 列“备注”、O 列（无列名）" in message and "3 个单元格" in message
    if damage is filled_copy:
        assert "已读取“填报表 (2)”" in message


def test_an_xls_beyond_the_row_limit_is_refused_like_an_xlsx(
        plan: Plan, others: tuple[Path, Returns], filled: Path, tmp_path: Path) -> None:
    rows = layout.MAX_ROWS + 100
    stream = xls_workbook({"填报表": [xls_text(0, 0, 0)]
                                     + [xls_number(r, 0, r) for r in range(1, rows)]}, ["序号"])
    tall_xls = write_cfb(tmp_path / "tall.xls", {"Workbook": stream})
    part = part_of(filled, layout.FORM_SHEET)
    tall_xlsx = rezip(filled, tmp_path / "tall.xlsx", {part: with_rows(filled, b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(13, rows + 1)))})
    r = read_beside_others(plan, others, [tall_xls, tall_xlsx], tmp_path)
    assert problems_of(r, "tall.xls") == problems_of(r, "tall.xlsx") == [
        ("file-too-large", "", "")]
    assert f"{rows} 行" in next(p.message for p in r.problems if p.file == "tall.xls")


def test_a_long_sheet_beside_an_xls_form_is_named_not_read(
        plan: Plan, others: tuple[Path, Returns], tmp_path: Path) -> None:
    """As in an .xlsx: the form is read; the long sheet beside it is named, not read."""
    header = ["序号", "任务内容", "完成状态", "进展情况"]
    task = plan.task(1)
    assert task is not None
    strings = [*header, task.text, "按计划推进", note_for(1)]
    form_sheet = [xls_text(0, c, c) for c in range(4)] + [
        xls_number(1, 0, 1), xls_text(1, 1, 4), xls_text(1, 2, 5), xls_text(1, 3, 6)]
    long_sheet = [xls_number(r, 0, r) for r in range(layout.MAX_ROWS + 100)]
    f = write_cfb(tmp_path / f"{UNIT}.xls", {"Workbook": xls_workbook(
        {"填报表": form_sheet, "附表": long_sheet}, strings)})
    r = read_beside_others(plan, others, [f], tmp_path)
    got = problems_of(r, f.name)
    assert ("sheet-not-read", "附表", "") in got and ("file-too-large", "", "") not in got
    assert [(e.task_no, e.note) for e in r.entries if e.file == f.name] == [(1, note_for(1))]


# ---------------------------------------------------------------- 6. a big sheet beside the form


CELLS_IN_GUIDE = 1_200_000


@pytest.fixture(scope="module")
def big_guide(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """新桥镇's form with an error, and 1.2 million cells pasted into 填报说明."""
    forms = tmp_path_factory.mktemp("big")
    plan_forms = write_forms(plan, PERIOD, forms, units=["新桥镇"])
    src = fill_form(plan_forms.forms[0].path, forms / "src.xlsx", set_cells(H6="差不多"))
    guide = part_of(src, layout.GUIDE_SHEET)
    rows = b"".join(b'<row r="%d">' % r + b"".join(
        b'<c r="%s%d"><v>%d</v></c>' % (c.encode(), r, r * 7 + i)
        for i, c in enumerate("ABCDEFGHIJKL"))
        + b"</row>" for r in range(1, CELLS_IN_GUIDE // 12 + 1))
    xml = (f'<worksheet xmlns="{MAIN_NS}"><sheetData>').encode() + rows + b"</sheetData></worksheet>"
    return rezip(src, forms / "新桥镇_big.xlsx", {guide: xml})


def test_a_big_sheet_beside_the_form_costs_neither_reading_nor_annotating(
        plan: Plan, others: tuple[Path, Returns], big_guide: Path, tmp_path: Path) -> None:
    assert big_guide.stat().st_size > 3 * 2**20
    r = read_beside_others(plan, others, [big_guide], tmp_path)
    assert problems_of(r, big_guide.name) == [("unknown-status", "填报表", "H6")]
    start = time.perf_counter()
    copies = annotate_returns(r, tmp_path / "month", tmp_path / "退回修改")
    assert time.perf_counter() - start < 3.0
    wb = openpyxl.load_workbook(copies["新桥镇"])
    assert wb[layout.GUIDE_SHEET].max_row == 1 and wb["填报表"]["H6"].comment
    assert "填报说明”过大" in copies.notes["新桥镇"]


# ---------------------------------------------------------------- 10. after kill -9


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_with_their_parent(filled: Path, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(45):  # above PARALLEL_FROM: read by the process pool
        shutil.copy(filled, folder / f"f{i}.xlsx")
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from gkreport.core.model import Period
        from gkreport.intake.ingest import read_returns
        from gkreport.plan.book import load_plan

        def progress(i, n):
            if i == 1:  # the pool is up: hang here until killed
                print(os.getpid(), flush=True)
                time.sleep(600)

        plan = load_plan(Path({str(Path(__file__).resolve().parents[1])!r}))
        read_returns(plan, Period(2025, 6), Path({str(folder)!r}), progress=progress, workers=2)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        parent = int(proc.stdout.readline())
        workers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                   and _ppid(p) == parent]
        assert workers
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    orphans = [w for w in workers if _alive(w)]
    for w in orphans:  # never leave them behind, even when the test fails
        os.kill(w, 9)
    assert not orphans


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited; its reaper may be slow


def test_leftovers_of_a_killed_run_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "2025-06"
    (out / "退回修改").mkdir(parents=True)
    (out / "汇总表_2025-06.xlsx").write_text("good")
    (out / ".~tmp-ab12.xlsx").write_text("half")
    (out / ".~pending-汇总表_2025-06.xlsx").write_text("half")
    (out / ".~tmp-退回修改-x1").mkdir()
    (out / ".~old-退回修改-x2").mkdir()
    removed = clean_leftovers(out)
    assert sorted(p.name for p in out.iterdir()) == ["汇总表_2025-06.xlsx", "退回修改"]
    assert len(removed) == 4
    # Killed between the two renames: the old folder is put back, not thrown away.
    os.replace(out / "退回修改", out / ".~old-退回修改-x3")
    (out / ".~old-退回修改-x3" / "区财政局.xlsx").write_text("copy")
    clean_leftovers(out)
    assert (out / "退回修改" / "区财政局.xlsx").read_text() == "copy"


def test_returned_copies_are_replaced_whole(plan: Plan, blank_forms: dict[str, Path],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed while writing copies leaves the last run's folder as it was; the next
    run's folder replaces it whole (a fixed unit's copy is gone)."""
    folder, out = tmp_path / "in", tmp_path / "out" / "退回修改"
    fill_form(blank_forms[UNIT], folder / "a.xlsx", set_cells(H6="差不多"))
    fill_form(blank_forms["泗泾镇"], folder / "b.xlsx", set_cells(H6="差不多"))
    first = annotate_returns(read_returns(plan, PERIOD, folder), folder, out)
    assert set(first) == {"泗泾镇", UNIT}
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args: object) -> str:
        raise KeyboardInterrupt  # what a kill looks like from inside, as near as a test gets

    fill_form(blank_forms[UNIT], folder / "a.xlsx")  # 区财政局 fixed its form
    r = read_returns(plan, PERIOD, folder)
    with monkeypatch.context() as m:
        m.setattr(annotate, "annotate_file", killed)
        with pytest.raises(KeyboardInterrupt):
            annotate_returns(r, folder, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["退回修改"]
    second = annotate_returns(r, folder, out)
    assert sorted(second) == ["泗泾镇"] and [p.name for p in out.iterdir()] == [
        second["泗泾镇"].name]


# ---------------------------------------------------------------- a month with one of each


MISSING = ("区农业农村委", "区绿化市容局", "新桥镇")  # expected, but not in the bundled month


def test_a_month_with_one_of_each_hostile_file(
        plan: Plan, workspace: Path, filled: Path, big_guide: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The bundled month plus one file of each class: consolidated in under 10 s on 2
    cores; the bundled units' rows merged as without them; each hostile file reported."""
    from gkreport.workspace import Paths, run_consolidate

    month = workspace / "input" / str(PERIOD)
    shutil.copytree(Path(__file__).resolve().parents[1] / "input" / str(PERIOD), month)
    clean = read_returns(plan, PERIOD, month)
    forms = {f.unit: f.path for f in write_forms(
        plan, PERIOD, tmp_path_factory.mktemp("missing"), units=list(MISSING[:2])).forms}
    part = part_of(filled, layout.FORM_SHEET)
    hostile = {
        "crc.xlsx": rezip(filled, month / "crc.xlsx", {part: with_rows(filled, FAR)},
                          bad_crc=part),
        "far.xls": write_cfb(month / "far.xls", {"Workbook": xls_workbook(
            {f"表{i}": [xls_number(65535, 255, 1.0)] for i in range(4)})}, mini=True),
        "truncated.xlsx": rezip(filled, month / "truncated.xlsx", {part: unclosed(
            b'<worksheet><sheetData><row r="1">', b"<c ", IN_FILE)}),
        "农业.xlsx": fill_form(forms["区农业农村委"], month / "农业.xlsx", lambda wb: (
            merged_status(wb), set_cells(J6="联系电话已在官网更新并公示", H10="x" * 32_767,
                                         H11="已_x0001_完成", M5="备注", M6="附件")(wb))),
        "绿化.xlsx": fill_form(forms["区绿化市容局"], month / "绿化.xlsx", continued),
        big_guide.name: Path(shutil.copy(big_guide, month / big_guide.name)),
        "宏.xlsm": _unidentified_macro_book(filled, month / "宏.xlsm"),
    }
    start = time.perf_counter()
    result = run_consolidate(Paths(workspace), PERIOD)
    assert time.perf_counter() - start < 10.0
    bundled = {s.file for s in clean.submissions}
    merged = [e for e in result.report.entries if e.file in bundled]
    assert len(merged) == len(clean.entries) and set(merged) == set(clean.entries)
    codes = {f: sorted({p.code for p in result.report.problems if p.file == f}) for f in hostile}
    assert codes == {
        "crc.xlsx": ["file-unreadable"], "far.xls": ["file-too-large"],
        "truncated.xlsx": ["file-unreadable"],
        "农业.xlsx": ["form-extra-columns", "unknown-status"],
        "绿化.xlsx": [],
        big_guide.name: ["unknown-status"],
        "宏.xlsm": ["form-unidentified"],
    }
    by_file = {f: sorted(e.task_no for e in result.report.entries if e.file == f)
               for f in ("农业.xlsx", "绿化.xlsx")}
    assert by_file == {"农业.xlsx": sorted(t.no for t in plan.tasks_for("区农业农村委")),
                       "绿化.xlsx": sorted(t.no for t in plan.tasks_for("区绿化市容局"))}
    back = workspace / "output" / str(PERIOD) / "退回修改"
    assert {p.name for p in back.iterdir()} >= {"区农业农村委.xlsx", "新桥镇.xlsx",
                                                 "未识别_宏.xlsx"}
    comments = {c.coordinate: c.comment.text for row in openpyxl.load_workbook(
        back / "区农业农村委.xlsx")["填报表"].iter_rows() for c in row if c.comment}
    assert "“已␁完成”" in comments["H11"] and "共 32767 字" in comments["H10"]
    assert comments["H8"].count("差不多") == 2
    with zipfile.ZipFile(back / "未识别_宏.xlsx") as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]


def _unidentified_macro_book(filled: Path, target: Path) -> Path:
    """A macro workbook whose unit cannot be told (no metadata, no 填报单位, a file name
    naming none) and whose guide sheet does not parse."""
    from .factories import no_metadata_no_unit

    plain = fill_form(filled, target.with_suffix(".tmp.xlsx"), no_metadata_no_unit)
    guide = part_of(plain, layout.GUIDE_SHEET)
    rezip(plain, target, {guide: read_part(plain, guide).replace(b"<sheetData>",
                                                                b"<sheetData>&broken", 1),
                          "xl/vbaProject.bin": b"Attribute VB_Name" * 64})
    plain.unlink()
    return target
