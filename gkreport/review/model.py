"""The review's result: typed, frozen, plain Python (no pandas), rendered by the workbook, the
memo and `--json` alike, so their figures agree by construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gkreport.core.model import FIRST_YEAR, LAST_YEAR, REPORTABLE, Period, Status

HALVES = {1: (1, 6), 2: (7, 12)}
QUARTERS = {1: (1, 3), 2: (4, 6), 3: (7, 9), 4: (10, 12)}
_HALF_WORDS = {1: "上半年", 2: "下半年"}
_QUARTER_WORDS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


@dataclass(frozen=True, slots=True)
class Span:
    """The months a review covers: from `start` to `end` (both included) of one plan year."""

    year: int
    start: Period
    end: Period

    @classmethod
    def of(cls, year: int, start: Period | None = None, end: Period | None = None) -> Span:
        """The span of a year, or of part of it; ValueError (Chinese) when it is not one."""
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"年度“{year}”应在 {FIRST_YEAR}–{LAST_YEAR} 之间")
        start = start or Period(year, 1)
        end = end or Period(year, 12)
        for p in (start, end):
            if p.year != year:
                raise ValueError(f"期次 {p} 不在 {year} 年内")
        if start > end:
            raise ValueError(f"起始期次 {start} 晚于截止期次 {end}")
        return cls(year, start, end)

    @classmethod
    def half(cls, year: int, n: int) -> Span:
        first, last = HALVES[n]
        return cls.of(year, Period(year, first), Period(year, last))

    @classmethod
    def quarter(cls, year: int, n: int) -> Span:
        first, last = QUARTERS[n]
        return cls.of(year, Period(year, first), Period(year, last))

    @property
    def months(self) -> tuple[int, int]:
        return self.start.month, self.end.month

    @property
    def whole_year(self) -> bool:
        return self.months == (1, 12)

    @property
    def label(self) -> str:
        """The folder and file name part: 2025, or 2025-01_2025-06."""
        return str(self.year) if self.whole_year else f"{self.start}_{self.end}"

    @property
    def part(self) -> str:
        """年度, 上半年, 第三季度; "" for any other span."""
        if self.whole_year:
            return "年度"
        for n, months in HALVES.items():
            if self.months == months:
                return _HALF_WORDS[n]
        for n, months in QUARTERS.items():
            if self.months == months:
                return _QUARTER_WORDS[n]
        return ""

    @property
    def words(self) -> str:
        """2025年度, 2025年上半年, 2025年第三季度, 2025年6月, or 2025年3月至8月."""
        if self.part:
            return f"{self.year}年{self.part}" if not self.whole_year else f"{self.year}年度"
        if self.start == self.end:
            return self.start.label
        return f"{self.year}年{self.start.month}月至{self.end.month}月"

    def months_in(self) -> tuple[Period, ...]:
        """Every month of the span, in order."""
        return tuple(Period(self.year, m) for m in range(self.start.month, self.end.month + 1))


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A plan version the span's periods were consolidated with, and what changed in it."""

    fingerprint: str
    first: Period  # the span's first and last period consolidated with it
    last: Period
    tasks: int
    added: int = 0  # tasks not in the version before it (in the span), by task identity
    removed: int = 0


@dataclass(frozen=True, slots=True)
class OpenUnit:
    """A unit a task not finished waits on at the span's end, and what it said."""

    unit: str
    status: str  # its report's status, or 未报送
    issues: str  # 存在问题 as written ("" when none)


@dataclass(frozen=True, slots=True)
class TaskYear:
    """A task over the span: its final state, when it was first 已完成, its month-by-month
    statuses (None where the task was not in the plan of that period)."""

    key: str  # Task.key: the task across plan versions
    no: int | None  # its number in the current plan; None once removed from it
    last_no: int  # its number in the span's last period it was in
    category: str
    text: str
    deadline_text: str
    deadline: date | None
    status: Status  # in the span's last period it was in (carry-forward included)
    overdue: bool  # in that period
    completed_in: Period | None  # the year's first period (up to the span's end) it was 已完成
    statuses: tuple[Status | None, ...]  # one per Review.periods
    added: Period | None = None  # first in the plan in this period, after the year's first
    removed: Period | None = None  # the first period of the span it was no longer in the plan
    open_units: tuple[OpenUnit, ...] = ()  # not finished: who it waits on, and why

    @property
    def done(self) -> bool:
        return self.status is Status.DONE

    @property
    def on_time(self) -> bool | None:
        """Completed no later than its deadline's month (None: not completed at the end,
        even if it was once; True with no deadline, never late)."""
        if self.completed_in is None or not self.done:
            return None
        d = self.deadline
        return True if d is None else self.completed_in <= Period(d.year, d.month)

    @property
    def reverted(self) -> bool:
        """Reported 已完成 once, not 已完成 at the end."""
        return self.completed_in is not None and not self.done


@dataclass(frozen=True, slots=True)
class UnitYear:
    """A unit's record over the span (考核): periods expected, submitted, on time, late,
    missing, return rounds, first-pass periods, tasks done on time, and its score and rank."""

    name: str
    kind: str
    expected: int  # periods in which the unit had tasks
    submitted: int
    on_time: int
    late: int
    late_days: int  # summed over its late periods
    returned: int  # return rounds (退回轮次), summed
    first_pass: int  # submitted periods with no return round and no 错误 in the form used
    tasks_due: int  # its tasks due within the span (by the last consolidated period)
    tasks_on_time: int  # ... that it reported 已完成 by their deadline's month
    score: float
    rank: int
    # per Review.periods: (submitted, days late (None: not known), return rounds); None when
    # the unit was not expected then
    by_period: tuple[tuple[bool, int | None, int] | None, ...]

    @property
    def missing(self) -> int:
        return self.expected - self.submitted

    @property
    def first_pass_rate(self) -> float | None:
        return self.first_pass / self.submitted if self.submitted else None

    def cell(self, i: int) -> str:
        """报送明细 of period i: 按时 / 逾期N天 / 未报送 (已报送 when the ledger has no time),
        with its return rounds; "" when the unit was not expected then."""
        x = self.by_period[i]
        if x is None:
            return ""
        submitted, late, rounds = x
        text = ("未报送" if not submitted else "已报送" if late is None else
                "按时" if late == 0 else f"逾期{late}天")
        return text + (f"（退回{rounds}次）" if rounds else "")


@dataclass(frozen=True, slots=True)
class PeriodYear:
    """One consolidated period of the span: its task statuses and its submissions."""

    period: Period
    fingerprint: str
    by_status: dict[Status, int]  # every reportable status, 0 when none
    overdue: int
    expected: int  # units expected
    submitted: int
    on_time: int
    late: int
    returned: int  # return rounds

    @property
    def tasks(self) -> int:
        return sum(self.by_status.values())

    @property
    def missing(self) -> int:
        return self.expected - self.submitted


@dataclass(frozen=True, slots=True)
class Totals:
    """The review's key figures: sums over its tasks and units, shown in every output."""

    tasks: int  # tasks of the span's last period
    by_status: dict[Status, int]  # their final statuses
    overdue: int
    done_in_span: int  # finished, first 已完成 within the span
    done_before: int  # finished, first 已完成 before it
    done_on_time: int  # finished by the deadline's month
    reverted: int  # reported 已完成 once, not 已完成 at the end
    added: int  # tasks added to the plan during the span
    removed: int  # tasks removed from it during the span
    units: int
    expected: int  # unit × period
    submitted: int
    on_time: int
    late: int
    returned: int  # return rounds
    first_pass: int

    @property
    def done(self) -> int:
        return self.by_status[Status.DONE]

    @property
    def missing(self) -> int:
        return self.expected - self.submitted


@dataclass(frozen=True, slots=True)
class Review:
    """A half-year, a quarter or the year, reviewed from the history: the one object the
    workbook, the memo and `--json` render."""

    span: Span
    plan_title: str
    periods: tuple[Period, ...]  # the span's consolidated periods, oldest first
    gaps: tuple[Period, ...]  # months between its first and last period not consolidated
    versions: tuple[PlanVersion, ...]
    tasks: tuple[TaskYear, ...]  # the current plan's order, then tasks removed from it
    units: tuple[UnitYear, ...]  # by rank
    by_period: tuple[PeriodYear, ...]
    method: tuple[str, ...]  # the ranking's method, in words (written on the sheet)

    @property
    def last(self) -> Period:
        return self.periods[-1]

    @property
    def title(self) -> str:
        """2025年…工作要点年度推进情况总结 (上半年, 第三季度…), or …推进情况总结（2025年3月至8月）."""
        if self.span.part:
            return f"{self.plan_title}{self.span.part}推进情况总结"
        return f"{self.plan_title}推进情况总结（{self.span.words}）"

    @property
    def coverage(self) -> str:
        """已汇总2025年3月至12月共9期（11月未汇总）: what the review is made of."""
        first, last = self.periods[0], self.last
        months = first.label if first == last else f"{first.label}至{last.month}月"
        gaps = "、".join(f"{p.month}月" for p in self.gaps)
        return f"已汇总{months}共{len(self.periods)}期" + (f"（{gaps}未汇总）" if gaps else "")

    def ranked_last(self, n: int) -> tuple[UnitYear, ...]:
        """The n units ranked last and every unit tied with them (a tie is never cut), less
        those with the top score; none when there are no more than n units."""
        units = self.units
        if len(units) <= n:
            return ()
        cut = units[-n].rank
        return tuple(u for u in units if u.rank >= cut and u.score < units[0].score)

    @property
    def final_tasks(self) -> tuple[TaskYear, ...]:
        """The tasks of the span's last period (those removed before it are apart)."""
        return tuple(t for t in self.tasks if t.removed is None)

    @property
    def totals(self) -> Totals:
        tasks, units, start = self.final_tasks, self.units, self.span.start
        done = [t for t in tasks if t.done]
        return Totals(
            tasks=len(tasks), by_status={s: sum(t.status is s for t in tasks) for s in REPORTABLE},
            overdue=sum(t.overdue for t in tasks),
            done_in_span=sum(t.completed_in is not None and t.completed_in >= start for t in done),
            done_before=sum(t.completed_in is not None and t.completed_in < start for t in done),
            done_on_time=sum(bool(t.on_time) for t in done),
            reverted=sum(t.reverted for t in tasks),
            added=sum(t.added is not None for t in self.tasks),
            removed=sum(t.removed is not None for t in self.tasks),
            units=len(units), expected=sum(u.expected for u in units),
            submitted=sum(u.submitted for u in units), on_time=sum(u.on_time for u in units),
            late=sum(u.late for u in units), returned=sum(u.returned for u in units),
            first_pass=sum(u.first_pass for u in units))

    def to_json(self) -> dict[str, Any]:
        """`gkreport review --json`: keys others code against, never renamed."""
        return {
            "year": self.span.year,
            "periods": [str(p) for p in self.periods],
            "tasks": [{"no": t.no, "text": t.text, "status": t.status.value,
                       "completed_in": str(t.completed_in) if t.completed_in else None,
                       "overdue": t.overdue,
                       "added": str(t.added) if t.added else None,
                       "removed": str(t.removed) if t.removed else None} for t in self.tasks],
            "units": [{"name": u.name, "expected": u.expected, "submitted": u.submitted,
                       "missing": u.missing, "on_time": u.on_time, "late": u.late,
                       "returned": u.returned,
                       "first_pass": None if u.first_pass_rate is None
                       else round(u.first_pass_rate, 4),
                       "rank": u.rank, "score": u.score} for u in self.units],
            "range": {"from": str(self.span.start), "to": str(self.span.end),
                      "label": self.span.label},
            "plan_versions": [{"fingerprint": v.fingerprint, "from": str(v.first),
                               "to": str(v.last)} for v in self.versions],
        }
