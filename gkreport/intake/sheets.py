"""Read any returned spreadsheet (.xlsx/.xlsm/.xls/.ods) into value grids, safely.

python-calamine reads the values. Before it sees a file in full, the file is sniffed by
its bytes (not its name: a web page, a text file or a Word file renamed .xls is refused),
a zip package is checked for encryption, zip bombs (total size, compression ratio) and
strangers (.xlsb, .docx), and a sheet whose valued cells span more than layout.MAX_ROWS x
MAX_COLS is refused before calamine allocates its grid (refused, not cut: dropped rows
would be lost silently). Every such failure is a `Refused` carrying the file's one problem
code. Grids are read at absolute positions, capped at the same limits, vertical merges
filled down. What calamine does not report is read here from the file itself, and only
when needed: percentage number formats (.xlsx styles, .ods value types, .xls BIFF8 XF
records), the merges of an .ods sheet and the custom document properties.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gkreport.core.text import clean
from gkreport.forms import layout

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# A legitimate zip member (sheet XML) compresses ~10-30x; a bomb compresses 1000x.
MAX_RATIO = 200
RATIO_FLOOR = 2 * 1024 * 1024  # ratios of tiny members mean nothing

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_OTHER_OFFICE_STREAMS = ("WordDocument", "PowerPoint Document", "VisioDocument")


class Refused(Exception):
    """A file that cannot be used at all: carries its one problem."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# ---------------------------------------------------------------- hostile-file guards


def sniff(data: bytes, suffix: str) -> str:
    """'zip', 'xls'; or raise Refused for anything that is not a readable workbook."""
    if not data:
        raise Refused("file-unreadable", detail="文件为空")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise Refused("file-encrypted")
        if any(s in data for s in _XLS_STREAMS):
            return "xls"
        if any(s.encode("utf-16-le") in data for s in _OTHER_OFFICE_STREAMS):
            raise Refused("file-not-spreadsheet", detail="是 Word 等其他 Office 文件")
        # An .xls cut short (an interrupted copy or e-mail) loses its directory: say so.
        raise Refused("file-unreadable", detail="文件不完整或已损坏")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype", b"<?xml", b"<table", b"<meta")):
        raise Refused("file-not-spreadsheet", detail="是网页或 XML 文件，只是扩展名为表格")
    if _looks_like_text(data[:4096]):
        raise Refused("file-not-spreadsheet", detail="是文本文件，只是扩展名为表格"
                       if suffix in SPREADSHEET_SUFFIXES else f"扩展名为 {suffix or '（无）'}")
    if suffix not in SPREADSHEET_SUFFIXES:
        raise Refused("file-not-spreadsheet", detail=f"扩展名为 {suffix or '（无）'}")
    raise Refused("file-unreadable", detail="文件已损坏或不是表格格式")


def _looks_like_text(sample: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        return printable >= 0.95 * max(len(text), 1)
    return False


def package_kind(names: set[str] | list[str]) -> str:
    """What a zip package holds, by its parts: 'xlsx' (also .xlsm), 'ods', 'docx', 'xlsb', ''."""
    names = set(names)
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names and "mimetype" in names:
        return "ods"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    return ""


def check_zip(data: bytes) -> tuple[str, zipfile.ZipFile]:
    """('xlsx' or 'ods', the opened package) after checking member sizes; raise Refused for
    bombs and strangers."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused("file-unreadable", detail="压缩包已损坏") from exc
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise Refused("file-encrypted")
    total = sum(i.file_size for i in infos)
    if total > layout.MAX_UNZIPPED_BYTES:
        raise Refused("file-too-large", detail=f"解压后约 {total // 2**20} MB")
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise Refused("file-too-large", detail=f"{i.filename} 压缩比异常")
    kind = package_kind(names)
    if kind == "xlsx":
        return "xlsx", zf  # each sheet's extent is checked just before it is read (Book.check_sheet)
    if kind == "ods":
        parts = ["content.xml"]
        scan = _ods_extent
    elif kind == "xlsb":
        raise Refused("file-not-spreadsheet", detail="是 .xlsb 二进制工作簿，请另存为 .xlsx")
    else:
        raise Refused("file-not-spreadsheet", detail="是压缩包或 Word 等其他文件")
    for part in sorted(parts):
        try:
            xml = zf.read(part)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Refused("file-unreadable", detail="压缩包已损坏") from exc
        rows, cols = scan(xml)
        # Refused rather than cut: rows silently dropped would break "nothing is lost".
        if rows > layout.MAX_ROWS or cols > layout.MAX_COLS:
            raise Refused("file-too-large", detail=f"工作表有 {rows} 行 × {cols} 列数据")
    return kind, zf


_XLSX_TOKEN = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_XLSX_VALUE = re.compile(rb"\s*<(?:\w+:)?(?:v|is|f)\b")
_ATTR_R = re.compile(rb'\sr="([A-Za-z]*)(\d*)"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


# Every cell tag: with its reference first (r="B7") and whether a value follows, or (no
# reference group) a cell written some other way.
_CELL_TAG = re.compile(
    rb'<(?:\w+:)?c(?: r="([A-Z]{1,3})(\d+)"[^>]*>(\s*<(?:\w+:)?(?:v|is|f)\b)?|[\s/>])')


def _xlsx_extent(xml: bytes, max_rows: int = layout.MAX_ROWS) -> tuple[int, int]:
    """Rows and columns spanned by cells holding a value (what calamine would allocate)."""
    # Fast path, one pass in C: every cell names its own reference first, as Excel, WPS,
    # LibreOffice, openpyxl and xlsxwriter all write it. Anything else takes the careful
    # scan below.
    tags = _CELL_TAG.findall(xml)
    if all(col for col, _row, _valued in tags):
        valued = [(col, row) for col, row, v in tags if v]
        if not valued:
            return 0, 0
        return (max(int(row) for _col, row in valued),
                max(_col_number(col) for col in {col for col, _row in valued}))
    return _xlsx_extent_scan(xml, max_rows)


def _xlsx_walk(xml: bytes) -> Iterator[tuple[bytes, int, int, re.Match[bytes]]]:
    """(tag, row, col, match) for each <row> and <c> of a sheet part, 1-based, placed as
    Excel places them: by the element's own reference, else next to the one before."""
    row = col = 0
    for m in _XLSX_TOKEN.finditer(xml):
        ref = _ATTR_R.search(m.group(2))
        if m.group(1) == b"row":
            row = int(ref.group(2)) if ref and ref.group(2) else row + 1
            col = 0
        elif ref and ref.group(1):
            col = _col_number(ref.group(1))
            row = int(ref.group(2)) if ref.group(2) else row
        else:
            col += 1
        yield m.group(1), row, col, m


def _xlsx_extent_scan(xml: bytes, max_rows: int) -> tuple[int, int]:
    max_row = max_col = 0
    for tag, row, col, m in _xlsx_walk(xml):
        if tag == b"row" or m.group(3) or not _XLSX_VALUE.match(xml, m.end()):
            continue  # a styled but empty cell: calamine ignores it
        max_row, max_col = max(max_row, row), max(max_col, col)
        if max_row > max_rows or max_col > layout.MAX_COLS:
            break
    return max_row, max_col


_ODS_WALK = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>")
_ODS_REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="(\d+)"')


def _ods_walk(xml: bytes) -> Iterator[tuple[bytes, int, int, int, int, bytes, bool]]:
    """Walk an .ods content.xml: (tag, row, col, repeat, row repeat, attributes, empty) for
    each table start (tag b"table") and each cell, zero-based with repeats expanded."""
    row = col = 0
    row_repeat = 1
    for m in _ODS_WALK.finditer(xml):
        closing, tag, attrs, empty = m.groups()
        if tag == b"table":
            if not closing:
                row = col = 0
                yield tag, 0, 0, 1, 1, attrs, bool(empty)
            continue
        rep = _ODS_REPEAT.search(attrs)
        n = int(rep.group(1)) if rep else 1
        if tag == b"table-row":
            if closing:
                row += row_repeat
            elif empty:
                row += n
            else:
                row_repeat, col = n, 0
            continue
        if closing:
            continue
        yield tag, row, col, n, row_repeat, attrs, bool(empty)
        col += n


def _ods_extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns spanned by valued cells of the largest table, repeats expanded."""
    max_row = max_col = 0
    for tag, row, col, n, row_repeat, attrs, empty in _ods_walk(xml):
        if tag == b"table" or not (b"value-type" in attrs or not empty):
            continue
        max_row, max_col = max(max_row, row + row_repeat), max(max_col, col + n)
        if max_row > layout.MAX_ROWS or max_col > layout.MAX_COLS:
            break
    return max_row, max_col


# ---------------------------------------------------------------- workbook to grids


class Book:
    """A calamine workbook plus its bytes, for what calamine does not report.

    calamine gives values only: the number format of a cell (a "100%" typed in Excel is
    stored as 1; .xlsx styles, .ods value types, .xls BIFF8 XF records), the merges of an
    .ods sheet and the custom document properties are read here from the file itself, and
    only when needed.
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
        if name not in self._inflated:
            try:
                self._inflated[name] = self._zip().read(name)
            except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
                self._inflated[name] = b""
        return self._inflated[name]

    def sheet_part(self, name: str) -> str | None:
        """The package part holding an .xlsx sheet (xl/worksheets/sheet1.xml), or None."""
        if self._parts is None:
            ids = {_attr(m.group(1), rb"name"): _attr(m.group(1), rb"(?:\w+:)?id")
                   for m in _XLSX_SHEET.finditer(self._zip_part("xl/workbook.xml"))}
            targets = {_attr(m.group(1), rb"Id"): _attr(m.group(1), rb"Target")
                       for m in _XLSX_REL.finditer(self._zip_part("xl/_rels/workbook.xml.rels"))}
            self._parts = {}
            for sheet, rid in ids.items():
                target = targets.get(rid, "")
                if target:
                    self._parts[sheet] = (target.lstrip("/") if target.startswith("/")
                                          else f"xl/{target}")
        return self._parts.get(name)

    def check_sheet(self, name: str, max_rows: int = layout.MAX_ROWS) -> None:
        """Refuse a sheet whose valued cells span more than the limits, before calamine
        allocates its grid (one cell at XFD1048576 would cost gigabytes)."""
        if self.kind != "xlsx":
            return  # .ods was scanned whole in check_zip; .xls is capped by its format
        part = self.sheet_part(name)
        if part is None:  # odd package: check every worksheet rather than guess
            try:
                todo = [n for n in self._zip().namelist()
                        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise Refused("file-unreadable", detail="压缩包已损坏") from exc
        else:
            todo = [part]
        for p in todo:
            rows, cols = _xlsx_extent(self._zip_part(p), max_rows)
            # Refused rather than cut: rows silently dropped would break "nothing is lost".
            if rows > max_rows or cols > layout.MAX_COLS:
                raise Refused("file-too-large", detail=f"工作表有 {rows} 行 × {cols} 列数据")

    def ods_table(self, name: str) -> _OdsTable | None:
        if self.kind != "ods":
            return None
        if self._ods is None:
            self._ods = _ods_tables(self._zip_part("content.xml"))
        return self._ods.get(name)

    def properties(self) -> dict[str, str]:
        """The gkreport.* custom document properties (prefix removed); {} when there are none."""
        if self.kind == "xlsx":
            xml = self._zip_part("docProps/custom.xml")
            pairs = _XLSX_PROPERTY.findall(xml)
        elif self.kind == "ods":
            xml = self._zip_part("meta.xml")
            pairs = _ODS_PROPERTY.findall(xml)
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
        except (ValueError, IndexError, struct.error):  # odd styles: keep the value as written
            return set()


_XLSX_PROPERTY = re.compile(
    rb'<(?:\w+:)?property\b[^>]*?\bname="([^"]*)"[^>]*>\s*<(?:\w+:)?\w+\b[^>]*>([^<]*)<', re.S)
_ODS_PROPERTY = re.compile(rb'<meta:user-defined\b[^>]*?meta:name="([^"]*)"[^>]*>([^<]*)<')


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
    value, as the official document shows it.
    """
    import python_calamine as pc

    book.check_sheet(name, max_rows)
    try:
        sheet = book.cal.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
    except pc.PasswordError as exc:
        raise Refused("file-encrypted") from exc
    except Exception as exc:
        raise Refused("file-unreadable", detail=f"工作表“{name}”已损坏，无法读取") from exc
    grid = [list(r[: layout.MAX_COLS]) for r in rows]
    try:
        merged = sheet.merged_cell_ranges or []
    except Exception:  # not every format reports merges
        merged = []
    table = book.ods_table(name)
    if not merged and table is not None:
        merged = table.merges  # calamine reports none for .ods
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
    return grid


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


def read_values(path: Path) -> list[tuple[str, list[list[object]]]]:
    """(sheet, values at absolute positions) of every visible sheet; for copying .xls/.ods."""
    book = open_book(path.read_bytes(), path.suffix.lower())
    return [(name, read_grid(book, name)) for name in sheet_names(book, visible_only=True)]


# ---------------------------------------------------------------- formats calamine does not give


@dataclass(frozen=True, slots=True)
class _OdsTable:
    merges: list[tuple[tuple[int, int], tuple[int, int]]]
    percent: set[tuple[int, int]]


_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ODS_ROWS_SPANNED = re.compile(rb'number-rows-spanned="(\d+)"')
_ODS_COLS_SPANNED = re.compile(rb'number-columns-spanned="(\d+)"')


def _ods_tables(xml: bytes) -> dict[str, _OdsTable]:
    """Per table of an .ods content.xml: merged ranges and percentage-typed cells (zero-based)."""
    tables: dict[str, _OdsTable] = {}
    current = _OdsTable([], set())
    for tag, row, col, n, _repeat, attrs, _empty in _ods_walk(xml):
        if tag == b"table":
            name = _ODS_NAME.search(attrs)
            current = _OdsTable([], set())
            tables[html.unescape(name.group(1).decode("utf-8", "replace")) if name else ""] = current
        elif row < layout.MAX_ROWS and col < layout.MAX_COLS and tag == b"table-cell":
            down = _ODS_ROWS_SPANNED.search(attrs)
            across = _ODS_COLS_SPANNED.search(attrs)
            rows_spanned = int(down.group(1)) if down else 1
            cols_spanned = int(across.group(1)) if across else 1
            if rows_spanned > 1 or cols_spanned > 1:
                current.merges.append(((row, col), (row + rows_spanned - 1,
                                                    col + cols_spanned - 1)))
            if b'value-type="percentage"' in attrs:
                current.percent.update((row, c) for c in range(col, min(col + n, layout.MAX_COLS)))
    return tables


# Built-in percentage formats (ECMA-376 18.8.30): 9 = 0%, 10 = 0.00%.
_PERCENT_BUILTIN = {9, 10}
_XLSX_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*?)/?>")
_XLSX_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*?)/?>")
_XLSX_NUMFMT = re.compile(rb"<(?:\w+:)?numFmt\b([^>]*?)/?>")
_XLSX_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*?)/?>")
_XLSX_CELLXFS = re.compile(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", re.S)
_ATTR = {k: re.compile(rb"\s" + k + rb'="([^"]*)"')
         for k in (rb"name", rb"(?:\w+:)?id", rb"Id", rb"Target", rb"numFmtId", rb"formatCode",
                   rb"s")}


def _attr(attrs: bytes, key: bytes) -> str:
    m = _ATTR[key].search(attrs)
    return html.unescape(m.group(1).decode("utf-8", "replace")) if m else ""


def _is_percent_format(code: str) -> bool:
    # A % inside quotes, escaped or inside [..] (colour, locale) is literal, not a percentage.
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)
    return "%" in bare


def _xlsx_percent_cells(book: Book, sheet: str, cells: set[tuple[int, int]],
                        ) -> set[tuple[int, int]]:
    part = book.sheet_part(sheet)
    if not part:
        return set()
    styles = book._zip_part("xl/styles.xml")
    percent_ids = set(_PERCENT_BUILTIN)
    for m in _XLSX_NUMFMT.finditer(styles):
        if _is_percent_format(_attr(m.group(1), rb"formatCode")):
            percent_ids.add(int(_attr(m.group(1), rb"numFmtId") or -1))
    xfs = _XLSX_CELLXFS.search(styles)
    formats = [int(_attr(m.group(1), rb"numFmtId") or 0)
               for m in _XLSX_XF.finditer(xfs.group(0))] if xfs else []
    percent_styles = {i for i, f in enumerate(formats) if f in percent_ids}
    if not percent_styles:
        return set()
    found: set[tuple[int, int]] = set()
    for (r, c), attrs in _xlsx_cell_attrs(book._zip_part(part), cells).items():
        s = _attr(attrs, rb"s")
        if s.isdigit() and int(s) in percent_styles:
            found.add((r, c))
    return found


def _xlsx_cell_attrs(xml: bytes, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The attributes of the <c> elements at the wanted zero-based positions."""
    out: dict[tuple[int, int], bytes] = {}
    last = max(r for r, _c in wanted) + 1
    for tag, row, col, m in _xlsx_walk(xml):
        if tag == b"row":
            if row > last:
                break
        elif (row - 1, col - 1) in wanted:
            out[(row - 1, col - 1)] = m.group(2)
    return out


# ---------------------------------------------------------------- .xls number formats (BIFF8)


_ENDOFCHAIN = 0xFFFFFFFE


def _cfb_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The first named stream of an OLE2 compound file stored in regular sectors (b"" if none)."""
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    size = 1 << shift
    if size not in (512, 4096):
        return b""
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    cutoff = struct.unpack_from("<I", data, 0x38)[0]
    difat_next, n_difat = struct.unpack_from("<II", data, 0x44)
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    per = size // 4
    for _ in range(min(n_difat, 1000)):  # more FAT sector numbers, chained
        if difat_next >= _ENDOFCHAIN:
            break
        at = (difat_next + 1) * size
        chunk = struct.unpack_from(f"<{per}I", data, at)
        fat_sectors.extend(chunk[:-1])
        difat_next = chunk[-1]
    fat: list[int] = []
    for sector in fat_sectors[:n_fat]:
        fat.extend(struct.unpack_from(f"<{per}I", data, (sector + 1) * size))

    def chain(start: int) -> bytes:
        out, seen = bytearray(), 0
        while start < _ENDOFCHAIN and seen <= len(fat):
            out += data[(start + 1) * size:(start + 2) * size]
            start, seen = fat[start], seen + 1
        return bytes(out)

    directory = chain(first_dir)
    for at in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, at + 64)[0]
        name = directory[at:at + max(length - 2, 0)].decode("utf-16-le", "replace")
        if name in names and directory[at + 66] == 2:
            start, length = struct.unpack_from("<II", directory, at + 116)
            return chain(start)[:length] if length >= cutoff else b""  # mini stream: too small
    return b""


def _biff_records(stream: bytes, at: int = 0) -> Iterable[tuple[int, int, bytes]]:
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        yield at, kind, stream[at + 4:at + 4 + length]
        at += 4 + length
        if kind == 0x000A:  # EOF of a substream
            return


def _xls_percent_cells(data: bytes, sheet: str, cells: set[tuple[int, int]],
                       ) -> set[tuple[int, int]]:
    stream = _cfb_stream(data, ("Workbook",))  # BIFF8; Excel 95's "Book" is not parsed
    if not stream:
        return set()
    formats: dict[int, str] = {}
    xf_format: list[int] = []
    sheet_at = -1
    for _at, kind, body in _biff_records(stream):
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
    for _at, kind, body in _biff_records(stream, sheet_at):
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
