"""The ingest stage: read returned unit forms (.xlsx/.xlsm/.xls/.ods) into entries and problems.

Every file becomes either rows (entries, or rows rejected with a problem) or exactly one
problem for the file; a hostile file is refused before any parser sees it in full (the
file-level reading and its guards are in `sheets`; this module finds the form in it and
identifies its unit and period, and `rows` checks the form's table row by row).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gkreport.core.model import Entry, FileCounts, Period, Plan, Returns, RowCounts, Submission
from gkreport.core.problems import Problem, a1, problem
from gkreport.core.text import clean, nfkc, squash
from gkreport.forms import layout
from gkreport.intake.rows import FileResult, Form, data_rows, validate
from gkreport.intake.sheets import Book, Refused, check_zip, read_grid, sniff
from gkreport.plan.rules import match_header, unit_key

# Files the office's tools leave behind; skipped without a problem.
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
BY_META = "元数据"
BY_LABEL = "填报单位"
BY_NAME = "文件名"
PARALLEL_FROM = 40  # files; below this a process pool costs more than it saves
HEADER_SCAN = 40  # rows searched for the header
REQUIRED_COLUMNS = ("no", "status", "note")
_SYNONYMS: dict[str, tuple[str, ...]] = {
    c.key: tuple(dict.fromkeys(squash(nfkc(n)) for n in (c.header, *c.synonyms)))
    for c in layout.COLUMNS
}
_LABELS = (layout.LABEL_UNIT, layout.LABEL_REPORTER, layout.LABEL_PHONE, layout.LABEL_DATE)
_LABEL_FIRST = {label[0] for label in _LABELS}


# ---------------------------------------------------------------- form parsing


def _meta(book: Book) -> dict[str, str]:
    names = [m.name for m in book.cal.sheets_metadata]
    if layout.META_SHEET not in names:
        return {}
    out: dict[str, str] = {}
    for row in read_grid(book, layout.META_SHEET)[:50]:
        if len(row) >= 2 and clean(row[0]):
            out[clean(row[0])] = _text(row[1])
    return out


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean(value)


def _find_header(grid: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN]):
        cols = match_header(cells, _SYNONYMS)
        if "no" in cols and ("status" in cols or "note" in cols):
            if best is None or len(cols) > len(best[1]):
                best = (r, cols)
            if len(cols) == len(_SYNONYMS):  # every column named: no better header below
                break
    return best


def _find_form(book: Book) -> Form:
    import python_calamine as pc

    meta = book.cal.sheets_metadata
    visible = [m.name for m in meta if m.visible == pc.SheetVisibleEnum.Visible]
    hidden = [m.name for m in meta if m.name not in visible
              and m.name not in (layout.META_SHEET, layout.LISTS_SHEET)]
    order = sorted(visible, key=lambda n: n != layout.FORM_SHEET) + hidden
    for name in order:
        grid = read_grid(book, name)
        hit = _find_header(grid)
        if hit:
            return Form(name, grid, hit[0], hit[1])
    raise Refused("form-no-sheet")


def _with_percentages(book: Book, form: Form) -> Form:
    """Progress cells formatted as a percentage hold 1 for "100%": scale them to 0..100.

    Only small numbers can be affected, so the formats are looked up only when such a
    cell exists; the common form (whole numbers 0-100) never opens styles.xml.
    """
    c = form.cols.get("progress")
    if c is None:
        return form
    small = {(r, c) for r in range(form.header + 1, len(form.grid))
             if isinstance(v := _cell(form.grid, r, c), int | float) and not isinstance(v, bool)
             and 0 < v <= 1}
    for r, c in book.percent_cells(form.sheet, small):
        form.grid[r][c] = round(float(form.grid[r][c]) * 100, 6)  # type: ignore[arg-type]
    return form


def _cell(grid: list[list[object]], r: int, c: int | None) -> object:
    if c is None or r >= len(grid) or c >= len(grid[r]):
        return None
    return grid[r][c]


def _labels(grid: list[list[object]]) -> dict[str, tuple[str, int, int]]:
    """label -> (value, row, col of the value cell) for the reporter block, wherever it is."""
    found: dict[str, tuple[str, int, int]] = {}
    for r, cells in enumerate(grid):
        for c, value in enumerate(cells):
            # Every label starts with 填 or 联: skip the other cells cheaply.
            if not isinstance(value, str) or value.lstrip()[:1] not in _LABEL_FIRST:
                continue
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


# ---------------------------------------------------------------- identification


@dataclass(frozen=True, slots=True)
class _PlanFacts:
    """What every file's check asks of the plan beyond its own index, computed once."""

    names: dict[str, str]  # name/alias key -> unit
    fingerprint: str


_FACTS: list[tuple[Plan, _PlanFacts]] = []


def _facts(plan: Plan) -> _PlanFacts:
    if _FACTS and _FACTS[0][0] is plan:
        return _FACTS[0][1]
    names: dict[str, str] = {}
    for u in plan.units:
        for n in (*u.aliases, u.name):
            if unit_key(n):
                names[unit_key(n)] = u.name
    facts = _PlanFacts(names, plan.fingerprint)
    _FACTS[:] = [(plan, facts)]
    return facts


def _unit_names(plan: Plan) -> dict[str, str]:
    return _facts(plan).names


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
            if not any(nfkc(squash(v)).startswith(_LABELS) for v in form.grid[r])]
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
              previous_notes: Mapping[tuple[int, str], str] | None = None) -> FileResult:
    """Read one returned form; never raises for a bad file (the file gets one problem)."""
    st = path.stat()
    base = FileResult(file=path.name, size=st.st_size, sha256="", mtime=st.st_mtime,
                      read_at=datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds"))
    try:
        if st.st_size > layout.MAX_FILE_BYTES:
            raise Refused("file-too-large", detail=f"{st.st_size / 2**20:.1f} MB")
        data = path.read_bytes()
        base = replace(base, sha256=hashlib.sha256(data).hexdigest())
        kind = sniff(data, path.suffix.lower())
        kind, package = check_zip(data) if kind == "zip" else (kind, None)
        book = Book(data, kind, package)
        meta = _meta(book)
        props = book.properties()
        form = _with_percentages(book, _find_form(book))
    except Refused as refused:
        return replace(base, refused=True,
                       problems=(problem(refused.code, file=path.name, **refused.values),))
    except MemoryError:
        return replace(base, refused=True, problems=(
            problem("file-too-large", file=path.name, detail="读取时内存不足"),))
    except OSError:
        return replace(base, refused=True, problems=(
            problem("file-unreadable", file=path.name, detail="文件无法打开，可能正被占用或没有读取权限"),))
    return _read_form(base, form, meta, props, plan, period, previous_notes or {})


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Who the form says it belongs to, by each kind of evidence ("" where silent)."""

    meta: str
    label: str
    name: str
    written: str  # the 填报单位 text as written


def _identify(ev: _Evidence) -> tuple[str, str]:
    """(unit, how) by the DESIGN.md ranking: metadata, then 填报单位, then the file name."""
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


def _read_form(base: FileResult, form: Form, meta: dict[str, str], props: dict[str, str],
               plan: Plan, period: Period, previous: Mapping[tuple[int, str], str]) -> FileResult:
    file, sheet, cols = base.file, form.sheet, form.cols
    # The reporter block may sit above the header or below the table: the first of each
    # label counts (as one scan of the sheet would find), the rows below are not task rows.
    below = {label: (v, r + form.header + 1, c)
             for label, (v, r, c) in _labels(form.grid[form.header + 1:]).items()}
    labels = {**below, **_labels(form.grid[: form.header + 1])}
    rows = list(data_rows(form, {r for _v, r, _c in below.values()}))
    task_rows = [(r, cells, no) for r, cells, no in rows if no != -1]
    names = _unit_names(plan)
    written = labels.get(layout.LABEL_UNIT, ("", 0, 0))
    # The metadata sheet first; the document properties stand in when a unit (or a
    # conversion) lost the very hidden sheet.
    ev = _Evidence(meta=_match_unit(meta.get("unit") or props.get("unit", ""), names),
                   label=_match_unit(written[0], names) if written[0] else "",
                   name=_match_unit(Path(file).stem, names), written=written[0])
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
    # Period and plan: the metadata sheet, else the document properties, else the title.
    title = _title_period(form)
    if meta.get("period"):
        found, at = _period_text(meta["period"]), {"sheet": layout.META_SHEET}
    elif props.get("period"):
        found, at = _period_text(props["period"]), {}
    elif title:
        found, at = title[0], {"sheet": sheet, "cell": a1(title[1], title[2])}
    else:
        found, at = "", {}
    if found and found != str(period):
        return refuse(problem("form-wrong-period", file=file, unit=unit, **at, found=found,
                              period=str(period)))
    fingerprint = meta.get("fingerprint") or props.get("fingerprint")
    if fingerprint and fingerprint != _facts(plan).fingerprint:
        at = {"sheet": layout.META_SHEET} if meta.get("fingerprint") else {}
        return refuse(problem("form-wrong-plan", file=file, unit=unit, **at))
    if not unit:
        where = {k: at_unit[k] for k in ("file", "sheet", "cell")}
        if written[0]:
            return refuse(problem("form-unknown-unit", **where, name=written[0]))
        return refuse(problem("form-unidentified", **where))
    missing = [k for k in REQUIRED_COLUMNS if k not in cols]
    if missing:
        header = next(c.header for c in layout.COLUMNS if c.key == missing[0])
        return refuse(problem("form-missing-column", file=file, sheet=sheet, unit=unit,
                              row=form.header + 1, column=header))
    form_nos = {no for _r, _cells, no in task_rows if no is not None}
    first: list[Problem] = _conflicts(ev, unit, how, file, at_unit, form_nos, plan)
    if not found:
        first.append(problem("form-period-unknown", file=file, sheet=sheet, unit=unit,
                             period=str(period)))
    return validate(base, form, rows, labels, plan, previous, first)


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


# A worker's share of the job, set once per worker process: pickling the plan (a city's
# registry) and last month's notes with every file would cost more than reading the file.
_WORKER: dict[str, Any] = {}


def _init_worker(plan: Plan, period: Period, notes: Mapping[tuple[int, str], str]) -> None:
    _WORKER.update(plan=plan, period=period, notes=notes)


def _read_in_worker(path: Path) -> FileResult:
    """Top-level so a worker process can run it."""
    return read_file(path, _WORKER["plan"], _WORKER["period"], _WORKER["notes"])


def read_returns(plan: Plan, period: Period, folder: Path, *,
                 previous_notes: Mapping[tuple[int, str], str] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 workers: int | None = None) -> Returns:
    """Read every returned form in `folder` into entries, submissions, problems and counts."""
    import os

    files, skipped, found = _listing(folder)
    notes = dict(previous_notes or {})
    results: list[FileResult] = []
    workers = workers or os.cpu_count() or 1
    if len(files) > PARALLEL_FROM and workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        # Results come back in file order (map keeps it), so output is deterministic.
        chunk = max(1, min(64, len(files) // (workers * 8)))
        try:
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                     initargs=(plan, period, notes)) as pool:
                for i, res in enumerate(pool.map(_read_in_worker, files, chunksize=chunk),
                                        start=1):
                    results.append(res)
                    if progress:
                        progress(i, len(files))
        except (OSError, BrokenProcessPool):  # no processes allowed here: read in this one
            results = []
    if len(results) < len(files):
        results = []
        for i, path in enumerate(files, start=1):
            results.append(read_file(path, plan, period, notes))
            if progress:
                progress(i, len(files))
    results = _resolve_duplicates(results)
    return _assemble(period, results, skipped, found)


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
            res = replace(res, entries=(), rows_rejected=res.rows_read, problems=(
                problem("form-duplicate" if newer else "form-duplicate-tie", file=res.file,
                        unit=res.unit, kept=kept),))
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
            errors=sum(p.is_error for p in res.problems),
            warnings=sum(not p.is_error for p in res.problems), identified_by=res.identified_by))
    return Returns(period=period, entries=tuple(entries), submissions=tuple(submissions),
                   problems=tuple(problems),
                   files=FileCounts(found=found, read=files_read, refused=files_refused,
                                    skipped=len(skipped)),
                   rows=RowCounts(read=read, merged=merged, rejected=rejected),
                   skipped_files=tuple(skipped))
