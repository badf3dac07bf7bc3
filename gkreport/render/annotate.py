"""Forms returned for correction (退回修改): a unit's own file, bad cells highlighted and commented.

One file's copy never stops the run. A copy is made in the first way that works, each
saying what it lacks in a note (in the copy's A1 comment, and in `Copies.notes` for the
office):

1. the unit's own workbook (.xlsx/.xlsm) through openpyxl, validations and protection kept;
   macros are left out (a macro-free .xlsx goes back), and a sheet beside the form that is
   larger than OTHER_SHEET_BYTES is emptied, so the work is bounded by the form sheet;
2. the values of the form's sheet only, read as ingest read them (an .xls/.ods, or a
   workbook openpyxl cannot load);
3. the file as it came, un-annotated (never an .xlsm: no copy then).

Comments are XML-safe (control characters shown as ␁, ␛ …) and clipped. The folder is
built beside the old one and swapped in, so it always holds one whole run's copies.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gkreport.core.model import Period, Returns
from gkreport.core.problems import Problem
from gkreport.core.text import column_width, display_width, safe_filename
from gkreport.core.xlsx import clean_leftovers, replace_dir, shared_permissions
from gkreport.forms import layout

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
AUTHOR = "gkreport"
# Nothing inside these files could be opened, so there is no cell to mark.
FILE_LEVEL = {"file-unreadable", "file-encrypted", "file-too-large", "file-not-spreadsheet",
              "file-read-failed"}
MESSAGE_LIMIT = 800  # characters of one problem in a comment (its quotes are 500)
COMMENT_LIMIT = 2000  # characters of a whole comment (Excel shows little more)
OTHER_SHEET_BYTES = 2 * 2**20  # a sheet beside the form larger than this is emptied
SHARED_STRINGS_BYTES = 8 * 2**20  # larger: openpyxl would load them all; values copy instead
_EMPTY_SHEET = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData/></worksheet>")
# Parts that carry macros or ActiveX code; never copied back to a unit.
_MACRO_PART = re.compile(r"(?i)(vbaProject|vbaData|activeX|macrosheets|customUI)")


class Copies(dict[str, Path]):
    """unit (or file) -> its annotated copy; `notes`: per key, what the copy lacks;
    `unmarked`: the keys whose copy is the file as it came (no comments to point to)."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: dict[str, str] = {}
        self.unmarked: set[str] = set()


# The last ways out of annotate_file; the hint is for the office (the unit has no check report).
OFFICE_HINT = "；请按校验报告逐项修改"
UNMARKED = "未能在退回件中标注问题单元格，退回件为原文件"


def annotate_returns(returns: Returns, folder: Path, out_dir: Path) -> Copies:
    """For every unit (or unidentified file) with errors, write its form annotated into a new
    `out_dir` that replaces the old one whole; name -> path, with notes."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out_dir.parent, only=out_dir.name)
    by_file: dict[str, list[Problem]] = {}
    for p in returns.problems:
        by_file.setdefault(p.file, []).append(p)
    copies = Copies()
    staging = Path(tempfile.mkdtemp(prefix=f".~tmp-{out_dir.name}-", dir=out_dir.parent))
    shared_permissions(staging)  # mkdtemp's folder is private; the office shares this one
    try:
        taken: set[str] = set()
        for sub in returns.submissions:
            found = by_file.get(sub.file, [])
            if not any(p.is_error for p in found) or any(p.code in FILE_LEVEL for p in found):
                continue
            key, name = _name(sub.unit, sub.file, returns.period, copies, taken)
            note = annotate_file(folder / sub.file, found, staging / name)
            if (staging / name).exists():
                copies[key] = out_dir / name
            if note:
                copies.notes[key] = note
            if note.startswith(UNMARKED):
                copies.unmarked.add(key)
        replace_dir(staging, out_dir, keep=bool(copies))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copies


def found_copies(out_dir: Path, stems: Mapping[str, str]) -> Copies:
    """The copies an earlier run wrote, found again for re-rendering (key -> file stem): a
    copy without comments is the file as it came (unmarked), as annotate_returns said then."""
    copies = Copies()
    for key, stem in stems.items():
        for path in sorted(out_dir.glob(f"{stem}.xls*")):
            copies[key] = path
            if not _has_comments(path):
                copies.notes[key] = UNMARKED + OFFICE_HINT
                copies.unmarked.add(key)
    return copies


def _has_comments(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.startswith("xl/comments") for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _name(unit: str, file: str, period: str, written: Copies, taken: set[str],
          ) -> tuple[str, str]:
    """(key, file name) of a copy: the unit's form name, never colliding, always .xlsx."""
    key = unit or file
    stem = (unit_stem(unit, period) if unit else f"未识别_{safe_filename(Path(file).stem)}")
    if key in written or key in written.notes:
        key, stem = f"{key}（{file}）", f"{stem}_{safe_filename(Path(file).stem)}"
    name, n = f"{stem}.xlsx", 1
    while name.casefold() in taken:  # two unidentified files whose names sanitise alike
        n += 1
        name = f"{stem}_{n}.xlsx"
    taken.add(name.casefold())
    return key, name


def unit_stem(unit: str, period: Period) -> str:
    """A unit's part of its form's file name (hashed when made safe), so two units never collide."""
    from gkreport.forms.writer import form_filename

    return form_filename(unit, period).removesuffix(f"_{period}_填报表.xlsx")


# ---------------------------------------------------------------- one copy


def annotate_file(source: Path, problems: list[Problem], target: Path) -> str:
    """Write `target`: the form with each problem's cell filled and commented, made the first
    way that works; return a note on what the copy lacks ("" when nothing)."""
    try:
        data = source.read_bytes()
    except OSError:
        return "原文件已无法读取，未生成退回件" + OFFICE_HINT
    # The sheets with a cell to mark: kept whole; any other big sheet is not copied.
    sheets = {p.sheet for p in problems if p.sheet and p.cell}
    for build in (_own_workbook, _form_values):
        try:
            built = build(data, source, sheets)
        except Exception:  # noqa: BLE001 - any failure: the next way, then the file as it is
            continue
        if built is None:
            continue
        wb, notes = built
        try:
            _mark_all(wb, problems, notes)
            buffer = io.BytesIO()
            wb.save(buffer)
        except Exception:  # noqa: BLE001
            continue
        target.write_bytes(buffer.getvalue())
        return "；".join(notes)
    if source.suffix.lower() == ".xlsm":
        return "未能生成退回件（原文件含宏，不原样退回）" + OFFICE_HINT
    if source.suffix.lower() != ".xlsx":  # copies are .xlsx: an .xls/.ods as it came is not one
        return "未能生成退回件（原文件无法转换为 .xlsx）" + OFFICE_HINT
    target.write_bytes(data)
    return UNMARKED + OFFICE_HINT


def _own_workbook(data: bytes, source: Path, sheets: set[str]) -> tuple[Any, list[str]] | None:
    """The unit's workbook as openpyxl loads it (validations and protection kept), without
    macros and without big sheets beside the form; None when not a workbook it loads."""
    import openpyxl

    if source.suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(io.BytesIO(data)):
        return None
    package, notes = _trimmed(data, sheets | {layout.META_SHEET, layout.LISTS_SHEET})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns on extensions it drops
        wb = openpyxl.load_workbook(io.BytesIO(package), keep_vba=False)
    return wb, notes


def _trimmed(data: bytes, keep: set[str]) -> tuple[bytes, list[str]]:
    """The package without macro parts and with sheets not in `keep` that are larger than
    OTHER_SHEET_BYTES emptied (never inflated); (package, notes)."""
    from gkreport.intake.guards import xlsx_sheet_parts

    zin = zipfile.ZipFile(io.BytesIO(data))
    infos = {i.filename: i for i in zin.infolist()}
    shared = infos.get("xl/sharedStrings.xml")
    if shared is not None and shared.file_size > SHARED_STRINGS_BYTES:
        raise ValueError("shared strings too large for openpyxl")
    parts = xlsx_sheet_parts(zin.read("xl/workbook.xml"), zin.read("xl/_rels/workbook.xml.rels"))
    big = {part: name for name, part in parts.items()
           if name not in keep and part in infos and infos[part].file_size > OTHER_SHEET_BYTES}
    macros = [n for n in infos if _MACRO_PART.search(n)]
    notes = [f"工作表“{name}”过大，退回件中只保留其名称，内容未复制" for name in sorted(big.values())]
    if macros:
        notes.append("原文件含宏，退回件已另存为不含宏的 .xlsx 文件")
    if not big and not macros:
        return data, notes
    rels = {f"{p.rsplit('/', 1)[0]}/_rels/{p.rsplit('/', 1)[-1]}.rels" for p in big}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, info in infos.items():
            if name in macros or name in rels:
                continue
            zout.writestr(name, _EMPTY_SHEET if name in big else zin.read(info))
    return out.getvalue(), notes


def _form_values(data: bytes, source: Path, sheets: set[str]) -> tuple[Any, list[str]] | None:
    """A new workbook holding the values of the form's sheet(s) only, read as ingest read
    them: a control character as Excel writes it (_x001B_), text never a formula."""
    import openpyxl
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from gkreport.intake.sheets import Refused, open_book, read_grid, sheet_names

    book = open_book(data, source.suffix.lower())
    names = [n for n in sheet_names(book) if n in sheets] or sheet_names(book, visible_only=True)[:1]
    grids = []
    for name in names:
        try:
            grids.append((name, read_grid(book, name)))
        except Refused:  # a sheet named by a problem because it could not be read
            continue
    if not grids:
        return None
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in grids:
        ws = wb.create_sheet(name[:31])
        widths: dict[int, list[str]] = {}
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value in ("", None):
                    continue
                cell = ws.cell(r, c, _excel_text(value) if isinstance(value, str) else value)
                if isinstance(value, str):
                    cell.data_type = "s"  # "=..." typed by a unit stays text
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                widths.setdefault(c, []).append(str(value))
        for c, values in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = column_width(values, maximum=40)
    kind = source.suffix.lower().lstrip(".") or "未知"
    if kind in ("xls", "ods"):
        return wb, [f"原文件为 .{kind} 格式，退回件已另存为 .xlsx，只含填报表的内容（格式和下拉列表未保留）"]
    return wb, ["原文件无法按原样复制，退回件只含填报表的内容（格式和下拉列表未保留）"]


# ---------------------------------------------------------------- marks and comments


def _mark_all(wb: Any, problems: list[Problem], notes: list[str]) -> None:
    """Fill and comment each problem's cell (a merged range's first cell; A1 of the form's
    sheet for a problem without a cell of its own, with the copy's notes)."""
    sheets = {ws.title: ws for ws in wb.worksheets}
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    named = [sheets[p.sheet] for p in problems if p.sheet in sheets
             and sheets[p.sheet].sheet_state == "visible"]
    default = (named or visible or wb.worksheets)[0]
    marks: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        ws = sheets.get(p.sheet)
        if ws is None or ws.sheet_state != "visible" or not _is_ref(p.cell):
            # No cell of its own (a missing task, a wrong period): say it at the top-left.
            marks.setdefault(((ws if ws is not None and ws.sheet_state == "visible"
                               else default).title, "A1"), []).append(p)
        else:
            marks.setdefault((ws.title, _merged_start(ws, p.cell)), []).append(p)
    if notes:
        marks.setdefault((default.title, "A1"), [])
    for (sheet, ref), found in marks.items():
        extra = notes if (sheet, ref) == (default.title, "A1") else []
        _mark(sheets[sheet][ref], found, extra)


def _is_ref(cell: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{1,3}[1-9]\d{0,6}", cell))


def _merged_start(ws: Any, ref: str) -> str:
    """The first cell of the merged range holding `ref` (only that cell takes a comment)."""
    for rng in ws.merged_cells.ranges:
        if ref in rng:
            return str(rng.start_cell.coordinate)
    return ref


def _mark(cell: Any, found: list[Problem], notes: list[str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if found:
        colour = ERROR_FILL if any(p.is_error for p in found) else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    text = comment_text(found, notes)
    comment = Comment(text, AUTHOR)
    widest = max(display_width(line) for line in text.splitlines())
    comment.width = min(max(widest, 20), 60) * 7 + 20
    lines = sum(1 + display_width(line) // 60 for line in text.splitlines())
    comment.height = min(lines, 40) * 18 + 20
    cell.comment = comment


def comment_text(found: list[Problem], notes: Sequence[str] = ()) -> str:
    """A comment's text: each problem and its fix, then the copy's notes; every message
    clipped with a marker, the whole clipped too, control characters made visible."""
    parts = [f"【{p.severity}】{_clip(p.message, MESSAGE_LIMIT)}"
             + (f"\n修改建议：{_clip(p.fix, MESSAGE_LIMIT)}" if p.fix else "") for p in found]
    parts += [f"【说明】{note}" for note in notes]
    text = _visible("\n".join(parts))
    if len(text) > COMMENT_LIMIT:
        text = text[:COMMENT_LIMIT] + f"……（批注过长，以下省略；共 {len(found)} 个问题，详见校验报告）"
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}……（共 {len(text)} 字，已截断）"


# Characters XML 1.0 cannot hold: C0 controls but tab/newline/return, lone surrogates and
# the two non-characters.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(text: str) -> str:
    """Control characters as their Unicode pictures (␁, ␛), others not XML as �."""
    def picture(m: re.Match[str]) -> str:
        code = ord(m.group())
        return chr(0x2400 + code) if code < 0x20 else "\ufffd"

    return _INVALID_XML.sub(picture, text)


_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _excel_text(text: str) -> str:
    """Cell text as Excel stores it: a control character as _xHHHH_ (and a literal _xHHHH_
    escaped in turn), so the unit gets back exactly what it wrote."""
    text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    return _INVALID_XML.sub(lambda m: f"_x{ord(m.group()):04X}_"
                            if ord(m.group()) < 0xD800 else "\ufffd", text)
