"""The second process of a consolidate: same outputs either way, and the history is
committed only when every output is in place, whatever fails or dies."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gkreport import background
from gkreport.core.model import Period
from gkreport.workspace import Paths, run_consolidate

from .conftest import ROOT

PERIOD = Period.parse("2025-06")


@pytest.fixture
def ws(workspace: Path) -> Path:
    shutil.copytree(ROOT / "input" / "2025-06", workspace / "input" / "2025-06")
    return workspace


def stored(ws: Path) -> list[list[tuple[Any, ...]]]:
    """Every history table's rows, as plain data ([] when there is no history)."""
    path = ws / "output" / "history.sqlite"
    if not path.exists():
        return []
    con = sqlite3.connect(path)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables]
    finally:
        con.close()


def outputs(ws: Path) -> dict[str, bytes]:
    """The text outputs of the period (the binary ones carry zip timestamps)."""
    out = ws / "output" / "2025-06"
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.suffix in (".md", ".html", ".json")}


def spawned(monkeypatch: pytest.MonkeyPatch, code: str | None = None) -> list[subprocess.Popen]:
    """Record the second processes started; with `code`, run that instead of the real one."""
    procs: list[subprocess.Popen] = []
    real = subprocess.Popen

    def popen(args: list[str], **kwargs: Any) -> subprocess.Popen:
        if code is not None:
            args = [sys.executable, "-c", textwrap.dedent(code)]
        procs.append(real(args, **kwargs))
        return procs[-1]

    monkeypatch.setattr(background.subprocess, "Popen", popen)
    return procs


def test_second_process_and_this_one_give_the_same_outputs_and_history(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    procs = spawned(monkeypatch)
    first = run_consolidate(Paths(ws), PERIOD)
    assert len(procs) == 1 and procs[0].wait(timeout=30) == 0
    together = (outputs(ws), stored(ws))
    monkeypatch.setattr(background, "SECOND_PROCESS", False)
    alone = run_consolidate(Paths(ws), PERIOD)
    assert len(procs) == 1  # nothing started
    assert (outputs(ws), stored(ws)) == together
    assert first.summary == alone.summary and first.annotated == alone.annotated
    assert stored(ws)[0]  # the history holds the period


def test_a_second_process_that_cannot_start_is_done_here(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background.sys, "executable", str(ws / "no-such-python"))
    result = run_consolidate(Paths(ws), PERIOD)
    assert result.summary["period"] == "2025-06"
    assert (ws / "output" / "2025-06" / "校验报告_2025-06.xlsx").exists()
    assert (ws / "output" / "2025-06" / "简报_2025-06.docx").exists()
    assert stored(ws)[0]


def test_a_second_process_that_dies_at_once_is_done_here(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    procs = spawned(monkeypatch, "import sys; sys.exit(3)")
    run_consolidate(Paths(ws), PERIOD)
    assert procs[0].returncode == 3
    assert json.loads((ws / "output" / "2025-06" / "summary.json").read_bytes())
    assert (ws / "output" / "2025-06" / "简报_2025-06.md").exists()
    assert stored(ws)[0]


def test_a_second_process_that_dies_before_committing_leaves_the_history_to_this_one(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It sends its outputs, then dies instead of writing the history.
    procs = spawned(monkeypatch, """
        import os, pickle, sys
        from gkreport import background as b
        out = os.fdopen(os.dup(1), "wb")
        b._reply(out, *b.HELLO)
        args = pickle.load(sys.stdin.buffer)
        b._reply(out, "outputs", b.side_outputs(*args))
        os._exit(9)
    """)
    monkeypatch.setattr(background, "SECOND_PROCESS", True)
    run_consolidate(Paths(ws), PERIOD)
    assert procs[0].returncode == 9
    expected = stored(ws)
    assert expected[0]
    monkeypatch.undo()
    monkeypatch.setattr(background, "SECOND_PROCESS", False)
    run_consolidate(Paths(ws), PERIOD)
    assert stored(ws) == expected


def test_a_failure_after_the_outputs_leaves_the_history_as_it_was(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_consolidate(Paths(ws), Period.parse("2025-06"))
    before = stored(ws)
    # A different month's content for the same period, then a failure just before commit.
    victim = sorted((ws / "input" / "2025-06").glob("*.xlsx"))[0]
    victim.unlink()
    procs = spawned(monkeypatch)

    def broken(*_a: Any, **_k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gkreport.core.xlsx.write_text_atomic", broken)
    with pytest.raises(OSError):
        run_consolidate(Paths(ws), PERIOD)
    # The second process had the new period written, uncommitted: it was stopped, and its
    # transaction rolled back.
    assert procs[0].poll() is not None
    assert stored(ws) == before
    assert not list((ws / "output").glob("*-journal"))


def test_a_template_error_in_the_second_process_reaches_the_user_and_commits_nothing(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gkreport.core.problems import GkreportError

    (ws / "templates").mkdir()
    (ws / "templates" / "notice.md.j2").write_text("{{ nosuch }}\n", encoding="utf-8")
    procs = spawned(monkeypatch)
    with pytest.raises(GkreportError) as exc:
        run_consolidate(Paths(ws), PERIOD)
    assert exc.value.problems[0].code == "template-error"
    assert "notice.md.j2" in exc.value.problems[0].message
    assert procs[0].wait(timeout=30) == 1
    assert stored(ws) == []
    assert not (ws / "output" / "2025-06" / "汇总表_2025-06.xlsx").exists()


def test_a_month_that_does_not_pickle_is_done_here(ws: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    procs = spawned(monkeypatch)

    def refuse(*_a: Any, **_k: Any) -> bytes:
        raise TypeError("cannot pickle '_thread.lock' object")

    monkeypatch.setattr(background.pickle, "dumps", refuse)
    run_consolidate(Paths(ws), PERIOD)
    assert procs[0].poll() is not None  # told nothing, it was stopped
    assert (ws / "output" / "2025-06" / "简报_2025-06.docx").exists()
    assert stored(ws)[0]


@pytest.mark.parametrize("code", [
    "import time; time.sleep(600)",  # alive, silent, reads nothing (not our program)
    "import sys; sys.stdout.write('Usage: app [options]\\n'); sys.stdout.flush()",  # talks
])
def test_a_second_process_that_is_not_ours_is_given_up_on(
        ws: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    import time

    procs = spawned(monkeypatch, code)
    monkeypatch.setattr(background, "HELLO_SECONDS", 1.0)
    start = time.monotonic()
    run_consolidate(Paths(ws), PERIOD)
    assert time.monotonic() - start < 60
    assert procs[0].poll() is not None  # ended, not left behind
    assert (ws / "output" / "2025-06" / "简报_2025-06.docx").exists()
    assert stored(ws)[0]


@pytest.mark.parametrize("code", [
    # A bug (or running out of memory) in the child: not the user's business, done here.
    """
    import os, pickle, sys
    from gkreport import background as b
    out = os.fdopen(os.dup(1), "wb")
    b._reply(out, *b.HELLO)
    pickle.load(sys.stdin.buffer)
    b._reply(out, "error", MemoryError())
    """,
    # A site hook that prints before our code runs: nonsense on the pipe, not a hang.
    """
    import sys
    sys.stdout.buffer.write(b"The workspace is ready\\n" * 10000)
    sys.stdout.flush()
    from gkreport import background
    background.main()
    """,
])
def test_a_second_process_that_fails_otherwise_leaves_the_work_to_this_one(
        ws: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    import time

    procs = spawned(monkeypatch, code)
    start = time.monotonic()
    run_consolidate(Paths(ws), PERIOD)
    assert time.monotonic() - start < 60
    assert procs[0].poll() is not None
    assert (ws / "output" / "2025-06" / "简报_2025-06.docx").exists()
    assert stored(ws)[0]


def test_the_second_process_imports_the_installed_package_not_the_current_folder(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A gkreport/ folder where the command runs (a clone of the repository, say) must not
    # replace the installed package in the second process.
    fake = ws / "cwd" / "gkreport"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit(42)\n", encoding="utf-8")
    (fake / "background.py").write_text("raise SystemExit(42)\n", encoding="utf-8")
    monkeypatch.chdir(ws / "cwd")
    procs = spawned(monkeypatch)
    run_consolidate(Paths(ws), PERIOD)
    assert procs[0].returncode == 0
