"""The ingest stage: read returned unit forms (.xlsx/.xlsm/.xls/.ods) into entries and problems.

Every file becomes either rows (entries, or rows rejected with a problem) or exactly one
problem for the file; a hostile file is refused before any parser sees it in full.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from . import layout
from .model import (
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    normalise_status,
)
from .plan import match_header, unit_key
from .problems import Problem, a1, problem
from .text import clean, nfkc, squash

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Files the office's tools leave behind; skipped without a problem.
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
BY_META = "元数据"
BY_LABEL = "填报单位"
BY_NAME = "文件名"
PARALLEL_FROM = 40  # files; below this a process pool costs more than it saves
HEADER_SCAN = 40  # rows searched for the header
REQUIRED_COLUMNS = ("no", "status", "note")
# A legitimate zip member (sheet XML) compresses ~10-30x; a bomb compresses 1000x.
MAX_RATIO = 200
RATIO_FLOOR = 2 * 1024 * 1024  # ratios of tiny members mean nothing

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_SYNONYMS: dict[str, tuple[str, ...]] = {
    c.key: tuple(dict.fromkeys(squash(nfkc(n)) for n in (c.header, *c.synonyms)))
    for c in layout.COLUMNS
}
_NOTE_LINE = re.compile(r"^(注|备注|说明|填表说明|填报说明)\s*[:：\d\s、.]")
_LABELS = (layout.LABEL_UNIT, layout.LABEL_REPORTER, layout.LABEL_PHONE, layout.LABEL_DATE)


class _Refused(Exception):
    """A file that cannot be used at all: carries its one problem."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# ---------------------------------------------------------------- per-file result


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one file yielded; picklable so a worker process can return it."""

    file: str
    size: int
    sha256: str
    mtime: float
    read_at: str
    unit: str = ""
    identified_by: str = ""
    refused: bool = False
    entries: tuple[Entry, ...] = ()
    problems: tuple[Problem, ...] = ()
    rows_read: int = 0
    rows_rejected: int = 0
    filled_by: str = ""
    phone: str = ""
    fill_date: str = ""


# ---------------------------------------------------------------- hostile-file guards


def _sniff(data: bytes, suffix: str) -> str:
    """'zip', 'xls'; or raise _Refused for anything that is not a readable workbook."""
    if not data:
        raise _Refused("file-unreadable", detail="文件为空")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise _Refused("file-encrypted")
        if any(s in data for s in _XLS_STREAMS):
            return "xls"
        raise _Refused("file-not-spreadsheet", detail="是 Word 等其他 Office 文件")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype", b"<?xml", b"<table", b"<meta")):
        raise _Refused("file-not-spreadsheet", detail="是网页或 XML 文件，只是扩展名为表格")
    if _looks_like_text(data[:4096]):
        raise _Refused("file-not-spreadsheet", detail="是文本文件，只是扩展名为表格"
                       if suffix in SPREADSHEET_SUFFIXES else f"扩展名为 {suffix or '（无）'}")
    if suffix not in SPREADSHEET_SUFFIXES:
        raise _Refused("file-not-spreadsheet", detail=f"扩展名为 {suffix or '（无）'}")
    raise _Refused("file-unreadable", detail="文件已损坏或不是表格格式")


def _looks_like_text(sample: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        return printable >= 0.95 * max(len(text), 1)
    return False


def _check_zip(data: bytes) -> str:
    """'xlsx' or 'ods' after checking member sizes; raise _Refused for bombs and strangers."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _Refused("file-unreadable", detail="压缩包已损坏") from exc
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise _Refused("file-encrypted")
    total = sum(i.file_size for i in infos)
    if total > layout.MAX_UNZIPPED_BYTES:
        raise _Refused("file-too-large", detail=f"解压后约 {total // 2**20} MB")
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _Refused("file-too-large", detail=f"{i.filename} 压缩比异常")
    if "xl/workbook.xml" in names:
        kind = "xlsx"
        parts = [n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
        scan = _xlsx_extent
    elif "content.xml" in names and "mimetype" in names:
        kind = "ods"
        parts = ["content.xml"]
        scan = _ods_extent
    elif "xl/workbook.bin" in names:
        raise _Refused("file-not-spreadsheet", detail="是 .xlsb 二进制工作簿，请另存为 .xlsx")
    else:
        raise _Refused("file-not-spreadsheet", detail="是压缩包或 Word 等其他文件")
    for part in sorted(parts):
        try:
            xml = zf.read(part)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _Refused("file-unreadable", detail="压缩包已损坏") from exc
        rows, cols = scan(xml)
        # Refused rather than cut: rows silently dropped would break "nothing is lost".
        if rows > layout.MAX_ROWS or cols > layout.MAX_COLS:
            raise _Refused("file-too-large", detail=f"工作表有 {rows} 行 × {cols} 列数据")
    return kind


_XLSX_TOKEN = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_XLSX_VALUE = re.compile(rb"\s*<(?:\w+:)?(?:v|is|f)\b")
_ATTR_R = re.compile(rb'\sr="([A-Za-z]*)(\d*)"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _xlsx_extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns spanned by cells holding a value (what calamine would allocate)."""
    row = col = 0
    max_row = max_col = 0
    for m in _XLSX_TOKEN.finditer(xml):
        ref = _ATTR_R.search(m.group(2))
        if m.group(1) == b"row":
            row = int(ref.group(2)) if ref and ref.group(2) else row + 1
            col = 0
            continue
        if ref and ref.group(1):
            col = _col_number(ref.group(1))
            row = int(ref.group(2)) if ref.group(2) else row
        else:
            col += 1
        if m.group(3) or not _XLSX_VALUE.match(xml, m.end()):
            continue  # a styled but empty cell: calamine ignores it
        max_row, max_col = max(max_row, row), max(max_col, col)
        if max_row > layout.MAX_ROWS or max_col > layout.MAX_COLS:
            break
    return max_row, max_col


_ODS_TOKEN = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)\b([^>]*?)(/?)>")
_ODS_REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="(\d+)"')


def _ods_extent(xml: bytes) -> tuple[int, int]:
    """Rows and columns spanned by valued cells of the largest table, repeats expanded."""
    row = col = 0
    row_repeat = 1
    max_row = max_col = 0
    for m in _ODS_TOKEN.finditer(xml):
        closing, tag, attrs, empty = m.groups()
        rep = _ODS_REPEAT.search(attrs)
        n = int(rep.group(1)) if rep else 1
        if tag == b"table":
            if not closing:
                row = col = 0
            continue
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
        valued = b"value-type" in attrs or not empty
        col += n
        if valued:
            max_row = max(max_row, row + row_repeat)
            max_col = max(max_col, col)
            if max_row > layout.MAX_ROWS or max_col > layout.MAX_COLS:
                break
    return max_row, max_col


# ---------------------------------------------------------------- workbook to grids


def _open_workbook(data: bytes) -> Any:
    import python_calamine as pc

    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:
        raise _Refused("file-encrypted") from exc
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise _Refused("file-unreadable", detail=_short(exc)) from exc


def _short(exc: BaseException) -> str:
    text = clean(str(exc)) or exc.__class__.__name__
    return text[:80]


def _grid(book: Any, name: str) -> list[list[object]]:
    """A sheet's values at absolute positions (row 0 = Excel row 1), capped, merges filled down."""
    import python_calamine as pc

    try:
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False, nrows=layout.MAX_ROWS)
    except pc.PasswordError as exc:
        raise _Refused("file-encrypted") from exc
    except Exception as exc:
        raise _Refused("file-unreadable", detail=_short(exc)) from exc
    grid = [list(r[: layout.MAX_COLS]) for r in rows]
    try:
        merged = sheet.merged_cell_ranges or []
    except Exception:  # not every format reports merges
        merged = []
    for (r0, c0), (r1, c1) in merged:
        # A vertical merge (one status for two tasks) applies to every row it covers;
        # a merge across columns (a 备注 line) keeps its text in the first cell only.
        if c0 != c1 or r0 >= len(grid):
            continue
        top = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0 + 1, min(r1 + 1, len(grid))):
            if c0 < len(grid[r]) and grid[r][c0] in ("", None):
                grid[r][c0] = top
    return grid


def _meta(book: Any) -> dict[str, str]:
    names = [m.name for m in book.sheets_metadata]
    if layout.META_SHEET not in names:
        return {}
    out: dict[str, str] = {}
    for row in _grid(book, layout.META_SHEET)[:50]:
        if len(row) >= 2 and clean(row[0]):
            out[clean(row[0])] = _text(row[1])
    return out


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean(value)


# ---------------------------------------------------------------- form parsing


@dataclass(frozen=True, slots=True)
class _Form:
    sheet: str
    grid: list[list[object]]
    header: int  # zero-based row
    cols: dict[str, int]


def _find_header(grid: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN]):
        cols = match_header([squash(nfkc(clean(c))) for c in cells], _SYNONYMS)
        if "no" in cols and ("status" in cols or "note" in cols):
            if best is None or len(cols) > len(best[1]):
                best = (r, cols)
    return best


def _find_form(book: Any) -> _Form:
    import python_calamine as pc

    meta = book.sheets_metadata
    visible = [m.name for m in meta if m.visible == pc.SheetVisibleEnum.Visible]
    hidden = [m.name for m in meta if m.name not in visible
              and m.name not in (layout.META_SHEET, layout.LISTS_SHEET)]
    order = sorted(visible, key=lambda n: n != layout.FORM_SHEET) + hidden
    for name in order:
        grid = _grid(book, name)
        hit = _find_header(grid)
        if hit:
            return _Form(name, grid, hit[0], hit[1])
    raise _Refused("form-no-sheet")


def _cell(grid: list[list[object]], r: int, c: int | None) -> object:
    if c is None or r >= len(grid) or c >= len(grid[r]):
        return None
    return grid[r][c]


def _labels(grid: list[list[object]]) -> dict[str, tuple[str, int, int]]:
    """label -> (value, row, col of the value cell) for the reporter block, wherever it is."""
    found: dict[str, tuple[str, int, int]] = {}
    for r, cells in enumerate(grid):
        for c, value in enumerate(cells):
            text = squash(nfkc(clean(value)))
            label = next((lb for lb in _LABELS if text.startswith(lb)), None)
            if label is None or label in found or len(text) > len(label) + 40:
                continue
            rest = text[len(label):].lstrip(":：")
            if rest:
                found[label] = (rest, r, c)
                continue
            vc = c + 1
            for k in range(c + 1, len(cells)):
                ktext = squash(nfkc(clean(cells[k])))
                if any(ktext.startswith(lb) for lb in _LABELS):
                    break
                if ktext:
                    vc = k
                    break
            found[label] = (_text(_cell(grid, r, vc)).lstrip(":：").strip(), r, vc)
    return found


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else None
    s = squash(nfkc(clean(value))).rstrip(".、")
    return int(s) if s.isdigit() else None


def parse_progress(value: object) -> tuple[float | None, bool]:
    """(progress 0..100, ok): 80, "80%", 0.8, "８０", "80％" all mean 80; empty is (None, True).

    >>> parse_progress("８０％")
    (80.0, True)
    """
    if value is None or isinstance(value, bool):
        return None, value is None
    if isinstance(value, int | float):
        number = float(value)
        percent = False
    else:
        text = squash(nfkc(clean(value)))
        if not text:
            return None, True
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            return None, False
    if not percent and 0 < number < 1:
        number *= 100  # a percent-formatted cell, or 0.8 typed for 80%
    number = round(number, 2)
    if not 0 <= number <= 100:
        return None, False
    return number, True


def _same_text(a: str, b: str) -> bool:
    x, y = (re.sub(r"[\W_]+", "", nfkc(t)) for t in (a, b))
    return x == y or SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.9


def _is_data_row(cells: list[object], cols: dict[str, int]) -> bool:
    """A row without an integer 序号 still counts when it has a task text and an answer."""
    has_text = bool(clean(_cell_in(cells, cols.get("text"))))
    answered = any(clean(_cell_in(cells, cols.get(k))) for k in ("status", "progress", "note"))
    return has_text and answered


def _cell_in(cells: list[object], c: int | None) -> object:
    return cells[c] if c is not None and c < len(cells) else None


def _data_rows(form: _Form) -> Iterable[tuple[int, list[object], int | None]]:
    """(row index, cells, 序号) of every task row; other non-blank rows give (r, cells, -1)."""
    label_rows = set()
    for _label, (_v, r, _c) in _labels(form.grid[form.header + 1:]).items():
        label_rows.add(r + form.header + 1)
    header_cells = [squash(c) for c in form.grid[form.header]]
    for r in range(form.header + 1, len(form.grid)):
        cells = form.grid[r]
        if not any(clean(c) for c in cells) or r in label_rows:
            continue
        if [squash(c) for c in cells] == header_cells:
            continue  # the header repeated on a new page
        no = _as_int(_cell_in(cells, form.cols["no"]))
        first = next(clean(c) for c in cells if clean(c))
        if no is not None and not _NOTE_LINE.match(first):
            yield r, cells, no
        elif _is_data_row(cells, form.cols) and not _NOTE_LINE.match(first):
            yield r, cells, None
        else:
            yield r, cells, -1


# ---------------------------------------------------------------- identification


def _unit_names(plan: Plan) -> dict[str, str]:
    names: dict[str, str] = {}
    for u in plan.units:
        for n in (*u.aliases, u.name):
            if unit_key(n):
                names[unit_key(n)] = u.name
    return names


def _match_unit(text: str, names: dict[str, str]) -> str:
    """The unit whose name or alias is the longest one found in `text` ("" if none)."""
    key = unit_key(text)
    if not key:
        return ""
    if key in names:
        return names[key]
    inside = [k for k in names if k in key]
    return names[max(inside, key=len)] if inside else ""


def _period_text(value: str) -> str:
    m = re.match(r"\s*(\d{4})\D{1,3}(\d{1,2})", nfkc(value))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}" if m else value


def _date_key(value: str) -> str:
    m = re.match(r"\s*(\d{4})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2})", nfkc(value))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else ""


# ---------------------------------------------------------------- one file


def read_file(path: Path, plan: Plan, period: Period,
              previous_notes: Mapping[tuple[int, str], str] | None = None) -> FileResult:
    """Read one returned form; never raises for a bad file (the file gets one problem)."""
    st = path.stat()
    base = FileResult(file=path.name, size=st.st_size, sha256="", mtime=st.st_mtime,
                      read_at=datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds"))
    try:
        if st.st_size > layout.MAX_FILE_BYTES:
            raise _Refused("file-too-large", detail=f"{st.st_size / 2**20:.1f} MB")
        data = path.read_bytes()
        base = replace(base, sha256=hashlib.sha256(data).hexdigest())
        if _sniff(data, path.suffix.lower()) == "zip":
            _check_zip(data)
        book = _open_workbook(data)
        meta = _meta(book)
        form = _find_form(book)
    except _Refused as refused:
        return replace(base, refused=True,
                       problems=(problem(refused.code, file=path.name, **refused.values),))
    except (OSError, MemoryError) as exc:
        return replace(base, refused=True, problems=(
            problem("file-unreadable", file=path.name, detail=_short(exc)),))
    return _read_form(base, form, meta, plan, period, previous_notes or {})


def _read_form(base: FileResult, form: _Form, meta: dict[str, str], plan: Plan, period: Period,
               previous: Mapping[tuple[int, str], str]) -> FileResult:
    file, sheet, cols = base.file, form.sheet, form.cols
    labels = _labels(form.grid)
    rows = list(_data_rows(form))
    task_rows = [(r, cells, no) for r, cells, no in rows if no != -1]
    names = _unit_names(plan)
    unit, how = "", ""
    written = labels.get(layout.LABEL_UNIT, ("", 0, 0))
    if meta.get("unit") and _match_unit(meta["unit"], names):
        unit, how = _match_unit(meta["unit"], names), BY_META
    elif written[0] and _match_unit(written[0], names):
        unit, how = _match_unit(written[0], names), BY_LABEL
    elif _match_unit(Path(file).stem, names):
        unit, how = _match_unit(Path(file).stem, names), BY_NAME
    reporter = {k: v[0] for k, v in labels.items()}
    base = replace(base, unit=unit, identified_by=how, rows_read=len(task_rows),
                   filled_by=reporter.get(layout.LABEL_REPORTER, ""),
                   phone=reporter.get(layout.LABEL_PHONE, ""),
                   fill_date=_date_key(reporter.get(layout.LABEL_DATE, "")))

    def refuse(p: Problem) -> FileResult:
        return replace(base, refused=True, rows_rejected=len(task_rows), problems=(p,))

    at_meta = {"file": file, "sheet": layout.META_SHEET, "unit": unit}
    if meta.get("period") and _period_text(meta["period"]) != str(period):
        return refuse(problem("form-wrong-period", **at_meta, found=_period_text(meta["period"]),
                              period=str(period)))
    if meta.get("fingerprint") and meta["fingerprint"] != plan.fingerprint:
        return refuse(problem("form-wrong-plan", **at_meta))
    if not unit:
        where = {"file": file, "sheet": sheet,
                 "cell": a1(written[1], written[2]) if layout.LABEL_UNIT in labels else ""}
        if written[0]:
            return refuse(problem("form-unknown-unit", **where, name=written[0]))
        return refuse(problem("form-unidentified", **where))
    missing = [k for k in REQUIRED_COLUMNS if k not in cols]
    if missing:
        header = next(c.header for c in layout.COLUMNS if c.key == missing[0])
        return refuse(problem("form-missing-column", file=file, sheet=sheet, unit=unit,
                              row=form.header + 1, column=header))
    return _validate(base, form, rows, labels, plan, previous)


def _validate(base: FileResult, form: _Form, rows: list[tuple[int, list[object], int | None]],
              labels: dict[str, tuple[str, int, int]], plan: Plan,
              previous: Mapping[tuple[int, str], str]) -> FileResult:
    file, sheet, cols, unit = base.file, form.sheet, form.cols, base.unit
    problems: list[Problem] = []
    entries: list[Entry] = []
    rejected = 0
    claimed: set[int] = set()
    contested: set[int] = set()

    def at(r: int, key: str) -> dict[str, Any]:
        c = cols.get(key, cols["no"])
        return {"file": file, "sheet": sheet, "cell": a1(r, c), "row": r + 1, "unit": unit}

    for r, cells, no in rows:
        def val(key: str, cells: list[object] = cells) -> object:
            return _cell_in(cells, cols.get(key))

        if no == -1:
            first = next(c for c, v in enumerate(cells) if clean(v))
            problems.append(problem("form-extra-rows", file=file, sheet=sheet, cell=a1(r, first),
                                    row=r + 1, unit=unit, value=clean(cells[first])[:30]))
            continue
        task = plan.task(no) if no is not None else None
        if task is None or not plan.accepts(task, unit):
            rejected += 1
            problems.append(problem("unknown-task", **at(r, "no"), no=clean(val("no"))))
            continue
        text = clean(val("text"))
        if text and not _same_text(text, task.text):
            rejected += 1
            contested.add(no)
            problems.append(problem("task-text-mismatch", **at(r, "text"), no=no))
            continue
        if no in claimed:
            rejected += 1
            problems.append(problem("duplicate-task", **at(r, "no"), no=no))
            continue
        claimed.add(no)
        entry, found = _entry(r, no, val, task.text, form, base, previous)
        entries.append(entry)
        problems.extend(found)
    for task in plan.tasks_for(unit):
        if task.no not in claimed and task.no not in contested:
            problems.append(problem("missing-task", file=file, sheet=sheet, unit=unit,
                                    no=task.no, text=task.text[:40]))
    for label in (layout.LABEL_REPORTER, layout.LABEL_PHONE):
        value, r, c = labels.get(label, ("", 0, 0))
        if not value:
            cell = a1(r, c) if label in labels else ""
            problems.append(problem("missing-reporter", file=file, sheet=sheet, cell=cell,
                                    row=r + 1 if label in labels else None, unit=unit,
                                    field=label))
    return replace(base, entries=tuple(entries), problems=tuple(problems), rows_rejected=rejected)


def _entry(r: int, no: int, val: Callable[[str], object], task_text: str, form: _Form,
           base: FileResult, previous: Mapping[tuple[int, str], str],
           ) -> tuple[Entry, list[Problem]]:
    file, sheet, cols, unit = base.file, form.sheet, form.cols, base.unit
    found: list[Problem] = []

    def at(key: str) -> dict[str, Any]:
        c = cols.get(key, cols["no"])
        return {"file": file, "sheet": sheet, "cell": a1(r, c), "row": r + 1, "unit": unit}

    raw_status = clean(val("status"))
    status = normalise_status(nfkc(raw_status)) if raw_status else None
    if not raw_status:
        found.append(problem("missing-status", **at("status")))
    elif status is None:
        found.append(problem("unknown-status", **at("status"), value=raw_status))
    progress, ok = parse_progress(val("progress"))
    if not ok:
        found.append(problem("bad-progress", **at("progress"), value=clean(val("progress"))))
    note = clean(val("note"))
    issues = clean(val("issues"))
    if status in (Status.DONE, Status.ON_TRACK, Status.BEHIND) and not note:
        found.append(problem("missing-progress-note", **at("note"), status=status.value))
    if status is Status.DONE and progress is not None and progress < 100:
        found.append(problem("done-below-100", **at("progress"), value=f"{progress:g}"))
    if status is Status.BEHIND and not issues and "issues" in cols:
        found.append(problem("behind-without-issue", **at("issues")))
    before = previous.get((no, unit), "")
    if note and before and squash(nfkc(note)) == squash(nfkc(before)):
        found.append(problem("stale-progress", **at("note")))
    entry = Entry(task_no=no, unit=unit, status=status or Status.UNVERIFIED,
                  raw_status=raw_status, progress=progress, note=note, issues=issues,
                  next_steps=clean(val("next_steps")), file=file, sheet=form.sheet, row=r + 1,
                  cell=a1(r, cols["status"]), task_text=task_text)
    return entry, found


# ---------------------------------------------------------------- the folder


def _listing(folder: Path) -> tuple[list[Path], list[str], int]:
    """(files to read, skipped names, entries found) in sorted file-name order."""
    if not folder.is_dir():
        return [], [], 0
    paths = sorted(folder.iterdir(), key=lambda p: p.name)
    files: list[Path] = []
    skipped: list[str] = []
    for p in paths:
        name = p.name
        if (p.is_dir() or name.startswith(("~$", ".")) or name.lower() in IGNORED_NAMES
                or not p.is_file()):
            skipped.append(name)
        else:
            files.append(p)
    return files, skipped, len(paths)


def _read_job(job: tuple[Path, Plan, Period, Mapping[tuple[int, str], str]]) -> FileResult:
    """Top-level so a worker process can run it."""
    return read_file(*job)


def read_returns(plan: Plan, period: Period, folder: Path, *,
                 previous_notes: Mapping[tuple[int, str], str] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 workers: int | None = None) -> Returns:
    """Read every returned form in `folder` into entries, submissions, problems and counts."""
    files, skipped, found = _listing(folder)
    notes = dict(previous_notes or {})
    jobs = [(p, plan, period, notes) for p in files]
    results: list[FileResult] = []
    if len(jobs) > PARALLEL_FROM and workers != 1:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for i, res in enumerate(pool.map(_read_job, jobs, chunksize=4), start=1):
                    results.append(res)
                    if progress:
                        progress(i, len(jobs))
        except (OSError, BrokenProcessPool):  # no processes allowed here: read in this one
            results = []
    if len(results) < len(jobs):
        for i, job in enumerate(jobs, start=1):
            results.append(_read_job(job))
            if progress:
                progress(i, len(jobs))
    results = _resolve_duplicates(results)
    return _assemble(str(period), results, skipped, found)


def _resolve_duplicates(results: list[FileResult]) -> list[FileResult]:
    """Keep the newest form per unit (填报日期, then file time); the others become warnings."""
    by_unit: dict[str, list[FileResult]] = {}
    for res in results:
        if not res.refused and res.unit:
            by_unit.setdefault(res.unit, []).append(res)
    superseded: dict[str, str] = {}
    for group in by_unit.values():
        if len(group) > 1:
            keep = max(group, key=lambda g: (g.fill_date, g.mtime, g.file))
            superseded.update({g.file: keep.file for g in group if g is not keep})
    out = []
    for res in results:
        if res.file in superseded:
            res = replace(res, entries=(), rows_rejected=res.rows_read, problems=(
                problem("form-duplicate", file=res.file, unit=res.unit,
                        kept=superseded[res.file]),))
        out.append(res)
    return out


def _assemble(period: str, results: list[FileResult], skipped: list[str], found: int) -> Returns:
    entries: list[Entry] = []
    problems: list[Problem] = []
    submissions: list[Submission] = []
    read = merged = rejected = 0
    files_read = files_refused = 0
    for res in results:
        superseded = any(p.code == "form-duplicate" for p in res.problems)
        entries.extend(res.entries)
        problems.extend(res.problems)
        read += res.rows_read
        merged += len(res.entries)
        rejected += res.rows_rejected
        files_refused += res.refused
        files_read += not res.refused
        submissions.append(Submission(
            file=res.file, unit=res.unit, sha256=res.sha256, size=res.size, read_at=res.read_at,
            filled_by=res.filled_by, phone=res.phone, fill_date=res.fill_date,
            accepted=not res.refused and not superseded, superseded=superseded,
            rows_read=res.rows_read, rows_rejected=res.rows_rejected,
            errors=sum(p.is_error for p in res.problems),
            warnings=sum(not p.is_error for p in res.problems), identified_by=res.identified_by))
    return Returns(period=period, entries=tuple(entries), submissions=tuple(submissions),
                   problems=tuple(problems),
                   files=FileCounts(found=found, read=files_read, refused=files_refused,
                                    skipped=len(skipped)),
                   rows=RowCounts(read=read, merged=merged, rejected=rejected),
                   skipped_files=tuple(skipped))


def read_values(path: Path) -> list[tuple[str, list[list[object]]]]:
    """(sheet, values at absolute positions) of every visible sheet; for copying .xls/.ods."""
    import python_calamine as pc

    data = path.read_bytes()
    if _sniff(data, path.suffix.lower()) == "zip":
        _check_zip(data)
    book = _open_workbook(data)
    return [(m.name, _grid(book, m.name)) for m in book.sheets_metadata
            if m.visible == pc.SheetVisibleEnum.Visible]
