"""A year of history for the benchmark of `gkreport review`: 12 consolidated periods of the
synthetic workspace, built in one process (set-up, not timed).

One month's returned forms (the synthetic workspace's, filled by the demo filler) are read
once with the product's reader. Each month of the year is then derived from them, as the
units of a real year would differ: every report's status and progress follow the demo's
trajectory for that month (`forms.demo.trajectory`: progress never falls, 已完成 stays), a
few units send nothing that month, and the ledger says when each unit's files came (most
before the due date, some late, a few forms returned and replaced). Each month is merged
by the product's own `consolidate` (carry-forward, task status rule, ledger rules) against
the year so far, and recorded with `History.record`: the history holds exactly what
consolidating those returns month by month would have stored, without writing and reading
12 × N forms.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

from gkreport.consolidate import consolidate
from gkreport.core.model import Entry, FileCounts, Period, Plan, Returns, RowCounts, Status
from gkreport.core.report import FileRecord, Outcome
from gkreport.forms.demo import trajectory
from gkreport.history import History
from gkreport.intake.ingest import read_returns
from gkreport.ledger import due_date
from gkreport.paths import Paths
from gkreport.plan.book import read_plan
from gkreport.year import build_prior

MISSING_SHARE = 0.03  # units sending nothing in a month
LATE_SHARE = 0.12  # units whose first form comes after the due date
RETURNED_SHARE = 0.03  # units whose first form has errors and is replaced


def build_year(root: Path, source: Path, period: str, *, months: int = 12,
               seed: int = 2025) -> int:
    """A workspace at `root` holding `source`'s plan and a history of `months` consolidated
    periods derived from `source`'s returns for `period`; the number of entries stored."""
    if root.exists():
        shutil.rmtree(root)
    paths = Paths(root)
    paths.plan.parent.mkdir(parents=True)
    shutil.copy(Paths(source).plan, paths.plan)
    plan = read_plan(paths.plan)
    base = read_returns(plan, Period.parse(period), Paths(source).returns(Period.parse(period)))
    history = History(paths.history)
    paths.output.mkdir(parents=True, exist_ok=True)
    paths_of = {(t.no, u): trajectory(plan, t, u, seed) for t in plan.tasks
                for u in t.expected_units}
    stored = 0
    for month in range(1, months + 1):
        p = Period(plan.year, month)
        returns, ledger = _month(plan, base, p, paths_of, random.Random(f"{seed}-{p}"))
        due = due_date(p)
        report = consolidate(plan, returns, p, prior=build_prior(plan, history.year_rows(
            plan.year, p)), due=due, ledger=ledger)
        history.record(report)
        stored += len(report.entries)
    return stored


def _month(plan: Plan, base: Returns, p: Period, paths_of: dict, rng: random.Random,
           ) -> tuple[Returns, tuple[FileRecord, ...]]:
    """Period p's returns and files, derived from the base month's."""
    units = sorted({s.unit for s in base.submissions if s.accepted and s.unit})
    gone = set(rng.sample(units, round(MISSING_SHARE * len(units))))
    late = set(rng.sample(units, round(LATE_SHARE * len(units))))
    returned = set(rng.sample(units, round(RETURNED_SHARE * len(units))))
    entries = tuple(_entry(e, paths_of, p) for e in base.entries if e.unit not in gone)
    submissions = tuple(replace(s, read_at="") for s in base.submissions
                        if s.unit not in gone)
    due = due_date(p)
    ledger = []
    for s in submissions:
        if not (s.accepted and s.unit):
            continue
        day = rng.randint(1, 9) if s.unit in late else rng.randint(-4, 0)
        when = datetime.combine(due + timedelta(days=day), time(10))
        if s.unit in returned:  # a first form with errors, replaced two days later
            ledger.append(FileRecord(p, f"{s.unit}（初稿）.xlsx", "0" * 64, s.size, when,
                                     s.unit, 2, 0, Outcome.SUPERSEDED))
            when += timedelta(days=2)
        ledger.append(FileRecord(p, s.file, s.sha256, s.size, when, s.unit, s.errors,
                                 s.warnings, Outcome.ACCEPTED))
    problems = tuple(x for x in base.problems if x.unit not in gone)
    returns = Returns(period=p, entries=entries, submissions=submissions, problems=problems,
                      files=FileCounts(len(submissions), len(submissions), 0, 0),
                      rows=RowCounts(len(entries), len(entries), 0))
    return returns, tuple(ledger)


def _entry(e: Entry, paths_of: dict, p: Period) -> Entry:
    """The report for month p: its status and progress on the unit's trajectory."""
    if e.status is Status.UNVERIFIED or (e.task_no, e.unit) not in paths_of:
        return e
    status, progress = paths_of[(e.task_no, e.unit)][p.month - 1]
    return replace(e, status=status, raw_status=status.value, progress=float(progress))
