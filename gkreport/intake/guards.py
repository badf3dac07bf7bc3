"""Guards run on a returned file's bytes before python-calamine sees any of it in full.

A file is sniffed by its bytes (not its name: a web page, a text file or a Word file renamed
.xls is refused); a zip package is checked for encryption, zip bombs (total size,
compression ratio), duplicate or unreadable members and strangers (.xlsb, .docx); and the
extent of every sheet calamine would allocate is worked out here first, since calamine
allocates a sheet's whole rectangle (one value at XFD1048576 asks for half a terabyte and
aborts the process). A sheet beyond layout.MAX_ROWS x MAX_COLS is refused, not cut: dropped
rows would be lost silently.

Two rules keep this safe against crafted files:

- Conservative: where this module cannot tell where a value lies (a part Python's zipfile
  cannot read, an unparsable cell reference, a stream it cannot find), the file is refused;
  anything that could be a value counts as one.
- Linear: every scan is one pass over the part. Tag patterns are only run over the part up
  to its last ">", so a tag that never closes cannot make each later "<" scan to the end.

Every failure is a `Refused` carrying the file's one problem code.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator

from gkreport.forms import layout

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# A legitimate zip member (sheet XML) compresses ~10-30x; a bomb compresses 1000x.
MAX_RATIO = 200
RATIO_FLOOR = 2 * 1024 * 1024  # ratios of tiny members mean nothing
# The cells of all sheets together that a reader may materialise: .xls and .ods are read
# whole when opened, so many modest sheets must not add up to gigabytes.
MAX_BOOK_CELLS = 4 * layout.MAX_ROWS * layout.MAX_COLS

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_OTHER_OFFICE_STREAMS = ("WordDocument", "PowerPoint Document", "VisioDocument")
_DAMAGED = "压缩包已损坏"


class Refused(Exception):
    """A file that cannot be used at all: carries its one problem."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def check_extent(rows: int, cols: int, max_rows: int = layout.MAX_ROWS) -> None:
    """Refuse a sheet whose valued cells span more than the limits."""
    # Refused rather than cut: rows silently dropped would break "nothing is lost".
    if rows > max_rows or cols > layout.MAX_COLS:
        raise Refused("file-too-large", detail=f"工作表有 {rows} 行 × {cols} 列数据")


Extents = dict[str, tuple[int, int]]  # sheet name -> (rows, columns) spanned by values


def check_total(extents: Extents) -> None:
    """Refuse a book whose sheets together hold more cells than MAX_BOOK_CELLS (.xls and
    .ods: calamine materialises every sheet when it opens the file)."""
    total = sum(rows * cols for rows, cols in extents.values())
    if total > MAX_BOOK_CELLS:
        widest = max(extents.values(), key=lambda e: e[0] * e[1])
        raise Refused("file-too-large", detail=f"各工作表共约 {total} 个单元格，最大的一张有 "
                                               f"{widest[0]} 行 × {widest[1]} 列数据")


def extent_of(extents: Extents, name: str) -> tuple[int, int]:
    """A sheet's extent; for a name not found, the largest (never an underestimate)."""
    if name in extents:
        return extents[name]
    return (max((r for r, _c in extents.values()), default=0),
            max((c for _r, c in extents.values()), default=0))


# ---------------------------------------------------------------- what the bytes are


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


# ---------------------------------------------------------------- zip packages


def read_part(package: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes, CRC and local header checked; Refused when Python cannot read it.

    Whatever zipfile cannot read is never handed to calamine either: its reader is more
    lenient (no CRC check before the data is used, local header names not compared), so a
    part only it can read is a part whose extent was never checked.
    """
    try:
        return package.read(name)
    except MemoryError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (method), EOFError…
        raise Refused("file-unreadable", detail=_DAMAGED) from exc


def check_zip(data: bytes) -> tuple[str, zipfile.ZipFile]:
    """('xlsx' or 'ods', the opened package) after checking its members; raise Refused for
    bombs, damaged packages and strangers."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused("file-unreadable", detail=_DAMAGED) from exc
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise Refused("file-encrypted")
    if len(names) != len(infos):  # readers disagree on which of two same-named parts counts
        raise Refused("file-unreadable", detail="压缩包中有重名的部件")
    total = sum(i.file_size for i in infos)
    if total > layout.MAX_UNZIPPED_BYTES:
        raise Refused("file-too-large", detail=f"解压后约 {total // 2**20} MB")
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise Refused("file-too-large", detail=f"{i.filename} 压缩比异常")
    kind = package_kind(names)
    if kind == "xlsx":
        _check_xlsx_parts(zf, names)
        return "xlsx", zf  # each sheet's extent is checked just before it is read
    if kind == "ods":
        return "ods", zf  # the tables' extents are checked before calamine opens the file
    if kind == "xlsb":
        raise Refused("file-not-spreadsheet", detail="是 .xlsb 二进制工作簿，请另存为 .xlsx")
    raise Refused("file-not-spreadsheet", detail="是压缩包或 Word 等其他文件")


# calamine allocates the shared-string table from its declared size before reading it.
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["']\s*\+?(\d+)""")


def _check_xlsx_parts(zf: zipfile.ZipFile, names: set[str]) -> None:
    """The parts calamine reads when it opens an .xlsx: readable, and no absurd sizes."""
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"):
        if part in names:
            read_part(zf, part)
    for part in (n for n in names if n.lower().endswith("sharedstrings.xml")):
        xml = read_part(zf, part)
        declared = max((int(m.group(1)) for m in _UNIQUE_COUNT.finditer(xml)), default=0)
        # A string takes at least five bytes (<si/>); allow far more than any writer needs.
        if declared > len(xml) // 5 + layout.MAX_ROWS * layout.MAX_COLS:
            raise Refused("file-unreadable", detail="共享字符串表已损坏")


# ---------------------------------------------------------------- XML, linearly


# A namespace prefix as XML allows it (any name characters, not only ASCII word ones).
PREFIX = rb"(?:[^\s<>/!?:=\"']+:)?"


def closed(xml: bytes) -> bytes:
    """The part up to its last '>': no tag after it can close, and a tag pattern run over
    the rest would make each '<' of an unclosed run scan to the end (quadratic)."""
    return xml[: xml.rfind(b">") + 1]


def attr(attrs: bytes, name: bytes) -> list[bytes]:
    """Every value of attribute `name` (a regex fragment) in a tag's attribute text, with
    either quote and spaces around '=' as XML allows."""
    pattern = _ATTR_PATTERNS.get(name)
    if pattern is None:
        pattern = re.compile(rb"(?:^|\s)(?:" + name + rb""")\s*=\s*(?:"([^"]*)"|'([^']*)')""")
        _ATTR_PATTERNS[name] = pattern
    return [m.group(1) if m.group(1) is not None else m.group(2)
            for m in pattern.finditer(attrs)]


_ATTR_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}


def text_attr(attrs: bytes, name: bytes) -> str:
    """The first value of attribute `name` as text, entities resolved ("" when absent)."""
    import html

    values = attr(attrs, name)
    return html.unescape(values[0].decode("utf-8", "replace")) if values else ""


def tags(xml: bytes, names: bytes) -> Iterator[re.Match[bytes]]:
    """Start tags whose local name matches `names` (a regex group): group 1 the name,
    group 2 the attribute text (ending in '/' when self-closing); linear in the part."""
    pattern = _TAG_PATTERNS.get(names)
    if pattern is None:
        pattern = re.compile(rb"<" + PREFIX + rb"(" + names + rb")(?=[\s/>])([^>]*)>")
        _TAG_PATTERNS[names] = pattern
    return pattern.finditer(closed(xml))


_TAG_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}


# ---------------------------------------------------------------- .xlsx sheet extent


def col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


# Cells as Excel, WPS, LibreOffice, openpyxl and xlsxwriter write them: <c r="B7" …>, the
# reference first in double quotes. A part where every cell is written so is scanned by
# three passes in C; any other form (a prefix, other quotes or spaces, a lower-case, long or
# missing reference, a second reference) takes the careful scan.
_ODD_CELL = re.compile(
    rb'<c(?:(?! r="[A-Z]{1,3}\d{1,7}")[\s/>]| r="[A-Z]{1,3}\d{1,7}"[^>]*\sr\s*=)')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
# A cell that may hold a value: not self-closing, its end tag not right after it.
_VALUED_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>]*(?<!/)>(?!\s*</c\s*>)')
_CELL_END = re.compile(rb"\s*</" + PREFIX + rb"c\s*>")
CELL_REF = re.compile(rb"\s*([A-Za-z]{1,3})(\d{1,9})\s*")
_ROW_REF = re.compile(rb"\s*(\d{1,9})\s*")
# More valued cells than the largest sheet allowed can hold are refused unread (the same
# place written many times over costs a full scan otherwise).
MAX_SHEET_CELLS = layout.MAX_ROWS * layout.MAX_COLS


def xlsx_extent(xml: bytes, max_rows: int = layout.MAX_ROWS) -> tuple[int, int]:
    """Rows and columns spanned by cells that may hold a value (what calamine allocates).

    A cell counts unless it is empty (self-closing, or its end tag follows at once), so
    the extent may be larger than calamine's, never smaller. The part is scanned in
    chunks ending after a '>' (no tag spans two), stopping once over the limits.
    """
    xml = closed(xml)
    max_row = max_col = seen = 0
    for chunk in _chunks(xml):
        valued = _strict_cells(chunk)
        if valued is None:
            return _xlsx_extent_scan(xml, max_rows)
        seen += len(valued)
        if valued:
            max_row = max(max_row, *map(int, (row for _col, row in valued)))
            max_col = max(max_col, *map(col_number, {col for col, _row in valued}))
        if max_row > max_rows or max_col > layout.MAX_COLS:
            break
        _check_cells(seen)
    return max_row, max_col


def _check_cells(seen: int) -> None:
    if seen > MAX_SHEET_CELLS:
        raise Refused("file-too-large", detail=f"工作表有超过 {MAX_SHEET_CELLS} 个单元格")


_CHUNK = 1 << 20


def _chunks(xml: bytes) -> Iterator[bytes]:
    start = 0
    while start < len(xml):
        end = xml.find(b">", start + _CHUNK) + 1 or len(xml)
        yield xml[start:end]
        start = end


def _strict_cells(xml: bytes) -> list[tuple[bytes, bytes]] | None:
    """(column letters, row digits) of the cells that may hold a value, when every cell of
    the chunk is written the usual way (rows do not matter then: each cell says where it
    is); None otherwise."""
    if _ODD_CELL.search(xml) or _PREFIXED_CELL.search(xml):
        return None
    return _VALUED_CELL.findall(xml)


def _xlsx_extent_scan(xml: bytes, max_rows: int) -> tuple[int, int]:
    """Any other form (prefixes, quotes, cells without a reference), placed as Excel
    places them: by the element's own reference, else next to the one before."""
    max_row = max_col = row = col = seen = 0
    for chunk in _chunks(xml):
        for m in tags(chunk, rb"c|row"):
            refs = attr(m.group(2), rb"r")
            if len(refs) > 1:  # not well-formed XML; readers may take either one
                raise Refused("file-unreadable", detail="工作表中单元格位置重复")
            if m.group(1) == b"row":
                row = _ref(_ROW_REF, refs)[0] if refs else row + 1
                col = 0
                continue
            if refs:
                row, col = _ref(CELL_REF, refs)
            else:
                col += 1
            if m.group(2).endswith(b"/") or _CELL_END.match(chunk, m.end()):
                continue  # a styled but empty cell: calamine ignores it
            max_row, max_col, seen = max(max_row, row), max(max_col, col), seen + 1
            if max_row > max_rows or max_col > layout.MAX_COLS:
                return max_row, max_col
            _check_cells(seen)
    return max_row, max_col


def _ref(pattern: re.Pattern[bytes], refs: list[bytes]) -> tuple[int, int]:
    """(row, col) of a cell reference (col 0 for a row's); Refused when unparsable."""
    ref = pattern.fullmatch(refs[0])
    if ref is None:
        raise Refused("file-unreadable", detail="工作表中单元格位置无法识别")
    if pattern is _ROW_REF:
        return int(ref.group(1)), 0
    return int(ref.group(2)), col_number(ref.group(1))


_XLSX_SHEET = rb"sheet"
_XLSX_REL = rb"Relationship"


def xlsx_sheet_parts(workbook: bytes, rels: bytes) -> dict[str, str]:
    """Sheet name -> package part (xl/worksheets/sheet1.xml), resolved as calamine does."""
    targets = {text_attr(m.group(2), rb"Id"): text_attr(m.group(2), rb"Target")
               for m in tags(rels, _XLSX_REL)}
    parts: dict[str, str] = {}
    for m in tags(workbook, _XLSX_SHEET):
        target = targets.get(text_attr(m.group(2), rb"(?:[^\s=:]+:)?id"), "")
        if target:
            name = text_attr(m.group(2), rb"name")
            parts[name] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


# ---------------------------------------------------------------- .ods content.xml


_ODS_WALK = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>")
_ODS_ROWS_REPEATED = rb"[^\s=]*number-rows-repeated"
_ODS_COLS_REPEATED = rb"[^\s=]*number-columns-repeated"
_NUMBER = re.compile(rb"\s*\+?(\d{1,12})\s*")


def _repeat(attrs: bytes, name: bytes) -> int:
    """The largest repeat count given (duplicates taken at their worst); 1 when none."""
    counts = [int(m.group(1)) for v in attr(attrs, name) if (m := _NUMBER.fullmatch(v))]
    return max(counts, default=1)


def ods_walk(xml: bytes) -> Iterator[tuple[bytes, int, int, int, int, bytes, bool]]:
    """Walk an .ods content.xml: (tag, row, col, repeat, row repeat, attributes, empty) for
    each table start (tag b"table") and each cell, zero-based with repeats expanded."""
    row = col = 0
    row_repeat = 1
    for m in _ODS_WALK.finditer(closed(xml)):
        closing, tag, attrs, empty = m.groups()
        if tag == b"table":
            if not closing:
                row = col = 0
                yield tag, 0, 0, 1, 1, attrs, bool(empty)
            continue
        if tag == b"table-row":
            n = _repeat(attrs, _ODS_ROWS_REPEATED) if not closing else 1
            if closing:
                row += row_repeat
            elif empty:
                row += n
            else:
                row_repeat, col = n, 0
            continue
        if closing:
            continue
        n = _repeat(attrs, _ODS_COLS_REPEATED)
        yield tag, row, col, n, row_repeat, attrs, bool(empty)
        col += n


def ods_extents(xml: bytes) -> Extents:
    """Per table: rows and columns spanned by the cells that may hold a value."""
    extents: Extents = {}
    name = ""
    for tag, row, col, n, row_repeat, attrs, empty in ods_walk(xml):
        if tag == b"table":
            name = text_attr(attrs, rb"table:name")
            extents.setdefault(name, (0, 0))
            continue
        if name not in extents or not (b"value-type" in attrs or not empty):
            continue
        rows, cols = extents[name]
        extents[name] = (max(rows, row + row_repeat), max(cols, col + n))
    return extents


# ---------------------------------------------------------------- .xls (OLE2 + BIFF)


_ENDOFCHAIN = 0xFFFFFFFE


def cfb_streams(data: bytes, names: tuple[str, ...]) -> list[bytes]:
    """Every stream of an OLE2 compound file named (case-insensitively) one of `names`,
    from regular sectors or the mini stream; [] when the structure cannot be followed."""
    try:
        return _cfb_streams(data, {n.lower() for n in names})
    except (struct.error, IndexError, ValueError):
        return []


def _cfb_streams(data: bytes, wanted: set[str]) -> list[bytes]:
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini = 1 << struct.unpack_from("<H", data, 0x20)[0]
    if size not in (512, 4096) or mini != 64:
        return []
    sectors = len(data) // size + 1  # no chain is longer than the file
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    cutoff, first_minifat, n_minifat = struct.unpack_from("<III", data, 0x38)
    difat_next, n_difat = struct.unpack_from("<II", data, 0x44)
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    per = size // 4
    for _ in range(min(n_difat, sectors)):  # more FAT sector numbers, chained
        if difat_next >= _ENDOFCHAIN:
            break
        chunk = struct.unpack_from(f"<{per}I", data, (difat_next + 1) * size)
        fat_sectors.extend(chunk[:-1])
        difat_next = chunk[-1]
    fat: list[int] = []
    for sector in fat_sectors[:min(n_fat, sectors // per + 1)]:
        fat.extend(struct.unpack_from(f"<{per}I", data, (sector + 1) * size))

    def chain(start: int, table: list[int], read: bytes, unit: int, offset: int) -> bytes:
        out, seen = bytearray(), set()
        while start < _ENDOFCHAIN and start not in seen and start < len(table):
            seen.add(start)
            out += read[(start + offset) * unit:(start + offset + 1) * unit]
            start = table[start]
        return bytes(out)

    directory = chain(first_dir, fat, data, size, 1)
    root = directory[116:124]
    mini_stream = chain(struct.unpack_from("<I", root)[0], fat, data, size, 1) if root else b""
    minifat_bytes = chain(first_minifat, fat, data, size, 1) if n_minifat else b""
    minifat = list(struct.unpack_from(f"<{len(minifat_bytes) // 4}I", minifat_bytes))
    found = []
    for at in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, at + 64)[0]
        name = directory[at:at + max(min(length, 64) - 2, 0)].decode("utf-16-le", "replace")
        if name.lower() in wanted and directory[at + 66] == 2:
            start, length = struct.unpack_from("<II", directory, at + 116)
            if length >= cutoff:
                found.append(chain(start, fat, data, size, 1)[:length])
            else:
                found.append(chain(start, minifat, mini_stream, mini, 0)[:length])
    return found


def biff_records(stream: bytes, at: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(offset, record type, body) from `at` to the substream's EOF record."""
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        yield at, kind, stream[at + 4:at + 4 + length]
        at += 4 + length
        if kind == 0x000A:  # EOF of a substream
            return


# Records that put a value in a cell (BIFF5 and BIFF8): NUMBER, RK, LABELSST, LABEL,
# RSTRING, BOOLERR, FORMULA (row, col first); MULRK spans columns. BLANK and MULBLANK are
# styled empty cells, which calamine ignores.
_XLS_CELL = {0x0203, 0x027E, 0x00FD, 0x0204, 0x00D6, 0x0205, 0x0006}
_XLS_MULRK = 0x00BD
_XLS_BOUNDSHEET = 0x0085
_XLS_FILEPASS = 0x002F


def xls_extents(data: bytes) -> Extents:
    """Per sheet of an .xls: rows and columns spanned by its value records. Refused when
    the workbook stream cannot be found (calamine might still read what this cannot see)."""
    streams = cfb_streams(data, ("Workbook", "Book"))
    if not streams:
        raise Refused("file-unreadable", detail="文件不完整或已损坏")
    extents: Extents = {}
    for stream in streams:
        sheets = _xls_sheets(stream)
        # Sheets' substreams are disjoint: walks that overlap (many sheets pointing into
        # one substream) would make the scan quadratic, and are no workbook a program wrote.
        budget = [len(stream) // 4 + 64 * len(sheets)]
        for name, at in sheets:
            rows, cols = xls_extent(stream, at, budget)
            old = extents.get(name, (0, 0))
            extents[name] = (max(old[0], rows), max(old[1], cols))
    return extents


def _xls_sheets(stream: bytes) -> list[tuple[str, int]]:
    """(name, offset of its substream) of each BOUNDSHEET record of the globals."""
    sheets = []
    codec = "latin-1"
    biff8 = True
    for _at, kind, body in biff_records(stream):
        if kind == _XLS_FILEPASS:
            raise Refused("file-encrypted")
        if kind == 0x0809 and len(body) >= 2:  # BOF: BIFF8 is version 0x0600
            biff8 = struct.unpack_from("<H", body)[0] == 0x0600
        elif kind == 0x0042 and len(body) >= 2:  # CODEPAGE, for BIFF5's 8-bit names
            page = struct.unpack_from("<H", body)[0]
            codec = {1200: "utf-16-le", 1252: "cp1252", 936: "gbk"}.get(page, "latin-1")
        elif kind == _XLS_BOUNDSHEET and len(body) >= 7:
            at, cch = struct.unpack_from("<I", body)[0], body[6]
            if biff8 and len(body) >= 8:
                wide = body[7] & 1
                raw = body[8:8 + cch * (2 if wide else 1)]
                name = raw.decode("utf-16-le" if wide else "latin-1", "replace")
            else:
                name = body[7:7 + cch].decode(codec if codec != "utf-16-le" else "latin-1",
                                              "replace")
            sheets.append((name, at))
    return sheets


def xls_extent(stream: bytes, at: int, budget: list[int]) -> tuple[int, int]:
    """Rows and columns spanned by the value records of the sheet substream at `at`;
    `budget` is the number of records all walks of the stream may still visit."""
    max_row = max_col = 0
    for _at, kind, body in biff_records(stream, at):
        budget[0] -= 1
        if budget[0] < 0:
            raise Refused("file-unreadable", detail="工作表结构异常")
        if kind in _XLS_CELL and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
        elif kind == _XLS_MULRK and len(body) >= 6:
            row, first = struct.unpack_from("<HH", body)
            last = struct.unpack_from("<H", body, len(body) - 2)[0]
            col = max(last, first + (len(body) - 6) // 6 - 1)
        else:
            continue
        max_row, max_col = max(max_row, row + 1), max(max_col, col + 1)
    return max_row, max_col
