"""The command line, through Typer's CliRunner: exit codes, Chinese messages, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gkreport.cli import app

runner = CliRunner()


def test_plan_show_prints_the_bundled_plan(workspace: Path) -> None:
    r = runner.invoke(app, ["plan", "show", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    assert "2025年松江区政务公开工作要点" in r.stdout
    assert "27. 【不断提升政务公开质效】" in r.stdout
    assert "应报单位合计：56 个" in r.stdout


def test_plan_show_json(workspace: Path) -> None:
    r = runner.invoke(app, ["plan", "show", "--json", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["year"] == 2025 and len(data["tasks"]) == 27
    due = [t["deadline"] for t in data["tasks"]]
    assert due.count("2025-12-31") == 25
    assert data["tasks"][8]["deadline"] == "2025-04-30"
    assert data["tasks"][17]["deadline"] == "2025-08-31"


def test_missing_plan_is_a_chinese_message_not_a_traceback(tmp_path: Path) -> None:
    r = runner.invoke(app, ["plan", "show", "-w", str(tmp_path)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "计划文件" in r.stderr or "计划工作簿" in r.stderr


def test_bad_period_is_a_usage_error(workspace: Path) -> None:
    r = runner.invoke(app, ["forms", "--period", "2025-13", "-w", str(workspace)])
    assert r.exit_code == 2
    assert "YYYY-MM" in r.output


def test_consolidate_without_inputs_says_what_to_do(workspace: Path) -> None:
    r = runner.invoke(app, ["consolidate", "-w", str(workspace)])
    assert r.exit_code == 1
    assert "没有找到期次文件夹" in r.stderr
    assert "Traceback" not in r.output


def test_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("gkreport ")


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["forms", "--help"],
                                  ["plan", "import", "--help"]])
def test_help_is_chinese_throughout(args: list[str]) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("用法：gkreport") and "[选项]" in lines[0]
    assert "选项：" in lines
    assert not any(w in r.stdout for w in ("Usage", "Options", "Commands", "Arguments",
                                            "required", "[OPTIONS]"))
    if args[-1] == "--help" and len(args) <= 2 and args[0] in ("--help", "plan"):
        assert "命令：" in lines and "命令 [参数]..." in lines[0]
    if args[0] == "forms":
        assert "[必填]" in r.stdout and "--period YYYY-MM" in r.stdout


# ---------------------------------------------------------------- the monthly cycle


def _bundled_months(workspace: Path) -> Path:
    import shutil

    from .conftest import ROOT

    for month in ("2025-05", "2025-06"):
        shutil.copytree(ROOT / "input" / month, workspace / "input" / month)
    return workspace


def test_forms_writes_one_form_per_expected_unit(workspace: Path) -> None:
    r = runner.invoke(app, ["forms", "--period", "2025-06", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    assert "已生成 56 份填报表" in r.stdout
    out = workspace / "output" / "forms" / "2025-06"
    assert len(list(out.glob("*_2025-06_填报表.xlsx"))) == 56
    assert (out / "分发清单_2025-06.xlsx").exists()


def test_forms_unknown_unit_is_refused(workspace: Path) -> None:
    r = runner.invoke(app, ["forms", "-p", "2025-06", "-u", "区宇宙局", "-w", str(workspace)])
    assert r.exit_code == 1
    assert "区宇宙局" in r.stderr and "Traceback" not in r.output


def test_check_reports_problems_per_unit_and_reconciles(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["check", "--period", "2025-06", "-w", str(ws)])
    assert r.exit_code == 1, r.output  # the bundled month carries typical mistakes
    assert "基本完成" in r.stdout  # the unknown status, at its cell
    line = next(x for x in r.stdout.splitlines() if x.startswith("文件："))
    nums = [int(n) for n in __import__("re").findall(r"\d+", line.split("数据行：")[1])]
    assert nums[0] == nums[1] + nums[2]
    # check's working outputs go apart from the period's record (output/2025-06/校验/)
    assert (ws / "output" / "2025-06" / "校验" / "校验报告_2025-06.xlsx").exists()
    assert (ws / "output" / "2025-06" / "校验" / "催报通知_2025-06.md").exists()
    assert not (ws / "output" / "2025-06" / "校验报告_2025-06.xlsx").exists()
    assert list((ws / "output" / "2025-06" / "校验" / "退回修改").glob("*.xlsx"))


def test_consolidate_two_months_then_rerun_is_identical(workspace: Path) -> None:
    import sqlite3

    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["consolidate", "--period", "2025-05", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["consolidate", "-w", str(ws)])  # latest period: 2025-06
    assert r.exit_code == 0, r.output
    out = ws / "output" / "2025-06"
    for name in ("汇总表_2025-06.xlsx", "简报_2025-06.docx", "简报_2025-06.md",
                 "简报_2025-06.html", "催报通知_2025-06.md", "summary.json",
                 "校验报告_2025-06.xlsx"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == "2025-06" and summary["tasks"]["total"] == 27
    rows = summary["rows"]
    assert rows["read"] == rows["merged"] + rows["rejected"]
    assert f"数据行：读取 {rows['read']} = 采用 {rows['merged']} + 未采用 {rows['rejected']}" in r.stdout

    def counts() -> list[int]:
        with sqlite3.connect(ws / "output" / "history.sqlite") as db:
            tables = [t for (t,) in db.execute(
                "select name from sqlite_master where type='table' order by name")]
            return [db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables]

    before = counts()
    from openpyxl import load_workbook

    def values() -> list[list[object]]:
        wb = load_workbook(out / "汇总表_2025-06.xlsx")
        return [[c for row in ws_.iter_rows(values_only=True) for c in row] for ws_ in wb]

    first = values()
    r = runner.invoke(app, ["consolidate", "--period", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == summary
    assert counts() == before
    assert values() == first
    # 上月状态 comes from 2025-05 in the history
    wb = load_workbook(out / "汇总表_2025-06.xlsx")
    headers = [c.value for c in wb["任务汇总"][1]]
    prev = headers.index("上月状态")
    assert any(row[prev] for row in wb["任务汇总"].iter_rows(min_row=2, values_only=True))

    r = runner.invoke(app, ["memo", "--period", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert "简报_2025-06.docx" in r.stdout


def test_memo_before_consolidate_says_what_to_do(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["memo", "--period", "2025-06", "-w", str(ws)])
    assert r.exit_code == 1
    assert "gkreport consolidate --period 2025-06" in r.stderr


def test_two_consolidate_runs_at_once_leave_a_sound_history(workspace: Path) -> None:
    import sqlite3
    import subprocess
    import sys

    ws = _bundled_months(workspace)
    cmd = [sys.executable, "-m", "gkreport", "consolidate", "-p", "2025-06", "-q", "-w", str(ws)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    # The second run waits for the first (run lock), then replaces the period in one transaction.
    assert [p.returncode for p in procs] == [0, 0], outs
    with sqlite3.connect(ws / "output" / "history.sqlite") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        # June, and May before it (catch-up): each once, whichever run did it
        assert db.execute("select count(*) from periods").fetchone()[0] == 2
    summary = json.loads((ws / "output" / "2025-06" / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows"]["read"] == summary["rows"]["merged"] + summary["rows"]["rejected"]
    assert not list((ws / "output" / "2025-06").glob(".~tmp-*"))


def test_plan_import_of_garbage_exits_1_and_writes_nothing(workspace: Path) -> None:
    bad = workspace / "计划.docx"
    bad.write_bytes(b"\x00\x01 not a word file " * 50)
    out = workspace / "new.xlsx"
    r = runner.invoke(app, ["plan", "import", str(bad), "-o", str(out), "-w", str(workspace)])
    assert r.exit_code == 1
    assert "计划.docx" in r.stderr and "Traceback" not in r.output
    assert not out.exists()


def test_plan_import_of_the_seed_reproduces_the_bundled_plan(workspace: Path) -> None:
    from gkreport.plan.book import read_plan

    from .conftest import ROOT, SEED

    out = workspace / "imported.xlsx"
    r = runner.invoke(app, ["plan", "import", str(SEED), "-o", str(out), "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    assert "已导入 27 项任务（2025年）" in r.stdout
    assert read_plan(out).tasks == read_plan(ROOT / "input" / "任务分解表.xlsx").tasks


def test_bad_period_is_a_usage_error_for_every_command(workspace: Path) -> None:
    for cmd in (["consolidate"], ["memo"], ["check"], ["demo"]):
        r = runner.invoke(app, [*cmd, "--period", "2025-13", "-w", str(workspace)])
        assert r.exit_code == 2, (cmd, r.output)
        assert "程序内部错误" not in r.output


def test_usage_errors_are_chinese_from_the_console_script(workspace: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "gkreport", "forms", "-w", str(workspace)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["[用法错误] 缺少选项 --period",
                                     "运行 gkreport forms -h 查看用法。"]


def test_folder_with_no_usable_form_is_not_consolidated(workspace: Path) -> None:
    (workspace / "input" / "2025-07").mkdir()
    (workspace / "input" / "2025-07" / "说明.txt").write_text("见附件", encoding="utf-8")
    r = runner.invoke(app, ["consolidate", "-w", str(workspace), "-q"])
    assert r.exit_code == 1
    assert "没有可用的填报表（发现 1 个文件，均无法采用），本次未汇总" in r.stderr
    assert not (workspace / "output" / "2025-07").exists()
    assert not (workspace / "output" / "history.sqlite").exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_outputs_are_readable_by_colleagues(workspace: Path) -> None:
    import stat

    r = runner.invoke(app, ["forms", "-p", "2025-06", "-u", "泗泾镇", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    form = next((workspace / "output" / "forms" / "2025-06").glob("泗泾镇*.xlsx"))
    assert form.stat().st_mode & stat.S_IRGRP


def test_demo_does_not_overwrite_returned_forms(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["demo", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 1
    assert "演示数据会覆盖同名的回收表" in r.stderr


def test_broken_template_leaves_the_last_good_outputs(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    out = ws / "output" / "2025-06"
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (ws / "templates").mkdir()
    (ws / "templates" / "memo.md.j2").write_text("# {{ titel }}\n", encoding="utf-8")
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 1
    assert "memo.md.j2" in r.stderr and "titel" in r.stderr and "Traceback" not in r.output
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for name in ("汇总表_2025-06.xlsx", "简报_2025-06.md", "summary.json"):
        assert after[name] == before[name], name
    assert not [n for n in after if n.startswith(".~")]


def test_damaged_files_among_good_ones_are_reported_and_the_rest_merged(workspace: Path) -> None:
    import random

    ws = _bundled_months(workspace)
    month = ws / "input" / "2025-06"
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    clean = json.loads((ws / "output" / "2025-06" / "summary.json").read_text(encoding="utf-8"))
    rng = random.Random(20)
    good = sorted(p for p in month.glob("*.xlsx") if not p.name.startswith("~$"))
    for i in range(20):  # what a bad month brings: cut-off uploads, junk, renamed files
        src = good[i].read_bytes()
        kind = i % 4
        data = (src[: len(src) // 2] if kind == 0 else rng.randbytes(4000) if kind == 1
                else b"" if kind == 2 else "序号,状态\n1,完成\n".encode())
        (month / f"损坏{i:02d}.xlsx").write_bytes(data)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    summary = json.loads((ws / "output" / "2025-06" / "summary.json").read_text(encoding="utf-8"))
    assert summary["files"]["found"] == clean["files"]["found"] + 20
    assert summary["files"]["refused"] == clean["files"]["refused"] + 20
    assert summary["rows"] == clean["rows"] and summary["tasks"] == clean["tasks"]
    assert summary["problems"]["错误"] == clean["problems"]["错误"] + 20


def test_long_lists_are_cut_in_the_terminal_and_counted(workspace: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from gkreport.cli import show

    ws = _bundled_months(workspace)
    monkeypatch.setattr(show, "MAX_ALERTS", 2)
    monkeypatch.setattr(show, "MAX_NAMES", 1)
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    summary = json.loads((ws / "output" / "2025-06" / "summary.json").read_text(encoding="utf-8"))
    missing = summary["units"]["missing"]
    assert f"  未报送：{missing[0]} 等 {len(missing)} 家（名单见催报通知）" in r.stdout
    lines = r.stdout.splitlines()
    start = lines.index("预警：")
    assert lines[start + 1].lstrip().startswith("●红")  # overdue first
    from openpyxl import load_workbook

    sheet = load_workbook(ws / "output" / "2025-06" / "汇总表_2025-06.xlsx")["任务汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    colour = rows[0].index("预警")
    flagged = sum(row[colour] in ("红", "黄", "蓝") for row in rows[1:])
    assert lines[start + 3].startswith(f"  另有 {flagged - 2} 项（")
    assert lines[start + 3].endswith("见汇总表“任务汇总”")


def test_quiet_prints_only_problems(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    r = runner.invoke(app, ["check", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 1  # the bundled June has errors: one line each, on stderr
    assert r.stdout == "" and len(r.stderr.splitlines()) == 2
    assert all(line.startswith("[错误] ") for line in r.stderr.splitlines())
    r = runner.invoke(app, ["consolidate", "-p", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0 and r.stdout == "", r.output
    for args in (["memo", "-p", "2025-06"], ["plan", "show"], ["forms", "-p", "2025-07"]):
        r = runner.invoke(app, [*args, "-w", str(ws), "-q"])
        assert r.exit_code == 0 and r.stdout == "", (args, r.output)


def test_a_closed_pipe_ends_quietly(workspace: Path) -> None:
    ws = _bundled_months(workspace)
    proc = subprocess.run(f"{sys.executable} -m gkreport plan show -w '{ws}' | head -1",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("2025年松江区政务公开工作要点")
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["check", "-p", "9999-12"], "[用法错误] 选项 --period 的值无效：期次“9999-12”的年份应在 2000–2099 之间"),
    (["check", "-p", "0000-01"], "[用法错误] 选项 --period 的值无效：期次“0000-01”的年份应在 2000–2099 之间"),
    (["check", "-p", "2025-06", "-w", "README.md"],
     "[用法错误] 选项 --workspace 的值无效：“README.md”是文件，应为文件夹"),
])
def test_usage_errors_are_chinese(args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "gkreport", *args], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == message


def test_a_task_text_that_fits_is_not_marked_cut() -> None:
    from gkreport.cli.show import short

    text = "严格执行公文公开属性审查和发布审查程序。"
    assert short(text, 30) == text  # was printed with a … after it
    assert short(text * 2, 30) == (text * 2)[:29] + "…" and len(short(text * 2, 30)) == 30
