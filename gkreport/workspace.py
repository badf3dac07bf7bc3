"""Each command's pipeline over a workspace; every CLI command calls one `run_*` here.

The `run_*` functions never print: they return results (and raise GkreportError when they
cannot go on), and the CLI shows them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gkreport.core.model import Entry, Period, Plan, Returns
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.report import Report
from gkreport.paths import RETURNED_DIR, Paths, latest_period, run_lock

if TYPE_CHECKING:
    from gkreport.forms.writer import FormsResult
    from gkreport.history import History
    from gkreport.plan.settings import Settings
    from gkreport.review import Review, Span
    from gkreport.year import Prior

__all__ = ["Paths", "latest_period", "run_lock", "run_forms", "run_check", "run_consolidate",
           "run_memo", "run_demo", "run_plan_diff", "run_review", "review_year",
           "load_plan_checked"]

Progress = Callable[[int, int], None]


def load_plan_checked(paths: Paths) -> Plan:
    """The workspace plan; refuse to go on when it has errors (forms would be wrong)."""
    from gkreport.plan.book import read_plan

    if not paths.plan.exists():
        raise GkreportError(problem("no-plan", path=str(paths.plan)))
    plan = read_plan(paths.plan)
    if plan.has_errors:
        raise GkreportError(*[p for p in plan.problems if p.is_error])
    return plan


def templates_dir(paths: Paths) -> Path | None:
    """The workspace's templates/ folder, when the office made one."""
    return paths.templates if paths.templates.is_dir() else None


@dataclass(frozen=True, slots=True)
class Year:
    """What a period's run needs besides its forms: its plan version, the year so far, its
    due date and the office's settings."""

    plan: Plan
    prior: Prior
    due: date
    settings: Settings
    history: History


def year_of(paths: Paths, period: Period, *, stored_plan: bool = True) -> Year:
    """The context of a period. A period already consolidated re-runs with the plan version
    it was consolidated with (kept in the history), never a later one; a new period takes
    the workspace's plan."""
    from gkreport.history import History
    from gkreport.ledger import due_date
    from gkreport.plan.book import read_settings
    from gkreport.year import build_prior

    history = History(paths.history)
    plan = (history.plan_of(period) if stored_plan else None) or load_plan_checked(paths)
    settings = read_settings(paths.plan)
    due = history.due(period) or due_date(period, settings.due_day)
    prior = build_prior(plan, history.year_rows(plan.year, period))
    return Year(plan, prior, due, settings, history)


# ---------------------------------------------------------------- forms


def run_forms(paths: Paths, period: Period, *, units: list[str] | None = None,
              password: str | None = None, due: date | None = None, contact: str = "",
              progress: Progress | None = None) -> FormsResult:
    """Write this period's forms, each unit's rows prefilled with its own latest report of
    the year; remember the period's due date; remove forms of units no longer expected."""
    from gkreport.forms.writer import write_forms
    from gkreport.plan.settings import ensure_settings_sheet

    with run_lock(paths):  # it writes the plan's settings sheet and the history too
        if paths.plan.exists():
            ensure_settings_sheet(paths.plan)
        year = year_of(paths, period, stored_plan=False)
        due = due or year.due
        year.history.set_due(period, due)
        previous = {}
        for key, e in _latest_reports(year).items():  # "(4月)" when older than last month
            when = ("" if e.carried_from == period.previous
                    else f"（{e.carried_from.month}月）")  # type: ignore[union-attr]
            previous[key] = (f"{e.status.value}{when}", e.note)
        return write_forms(year.plan, period, paths.forms(period), units=units or None,
                           password=password, due=due, previous=previous,
                           contact=contact or year.settings.contact_line, progress=progress)


# ---------------------------------------------------------------- check


@dataclass(frozen=True, slots=True)
class CheckResult:
    plan: Plan
    returns: Returns
    report: Report  # the period as it stands (not recorded): for the notice and the figures
    check_report: Path
    annotated: dict[str, Path] = field(default_factory=dict)
    written: tuple[Path, ...] = ()


def _latest_reports(year: Year) -> dict[tuple[int, str], Entry]:
    """(task no, unit) -> the unit's latest own report of the year on it: what its form is
    prefilled with, and what a 进展情况 copied unchanged is compared with."""
    return {(t.no, u): e for t in year.plan.tasks for u in t.expected_units
            if (e := year.prior.report_of(t, u)) is not None}


def _read(paths: Paths, year: Year, period: Period, progress: Progress | None) -> Returns:
    from gkreport.intake.ingest import read_returns

    folder = paths.returns(period)
    if not folder.is_dir():
        raise GkreportError(problem("no-input", path=str(folder), period=str(period)))
    notes = {key: e.note for key, e in _latest_reports(year).items()}
    return read_returns(year.plan, period, folder, previous_notes=notes, progress=progress)


def _merge(year: Year, period: Period, returns: Returns) -> Report:
    """The period's Report from what was read, the year so far and the ledger."""
    from gkreport.consolidate import consolidate
    from gkreport.ledger import file_records, merge

    known = year.history.ledger(period)
    ledger = merge(known, file_records(returns, known))
    return consolidate(year.plan, returns, period, prior=year.prior, due=year.due,
                       ledger=ledger)


def _as_merged(returns: Returns, report: Report) -> Returns:
    """The returns with what merging them added (a completion taken back, a row the guard
    rejected), so the check report, the terminal and summary.json count the same problems."""
    return replace(returns, problems=report.problems, rows=report.rows)


def write_check_outputs(out: Path, report: Report, returns: Returns, folder: Path,
                        ) -> tuple[Path, dict[str, Path]]:
    """The check report and the annotated copies to return (退回修改/) into `out`."""
    from gkreport.render.annotate import annotate_returns
    from gkreport.render.checkreport import report_filename, write_check_report

    report_path = write_check_report(returns, report.plan, report.period,
                                     out / report_filename(report.period))
    annotated = annotate_returns(returns, folder, out / RETURNED_DIR)
    return report_path, annotated


def run_check(paths: Paths, period: Period, *, progress: Progress | None = None,
              today: date | None = None) -> CheckResult:
    """Read the returned forms; write the check report, the annotated copies and the
    reminder notice into output/PERIOD/校验/ (never over the period's record); add the
    files to the submission ledger."""
    from gkreport.render.memo import NOTICE_TEMPLATE, render_outputs, write_outputs

    with run_lock(paths):
        year = year_of(paths, period)
        returns = _read(paths, year, period, progress)
        report = _merge(year, period, returns)
        returns = _as_merged(returns, report)
        out = paths.check_out(period)
        report_path, annotated = write_check_outputs(out, report, returns,
                                                     paths.returns(period))
        notice = _notice(year, report, today)
        written = write_outputs(render_outputs(report, out, (NOTICE_TEMPLATE,),
                                               templates=templates_dir(paths),
                                               annotated=annotated, notice=notice))
        year.history.record_files(report.ledger)
    return CheckResult(year.plan, returns, report, report_path, annotated,
                       (report_path, *written))


def _notice(year: Year, report: Report, today: date | None) -> Any:
    from gkreport.ledger import cards, year_from_results
    from gkreport.render.memo import Notice

    past = [r for r in year.history.unit_year(report.plan.year) if r[0] < report.period]
    now = [(report.period, u.unit.name, u.late_days, u.rounds) for u in report.units]
    names = {n: report.plan.unit_named(n) or n for _, n, *_ in past}
    return Notice(sender=year.settings.sender, contact=year.settings.contact_line,
                  issued=_issued(report, today or date.today()),
                  cards=cards([*year_from_results(past, names), *now]))


STALE_DAYS = 31  # a notice rendered this long after the due date is an old period's
# Task × unit entries above which consolidate writes the workbook in this process (about
# 3,000 forms; 1,000 forms hold 16,678, 10,000 forms 160,580).
BESIDE_MAX_ENTRIES = 50_000


def _issued(report: Report, today: date) -> date:
    """The notice's date of issue: today, while the period is being collected; for a period
    long past (re-rendered, or the bundled example) the day its last file came, so that its
    "已逾期N天" reads as it did then."""
    due = report.due
    if due is None or (today - due).days <= STALE_DAYS:
        return today
    last = max((f.received.date() for f in report.ledger), default=due)
    return max(last, due)


# ---------------------------------------------------------------- consolidate


@dataclass(frozen=True, slots=True)
class ConsolidateResult:
    report: Report
    written: tuple[Path, ...]
    annotated: dict[str, Path] = field(default_factory=dict)
    caught_up: tuple[Period, ...] = ()  # earlier periods consolidated first (catch-up)
    notes: tuple[Problem, ...] = ()  # why a catch-up period could not be consolidated


def run_consolidate(paths: Paths, period: Period, *, progress: Progress | None = None,
                    today: date | None = None) -> ConsolidateResult:
    """Consolidate a period: first, oldest first, every earlier period of its plan year that
    has returns in input/ but is not in the history (catch-up, so no comparison skips a
    month); then the period itself.

    Each period's steps run in an order that keeps the workspace whole when a run fails or
    is killed at any point: each output file is replaced atomically (old or new, never
    half-written); the workbook is written beside (`core.pool.beside`) and the memo rendered in
    memory before the workbook, memo, notice or summary.json is replaced (a broken template
    stops the run with them intact; only the check outputs, which `check` writes alike, are
    new); the history is committed last, in one transaction, so it holds the period only
    once every output is in place.
    """
    from gkreport.history import History

    with run_lock(paths):
        done = set(History(paths.history).periods())
        caught, notes = [], []
        for earlier in paths.periods_with_returns():
            if earlier.year == period.year and earlier < period and earlier not in done:
                try:
                    _consolidate_one(paths, earlier, None, today)
                    caught.append(earlier)
                except GkreportError as exc:  # e.g. a month with no usable form
                    notes.extend(exc.problems)
        result = _consolidate_one(paths, period, progress, today)
    return replace(result, caught_up=tuple(caught), notes=tuple(notes))


def _consolidate_one(paths: Paths, period: Period, progress: Progress | None,
                     today: date | None) -> ConsolidateResult:
    from gkreport.core.pool import beside
    from gkreport.core.xlsx import PENDING_PREFIX, replace_file, write_text_atomic
    from gkreport.render.memo import render_outputs, write_outputs
    from gkreport.render.workbook import write_workbook

    year = year_of(paths, period)
    returns = _read(paths, year, period, progress)
    if returns.files.read == 0:
        # Nothing usable: keep last run's outputs and history rather than a month of 未报送.
        raise GkreportError(problem("no-forms", path=str(paths.returns(period)),
                                    period=str(period), found=returns.files.found))
    report = _merge(year, period, returns)
    returns = _as_merged(returns, report)
    out = paths.period_out(period)
    workbook = out / f"汇总表_{period}.xlsx"
    pending = out / f"{PENDING_PREFIX}{workbook.name}"
    # The workbook, the longest output, is written beside (a worker process) while this one
    # writes the rest and fills the history's transaction; it is moved into place last. A big
    # month is written here after the rest: the worker's copy of it would cost more memory
    # than the overlap saves time (10,000 forms: 1,163 MiB beside, 684 MiB here, as fast).
    big = len(report.entries) > BESIDE_MAX_ENTRIES
    try:
        with beside(write_workbook, report, pending, inline=big) as job:
            check_path, annotated = write_check_outputs(out, report, returns,
                                                        paths.returns(period))
            memo = render_outputs(report, out, templates=templates_dir(paths),
                                  annotated=annotated, notice=_notice(year, report, today))
            with year.history.recording(report):  # committed when every output is in place
                _workbook_done(job, out)
                memo_paths = write_outputs(memo)
                summary_path = out / "summary.json"
                write_text_atomic(summary_path, json.dumps(
                    report.summary.to_json(), ensure_ascii=False, indent=2) + "\n")
                replace_file(pending, workbook)
    finally:
        pending.unlink(missing_ok=True)
    return ConsolidateResult(report, (check_path, workbook, *memo_paths, summary_path),
                             annotated)


def _workbook_done(job: Any, out: Path) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from gkreport.core.xlsx import clean_leftovers

    try:
        job.result()
    except BrokenProcessPool:  # the worker was killed (out of memory, by hand)
        clean_leftovers(out)  # its half-written file (we hold the lock: nothing else writes)
        raise GkreportError(problem("worker-died")) from None


def run_memo(paths: Paths, period: Period, *, today: date | None = None) -> ConsolidateResult:
    """Re-render memo and notice from the stored period (its own plan version, its forms'
    contents as stored): the forms and the plan file are not read again."""
    from gkreport.consolidate import consolidate
    from gkreport.core.model import SubmissionState
    from gkreport.render.annotate import found_copies, unit_stem
    from gkreport.render.memo import render_all

    year = year_of(paths, period)
    if period not in year.history.periods():
        raise GkreportError(problem("history-missing-period", period=str(period)))
    report = consolidate(year.plan, year.history.load_returns(period), period,
                         prior=year.prior, due=year.due, ledger=year.history.ledger(period))
    out = paths.period_out(period)
    back = out / RETURNED_DIR
    # The annotated copies written by that period's consolidate, keyed by unit as annotate does.
    annotated = found_copies(back, {u.unit.name: unit_stem(u.unit.name, period)
                                    for u in report.units if u.state is SubmissionState.NEEDS_FIX})
    with run_lock(paths):
        written = render_all(report, out, templates=templates_dir(paths), annotated=annotated,
                             notice=_notice(year, report, today))
    return ConsolidateResult(report, tuple(written), annotated)


# ---------------------------------------------------------------- review


@dataclass(frozen=True, slots=True)
class ReviewResult:
    review: Review
    written: tuple[Path, ...]


def review_year(paths: Paths) -> int:
    """The plan year of the latest consolidated period: the default of `review --year`."""
    from gkreport.history import History

    history = History(paths.history)
    year = history.latest_year()
    if year is None:
        raise GkreportError(problem("history-empty", path=str(history.path)))
    return year


def run_review(paths: Paths, span: Span) -> ReviewResult:
    """Review a half-year, a quarter or the year from the history alone (never the forms nor
    the plan file): the review workbook and memo (.md, .html, .docx) in output/review/<range>/.

    Everything is computed and rendered in memory first; a span with no consolidated period
    raises GkreportError (review-no-periods) and a broken template one naming it, before
    any file is written.
    """
    from gkreport.frames import load_frames
    from gkreport.history import History
    from gkreport.render.memo import write_outputs
    from gkreport.review.compute import compute_review
    from gkreport.review.memo import render_review
    from gkreport.review.workbook import workbook_name, write_review_workbook

    review = compute_review(load_frames(History(paths.history), span.year, brief=True), span)
    out = paths.review_out(span.label)
    memo = render_review(review, out, templates=templates_dir(paths))
    with run_lock(paths):
        workbook = write_review_workbook(review, out / workbook_name(review))
        written = (workbook, *write_outputs(memo))
    return ReviewResult(review, written)


# ---------------------------------------------------------------- plan diff, demo


def run_plan_diff(paths: Paths, period: Period | None = None) -> Any:
    """The workspace plan against the version the latest consolidated period (or `period`)
    was consolidated with."""
    from gkreport.history import History
    from gkreport.plan.versions import diff_plans

    history = History(paths.history)
    plan = load_plan_checked(paths)
    stored = history.periods(year=plan.year) or history.periods()
    target = period or (stored[-1] if stored else None)
    old = history.plan_of(target) if target else None
    if old is None:
        raise GkreportError(problem("history-missing-period",
                                    period=str(target) if target else "任一"))
    return diff_plans(old, plan, since=target)


def run_demo(paths: Paths, period: Period, *, seed: int = 2025, force: bool = False,
             progress: Progress | None = None) -> Any:
    """Generate the period's forms and fill them as units would, into input/PERIOD."""
    from gkreport.forms.demo import fill_demo

    target = paths.returns(period)
    existing = [p for p in target.glob("*") if p.is_file()] if target.is_dir() else []
    if existing and not force:
        raise GkreportError(problem("demo-input-not-empty", path=str(target),
                                    count=len(existing)))
    run_forms(paths, period, progress=progress)
    plan = load_plan_checked(paths)
    return fill_demo(plan, period, paths.forms(period), paths.returns(period), seed=seed)
