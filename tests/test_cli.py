"""The command line, through Typer's CliRunner: exit codes, Chinese messages, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

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
