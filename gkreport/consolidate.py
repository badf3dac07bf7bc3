"""The consolidate stage (pure): plan + returns + history -> Report, and its key figures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from gkreport.core.model import (
    REPORTABLE,
    CategoryFigures,
    Colour,
    Entry,
    FileCounts,
    Period,
    Plan,
    ProblemCounts,
    Report,
    Returns,
    RowCounts,
    Status,
    Submission,
    SubmissionState,
    Summary,
    Task,
    TaskFigures,
    TaskResult,
    UnitFigures,
    UnitResult,
    group,
)
from gkreport.core.problems import Problem, problem
from gkreport.core.text import clean

if TYPE_CHECKING:  # history imports sqlite3; consolidate only needs its read methods
    from gkreport.history import History

# A deadline this many days after the period's end (or on it) turns a task blue (临期).
NEAR_DEADLINE_DAYS = 30

# What units write in 存在问题 when they have none: not a problem raised (one rule for the
# workbook's 问题与建议 and 逾期滞后 sheets, the memo and the terminal).
NO_ISSUE = frozenset({"无", "暂无", "没有", "无问题", "暂无问题", "没有问题", "未发现问题",
                      "暂未发现问题", "无明显问题", "否", "/", "-", "—", "——"})

# Reports that show work has begun; 待核实 is reported but neither started nor done.
_STARTED = frozenset({Status.DONE, Status.ON_TRACK, Status.BEHIND})


def substantive_issue(text: str) -> bool:
    """Whether a 存在问题 cell raises a problem: not empty and not 无/暂无/无问题/—."""
    core = clean(text).strip("。.；;！!，, ")
    return bool(core) and core not in NO_ISSUE


def near_deadline(status: Status, deadline: date | None, period_end: date) -> bool:
    """临期: not 已完成 and the deadline falls on or within NEAR_DEADLINE_DAYS after period_end."""
    return (status is not Status.DONE and deadline is not None
            and period_end <= deadline <= period_end + timedelta(days=NEAR_DEADLINE_DAYS))


def is_overdue(task: Task, status: Status, period: Period) -> bool:
    """逾期: the deadline date is before the period's last day and the task is not 已完成."""
    d = task.deadline.date
    return d is not None and d < period.end and status is not Status.DONE


def colour_for(status: Status, *, overdue: bool, deadline: date | None, period_end: date,
               unverified: bool = False) -> Colour:
    """The warning colour (三色预警) of a task or an entry; one rule for every output.

    In order: RED when overdue; YELLOW when the status is 滞后 or 待核实, or any report
    behind it is 待核实 (`unverified`); BLUE when not 已完成 and the deadline falls on or
    within NEAR_DEADLINE_DAYS days after `period_end`; GREEN when 已完成; else NONE.
    For a single entry pass the task's `overdue` and the entry's own status.
    """
    if overdue:
        return Colour.RED
    if status in (Status.BEHIND, Status.UNVERIFIED) or unverified:
        return Colour.YELLOW
    if near_deadline(status, deadline, period_end):
        return Colour.BLUE
    if status is Status.DONE:
        return Colour.GREEN
    return Colour.NONE


def task_status(task: Task, reports: Mapping[str, Status], period: Period) -> tuple[Status, bool]:
    """A task's status and overdue flag from its units' reports (unit -> status), DESIGN.md rule.

    `reports` holds the expected units that reported plus, on an open (各有关单位) task,
    any other registered unit that reported. An expected unit whose accepted form has no
    usable row for the task (the row was rejected: text mismatch, duplicate…) reported
    待核实: it is not 未报送. Checked in order:

    1. 已完成 when there is at least one report, every expected unit reported, and every
       report (expected or extra unit) is 已完成. A 待核实 row is therefore never done.
    2. 滞后 when any report is 滞后, or the task is 逾期 (deadline before the period's end
       and not 已完成; an ongoing task has no deadline and is never 逾期).
    3. 未启动 when no report shows work begun: no reports at all, or every report is
       未启动 or 待核实 (an unreadable status counts as reported but not started).
    4. 按计划推进 otherwise: some work begun and nothing behind. Missing units do not make
       a task behind; they show in the counts and on the 报送情况 sheet.
    """
    everyone = all(u in reports for u in task.expected_units)
    if reports and everyone and all(s is Status.DONE for s in reports.values()):
        return Status.DONE, False
    overdue = is_overdue(task, Status.ON_TRACK, period)
    if overdue or any(s is Status.BEHIND for s in reports.values()):
        return Status.BEHIND, overdue
    if not any(s in _STARTED for s in reports.values()):
        return Status.NOT_STARTED, False
    return Status.ON_TRACK, False


def _unit_order(plan: Plan) -> dict[str, int]:
    return {u.name: i for i, u in enumerate(plan.units)}


def entry_key(plan: Plan) -> Any:
    """Sort key for entries: (task_no, registry order of the unit, unit name, file, row)."""
    order = _unit_order(plan)
    big = len(order)
    return lambda e: (e.task_no, order.get(e.unit, big), e.unit, e.file, e.row)


def _accept_entries(plan: Plan, returns: Returns) -> tuple[list[Entry], list[Problem]]:
    """Keep entries the plan accepts, one per task × unit; report any others as problems.

    Ingest normally refuses such rows itself; this is the guard that keeps
    rows read = merged + rejected true even when it did not.
    """
    key = entry_key(plan)
    kept: dict[tuple[int, str], Entry] = {}
    dropped: list[Problem] = []
    for e in sorted(returns.entries, key=key):
        task = plan.task(e.task_no)
        if task is None or not plan.accepts(task, e.unit):
            dropped.append(problem("unknown-task", file=e.file, sheet=e.sheet, cell=e.cell,
                                   row=e.row, unit=e.unit, no=e.task_no))
        elif (e.task_no, e.unit) in kept:
            dropped.append(problem("duplicate-task", file=e.file, sheet=e.sheet, cell=e.cell,
                                   row=e.row, unit=e.unit, no=e.task_no))
        else:
            kept[(e.task_no, e.unit)] = e
    return list(kept.values()), dropped


def _task_result(task: Task, entries: tuple[Entry, ...], period: Period,
                 previous: dict[int, Status] | None, accepted: frozenset[str]) -> TaskResult:
    by_unit = {e.unit: e for e in entries}
    reported = [by_unit[u] for u in task.expected_units if u in by_unit]
    expected = set(task.expected_units)
    extras = [e for e in entries if e.unit not in expected]
    everyone = reported + extras
    # The unit sent a usable form but this task's row was rejected: it reported, unread.
    unverified = tuple(u for u in task.expected_units if u not in by_unit and u in accepted)
    missing = tuple(u for u in task.expected_units if u not in by_unit and u not in accepted)
    reports = {e.unit: e.status for e in everyone} | dict.fromkeys(unverified, Status.UNVERIFIED)
    status, overdue = task_status(task, reports, period)
    progress = [e.progress for e in everyone if e.progress is not None]
    avg = sum(progress) / len(progress) if progress else None
    prev = previous.get(task.no) if previous else None
    change = f"{prev.value}→{status.value}" if prev is not None and prev is not status else ""
    return TaskResult(
        task=task, status=status, overdue=overdue,
        colour=colour_for(status, overdue=overdue, deadline=task.deadline.date,
                          period_end=period.end,
                          unverified=Status.UNVERIFIED in reports.values()),
        expected=len(task.expected_units), reported=len(reports),
        done=sum(e.status is Status.DONE for e in everyone),
        behind=sum(e.status is Status.BEHIND for e in everyone),
        missing=len(missing), avg_progress=avg, missing_units=missing,
        previous_status=prev, change=change, unverified_units=unverified,
        unverified=tuple(u for u, s in reports.items() if s is Status.UNVERIFIED))


def _unit_results(plan: Plan, submissions: tuple[Submission, ...],
                  problems: tuple[Problem, ...]) -> tuple[UnitResult, ...]:
    # Grouped once: a city has ~1,000 units, each asking for its own forms and problems.
    subs = group(submissions, attrgetter("unit"))
    probs = group(problems, attrgetter("unit"))
    results = []
    for name in plan.expected_units:
        unit = plan.unit(name)
        assert unit is not None  # expected_units only lists registered units
        mine = subs.get(name, ())
        accepted = next((s for s in mine if s.accepted), None)
        # A refused form (wrong period, wrong plan) still names its file, so the notice can
        # say what was wrong with it; the unit stays 未报送 until it sends a usable one.
        shown = accepted or (mine[-1] if mine else None)
        file = shown.file if shown else ""
        own = [p for p in probs.get(name, ()) if not p.file or p.file == file]
        errors = sum(p.is_error for p in own)
        if accepted is None:
            state = SubmissionState.MISSING
        else:
            state = SubmissionState.NEEDS_FIX if errors else SubmissionState.SUBMITTED
        results.append(UnitResult(unit=unit, state=state, file=file,
                                  tasks=len(plan.tasks_for(name)), errors=errors,
                                  warnings=len(own) - errors))
    return tuple(results)


def consolidate(plan: Plan, returns: Returns, period: Period, *,
                history: History | None = None) -> Report:
    """Merge a period's returns against the plan into a Report (reads history, never writes).

    Unit results (报送情况) cover every expected unit in plan order: 已报送; 需修改 when its
    accepted form has any 错误; 未报送 when it has no accepted form (a refused form's file
    and problems are still shown). `tasks` is the number of tasks the unit is expected on.
    The trend comes from stored periods of the same plan year up to this one; the previous
    period (上月状态, 变化) is the latest earlier one consolidated against the same plan
    (fingerprint), so a renumbered plan never attaches old statuses to other tasks. A stored
    copy of this period and later periods are ignored: re-running any period, in any order,
    gives the same Report.
    """
    entries, dropped = _accept_entries(plan, returns)
    problems = returns.problems + tuple(dropped)
    rows = RowCounts(read=returns.rows.read, merged=len(entries),
                     rejected=returns.rows.rejected + len(dropped)) if dropped else returns.rows

    stored: dict[Period, dict[int, Status]] = {}
    previous_period: Period | None = None
    if history is not None:
        # one read, so previous status and trend come from the same snapshot
        snapshot = {p: v for p, v in history.stored_statuses(year=plan.year).items()
                    if p < period}
        stored = {p: statuses for p, (_, statuses) in snapshot.items()}
        previous_period = max((p for p, (fp, _) in snapshot.items() if fp == plan.fingerprint),
                              default=None)
    previous = stored.get(previous_period) if previous_period else None

    by_task = group(entries, attrgetter("task_no"))
    accepted = frozenset(s.unit for s in returns.submissions if s.accepted and s.unit)
    tasks = tuple(_task_result(t, by_task.get(t.no, ()), period, previous, accepted)
                  for t in plan.tasks)

    trend_periods = tuple(sorted({*stored, period}))
    trend: dict[int, dict[Period, Status]] = {}
    for t in tasks:
        row = {p: stored[p][t.task.no] for p in trend_periods
               if p in stored and t.task.no in stored[p]}
        row[period] = t.status
        trend[t.task.no] = dict(sorted(row.items()))

    units = _unit_results(plan, returns.submissions, problems)
    summary = summarise(period, plan, tasks, units, tuple(entries), problems, returns.files,
                        rows, previous_period)
    return Report(
        period=period, plan=plan, tasks=tasks, units=units,
        entries=tuple(entries), submissions=returns.submissions, problems=problems,
        files=returns.files, rows=rows, summary=summary, previous_period=previous_period,
        trend=trend, trend_periods=trend_periods, skipped_files=returns.skipped_files)


def _counts(tasks: list[TaskResult] | tuple[TaskResult, ...]) -> dict[Status, int]:
    return {s: sum(t.status is s for t in tasks) for s in REPORTABLE}


def summarise(period: Period, plan: Plan, tasks: tuple[TaskResult, ...],
              units: tuple[UnitResult, ...], entries: tuple[Entry, ...],
              problems: tuple[Problem, ...], files: FileCounts, rows: RowCounts,
              previous_period: Period | None) -> Summary:
    """The key figures of a period, computed once: every figure shown anywhere comes from it."""
    categories = []
    for cat in plan.categories:
        mine = [t for t in tasks if t.task.category == cat]
        categories.append(CategoryFigures(cat, len(mine), _counts(mine),
                                          sum(t.overdue for t in mine)))
    errors = sum(p.is_error for p in problems)
    return Summary(
        period=period, plan_year=plan.year, plan_title=plan.title,
        fingerprint=plan.fingerprint,
        tasks=TaskFigures(len(tasks), _counts(tasks), sum(t.overdue for t in tasks),
                          tuple(categories)),
        units=UnitFigures(
            expected=len(units),
            submitted=sum(u.state is not SubmissionState.MISSING for u in units),
            missing=tuple(u.unit.name for u in units if u.state is SubmissionState.MISSING),
            needs_fix=tuple(u.unit.name for u in units
                            if u.state is SubmissionState.NEEDS_FIX)),
        files=files, rows=rows, problems=ProblemCounts(errors, len(problems) - errors),
        previous_period=previous_period,
        colours={c: sum(t.colour is c for t in tasks)
                 for c in (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.GREEN)},
        unverified_tasks=sum(bool(t.unverified) for t in tasks),
        unverified_reports=sum(len(t.unverified) for t in tasks),
        near_deadline=tuple(t.task.no for t in tasks if t.colour is Colour.BLUE))


__all__ = ["consolidate", "colour_for", "is_overdue", "near_deadline", "task_status",
           "entry_key", "summarise", "substantive_issue",
           "NEAR_DEADLINE_DAYS", "NO_ISSUE"]
