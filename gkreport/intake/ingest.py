"""The ingest stage: read returned unit forms (.xlsx/.xlsm/.xls/.ods) into entries and problems.

Every file becomes either rows (entries, or rows rejected with a problem) or exactly one
problem for the file, and nothing a file holds stops the others: a hostile file is refused
before any parser sees it in full (`guards`; the reading itself is in `sheets`), and a
surprise while reading one file is that file's problem. This module finds the form in a
file (every visible sheet looked at, what is not read named), identifies its unit and
period; `reporter` finds the reporter block and `rows` checks the table row by row. Many
files are read in a process pool (`pool`) whose workers die with the run.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gkreport.core.model import (
    Entry,
    Evidence,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Submission,
)
from gkreport.core.pool import map_in_processes
from gkreport.core.problems import Problem, a1, problem
from gkreport.core.text import clean, nfkc, squash
from gkreport.forms import layout
from gkreport.intake.reporter import LABELS, cell_at, labels_above, reporter_below, text_of
from gkreport.intake.rows import FileResult, Form, Rows, clip, data_rows, validate
from gkreport.intake.sheets import Book, Refused, open_book, read_grid, sheet_names
from gkreport.plan.rules import match_header, unit_key

# Files the office's tools leave behind; skipped without a problem.
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
BY_META = "元数据"
BY_LABEL = "填报单位"
BY_NAME = "文件名"
PARALLEL_FROM = 40  # files; below this a process pool costs more than it saves
HEADER_SCAN = 40  # rows searched for the header
# A sheet beside the form larger than this (unzipped) is not looked into: no form needs it,
# and a crafted one would cost seconds to scan.
OTHER_SHEET_BYTES = 8 * 2**20
REQUIRED_COLUMNS = ("no", "status", "note")
_SYNONYMS: dict[str, tuple[str, ...]] = {
    c.key: tuple(dict.fromkeys(squash(nfkc(n)) for n in (c.header, *c.synonyms)))
    for c in layout.COLUMNS
}


# ---------------------------------------------------------------- form parsing


def _meta(book: Book) -> dict[str, str]:
    if layout.META_SHEET not in sheet_names(book):
        return {}
    try:
        grid = read_grid(book, layout.META_SHEET)
    except Refused:  # the properties and the title stand in, as when a unit deleted it
        return {}
    out: dict[str, str] = {}
    for row in grid[:50]:
        if len(row) >= 2 and clean(row[0]):
            out[clean(row[0])] = text_of(row[1])
    return out


# Every name of the 序号 column holds one of these: a row without them is no header (most
# rows of most sheets, passed over without matching every column's names).
_NO_MARKS = ("序", "编号")


def _find_header(grid: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN]):
        if not any(isinstance(c, str) and any(m in c for m in _NO_MARKS) for c in cells):
            continue
        cols = match_header(cells, _SYNONYMS)
        if "no" in cols and ("status" in cols or "note" in cols):
            if best is None or len(cols) > len(best[1]):
                best = (r, cols)
            if len(cols) == len(_SYNONYMS):  # every column named: no better header below
                break
    return best


_WHY_NOT_READ = {"file-too-large": "该表过大", "file-encrypted": "该表已加密"}
_FILL_IN = tuple(c.key for c in layout.COLUMNS if c.fill_in)


@dataclass(frozen=True, slots=True)
class _Sheets:
    """The sheets holding the unit's table (the form first, then those continuing it) and
    the sheets with content that were not read, each with why."""

    forms: list[Form]
    not_read: list[tuple[str, str]]


def _find_forms(book: Book) -> _Sheets:
    """Every visible sheet is looked at, so nothing a unit wrote on another sheet goes
    unsaid: sheets with the form's header and answers are read (a filled copy rather than a
    blank original; 填报表（续） after 填报表), other sheets with content are named as not
    read. The form's own instructions (填报说明, a fifth of a form's reading time) and the
    hidden sheets are used only when no other visible sheet has the header."""
    import python_calamine as pc

    meta = book.cal.sheets_metadata
    visible = [m.name for m in meta if m.visible == pc.SheetVisibleEnum.Visible
               and m.name != layout.GUIDE_SHEET]
    hidden = [m.name for m in meta if m.name not in visible
              and m.name not in (layout.META_SHEET, layout.LISTS_SHEET)]
    forms: list[Form] = []
    not_read: list[tuple[str, str]] = []
    failed: Refused | None = None
    for i, name in enumerate(sorted(visible, key=lambda n: n != layout.FORM_SHEET)):
        try:
            if i and book.sheet_bytes(name) > OTHER_SHEET_BYTES:
                raise Refused("file-too-large")
            grid = read_grid(book, name)
        except Refused as refused:
            failed = failed or refused
            not_read.append((name, _WHY_NOT_READ.get(refused.code, "该表已损坏，无法读取")))
            continue
        hit = _find_header(grid)
        if hit:
            forms.append(Form(name, grid, hit[0], hit[1]))
        elif any(clean(v) for row in grid for v in row):
            not_read.append((name, "该表没有“序号”“完成状态”“进展情况”等表头"))
    for name in hidden if not forms else ():
        try:
            if book.sheet_bytes(name) > OTHER_SHEET_BYTES:
                raise Refused("file-too-large")
            grid = read_grid(book, name)
        except Refused as refused:
            failed = failed or refused
            continue
        hit = _find_header(grid)
        if hit:
            return _Sheets([Form(name, grid, hit[0], hit[1])], not_read)
    if not forms:
        raise failed or Refused("form-no-sheet")
    filled = [f for f in forms if _filled(f)] or forms[:1]
    for f in forms:
        if f not in filled:
            not_read.append((f.sheet, f"该表未填写，已读取“{filled[0].sheet}”"))
    return _Sheets(filled, not_read)


def _filled(form: Form) -> bool:
    """Whether any row under the header has an answer in a fill-in column."""
    cols = [form.cols[k] for k in _FILL_IN if k in form.cols]
    return any(clean(cell_at(form.grid, r, c)) for r in range(form.header + 1, len(form.grid))
               for c in cols)


def _with_percentages(book: Book, form: Form) -> Form:
    """Progress cells formatted as a percentage hold 1 for "100%": scale them to 0..100.

    Only small numbers can be affected, so the formats are looked up only when such a
    cell exists; the common form (whole numbers 0-100) never opens styles.xml.
    """
    c = form.cols.get("progress")
    if c is None:
        return form
    small = {(r, c) for r in range(form.header + 1, len(form.grid))
             if isinstance(v := cell_at(form.grid, r, c), int | float) and not isinstance(v, bool)
             and 0 < v <= 1}
    for r, c in book.percent_cells(form.sheet, small):
        form.grid[r][c] = round(float(form.grid[r][c]) * 100, 6)  # type: ignore[arg-type]
    return form


# ---------------------------------------------------------------- identification


@dataclass(frozen=True, slots=True)
class Job:
    """What reading any file of one `read_returns` call needs, built once and passed down
    (to pool workers too, as `pool` sends it: no state lives in this module)."""

    plan: Plan
    period: Period
    notes: Mapping[tuple[int, str], str]  # last period's 进展情况 by (task, unit)

    @property
    def names(self) -> dict[str, str]:
        """Unit name or alias key -> unit (the plan's index, built once with the plan)."""
        return self.plan.index.names


def make_job(plan: Plan, period: Period,
             notes: Mapping[tuple[int, str], str] | None = None) -> Job:
    """The shared part of reading a period's files."""
    return Job(plan, period, dict(notes or {}))


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


# The period as the form's title writes it: （2025年5月）; a bare "2025年5月" too, but not a
# date or deadline ("2025年7月5日前报送", "2025年7月底前").
_TITLE_PERIOD = (re.compile(r"\(\s*(\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?\s*\)"),
                 re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*(?:\d|底|初|中|上|下|前|末))"))


def _title_period(form: Form) -> tuple[str, int, int] | None:
    """(YYYY-MM, row, col) of the period in the title rows above the header."""
    rows = [r for r in range(form.header)  # the reporter block (填报日期 …) is not a title
            if not any(nfkc(squash(v)).startswith(LABELS) for v in form.grid[r])]
    for pattern in _TITLE_PERIOD:
        for r in rows:
            for c, value in enumerate(form.grid[r]):
                found = [m for m in pattern.finditer(nfkc(clean(value)))
                         if 1 <= int(m.group(2)) <= 12]
                if found:  # the last one: a plan title may itself start with a year
                    m = found[-1]
                    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}", r, c
    return None


_FULL_DATE = re.compile(r"\s*(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})")
_SHORT_DATE = re.compile(r"\s*(\d{1,2})\s*(?:月|[.\-/])\s*(\d{1,2})\s*(?:日|号)?\s*$")


def _date_key(value: str, period: Period) -> str:
    """填报日期 as YYYY-MM-DD ("" when not a date); a date without a year gets one, see below."""
    text = nfkc(value)
    if m := _FULL_DATE.match(text):
        year, month, day = (int(g) for g in m.groups())
        candidates = [year]
    elif m := _SHORT_DATE.match(text):
        month, day = int(m.group(1)), int(m.group(2))
        # 7月12日 on a June form: forms are filled in the period's month or the next few,
        # so take the year (period's, the one before or after) closest to the period's end;
        # a December form dated 1月5日 is then January of the next year.
        candidates = [period.year, period.year + 1, period.year - 1]
    else:
        return ""
    dates = []
    for year in candidates:
        try:
            dates.append(date(year, month, day))
        except ValueError:
            continue
    if not dates:
        return ""
    return min(dates, key=lambda d: abs((d - period.end).days)).isoformat()


# ---------------------------------------------------------------- one file


def read_file(path: Path, plan: Plan, period: Period,
              previous_notes: Mapping[tuple[int, str], str] | None = None, *,
              name: str = "", job: Job | None = None) -> FileResult:
    """Read one returned form; never raises for a bad file (the file gets one problem).

    `name` is how the file is named in problems (its path within the period's folder);
    `job` (from `make_job`) shares the plan's lookups across the files of one call.
    """
    job = job or make_job(plan, period, previous_notes)
    try:
        st = path.stat()
    except OSError:  # taken away (or renamed) since the folder was listed
        return FileResult(file=name or path.name, size=0, sha256="", mtime=0.0, read_at="",
                          refused=True, problems=(problem(
                              "file-unreadable", file=name or path.name,
                              detail="文件在读取过程中被移走或改名"),))
    base = FileResult(file=name or path.name, size=st.st_size, sha256="", mtime=st.st_mtime,
                      read_at=datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds"))
    try:
        if st.st_size > layout.MAX_FILE_BYTES:
            raise Refused("file-too-large", detail=f"{st.st_size / 2**20:.1f} MB")
        data = path.read_bytes()
        base = replace(base, sha256=hashlib.sha256(data).hexdigest())
        book = open_book(data, path.suffix.lower())
        meta = _meta(book)
        props = book.properties()
        sheets = _find_sheets_with_percentages(book)
    except Refused as refused:
        return _refused(base, problem(refused.code, file=base.file, **refused.values))
    except MemoryError:
        return _refused(base, problem("file-too-large", file=base.file, detail="读取时内存不足"))
    except OSError:
        return _refused(base, problem("file-unreadable", file=base.file,
                                      detail="文件无法打开，可能正被占用或没有读取权限"))
    except Exception:  # noqa: BLE001 - one file's surprise must not stop the month
        return _refused(base, problem("file-read-failed", file=base.file))
    try:
        return _read_form(base, sheets, meta, props, job)
    except Exception:  # noqa: BLE001 - as above, for the checks of its rows
        return _refused(base, problem("file-read-failed", file=base.file))


def _refused(base: FileResult, p: Problem) -> FileResult:
    return replace(base, refused=True, problems=(p,))


def _find_sheets_with_percentages(book: Book) -> _Sheets:
    found = _find_forms(book)
    return _Sheets([_with_percentages(book, f) for f in found.forms], found.not_read)


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Who the form says it belongs to, by each kind of evidence ("" where silent)."""

    meta: str
    label: str
    name: str
    written: str  # the 填报单位 text as written


def _identify(ev: _Evidence) -> tuple[str, str]:
    """(unit, how) by rank (README "校验"): metadata, then 填报单位, then the file name."""
    for unit, how in ((ev.meta, BY_META), (ev.label, BY_LABEL), (ev.name, BY_NAME)):
        if unit:
            return unit, how
    return "", ""


def _conflicts(ev: _Evidence, unit: str, how: str, file: str, where: dict[str, Any],
               form_nos: set[int], plan: Plan) -> list[Problem]:
    """A problem when the kinds of evidence name different registered units.

    The metadata and the 填报单位 disagreeing means someone filled another unit's form:
    an error, since it decides who counts as 未报送. A file name alone disagreeing is usually
    a reused file name: a warning, unless the rows are exactly that other unit's tasks.
    """
    parts = []
    if ev.meta:
        parts.append(f"隐藏的表单信息是“{ev.meta}”的")
    if ev.label:
        parts.append(f"填报单位写的是“{ev.written}”")
    if ev.name:
        parts.append(f"文件名“{file}”指向“{ev.name}”")
    evidence = "，".join(parts)
    if ev.meta and ev.label and ev.meta != ev.label:
        return [problem("form-unit-conflict", **where, unit=unit, chosen=unit,
                        evidence=evidence, other=ev.label)]
    if ev.name and ev.name != unit:
        tasks_of = {u: {t.no for t in plan.tasks_for(u)} for u in (unit, ev.name)}
        if form_nos and form_nos == tasks_of[ev.name] != tasks_of[unit]:
            evidence += f"，且表中各行正是“{ev.name}”的任务"
            return [problem("form-unit-conflict", **where, unit=unit, chosen=unit,
                            evidence=evidence, other=ev.name)]
        return [problem("form-name-mismatch", **where, unit=unit, chosen=unit, name=file,
                        other=ev.name, how=how)]
    return []


def _tables(sheets: _Sheets) -> tuple[list[tuple[Form, Rows]], dict[str, tuple[str, int, int]]]:
    """Each form with its rows (the reporter block's rows left out), and the reporter block.

    The block may sit above the header or below the table: the first of each label counts,
    above before below unless only the one below is answered; only the first form's block
    is the unit's.
    """
    tables = []
    labels: dict[str, tuple[str, int, int]] = {}
    for i, form in enumerate(sheets.forms):
        rows = list(data_rows(form))
        below, at = reporter_below(form, rows)
        tables.append((form, [row for row in rows if row[0] not in at]))
        if i == 0:
            above = labels_above(form.grid[: form.header + 1])
            # A label answered below beats the same label left empty above (the block
            # rewritten under the table, the form's own left blank).
            labels = {**below, **{k: v for k, v in above.items() if v[0] or k not in below
                                  or not below[k][0]}}
    return tables, labels


def _read_form(base: FileResult, sheets: _Sheets, meta: dict[str, str], props: dict[str, str],
               job: Job) -> FileResult:
    file, form = base.file, sheets.forms[0]
    sheet, cols, plan, period = form.sheet, form.cols, job.plan, job.period
    tables, labels = _tables(sheets)
    task_rows = [no for _form, rows in tables for _r, _cells, no in rows if no != -1]
    written = labels.get(layout.LABEL_UNIT, ("", 0, 0))
    # The metadata sheet first; the document properties stand in when a unit (or a
    # conversion) lost the very hidden sheet.
    ev = _Evidence(meta=_match_unit(meta.get("unit") or props.get("unit", ""), job.names),
                   label=_match_unit(written[0], job.names) if written[0] else "",
                   name=_match_unit(Path(file).stem, job.names), written=written[0])
    unit, how = _identify(ev)
    reporter = {k: v[0] for k, v in labels.items()}
    base = replace(base, unit=unit, identified_by=how, rows_read=len(task_rows),
                   filled_by=reporter.get(layout.LABEL_REPORTER, ""),
                   phone=reporter.get(layout.LABEL_PHONE, ""),
                   fill_date=_date_key(reporter.get(layout.LABEL_DATE, ""), period))

    def refuse(p: Problem) -> FileResult:
        return replace(base, refused=True, rows_rejected=len(task_rows), problems=(p,))

    at_unit = {"file": file, "sheet": sheet,
               "cell": a1(written[1], written[2]) if layout.LABEL_UNIT in labels else "",
               "row": written[1] + 1 if layout.LABEL_UNIT in labels else None}
    found, at = _period_found(form, meta, props)
    if found and found != str(period):
        return refuse(problem("form-wrong-period", file=file, unit=unit, **at, found=found,
                              period=str(period)))
    fingerprint = meta.get("fingerprint") or props.get("fingerprint")
    # A form of an earlier plan version is read row by row against the current plan.
    old_plan = bool(fingerprint) and fingerprint != job.plan.fingerprint
    if not unit:
        where = {k: at_unit[k] for k in ("file", "sheet", "cell")}
        if written[0]:
            return refuse(problem("form-unknown-unit", **where, name=clip(written[0])))
        return refuse(problem("form-unidentified", **where))
    missing = [k for k in REQUIRED_COLUMNS if k not in cols]
    if missing:
        header = next(c.header for c in layout.COLUMNS if c.key == missing[0])
        return refuse(problem("form-missing-column", file=file, sheet=sheet, unit=unit,
                              row=form.header + 1, column=header))
    form_nos = {no for no in task_rows if no is not None}
    first: list[Problem] = _conflicts(ev, unit, how, file, at_unit, form_nos, plan)
    if not found:
        first.append(problem("form-period-unknown", file=file, sheet=sheet, unit=unit,
                             period=str(period)))
    first.extend(problem("sheet-not-read", file=file, sheet=name, unit=unit, name=name,
                         detail=why, form=sheet) for name, why in sheets.not_read)
    # A continuation sheet without the columns needed to read its rows is named, not read.
    usable = [tables[0]]
    for f, rows in tables[1:]:
        if all(k in f.cols for k in REQUIRED_COLUMNS):
            usable.append((f, rows))
        else:
            first.append(problem("sheet-not-read", file=file, sheet=f.sheet, unit=unit,
                                 name=f.sheet, detail="该表缺少必需的列", form=sheet))
    if old_plan:
        first.append(problem("form-old-plan", file=file, sheet=sheet, unit=unit))
    return validate(replace(base, old_plan=old_plan), usable, labels, plan, job.notes, first)


def _period_found(form: Form, meta: dict[str, str], props: dict[str, str],
                  ) -> tuple[str, dict[str, Any]]:
    """The period the form is for, and where it says so: the metadata sheet, else the
    document properties, else the title ("" when none says)."""
    if meta.get("period"):
        return _period_text(meta["period"]), {"sheet": layout.META_SHEET}
    if props.get("period"):
        return _period_text(props["period"]), {}
    title = _title_period(form)
    if title:
        return title[0], {"sheet": form.sheet, "cell": a1(title[1], title[2])}
    return "", {}


# ---------------------------------------------------------------- the folder


# Files that are not forms but evidence a unit sends with it (佐证材料): listed, not read.
EVIDENCE_SUFFIXES = frozenset({
    ".pdf", ".ofd", ".doc", ".docx", ".wps", ".rtf", ".jpg", ".jpeg", ".png", ".gif",
    ".bmp", ".tif", ".tiff", ".heic", ".webp", ".zip", ".rar", ".7z", ".ppt", ".pptx",
    ".mp4", ".mov"})
MAX_DEPTH = 3  # subfolders of input/PERIOD read (a unit's folder, and folders inside it)


REGISTER = "收文登记.csv"  # the office's record of when each file arrived (optional)


def skip_reason(name: str) -> str | None:
    """Why a file in the period folder is skipped unread, or None to read it: files the
    office's tools leave behind (lock files, system files, hidden files), and the office's
    own receipt register."""
    low = name.lower()
    if name == REGISTER:
        return "收文登记：各文件的收到时间（优先于文件修改时间），不是填报表"
    if name.startswith("~$"):
        return "Excel/WPS 打开文件时生成的临时锁定文件，不是填报表"
    if low in IGNORED_NAMES:
        return "操作系统自动生成的文件，不是填报表"
    if name.startswith("."):
        return "隐藏文件或临时文件，不是填报表"
    return None


@dataclass(frozen=True, slots=True)
class Listing:
    """The files of a period's folder, subfolders included, by what is done with them."""

    forms: list[tuple[Path, str]]  # (path, name within the folder) of spreadsheets to read
    evidence: list[tuple[Path, str]]
    skipped: list[str]
    found: int


def _listing(folder: Path) -> Listing:
    """Every file under `folder` (names "/"-separated, sorted), by what is done with it."""
    listing = Listing([], [], [], 0)
    if not folder.is_dir():
        return listing
    todo = [(folder, "", 0)]
    entries: list[tuple[Path, str]] = []
    while todo:
        here, prefix, depth = todo.pop()
        for p in here.iterdir():
            name = f"{prefix}{p.name}"
            if p.is_dir() and not p.is_symlink() and depth < MAX_DEPTH \
                    and skip_reason(p.name) is None:
                todo.append((p, f"{name}/", depth + 1))
            else:
                entries.append((p, name))
    for p, name in sorted(entries, key=lambda e: e[1]):
        if skip_reason(p.name) is not None or not p.is_file():
            listing.skipped.append(name)
        elif p.suffix.lower() in EVIDENCE_SUFFIXES:
            listing.evidence.append((p, name))
        else:
            listing.forms.append((p, name))
    return replace(listing, found=len(entries))


_REGISTER_TIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s*(\d{1,2})[:：时](\d{1,2}))?")


def read_register(path: Path) -> tuple[dict[str, str], list[Problem]]:
    """收文登记.csv: file name -> when it was received (ISO), as the office recorded it.

    Files saved from e-mail or an OA system carry the time they were saved, and a copy
    (a git checkout, an archive) the time it was copied; the register says when they came.
    """
    import csv
    import io

    if not path.is_file():
        return {}, []
    data = path.read_bytes()[: layout.MAX_FILE_BYTES]
    text = next((data.decode(enc) for enc in ("utf-8-sig", "gb18030")
                 if _decodes(data, enc)), "")
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) < 2 or n == 1 and not _REGISTER_TIME.search(row[1]):
            continue  # the header, or a blank line
        m = _REGISTER_TIME.search(nfkc(row[1]))
        try:
            when = datetime(*(int(g) for g in m.groups() if g)) if m else None
        except ValueError:
            when = None
        if when is None or not clean(row[0]):
            problems.append(problem("register-bad-row", file=REGISTER, row=n,
                                    value=clean(",".join(row))))
            continue
        out[clean(row[0]).replace("\\", "/")] = when.isoformat(timespec="seconds")
    return out, problems


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _evidence(items: list[tuple[Path, str]], names: dict[str, str],
              ) -> tuple[list[Evidence], list[Problem]]:
    """Evidence files with the unit their name, or a folder they are in, names."""
    out, problems = [], []
    for path, name in items:
        parts = name.split("/")
        unit = next((u for part in (Path(parts[-1]).stem, *reversed(parts[:-1]))
                     if (u := _match_unit(part, names))), "")
        try:
            st = path.stat()
            data = path.read_bytes() if st.st_size <= layout.MAX_FILE_BYTES * 5 else b""
        except OSError:  # taken away since the folder was listed: as read_file does
            continue
        out.append(Evidence(file=name, unit=unit, sha256=hashlib.sha256(data).hexdigest(),
                            size=st.st_size, read_at=datetime.fromtimestamp(st.st_mtime)
                            .isoformat(timespec="seconds")))
        if not unit:
            problems.append(problem("evidence-no-unit", file=name, name=name))
    return out, problems


def _read_job(item: tuple[Path, str], job: Job) -> FileResult:
    """Top-level so a worker process can run it."""
    return read_file(item[0], job.plan, job.period, name=item[1], job=job)


def read_returns(plan: Plan, period: Period, folder: Path, *,
                 previous_notes: Mapping[tuple[int, str], str] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 workers: int | None = None) -> Returns:
    """Read every returned form in `folder` into entries, submissions, problems and counts."""
    listing = _listing(folder)
    files, skipped, found = listing.forms, listing.skipped, listing.found
    job = make_job(plan, period, previous_notes)
    results: list[FileResult] | None = None
    workers = workers or os.cpu_count() or 1
    if len(files) > PARALLEL_FROM and workers > 1:
        # Results come back in file order, so output is deterministic.
        results = map_in_processes(_read_job, files, job, workers, progress)
    if results is None:
        results = []
        for i, item in enumerate(files, start=1):
            results.append(_read_job(item, job))
            if progress:
                progress(i, len(files))
    results = _resolve_duplicates(results)
    evidence, evidence_problems = _evidence(listing.evidence, job.names)
    register, register_problems = read_register(folder / REGISTER)
    evidence_problems += register_problems
    returns = _assemble(period, results, skipped, found)
    return replace(returns, evidence=tuple(evidence), register=register,
                   problems=(*returns.problems, *evidence_problems),
                   files=replace(returns.files, evidence=len(evidence)))


def _resolve_duplicates(results: list[FileResult]) -> list[FileResult]:
    """Keep the newest form per unit (填报日期, then file time); the others become warnings."""
    by_unit: dict[str, list[FileResult]] = {}
    for res in results:
        if not res.refused and res.unit:
            by_unit.setdefault(res.unit, []).append(res)
    superseded: dict[str, tuple[str, bool]] = {}  # file -> (kept file, kept is newer)
    for group in by_unit.values():
        if len(group) > 1:
            # 填报日期 decides only when every copy has one; otherwise the file time does.
            dated = all(g.fill_date for g in group)

            def age(g: FileResult, dated: bool = dated) -> tuple[str | float, ...]:
                return (g.fill_date, g.mtime) if dated else (g.mtime,)

            keep = max(group, key=lambda g: (*age(g), g.file))
            superseded.update({g.file: (keep.file, age(keep) > age(g))
                               for g in group if g is not keep})
    out = []
    for res in results:
        if res.file in superseded:
            kept, newer = superseded[res.file]
            # Its own errors are no longer the unit's to fix, but they were there: the
            # submission record counts a bad form later replaced as a return round.
            res = replace(res, entries=(), rows_rejected=res.rows_read, problems=(
                problem("form-duplicate" if newer else "form-duplicate-tie", file=res.file,
                        unit=res.unit, kept=kept),),
                errors_before=sum(p.is_error for p in res.problems))
        out.append(res)
    return out


_SUPERSEDED = ("form-duplicate", "form-duplicate-tie")


def _assemble(period: Period, results: list[FileResult], skipped: list[str], found: int) -> Returns:
    entries: list[Entry] = []
    problems: list[Problem] = []
    submissions: list[Submission] = []
    read = merged = rejected = 0
    files_read = files_refused = 0
    for res in results:
        superseded = any(p.code in _SUPERSEDED for p in res.problems)
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
            errors=sum(p.is_error for p in res.problems) + res.errors_before,
            warnings=sum(not p.is_error for p in res.problems), identified_by=res.identified_by,
            lacking=res.lacking, old_plan=res.old_plan))
    return Returns(period=period, entries=tuple(entries), submissions=tuple(submissions),
                   problems=tuple(problems),
                   files=FileCounts(found=found, read=files_read, refused=files_refused,
                                    skipped=len(skipped)),
                   rows=RowCounts(read=read, merged=merged, rejected=rejected),
                   skipped_files=tuple(skipped))
