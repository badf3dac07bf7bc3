"""Faults of the machine and hostile text (issue: one bad file never stops the month, items on
full disks, OS errors, terminal and Markdown injection): each a clear Chinese message naming
the path, exit 1, no traceback; the history and the last outputs kept; unit text shown as
text wherever it goes."""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gkreport.cli import app
from gkreport.core.model import Period
from gkreport.core.pool import forks

from .conftest import ROOT

runner = CliRunner()
JUNE = Period(2025, 6)


@pytest.fixture(scope="module")
def consolidated_june(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled May and June, consolidated once for the module."""
    ws = tmp_path_factory.mktemp("june") / "ws"
    for month in ("2025-05", "2025-06"):
        shutil.copytree(ROOT / "input" / month, ws / "input" / month)
    shutil.copy(ROOT / "input" / "任务分解表.xlsx", ws / "input" / "任务分解表.xlsx")
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    return ws


@pytest.fixture
def june(consolidated_june: Path, tmp_path: Path) -> Path:
    """A fresh copy of it per test (the outputs a full disk must not spoil)."""
    return Path(shutil.copytree(consolidated_june, tmp_path / "ws"))


def state(ws: Path) -> dict[str, str]:
    """Every output file and the history's rows, by content."""
    out = {str(f.relative_to(ws)): _content(f)
           for f in sorted((ws / "output").rglob("*")) if f.is_file() and f.suffix != ".sqlite"
           and f.name != ".gkreport.lock"}
    con = sqlite3.connect(ws / "output" / "history.sqlite")
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        rows = con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    con.close()
    return out


def _content(f: Path) -> str:
    """A file's content; an Office file's by its parts (openpyxl and python-docx stamp the
    time of saving into the zip's entries and docProps/core.xml)."""
    import zipfile

    if f.suffix not in (".xlsx", ".docx"):
        return hashlib.sha256(f.read_bytes()).hexdigest()
    with zipfile.ZipFile(f) as z:
        parts = [(n, z.read(n)) for n in sorted(z.namelist()) if n != "docProps/core.xml"]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_a_full_disk_while_writing_the_workbook(june: Path, monkeypatch) -> None:
    import xlsxwriter.exceptions
    import xlsxwriter.workbook

    before = state(june)

    def full(self) -> None:  # what xlsxwriter raises when the disk fills up mid-save
        raise xlsxwriter.exceptions.FileCreateError(OSError(errno.ENOSPC, "No space left"))

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "close", full)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.startswith("[错误]") and "磁盘空间不足" in r.stderr
    assert "请先关闭" not in r.stderr and "改名备份" not in r.stderr  # not Excel, not corrupt
    assert state(june) == before


def test_a_full_disk_when_the_history_is_written(june: Path, monkeypatch) -> None:
    from gkreport import history as history_module

    before = state(june)["periods"]
    real = history_module.sqlite3.connect

    def cramped(*args, **kwargs):  # the database may not grow by a single page
        con = real(*args, **kwargs)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages}")
        return con

    monkeypatch.setattr(history_module.sqlite3, "connect", cramped)
    (june / "input" / "2025-06" / "收文登记.csv").unlink()  # new received times: rows to add
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "磁盘空间不足" in r.stderr and "改名备份" not in r.stderr
    monkeypatch.undo()
    assert state(june)["periods"] == before
    con = sqlite3.connect(june / "output" / "history.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_an_output_folder_without_permission(june: Path, monkeypatch) -> None:
    import tempfile

    def refused(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's own name
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "没有权限写入或读取" in r.stderr and str(june / "output" / "2025-06") in r.stderr


def test_a_history_holding_a_value_no_gkreport_wrote(june: Path) -> None:
    con = sqlite3.connect(june / "output" / "history.sqlite")
    con.execute("UPDATE entries SET status = '乱码' WHERE rowid = 1")
    con.commit()
    con.close()
    r = runner.invoke(app, ["memo", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "历史记录库" in r.stderr and "无法识别的内容" in r.stderr


def test_a_file_taken_away_while_the_month_is_read(plan, tmp_path: Path) -> None:
    from gkreport.intake.ingest import read_file

    result = read_file(tmp_path / "已移走.xlsx", plan, JUNE, name="已移走.xlsx")
    assert result.refused and [(p.code, p.file) for p in result.problems] == [
        ("file-unreadable", "已移走.xlsx")]
    assert "被移走" in result.problems[0].message


def test_evidence_taken_away_while_the_month_is_read(tmp_path: Path) -> None:
    """An evidence file listed, then moved before it was hashed: the others are kept, the
    month goes on (it raised FileNotFoundError through read_returns)."""
    from gkreport.intake.ingest import _evidence

    (tmp_path / "区财政局佐证.pdf").write_bytes(b"%PDF-1.4 evidence")
    listed = [(tmp_path / "已移走.pdf", "已移走.pdf"), (tmp_path / "区财政局佐证.pdf", "区财政局佐证.pdf")]
    evidence, _problems = _evidence(listed, {"区财政局": "区财政局"})
    assert [e.file for e in evidence] == ["区财政局佐证.pdf"]


# ---------------------------------------------------------------- hostile text

HOSTILE = ("<script>alert(1)</script>", "[x](javascript:alert(1))", "![p](http://evil/p.png)",
           "<img src=x onerror=alert(1)>")


def test_markdown_and_html_in_unit_text_stay_text(plan, tmp_path: Path) -> None:
    from dataclasses import replace

    from gkreport.consolidate import consolidate
    from gkreport.core.model import (
        Entry,
        FileCounts,
        Returns,
        RowCounts,
        Status,
        Submission,
        SubmissionState,
    )
    from gkreport.render.wording import md_escape

    from .factories import rebuild, render_memo, render_notice

    t = plan.tasks[8]  # task 9, due in April: overdue in June, its reasons quoted
    entries = tuple(Entry(task_no=t.no, unit=u, status=Status.BEHIND, raw_status="滞后",
                          progress=10.0, note=HOSTILE[i % 4] + "推进中", issues=HOSTILE[i % 4],
                          next_steps=HOSTILE[(i + 1) % 4], file=f"{u}.xlsx", sheet="填报表",
                          row=6, cell="H6", task_text=t.text)
                    for i, u in enumerate(t.expected_units))
    subs = tuple(Submission(file=f"{e.unit}.xlsx", unit=e.unit, sha256="0" * 64, size=1,
                            read_at="2025-07-01T09:00:00") for e in entries)
    report = consolidate(plan, Returns(JUNE, entries, subs, (), FileCounts(len(subs), len(subs)),
                                       RowCounts(len(entries), len(entries))), JUNE)
    # a registry name too: the first unit not reported is listed in the notice by it
    gone = next(i for i, u in enumerate(report.units) if u.state is SubmissionState.MISSING)
    weird = replace(report.units[gone].unit, name="区<b>局</b>[x](y)")
    report = rebuild(report, units=tuple(replace(u, unit=weird) if i == gone else u
                                         for i, u in enumerate(report.units)))
    md, html, _docx = render_memo(report, tmp_path)
    notice = render_notice(report, tmp_path)
    assert md_escape(weird.name) in notice.read_text(encoding="utf-8")
    for text in (md.read_text(encoding="utf-8"), notice.read_text(encoding="utf-8")):
        # every markup character escaped: no link, image or tag a viewer would act on
        assert not re.search(r"(?<!\\)\]\(", text) and not re.search(r"(?<!\\)!\[", text)
        assert not re.search(r"(?<!\\)<(script|img)", text)
    page = html.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_the_terminal_shows_unit_text_as_text(june: Path, blank_forms, plan) -> None:
    """A status cell holding Rich markup or an escape sequence, a file name with markup."""
    from .factories import UNIT, fill_form, set_cells

    folder = june / "input" / "2025-06"
    for f in folder.glob("区财政局*"):
        f.unlink()
    fill_form(blank_forms[UNIT], folder / "[link=http://evil]财政[/link].xlsx",
              # _x001B_: how a spreadsheet stores an escape character (ESC) in a cell
              set_cells(H6="[/]", H7="_x001B_[31m完成_x001B_[0m", J8="[bold red]已办[/]"))
    r = runner.invoke(app, ["check", "-p", "2025-06", "-w", str(june), "--all"])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert "\x1b[31m" not in r.stdout and "\\x1b[31m" in r.stdout, r.output
    # The "/" made subfolders: the file is named by its path in the period's folder, its
    # markup printed, not made a link.
    assert "[link=http:/evil]财政[/link].xlsx" in r.stdout, r.stdout
    assert "“[/]”" in r.stdout


def test_what_a_killed_run_left_is_tidied_before_the_next_writes(june: Path) -> None:
    """Killed between the two renames that swap 退回修改/, and mid-write of a file: the next
    run (any command that writes) puts the folder back and removes the half-written files."""
    out = june / "output" / "2025-06"
    copies = sorted(f.name for f in (out / "退回修改").iterdir())
    assert copies  # the bundled June has forms to return
    (out / "退回修改").rename(out / ".~old-退回修改-0badc0de")
    (out / ".~tmp-abc.xlsx").write_bytes(b"half a workbook")
    (out / "校验").mkdir(exist_ok=True)
    (out / "校验" / ".~tmp-退回修改-x1").mkdir()
    r = runner.invoke(app, ["forms", "-p", "2025-07", "-w", str(june)])
    assert r.exit_code == 0, r.output
    assert sorted(f.name for f in (out / "退回修改").iterdir()) == copies
    assert not list((june / "output").rglob(".~*"))


def test_a_copy_that_lacks_its_marks_is_said_so_to_the_office_and_the_unit(
        june: Path, monkeypatch) -> None:
    """Marking a returned copy fails: the copy is the file as it came, and both check's
    output and the notice say so instead of pointing the unit to comments that are not there."""
    from gkreport.render import annotate

    def broken(wb: object, problems: object, notes: object) -> None:
        raise RuntimeError("this file's workbook cannot take comments")

    monkeypatch.setattr(annotate, "_mark_all", broken)
    r = runner.invoke(app, ["check", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    said = "未能在退回件中标注问题单元格，退回件为原文件"
    assert said in r.stdout
    notice = (june / "output" / "2025-06" / "校验" / "催报通知_2025-06.md").read_text("utf-8")
    fix = [line for line in notice.splitlines() if "发现错误" in line]
    # No comments to point to: the unit is told to fix its own file by the problems listed.
    assert fix and all("请按下列问题修改原报送文件" in line and said in line
                       and "批注" not in line and "校验报告" not in line for line in fix), notice


@pytest.mark.skipif(not forks(), reason="the workbook is written in this process here")
def test_the_workbook_process_killed_leaves_the_period_as_it_was(june: Path, monkeypatch) -> None:
    import os
    import signal

    import xlsxwriter.workbook

    before = state(june)
    main, close = os.getpid(), xlsxwriter.workbook.Workbook.close

    def killed(self) -> None:  # the worker writing the workbook dies (out of memory, by hand)
        if os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)
        close(self)

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "close", killed)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "写汇总表的进程意外退出" in r.stderr
    assert state(june) == before
    assert not list((june / "output").rglob(".~*"))


def test_without_fork_the_outputs_are_the_same(june: Path, monkeypatch) -> None:
    """Windows and macOS write the workbook in the one process: same files, same history."""
    import os

    from gkreport.intake import ingest

    def no_fork() -> int:
        raise AssertionError("GKREPORT_NO_FORK must not fork a worker")

    before = state(june)
    monkeypatch.setenv("GKREPORT_NO_FORK", "1")
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 10**9)  # the reading pool is not this switch
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 0, r.output
    assert state(june) == before


def test_a_big_month_is_written_without_a_worker(june: Path, monkeypatch) -> None:
    """Above BESIDE_MAX_ENTRIES the worker's copy of the month would cost more memory than
    the overlap saves: the workbook is written in this process (no fork), same files."""
    import os

    from gkreport import workspace
    from gkreport.intake import ingest

    def no_fork() -> int:
        raise AssertionError("a big month must not fork a worker")

    before = state(june)
    monkeypatch.setattr(workspace, "BESIDE_MAX_ENTRIES", 0)
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 10**9)  # reading without its pool too
    monkeypatch.setattr(os, "fork", no_fork)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 0, r.output
    assert state(june) == before


def test_outputs_get_the_permissions_of_a_normal_file(june: Path) -> None:
    """Temporary files and folders are private; the office's shared folder must not be."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    out = june / "output" / "2025-06"
    assert (out / "退回修改").stat().st_mode & 0o777 == 0o777 & ~umask
    for f in (out / "汇总表_2025-06.xlsx", *(out / "退回修改").iterdir()):
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask, f


KILL_MAIN = """
import os, signal, sys
import gkreport.history as hm
real = hm._insert
def killer(con, table, columns, rows):
    real(con, table, columns, rows)
    if table == "problems":  # the period's rows half in the transaction, the workbook aside
        os.kill(os.getpid(), signal.SIGKILL)
hm._insert = killer
from gkreport.cli import main
sys.argv = ["gkreport", "consolidate", "-p", "2025-06", "-w", sys.argv[1], "-q"]
main()
"""


def _marked(mark: str) -> list[int]:
    """Processes whose environment holds `mark`."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in env.read_bytes():
                found.append(int(env.parent.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


@pytest.mark.skipif(not forks(), reason="needs Linux processes")
def test_consolidate_killed_mid_run_leaves_the_period_and_no_worker_behind(june: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid

    before = state(june)
    mark = f"GKREPORT_TEST_MARK={uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), mark.split("=")[0]: mark.split("=")[1]}
    run = subprocess.run([sys.executable, "-c", KILL_MAIN, str(june)], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, env=env)
    assert run.returncode == -signal.SIGKILL, run.stderr
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:  # the workers notice within 0.5 s
        time.sleep(0.1)
    assert not _marked(mark)
    # The history as before (its hot journal is rolled back when it is next opened); every
    # output old, or new, none half-written; the leftovers are hidden temporary files.
    left = {k: v for k, v in state(june).items() if "/.~" not in k and "-journal" not in k}
    assert left == before
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 0, r.output
    assert state(june) == before and not list((june / "output").rglob(".~*"))


def test_an_os_error_without_a_file_name_says_so() -> None:
    """A full disk found by write() carries no file name: the message must not name "."."""
    import errno

    from gkreport.core.xlsx import UNKNOWN_PATH, os_failure

    for err in (errno.ENOSPC, errno.EACCES, errno.EIO):
        [p] = os_failure("", OSError(err, "oops")).problems
        assert UNKNOWN_PATH in p.message and " ." not in p.message and "写入 ." not in p.message


def test_markdown_escaping_is_not_offered_to_html_templates(tmp_path: Path) -> None:
    """md_cell returns Markup: in an HTML template it would switch autoescape off."""
    from gkreport.render.templating import template_env

    env = template_env(tmp_path)
    assert "md_cell" in env.text.filters and "md_cell" not in env.html.filters


def test_memo_tells_a_unit_with_an_unmarked_copy_what_consolidate_told_it(june: Path) -> None:
    """memo re-renders the notice from the history and 退回修改/: a copy that is the unit's
    file as it came (no comments) is not called annotated, as consolidate said of it."""
    back = june / "output" / "2025-06" / "退回修改"
    copy = sorted(back.glob("*.xlsx"))[0]
    unit = copy.stem
    shutil.copy(next((june / "input" / "2025-06").glob(f"{unit}*.xlsx")), copy)  # as it came
    r = runner.invoke(app, ["memo", "-p", "2025-06", "-w", str(june)])
    assert r.exit_code == 0, r.output
    notice = (june / "output" / "2025-06" / "催报通知_2025-06.md").read_text(encoding="utf-8")
    line = next(x for x in notice.splitlines() if f". {unit}：" in x)
    assert f"请按下列问题修改原报送文件“{copy.name}”" in line and "批注" not in line
    others = [x for x in notice.splitlines() if "发现错误" in x and f". {unit}：" not in x]
    assert others and all("中的批注修改" in x for x in others)
