"""What the terminal shows: plan, check table, consolidation summary, progress bars.

Everything a unit or the office wrote (cell text, file names, unit names) is printed as
plain text, never as Rich markup, with control characters made visible: a cell holding
"[/]" or an escape sequence must not break or restyle the terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gkreport.core.model import STATUS_COLOUR, Colour, Status
from gkreport.core.problems import Problem

if TYPE_CHECKING:
    from gkreport.core.report import TaskResult

# The terminal's names for the warning colours; which status carries which colour is the
# model's one table (STATUS_COLOUR), shared with the workbook and the memo.
COLOUR_STYLE = {Colour.RED: "bold red", Colour.YELLOW: "yellow", Colour.BLUE: "blue",
                Colour.GREEN: "green", Colour.NONE: "default"}
MISSING_STYLE = "dim"  # 未报送 is grey, as in the workbook: red means 逾期
MAX_ALERTS = 20  # warning lines printed after a consolidate
MAX_NAMES = 20  # unit names printed per list
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """Text as it may be printed: control characters (ESC, bell, C1) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    # Wide enough for Chinese tables when not on a terminal (CI logs, CliRunner).
    return Console(stderr=stderr, highlight=False, soft_wrap=True,
                   width=None if sys.stdout.isatty() else 140)


class Printer:
    """Lines for the user on stdout; with `quiet`, only problems (on stderr) are printed."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.out = console()
        self.err = console(stderr=True)

    def line(self, text: object = "", style: str | None = None) -> None:
        if not self.quiet:
            self.out.print(plain(text), markup=False, style=style)

    def styled(self, *parts: tuple[object, str | None]) -> None:
        """One line of differently styled pieces, each printed as plain text."""
        if self.quiet:
            return
        from rich.text import Text

        line = Text()
        for text, style in parts:
            line.append(plain(text), style=style or "")
        self.out.print(line)

    def problem(self, p: Problem, indent: str = "") -> None:
        """A problem that stopped or failed the command: on stderr, even when quiet."""
        self.err.print(indent + plain(p.line()), markup=False,
                       style="red" if p.is_error else "yellow")

    def finding(self, p: Problem, indent: str = "  ") -> None:
        """A problem found in what the command read (the plan): part of its listing."""
        self.line(indent + p.line(), style="red" if p.is_error else "yellow")

    def table(self, table: Any) -> None:
        if not self.quiet:
            self.out.print(table)


@contextmanager
def progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, or nothing when --quiet or not on a terminal."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    err = console(stderr=True)
    if not err.is_terminal:  # a log file gets no bar, not even a stray blank line
        yield None
        return
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def status_style(status: str) -> str:
    return COLOUR_STYLE[STATUS_COLOUR.get(status, Colour.NONE)]


def names(units: tuple[str, ...] | list[str], where: str = "催报通知") -> str:
    if len(units) <= MAX_NAMES:
        return "、".join(units)
    return f"{'、'.join(units[:MAX_NAMES])} 等 {len(units)} 家（名单见{where}）"


def why(t: TaskResult) -> str:
    """Why a task carries its warning colour, in a few words."""
    if t.colour is Colour.RED and t.task.deadline.date:
        d = t.task.deadline.date
        return f"{d.month}月{d.day}日到期，未完成"
    if t.colour is Colour.BLUE and t.task.deadline.date:
        return f"{t.task.deadline.date.month}月{t.task.deadline.date.day}日到期"
    parts = []
    if t.behind:
        parts.append(f"{t.behind}家滞后")
    if t.unverified:
        parts.append(f"{len(t.unverified)}条填报待核实")
    if not parts and t.status is Status.BEHIND:
        parts.append("滞后")
    return "，".join(parts)


def check_json(result: Any) -> dict[str, Any]:
    """`check --json`: the period, every problem, the reconciliation, each unit's state."""
    returns, report = result.returns, result.report
    f, r = returns.files, returns.rows
    return {
        "period": str(returns.period),
        "problems": [{"code": p.code, "severity": p.severity.value, "unit": p.unit,
                      "file": p.file, "sheet": p.sheet, "cell": p.cell, "task_no": p.task_no,
                      "message": p.message} for p in returns.problems],
        "files": {"found": f.found, "read": f.read, "refused": f.refused, "skipped": f.skipped,
                  "evidence": f.evidence},
        "rows": {"read": r.read, "merged": r.merged, "rejected": r.rejected},
        "units": [{"name": u.unit.name, "state": u.state.value, "file": u.file,
                   "errors": u.errors, "warnings": u.warnings,
                   "received": u.received.isoformat(timespec="minutes") if u.received else None,
                   "late_days": u.late_days, "rounds": u.rounds} for u in report.units],
    }


def print_diff(diff: Any, out: Printer) -> None:
    """`plan diff` in words."""
    since = f"（{diff.since} 汇总时所用）" if diff.since else ""
    out.line(f"现行计划与此前的计划{since}相比：", style="bold")
    if diff.empty:
        out.line("  没有变化。")
    for t in diff.added:
        out.line(f"  新增：{t.no}. {short(t.text)}", style="green")
    for t in diff.removed:
        out.line(f"  删除：（原）{t.no}. {short(t.text)}", style="red")
    from gkreport.plan.versions import FIELDS

    for old, new, fields in diff.changed:
        words = "、".join(FIELDS[f] for f in fields)
        renumbered = f"（原序号 {old.no}）" if old.no != new.no else ""
        more, less = diff.units_change(old, new) if "units" in fields else ((), ())
        who = "；".join(f"{w}：{'、'.join(us)}" for w, us in (("增加", more), ("减少", less)) if us)
        if "units" in fields and not who and diff.renamed:
            who = "单位更名"
        out.line(f"  调整{words}：{new.no}. {short(new.text)}{renumbered}"
                 + (f"（{who}）" if who else ""), style="yellow")
    for a, b in diff.renamed:
        out.line(f"  单位更名：{a} → {b}（旧名作为别名，历史记录归并到新名称）")


def short(text: str, width: int = 40) -> str:
    """A task text in a terminal line: cut to `width` with … only when it is longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


MAX_UNITS_SHOWN = 5  # units named at each end of a review's ranking


def print_review(result: Any, out: Printer) -> None:
    """`review` in a few lines: what it covers, the tasks, the units, the files written."""
    review = result.review
    t = review.totals
    out.line(f"{review.title}：{review.coverage}", style="bold")
    if len(review.versions) > 1:
        out.line(f"计划版本 {len(review.versions)} 个：" + "；".join(
            (f"{v.first}" if v.first == v.last else f"{v.first}至{v.last}")
            + f"（{v.tasks} 项任务）" for v in review.versions))
    parts: list[tuple[object, str | None]] = [(f"任务 {t.tasks} 项：", None)]
    for i, (st, n) in enumerate(t.by_status.items()):
        parts += [("，" if i else "", None), (f"{st.value} {n}", status_style(st))]
    out.styled(*parts, ("；", None), (f"逾期 {t.overdue}", "bold red"),
               (f"；本时段内完成 {t.done_in_span} 项", None))
    out.line(f"单位 {t.units} 家，应报 {t.expected} 期次：已报 {t.submitted}（按时 {t.on_time}、"
             f"逾期 {t.late}），未报送 {t.missing}，退回修改 {t.returned} 轮")
    units = review.units
    if units:
        best = "、".join(f"{u.name}（{u.score:.1f}）" for u in units[:MAX_UNITS_SHOWN])
        out.line(f"考核排名前列：{best}")
        low = [u for u in review.ranked_last(MAX_UNITS_SHOWN) if u not in units[:MAX_UNITS_SHOWN]]
        if low:
            out.line("得分较低：" + "、".join(f"{u.name}（{u.score:.1f}）" for u in low),
                     style="yellow")
    out.line("已写入：", style="bold")
    for path in result.written:
        out.line(f"  {path}")
