"""A big month: 200 returned forms (enough to read them in the process pool, which starts at
ingest.PARALLEL_FROM files), twenty of them damaged. The others are consolidated, the 20
reported one problem each, nothing else changes. The benchmark (bench/run.py) measures the
1,000- and 10,000-form months."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import build_plan_workbook
from gkreport.core.model import Period
from gkreport.intake.ingest import PARALLEL_FROM
from gkreport.workspace import Paths, run_consolidate, run_demo

PERIOD = Period.parse("2025-06")
UNITS = 200


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-unit plan, its forms generated and filled as units fill them."""
    ws = tmp_path_factory.mktemp("city")
    build_plan_workbook(ws, units=UNITS)
    run_demo(Paths(ws), PERIOD)
    return ws


def summary(ws: Path) -> dict[str, Any]:
    return json.loads((ws / "output" / str(PERIOD) / "summary.json").read_text(encoding="utf-8"))


def test_two_hundred_forms_with_twenty_damaged(city: Path) -> None:
    paths = Paths(city)
    clean = run_consolidate(paths, PERIOD)
    month = paths.returns(PERIOD)
    assert clean.report.summary.to_json()["files"]["read"] >= UNITS - 20
    assert clean.report.summary.to_json()["files"]["read"] > PARALLEL_FROM  # read by the process pool
    # Twenty ordinary forms: accepted, their unit's only file (the demo also plants a
    # duplicate, a renamed file and a lock file, which stay as they are).
    per_unit: dict[str, int] = {}
    for s in clean.report.submissions:
        per_unit[s.unit] = per_unit.get(s.unit, 0) + 1
    ordinary = {s.file: s for s in clean.report.submissions
                if s.accepted and s.unit and per_unit[s.unit] == 1}
    victims = random.Random(7).sample(sorted(month / f for f in ordinary), 20)
    lost_rows = 0
    for i, path in enumerate(victims):  # what a bad month brings, in four kinds
        data = path.read_bytes()
        lost_rows += ordinary[path.name].rows_read
        path.write_bytes(data[: len(data) // 2] if i % 4 == 0 else
                         random.Random(i).randbytes(4000) if i % 4 == 1 else
                         b"" if i % 4 == 2 else "序号,状态\n1,完成\n".encode())

    result = run_consolidate(paths, PERIOD)
    files, before = result.report.summary.to_json()["files"], clean.report.summary.to_json()["files"]
    assert files["found"] == before["found"]
    assert files["refused"] == before["refused"] + 20
    assert files["read"] == before["read"] - 20
    # Every damaged file: exactly one problem naming it, an error; nobody else's rows touched.
    names = {p.name for p in victims}
    problems = [p for p in result.report.problems if p.file in names]
    assert sorted(p.file for p in problems) == sorted(names)
    assert all(p.is_error for p in problems)
    rows, rows_before = result.report.summary.to_json()["rows"], clean.report.summary.to_json()["rows"]
    assert rows["read"] == rows_before["read"] - lost_rows
    assert rows["read"] == rows["merged"] + rows["rejected"]
    # Their units are now missing; everyone else's entries are exactly as before.
    damaged_units = {s.unit for s in clean.report.submissions if s.file in names}
    assert damaged_units <= set(result.report.summary.to_json()["units"]["missing"])
    keep = [e for e in clean.report.entries if e.unit not in damaged_units]
    assert sorted(result.report.entries, key=_key) == sorted(keep, key=_key)
    assert summary(city) == result.report.summary.to_json()


def _key(e: Any) -> tuple[int, str]:
    return e.task_no, e.unit
