"""What a period inherits from the earlier periods of its plan year (README "跨月：一年的记录").

The history stores each period as it was consolidated: units by the name they had then,
tasks by number in the plan version of the time. `Prior` maps that onto the current plan:
a task is the same task while its text is unchanged (Task.key), and a unit renamed with
its old name kept as 别名 owns the old name's history. consolidate reads `Prior` for 上期,
carry-forward (沿用上期), reverted completions and the trend; forms read it for prefill.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from gkreport.core.model import Entry, Period, Plan, Status, Task
from gkreport.core.report import TrendRow
from gkreport.history import YearRows


@dataclass(frozen=True, slots=True)
class Prior:
    """The consolidated periods of a plan year before a period, in the current plan's terms."""

    periods: tuple[Period, ...] = ()  # oldest first
    statuses: dict[Period, dict[str, Status]] = field(default_factory=dict)  # task key -> status
    tasks: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # key -> last (no, cat, text)
    # (task key, unit as the current plan names it) -> its latest own report, carried_from
    # set to the period it was made in
    latest: dict[tuple[str, str], Entry] = field(default_factory=dict)

    @property
    def previous(self) -> Period | None:
        """上期: the latest consolidated period of the year before this one."""
        return self.periods[-1] if self.periods else None

    def previous_status(self, task: Task) -> Status | None:
        prev = self.previous
        return self.statuses.get(prev, {}).get(task.key) if prev else None

    def is_new(self, task: Task) -> bool:
        """新增: not in the plan the previous period was consolidated with."""
        prev = self.previous
        return prev is not None and task.key not in self.statuses.get(prev, {})

    def report_of(self, task: Task, unit: str) -> Entry | None:
        """The unit's latest own report on the task this year (for carry-forward, prefill)."""
        return self.latest.get((task.key, unit))


def build_prior(plan: Plan, rows: YearRows) -> Prior:
    """Prior from the history's `YearRows`, with stored unit names mapped onto the plan's."""
    unit = _unit_names(plan)
    statuses: dict[Period, dict[str, Status]] = {}
    tasks: dict[str, tuple[int, str, str]] = {}
    for period, key, no, category, text, status in rows.tasks:
        statuses.setdefault(period, {})[key] = status
        tasks[key] = (no, category, text)
    latest: dict[tuple[str, str], Entry] = {}
    for key, name, period, entry in rows.latest:
        k = (key, unit(name))
        if k not in latest or latest[k].carried_from < period:  # type: ignore[operator]
            latest[k] = replace(entry, unit=k[1], carried_from=period)
    return Prior(periods=tuple(p for p, _ in rows.periods),
                 statuses=statuses, tasks=tasks, latest=latest)


def _unit_names(plan: Plan):  # noqa: ANN202 - a small closure
    """A stored unit name as the plan now names it (a renamed unit's old name is its 别名)."""
    def name(stored: str) -> str:
        return plan.unit_named(stored) or stored
    return name


def carried(task: Task, unit: str, prior: Prior) -> Entry | None:
    """The report carried into this period for a unit that sent none on the task (沿用上期):
    its latest own usable report of the year (a 待核实 row is never one: the history's
    `year_rows` leaves them out), numbered as the task is now; None when it has none."""
    entry = prior.report_of(task, unit)
    return None if entry is None else replace(entry, task_no=task.no, task_text=task.text)


def trend_rows(plan: Plan, prior: Prior, period: Period,
               now: dict[str, Status]) -> tuple[tuple[Period, ...], tuple[TrendRow, ...]]:
    """The year's periods up to this one, and each task's status in them: the plan's tasks
    (marked with the period they were added, when after the year's first), then tasks
    removed from the plan (with the first period they were gone)."""
    periods = (*prior.periods, period)
    statuses = {**prior.statuses, period: now}
    first = periods[0]

    def row_of(key: str) -> dict[Period, Status]:
        return {p: statuses[p][key] for p in periods if key in statuses.get(p, {})}

    rows = []
    for t in plan.tasks:
        mine = row_of(t.key)
        seen = min(mine, default=period)
        rows.append(TrendRow(no=t.no, category=t.category, text=t.text, statuses=mine,
                             added=seen if seen != first else None))
    current = {t.key for t in plan.tasks}
    for key, (_no, category, text) in prior.tasks.items():
        if key in current:
            continue
        mine = row_of(key)
        last = max(mine)
        gone = next((p for p in periods if p > last), period)
        rows.append(TrendRow(no=None, category=category, text=text, statuses=mine,
                             removed=gone))
    return periods, tuple(rows)
