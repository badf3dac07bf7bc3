"""The review computed from the history's frames (pandas: groupby, unstack, merge) into the
plain dataclasses of `review.model`; nothing here reads a form or the plan file."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from gkreport.core.model import REPORTABLE, Period, Plan, Status, SubmissionState
from gkreport.core.problems import GkreportError, problem
from gkreport.frames import Frames
from gkreport.review.model import (
    OpenUnit,
    PeriodYear,
    PlanVersion,
    Review,
    Span,
    TaskYear,
    UnitYear,
)

# The ranking (考核): points out of 100 from three shares, each over what was asked of the
# unit in the span, so a unit that joined mid-year is not penalised for months before it.
WEIGHT_ON_TIME = 60  # periods submitted on time / periods expected
WEIGHT_FIRST_PASS = 20  # periods whose form passed first time / periods expected
WEIGHT_TASKS = 20  # its tasks due in the span reported 已完成 by the deadline / tasks due
METHOD = (
    f"得分（满分100）= {WEIGHT_ON_TIME}×（按时报送期数÷应报期数）+ {WEIGHT_FIRST_PASS}×（一次通过"
    f"期数÷应报期数）+ {WEIGHT_TASKS}×（按期完成任务数÷应按期完成任务数），保留一位小数；"
    "得分相同的名次并列。",
    "应报期数：该单位有任务的已汇总期次。按时报送：该期第一份可用的填报表在截止日期当天或之前"
    "收到；未报送、逾期报送的期次这部分不得分。",
    "一次通过：该期报送的填报表没有被退回修改，所采用的填报表也没有错误。表中的一次通过率 = "
    "一次通过期数÷已报期数；计分时除以应报期数，未报送的期次不得分。",
    "应按期完成任务：截止日期在本时段内、截至最后一个已汇总期次已经到期的本单位任务；在截止日期"
    "所在月份或之前报“已完成”为按期完成；本时段没有到期任务的，这部分计满分。",
)
DONE = Status.DONE.value


def compute_review(frames: Frames, span: Span) -> Review:
    """The review of `span` from the frames of its year; GkreportError (review-no-periods)
    when no period of the span was consolidated."""
    assert frames.year == span.year, (frames.year, span.year)
    lo, hi = str(span.start), str(span.end)
    periods = frames.periods[(frames.periods["period"] >= lo) & (frames.periods["period"] <= hi)]
    if periods.empty:
        done = "、".join(frames.periods["period"])
        raise GkreportError(problem(
            "review-no-periods", span=span.words, first=lo, last=hi,
            hint=f"（{span.year}年已汇总的期次：{done}）" if done else ""))
    order = tuple(periods["period"])
    tasks = _tasks(frames, span, order)
    units = _units(frames, span, order, tasks)
    return Review(
        span=span, plan_title=str(periods["plan_title"].iloc[-1]),
        periods=tuple(Period.parse(p) for p in order),
        gaps=tuple(p for p in span.months_in()
                   if order[0] < str(p) < order[-1] and str(p) not in set(order)),
        versions=_versions(frames, periods), tasks=tasks, units=units,
        by_period=_by_period(frames, periods, order), method=METHOD)


# ---------------------------------------------------------------- tasks


def _tasks(frames: Frames, span: Span, order: tuple[str, ...]) -> tuple[TaskYear, ...]:
    year = frames.tasks
    upto = year[year["period"] <= str(span.end)]
    inside = upto[upto["period"] >= str(span.start)]
    grid = inside.set_index(["task_key", "period"])["status"].unstack()
    final = inside.groupby("task_key", sort=False).tail(1).set_index("task_key")
    first_done = _first(upto[upto["status"] == DONE], "task_key")
    first_seen = _first(year, "task_key")
    year_first = frames.periods["period"].iloc[0]
    waiting = _open_units(frames, final)
    version = dict(zip(frames.periods["period"], frames.periods["plan"], strict=True))
    rows = []
    for key, t in final.iterrows():
        seen = first_seen[key]
        gone = t["period"] != order[-1]
        deadline = t["deadline"]
        statuses = grid.loc[key]
        rows.append(TaskYear(
            key=str(key), no=None if pd.isna(t["task"]) else int(t["task"]),
            last_no=int(t["task_no"]), category=t["category"], text=t["text"],
            deadline_text=_deadline_text(frames.plans.get(version[t["period"]]), t),
            deadline=None if pd.isna(deadline) else deadline.date(),
            status=Status(t["status"]), overdue=bool(t["overdue"]),
            completed_in=_period(first_done.get(key)),
            statuses=tuple(None if pd.isna(statuses.get(p)) else Status(statuses[p])
                           for p in order),
            added=Period.parse(seen) if year_first < seen and seen >= str(span.start) else None,
            removed=Period.parse(order[order.index(t["period"]) + 1]) if gone else None,
            open_units=waiting.get(key, ()) if t["status"] != DONE else ()))
    # the current plan's tasks in its order, then the tasks removed from it
    return tuple(sorted(rows, key=lambda r: (r.no is None, r.no or 0, r.last_no)))


def _first(df: pd.DataFrame, *by: str) -> pd.Series:
    """The earliest period of each group. Periods are "YYYY-MM" strings, whose minimum pandas
    works out group by group in Python; as their ranks it is one vectorised pass."""
    names = sorted(df["period"].unique())
    first = df["period"].map({p: i for i, p in enumerate(names)}).groupby(
        [df[c] for c in by]).min()
    return first.map(dict(enumerate(names)))


def _period(value: Any) -> Period | None:
    return None if value is None or pd.isna(value) else Period.parse(str(value))


def _deadline_text(plan: Plan | None, t: pd.Series) -> str:
    """The 时间节点 as written in the plan version of the task's last period."""
    task = plan.task(int(t["task_no"])) if plan else None
    return task.deadline.text if task else ""


def _open_units(frames: Frames, final: pd.DataFrame) -> dict[str, tuple[OpenUnit, ...]]:
    """For each task, in its last period: the units whose report is not 已完成 (carried ones
    included), then those that sent none (未报送)."""
    at = final.reset_index()[["task_key", "period", "missing_units"]]
    entries = frames.entries.merge(at[["task_key", "period"]], on=["task_key", "period"])
    entries = entries[entries["status"] != DONE]
    out: dict[str, list[OpenUnit]] = {}
    for key, unit, status, issues in zip(entries["task_key"], entries["unit"],
                                         entries["status"], entries["issues"], strict=True):
        out.setdefault(key, []).append(OpenUnit(unit, status, issues))
    for key, missing in zip(at["task_key"], at["missing_units"], strict=True):
        out.setdefault(key, []).extend(OpenUnit(u, Status.MISSING.value, "") for u in missing)
    return {k: tuple(v) for k, v in out.items()}


# ---------------------------------------------------------------- units


def _units(frames: Frames, span: Span, order: tuple[str, ...],
           tasks: tuple[TaskYear, ...]) -> tuple[UnitYear, ...]:
    s = frames.submissions
    s = s[s["period"].isin(order)].copy()
    s["first_pass"] = (s["rounds"] == 0) & (s["state"] == SubmissionState.SUBMITTED.value)
    agg = s.groupby("unit", sort=False).agg(
        expected=("period", "size"), submitted=("submitted", "sum"), on_time=("on_time", "sum"),
        late=("late", "sum"), late_days=("late_days", "sum"), returned=("rounds", "sum"),
        first_pass=("first_pass", "sum"))
    due, done = _tasks_on_time(frames, span, order, tasks)
    agg["tasks_due"] = due.reindex(agg.index, fill_value=0).astype(int)
    agg["tasks_on_time"] = done.reindex(agg.index, fill_value=0).astype(int)
    share = (agg["tasks_on_time"] / agg["tasks_due"]).where(agg["tasks_due"] > 0, 1.0)
    # rounded as Python rounds (what the sheet shows), then ranked: equal scores, equal rank
    agg["score"] = [round(float(x), 1) for x in (
        (WEIGHT_ON_TIME * agg["on_time"] + WEIGHT_FIRST_PASS * agg["first_pass"])
        / agg["expected"] + WEIGHT_TASKS * share)]
    agg["rank"] = agg["score"].rank(method="min", ascending=False).astype(int)
    cells: dict[tuple[str, str], tuple[bool, int | None, int]] = {
        (u, p): (bool(sub), None if pd.isna(late) else int(late), int(rounds))
        for u, p, sub, late, rounds in zip(s["unit"], s["period"], s["submitted"],
                                           s["late_days"], s["rounds"], strict=True)}
    fields = ("expected", "submitted", "on_time", "late", "late_days", "returned",
              "first_pass", "tasks_due", "tasks_on_time", "rank")
    rows = []
    for name, score, *values in zip(agg.index, agg["score"], *(agg[f] for f in fields),
                                    strict=True):
        unit = frames.plan.unit(str(name))
        rows.append(UnitYear(
            name=str(name), kind=unit.kind.value if unit else "", score=score,
            **{f: int(v) for f, v in zip(fields, values, strict=True)},
            by_period=tuple(cells.get((str(name), p)) for p in order)))
    registry = {u.name: i for i, u in enumerate(frames.plan.units)}
    big = len(registry)
    return tuple(sorted(rows, key=lambda r: (r.rank, registry.get(r.name, big), r.name)))


def _tasks_on_time(frames: Frames, span: Span, order: tuple[str, ...],
                   tasks: tuple[TaskYear, ...]) -> tuple[pd.Series, pd.Series]:
    """Per unit: its tasks due in the span (deadline from the span's first day to the last
    consolidated period's last day), and those it reported 已完成 (its own report, not a
    carried one) no later than the deadline's month."""
    fps = frames.periods.loc[frames.periods["period"].isin(order), "plan"].unique()
    pairs = frames.assignments[frames.assignments["plan"].isin(fps)]
    pairs = pairs.drop_duplicates(["task_key", "unit"])[["task_key", "unit"]]
    first = date(span.year, span.start.month, 1)
    end = Period.parse(order[-1]).end
    deadlines = {t.key: t.deadline for t in tasks if t.deadline and first <= t.deadline <= end}
    pairs = pairs[pairs["task_key"].isin(deadlines)].copy()
    if pairs.empty:
        return pd.Series(dtype=int), pd.Series(dtype=int)
    pairs["by"] = pairs["task_key"].map({k: str(Period(d.year, d.month))
                                         for k, d in deadlines.items()})
    e = frames.entries
    own = e[(e["status"] == DONE) & ~e["carried"] & (e["period"] <= str(span.end))]
    done = _first(own, "task_key", "unit").rename("done").reset_index()
    pairs = pairs.merge(done, on=["task_key", "unit"], how="left")
    pairs["on_time"] = pairs["done"].notna() & (pairs["done"] <= pairs["by"])
    grouped = pairs.groupby("unit")
    return grouped.size(), grouped["on_time"].sum()


# ---------------------------------------------------------------- periods and versions


def _by_period(frames: Frames, periods: pd.DataFrame, order: tuple[str, ...],
               ) -> tuple[PeriodYear, ...]:
    t = frames.tasks[frames.tasks["period"].isin(order)]
    counts = t.groupby(["period", "status"]).size().unstack(fill_value=0)
    overdue = t.groupby("period")["overdue"].sum()
    s = frames.submissions[frames.submissions["period"].isin(order)]
    sub = s.groupby("period").agg(expected=("unit", "size"), submitted=("submitted", "sum"),
                                  on_time=("on_time", "sum"), late=("late", "sum"),
                                  returned=("rounds", "sum"))
    out = []
    for p, fp in zip(periods["period"], periods["plan"], strict=True):
        row = counts.loc[p] if p in counts.index else {}
        u = sub.loc[p] if p in sub.index else None
        out.append(PeriodYear(
            period=Period.parse(p), fingerprint=fp,
            by_status={s: int(row.get(s.value, 0)) for s in REPORTABLE},
            overdue=int(overdue.get(p, 0)),
            **{k: int(u[k]) if u is not None else 0
               for k in ("expected", "submitted", "on_time", "late", "returned")}))
    return tuple(out)


def _versions(frames: Frames, periods: pd.DataFrame) -> tuple[PlanVersion, ...]:
    """The plan versions of the span, in the order they were used (a version used again
    after another counts again), with the tasks each added and removed."""
    runs: list[list[str]] = []  # [fingerprint, first, last]
    for p, fp in zip(periods["period"], periods["plan"], strict=True):
        if runs and runs[-1][0] == fp:
            runs[-1][2] = p
        else:
            runs.append([fp, p, p])
    out: list[PlanVersion] = []
    before: set[str] | None = None
    for fp, first, last in runs:
        plan = frames.plans.get(fp)
        keys = {t.key for t in plan.tasks} if plan else set()
        out.append(PlanVersion(fingerprint=fp, first=Period.parse(first),
                               last=Period.parse(last), tasks=len(keys),
                               added=len(keys - before) if before is not None else 0,
                               removed=len(before - keys) if before is not None else 0))
        before = keys
    return tuple(out)
