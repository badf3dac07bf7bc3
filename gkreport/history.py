"""The history store: every consolidated period in `output/history.sqlite` (stdlib sqlite3).

One row per period plus its submissions, task × unit entries, task and unit results,
problems and skipped files: enough to rebuild the period's `Returns` without re-reading
forms, so `consolidate(plan, h.load_returns(p), p, history=h)` equals the original Report.

Journal: the classic rollback journal (journal_mode=DELETE, synchronous=FULL), not WAL.
The office keeps workspaces on shared folders and USB sticks; WAL needs shared memory
that network file systems do not provide, and leaves -wal/-shm files beside the database
that users copy or delete separately. Writes happen once a month, so WAL's concurrent
readers buy nothing. A process killed mid-write leaves a hot journal that the next
connection rolls back, so the previous state comes back intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gkreport.core.model import (
    Entry,
    FileCounts,
    Period,
    Returns,
    RowCounts,
    Status,
    Submission,
)
from gkreport.core.problems import GkreportError, Problem, Severity, problem

if TYPE_CHECKING:
    from gkreport.core.model import Report

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 1
APPLICATION_ID = 0x676B7270  # "gkrp": tells our database from any other SQLite file
BUSY_SECONDS = 30.0  # a second writer waits this long for the first instead of failing

# Columns per table, in insert order; the model dataclasses map onto these one to one.
ENTRY_FIELDS = ("task_no", "unit", "status", "raw_status", "progress", "note", "issues",
                "next_steps", "file", "sheet", "row", "cell", "task_text")
SUBMISSION_FIELDS = ("file", "unit", "sha256", "size", "read_at", "filled_by", "phone",
                     "fill_date", "accepted", "superseded", "rows_read", "rows_rejected",
                     "errors", "warnings", "identified_by")
PROBLEM_FIELDS = ("code", "severity", "message", "fix", "file", "sheet", "cell", "row", "unit")

_SCHEMA = """
CREATE TABLE periods (
    period TEXT PRIMARY KEY,           -- YYYY-MM
    plan_fingerprint TEXT NOT NULL,
    plan_year INTEGER NOT NULL,
    plan_title TEXT NOT NULL,
    plan_source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,         -- derived from the period, for reproducibility
    previous_period TEXT,
    files_found INTEGER NOT NULL, files_read INTEGER NOT NULL,
    files_refused INTEGER NOT NULL, files_skipped INTEGER NOT NULL,
    rows_read INTEGER NOT NULL, rows_merged INTEGER NOT NULL, rows_rejected INTEGER NOT NULL
);
CREATE TABLE submissions (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    file TEXT NOT NULL, unit TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    read_at TEXT NOT NULL, filled_by TEXT NOT NULL, phone TEXT NOT NULL,
    fill_date TEXT NOT NULL, accepted INTEGER NOT NULL, superseded INTEGER NOT NULL,
    rows_read INTEGER NOT NULL, rows_rejected INTEGER NOT NULL, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL, identified_by TEXT NOT NULL,
    PRIMARY KEY (period, seq)
);
CREATE TABLE entries (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    task_no INTEGER NOT NULL, unit TEXT NOT NULL, status TEXT NOT NULL,
    raw_status TEXT NOT NULL, progress REAL, note TEXT NOT NULL, issues TEXT NOT NULL,
    next_steps TEXT NOT NULL, file TEXT NOT NULL, sheet TEXT NOT NULL, row INTEGER NOT NULL,
    cell TEXT NOT NULL, task_text TEXT NOT NULL,
    PRIMARY KEY (period, task_no, unit)
);
CREATE TABLE task_results (
    period TEXT NOT NULL, task_no INTEGER NOT NULL,
    category TEXT NOT NULL, task_text TEXT NOT NULL, deadline TEXT NOT NULL,
    status TEXT NOT NULL, overdue INTEGER NOT NULL, colour TEXT NOT NULL,
    expected INTEGER NOT NULL, reported INTEGER NOT NULL, done INTEGER NOT NULL,
    behind INTEGER NOT NULL, missing INTEGER NOT NULL, avg_progress REAL,
    missing_units TEXT NOT NULL, previous_status TEXT, change TEXT NOT NULL,
    PRIMARY KEY (period, task_no)
);
CREATE TABLE unit_results (
    period TEXT NOT NULL, seq INTEGER NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL,
    file TEXT NOT NULL, tasks INTEGER NOT NULL, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    PRIMARY KEY (period, seq)
);
CREATE TABLE problems (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    code TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, fix TEXT NOT NULL,
    file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL, row INTEGER,
    unit TEXT NOT NULL,
    PRIMARY KEY (period, seq)
);
CREATE TABLE skipped_files (
    period TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (period, seq)
);
"""
TABLES = ("periods", "submissions", "entries", "task_results", "unit_results", "problems",
          "skipped_files")


def history_path(workspace: Path) -> Path:
    """Where a workspace keeps its history: output/history.sqlite."""
    return Path(workspace) / "output" / HISTORY_FILE


def _insert(con: sqlite3.Connection, table: str, columns: Sequence[str],
            rows: Sequence[Sequence[Any]]) -> None:
    # One statement per table: the single place rows reach the database (tests inject here).
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    con.executemany(sql, rows)


def _filter(year: int | None, fingerprint: str | None, table: str = ""
            ) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (or "") and its arguments selecting periods by plan year / fingerprint."""
    parts, args = [], []
    if year:
        parts.append(f"{table}plan_year = ?")
        args.append(year)
    if fingerprint:
        parts.append(f"{table}plan_fingerprint = ?")
        args.append(fingerprint)
    return (" WHERE " + " AND ".join(parts) if parts else ""), tuple(args)


def _entry(row: sqlite3.Row) -> Entry:
    values = {f: row[f] for f in ENTRY_FIELDS}
    values["status"] = Status(values["status"])
    return Entry(**values)


class History:
    """The sqlite history of consolidated periods; reads never create the file."""

    def __init__(self, path: Path | str, *, timeout: float = BUSY_SECONDS) -> None:
        self.path = Path(path)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    # ------------------------------------------------------------ connection handling

    def _fail(self, code: str, **values: object) -> GkreportError:
        return GkreportError(problem(code, file=self.path.name, path=str(self.path), **values))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection with sqlite errors turned into Chinese messages."""
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a write is exactly
            # one explicit transaction and nothing is committed behind our back.
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._fail("history-unreadable", detail=str(exc)) from exc
        con.row_factory = sqlite3.Row
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            yield con
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._fail("history-busy", seconds=int(self.timeout)) from exc
            raise self._fail("history-unreadable", detail=str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise self._fail("history-unreadable", detail=str(exc)) from exc
        finally:
            con.close()

    def _version(self, con: sqlite3.Connection) -> int:
        """The schema version, 0 for an empty database; refuse files that are not ours."""
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if app == 0 and version == 0:
            if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise self._fail("history-foreign")
            return 0
        if app != APPLICATION_ID:
            raise self._fail("history-foreign")
        if version > SCHEMA_VERSION:
            raise self._fail("history-newer", found=version, supported=SCHEMA_VERSION)
        return version

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A consistent snapshot for reading, or None when there is no history yet."""
        if not self.path.exists():
            yield None
            return
        with self._connect() as con:
            con.execute("BEGIN")
            try:
                yield con if self._version(con) else None
            finally:
                con.execute("ROLLBACK")

    # ------------------------------------------------------------------------- reads

    def periods(self, *, year: int | None = None, fingerprint: str | None = None,
                ) -> list[Period]:
        """Stored periods (YYYY-MM), oldest first; only those of plan `year` and consolidated
        against plan `fingerprint` when given."""
        where, args = _filter(year, fingerprint)
        with self._read() as con:
            if con is None:
                return []
            rows = con.execute(f"SELECT period FROM periods{where} ORDER BY period", args)
            return [Period.parse(r[0]) for r in rows]

    def previous(self, period: Period, *, year: int | None = None,
                 fingerprint: str | None = None) -> Period | None:
        """The latest stored period before `period` (of plan `year`, and of the same plan
        `fingerprint`, when given), or None."""
        earlier = [p for p in self.periods(year=year, fingerprint=fingerprint)
                   if p < period]
        return earlier[-1] if earlier else None

    def fingerprint(self, period: Period) -> str | None:
        """The plan fingerprint a stored period was consolidated against, or None."""
        with self._read() as con:
            if con is None:
                return None
            row = con.execute("SELECT plan_fingerprint FROM periods WHERE period = ?",
                              (str(period),)).fetchone()
            return row[0] if row else None

    def stored_statuses(self, *, year: int | None = None
                        ) -> dict[Period, tuple[str, dict[int, Status]]]:
        """period -> (plan fingerprint, task_no -> task status), in one snapshot."""
        where, args = _filter(year, None, table="p.")
        with self._read() as con:
            if con is None:
                return {}
            sql = ("SELECT t.period, p.plan_fingerprint, t.task_no, t.status FROM task_results t"
                   f" JOIN periods p ON p.period = t.period{where}"
                   " ORDER BY t.period, t.task_no")
            out: dict[Period, tuple[str, dict[int, Status]]] = {}
            for period, fingerprint, no, status in con.execute(sql, args):
                out.setdefault(Period.parse(period), (fingerprint, {}))[1][no] = Status(status)
            return out

    def entries(self, period: Period) -> dict[tuple[int, str], Entry]:
        """A stored period's entries by (task_no, unit); empty when not stored."""
        with self._read() as con:
            if con is None:
                return {}
            rows = con.execute("SELECT * FROM entries WHERE period = ? ORDER BY seq",
                               (str(period),))
            return {(r["task_no"], r["unit"]): _entry(r) for r in rows}

    def previous_entries(self, period: Period, *, year: int | None = None,
                         fingerprint: str | None = None
                         ) -> dict[tuple[int, str], tuple[str, str]]:
        """(task_no, unit) -> (status, note) of the latest stored period before `period`
        (of plan `year`, consolidated against plan `fingerprint`, when given).

        Pass the current plan's fingerprint: after a renumbered plan, task numbers of an
        older plan would attach its answers to other tasks.
        """
        prev = self.previous(period, year=year, fingerprint=fingerprint)
        if prev is None:
            return {}
        return {k: (e.status.value, e.note) for k, e in self.entries(prev).items()}

    def previous_notes(self, period: Period, *, year: int | None = None,
                       fingerprint: str | None = None) -> dict[tuple[int, str], str]:
        """(task_no, unit) -> 进展情况 of the same period previous_entries() uses."""
        return {k: note for k, (_, note) in
                self.previous_entries(period, year=year, fingerprint=fingerprint).items()}

    def load_returns(self, period: Period) -> Returns:
        """Rebuild a stored period's Returns, so its outputs render without the forms."""
        p = str(period)
        with self._read() as con:
            head = con.execute("SELECT * FROM periods WHERE period = ?", (p,)).fetchone() \
                if con is not None else None
            if con is None or head is None:
                raise GkreportError(problem("history-missing-period", period=p))
            entries = tuple(_entry(r) for r in con.execute(
                "SELECT * FROM entries WHERE period = ? ORDER BY seq", (p,)))
            submissions = tuple(
                Submission(**{f: bool(r[f]) if f in ("accepted", "superseded") else r[f]
                              for f in SUBMISSION_FIELDS})
                for r in con.execute("SELECT * FROM submissions WHERE period = ? ORDER BY seq",
                                     (p,)))
            problems = tuple(
                Problem(**{f: Severity(r[f]) if f == "severity" else r[f]
                           for f in PROBLEM_FIELDS})
                for r in con.execute("SELECT * FROM problems WHERE period = ? ORDER BY seq",
                                     (p,)))
            skipped = tuple(r[0] for r in con.execute(
                "SELECT name FROM skipped_files WHERE period = ? ORDER BY seq", (p,)))
        return Returns(
            period=period, entries=entries, submissions=submissions, problems=problems,
            files=FileCounts(head["files_found"], head["files_read"], head["files_refused"],
                             head["files_skipped"]),
            rows=RowCounts(head["rows_read"], head["rows_merged"], head["rows_rejected"]),
            skipped_files=skipped)

    # ------------------------------------------------------------------------ write

    def record(self, report: Report) -> None:
        """Store a consolidated period, replacing any earlier copy, in one transaction.

        recorded_at is the period's last day, not the clock, so re-running a period stores
        identical rows. Any exception (or a killed process) leaves the previous state.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode = DELETE")
            con.execute("PRAGMA synchronous = FULL")
            # IMMEDIATE takes the write lock up front: a second writer waits (busy_timeout)
            # here, before reading anything, instead of failing at its first write.
            con.execute("BEGIN IMMEDIATE")
            try:
                if self._version(con) == 0:
                    # not executescript(): it would COMMIT our transaction first
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            con.execute(stmt)
                    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._replace(con, report)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _replace(self, con: sqlite3.Connection, report: Report) -> None:
        p = str(report.period)
        for table in TABLES:
            con.execute(f"DELETE FROM {table} WHERE period = ?", (p,))
        plan, f, r = report.plan, report.files, report.rows
        _insert(con, "periods",
                ("period", "plan_fingerprint", "plan_year", "plan_title", "plan_source",
                 "recorded_at", "previous_period", "files_found", "files_read",
                 "files_refused", "files_skipped", "rows_read", "rows_merged", "rows_rejected"),
                [(p, plan.fingerprint, plan.year, plan.title, plan.source,
                  report.period.end.isoformat(),
                  str(report.previous_period) if report.previous_period else None, f.found, f.read,
                  f.refused, f.skipped, r.read, r.merged, r.rejected)])
        fields = attrgetter(*SUBMISSION_FIELDS)
        _insert(con, "submissions", ("period", "seq", *SUBMISSION_FIELDS),
                [(p, i, *fields(s)) for i, s in enumerate(report.submissions)])
        fields = attrgetter(*ENTRY_FIELDS)  # in C: a city's month has 100,000s of entries
        _insert(con, "entries", ("period", "seq", *ENTRY_FIELDS),
                [(p, i, *fields(e)) for i, e in enumerate(report.entries)])
        _insert(con, "task_results",
                ("period", "task_no", "category", "task_text", "deadline", "status", "overdue",
                 "colour", "expected", "reported", "done", "behind", "missing", "avg_progress",
                 "missing_units", "previous_status", "change"),
                [(p, t.task.no, t.task.category, t.task.text, t.task.deadline.label(),
                  t.status.value, t.overdue, t.colour.value, t.expected, t.reported, t.done,
                  t.behind, t.missing, t.avg_progress, "、".join(t.missing_units),
                  t.previous_status.value if t.previous_status else None, t.change)
                 for t in report.tasks])
        _insert(con, "unit_results",
                ("period", "seq", "unit", "state", "file", "tasks", "errors", "warnings"),
                [(p, i, u.unit.name, u.state.value, u.file, u.tasks, u.errors, u.warnings)
                 for i, u in enumerate(report.units)])
        fields = attrgetter(*PROBLEM_FIELDS)
        _insert(con, "problems", ("period", "seq", *PROBLEM_FIELDS),
                [(p, i, *fields(x)) for i, x in enumerate(report.problems)])
        _insert(con, "skipped_files", ("period", "seq", "name"),
                [(p, i, name) for i, name in enumerate(report.skipped_files)])


__all__ = ["History", "history_path", "HISTORY_FILE", "SCHEMA_VERSION"]
