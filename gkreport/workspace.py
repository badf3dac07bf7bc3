"""The workspace: where inputs and outputs live, the run lock, and each command's pipeline.

Every CLI command calls exactly one `run_*` function here; these never print.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gkreport.core.model import Period, Plan, Report, Returns
from gkreport.core.problems import GkreportError, problem

if TYPE_CHECKING:
    from gkreport.forms.writer import FormsResult

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Paths:
    """The workspace layout of DESIGN.md."""

    root: Path

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def plan(self) -> Path:
        from gkreport.plan.book import PLAN_FILE

        return self.input / PLAN_FILE

    @property
    def history(self) -> Path:
        from gkreport.history import history_path

        return history_path(self.root)

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def returns(self, period: Period) -> Path:
        return self.input / str(period)

    def forms(self, period: Period) -> Path:
        return self.output / "forms" / str(period)

    def period_out(self, period: Period) -> Path:
        return self.output / str(period)


def latest_period(paths: Paths) -> Period:
    """The latest input/YYYY-MM folder: the default period of `consolidate`."""
    found = []
    for p in paths.input.glob("*"):
        if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name):
            try:
                found.append(Period.parse(p.name))
            except ValueError:  # e.g. a folder named 2025-13
                continue
    if not found:
        raise GkreportError(problem("no-period", path=str(paths.input)))
    return max(found, key=lambda p: (p.year, p.month))


def load_plan_checked(paths: Paths) -> Plan:
    """The workspace plan; refuse to go on when it has errors (forms would be wrong)."""
    from gkreport.plan.book import read_plan

    if not paths.plan.exists():
        raise GkreportError(problem("no-plan", path=str(paths.plan)))
    plan = read_plan(paths.plan)
    if plan.has_errors:
        raise GkreportError(*[p for p in plan.problems if p.is_error])
    return plan


@contextmanager
def run_lock(paths: Paths, *, wait: float = 60.0) -> Iterator[None]:
    """Serialise runs that write a workspace's outputs: a second run waits, then refuses."""
    paths.output.mkdir(parents=True, exist_ok=True)
    lock_path = paths.output / ".gkreport.lock"
    fh = open(lock_path, "a+b")  # noqa: SIM115 - held for the whole run
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                _try_lock(fh)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise GkreportError(problem("workspace-busy", file=str(lock_path))) from None
                time.sleep(0.2)
        yield
    finally:
        try:
            _unlock(fh)
        finally:
            fh.close()


def _try_lock(fh: Any) -> None:
    if os.name == "nt":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fh: Any) -> None:
    try:
        if os.name == "nt":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except OSError:
        pass


def _history(paths: Paths) -> Any:
    from gkreport.history import History

    return History(paths.history)


# ---------------------------------------------------------------- forms


def run_forms(paths: Paths, period: Period, *, units: list[str] | None = None,
              password: str | None = None, due: date | None = None, contact: str = "",
              progress: Progress | None = None) -> FormsResult:
    """Write this period's forms, prefilled with each unit's answers from the previous period."""
    from gkreport.forms.writer import write_forms

    plan = load_plan_checked(paths)
    history = _history(paths) if paths.history.exists() else None
    # Same plan year only: January's forms are not prefilled with last year's answers.
    previous = (history.previous_entries(str(period), year=plan.year,
                                          fingerprint=plan.fingerprint) if history else {})
    return write_forms(plan, period, paths.forms(period), units=units or None, password=password,
                       due=due, previous=previous, contact=contact, progress=progress)


# ---------------------------------------------------------------- check


@dataclass(frozen=True, slots=True)
class CheckResult:
    plan: Plan
    returns: Returns
    check_report: Path
    annotated: dict[str, Path] = field(default_factory=dict)


def _read(paths: Paths, plan: Plan, period: Period, progress: Progress | None) -> Returns:
    from gkreport.intake.ingest import read_returns

    folder = paths.returns(period)
    if not folder.is_dir():
        raise GkreportError(problem("no-input", path=str(folder), period=str(period)))
    notes = (_history(paths).previous_notes(str(period), year=plan.year,
                                            fingerprint=plan.fingerprint)
             if paths.history.exists() else {})
    return read_returns(plan, period, folder, previous_notes=notes, progress=progress)


def write_check_outputs(paths: Paths, plan: Plan, period: Period, returns: Returns,
                         ) -> tuple[Path, dict[str, Path]]:

    from gkreport.render.annotate import annotate_returns
    from gkreport.render.checkreport import write_check_report

    out = paths.period_out(period)
    report_path = write_check_report(returns, plan, period, out / f"校验报告_{period}.xlsx")
    # The folder is replaced whole (last run's copies must not linger once a unit has
    # fixed its form, and a killed run must not leave the notice pointing to none).
    annotated = annotate_returns(returns, paths.returns(period), out / "退回修改")
    return report_path, annotated


def run_check(paths: Paths, period: Period, *, progress: Progress | None = None) -> CheckResult:
    """Read the returned forms, write the check report and the annotated copies."""
    plan = load_plan_checked(paths)
    returns = _read(paths, plan, period, progress)
    with run_lock(paths):
        report_path, annotated = write_check_outputs(paths, plan, period, returns)
    return CheckResult(plan, returns, report_path, annotated)


# ---------------------------------------------------------------- consolidate


@dataclass(frozen=True, slots=True)
class ConsolidateResult:
    report: Report
    summary: dict[str, Any]
    written: tuple[Path, ...]
    annotated: dict[str, Path] = field(default_factory=dict)


def templates_dir(paths: Paths) -> Path | None:
    """The workspace's templates/ folder, when the office made one."""
    return paths.templates if paths.templates.is_dir() else None


def run_consolidate(paths: Paths, period: Period, *, progress: Progress | None = None,
                    ) -> ConsolidateResult:
    """Read, check and merge a period; write every output; record the period in the history."""
    from gkreport.background import SideJob
    from gkreport.consolidate import consolidate, summarise
    from gkreport.core.xlsx import replace_file, write_text_atomic
    from gkreport.render.memo import write_outputs
    from gkreport.render.workbook import write_workbook

    plan = load_plan_checked(paths)
    out = paths.period_out(period)
    with run_lock(paths):
        returns = _read(paths, plan, period, progress)
        if returns.files.read == 0:
            # Nothing usable: keep last run's outputs and history rather than a month of 未报送.
            raise GkreportError(problem("no-forms", path=str(paths.returns(period)),
                                        period=str(period), found=returns.files.found))
        history = _history(paths)
        report = consolidate(plan, returns, period, history=history)
        workbook = out / f"汇总表_{period}.xlsx"
        pending = out / f".~pending-{workbook.name}"
        # The workbook is the longest single step: this process writes it (to a pending name)
        # while a second one writes the check outputs, renders the memo and prepares the
        # history write, committed last, once everything else is in place.
        try:
            with SideJob(paths, returns, report) as side:
                write_workbook(report, pending)
                check_path, annotated, memo = side.outputs()
                replace_file(pending, workbook)
                written = [check_path, workbook, *write_outputs(memo)]
                summary = summarise(report)
                summary_path = out / "summary.json"
                write_text_atomic(summary_path,
                                  json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
                written.append(summary_path)
                # Last: a run that failed above leaves the history as it was.
                side.commit()
        finally:
            pending.unlink(missing_ok=True)
    return ConsolidateResult(report, summary, tuple(written), annotated)


def run_memo(paths: Paths, period: Period) -> ConsolidateResult:
    """Re-render memo and notice from the stored period, without re-reading the forms."""
    from gkreport.consolidate import NEEDS_FIX, consolidate, summarise
    from gkreport.render.annotate import unit_stem
    from gkreport.render.memo import render_all

    plan = load_plan_checked(paths)
    history = _history(paths)
    if str(period) not in history.periods():
        raise GkreportError(problem("history-missing-period", period=str(period)))
    if history.fingerprint(str(period)) != plan.fingerprint:
        raise GkreportError(problem("plan-changed", period=str(period)))
    report = consolidate(plan, history.load_returns(str(period)), period, history=history)
    out = paths.period_out(period)
    back = out / "退回修改"
    # The annotated copies written by that period's consolidate, keyed by unit as annotate does.
    annotated = {u.unit.name: f for u in report.units for f in sorted(back.glob(
        f"{unit_stem(u.unit.name, str(period))}.xls*")) if u.state == NEEDS_FIX}
    with run_lock(paths):
        written = render_all(report, out, templates=templates_dir(paths), annotated=annotated)
    return ConsolidateResult(report, summarise(report), tuple(written), annotated)


# ---------------------------------------------------------------- demo


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
