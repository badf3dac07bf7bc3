"""The sqlite history store: round trip, atomic replace, crashes, concurrency, bad files."""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import gkreport.history as history_module
from gkreport.consolidate import consolidate
from gkreport.core.model import (
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
)
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.report import Report
from gkreport.history import SCHEMA_VERSION, History, YearRows, history_path
from gkreport.year import build_prior

from .factories import rebuild

ROOT = Path(__file__).resolve().parents[1]
MAY, JUNE = Period(2025, 5), Period(2025, 6)
STATUSES = (Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED, Status.UNVERIFIED)


def make_returns(plan: Plan, period: Period, *, skip: int = 3, shift: int = 0) -> Returns:
    """A realistic period on the bundled plan: most units report, some do not, some err."""
    units = plan.expected_units
    reporting = [u for i, u in enumerate(units) if i % 7 != skip]
    entries, subs, probs = [], [], []
    for i, unit in enumerate(reporting):
        file = f"{unit}（{period}）.xlsx"
        tasks = plan.tasks_for(unit)
        for j, task in enumerate(tasks):
            status = STATUSES[(i + j + shift) % len(STATUSES)]
            row = 6 + j
            entries.append(Entry(
                task_no=task.no, unit=unit, status=status,
                raw_status="差不多" if status is Status.UNVERIFIED else status.value,
                progress=None if j % 4 == 3 else round((i * 13 + j * 7 + shift) % 101 / 3, 4),
                note="=1+1 公式样文字\n第二行" if j == 0 else f"{unit}推进第{task.no}项",
                issues="经费未到位" if status is Status.BEHIND else "",
                next_steps="继续推进", file=file, sheet="填报表", row=row, cell=f"H{row}",
                task_text=task.text))
            if status is Status.UNVERIFIED:
                probs.append(problem("unknown-status", file=file, sheet="填报表", cell=f"H{row}",
                                     row=row, unit=unit, value="差不多"))
        subs.append(Submission(file=file, unit=unit, sha256=f"{i:064x}", size=10_000 + i,
                               read_at=f"{period}-28T10:{i % 60:02d}:00", filled_by="张三",
                               phone="021-1234", fill_date=f"{period}-27", rows_read=len(tasks),
                               errors=i % 2, warnings=1, identified_by="元数据"))
    subs.append(Submission(file="旧表.xlsx", unit=units[0], sha256="f" * 64, size=5,
                           read_at="", accepted=False, superseded=True))
    probs.append(problem("form-duplicate", file="旧表.xlsx", unit=units[0], kept="x.xlsx"))
    probs.append(problem("file-not-spreadsheet", file="说明.docx", detail="Word 文档"))
    n = len(entries)
    return Returns(period=str(period), entries=tuple(entries), submissions=tuple(subs),
                   problems=tuple(probs), files=FileCounts(len(subs) + 1, len(subs), 1, 2),
                   rows=RowCounts(n + 4, n, 4), skipped_files=("~$甲.xlsx", ".DS_Store"))


@pytest.fixture(scope="module")
def reports(plan: Plan) -> dict[str, Report]:
    """May and June consolidated without history, for recording."""
    return {str(p): consolidate(plan, make_returns(plan, p, skip=k, shift=k), p)
            for k, p in ((2, MAY), (3, JUNE))}


def row_counts(h: History) -> dict[str, int]:
    """Rows per table of the history (all zero when there is none)."""
    from gkreport.history import TABLES

    if not h.path.exists():
        return dict.fromkeys(TABLES, 0)
    con = sqlite3.connect(h.path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def db(tmp_path: Path) -> History:
    return History(history_path(tmp_path))


def snapshot(h: History) -> tuple:
    """Everything stored, as plain data."""
    con = sqlite3.connect(h.path)
    try:
        return tuple(con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                     for t in history_module.TABLES)
    finally:
        con.close()


# ---------------------------------------------------------------- basic reads and writes

def test_missing_history_reads_empty_and_creates_nothing(tmp_path, plan):
    h = db(tmp_path)
    assert h.periods() == [] and h.fingerprint(JUNE) is None and h.plan_of(JUNE) is None
    assert h.year_rows(2025, JUNE) == YearRows((), (), ())
    assert h.ledger(JUNE) == [] and h.due(JUNE) is None and h.unit_year(2025) == []
    assert set(row_counts(h).values()) == {0}
    assert not h.path.exists() and not h.path.parent.exists()
    with pytest.raises(GkreportError) as exc:
        h.load_returns(JUNE)
    assert exc.value.problems[0].code == "history-missing-period"


def test_record_twice_same_row_counts_and_schema(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    counts = row_counts(h)
    before = snapshot(h)
    h.record(reports["2025-06"])
    assert row_counts(h) == counts and snapshot(h) == before
    r = reports["2025-06"]
    assert counts == {"plans": 1, "periods": 1, "submissions": len(r.submissions),
                      "entries": len(r.entries), "task_results": 27, "unit_results": 56,
                      "problems": len(r.problems), "skipped_files": 2, "ledger": 0,
                      "period_settings": 0}
    con = sqlite3.connect(h.path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("SELECT recorded_at, plan_year FROM periods").fetchone() == (
        "2025-06-30", 2025)
    con.close()
    assert not Path(f"{h.path}-journal").exists()


def test_queries(tmp_path, plan, reports):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    h.record(reports["2025-05"])
    assert [str(p) for p in h.periods()] == ["2025-05", "2025-06"]
    assert h.periods(year=2024) == []
    assert h.fingerprint(MAY) == plan.fingerprint and h.plan_of(MAY) == plan
    assert h.versions(2025) == {MAY: plan.fingerprint, JUNE: plan.fingerprint}
    rows = h.year_rows(2025, Period(2025, 7))
    assert rows.periods == ((MAY, plan.fingerprint), (JUNE, plan.fingerprint))
    june = {(key, no, st) for p, key, no, _c, _t, st in rows.tasks if p == JUNE}
    assert june == {(t.task.key, t.task.no, t.status) for t in reports["2025-06"].tasks}
    # each unit's latest report per task: June's where it reported in June, else May's
    latest = {(unit, e.task_no): (p, e.status) for key, unit, p, e in rows.latest}
    expect = {}
    for period, r in ((MAY, reports["2025-05"]), (JUNE, reports["2025-06"])):
        for e in r.entries:
            if e.status is not Status.UNVERIFIED:
                expect[(e.unit, e.task_no)] = (period, e.status)
    assert latest == expect
    # before June: May only
    assert h.year_rows(2025, JUNE).periods == ((MAY, plan.fingerprint),)


def test_load_returns_round_trip_gives_an_equal_report(tmp_path, plan, reports):
    h = db(tmp_path)
    h.record(reports["2025-05"])
    june = consolidate(plan, make_returns(plan, JUNE, skip=3, shift=3), JUNE,
                       prior=build_prior(plan, h.year_rows(2025, JUNE)))
    assert june.previous_period == MAY and any(t.change for t in june.tasks)
    assert june.rows.carried > 0  # May's reports of June's missing units
    h.record(june)
    again = consolidate(plan, h.load_returns(JUNE), JUNE,
                        prior=build_prior(plan, h.year_rows(2025, JUNE)))
    assert again == june
    assert again.summary.to_json() == june.summary.to_json()
    stored = h.load_returns(MAY)
    assert stored.entries == reports["2025-05"].entries
    assert any(e.progress is None for e in stored.entries)
    assert "=1+1 公式样文字\n第二行" in {e.note for e in stored.entries}


@pytest.mark.parametrize(("cls", "table"), [
    (Entry, "entries"), (Submission, "submissions"), (Problem, "problems"),
])
def test_every_model_field_has_a_column(tmp_path, reports, cls, table):
    # the rows are written field by field: a field added to the model needs a column
    h = db(tmp_path)
    h.record(reports["2025-06"])
    con = sqlite3.connect(h.path)
    columns = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    con.close()
    assert {f.name for f in dataclasses.fields(cls)} <= columns


# ---------------------------------------------------------------- interrupted writes

def test_exception_inside_the_transaction_leaves_history_as_before(tmp_path, reports,
                                                                   monkeypatch):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    before = snapshot(h)
    real = history_module._insert

    def failing(con, table, columns, rows):
        real(con, table, columns, rows)
        if table == "problems":  # old rows deleted, most new rows written
            raise RuntimeError("disk full")

    monkeypatch.setattr(history_module, "_insert", failing)
    changed = dataclasses.replace(reports["2025-06"], entries=reports["2025-06"].entries[:3])
    with pytest.raises(RuntimeError):
        h.record(changed)
    with pytest.raises(RuntimeError):
        h.record(reports["2025-05"])  # a first recording of a period, too
    assert snapshot(h) == before and [str(p) for p in h.periods()] == ["2025-06"]
    monkeypatch.setattr(history_module, "_insert", real)
    h.record(changed)  # no lock left behind
    assert row_counts(h)["entries"] == 3


KILLER = """
import os, pickle, signal, sys
import gkreport.history as hm
report = pickle.loads(open(sys.argv[2], "rb").read())
real = hm._insert
def killer(con, table, columns, rows):
    real(con, table, columns, rows)
    if table == "problems":
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
hm._insert = killer
hm.History(sys.argv[1]).record(report)
print("not killed")
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_process_killed_inside_the_transaction_leaves_history_as_before(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    before = snapshot(h)
    pickled = tmp_path / "report.pickle"
    changed = dataclasses.replace(reports["2025-06"], entries=reports["2025-06"].entries[:3])
    pickled.write_bytes(pickle.dumps(changed))
    run = subprocess.run([sys.executable, "-c", KILLER, str(h.path), str(pickled)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert run.stdout.strip() == "killing"
    # it died mid-write: the rollback journal is still there (hot) until the next connection
    assert Path(f"{h.path}-journal").exists()
    assert [str(p) for p in h.periods()] == ["2025-06"]
    assert snapshot(h) == before
    con = sqlite3.connect(h.path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    h.record(changed)
    assert row_counts(h)["entries"] == 3


WRITER = """
import pickle, sys, time
from gkreport.history import History
start = float(sys.argv[2])
reports = [pickle.loads(open(p, "rb").read()) for p in sys.argv[3:]]
h = History(sys.argv[1])
while time.time() < start:  # both writers begin at the same moment
    time.sleep(0.005)
n = 0
while time.time() < start + 1.0 or n < 4:
    h.record(reports[n % len(reports)])
    n += 1
print("ok", n)
"""


def test_two_processes_recording_at_once_both_succeed(tmp_path, reports):
    h = db(tmp_path)
    files = []
    for name, report in reports.items():
        path = tmp_path / f"{name}.pickle"
        path.write_bytes(pickle.dumps(report))
        files.append(str(path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = str(time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(h.path), start, *order],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env)
             for order in (files, files[::-1])]
    # meanwhile a reader never sees half a period
    reads = 0
    while any(p.poll() is None for p in procs):
        for period in h.periods():
            assert h.load_returns(period).entries == reports[str(period)].entries
            reads += 1
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(o[0].startswith("ok") for o in outs)
    assert reads > 0
    con = sqlite3.connect(h.path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    assert [str(p) for p in h.periods()] == ["2025-05", "2025-06"]
    for name, report in reports.items():
        stored = h.load_returns(Period.parse(name))
        assert stored.entries == report.entries and stored.problems == report.problems


def test_a_writer_waits_for_another_then_succeeds(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-05"])
    blocker = sqlite3.connect(h.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.5, blocker.execute, ("COMMIT",))
    timer.start()
    start = time.monotonic()
    h.record(reports["2025-06"])
    assert time.monotonic() - start >= 0.4
    timer.join()
    blocker.close()
    assert [str(p) for p in h.periods()] == ["2025-05", "2025-06"]


def test_a_writer_that_waits_too_long_gets_a_clear_message(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-05"])
    blocker = sqlite3.connect(h.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(GkreportError) as exc:
            History(h.path, timeout=0.2).record(reports["2025-06"])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    p = exc.value.problems[0]
    assert p.code == "history-busy" and "正被另一个 gkreport 命令使用" in p.message
    assert [str(p) for p in h.periods()] == ["2025-05"]


# ---------------------------------------------------------------- bad files

def test_not_a_database_gives_a_chinese_error(tmp_path, reports):
    h = db(tmp_path)
    h.path.parent.mkdir(parents=True)
    h.path.write_bytes("这不是数据库\n".encode() * 200)
    for call in (h.periods, lambda: h.record(reports["2025-06"]),
                 lambda: h.load_returns("2025-06")):
        with pytest.raises(GkreportError) as exc:
            call()
        p = exc.value.problems[0]
        assert p.code == "history-unreadable"
        assert "已损坏或不是 SQLite 数据库" in p.message and "history.sqlite" in p.message
        assert "改名备份" in p.fix
    assert h.path.read_bytes() == "这不是数据库\n".encode() * 200  # left untouched


def test_damaged_database_gives_a_chinese_error(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    data = bytearray(h.path.read_bytes())
    page = 4096
    data[page:] = b"\xff" * (len(data) - page)  # keep the header, wreck every table page
    h.path.write_bytes(bytes(data))
    with pytest.raises(GkreportError) as exc:
        h.load_returns("2025-06")
    assert exc.value.problems[0].code == "history-unreadable"


def test_someone_elses_database_is_refused(tmp_path, reports):
    h = db(tmp_path)
    h.path.parent.mkdir(parents=True)
    con = sqlite3.connect(h.path)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(GkreportError) as exc:
        h.record(reports["2025-06"])
    assert exc.value.problems[0].code == "history-foreign"
    assert "不是 gkreport 的历史记录库" in exc.value.problems[0].message


def test_newer_schema_is_refused(tmp_path, reports):
    h = db(tmp_path)
    h.record(reports["2025-06"])
    con = sqlite3.connect(h.path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(GkreportError) as exc:
        h.periods()
    assert exc.value.problems[0].code == "history-newer"
    assert "请升级 gkreport" in exc.value.problems[0].fix


def test_an_empty_file_is_a_fresh_history(tmp_path, reports):
    h = db(tmp_path)
    h.path.parent.mkdir(parents=True)
    h.path.write_bytes(b"")
    assert [str(p) for p in h.periods()] == []
    h.record(reports["2025-06"])
    assert [str(p) for p in h.periods()] == ["2025-06"]


def test_every_plan_version_is_kept(tmp_path, plan, reports):
    h = db(tmp_path)
    h.record(reports["2025-05"])
    changed = dataclasses.replace(plan, tasks=plan.tasks[1:])
    june = rebuild(reports["2025-06"], plan=changed)
    h.record(june)
    assert h.plan_of(MAY) == plan and h.plan_of(JUNE) == changed
    assert h.plan(plan.fingerprint) == plan and h.plan("0" * 16) is None
    assert h.versions(2025) == {MAY: plan.fingerprint, JUNE: changed.fingerprint}

