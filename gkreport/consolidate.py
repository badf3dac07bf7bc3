"""The consolidate stage (pure): plan + returns + the year so far -> Report, and its figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

from gkreport.core.model import (
    REPORTABLE,
    Colour,
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    SubmissionState,
    Task,
    group,
)
from gkreport.core.problems import Problem, problem
from gkreport.core.report import (
    CategoryFigures,
    FileRecord,
    ProblemCounts,
    Report,
    Summary,
    TaskFigures,
    TaskResult,
    UnitFigures,
    UnitResult,
)
from gkreport.core.text import clean
from gkreport.ledger import unit_records
from gkreport.year import Prior, carried, trend_rows

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
    """临期: not 已完成 and the deadline falls after period_end, within NEAR_DEADLINE_DAYS."""
    return (status is not Status.DONE and deadline is not None
            and period_end < deadline <= period_end + timedelta(days=NEAR_DEADLINE_DAYS))


def is_overdue(task: Task, status: Status, period: Period) -> bool:
    """逾期: the deadline is on or before the period's last day and the task is not 已完成.

    A report for June is written after June ends: a task due on 30 June not done by then
    is overdue in June's report, not "due within 30 days"."""
    d = task.deadline.date
    return d is not None and d <= period.end and status is not Status.DONE


def colour_for(status: Status, *, overdue: bool, deadline: date | None, period_end: date,
               unverified: bool = False) -> Colour:
    """The warning colour (三色预警) of a task or an entry; one rule for every output.

    In order: RED when overdue; YELLOW when the status is 滞后 or 待核实, or any report
    behind it is 待核实 (`unverified`); BLUE when not 已完成 and the deadline falls after
    `period_end`, within NEAR_DEADLINE_DAYS days; GREEN when 已完成; else NONE.
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
    """A task's status and overdue flag from its units' reports (unit -> status): the rule of
    README "状态与预警".

    `reports` holds the expected units that reported plus, on an open (各有关单位) task,
    any other registered unit that reported. An expected unit whose accepted form has no
    usable row for the task (the row was rejected: text mismatch, duplicate…) reported
    待核实: it is not 未报送. Checked in order:

    1. 已完成 when there is at least one report, every expected unit reported, and every
       report (expected or extra unit) is 已完成. A 待核实 row is therefore never done.
    2. 滞后 when any report is 滞后, or the task is 逾期 (deadline on or before the period's
       last day and not 已完成; an ongoing task has no deadline and is never 逾期).
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


def _reports(task: Task, entries: tuple[Entry, ...], read: Mapping[str, Submission],
             ) -> tuple[dict[str, Status], tuple[str, ...], tuple[str, ...]]:
    """(unit -> status of each report counted, 待核实 units, missing units) of a task.

    An expected unit whose accepted form gives no usable row for the task (the row's text
    changed, the row is gone…) and had nothing to carry forward reported 待核实: it sent
    its form. One whose form of an earlier plan lacks a task added since is missing on it,
    as is one that sent no form.
    """
    by_unit = {e.unit: e.status for e in entries}
    unread = tuple(u for u in task.expected_units if u not in by_unit and u in read
                   and not (read[u].old_plan and task.no in read[u].lacking))
    missing = tuple(u for u in task.expected_units if u not in by_unit and u not in unread)
    return by_unit | dict.fromkeys(unread, Status.UNVERIFIED), unread, missing


def _task_result(task: Task, entries: tuple[Entry, ...], period: Period, prior: Prior,
                 read: Mapping[str, Submission]) -> TaskResult:
    reports, unread, missing = _reports(task, entries, read)
    status, overdue = task_status(task, reports, period)
    progress = [e.progress for e in entries if e.progress is not None]
    prev = prior.previous_status(task)
    new = prior.is_new(task)
    change = ("新增" if new else f"{prev.value}→{status.value}"
              if prev is not None and prev is not status else "")
    return TaskResult(
        task=task, status=status, overdue=overdue,
        colour=colour_for(status, overdue=overdue, deadline=task.deadline.date,
                          period_end=period.end,
                          unverified=Status.UNVERIFIED in reports.values()),
        expected=len(task.expected_units), reported=len(reports),
        done=sum(e.status is Status.DONE for e in entries),
        behind=sum(e.status is Status.BEHIND for e in entries),
        missing=len(missing), avg_progress=sum(progress) / len(progress) if progress else None,
        missing_units=missing, previous_status=prev, change=change, unverified_units=unread,
        unverified=tuple(u for u, s in reports.items() if s is Status.UNVERIFIED),
        carried_units=tuple(e.unit for e in entries if e.carried_from is not None),
        reverted=tuple((e.unit, last.carried_from) for e in entries
                       if e.carried_from is None and e.status in _NOT_DONE
                       and (last := prior.report_of(task, e.unit)) is not None
                       and last.status is Status.DONE),
        new=new, behind_units=tuple(e.unit for e in entries if e.status is Status.BEHIND),
        open_units=tuple(u for u, s in reports.items() if s not in (Status.DONE, Status.BEHIND)))


_NOT_DONE = frozenset({Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED})


def _carry(plan: Plan, entries: list[Entry], read: Mapping[str, Submission],
           prior: Prior) -> list[Entry]:
    """The reports carried into this period (沿用上期): for each expected unit with no row
    for a task (no form, or its form lacks the task) that reported the task earlier in the
    year. A row that was there but could not be used (待核实) is not replaced."""
    have = {(e.task_no, e.unit) for e in entries}
    out = []
    for t in plan.tasks:
        for u in t.expected_units:
            if (t.no, u) in have or (u in read and t.no not in read[u].lacking):
                continue
            entry = carried(t, u, prior)
            if entry is not None:
                out.append(entry)
    return out


def _reverted(tasks: tuple[TaskResult, ...], entries_of: Mapping[int, tuple[Entry, ...]],
              ) -> list[Problem]:
    """status-reverted: a unit that reported a task 已完成 and now reports it not done."""
    out = []
    for t in tasks:
        for unit, when in t.reverted:
            e = next(x for x in entries_of[t.task.no] if x.unit == unit)
            out.append(problem("status-reverted", file=e.file, sheet=e.sheet, cell=e.cell,
                               row=e.row, unit=unit, no=t.task.no, task_no=t.task.no,
                               done=when.label,
                               status=e.status.value))
    return out


def _unit_results(plan: Plan, submissions: tuple[Submission, ...], problems: tuple[Problem, ...],
                  records: Mapping[str, Any]) -> tuple[UnitResult, ...]:
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
        record = records.get(name)
        late = record.late_days if record and accepted else None
        results.append(UnitResult(
            unit=unit, state=state, file=file, tasks=len(plan.tasks_for(name)), errors=errors,
            warnings=len(own) - errors, received=record.received if late is not None else None,
            late_days=late, rounds=record.rounds if record else 0,
            files=record.files if record else (),
            new_tasks=accepted.lacking if accepted and accepted.old_plan else ()))
    return tuple(results)


def consolidate(plan: Plan, returns: Returns, period: Period, *, prior: Prior | None = None,
                due: date | None = None, ledger: Sequence[FileRecord] = ()) -> Report:
    """Merge a period's returns against the plan into a Report (pure: reads nothing).

    `prior` is what the plan year's earlier consolidated periods say (gkreport.year): 上期,
    the reports carried forward (沿用上期), completions reverted since, the trend. `due`
    and `ledger` (every file seen for the period) give each unit's timeliness and return
    rounds. Unit results (报送情况) cover every expected unit in registry order: 已报送;
    需修改 when its accepted form has any 错误; 未报送 when it has no accepted form (a
    refused form's file and problems are still shown; a unit whose reports were carried
    is still 未报送). Re-running any period, in any order, gives the same Report.
    """
    prior = prior or Prior()
    entries, dropped = _accept_entries(plan, returns)
    read = {s.unit: s for s in returns.submissions if s.accepted and s.unit}
    carried_entries = _carry(plan, entries, read, prior)
    entries = sorted([*entries, *carried_entries], key=entry_key(plan))
    by_task = group(entries, attrgetter("task_no"))
    tasks = tuple(_task_result(t, by_task.get(t.no, ()), period, prior, read)
                  for t in plan.tasks)
    problems = (*returns.problems, *dropped, *_reverted(tasks, by_task))
    # The guard's rejects (rows ingest let through) move from merged to rejected.
    rows = replace(returns.rows, merged=len(entries) - len(carried_entries),
                   rejected=returns.rows.rejected + len(dropped), carried=len(carried_entries))
    units = _unit_results(plan, returns.submissions, problems, unit_records(ledger, due))
    periods, trend = trend_rows(plan, prior, period, {t.task.key: t.status for t in tasks})
    summary = summarise(period, plan, tasks, units, problems, returns.files, rows,
                        prior.previous, due)
    return Report(
        period=period, plan=plan, tasks=tasks, units=units, entries=tuple(entries),
        submissions=returns.submissions, problems=problems, files=returns.files, rows=rows,
        summary=summary, previous_period=prior.previous, trend=trend, trend_periods=periods,
        skipped_files=returns.skipped_files, due=due, ledger=tuple(ledger))


def _counts(tasks: list[TaskResult] | tuple[TaskResult, ...]) -> dict[Status, int]:
    return {s: sum(t.status is s for t in tasks) for s in REPORTABLE}


def summarise(period: Period, plan: Plan, tasks: tuple[TaskResult, ...],
              units: tuple[UnitResult, ...], problems: tuple[Problem, ...], files: FileCounts,
              rows: RowCounts, previous_period: Period | None, due: date | None) -> Summary:
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
                            if u.state is SubmissionState.NEEDS_FIX),
            due=due, on_time=tuple(u.unit.name for u in units if u.late_days == 0),
            late=tuple((u.unit.name, u.late_days) for u in units if u.late_days),
            returned={u.unit.name: u.rounds for u in units if u.rounds}),
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
