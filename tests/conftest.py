"""Shared fixtures: the bundled plan and throw-away workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gkreport.core.model import Plan
from gkreport.forms.writer import write_forms
from gkreport.plan.book import load_plan

from .factories import PERIOD, UNIT, fill_form, merged_status_and_percent, set_cells
from .lo import convert

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


@pytest.fixture(scope="session")
def blank_forms(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Blank forms written by the forms stage for a few units."""
    out = tmp_path_factory.mktemp("forms")
    result = write_forms(plan, PERIOD, out, units=[UNIT, "泗泾镇", "区发展改革委"])
    return {f.unit: f.path for f in result.forms}



@pytest.fixture(scope="session")
def lo_forms(blank_forms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
             ) -> dict[str, dict[str, Path]]:
    """A clean and a damaged filled form, saved by real LibreOffice as .xls and .ods."""
    src = tmp_path_factory.mktemp("lo-src")
    paths = [fill_form(blank_forms[UNIT], src / "clean.xlsx"),
             fill_form(blank_forms[UNIT], src / "damaged.xlsx",
                       set_cells(H6="差不多", I7="120%", B3=None)),
             fill_form(blank_forms[UNIT], src / "merged.xlsx", merged_status_and_percent)]
    out = tmp_path_factory.mktemp("lo-out")
    result: dict[str, dict[str, Path]] = {}
    for fmt in ("xls", "ods"):
        converted = convert(paths, fmt, out / fmt)
        result[fmt] = {p.stem: p for p in converted}
    return result


