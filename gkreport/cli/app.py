"""The commands: each resolves the workspace, calls one `run_*` stage, prints, picks the exit code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from gkreport.cli import show
from gkreport.cli.help import ChineseCommand, ChineseGroup
from gkreport.cli.options import (
    AsJson,
    Debug,
    OptionalPeriod,
    PeriodOpt,
    Quiet,
    Workspace,
    parse_choice,
    parse_date,
    parse_period,
    parse_year,
)
from gkreport.core.model import Period
from gkreport.core.problems import GkreportError, Problem

app = typer.Typer(
    name="gkreport",
    help="政务公开工作要点月度推进情况：生成填报表、校验回收表、汇总并生成简报。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    cls=ChineseGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
plan_app = typer.Typer(help="查看或导入任务分解表（计划）。", no_args_is_help=True,
                       rich_markup_mode=None, cls=ChineseGroup)
app.add_typer(plan_app, name="plan")


def _fail(problems: tuple[Problem, ...] | list[Problem]) -> NoReturn:
    printer = show.Printer()
    for p in problems:
        printer.problem(p)
    raise typer.Exit(1)


@contextmanager
def _guard(debug: bool) -> Iterator[None]:
    """Map stage exceptions to Chinese messages and exit codes; traceback only with --debug."""
    try:
        yield
    except GkreportError as exc:
        if debug:
            raise
        _fail(exc.problems)
    except (typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError):
        raise
    except OSError as exc:  # a folder without permission, a file gone, a full disk
        if debug:
            raise
        from gkreport.core.xlsx import os_failure

        _fail(os_failure(exc.filename or exc.filename2 or "", exc).problems)
    except Exception as exc:  # noqa: BLE001 - last line of defence for users
        if debug:
            raise
        show.console(stderr=True).print(
            show.plain(f"[错误] 程序内部错误：{exc.__class__.__name__}: {exc}。"
                       "请加 --debug 重新运行，并把输出发给维护人员。"), markup=False, style="red")
        raise typer.Exit(1) from None


def _paths(workspace: Path) -> Any:
    from gkreport.workspace import Paths

    return Paths(workspace.resolve())


def _period_or_latest(workspace: Path, period: Period | None) -> Period:
    from gkreport.workspace import latest_period

    return period or latest_period(_paths(workspace))


# ---------------------------------------------------------------- plan


@plan_app.command("show", cls=ChineseCommand)
def plan_show(
    workspace: Workspace = Path("."),
    as_json: AsJson = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """显示任务分解表：每项任务的类别、内容、牵头单位、时间节点及应报单位，以及计划中的问题。

    有错误时退出码为 1。

    Example: gkreport plan show --json
    """
    with _guard(debug):
        from gkreport.plan.book import plan_json, read_plan

        plan = read_plan(_paths(workspace).plan)
    if as_json:
        typer.echo(json.dumps(plan_json(plan), ensure_ascii=False, indent=2))
    else:
        _print_plan(plan, show.Printer(quiet))
    if plan.has_errors:
        raise typer.Exit(1)


def _print_plan(plan: Any, out: show.Printer) -> None:
    out.line(f"{plan.title}（{plan.year}年，共 {len(plan.tasks)} 项任务）", style="bold")
    for t in plan.tasks:
        out.line(f"\n{t.no}. 【{t.category}】{t.text}")
        out.line(f"   牵头单位：{t.lead_unit or '无'}    时间节点：{t.deadline.text} → "
                 f"{t.deadline.label()}")
        more = "（另接受各有关单位报送）" if t.open else ""
        out.line(f"   应报单位（{len(t.expected_units)}）：{'、'.join(t.expected_units) or '无'}"
                 f"{more}")
    out.line("\n按一级指标：", style="bold")
    for cat in plan.categories:
        out.line(f"  {cat}：{sum(t.category == cat for t in plan.tasks)} 项")
    out.line(f"应报单位合计：{len(plan.expected_units)} 个")
    if plan.problems:
        out.line(f"\n计划中的问题（{len(plan.problems)}）：", style="bold")
        for p in plan.problems:
            out.finding(p)
    else:
        out.line("计划无问题。", style="green")


@plan_app.command("import", cls=ChineseCommand)
def plan_import(
    source: Annotated[Path, typer.Argument(help="正式文件：.docx、.xlsx 或纯文本导出（.txt）",
                                           dir_okay=False)],
    year: Annotated[int | None, typer.Option("--year", metavar="YYYY",
                                             help="计划年度（默认：从标题或正文识别）")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="<file>",
        help="输出的计划工作簿（默认：工作目录 input/任务分解表.xlsx）")] = None,
    new_registry: Annotated[bool, typer.Option(
        "--new-registry", help="按计划中出现的单位新建单位名录（新单位标为“新增，请核对”）")] = False,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """把正式文件中的任务分解表导入为计划工作簿（任务分解表、单位名录、集合名称）。

    单位名录和集合名称沿用工作目录中已有的计划工作簿；没有时用内置名录，计划中有它不认识的单位则按计划新建。

    加 --new-registry 总是按计划中出现的单位新建单位名录。标题和正文中都没有年度时须用 --year 指定。

    Example: gkreport plan import 2025年政务公开工作要点.docx --new-registry
    """
    with _guard(debug):
        from gkreport.plan.importer import import_plan

        paths = _paths(workspace)
        target = out or paths.plan
        registry = paths.plan if paths.plan.exists() else None
        # No registry in the workspace yet: build one from the plan unless the bundled
        # registry knows every unit it names (None = decide by the plan).
        new = True if new_registry else (None if registry is None else False)
        result = import_plan(source, out=target, year=year, registry=registry, new_registry=new)
    printer = show.Printer(quiet)
    printer.line(f"已导入 {len(result.plan.tasks)} 项任务（{result.plan.year}年）→ {result.path}")
    for p in result.problems:
        printer.finding(p)
    if any(p.is_error for p in result.problems):
        raise typer.Exit(1)


@plan_app.command("diff", cls=ChineseCommand)
def plan_diff(
    period: OptionalPeriod = None,
    as_json: AsJson = False,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """比较现行计划与已汇总期次所用的计划：新增、删除、调整的任务，更名的单位。

    默认与最近一个已汇总期次比较；用 --period 指定期次。

    Example: gkreport plan diff --period 2025-06
    """
    chosen = parse_period(period) if period else None
    with _guard(debug):
        from gkreport.workspace import run_plan_diff

        diff = run_plan_diff(_paths(workspace), chosen)
    if as_json:
        typer.echo(json.dumps(diff.to_json(), ensure_ascii=False, indent=2))
    else:
        show.print_diff(diff, show.Printer(quiet))


# ---------------------------------------------------------------- forms, check


@app.command(cls=ChineseCommand)
def forms(
    period: PeriodOpt,
    units: Annotated[list[str] | None, typer.Option(
        "--units", "-u", metavar="<unit>", help="只为这些单位生成（可多次指定）")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", help="工作表保护密码（默认不设密码）")] = None,
    due: Annotated[str | None, typer.Option(
        "--due", metavar="YYYY-MM-DD", help="报送截止日期（默认：次月5日）")] = None,
    contact: Annotated[str, typer.Option(
        "--contact", help="填报说明中的联系人及电话，例如“区政府办公室 张三 57xxxxxx”")] = "",
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """为每个责任单位生成本期填报表（预填本单位任务及上月填报内容）和分发清单。

    输出到 output/forms/期次/。

    Example: gkreport forms --period 2025-06 --due 2025-07-05
    """
    p = parse_period(period)
    due_date = parse_date(due, "--due") if due else None
    with _guard(debug), show.progress("生成填报表", quiet) as bar:
        from gkreport.workspace import run_forms

        result = run_forms(_paths(workspace), p, units=units, password=password, due=due_date,
                           contact=contact, progress=bar)
    printer = show.Printer(quiet)
    printer.line(f"已生成 {len(result.forms)} 份填报表 → {result.listing.parent}")
    printer.line(f"分发清单：{result.listing}")


@app.command(cls=ChineseCommand)
def check(
    period: PeriodOpt,
    everyone: Annotated[bool, typer.Option(
        "--all", help="列出全部应报单位（默认只列有问题和未报送的单位，其余计数）")] = False,
    as_json: AsJson = False,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """校验本期回收的填报表：逐单位列出问题（文件、工作表、单元格），生成校验报告、退回修改件和催报通知。

    写入 output/期次/校验/（不改动已汇总期次的汇总结果）。发现错误时退出码为 1。

    Example: gkreport check --period 2025-06
    """
    p = parse_period(period)
    with _guard(debug), show.progress("读取填报表", quiet or as_json) as bar:
        from gkreport.workspace import run_check

        result = run_check(_paths(workspace), p, progress=bar)
    if as_json:
        typer.echo(json.dumps(show.check_json(result), ensure_ascii=False, indent=2))
    else:
        _print_check(result, show.Printer(quiet), everyone)
    errors = sum(x.is_error for x in result.returns.problems)
    raise typer.Exit(1 if errors else 0)


def _print_check(result: Any, out: show.Printer, everyone: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from gkreport.render.checkreport import unit_table

    if out.quiet:  # the errors alone, one line each, for a script or a log
        for p in result.returns.problems:
            if p.is_error:
                out.problem(p)
        return
    table = Table(title=f"{result.returns.period} 填报表校验结果", show_lines=False)
    for h in ("单位", "文件", "错误", "警告", "主要问题"):
        table.add_column(h, overflow="fold")
    clean = 0
    for row in unit_table(result.returns, result.plan):
        if not (row.errors or row.warnings or everyone):
            clean += 1
            continue
        style = "red" if row.errors else ("yellow" if row.warnings else "green")
        cells = (row.unit or "（未识别）", row.file, str(row.errors), str(row.warnings),
                 "\n".join(row.first_problems) or "无")
        table.add_row(*(Text(show.plain(c)) for c in cells), style=style)
    reported = {s.unit for s in result.returns.submissions if s.unit}
    for unit in result.plan.expected_units:
        if unit not in reported:
            table.add_row(Text(show.plain(unit)), "（未报送）", "", "", "",
                          style=show.MISSING_STYLE)
    out.table(table)
    if clean:
        out.line(f"另有 {clean} 份填报表无问题（加 --all 逐一列出）", style="green")
    _print_reconciliation(result.returns, out)
    errors = sum(x.is_error for x in result.returns.problems)
    warnings = len(result.returns.problems) - errors
    out.line(f"合计：错误 {errors} 个，警告 {warnings} 个；需退回修改 {len(result.annotated)} 份。",
             style="red" if errors else "green")
    out.line(f"校验报告：{result.check_report}")
    if result.annotated:
        out.line(f"退回修改件：{next(iter(result.annotated.values())).parent}")
    for key, note in getattr(result.annotated, "notes", {}).items():
        out.line(f"  {show.plain(key)}：{note}", style="yellow")
    for path in result.written[1:]:
        out.line(f"催报通知：{path}")


def _print_reconciliation(returns: Any, out: show.Printer) -> None:
    f, r = returns.files, returns.rows
    evidence = f"，佐证材料 {f.evidence}" if f.evidence else ""
    out.line(f"文件：发现 {f.found}，读取 {f.read}，拒收 {f.refused}，跳过 {f.skipped}{evidence}；"
             f"数据行：读取 {r.read} = 采用 {r.merged} + 未采用 {r.rejected}")


# ---------------------------------------------------------------- consolidate


@app.command(cls=ChineseCommand)
def consolidate(
    period: OptionalPeriod = None,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """汇总本期：合并各单位填报与计划，生成汇总表、领导简报、催报通知、summary.json，并记入历史库。

    Example: gkreport consolidate --period 2025-06
    """
    chosen = parse_period(period) if period else None  # a bad one: usage error (exit 2)
    with _guard(debug):
        p = _period_or_latest(workspace, chosen)
        with show.progress(f"汇总 {p}", quiet) as bar:
            from gkreport.workspace import run_consolidate

            result = run_consolidate(_paths(workspace), p, progress=bar)
    _print_summary(result, show.Printer(quiet))


def _print_summary(result: Any, out: show.Printer) -> None:
    report = result.report
    s = report.summary
    if result.caught_up:
        out.line("先补汇总了本年度此前未汇总的期次：" + "、".join(map(str, result.caught_up))
                 + "（按时间先后，以便与上期比较）")
    for p in result.notes:
        out.problem(p)
    out.line(f"{report.plan.title} · {s.period} 汇总完成", style="bold")
    t = s.tasks
    parts: list[tuple[object, str | None]] = [(f"任务 {t.total} 项：", None)]
    for i, st in enumerate(t.by_status):
        parts += [("，" if i else "", None), (f"{st.value} {t.by_status[st]}", show.status_style(st))]
    out.styled(*parts, ("；", None), (f"逾期 {t.overdue}", "bold red"))
    u = s.units
    out.line(f"单位：应报 {u.expected}，已报 {u.submitted}，未报送 {len(u.missing)}，"
             f"需修改 {len(u.needs_fix)}")
    if u.missing:
        out.line(f"  未报送：{show.names(u.missing)}", style=show.MISSING_STYLE)
    if u.needs_fix:
        out.line(f"  需修改：{show.names(u.needs_fix)}", style="yellow")
    if u.late:  # after the due date (the ledger's received times): who, by how many days
        out.line("  逾期报送：" + show.names([f"{name}（{days}天）" for name, days in u.late],
                                           "汇总表“报送情况”"), style="yellow")
    out.line(f"问题：错误 {s.problems.errors}，警告 {s.problems.warnings}")
    _print_reconciliation(report, out)
    _print_alerts(report.tasks, out)
    out.line("已写入：", style="bold")
    for path in result.written:
        out.line(f"  {path}")


def _print_alerts(tasks: Any, out: show.Printer) -> None:
    """Red first; a city's plan can flag a hundred tasks, so the terminal shows the first
    ones and counts the rest (the workbook's 任务汇总 lists them all)."""
    order = (show.Colour.RED, show.Colour.YELLOW, show.Colour.BLUE)
    alerts = sorted((r for r in tasks if r.colour in order), key=lambda r: order.index(r.colour))
    if not alerts:
        return
    out.line("预警：", style="bold")
    for r in alerts[:show.MAX_ALERTS]:
        reason = show.why(r)
        out.styled(("  ", None), (f"●{r.colour.value}", show.COLOUR_STYLE[r.colour]),
                   (f" {r.task.no}. {show.short(r.task.text, 30)} {r.status.value}"
                    + (f"（{reason}）" if reason else ""), None))
    rest = alerts[show.MAX_ALERTS:]
    if rest:
        counts = "、".join(f"{c.value} {n}" for c in order
                          if (n := sum(r.colour is c for r in rest)))
        out.line(f"  另有 {len(rest)} 项（{counts}），见汇总表“任务汇总”")


# ---------------------------------------------------------------- memo


@app.command(cls=ChineseCommand)
def memo(
    period: OptionalPeriod = None,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """按历史库中已汇总的结果重新生成领导简报和催报通知（不重新读取填报表）。

    修改 templates/ 中的模板后用它重新出稿。

    Example: gkreport memo --period 2025-06
    """
    chosen = parse_period(period) if period else None
    with _guard(debug):
        from gkreport.workspace import run_memo

        result = run_memo(_paths(workspace), _period_or_latest(workspace, chosen))
    printer = show.Printer(quiet)
    for path in result.written:
        printer.line(f"已写入：{path}")


# ---------------------------------------------------------------- review


@app.command(cls=ChineseCommand)
def review(
    year: Annotated[str | None, typer.Option(
        "--year", metavar="YYYY", help="计划年度（默认：最近一个已汇总期次的年度）")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="YYYY-MM", help="起始期次（默认：该年 1 月）")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="YYYY-MM", help="截止期次（默认：该年 12 月）")] = None,
    half: Annotated[str | None, typer.Option(
        "--half", metavar="1|2", help="上半年（1）或下半年（2），代替 --from/--to")] = None,
    quarter: Annotated[str | None, typer.Option(
        "--quarter", metavar="1-4", help="第几季度（1–4），代替 --from/--to")] = None,
    as_json: AsJson = False,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """总结一年、半年或一个季度：按历史库中各期的汇总结果，生成年度汇总表（含单位考核排名）和年度总结。

    不重新读取填报表和计划文件。写入 output/review/时段/（全年为 2025，其他时段如 2025-01_2025-06）。该时段没有已汇总的期次时退出码为 1。

    Example: gkreport review --year 2025 --from 2025-01 --to 2025-06
    """
    chosen, make = _review_span(year, start, end, half, quarter)  # bad ones: exit 2
    with _guard(debug):
        from gkreport.workspace import review_year, run_review

        paths = _paths(workspace)
        result = run_review(paths, chosen or make(review_year(paths)))
    if as_json:
        typer.echo(json.dumps(result.review.to_json(), ensure_ascii=False, indent=2))
    else:
        show.print_review(result, show.Printer(quiet))


def _review_span(year: str | None, start: str | None, end: str | None, half: str | None,
                 quarter: str | None) -> tuple[Any, Callable[[int], Any]]:
    """The span the options ask for (None when its year must come from the history), and
    how to make it from a year. Every bad option is a usage error here, before any work."""
    from gkreport.review import Span

    if (half or quarter) and (start or end):
        raise typer.BadParameter("--half、--quarter 不能与 --from、--to 同时使用",
                                 param_hint="--half" if half else "--quarter")
    if half and quarter:
        raise typer.BadParameter("--half 与 --quarter 只能用一个", param_hint="--quarter")
    first = parse_period(start, "--from") if start else None
    last = parse_period(end, "--to") if end else None
    if half:
        n = parse_choice(half, "--half", range(1, 3), "应为 1（上半年）或 2（下半年）")

        def make(y: int) -> Any:
            return Span.half(y, n)
    elif quarter:
        q = parse_choice(quarter, "--quarter", range(1, 5), "应为 1、2、3 或 4")

        def make(y: int) -> Any:
            return Span.quarter(y, q)
    else:
        def make(y: int) -> Any:
            return Span.of(y, first, last)
    chosen = parse_year(year) if year else (first or last).year if (first or last) else None
    if chosen is None:
        return None, make
    try:
        return make(chosen), make
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from/--to") from None


@app.command(cls=ChineseCommand)
def demo(
    period: PeriodOpt,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子结果相同）")] = 2025,
    force: Annotated[bool, typer.Option(
        "--force", help="input/期次/ 中已有文件时仍然生成（会覆盖同名文件）")] = False,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """生成演示数据：为本期生成填报表，并像各单位那样填写（含几处典型错误）后放入 input/期次/。

    Example: gkreport demo --period 2025-06
    """
    p = parse_period(period)
    with _guard(debug), show.progress("生成填报表", quiet) as bar:
        from gkreport.workspace import run_demo

        result = run_demo(_paths(workspace), p, seed=seed, force=force, progress=bar)
    show.Printer(quiet).line(f"已生成演示填报表：{result.written} 份 → {result.input_dir}")


def _version(value: bool) -> None:
    if value:
        from gkreport import __version__

        typer.echo(f"gkreport {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="显示版本号", callback=_version,
                                          is_eager=True)] = False,
) -> None:
    """政务公开工作要点月度推进情况：生成填报表、校验回收表、汇总并生成简报。"""
