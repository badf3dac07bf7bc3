"""Shared fixtures: the bundled plan and throw-away workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gkreport.core.model import Plan
from gkreport.plan.book import load_plan

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED = DATA / "2025-songjiang-workpoints.txt"


@pytest.fixture(scope="session")
def plan() -> Plan:
    """The bundled 2025 Songjiang plan."""
    return load_plan(ROOT)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh workspace holding only the bundled plan workbook."""
    ws = tmp_path / "ws"
    (ws / "input").mkdir(parents=True)
    shutil.copy(ROOT / "input" / "任务分解表.xlsx", ws / "input" / "任务分解表.xlsx")
    return ws
