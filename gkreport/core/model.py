"""Typed domain objects shared by every stage: plan, units, returns, report."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from gkreport.core.problems import Problem
from gkreport.core.text import fold, nfkc, unit_key


class Status(StrEnum):
    """A reported or derived status; values are the Chinese labels users see."""

    DONE = "已完成"
    ON_TRACK = "按计划推进"
    BEHIND = "滞后"
    NOT_STARTED = "未启动"
    UNVERIFIED = "待核实"  # the unit wrote something we could not read
    MISSING = "未报送"  # expected unit, no usable form


REPORTABLE: tuple[Status, ...] = (Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED)

# Variants units type instead of choosing from the dropdown (README "状态与预警").
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

    @property
    def key(self) -> str:
        """The task's identity across plan versions: its text, compared without spaces and
        punctuation. A task renumbered or given other units is the same task; one whose
        text changed is a new one."""
        return task_key(self.text)


@lru_cache(maxsize=1 << 14)
def task_key(text: str) -> str:
    """A short stable id of a task text (see Task.key); remembered, as every stage asks it
    of the same few hundred texts."""
    core = _NOT_WORD.sub("", fold(nfkc(text)))
    return hashlib.sha256(core.encode()).hexdigest()[:16]


_NOT_WORD = re.compile(r"[\W_]+")


def fingerprint(tasks: tuple[Task, ...]) -> str:
    """Hash of what a plan asks of whom, by when: a version of the plan.

    Every task's number, category, text, deadline and units count; the registry's contacts
    do not (editing a telephone number is not a new plan). A form carries the fingerprint
    of the plan it was made from; the history keeps each version.
    """
    h = hashlib.sha256()
    for t in tasks:
        fields = (str(t.no), t.category, t.text, t.deadline.text, "、".join(t.expected_units),
                  t.lead_unit, "1" if t.open else "")
        h.update(("\x1f".join(fields) + "\x1e").encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class PlanIndex:
    """Lookups on a plan, built once with it: a city's plan has hundreds of tasks and ~1,000
    units, and every stage asks per row."""

    tasks: dict[int, Task]
    units: dict[str, Unit]
    tasks_of: dict[str, tuple[Task, ...]]
    expected: dict[int, frozenset[str]]
    names: dict[str, str]  # unit_key of a registered name or alias -> the unit's name
    keys: dict[str, Task]  # Task.key -> task
    fingerprint: str

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
        return cls(fingerprint=fingerprint(tasks),
                   tasks={t.no: t for t in tasks}, units={u.name: u for u in units},
                   tasks_of={u: tuple(ts) for u, ts in tasks_of.items()},
                   expected={t.no: frozenset(t.expected_units) for t in tasks}, names=names,
                   keys={t.key: t for t in reversed(tasks)})


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
        """Hash of what the plan asks of whom, by when: a version of the plan (computed with
        the plan: every returned form is checked against it)."""
        return self.index.fingerprint

    def to_record(self) -> dict[str, Any]:
        """The plan's content as plain data (the history keeps every version so)."""
        return {
            "year": self.year, "title": self.title, "source": self.source,
            "tasks": [{"no": t.no, "category": t.category, "text": t.text,
                       "units_text": t.units_text, "deadline_text": t.deadline.text,
                       "deadline": t.deadline.date.isoformat() if t.deadline.date else None,
                       "named": list(t.named_units), "expected": list(t.expected_units),
                       "lead": t.lead_unit, "open": t.open} for t in self.tasks],
            "units": [{"name": u.name, "kind": u.kind.value, "aliases": list(u.aliases),
                       "contact": u.contact, "phone": u.phone} for u in self.units],
            "collectives": [{"name": c.name, "rule": c.rule, "members": list(c.members),
                             "open": c.open} for c in self.collectives],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Plan:
        """The plan `to_record` gave (no problems: it was consolidated, so it was sound)."""
        tasks = tuple(Task(
            no=t["no"], category=t["category"], text=t["text"], units_text=t["units_text"],
            deadline=Deadline(t["deadline_text"],
                              date.fromisoformat(t["deadline"]) if t["deadline"] else None),
            named_units=tuple(t["named"]), expected_units=tuple(t["expected"]),
            lead_unit=t["lead"], open=t["open"]) for t in record["tasks"])
        units = tuple(Unit(u["name"], UnitKind(u["kind"]), tuple(u["aliases"]), u["contact"],
                           u["phone"]) for u in record["units"])
        collectives = tuple(Collective(c["name"], c["rule"], tuple(c["members"]), c["open"])
                            for c in record["collectives"])
        return cls(year=record["year"], title=record["title"], tasks=tasks, units=units,
                   collectives=collectives, source=record["source"])

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

    def task_of_key(self, key: str) -> Task | None:
        """The task with that identity (Task.key): the same text, whatever its number."""
        return self.index.keys.get(key)

    def unit_named(self, name: str) -> str:
        """The registered unit a name or alias (an old name kept as 别名) means; "" if none."""
        return self.index.names.get(unit_key(name), "")

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
    carried_from: Period | None = None  # 沿用上期: the period this report was made in


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
    lacking: tuple[int, ...] = ()  # tasks the unit owes that the form has no row for
    old_plan: bool = False  # made from an earlier version of the plan (read row by row)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A file that is not a form (佐证材料: PDF, Word, images, archives): listed, not read."""

    file: str  # path within input/PERIOD, "/"-separated
    unit: str  # the unit its name or folder names; "" when none
    sha256: str
    size: int
    read_at: str  # ISO timestamp of its modification time


@dataclass(frozen=True, slots=True)
class FileCounts:
    """Files of a period's folder: found = read + refused + skipped + evidence."""

    found: int = 0
    read: int = 0
    refused: int = 0
    skipped: int = 0
    evidence: int = 0  # 佐证材料: listed, not read


@dataclass(frozen=True, slots=True)
class RowCounts:
    """Data rows read = merged + rejected; carried rows (沿用上期) come from the history."""

    read: int = 0
    merged: int = 0
    rejected: int = 0
    carried: int = 0


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
    evidence: tuple[Evidence, ...] = ()
    register: dict[str, str] = field(default_factory=dict)  # 收文登记: file -> received (ISO)
    problems_of_file: dict[str, tuple[Problem, ...]] = field(init=False, repr=False,
                                                             compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "problems_of_file", group(self.problems, attrgetter("file")))
