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

from .model import Period, Plan, Report, Returns
from .problems import GkreportError, Problem, Severity

if TYPE_CHECKING:
    from .forms import FormsResult

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
        from .plan import PLAN_FILE

        return self.input / PLAN_FILE

    @property
    def history(self) -> Path:
        return self.output / "history.sqlite"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def returns(self, period: Period) -> Path:
        return self.input / str(period)

    def forms(self, period: Period) -> Path:
        return self.output / "forms" / str(period)

    def period_out(self, period: Period) -> Path:
        return self.output / str(period)


def _problem(code: str, message: str, fix: str = "", file: str = "") -> GkreportError:
    return GkreportError(Problem(code=code, severity=Severity.ERROR, message=message, fix=fix,
                                 file=file))


def latest_period(paths: Paths) -> Period:
    """The latest input/YYYY-MM folder: the default period of `consolidate`."""
    found = sorted(p.name for p in paths.input.glob("*") if p.is_dir()
                   and re.fullmatch(r"\d{4}-\d{2}", p.name))
    if not found:
        raise _problem("no-period", f"在 {paths.input} 下没有找到期次文件夹（如 2025-06）",
                       "请用 --period 指定期次，或把回收的填报表放入 input/YYYY-MM/")
    return Period.parse(found[-1])


def load_plan_checked(paths: Paths) -> Plan:
    """The workspace plan; refuse to go on when it has errors (forms would be wrong)."""
    from .plan import read_plan

    if not paths.plan.exists():
        raise _problem("no-plan", f"找不到计划工作簿 {paths.plan}",
                       "请用 gkreport plan import 从正式文件生成，或用 -w 指定工作目录",
                       file=str(paths.plan))
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
                    raise _problem(
                        "workspace-busy", "另一个 gkreport 正在此工作目录运行，本次未执行",
                        "请等待其结束后再运行", file=str(lock_path)) from None
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
    from .history import History

    return History(paths.history)


# ---------------------------------------------------------------- forms


def run_forms(paths: Paths, period: Period, *, units: list[str] | None = None,
              password: str | None = None, due: date | None = None, contact: str = "",
              progress: Progress | None = None) -> FormsResult:
    """Write this period's forms, prefilled with each unit's answers from the previous period."""
    from .forms import write_forms

    plan = load_plan_checked(paths)
    history = _history(paths) if paths.history.exists() else None
    # Same plan year only: January's forms are not prefilled with last year's answers.
    previous = history.previous_entries(str(period), year=plan.year) if history else {}
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
    from .ingest import read_returns

    folder = paths.returns(period)
    if not folder.is_dir():
        raise _problem("no-input", f"没有找到本期的回收文件夹 {folder}",
                       f"请把各单位报回的填报表放入 input/{period}/", file=str(folder))
    notes = (_history(paths).previous_notes(str(period), year=plan.year)
             if paths.history.exists() else {})
    return read_returns(plan, period, folder, previous_notes=notes, progress=progress)


def _write_check_outputs(paths: Paths, plan: Plan, period: Period, returns: Returns,
                         ) -> tuple[Path, dict[str, Path]]:
    import shutil

    from .annotate import annotate_returns
    from .checkreport import write_check_report

    out = paths.period_out(period)
    report_path = write_check_report(returns, plan, period, out / f"校验报告_{period}.xlsx")
    back = out / "退回修改"
    # Last run's annotated copies must not linger once a unit has fixed its form.
    if back.is_dir():
        shutil.rmtree(back)
    annotated = annotate_returns(returns, paths.returns(period), back)
    return report_path, annotated


def run_check(paths: Paths, period: Period, *, progress: Progress | None = None) -> CheckResult:
    """Read the returned forms, write the check report and the annotated copies."""
    plan = load_plan_checked(paths)
    returns = _read(paths, plan, period, progress)
    with run_lock(paths):
        report_path, annotated = _write_check_outputs(paths, plan, period, returns)
    return CheckResult(plan, returns, report_path, annotated)


# ---------------------------------------------------------------- consolidate


@dataclass(frozen=True, slots=True)
class ConsolidateResult:
    report: Report
    summary: dict[str, Any]
    written: tuple[Path, ...]
    annotated: dict[str, Path] = field(default_factory=dict)


def _write_report_outputs(paths: Paths, report: Report, annotated: dict[str, Path],
                          ) -> list[Path]:
    from .consolidate import summarise
    from .memo import render_memo, render_notice
    from .workbook import write_workbook
    from .xlsxutil import write_text_atomic

    period = report.period
    out = paths.period_out(period)
    written = [write_workbook(report, out / f"汇总表_{period}.xlsx")]
    templates = paths.templates if paths.templates.is_dir() else None
    written += render_memo(report, out, templates=templates, annotated=annotated)
    written.append(render_notice(report, out, templates=templates, annotated=annotated))
    summary_path = out / "summary.json"
    write_text_atomic(summary_path,
                      json.dumps(summarise(report), ensure_ascii=False, indent=2) + "\n")
    written.append(summary_path)
    return written


def run_consolidate(paths: Paths, period: Period, *, progress: Progress | None = None,
                    ) -> ConsolidateResult:
    """Read, check and merge a period; write every output; record the period in the history."""
    from .consolidate import consolidate, summarise

    plan = load_plan_checked(paths)
    with run_lock(paths):
        returns = _read(paths, plan, period, progress)
        history = _history(paths)
        report = consolidate(plan, returns, period, history=history)
        check_path, annotated = _write_check_outputs(paths, plan, period, returns)
        written = [check_path, *_write_report_outputs(paths, report, annotated)]
        # Last: a run that failed above leaves the history as it was.
        history.record(report)
    return ConsolidateResult(report, summarise(report), tuple(written), annotated)


def run_memo(paths: Paths, period: Period) -> ConsolidateResult:
    """Re-render memo and notice from the stored period, without re-reading the forms."""
    from .consolidate import NEEDS_FIX, consolidate, summarise
    from .memo import render_memo, render_notice
    from .text import safe_filename

    plan = load_plan_checked(paths)
    history = _history(paths)
    if str(period) not in history.periods():
        raise _problem("period-not-stored", f"历史库中没有 {period} 的汇总结果",
                       f"请先运行 gkreport consolidate --period {period}")
    if history.fingerprint(str(period)) != plan.fingerprint:
        raise _problem("plan-changed", f"{period} 汇总时使用的任务分解表与当前计划不一致",
                       f"请重新运行 gkreport consolidate --period {period}")
    report = consolidate(plan, history.load_returns(str(period)), period, history=history)
    out = paths.period_out(period)
    back = out / "退回修改"
    # The annotated copies written by that period's consolidate, keyed by unit as annotate does.
    annotated = {u.unit.name: f for u in report.units for f in sorted(back.glob(
        f"{safe_filename(u.unit.name)}.xls*")) if u.state == NEEDS_FIX}
    templates = paths.templates if paths.templates.is_dir() else None
    with run_lock(paths):
        written = render_memo(report, out, templates=templates, annotated=annotated)
        written.append(render_notice(report, out, templates=templates, annotated=annotated))
    return ConsolidateResult(report, summarise(report), tuple(written), annotated)


# ---------------------------------------------------------------- demo


def run_demo(paths: Paths, period: Period, *, seed: int = 2025) -> Any:
    """Generate the period's forms and fill them as units would, into input/PERIOD."""
    from .demo import fill_demo

    run_forms(paths, period)
    plan = load_plan_checked(paths)
    return fill_demo(plan, period, paths.forms(period), paths.returns(period), seed=seed)
