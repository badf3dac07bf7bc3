"""Forms returned for correction (退回修改): a unit's own file, bad cells highlighted and commented."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from gkreport.core.model import Period, Returns
from gkreport.core.problems import Problem
from gkreport.core.text import column_width, display_width, safe_filename
from gkreport.core.xlsx import atomic_path

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
AUTHOR = "gkreport"
# Nothing inside these files could be opened, so there is no cell to mark.
FILE_LEVEL = {"file-unreadable", "file-encrypted", "file-too-large", "file-not-spreadsheet"}


def annotate_returns(returns: Returns, folder: Path, out_dir: Path) -> dict[str, Path]:
    """For every unit (or unidentified file) with errors, write its form annotated; name -> path."""
    by_file: dict[str, list[Problem]] = {}
    for p in returns.problems:
        by_file.setdefault(p.file, []).append(p)
    written: dict[str, Path] = {}
    taken: set[str] = set()
    for sub in returns.submissions:
        found = by_file.get(sub.file, [])
        if not any(p.is_error for p in found) or any(p.code in FILE_LEVEL for p in found):
            continue
        key = sub.unit or sub.file
        stem = (unit_stem(sub.unit, returns.period) if sub.unit
                else f"未识别_{safe_filename(Path(sub.file).stem)}")
        if key in written:
            key, stem = f"{key}（{sub.file}）", f"{stem}_{safe_filename(Path(sub.file).stem)}"
        suffix = ".xlsm" if sub.file.lower().endswith(".xlsm") else ".xlsx"
        name, n = f"{stem}{suffix}", 1
        while name.casefold() in taken:  # two unidentified files whose names sanitise alike
            n += 1
            name = f"{stem}_{n}{suffix}"
        taken.add(name.casefold())
        written[key] = annotate_file(folder / sub.file, found, out_dir / name)
    return written


def unit_stem(unit: str, period: Period) -> str:
    """A unit's part of its form's file name (hashed when made safe), so two units never collide."""
    from gkreport.forms.writer import form_filename

    return form_filename(unit, period).removesuffix(f"_{period}_填报表.xlsx")


def annotate_file(source: Path, problems: list[Problem], target: Path) -> Path:
    """Copy one form to `target` with each problem's cell filled and commented."""
    wb = _load(source)
    sheets = {ws.title: ws for ws in wb.worksheets}
    default = next((ws for ws in wb.worksheets if ws.sheet_state == "visible"), wb.worksheets[0])
    notes: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        ws = sheets.get(p.sheet)
        if ws is None or ws.sheet_state != "visible" or not p.cell:
            # No cell of its own (a missing task, a wrong period): say it at the top-left.
            notes.setdefault(((p.sheet if ws is not None and ws.sheet_state == "visible"
                               else default.title), "A1"), []).append(p)
        else:
            notes.setdefault((p.sheet, p.cell), []).append(p)
    for (sheet, ref), found in notes.items():
        _mark(sheets[sheet][ref], found)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def _mark(cell: Any, found: list[Problem]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    colour = ERROR_FILL if any(p.is_error for p in found) else WARNING_FILL
    cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    text = "\n".join(f"【{p.severity}】{p.message}" + (f"\n修改建议：{p.fix}" if p.fix else "")
                     for p in found)
    comment = Comment(text, AUTHOR)
    widest = max(display_width(line) for line in text.splitlines())
    comment.width = min(max(widest, 20), 60) * 7 + 20
    comment.height = sum(1 + display_width(line) // 60 for line in text.splitlines()) * 18 + 20
    cell.comment = comment


def _load(source: Path) -> Any:
    """The original workbook (validations and protection kept), or its values copied over."""
    import openpyxl

    suffix = source.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns on extensions it drops
                return openpyxl.load_workbook(source, keep_vba=suffix == ".xlsm")
        except Exception:  # a file calamine reads but openpyxl does not: fall back to values
            pass
    return _copy_values(source)


def _copy_values(source: Path) -> Any:
    import openpyxl
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from gkreport.intake.sheets import read_values

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in read_values(source):
        ws = wb.create_sheet(name)
        widths: dict[int, list[str]] = {}
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value in ("", None):
                    continue
                cell = ws.cell(r, c, value)
                if isinstance(value, str):
                    cell.data_type = "s"  # "=..." typed by a unit stays text
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                widths.setdefault(c, []).append(str(value))
        for c, values in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = column_width(values, maximum=40)
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    return wb
