"""The workspace layout (README "工作目录") and the lock that serialises its runs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gkreport.core.model import Period
from gkreport.core.problems import GkreportError, problem

PLAN_FILE = "任务分解表.xlsx"
HISTORY_FILE = "history.sqlite"
CHECK_DIR = "校验"  # output/PERIOD/校验/: check's working outputs, apart from the record
RETURNED_DIR = "退回修改"


@dataclass(frozen=True, slots=True)
class Paths:
    """The workspace layout (README "工作目录")."""

    root: Path

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def plan(self) -> Path:
        return self.input / PLAN_FILE

    @property
    def history(self) -> Path:
        return self.output / HISTORY_FILE

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def returns(self, period: Period) -> Path:
        return self.input / str(period)

    def forms(self, period: Period) -> Path:
        return self.output / "forms" / str(period)

    def period_out(self, period: Period) -> Path:
        """output/PERIOD/: the period's record, written by consolidate."""
        return self.output / str(period)

    def review_out(self, label: str) -> Path:
        """output/review/<range>/: a review's workbook and memo (2025, 2025-01_2025-06)."""
        return self.output / "review" / label

    def check_out(self, period: Period) -> Path:
        """output/PERIOD/校验/: what check writes while forms come in; never the record."""
        return self.output / str(period) / CHECK_DIR

    def periods_with_returns(self) -> list[Period]:
        """Periods with a folder input/YYYY-MM holding any file, oldest first."""
        found = []
        for p in self.input.glob("*"):
            if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name) and any(p.iterdir()):
                try:
                    found.append(Period.parse(p.name))
                except ValueError:  # e.g. a folder named 2025-13
                    continue
        return sorted(found)


@contextmanager
def run_lock(paths: Paths, *, wait: float = 60.0) -> Iterator[None]:
    """Serialise runs that write a workspace's outputs: a second run waits, then refuses."""
    paths.output.mkdir(parents=True, exist_ok=True)
    lock_path = paths.output / ".gkreport.lock"
    fh = open(lock_path, "a+b")  # noqa: SIM115 - held for the whole run
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                _try_lock(fh)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise GkreportError(problem("workspace-busy", file=str(lock_path))) from None
                time.sleep(0.2)
        _clean(paths.output)
        yield
    finally:
        try:
            _unlock(fh)
        finally:
            fh.close()


def _clean(output: Path) -> None:
    """What a killed run left behind (half-written files, a folder half swapped), removed or
    put back before this run writes: output/, each period's folder and the folders in it."""
    from gkreport.core.xlsx import clean_leftovers

    folders = [output]
    for sub in (p for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folders += [sub, *(p for p in sub.iterdir() if p.is_dir() and not p.name.startswith("."))]
    for folder in folders:
        clean_leftovers(folder)


def _try_lock(fh: Any) -> None:
    if os.name == "nt":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fh: Any) -> None:
    try:
        if os.name == "nt":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except OSError:
        pass


def latest_period(paths: Paths) -> Period:
    """The latest input/YYYY-MM folder: the default period of `consolidate`."""
    found = paths.periods_with_returns()
    if not found:
        raise GkreportError(problem("no-period", path=str(paths.input)))
    return found[-1]
