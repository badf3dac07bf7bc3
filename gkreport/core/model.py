"""Typed domain objects shared by every stage: plan, units, returns, report."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

from gkreport.core.problems import Problem
from gkreport.core.text import unit_key


class Status(StrEnum):
    """A reported or derived status; values are the Chinese labels users see."""

    DONE = "已完成"
    ON_TRACK = "按计划推进"
    BEHIND = "滞后"
    NOT_STARTED = "未启动"
    UNVERIFIED = "待核实"  # the unit wrote something we could not read
    MISSING = "未报送"  # expected unit, no usable form


REPORTABLE: tuple[Status, ...] = (Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED)

# Variants units type instead of choosing from the dropdown (DESIGN.md "Statuses").
STATUS_ALIASES: dict[str, Status] = {
    "已完成": Status.DONE, "完成": Status.DONE, "已办结": Status.DONE, "办结": Status.DONE,
    "全部完成": Status.DONE, "已经完成": Status.DONE,
    "按计划推进": Status.ON_TRACK, "推进中": Status.ON_TRACK, "进行中": Status.ON_TRACK,
    "正在推进": Status.ON_TRACK, "按序时推进": Status.ON_TRACK, "按计划进行": Status.ON_TRACK,
    "正常推进": Status.ON_TRACK, "有序推进": Status.ON_TRACK, "持续推进": Status.ON_TRACK,
    "滞后": Status.BEHIND, "延期": Status.BEHIND, "未按期": Status.BEHIND, "进度滞后": Status.BEHIND,
    "已滞后": Status.BEHIND, "未按期完成": Status.BEHIND,
    "未启动": Status.NOT_STARTED, "未开始": Status.NOT_STARTED, "尚未启动": Status.NOT_STARTED,
    "尚未开始": Status.NOT_STARTED, "暂未启动": Status.NOT_STARTED,
}

_STATUS_JUNK = re.compile(r"[\s　,，。.;；:：!！、\"'“”‘’()（）\[\]【】]+")


def normalise_status(value: object) -> Status | None:
    """Map a typed status to a Status, or None when it is not recognisable.

    >>> normalise_status(" 推进中。")
    <Status.ON_TRACK: '按计划推进'>
    """
    if value is None:
        return None
    text = _STATUS_JUNK.sub("", str(value))
    return STATUS_ALIASES.get(text)


class Colour(StrEnum):
    """三色预警 (plus green for done); the same meaning in workbook, memo and terminal."""

    RED = "红"  # 逾期
    YELLOW = "黄"  # 滞后 or 待核实
    BLUE = "蓝"  # not done, deadline within 30 days after the period's end
    GREEN = "绿"  # 已完成
    NONE = ""


COLOUR_HEX: dict[Colour, str] = {
    Colour.RED: "#F8CBAD", Colour.YELLOW: "#FFE699", Colour.BLUE: "#BDD7EE",
    Colour.GREEN: "#C6EFCE", Colour.NONE: "#FFFFFF",
}

class SubmissionState(StrEnum):
    """An expected unit's state for a period (报送情况)."""

    SUBMITTED = "已报送"
    MISSING = "未报送"
    NEEDS_FIX = "需修改"  # submitted, and its accepted form has 错误


OVERDUE = "逾期"  # the label of an overdue task wherever it is counted or flagged

# The one status -> warning colour table (workbook, memo, terminal): a value shown in a
# status column (task status, entry status, 报送情况 or 逾期) and the colour it carries.
# 按计划推进 and 未启动 stay uncoloured so that blue keeps its one meaning (deadline near);
# 未报送 is grey (MISSING_HEX), not red: red means 逾期.
# (Status.MISSING and SubmissionState.MISSING are both 未报送: StrEnum members equal their
# label, so one key serves both.)
STATUS_COLOUR: dict[str, Colour] = {
    Status.DONE: Colour.GREEN, Status.ON_TRACK: Colour.NONE, Status.BEHIND: Colour.YELLOW,
    Status.NOT_STARTED: Colour.NONE, Status.UNVERIFIED: Colour.YELLOW,
    SubmissionState.SUBMITTED: Colour.GREEN, SubmissionState.NEEDS_FIX: Colour.YELLOW,
    OVERDUE: Colour.RED,
}
MISSING_HEX = "#D9D9D9"  # 未报送 (Status.MISSING, SubmissionState.MISSING): grey fill
MISSING_TEXT_HEX = "#C00000"  # ... with dark red text
STATUS_HEX: dict[str, str] = {**{k: COLOUR_HEX[c] for k, c in STATUS_COLOUR.items()},
                              SubmissionState.MISSING: MISSING_HEX}


class UnitKind(StrEnum):
    DEPARTMENT = "区政府部门"
    STREET_TOWN = "街镇"
    OTHER = "其他"


@dataclass(frozen=True, slots=True)
class Unit:
    """A registered unit (单位名录 row)."""

    name: str
    kind: UnitKind
    aliases: tuple[str, ...] = ()
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Collective:
    """A collective term (集合名称): 各街镇 -> every 街镇; open terms expect nobody."""

    name: str
    rule: str  # as written in the workbook, e.g. "类别=街镇", "开放", "区教育局、区民政局"
    members: tuple[str, ...] = ()
    open: bool = False


@dataclass(frozen=True, slots=True)
class Deadline:
    """A 时间节点 as written, and the date it means (None: ongoing, never overdue)."""

    text: str
    date: date | None

    @property
    def ongoing(self) -> bool:
        return self.date is None

    def label(self) -> str:
        return self.date.isoformat() if self.date else "无"


@dataclass(frozen=True, slots=True)
class Task:
    """One row of the task decomposition table, with its units resolved."""

    no: int
    category: str  # 一级指标
    text: str  # 二级指标
    units_text: str  # 责任单位 as written
    deadline: Deadline
    named_units: tuple[str, ...] = ()  # registered units named explicitly, in order
    expected_units: tuple[str, ...] = ()  # after expanding collective terms, in order
    lead_unit: str = ""  # first named unit or collective term as written
    open: bool = False  # 各有关单位: any registered unit may report


@dataclass(frozen=True, slots=True)
class PlanIndex:
    """Lookups on a plan, built once with it: a city's plan has hundreds of tasks and ~1,000
    units, and every stage asks per row."""

    tasks: dict[int, Task]
    units: dict[str, Unit]
    tasks_of: dict[str, tuple[Task, ...]]
    expected: dict[int, frozenset[str]]
    names: dict[str, str]  # unit_key of a registered name or alias -> the unit's name

    @classmethod
    def build(cls, tasks: tuple[Task, ...], units: tuple[Unit, ...]) -> PlanIndex:
        tasks_of: dict[str, list[Task]] = {}
        for t in tasks:
            for u in t.expected_units:
                tasks_of.setdefault(u, []).append(t)
        names: dict[str, str] = {}
        for u in units:
            for n in (*u.aliases, u.name):  # a unit's own name wins over another's alias
                if unit_key(n):
                    names[unit_key(n)] = u.name
        return cls(tasks={t.no: t for t in tasks}, units={u.name: u for u in units},
                   tasks_of={u: tuple(ts) for u, ts in tasks_of.items()},
                   expected={t.no: frozenset(t.expected_units) for t in tasks}, names=names)


@dataclass(frozen=True, slots=True)
class Plan:
    """The yearly work plan: tasks, unit registry, collective terms, and plan problems."""

    year: int
    title: str  # e.g. 2025年松江区政务公开工作要点
    tasks: tuple[Task, ...]
    units: tuple[Unit, ...]
    collectives: tuple[Collective, ...] = ()
    problems: tuple[Problem, ...] = ()
    source: str = ""
    index: PlanIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", PlanIndex.build(self.tasks, self.units))

    @property
    def fingerprint(self) -> str:
        """Hash of task numbers and texts: identifies which plan a form was made from."""
        h = hashlib.sha256()
        for t in self.tasks:
            h.update(f"{t.no}\x1f{t.text}\x1e".encode())
        return h.hexdigest()[:16]

    @property
    def categories(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.tasks:
            seen.setdefault(t.category, None)
        return tuple(seen)

    @property
    def expected_units(self) -> tuple[str, ...]:
        """Every unit some task expects, in registry order."""
        wanted = {u for t in self.tasks for u in t.expected_units}
        return tuple(u.name for u in self.units if u.name in wanted)

    def unit(self, name: str) -> Unit | None:
        """The registered unit of that exact name."""
        return self.index.units.get(name)

    def task(self, no: int) -> Task | None:
        """The task numbered `no`."""
        return self.index.tasks.get(no)

    def tasks_for(self, unit: str) -> tuple[Task, ...]:
        """Tasks that expect this unit (the rows of its form)."""
        return self.index.tasks_of.get(unit, ())

    def accepts(self, task: Task, unit: str) -> bool:
        """Whether a report from this unit on this task is accepted (expected, or open task)."""
        index = self.index
        return (unit in index.expected.get(task.no, ())
                or (task.open and unit in index.units))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


# Plan years gkreport accepts: far enough either side of today for any real plan, and
# inside what dates and file names handle (9999-12 would have no "next month").
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting month, written YYYY-MM; periods sort in time order."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"期次“{text}”格式不对，应为 YYYY-MM，例如 2025-06")
        if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
            raise ValueError(f"期次“{text}”的年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """2025年6月"""
        return f"{self.year}年{self.month}月"

    @property
    def end(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    @property
    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)


_K = TypeVar("_K")
_V = TypeVar("_V")


def group(items: Iterable[_V], key: Callable[[_V], _K]) -> dict[_K, tuple[_V, ...]]:
    """Items by key, each group in the items' order."""
    out: dict[_K, list[_V]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return {k: tuple(v) for k, v in out.items()}


_T = TypeVar("_T", bound=type)


def _pickled_as_arguments(cls: _T) -> _T:
    """Pickle instances as their constructor's arguments, gathered in C.

    A month's entries come back from each reading worker in pickles; the default for a
    frozen slots dataclass, attribute by attribute, is slower both ways.
    """
    get = attrgetter(*(f.name for f in fields(cls)))

    def reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, get(self)

    cls.__reduce__ = reduce  # type: ignore[assignment]
    return cls


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Entry:
    """One task x unit row read from a returned form (a row of 单位填报明细)."""

    task_no: int
    unit: str
    status: Status  # normalised; UNVERIFIED when unreadable
    raw_status: str
    progress: float | None  # 0..100
    note: str  # 进展情况
    issues: str  # 存在问题
    next_steps: str  # 下步计划
    file: str  # file name as received
    sheet: str
    row: int  # 1-based Excel row
    cell: str  # A1 of the status cell, for tracing
    task_text: str = ""


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Submission:
    """A returned form file and what became of it."""

    file: str  # file name within input/PERIOD
    unit: str  # "" when unidentified
    sha256: str
    size: int
    read_at: str  # ISO timestamp of reading (file mtime, for reproducibility)
    filled_by: str = ""
    phone: str = ""
    fill_date: str = ""
    accepted: bool = True  # False: refused or superseded
    superseded: bool = False
    rows_read: int = 0
    rows_rejected: int = 0
    errors: int = 0
    warnings: int = 0
    identified_by: str = ""  # 元数据 / 填报单位 / 文件名


@dataclass(frozen=True, slots=True)
class FileCounts:
    found: int = 0
    read: int = 0
    refused: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class RowCounts:
    read: int = 0
    merged: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class Returns:
    """Everything read from input/PERIOD: accepted entries, submissions, problems, counts."""

    period: Period
    entries: tuple[Entry, ...]
    submissions: tuple[Submission, ...]
    problems: tuple[Problem, ...]
    files: FileCounts
    rows: RowCounts
    skipped_files: tuple[str, ...] = ()
    problems_of_file: dict[str, tuple[Problem, ...]] = field(init=False, repr=False,
                                                             compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "problems_of_file", group(self.problems, attrgetter("file")))


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A task's merged status for the period, with the counts behind it."""

    task: Task
    status: Status
    overdue: bool
    colour: Colour
    expected: int
    reported: int
    done: int
    behind: int
    missing: int
    avg_progress: float | None
    missing_units: tuple[str, ...] = ()
    previous_status: Status | None = None
    change: str = ""  # e.g. 按计划推进→已完成; "" when unchanged or no history
    # expected units whose accepted form has no usable row for this task (row rejected):
    # reported but 待核实, not 未报送
    unverified_units: tuple[str, ...] = ()
    # every unit whose report on this task is 待核实: an unreadable status, or a row not used
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitResult:
    """An expected unit's submission state (报送情况)."""

    unit: Unit
    state: SubmissionState
    file: str
    tasks: int
    errors: int
    warnings: int


@dataclass(frozen=True, slots=True)
class Report:
    """The consolidated period: the one object every output renders."""

    period: Period
    plan: Plan
    tasks: tuple[TaskResult, ...]
    units: tuple[UnitResult, ...]
    entries: tuple[Entry, ...]
    submissions: tuple[Submission, ...]
    problems: tuple[Problem, ...]
    files: FileCounts
    rows: RowCounts
    summary: Summary
    previous_period: Period | None = None
    # task_no -> {period: task status} for stored periods of the plan year up to this one,
    # this one included (never later ones: re-running a period gives the same Report)
    trend: dict[int, dict[Period, Status]] = field(default_factory=dict)
    trend_periods: tuple[Period, ...] = ()
    skipped_files: tuple[str, ...] = ()  # Returns.skipped_files, carried for the check report
    # Lookups built once with the report: every output asks them per task.
    entries_of_task: dict[int, tuple[Entry, ...]] = field(init=False, repr=False,
                                                          compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries_of_task", group(self.entries, attrgetter("task_no")))


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
                      "missing": list(u.missing), "needs_fix": list(u.needs_fix)},
            "files": {"found": f.found, "read": f.read, "refused": f.refused,
                      "skipped": f.skipped},
            "rows": {"read": r.read, "merged": r.merged, "rejected": r.rejected},
            "problems": {"错误": self.problems.errors, "警告": self.problems.warnings},
            "previous_period": str(self.previous_period) if self.previous_period else None,
            "colours": {c.value: n for c, n in self.colours.items()},
            "unverified": {"tasks": self.unverified_tasks, "reports": self.unverified_reports},
            "near_deadline": list(self.near_deadline),
        }
