"""Workspace plumbing: the run lock, atomic writes, and the 'file open in Excel' message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gkreport.core.problems import GkreportError
from gkreport.core.xlsx import atomic_path, write_text_atomic
from gkreport.workspace import Paths, latest_period, run_lock


def test_second_run_waits_then_refuses_with_a_clear_message(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from gkreport.workspace import Paths, run_lock
        with run_lock(Paths(Path({str(tmp_path)!r}))):
            print("locked", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with pytest.raises(GkreportError) as exc, run_lock(paths, wait=0.5):
            pass
        assert time.monotonic() - start >= 0.5
        assert exc.value.problems[0].code == "workspace-busy"
        assert "另一个 gkreport 正在此工作目录运行" in exc.value.problems[0].message
    finally:
        holder.kill()
        holder.wait()
    with run_lock(paths, wait=5):  # released when the holder died
        pass


def test_atomic_write_keeps_the_last_good_file_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "汇总表.xlsx"
    write_text_atomic(target, "good")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("killed midway")
    assert target.read_text(encoding="utf-8") == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["汇总表.xlsx"]


def test_file_open_in_excel_gives_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    (tmp_path / "汇总表.xlsx").write_text("last month's")  # the file Excel holds open
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(GkreportError) as exc:
        write_text_atomic(tmp_path / "汇总表.xlsx", "x")
    assert "请先关闭该文件" in exc.value.problems[0].fix
    assert (tmp_path / "汇总表.xlsx").read_text() == "last month's"


def test_latest_period_picks_the_newest_folder(tmp_path: Path) -> None:
    for name in ("2025-05", "2025-06", "notes", "2024-12"):
        (tmp_path / "input" / name).mkdir(parents=True)
        (tmp_path / "input" / name / "x.xlsx").write_bytes(b"")
    (tmp_path / "input" / "2025-07").mkdir()  # made ahead of time, nothing in it yet
    assert str(latest_period(Paths(tmp_path))) == "2025-06"
