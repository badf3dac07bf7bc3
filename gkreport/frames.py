"""A plan year's history as pandas DataFrames: what `gkreport review` computes from, and what
analysts load to ask their own questions (README "用 pandas 分析历史").

    from gkreport.frames import load_frames

    f = load_frames("D:/政务公开", 2025)        # a workspace folder, or a History
    f.submissions.groupby("unit")["late"].sum()  # periods each unit reported late

Only the history is read (output/history.sqlite: never the forms nor the plan file), every
frame from one snapshot. Units are named as the current plan names them: a unit renamed
with its old name kept as 别名 owns the rows stored under the old name (`reported_as` keeps
the name of the time). Tasks carry `task_key`, their identity across plan versions (the
text), `task_no`, their number in the version of the period, and `task`, their number in
the current plan (<NA> once removed from it). The current plan is the version the year's
latest consolidated period was consolidated with, unless one is passed.

Periods are "YYYY-MM" strings (they sort in time order); statuses are the Chinese labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from gkreport.core.model import Period, Plan, SubmissionState
from gkreport.core.problems import GkreportError, problem
from gkreport.history import History
from gkreport.paths import Paths

# Each frame's columns, in order (the README describes them).
PERIOD_COLUMNS = ("period", "plan", "plan_title", "due", "previous", "files_read",
                  "files_refused", "rows_read", "rows_merged", "rows_rejected", "rows_carried")
TASK_COLUMNS = ("period", "task", "task_key", "task_no", "category", "text", "deadline",
                "status", "overdue", "colour", "expected", "reported", "done", "behind",
                "missing", "carried", "avg_progress", "missing_units", "previous_status",
                "change")
ENTRY_COLUMNS = ("period", "task", "task_key", "task_no", "unit", "reported_as", "status",
                 "carried", "carried_from", "issues", "raw_status", "progress", "note",
                 "next_steps", "file", "sheet", "row", "cell")
BRIEF = 10  # entries' first columns: all that brief=True reads
SUBMISSION_COLUMNS = ("period", "unit", "reported_as", "state", "submitted", "file", "tasks",
                      "errors", "warnings", "received", "due", "on_time", "late", "late_days",
                      "rounds")
FILE_COLUMNS = ("period", "unit", "reported_as", "file", "sha256", "size", "received",
                "errors", "warnings", "outcome")
PROBLEM_COLUMNS = ("period", "code", "severity", "message", "fix", "unit", "reported_as",
                   "task", "task_key", "task_no", "file", "sheet", "cell", "row")
ASSIGNMENT_COLUMNS = ("plan", "task", "task_key", "task_no", "unit", "deadline")

_YEAR = "JOIN periods p ON p.period = {t}.period WHERE p.plan_year = ?"
_QUERIES = {
    "periods": "SELECT period, plan_fingerprint, plan_title, due, previous_period, files_read, "
               "files_refused, rows_read, rows_merged, rows_rejected, rows_carried FROM periods "
               "WHERE plan_year = ? ORDER BY period",
    "tasks": "SELECT t.period, t.task_key, t.task_no, t.category, t.task_text, t.deadline, "
             "t.status, t.overdue, t.colour, t.expected, t.reported, t.done, t.behind, "
             "t.missing, t.carried, t.avg_progress, t.missing_units, t.previous_status, t.change "
             f"FROM task_results t {_YEAR.format(t='t')} ORDER BY t.period, t.task_no",
    "entries": "SELECT e.period, e.task_key, e.task_no, e.unit, e.status, e.carried_from, "
               f"e.issues{{more}} FROM entries e {_YEAR.format(t='e')} ORDER BY e.period, e.seq",
    "submissions": "SELECT u.period, u.unit, u.state, u.file, u.tasks, u.errors, u.warnings, "
                   f"u.received, p.due, u.late_days, u.rounds FROM unit_results u "
                   f"{_YEAR.format(t='u')} ORDER BY u.period, u.seq",
    # Each file's latest state (as History.ledger reads one period).
    "files": "SELECT l.period, l.unit, l.name, l.sha256, l.size, l.received, l.errors, "
             "l.warnings, l.outcome FROM ledger l JOIN (SELECT name, sha256, period, "
             "min(id) AS first, max(id) AS last FROM ledger "
             "WHERE period IN (SELECT period FROM periods WHERE plan_year = ?) "
             "GROUP BY period, name, sha256) f ON l.id = f.last ORDER BY l.period, f.first",
    "problems": "SELECT x.period, x.code, x.severity, x.message, x.fix, x.unit, x.task_no, "
                f"x.file, x.sheet, x.cell, x.row FROM problems x {_YEAR.format(t='x')} "
                "ORDER BY x.period, x.seq",
    "plans": "SELECT fingerprint, content FROM plans WHERE fingerprint IN "
             "(SELECT plan_fingerprint FROM periods WHERE plan_year = ?)",
}


@dataclass(frozen=True, eq=False)
class Frames:
    """A plan year's consolidated periods as DataFrames, in the current plan's terms.

    periods: one row per consolidated period (its plan version, due date, row counts);
    tasks: period × task (its status, overdue flag, warning colour and counts);
    entries: period × task × unit report (carried ones marked: 沿用上期);
    submissions: period × expected unit (state, file, received, due, on time or late,
    days late, return rounds); files: every file the ledger saw; problems: every problem
    found; assignments: plan version × task × expected unit, with the task's deadline.
    """

    year: int
    plan: Plan  # the current plan: names the units, numbers the tasks
    plans: dict[str, Plan] = field(repr=False)  # every version the year used, by fingerprint
    periods: pd.DataFrame = field(repr=False)
    tasks: pd.DataFrame = field(repr=False)
    entries: pd.DataFrame = field(repr=False)
    submissions: pd.DataFrame = field(repr=False)
    files: pd.DataFrame = field(repr=False)
    problems: pd.DataFrame = field(repr=False)
    assignments: pd.DataFrame = field(repr=False)

    def between(self, start: Period | str, end: Period | str) -> Frames:
        """The same frames cut to the periods from `start` to `end` (both included)."""
        lo, hi = str(start), str(end)

        def cut(df: pd.DataFrame) -> pd.DataFrame:
            return df[(df["period"] >= lo) & (df["period"] <= hi)].reset_index(drop=True)

        periods = cut(self.periods)
        used = set(periods["plan"])
        return replace(self, periods=periods, tasks=cut(self.tasks), entries=cut(self.entries),
                       submissions=cut(self.submissions), files=cut(self.files),
                       problems=cut(self.problems),
                       assignments=self.assignments[self.assignments["plan"].isin(used)]
                       .reset_index(drop=True))


def load_frames(source: Path | str | History, year: int | None = None, *,
                plan: Plan | None = None, brief: bool = False) -> Frames:
    """The frames of a plan year (default: the year of the latest consolidated period) from
    a workspace folder or a History. `plan` names units and numbers tasks instead of the
    version the year's latest period used. `brief=True` reads only the entries' first
    columns (ENTRY_COLUMNS[:BRIEF]: who reported what status on which task, carried or
    not, and its 存在问题), what the review's figures need: a city's year of entries is
    100,000s of rows, mostly text. A year with no consolidated period gives empty frames;
    an empty history, when no year is given, raises GkreportError (history-empty)."""
    history = source if isinstance(source, History) else History(Paths(Path(source)).history)
    year = year or history.latest_year()
    if year is None:
        raise GkreportError(problem("history-empty", path=str(history.path)))
    more = "" if brief else "".join(f", e.{c}" for c in ENTRY_COLUMNS[BRIEF:])
    rows = history.snapshot({name: (sql.replace("{more}", more), (year,))
                             for name, sql in _QUERIES.items()})
    plans = {fp: Plan.from_record(json.loads(content)) for fp, content in rows["plans"]}
    periods = _periods(rows["periods"])
    current = plan or (plans[periods["plan"].iloc[-1]] if len(periods) else None)
    if current is None:  # nothing consolidated that year: empty frames, no plan to name by
        current = Plan(year=year, title="", tasks=(), units=())
    names = _Names(current)
    tasks = _tasks(rows["tasks"], names)
    return Frames(
        year=year, plan=current, plans=plans, periods=periods, tasks=tasks,
        entries=_entries(rows["entries"], names, brief),
        submissions=_submissions(rows["submissions"], names),
        files=_files(rows["files"], names), problems=_problems(rows["problems"], names, tasks),
        assignments=_assignments(plans, names))


class _Names:
    """Stored unit names and task keys in the current plan's terms, each looked up once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.numbers = {t.key: t.no for t in plan.tasks}

    def units(self, stored: pd.Series) -> pd.Series:
        names = {n: self.plan.unit_named(n) or n for n in stored.unique()}
        return stored.map(names).astype(object)

    def tasks(self, keys: pd.Series) -> pd.Series:
        return keys.map(self.numbers).astype("Int64")


def _frame(rows: list[tuple[object, ...]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=list(columns))


def _dates(values: pd.Series) -> pd.Series:
    """ISO dates or times as datetimes (NaT where none, e.g. the deadline label 无)."""
    return pd.to_datetime(values.where(values.notna() & (values != "无")), errors="coerce",
                          format="ISO8601")


def _periods(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    df = _frame(rows, ("period", "plan", "plan_title", "due", "previous", *PERIOD_COLUMNS[5:]))
    df["due"] = _dates(df["due"])
    return df[list(PERIOD_COLUMNS)]


def _tasks(rows: list[tuple[object, ...]], names: _Names) -> pd.DataFrame:
    df = _frame(rows, ("period", "task_key", "task_no", "category", "text", "deadline",
                       *TASK_COLUMNS[7:]))
    df["task"] = names.tasks(df["task_key"])
    df["deadline"] = _dates(df["deadline"])
    df["overdue"] = df["overdue"].astype(bool)
    df["avg_progress"] = df["avg_progress"].astype(float)
    # the units a task waited on, as the current plan names them
    df["missing_units"] = [tuple(names.plan.unit_named(u) or u for u in text.split("、") if u)
                           for text in df["missing_units"]]
    return df[list(TASK_COLUMNS)]


def _entries(rows: list[tuple[object, ...]], names: _Names, brief: bool) -> pd.DataFrame:
    columns = ENTRY_COLUMNS[:BRIEF] if brief else ENTRY_COLUMNS
    df = _frame(rows, ("period", "task_key", "task_no", "reported_as", "status",
                       "carried_from", *columns[BRIEF - 1:]))
    df["task"] = names.tasks(df["task_key"])
    df["unit"] = names.units(df["reported_as"])
    df["carried"] = df["carried_from"].notna()
    if not brief:
        df["progress"] = df["progress"].astype(float)
    return df[list(columns)]


def _submissions(rows: list[tuple[object, ...]], names: _Names) -> pd.DataFrame:
    df = _frame(rows, ("period", "reported_as", "state", "file", "tasks", "errors", "warnings",
                       "received", "due", "late_days", "rounds"))
    df["unit"] = names.units(df["reported_as"])
    df["submitted"] = df["state"] != SubmissionState.MISSING.value
    df["received"] = _dates(df["received"])
    df["due"] = _dates(df["due"])
    df["late_days"] = df["late_days"].astype("Int64")
    # plain booleans: neither on time nor late when not submitted (or the ledger has no file)
    df["on_time"] = (df["late_days"] == 0).fillna(False).astype(bool)
    df["late"] = (df["late_days"] > 0).fillna(False).astype(bool)
    return df[list(SUBMISSION_COLUMNS)]


def _files(rows: list[tuple[object, ...]], names: _Names) -> pd.DataFrame:
    df = _frame(rows, ("period", "reported_as", "file", *FILE_COLUMNS[4:]))
    df["unit"] = names.units(df["reported_as"])
    df["received"] = _dates(df["received"])
    return df[list(FILE_COLUMNS)]


def _problems(rows: list[tuple[object, ...]], names: _Names,
              tasks: pd.DataFrame) -> pd.DataFrame:
    df = _frame(rows, ("period", "code", "severity", "message", "fix", "reported_as",
                       "task_no", "file", "sheet", "cell", "row"))
    df["unit"] = names.units(df["reported_as"])
    df["task_no"] = df["task_no"].astype("Int64")
    df["row"] = df["row"].astype("Int64")
    # the task a problem is about, by its number in the version of its period
    keys = tasks.set_index(["period", "task_no"])["task_key"]
    at = pd.MultiIndex.from_arrays([df["period"], df["task_no"]])
    df["task_key"] = keys.reindex(at).to_numpy() if len(keys) else None
    df["task"] = names.tasks(df["task_key"])
    return df[list(PROBLEM_COLUMNS)]


def _assignments(plans: dict[str, Plan], names: _Names) -> pd.DataFrame:
    unit = {u: names.plan.unit_named(u) or u for plan in plans.values()
            for u in plan.expected_units}
    rows = [(fp, key, t.no, unit[u], t.deadline.date)
            for fp, plan in plans.items() for t in plan.tasks if (key := t.key)
            for u in t.expected_units]
    df = _frame(rows, ("plan", "task_key", "task_no", "unit", "deadline"))
    df["task"] = names.tasks(df["task_key"])
    df["deadline"] = pd.to_datetime(df["deadline"])
    return df[list(ASSIGNMENT_COLUMNS)]


__all__ = ["Frames", "load_frames", "BRIEF", "PERIOD_COLUMNS", "TASK_COLUMNS",
           "ENTRY_COLUMNS", "SUBMISSION_COLUMNS", "FILE_COLUMNS", "PROBLEM_COLUMNS",
           "ASSIGNMENT_COLUMNS"]
