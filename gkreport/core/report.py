"""The consolidated period: task and unit results, the submission ledger, the key figures.

`consolidate` builds a `Report`; every output (workbook, memo, notice, summary.json, the
history) renders the same object, so their figures agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

from gkreport.core.model import (
    OVERDUE,
    REPORTABLE,
    Colour,
    Entry,
    FileCounts,
    Period,
    Plan,
    RowCounts,
    Status,
    Submission,
    SubmissionState,
    Task,
    Unit,
    group,
)
from gkreport.core.problems import Problem


class Outcome(StrEnum):
    """What became of a file in input/PERIOD (the submission ledger's outcome)."""

    ACCEPTED = "采用"
    SUPERSEDED = "被替代"  # a newer form of the same unit was used
    REFUSED = "拒收"  # unreadable, another period, not a spreadsheet …
    EVIDENCE = "佐证材料"  # PDF, Word, images, archives: listed, not read


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file of the submission ledger: when it was first seen and what became of it."""

    period: Period
    name: str  # path within input/PERIOD, "/"-separated (a unit's subfolder included)
    sha256: str
    size: int
    received: datetime  # local time: the file's modification time when first seen
    unit: str  # "" when no unit could be found
    errors: int
    warnings: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A task's merged status for the period, with the counts behind it."""

    task: Task
    status: Status
    overdue: bool
    colour: Colour
    expected: int
    reported: int  # reports counted in the status rule, carried ones included
    done: int
    behind: int
    missing: int
    avg_progress: float | None
    missing_units: tuple[str, ...] = ()
    previous_status: Status | None = None
    change: str = ""  # e.g. 按计划推进→已完成, 新增; "" when unchanged or no history
    # expected units whose accepted form has no usable row for this task (row rejected):
    # reported but 待核实, not 未报送
    unverified_units: tuple[str, ...] = ()
    # every unit whose report on this task is 待核实: an unreadable status, or a row not used
    unverified: tuple[str, ...] = ()
    carried_units: tuple[str, ...] = ()  # reports carried from an earlier period (沿用上期)
    reverted: tuple[tuple[str, Period], ...] = ()  # (unit, period it was 已完成) now not done
    new: bool = False  # not in the plan version of the previous period (新增)
    behind_units: tuple[str, ...] = ()  # units whose report (carried ones too) says 滞后
    open_units: tuple[str, ...] = ()  # units whose report says neither 已完成 nor 滞后

    def late_units(self) -> dict[str, tuple[str, ...]]:
        """Who a late task waits on, by why: 滞后; 未完成 (on an overdue task, every unit not
        done); 未报送. The memo and the workbook's 逾期滞后 sheet name the same units."""
        return {Status.BEHIND.value: self.behind_units,
                "未完成": self.open_units if self.overdue else (),
                Status.MISSING.value: self.missing_units}


@dataclass(frozen=True, slots=True)
class UnitResult:
    """An expected unit's submission state (报送情况) and its record for the period."""

    unit: Unit
    state: SubmissionState
    file: str
    tasks: int
    errors: int
    warnings: int
    received: datetime | None = None  # its first usable form for the period
    late_days: int | None = None  # None: not submitted; 0: on time
    rounds: int = 0  # return rounds: forms with 错误 later replaced by another file
    files: tuple[FileRecord, ...] = ()  # every file of the unit for the period, evidence too
    new_tasks: tuple[int, ...] = ()  # tasks its (older plan's) form did not carry: 未报送

    @property
    def timeliness(self) -> str:
        """按时 / 逾期N天 / 未报送."""
        if self.late_days is None:
            return SubmissionState.MISSING.value
        return "按时" if self.late_days == 0 else f"逾期{self.late_days}天"


@dataclass(frozen=True, slots=True)
class TrendRow:
    """A task's status in each period of the year (历史趋势), the current plan's tasks first,
    then tasks removed from the plan (their row ends when they left it)."""

    no: int | None  # its number in the current plan; None once removed
    category: str
    text: str
    statuses: dict[Period, Status]
    added: Period | None = None  # the period it first appeared in, when after the first
    removed: Period | None = None  # the first period it was no longer in the plan


@dataclass(frozen=True, slots=True)
class Report:
    """The consolidated period: the one object every output renders."""

    period: Period
    plan: Plan
    tasks: tuple[TaskResult, ...]
    units: tuple[UnitResult, ...]
    entries: tuple[Entry, ...]  # carried ones included (Entry.carried_from set)
    submissions: tuple[Submission, ...]
    problems: tuple[Problem, ...]
    files: FileCounts
    rows: RowCounts
    summary: Summary
    previous_period: Period | None = None
    # every consolidated period of the plan year up to this one, this one included (never
    # later ones: re-running a period gives the same Report)
    trend: tuple[TrendRow, ...] = ()
    trend_periods: tuple[Period, ...] = ()
    skipped_files: tuple[str, ...] = ()  # Returns.skipped_files, carried for the check report
    due: date | None = None  # 报送截止日期
    ledger: tuple[FileRecord, ...] = ()  # every file seen for the period
    # Lookups built once with the report: every output asks them per task.
    entries_of_task: dict[int, tuple[Entry, ...]] = field(init=False, repr=False,
                                                          compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries_of_task", group(self.entries, attrgetter("task_no")))

    def previous_label(self) -> str:
        """上月, or 上期（2025年4月） when the previous period is not the month before."""
        prev = self.previous_period
        if prev is None or prev == self.period.previous:
            return "上月"
        return f"上期（{prev.label}）"


# ---------------------------------------------------------------- the key figures


@dataclass(frozen=True, slots=True)
class CategoryFigures:
    """Task counts of one 一级指标."""

    name: str
    total: int
    by_status: dict[Status, int]  # every reportable status, 0 when none
    overdue: int


@dataclass(frozen=True, slots=True)
class TaskFigures:
    total: int
    by_status: dict[Status, int]
    overdue: int
    by_category: tuple[CategoryFigures, ...]


@dataclass(frozen=True, slots=True)
class UnitFigures:
    expected: int
    submitted: int
    missing: tuple[str, ...]
    needs_fix: tuple[str, ...]
    due: date | None = None
    on_time: tuple[str, ...] = ()
    late: tuple[tuple[str, int], ...] = ()  # (unit, days late)
    returned: dict[str, int] = field(default_factory=dict)  # unit -> return rounds (> 0)


@dataclass(frozen=True, slots=True)
class ProblemCounts:
    errors: int
    warnings: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The key figures of a consolidated period: the one source of every figure shown in the
    workbook, the memo, the notice and the terminal; `to_json` is summary.json."""

    period: Period
    plan_year: int
    plan_title: str
    fingerprint: str
    tasks: TaskFigures
    units: UnitFigures
    files: FileCounts
    rows: RowCounts
    problems: ProblemCounts
    previous_period: Period | None
    colours: dict[Colour, int]  # red, yellow, blue, green: tasks of each warning colour
    unverified_tasks: int  # tasks with any report we could not read or use (待核实)
    unverified_reports: int
    near_deadline: tuple[int, ...]  # 临期 (blue): task numbers

    def to_json(self) -> dict[str, Any]:
        """summary.json: keys others code against, never renamed (added ones go last)."""
        def statuses(counts: dict[Status, int]) -> dict[str, int]:
            return {s.value: counts[s] for s in REPORTABLE}

        t, u, f, r = self.tasks, self.units, self.files, self.rows
        return {
            "period": str(self.period),
            "plan": {"year": self.plan_year, "title": self.plan_title,
                     "fingerprint": self.fingerprint},
            "tasks": {"total": t.total, **statuses(t.by_status), OVERDUE: t.overdue,
                      "by_category": {c.name: {"total": c.total, **statuses(c.by_status),
                                               OVERDUE: c.overdue} for c in t.by_category}},
            "units": {"expected": u.expected, "submitted": u.submitted,
                      "missing": list(u.missing), "needs_fix": list(u.needs_fix),
                      "due": u.due.isoformat() if u.due else None,
                      "on_time": list(u.on_time),
                      "late": [{"unit": name, "days": days} for name, days in u.late],
                      "returned": dict(u.returned)},
            "files": {"found": f.found, "read": f.read, "refused": f.refused,
                      "skipped": f.skipped, "evidence": f.evidence},
            "rows": {"read": r.read, "merged": r.merged, "rejected": r.rejected,
                     "carried": r.carried},
            "problems": {"错误": self.problems.errors, "警告": self.problems.warnings},
            "previous_period": str(self.previous_period) if self.previous_period else None,
            "colours": {c.value: self.colours.get(c, 0)
                        for c in (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.GREEN)},
            "unverified": {"tasks": self.unverified_tasks, "reports": self.unverified_reports},
            "near_deadline": list(self.near_deadline),
        }
