"""Read any returned spreadsheet (.xlsx/.xlsm/.xls/.ods) into value grids, safely.

python-calamine reads the values, once `guards` has checked the bytes: sniffed, zip
packages checked, and the extent of every sheet calamine would allocate known and within
the limits (refused, not cut). Grids are read at absolute positions, capped at the same
limits, vertical merges filled down. What calamine does not report is read here from the
file itself, and only when needed: percentage number formats (.xlsx styles, .ods value
types, .xls BIFF8 XF records), the merges of an .ods sheet and the custom document
properties.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gkreport.core.text import clean
from gkreport.forms import layout
from gkreport.intake.guards import (
    CELL_REF,
    MAX_BOOK_CELLS,
    PREFIX,
    SPREADSHEET_SUFFIXES,
    Extents,
    Refused,
    attr,
    biff_records,
    cfb_streams,
    check_extent,
    check_total,
    check_zip,
    closed,
    col_number,
    extent_of,
    ods_extents,
    ods_walk,
    package_kind,
    read_part,
    sniff,
    tags,
    text_attr,
    xls_extents,
    xlsx_extent,
    xlsx_sheet_parts,
)

__all__ = [
    "SPREADSHEET_SUFFIXES", "Book", "Refused", "check_zip", "open_book", "package_kind",
    "read_grid", "sheet_names", "sniff",
]


# ---------------------------------------------------------------- workbook to grids


class Book:
    """A calamine workbook plus its bytes, for what calamine does not report.

    calamine gives values only: the number format of a cell (a "100%" typed in Excel is
    stored as 1; .xlsx styles, .ods value types, .xls BIFF8 XF records), the merges of an
    .ods sheet and the custom document properties are read here from the file itself, and
    only when needed. `cells_left` is what may still be read from the book (MAX_BOOK_CELLS
    in all), so many sheets within the limits cannot add up to gigabytes either.
    """

    def __init__(self, data: bytes, kind: str, package: zipfile.ZipFile | None = None) -> None:
        self.data = data
        self.kind = kind  # "xlsx" (also .xlsm), "ods" or "xls"
        # The package is opened once (its directory costs more to parse than a small form's
        # values) and each part inflated once: the extent check, the percent formats and
        # the properties read the same parts.
        self._package = package
        self._inflated: dict[str, bytes] = {}
        self._ods: dict[str, _OdsTable] | None = None
        self._parts: dict[str, str] | None = None
        self.cells_left = MAX_BOOK_CELLS
        # calamine reads every sheet of an .xls or .ods when it opens the file: their
        # extents are known, and their sum bounded, before it does.
        self.extents: Extents | None = None
        if kind == "xls":
            self.extents = xls_extents(data)
        elif kind == "ods":
            self.extents = ods_extents(self._zip_part("content.xml"))
        if self.extents is not None:
            check_total(self.extents)
        try:
            self.cal = _open_workbook(data)
        except Refused as refused:
            # Say "too large" rather than "damaged" when a sheet is a bomb as well.
            if kind == "xlsx" and refused.code == "file-unreadable":
                self._parts = {}
                self.check_sheet("")
            raise

    def _zip(self) -> zipfile.ZipFile:
        if self._package is None:
            self._package = zipfile.ZipFile(io.BytesIO(self.data))
        return self._package

    def _zip_part(self, name: str) -> bytes:
        """A part's bytes; b"" when the package has no such part (Refused when damaged)."""
        if name not in self._inflated:
            try:
                self._zip().getinfo(name)
            except KeyError:
                return b""
            self._inflated[name] = read_part(self._zip(), name)
        return self._inflated[name]

    def sheet_part(self, name: str) -> str | None:
        """The package part holding an .xlsx sheet (xl/worksheets/sheet1.xml), or None."""
        if self._parts is None:
            self._parts = xlsx_sheet_parts(self._zip_part("xl/workbook.xml"),
                                           self._zip_part("xl/_rels/workbook.xml.rels"))
        return self._parts.get(name)

    def sheet_bytes(self, name: str) -> int:
        """The unzipped size of an .xlsx sheet's part (0 when unknown or not an .xlsx)."""
        part = self.sheet_part(name) if self.kind == "xlsx" else None
        try:
            return self._zip().getinfo(part).file_size if part else 0
        except KeyError:
            return 0

    def check_sheet(self, name: str, max_rows: int = layout.MAX_ROWS) -> tuple[int, int]:
        """The extent of a sheet; Refused when it spans more than the limits, before calamine
        allocates its grid (one cell at XFD1048576 would cost gigabytes)."""
        if self.extents is not None:  # .xls, .ods: scanned whole when opened
            rows, cols = extent_of(self.extents, name)
            check_extent(rows, cols, max_rows)
            return rows, cols
        part = self.sheet_part(name)
        names = self._zip().namelist()
        if part is None or part not in names:
            # An odd package: check every part rather than guess which one calamine reads.
            todo = [n for n in names if n.lower().endswith(".xml")]
        else:
            todo = [part]
        rows = cols = 0
        for p in todo:
            r, c = xlsx_extent(self._zip_part(p), max_rows)
            check_extent(r, c, max_rows)
            rows, cols = max(rows, r), max(cols, c)
        return rows, cols

    def ods_table(self, name: str) -> _OdsTable | None:
        if self.kind != "ods":
            return None
        if self._ods is None:
            self._ods = _ods_tables(self._zip_part("content.xml"))
        return self._ods.get(name)

    def properties(self) -> dict[str, str]:
        """The gkreport.* custom document properties (prefix removed); {} when there are none."""
        if self.kind == "xlsx":
            pairs = _properties(self._zip_part("docProps/custom.xml"), rb"property", rb"name")
        elif self.kind == "ods":
            pairs = _properties(self._zip_part("meta.xml"), rb"user-defined",
                                rb"[^\s=:]+:name")
        else:  # .xls keeps them in an OLE property set; the title's period is checked instead
            return {}
        prefix = layout.META_PROPERTY_PREFIX
        out: dict[str, str] = {}
        for raw_name, raw_value in pairs:
            name = html.unescape(raw_name.decode("utf-8", "replace"))
            if name.startswith(prefix):
                out[name[len(prefix):]] = clean(html.unescape(raw_value.decode("utf-8", "replace")))
        return out

    def percent_cells(self, sheet: str, cells: set[tuple[int, int]]) -> set[tuple[int, int]]:
        """Those of `cells` (zero-based) whose number format shows a percentage."""
        if not cells:
            return set()
        if self.kind == "ods":
            table = self.ods_table(sheet)
            return cells & table.percent if table else set()
        try:
            if self.kind == "xlsx":
                return _xlsx_percent_cells(self, sheet, cells)
            return _xls_percent_cells(self.data, sheet, cells)
        except (ValueError, IndexError, struct.error, Refused):  # odd styles: as written
            return set()


# A property's value is the text of its first child element (<vt:lpwstr>…</vt:lpwstr>).
_FIRST_CHILD_TEXT = re.compile(rb"\s*<[^<>]*>([^<]*)<")


def _properties(xml: bytes, tag: bytes, name_attr: bytes) -> list[tuple[bytes, bytes]]:
    """(name, value) of each property element; one pass (tags are found, then read)."""
    xml = closed(xml)
    out = []
    for m in tags(xml, tag):
        names = attr(m.group(2), name_attr)
        if not names:
            continue
        if m.group(2).endswith(b"/"):
            out.append((names[0], b""))
            continue
        # .ods: the text right inside; .xlsx: the text of the typed child element.
        value = _FIRST_CHILD_TEXT.match(xml, m.end()) if tag == rb"property" else None
        if value is None:
            end = xml.find(b"<", m.end())
            out.append((names[0], xml[m.end():end if end >= 0 else len(xml)]))
        else:
            out.append((names[0], value.group(1)))
    return out


def _open_workbook(data: bytes) -> Any:
    import python_calamine as pc

    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:
        raise Refused("file-encrypted") from exc
    except Exception as exc:  # calamine raises several unrelated types for broken files
        # The library's (English) text stays out of the message: the office cannot act on it.
        raise Refused("file-unreadable", detail="文件已损坏，无法打开") from exc


def read_grid(book: Book, name: str, *, merges: str = "down",
              max_rows: int = layout.MAX_ROWS) -> list[list[object]]:
    """A sheet's values at absolute positions (row 0 = Excel row 1), capped, merges filled.

    `merges="down"` (returned forms): a vertical merge (one status for two tasks) applies to
    every row it covers, while a merge across columns (a 备注 line) keeps its text in its
    first cell only. `merges="all"` (plan tables): every cell of a merged range holds its
    value, as the official document shows it. Refused when the sheet is too large, alone
    or with what was read from the book before.
    """
    import python_calamine as pc

    rows_, cols_ = book.check_sheet(name, max_rows)
    if rows_ * cols_ > book.cells_left:
        raise Refused("file-too-large", detail=f"工作表“{name}”与已读取的工作表合计过大")
    try:
        sheet = book.cal.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
    except pc.PasswordError as exc:
        raise Refused("file-encrypted") from exc
    except Exception as exc:
        raise Refused("file-unreadable", detail=f"工作表“{name}”已损坏，无法读取") from exc
    grid = [list(r[: layout.MAX_COLS]) for r in rows]
    book.cells_left -= sum(len(r) for r in grid)
    try:
        merged = sheet.merged_cell_ranges or []
    except Exception:  # not every format reports merges
        merged = []
    table = book.ods_table(name)
    if not merged and table is not None:
        merged = table.merges  # calamine reports none for .ods
    _fill_merges(grid, merged, merges)
    return grid


def _fill_merges(grid: list[list[object]], merged: Iterable[Any], merges: str) -> None:
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(grid) or (merges == "down" and c0 != c1):
            continue
        top = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0, min(r1 + 1, len(grid))):
            row = grid[r]
            for c in range(c0, min(c1 + 1, layout.MAX_COLS)):
                if c >= len(row):
                    row.extend([None] * (c + 1 - len(row)))
                if merges == "all" or row[c] in ("", None):
                    row[c] = top


def open_book(data: bytes, suffix: str) -> Book:
    """A spreadsheet's bytes, sniffed and checked, opened for `read_grid`; raises Refused."""
    kind = sniff(data, suffix)
    kind, package = check_zip(data) if kind == "zip" else (kind, None)
    return Book(data, kind, package)


def sheet_names(book: Book, *, visible_only: bool = False) -> list[str]:
    """The book's sheets in workbook order (only the visible ones when asked)."""
    import python_calamine as pc

    return [m.name for m in book.cal.sheets_metadata
            if not visible_only or m.visible == pc.SheetVisibleEnum.Visible]


# ---------------------------------------------------------------- formats calamine does not give


@dataclass(frozen=True, slots=True)
class _OdsTable:
    merges: list[tuple[tuple[int, int], tuple[int, int]]]
    percent: set[tuple[int, int]]


def _first_int(attrs: bytes, name: bytes, default: int) -> int:
    values = [v.strip() for v in attr(attrs, name)]
    return int(values[0]) if values and values[0].isdigit() else default


def _ods_tables(xml: bytes) -> dict[str, _OdsTable]:
    """Per table of an .ods content.xml: merged ranges and percentage-typed cells (zero-based)."""
    tables: dict[str, _OdsTable] = {}
    current = _OdsTable([], set())
    for tag, row, col, n, _repeat, attrs, _empty in ods_walk(xml):
        if tag == b"table":
            current = _OdsTable([], set())
            tables[text_attr(attrs, rb"table:name")] = current
        elif row < layout.MAX_ROWS and col < layout.MAX_COLS and tag == b"table-cell":
            rows_spanned = _first_int(attrs, rb"table:number-rows-spanned", 1)
            cols_spanned = _first_int(attrs, rb"table:number-columns-spanned", 1)
            if rows_spanned > 1 or cols_spanned > 1:
                current.merges.append(((row, col), (row + rows_spanned - 1,
                                                    col + cols_spanned - 1)))
            if b"percentage" in attrs and b"percentage" in attr(attrs, rb"office:value-type"):
                current.percent.update((row, c) for c in range(col, min(col + n, layout.MAX_COLS)))
    return tables


# Built-in percentage formats (ECMA-376 18.8.30): 9 = 0%, 10 = 0.00%.
_PERCENT_BUILTIN = {9, 10}
_FORMAT_LIMIT = 255  # characters of a number format (Excel's own limit); longer is not one


def _is_percent_format(code: str) -> bool:
    if len(code) > _FORMAT_LIMIT:
        return False
    # A % inside quotes, escaped or inside [..] (colour, locale) is literal, not a percentage.
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in bare


def _cell_xfs(styles: bytes) -> bytes:
    """The <cellXfs> element of styles.xml (b"" if none), found in one pass."""
    start = re.search(rb"<(" + PREFIX + rb")cellXfs(?=[\s/>])", styles)
    if start is None:
        return b""
    end = styles.find(b"</" + start.group(1) + b"cellXfs", start.end())
    return styles[start.start():end if end >= 0 else len(styles)]


def _xlsx_percent_cells(book: Book, sheet: str, cells: set[tuple[int, int]],
                        ) -> set[tuple[int, int]]:
    part = book.sheet_part(sheet)
    if not part:
        return set()
    styles = book._zip_part("xl/styles.xml")
    percent_ids = set(_PERCENT_BUILTIN)
    for m in tags(styles, rb"numFmt"):
        if _is_percent_format(text_attr(m.group(2), rb"formatCode")):
            percent_ids.add(_first_int(m.group(2), rb"numFmtId", -1))
    formats = [_first_int(m.group(2), rb"numFmtId", 0) for m in tags(_cell_xfs(styles), rb"xf")]
    percent_styles = {i for i, f in enumerate(formats) if f in percent_ids}
    if not percent_styles:
        return set()
    found: set[tuple[int, int]] = set()
    for (r, c), attrs in _xlsx_cell_attrs(book._zip_part(part), cells).items():
        if _first_int(attrs, rb"s", -1) in percent_styles:
            found.add((r, c))
    return found


def _xlsx_cell_attrs(xml: bytes, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The attributes of the <c> elements at the wanted zero-based positions, placed as
    Excel places them: by the element's own reference, else next to the one before."""
    out: dict[tuple[int, int], bytes] = {}
    last = max(r for r, _c in wanted) + 1
    row = col = 0
    for m in tags(xml, rb"c|row"):
        refs = attr(m.group(2), rb"r")
        if m.group(1) == b"row":
            row = int(refs[0]) if refs and refs[0].strip().isdigit() else row + 1
            col = 0
            if row > last:
                break
            continue
        ref = CELL_REF.fullmatch(refs[0]) if refs else None
        if ref:
            col, row = col_number(ref.group(1)), int(ref.group(2))
        else:
            col += 1
        if (row - 1, col - 1) in wanted:
            out[(row - 1, col - 1)] = m.group(2)
    return out


# ---------------------------------------------------------------- .xls number formats (BIFF8)


def _xls_percent_cells(data: bytes, sheet: str, cells: set[tuple[int, int]],
                       ) -> set[tuple[int, int]]:
    streams = cfb_streams(data, ("Workbook",))  # BIFF8; Excel 95's "Book" is not parsed
    if not streams:
        return set()
    stream = streams[0]
    formats: dict[int, str] = {}
    xf_format: list[int] = []
    sheet_at = -1
    for _at, kind, body in biff_records(stream):
        if kind == 0x041E and len(body) >= 5:  # FORMAT: ifmt, XLUnicodeString
            ifmt, cch, wide = struct.unpack_from("<HHB", body)
            raw = body[5:5 + cch * (2 if wide & 1 else 1)]
            formats[ifmt] = raw.decode("utf-16-le" if wide & 1 else "latin-1", "replace")
        elif kind == 0x00E0 and len(body) >= 4:  # XF: ifnt, ifmt
            xf_format.append(struct.unpack_from("<H", body, 2)[0])
        elif kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET8: offset, state, type, name
            offset, cch, wide = struct.unpack_from("<I2xBB", body)
            raw = body[8:8 + cch * (2 if wide & 1 else 1)]
            if raw.decode("utf-16-le" if wide & 1 else "latin-1", "replace") == sheet:
                sheet_at = offset
    percent = {i for i, f in enumerate(xf_format)
               if f in _PERCENT_BUILTIN or _is_percent_format(formats.get(f, ""))}
    if sheet_at < 0 or not percent:
        return set()
    found: set[tuple[int, int]] = set()
    for _at, kind, body in biff_records(stream, sheet_at):
        if kind in (0x0203, 0x027E) and len(body) >= 6:  # NUMBER, RK: row, col, xf
            r, c, xf = struct.unpack_from("<HHH", body)
            if (r, c) in cells and xf in percent:
                found.add((r, c))
        elif kind == 0x00BD and len(body) >= 6:  # MULRK: row, first col, (xf, rk)*, last col
            r, c = struct.unpack_from("<HH", body)
            for k in range((len(body) - 6) // 6):
                xf = struct.unpack_from("<H", body, 4 + 6 * k)[0]
                if (r, c + k) in cells and xf in percent:
                    found.add((r, c + k))
    return found
