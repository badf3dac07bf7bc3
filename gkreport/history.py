"""The history store: every consolidated period in `output/history.sqlite` (stdlib sqlite3).

Per period: the plan version it was consolidated with (its content, keyed by fingerprint),
its submissions, task × unit entries (carried ones marked), task and unit results,
problems and skipped files: enough to re-render the period without its forms or its plan
file. Beside them, append-only, the submission ledger of every file `check` or
`consolidate` ever saw, and each period's due date as `forms` set it.

Journal: the classic rollback journal (journal_mode=DELETE, synchronous=FULL), not WAL.
The office keeps workspaces on shared folders and USB sticks; WAL needs shared memory
that network file systems do not provide, and leaves -wal/-shm files beside the database
that users copy or delete separately. Writes happen once a month, so WAL's concurrent
readers buy nothing. A process killed mid-write leaves a hot journal that the next
connection rolls back, so the previous state comes back intact.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from gkreport.core.model import (
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    task_key,
)
from gkreport.core.problems import GkreportError, Problem, Severity, problem
from gkreport.core.report import FileRecord, Outcome, Report
from gkreport.paths import HISTORY_FILE, Paths

SCHEMA_VERSION = 2
APPLICATION_ID = 0x676B7270  # "gkrp": tells our database from any other SQLite file
BUSY_SECONDS = 30.0  # a second writer waits this long for the first instead of failing
# Problems consolidate itself derives from the history: a stored period's returns leave
# them out, so re-consolidating it derives them once again, not twice.
DERIVED_CODES = frozenset({"status-reverted"})

# Columns of the tables holding a dataclass: its fields, in order (so they cannot drift).
ENTRY_FIELDS = tuple(f.name for f in fields(Entry))
SUBMISSION_FIELDS = tuple(f.name for f in fields(Submission))
PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))
assert ENTRY_FIELDS[-1] == "carried_from"  # stored as text, after the others

_SCHEMA = """
CREATE TABLE plans (
    fingerprint TEXT PRIMARY KEY, plan_year INTEGER NOT NULL, title TEXT NOT NULL,
    content TEXT NOT NULL              -- Plan.to_record() as JSON
);
CREATE TABLE periods (
    period TEXT PRIMARY KEY,           -- YYYY-MM
    plan_fingerprint TEXT NOT NULL,
    plan_year INTEGER NOT NULL,
    plan_title TEXT NOT NULL,
    plan_source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,         -- derived from the period, for reproducibility
    previous_period TEXT,
    due TEXT,
    files_found INTEGER NOT NULL, files_read INTEGER NOT NULL,
    files_refused INTEGER NOT NULL, files_skipped INTEGER NOT NULL,
    rows_read INTEGER NOT NULL, rows_merged INTEGER NOT NULL, rows_rejected INTEGER NOT NULL,
    rows_carried INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE submissions (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    file TEXT NOT NULL, unit TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    read_at TEXT NOT NULL, filled_by TEXT NOT NULL, phone TEXT NOT NULL,
    fill_date TEXT NOT NULL, accepted INTEGER NOT NULL, superseded INTEGER NOT NULL,
    rows_read INTEGER NOT NULL, rows_rejected INTEGER NOT NULL, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL, identified_by TEXT NOT NULL,
    lacking TEXT NOT NULL DEFAULT '', old_plan INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, seq)
);
CREATE TABLE entries (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    task_no INTEGER NOT NULL, unit TEXT NOT NULL, status TEXT NOT NULL,
    raw_status TEXT NOT NULL, progress REAL, note TEXT NOT NULL, issues TEXT NOT NULL,
    next_steps TEXT NOT NULL, file TEXT NOT NULL, sheet TEXT NOT NULL, row INTEGER NOT NULL,
    cell TEXT NOT NULL, task_text TEXT NOT NULL,
    carried_from TEXT,                 -- 沿用上期: the period the report was made in
    task_key TEXT NOT NULL DEFAULT '', -- Task.key: the task across plan versions
    PRIMARY KEY (period, task_no, unit)
);
CREATE TABLE task_results (
    period TEXT NOT NULL, task_no INTEGER NOT NULL,
    category TEXT NOT NULL, task_text TEXT NOT NULL, deadline TEXT NOT NULL,
    status TEXT NOT NULL, overdue INTEGER NOT NULL, colour TEXT NOT NULL,
    expected INTEGER NOT NULL, reported INTEGER NOT NULL, done INTEGER NOT NULL,
    behind INTEGER NOT NULL, missing INTEGER NOT NULL, avg_progress REAL,
    missing_units TEXT NOT NULL, previous_status TEXT, change TEXT NOT NULL,
    task_key TEXT NOT NULL DEFAULT '', carried INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, task_no)
);
CREATE TABLE unit_results (
    period TEXT NOT NULL, seq INTEGER NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL,
    file TEXT NOT NULL, tasks INTEGER NOT NULL, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    received TEXT, late_days INTEGER, rounds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, seq)
);
CREATE TABLE problems (
    period TEXT NOT NULL, seq INTEGER NOT NULL,
    code TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, fix TEXT NOT NULL,
    file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL, row INTEGER,
    unit TEXT NOT NULL, task_no INTEGER,
    PRIMARY KEY (period, seq)
);
CREATE TABLE skipped_files (
    period TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (period, seq)
);
CREATE TABLE ledger (                  -- append-only: rows are never updated nor deleted
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    received TEXT NOT NULL,            -- the file's modification time when first seen
    unit TEXT NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    seen_at TEXT NOT NULL              -- when this state of the file was seen (the clock)
);
CREATE INDEX ledger_file ON ledger (period, name, sha256);
CREATE TABLE period_settings (
    period TEXT PRIMARY KEY, due TEXT NOT NULL, set_at TEXT NOT NULL
);
"""
# Version 1 (before plan versions and the ledger) to 2, in place.
_MIGRATE_1 = """
CREATE TABLE plans (
    fingerprint TEXT PRIMARY KEY, plan_year INTEGER NOT NULL, title TEXT NOT NULL,
    content TEXT NOT NULL
);
ALTER TABLE submissions ADD COLUMN lacking TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN old_plan INTEGER NOT NULL DEFAULT 0;
ALTER TABLE problems ADD COLUMN task_no INTEGER;
ALTER TABLE periods ADD COLUMN due TEXT;
ALTER TABLE periods ADD COLUMN rows_carried INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN carried_from TEXT;
ALTER TABLE entries ADD COLUMN task_key TEXT NOT NULL DEFAULT '';
ALTER TABLE task_results ADD COLUMN task_key TEXT NOT NULL DEFAULT '';
ALTER TABLE task_results ADD COLUMN carried INTEGER NOT NULL DEFAULT 0;
ALTER TABLE unit_results ADD COLUMN received TEXT;
ALTER TABLE unit_results ADD COLUMN late_days INTEGER;
ALTER TABLE unit_results ADD COLUMN rounds INTEGER NOT NULL DEFAULT 0;
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    received TEXT NOT NULL, unit TEXT NOT NULL, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL, outcome TEXT NOT NULL, seen_at TEXT NOT NULL
);
CREATE INDEX ledger_file ON ledger (period, name, sha256);
CREATE TABLE period_settings (
    period TEXT PRIMARY KEY, due TEXT NOT NULL, set_at TEXT NOT NULL
);
"""
PERIOD_TABLES = ("periods", "submissions", "entries", "task_results", "unit_results",
                 "problems", "skipped_files")
TABLES = ("plans", *PERIOD_TABLES, "ledger", "period_settings")


def history_path(workspace: Path) -> Path:
    """Where a workspace keeps its history: output/history.sqlite."""
    return Paths(Path(workspace)).history


def _insert(con: sqlite3.Connection, table: str, columns: Sequence[str],
            rows: Iterable[Sequence[Any]]) -> None:
    # One statement per table: the single place rows reach the database (tests inject here).
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    con.executemany(sql, rows)


def _period(text: str | None) -> Period | None:
    return Period.parse(text) if text else None


def _entry(row: sqlite3.Row) -> Entry:
    values = {f: row[f] for f in ENTRY_FIELDS}
    values["status"] = Status(values["status"])
    values["carried_from"] = _period(values["carried_from"])
    return Entry(**values)


_FLAGS = ("accepted", "superseded", "old_plan")


def _submission(row: sqlite3.Row) -> Submission:
    values = {f: bool(row[f]) if f in _FLAGS else row[f] for f in SUBMISSION_FIELDS}
    values["lacking"] = tuple(int(n) for n in row["lacking"].split()) if row["lacking"] else ()
    return Submission(**values)


def _submission_row(s: Submission) -> tuple[Any, ...]:
    return tuple(" ".join(map(str, s.lacking)) if f == "lacking" else getattr(s, f)
                 for f in SUBMISSION_FIELDS)


@dataclass(frozen=True, slots=True)
class YearRows:
    """What the history holds of a plan year before a period, as stored (units by the name
    they had then; `gkreport.year` maps them onto the current plan)."""

    periods: tuple[tuple[Period, str], ...]  # (period, plan fingerprint), oldest first
    tasks: tuple[tuple[Period, str, int, str, str, Status], ...]  # period, key, no, cat, text
    latest: tuple[tuple[str, str, Period, Entry], ...]  # key, unit, period: latest report


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
            if "full" in str(exc):  # SQLITE_FULL: the write rolled back, the history is sound
                raise GkreportError(problem("disk-full", file=str(self.path),
                                            path=str(self.path.parent))) from exc
            raise self._fail("history-unreadable", detail=str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise self._fail("history-unreadable", detail=str(exc)) from exc
        except (ValueError, KeyError, TypeError) as exc:  # a value no gkreport wrote
            raise self._fail("history-bad-value", detail=f"{type(exc).__name__}: {exc}") from exc
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on a current schema (created or upgraded in it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode = DELETE")
            con.execute("PRAGMA synchronous = FULL")
            # IMMEDIATE takes the write lock up front: a second writer waits (busy_timeout)
            # here, before reading anything, instead of failing at its first write.
            con.execute("BEGIN IMMEDIATE")
            try:
                self._upgrade(con, self._version(con))
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
                    con.execute("ROLLBACK")
                raise

    def _upgrade(self, con: sqlite3.Connection, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        # not executescript(): it would COMMIT our transaction first
        for stmt in (_SCHEMA if version == 0 else _MIGRATE_1).split(";"):
            if stmt.strip():
                con.execute(stmt)
        if version == 1:
            _fill_task_keys(con)
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A consistent snapshot for reading, or None when there is no history yet. A
        history an older gkreport wrote is upgraded first, once."""
        if not self.path.exists():
            yield None
            return
        for _attempt in range(2):
            with self._connect() as con:
                con.execute("BEGIN")
                try:
                    version = self._version(con)
                    if not 0 < version < SCHEMA_VERSION:
                        yield con if version else None
                        return
                finally:
                    con.execute("ROLLBACK")
            with self._write():  # upgrades it
                pass

    # ------------------------------------------------------------------------- reads

    def periods(self, *, year: int | None = None) -> list[Period]:
        """Consolidated periods, oldest first (of plan `year` when given)."""
        with self._read() as con:
            if con is None:
                return []
            rows = con.execute("SELECT period FROM periods WHERE ? IS NULL OR plan_year = ? "
                               "ORDER BY period", (year, year))
            return [Period.parse(r[0]) for r in rows]

    def latest_year(self) -> int | None:
        """The plan year of the latest consolidated period (None: nothing consolidated)."""
        with self._read() as con:
            row = con.execute("SELECT plan_year FROM periods ORDER BY period DESC LIMIT 1"
                              ).fetchone() if con is not None else None
        return int(row[0]) if row else None

    def fingerprint(self, period: Period) -> str | None:
        """The fingerprint of the plan a stored period was consolidated with, or None."""
        with self._read() as con:
            row = con.execute("SELECT plan_fingerprint FROM periods WHERE period = ?",
                              (str(period),)).fetchone() if con is not None else None
            return row[0] if row else None

    def plan(self, fingerprint: str) -> Plan | None:
        """A plan version the history keeps, by its fingerprint."""
        with self._read() as con:
            row = con.execute("SELECT content FROM plans WHERE fingerprint = ?",
                              (fingerprint,)).fetchone() if con is not None else None
        return Plan.from_record(json.loads(row[0])) if row else None

    def plan_of(self, period: Period) -> Plan | None:
        """The plan version a stored period was consolidated with (None: not stored)."""
        fingerprint = self.fingerprint(period)
        return self.plan(fingerprint) if fingerprint else None

    def versions(self, year: int) -> dict[Period, str]:
        """period -> plan fingerprint, for the consolidated periods of a year."""
        with self._read() as con:
            if con is None:
                return {}
            rows = con.execute("SELECT period, plan_fingerprint FROM periods WHERE plan_year = ?"
                               " ORDER BY period", (year,))
            return {Period.parse(p): fp for p, fp in rows}

    def due(self, period: Period) -> date | None:
        """The due date `forms --due` set for a period (or the one it was consolidated with)."""
        with self._read() as con:
            if con is None:
                return None
            row = con.execute("SELECT due FROM period_settings WHERE period = ?",
                              (str(period),)).fetchone() or con.execute(
                "SELECT due FROM periods WHERE period = ?", (str(period),)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def year_rows(self, year: int, before: Period) -> YearRows:
        """The plan year's consolidated periods before `before`, read in one snapshot."""
        end = str(before)
        with self._read() as con:
            if con is None:
                return YearRows((), (), ())
            periods = tuple((Period.parse(p), fp) for p, fp in con.execute(
                "SELECT period, plan_fingerprint FROM periods WHERE plan_year = ? AND period < ?"
                " ORDER BY period", (year, end)))
            tasks = tuple((Period.parse(p), key, no, cat, text, Status(st)) for
                          p, key, no, cat, text, st in con.execute(
                "SELECT t.period, t.task_key, t.task_no, t.category, t.task_text, t.status "
                "FROM task_results t JOIN periods p ON p.period = t.period "
                "WHERE p.plan_year = ? AND t.period < ? ORDER BY t.period, t.task_no",
                (year, end)))
            # Each unit's latest own report per task (carried ones are copies of older ones).
            latest = tuple((r["task_key"], r["unit"], Period.parse(r["period"]), _entry(r))
                           for r in con.execute(
                "SELECT * FROM (SELECT e.*, row_number() OVER (PARTITION BY e.task_key, e.unit "
                "ORDER BY e.period DESC) AS n FROM entries e JOIN periods p ON p.period = "
                "e.period WHERE p.plan_year = ? AND e.period < ? AND e.carried_from IS NULL "
                "AND e.status != ?) WHERE n = 1", (year, end, Status.UNVERIFIED.value)))
        return YearRows(periods, tasks, latest)

    def load_returns(self, period: Period) -> Returns:
        """Rebuild a stored period's Returns, so its outputs render without the forms."""
        p = str(period)
        with self._read() as con:
            head = con.execute("SELECT * FROM periods WHERE period = ?", (p,)).fetchone() \
                if con is not None else None
            if con is None or head is None:
                raise GkreportError(problem("history-missing-period", period=p))
            entries = tuple(_entry(r) for r in con.execute(
                "SELECT * FROM entries WHERE period = ? AND carried_from IS NULL ORDER BY seq",
                (p,)))
            submissions = tuple(_submission(r) for r in con.execute(
                "SELECT * FROM submissions WHERE period = ? ORDER BY seq", (p,)))
            problems = tuple(
                Problem(**{f: Severity(r[f]) if f == "severity" else r[f]
                           for f in PROBLEM_FIELDS})
                for r in con.execute("SELECT * FROM problems WHERE period = ? ORDER BY seq",
                                     (p,)) if r["code"] not in DERIVED_CODES)
            skipped = tuple(r[0] for r in con.execute(
                "SELECT name FROM skipped_files WHERE period = ? ORDER BY seq", (p,)))
        return Returns(
            period=period, entries=entries, submissions=submissions, problems=problems,
            files=FileCounts(head["files_found"], head["files_read"], head["files_refused"],
                             head["files_skipped"]),
            rows=RowCounts(head["rows_read"], head["rows_merged"], head["rows_rejected"]),
            skipped_files=skipped)

    def ledger(self, period: Period) -> list[FileRecord]:
        """Every file seen for a period, in the order first seen, in its latest state: the
        received time is its modification time when first seen, or the receipt register's."""
        rows = self.query(
            "SELECT l.* FROM ledger l JOIN (SELECT min(id) AS first, max(id) AS last "
            "FROM ledger WHERE period = ? GROUP BY name, sha256) f ON l.id = f.last "
            "ORDER BY f.first", (str(period),))
        return [FileRecord(period=period, name=r["name"], sha256=r["sha256"], size=r["size"],
                           received=datetime.fromisoformat(r["received"]),
                           unit=r["unit"], errors=r["errors"], warnings=r["warnings"],
                           outcome=Outcome(r["outcome"])) for r in rows]

    def unit_year(self, year: int) -> list[tuple[Period, str, str, int | None, int]]:
        """(period, unit, state, late days, return rounds) of every consolidated period of a
        plan year: each unit's record, for reminders (督办) and reviews."""
        rows = self.query(
            "SELECT u.period, u.unit, u.state, u.late_days, u.rounds FROM unit_results u "
            "JOIN periods p ON p.period = u.period WHERE p.plan_year = ? "
            "ORDER BY u.period, u.seq", (year,))
        return [(Period.parse(p), unit, state, late, rounds)
                for p, unit, state, late, rounds in rows]

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query on a consistent snapshot (for the analysts' frames)."""
        with self._read() as con:
            return [] if con is None else con.execute(sql, args).fetchall()

    def snapshot(self, queries: Mapping[str, tuple[str, Sequence[Any]]],
                 ) -> dict[str, list[tuple[Any, ...]]]:
        """Plain rows (tuples, in the queries' column order) of several read-only queries, all
        on one snapshot: frames of one year read together agree with each other even while
        a period is being consolidated. No history yet: no rows."""
        with self._read() as con:
            if con is None:
                return {name: [] for name in queries}
            out = {}
            for name, (sql, args) in queries.items():
                cursor = con.cursor()
                cursor.row_factory = None  # tuples: a year of a city is 100,000s of rows
                out[name] = cursor.execute(sql, args).fetchall()
            return out

    # ------------------------------------------------------------------------ write

    def set_due(self, period: Period, due: date) -> None:
        """Remember the due date `forms` printed for a period."""
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO period_settings (period, due, set_at) "
                        "VALUES (?, ?, ?)", (str(period), due.isoformat(),
                                             datetime.now().isoformat(timespec="seconds")))

    def record_files(self, records: Sequence[FileRecord]) -> None:
        """Add what changed to the submission ledger (`check` sees a period's files)."""
        with self._write() as con:
            _append_ledger(con, records)

    def record(self, report: Report) -> None:
        """Store a consolidated period (replacing any earlier copy), its plan version and its
        files, in one transaction.

        recorded_at is the period's last day, not the clock, so re-running a period stores
        identical rows. Any exception (or a killed process) leaves the previous state.
        """
        with self.recording(report):
            pass

    @contextmanager
    def recording(self, report: Report) -> Iterator[None]:
        """`record`, committed only when the block ends without an exception: the caller
        finishes its outputs inside, while the period's rows wait in the open transaction."""
        try:
            with self._write() as con:
                _replace_period(con, report)
                _append_ledger(con, report.ledger)
                try:
                    yield
                except BaseException as exc:  # the caller's: rolled back, not translated
                    raise _Passthrough(exc) from exc
        except _Passthrough as passed:
            raise passed.error from None


class _Passthrough(BaseException):
    """Carries a caller's exception through the history's own error translation."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def _fill_task_keys(con: sqlite3.Connection) -> None:
    """Task keys for periods an older gkreport stored (from the task texts it kept)."""
    for table in ("entries", "task_results"):
        texts = [r[0] for r in con.execute(f"SELECT DISTINCT task_text FROM {table}")]
        con.executemany(f"UPDATE {table} SET task_key = ? WHERE task_text = ?",
                        [(task_key(text), text) for text in texts])


def _append_ledger(con: sqlite3.Connection, records: Sequence[FileRecord]) -> None:
    """Append a row for each file not seen before, or seen in another state (unit, counts,
    outcome, or a received time a receipt register set later); the ledger's rows are never
    changed, so re-running a period adds nothing."""
    now = datetime.now().isoformat(timespec="seconds")
    periods = sorted({str(f.period) for f in records})
    marks = ",".join("?" * len(periods))
    latest = {(r["period"], r["name"], r["sha256"]): tuple(r)[1:] for r in con.execute(
        "SELECT l.id, l.unit, l.errors, l.warnings, l.outcome, l.received, l.period, l.name, "
        "l.sha256 FROM ledger l JOIN (SELECT max(id) AS last FROM ledger "
        f"WHERE period IN ({marks}) GROUP BY period, name, sha256) m ON l.id = m.last",
        periods)}
    rows = []
    for f in records:
        received = f.received.isoformat(timespec="seconds")
        state = (f.unit, f.errors, f.warnings, f.outcome.value)
        seen = latest.get((str(f.period), f.name, f.sha256))
        if seen is None or tuple(seen[:5]) != (*state, received):
            rows.append((str(f.period), f.name, f.sha256, f.size, received, *state, now))
    _insert(con, "ledger", ("period", "name", "sha256", "size", "received", "unit", "errors",
                            "warnings", "outcome", "seen_at"), rows)


def _replace_period(con: sqlite3.Connection, report: Report) -> None:
    p = str(report.period)
    for table in PERIOD_TABLES:
        con.execute(f"DELETE FROM {table} WHERE period = ?", (p,))
    plan, f, r = report.plan, report.files, report.rows
    con.execute("INSERT OR IGNORE INTO plans (fingerprint, plan_year, title, content) "
                "VALUES (?, ?, ?, ?)", (plan.fingerprint, plan.year, plan.title,
                                        json.dumps(plan.to_record(), ensure_ascii=False)))
    _insert(con, "periods",
            ("period", "plan_fingerprint", "plan_year", "plan_title", "plan_source",
             "recorded_at", "previous_period", "due", "files_found", "files_read",
             "files_refused", "files_skipped", "rows_read", "rows_merged", "rows_rejected",
             "rows_carried"),
            [(p, plan.fingerprint, plan.year, plan.title, plan.source,
              report.period.end.isoformat(),
              str(report.previous_period) if report.previous_period else None,
              report.due.isoformat() if report.due else None, f.found, f.read, f.refused,
              f.skipped, r.read, r.merged, r.rejected, r.carried)])
    _insert(con, "submissions", ("period", "seq", *SUBMISSION_FIELDS),
            [(p, i, *_submission_row(s)) for i, s in enumerate(report.submissions)])
    get = attrgetter(*ENTRY_FIELDS)  # in C: a city's month has 100,000s of entries
    keys = {t.task.no: t.task.key for t in report.tasks}
    _insert(con, "entries", ("period", "seq", *ENTRY_FIELDS, "task_key"),
            [(p, i, *get(e)[:-1], str(e.carried_from) if e.carried_from else None,
              keys.get(e.task_no, "")) for i, e in enumerate(report.entries)])
    _insert(con, "task_results",
            ("period", "task_no", "category", "task_text", "deadline", "status", "overdue",
             "colour", "expected", "reported", "done", "behind", "missing", "avg_progress",
             "missing_units", "previous_status", "change", "task_key", "carried"),
            [(p, t.task.no, t.task.category, t.task.text, t.task.deadline.label(),
              t.status.value, t.overdue, t.colour.value, t.expected, t.reported, t.done,
              t.behind, t.missing, t.avg_progress, "、".join(t.missing_units),
              t.previous_status.value if t.previous_status else None, t.change, t.task.key,
              len(t.carried_units)) for t in report.tasks])
    _insert(con, "unit_results",
            ("period", "seq", "unit", "state", "file", "tasks", "errors", "warnings",
             "received", "late_days", "rounds"),
            [(p, i, u.unit.name, u.state.value, u.file, u.tasks, u.errors, u.warnings,
              u.received.isoformat(timespec="seconds") if u.received else None,
              u.late_days, u.rounds) for i, u in enumerate(report.units)])
    get = attrgetter(*PROBLEM_FIELDS)
    _insert(con, "problems", ("period", "seq", *PROBLEM_FIELDS),
            [(p, i, *get(x)) for i, x in enumerate(report.problems)])
    _insert(con, "skipped_files", ("period", "seq", "name"),
            [(p, i, name) for i, name in enumerate(report.skipped_files)])


__all__ = ["History", "YearRows", "history_path", "HISTORY_FILE", "SCHEMA_VERSION"]
