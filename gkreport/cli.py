"""The command line: a thin layer that resolves the workspace, calls one stage, prints, exits."""

from __future__ import annotations

import gc
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from gkreport.core.model import STATUS_COLOUR, Colour, Period, Status
from gkreport.core.problems import GkreportError, Problem


def _chinese_help(command_class: Any) -> None:
    """Click words its --help option in English; users read Chinese everywhere else."""
    original = command_class.get_help_option

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = "显示本帮助并退出"
        return option

    command_class.get_help_option = get_help_option


# Click's own words in help texts (typer marks them for gettext, which has no Chinese).
_CLICK_WORDS = {"Options": "选项", "Commands": "命令", "Arguments": "参数", "required": "必填",
                "default: {default}": "默认：{default}"}


def _chinese_words(module: Any) -> None:
    """Route a Click/Typer module's gettext lookups through _CLICK_WORDS."""
    english = getattr(module, "_", None)
    if callable(english):
        module._ = lambda text: _CLICK_WORDS.get(text, english(text))


def _chinese_headings(context_class: Any) -> None:
    """Click's help headings (Usage, Options, Commands) and usage words in Chinese."""
    formatter_class = context_class.formatter_class
    words = (("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."))

    class ChineseHelpFormatter(formatter_class):  # type: ignore[misc, valid-type]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            for english, chinese in words:
                args = args.replace(english, chinese)
            super().write_usage(prog, args, "用法：" if prefix is None else prefix)

        def write_heading(self, heading: str) -> None:
            self.write(f"{'':>{self.current_indent}}{heading}：\n")

    context_class.formatter_class = ChineseHelpFormatter


def _click(name: str) -> Any:
    """A Click module: recent Typer releases vendor their own copy of Click; older ones
    use Click itself."""
    for package in ("typer._click", "click"):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ImportError:
            continue
    raise ImportError(name)


_chinese_help(_click("core").Command)
_chinese_headings(_click("core").Context)
_chinese_words(importlib.import_module("typer.core"))  # where Typer formats the help
_chinese_words(_click("core"))  # where Click itself does (older Typer releases)

app = typer.Typer(
    name="gkreport",
    help="政务公开工作要点月度推进情况：生成填报表、校验回收表、汇总并生成简报。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
plan_app = typer.Typer(help="查看或导入任务分解表（计划）。", no_args_is_help=True,
                       rich_markup_mode=None)
app.add_typer(plan_app, name="plan")


def _parse_period(value: str | None) -> Period | None:
    if value is None:
        return None
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


# Shared options, declared once (frictionless console/common.py).
Workspace = Annotated[Path, typer.Option("--workspace", "-w", help="工作目录（默认：当前目录）",
                                         file_okay=False, show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条")]
Debug = Annotated[bool, typer.Option("--debug", help="出错时显示详细的程序调用栈（排查问题用）")]
PeriodOpt = Annotated[str, typer.Option("--period", "-p", metavar="YYYY-MM",
                                         help="期次，格式 YYYY-MM，例如 2025-06")]
OptionalPeriod = Annotated[str | None, typer.Option(
    "--period", "-p", metavar="YYYY-MM", help="期次，格式 YYYY-MM（默认：input/ 下最新的期次文件夹）")]

# The terminal's names for the warning colours; which status carries which colour is the
# model's one table (STATUS_COLOUR), shared with the workbook and the memo.
COLOUR_STYLE = {Colour.RED: "bold red", Colour.YELLOW: "yellow", Colour.BLUE: "blue",
                Colour.GREEN: "green", Colour.NONE: "default"}
MISSING_STYLE = "dim"  # 未报送 is grey, as in the workbook: red means 逾期


def _status_style(status: str) -> str:
    return COLOUR_STYLE[STATUS_COLOUR.get(status, Colour.NONE)]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    # Wide enough for Chinese tables when not on a terminal (CI logs, CliRunner).
    return Console(stderr=stderr, highlight=False, soft_wrap=True,
                   width=None if sys.stdout.isatty() else 140)


def _fail(problems: tuple[Problem, ...] | list[Problem]) -> NoReturn:
    err = _console(stderr=True)
    for p in problems:
        err.print(p.line(), markup=False, style="red" if p.is_error else "yellow")
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
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence for users
        if debug:
            raise
        _console(stderr=True).print(
            f"[错误] 程序内部错误：{exc.__class__.__name__}: {exc}。"
            "请加 --debug 重新运行，并把输出发给维护人员。", markup=False, style="red")
        raise typer.Exit(1) from None


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, or nothing when --quiet."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = _console(stderr=True)
    if not console.is_terminal:  # a log file gets no bar, not even a stray blank line
        yield None
        return
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _paths(workspace: Path) -> Any:
    from gkreport.workspace import Paths

    return Paths(workspace.resolve())


def _period_or_latest(workspace: Path, period: Period | None) -> Period:
    from gkreport.workspace import latest_period

    return period or latest_period(_paths(workspace))


# ---------------------------------------------------------------- plan


@plan_app.command("show")
def plan_show(
    workspace: Workspace = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
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
            _print_plan(plan)
        if plan.has_errors:
            raise typer.Exit(1)


def _print_plan(plan: Any) -> None:
    out = _console()
    out.print(f"{plan.title}（{plan.year}年，共 {len(plan.tasks)} 项任务）", style="bold",
              markup=False)
    for t in plan.tasks:
        out.print(f"\n{t.no}. 【{t.category}】{t.text}", markup=False)
        out.print(f"   牵头单位：{t.lead_unit or '无'}    时间节点：{t.deadline.text} → "
                  f"{t.deadline.label()}", markup=False)
        more = "（另接受各有关单位报送）" if t.open else ""
        out.print(f"   应报单位（{len(t.expected_units)}）：{'、'.join(t.expected_units) or '无'}"
                  f"{more}", markup=False)
    out.print("\n按一级指标：", style="bold")
    for cat in plan.categories:
        out.print(f"  {cat}：{sum(t.category == cat for t in plan.tasks)} 项", markup=False)
    out.print(f"应报单位合计：{len(plan.expected_units)} 个", markup=False)
    if plan.problems:
        out.print(f"\n计划中的问题（{len(plan.problems)}）：", style="bold")
        for p in plan.problems:
            out.print(f"  {p.line()}", markup=False, style="red" if p.is_error else "yellow")
    else:
        out.print("计划无问题。", style="green")


@plan_app.command("import")
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
        o = _console()
        o.print(f"已导入 {len(result.plan.tasks)} 项任务（{result.plan.year}年）→ {result.path}",
                markup=False)
        for p in result.problems:
            o.print(f"  {p.line()}", markup=False, style="red" if p.is_error else "yellow")
        if any(p.is_error for p in result.problems):
            raise typer.Exit(1)


# ---------------------------------------------------------------- forms


@app.command()
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
    p = _parse_period(period)
    assert p is not None
    try:
        due_date = date.fromisoformat(due) if due else None
    except ValueError:
        raise typer.BadParameter(f"截止日期“{due}”格式不对，应为 YYYY-MM-DD",
                                 param_hint="--due") from None
    with _guard(debug), _progress("生成填报表", quiet) as bar:
        from gkreport.workspace import run_forms

        result = run_forms(_paths(workspace), p, units=units, password=password, due=due_date,
                           contact=contact, progress=bar)
    o = _console()
    o.print(f"已生成 {len(result.forms)} 份填报表 → {result.listing.parent}", markup=False)
    o.print(f"分发清单：{result.listing}", markup=False)


# ---------------------------------------------------------------- check


@app.command()
def check(
    period: PeriodOpt,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """校验本期回收的填报表：逐单位列出问题（文件、工作表、单元格），生成校验报告和退回修改件。

    发现错误时退出码为 1。

    Example: gkreport check --period 2025-06
    """
    p = _parse_period(period)
    assert p is not None
    with _guard(debug), _progress("读取填报表", quiet) as bar:
        from gkreport.workspace import run_check

        result = run_check(_paths(workspace), p, progress=bar)
    _print_check(result)
    errors = sum(x.is_error for x in result.returns.problems)
    raise typer.Exit(1 if errors else 0)


def _print_check(result: Any) -> None:
    from rich.table import Table

    from gkreport.render.checkreport import unit_table

    o = _console()
    table = Table(title=f"{result.returns.period} 填报表校验结果", show_lines=False)
    for h in ("单位", "文件", "错误", "警告", "主要问题"):
        table.add_column(h, overflow="fold")
    for row in unit_table(result.returns, result.plan):
        style = "red" if row.errors else ("yellow" if row.warnings else "green")
        table.add_row(row.unit or "（未识别）", row.file, str(row.errors), str(row.warnings),
                      "\n".join(row.first_problems) or "无", style=style)
    reported = {s.unit for s in result.returns.submissions if s.unit}
    for unit in result.plan.expected_units:
        if unit not in reported:
            table.add_row(unit, "（未报送）", "", "", "", style=MISSING_STYLE)
    o.print(table)
    _print_reconciliation(result.returns)
    errors = sum(x.is_error for x in result.returns.problems)
    warnings = len(result.returns.problems) - errors
    o.print(f"合计：错误 {errors} 个，警告 {warnings} 个；需退回修改 {len(result.annotated)} 份。",
            markup=False, style="red" if errors else "green")
    o.print(f"校验报告：{result.check_report}", markup=False)
    if result.annotated:
        o.print(f"退回修改件：{next(iter(result.annotated.values())).parent}", markup=False)


def _print_reconciliation(returns: Any) -> None:
    f, r = returns.files, returns.rows
    _console().print(
        f"文件：发现 {f.found}，读取 {f.read}，拒收 {f.refused}，跳过 {f.skipped}；"
        f"数据行：读取 {r.read} = 采用 {r.merged} + 未采用 {r.rejected}", markup=False)


# ---------------------------------------------------------------- consolidate


@app.command()
def consolidate(
    period: OptionalPeriod = None,
    workspace: Workspace = Path("."),
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """汇总本期：合并各单位填报与计划，生成汇总表、领导简报、催报通知、summary.json，并记入历史库。

    Example: gkreport consolidate --period 2025-06
    """
    chosen = _parse_period(period)  # a bad --period is a usage error (exit 2)
    with _guard(debug):
        p = _period_or_latest(workspace, chosen)
        with _progress(f"汇总 {p}", quiet) as bar:
            from gkreport.workspace import run_consolidate

            result = run_consolidate(_paths(workspace), p, progress=bar)
    _print_summary(result)


MAX_ALERTS = 20  # warning lines printed after a consolidate
MAX_NAMES = 20  # unit names printed per list


def _names(units: list[str]) -> str:
    if len(units) <= MAX_NAMES:
        return "、".join(units)
    return f"{'、'.join(units[:MAX_NAMES])} 等 {len(units)} 家（名单见催报通知）"


def _print_summary(result: Any) -> None:
    from rich.markup import escape

    s = result.summary
    o = _console()
    o.print(f"{result.report.plan.title} · {s['period']} 汇总完成", style="bold", markup=False)
    t = s["tasks"]
    parts = []
    for status in (Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED):
        parts.append(f"[{_status_style(status)}]{status.value} {t[status.value]}[/]")
    o.print(f"任务 {t['total']} 项：" + "，".join(parts) + f"；[bold red]逾期 {t['逾期']}[/]")
    u = s["units"]
    o.print(f"单位：应报 {u['expected']}，已报 {u['submitted']}，未报送 {len(u['missing'])}，"
            f"需修改 {len(u['needs_fix'])}", markup=False)
    if u["missing"]:
        o.print(f"  未报送：{_names(u['missing'])}", markup=False, style=MISSING_STYLE)
    if u["needs_fix"]:
        o.print(f"  需修改：{_names(u['needs_fix'])}", markup=False, style="yellow")
    pr = s["problems"]
    o.print(f"问题：错误 {pr['错误']}，警告 {pr['警告']}", markup=False)
    _print_reconciliation(result.report)
    # Red first; a city's plan can flag a hundred tasks, so the terminal shows the first
    # ones and counts the rest (the workbook's 任务汇总 lists them all).
    order = (Colour.RED, Colour.YELLOW, Colour.BLUE)
    alerts = sorted((r for r in result.report.tasks if r.colour in order),
                    key=lambda r: order.index(r.colour))
    if alerts:
        o.print("预警：", style="bold")
        for r in alerts[:MAX_ALERTS]:
            o.print(f"  [{COLOUR_STYLE[r.colour]}]●{r.colour.value}[/] {r.task.no}. "
                    f"{escape(r.task.text[:30])}… {r.status.value}"
                    f"{'（逾期）' if r.overdue else ''}", highlight=False)
        rest = alerts[MAX_ALERTS:]
        if rest:
            counts = "、".join(f"{c.value} {n}" for c in order
                              if (n := sum(r.colour is c for r in rest)))
            o.print(f"  另有 {len(rest)} 项（{counts}），见汇总表“任务汇总”", markup=False)
    o.print("已写入：", style="bold")
    for path in result.written:
        o.print(f"  {path}", markup=False)


# ---------------------------------------------------------------- memo, demo


@app.command()
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
    chosen = _parse_period(period)  # a bad --period is a usage error (exit 2)
    with _guard(debug):
        from gkreport.workspace import run_memo

        result = run_memo(_paths(workspace), _period_or_latest(workspace, chosen))
    o = _console()
    for path in result.written:
        o.print(f"已写入：{path}", markup=False)


@app.command()
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
    p = _parse_period(period)
    assert p is not None
    with _guard(debug), _progress("生成填报表", quiet) as bar:
        from gkreport.workspace import run_demo

        result = run_demo(_paths(workspace), p, seed=seed, force=force, progress=bar)
    _console().print(f"已生成演示填报表：{result.written} 份 → {result.input_dir}", markup=False)


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


# Click's own usage messages, in the words users read everywhere else.
_USAGE_WORDS = (
    (r"^Missing option '([^']+)'.*", r"缺少选项 \1"),
    (r"^No such option: (\S+).*", r"没有选项 \1"),
    (r"^No such command '([^']+)'.*", r"没有命令 \1"),
    (r"^Missing argument '([^']+)'.*", r"缺少参数 \1"),
    (r"^Got unexpected extra arguments? \((.*)\)", r"多余的参数：\1"),
    (r"^Invalid value for '([^']+)': ", r"选项 \1 的值无效："),
    (r"^Invalid value: ", "取值无效："),
    (r"^Option '([^']+)' requires an argument.*", r"选项 \1 需要一个值"),
)


def main() -> None:
    """Console-script entry point: Click's usage errors become Chinese lines with exit 2."""
    import re

    exceptions = _click("exceptions")
    try:
        code = app(standalone_mode=False, prog_name="gkreport")
    except exceptions.UsageError as exc:
        message = exc.format_message()
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `gkreport`: the help, as Click does
            typer.echo(message, err=True)
            sys.exit(2)
        for pattern, words in _USAGE_WORDS:
            message = re.sub(pattern, words, message)
        command = exc.ctx.command_path if exc.ctx else "gkreport"
        _console(stderr=True).print(f"[用法错误] {message}\n运行 {command} -h 查看用法。",
                                    markup=False, style="red")
        sys.exit(2)
    except exceptions.Abort:
        sys.exit(1)
    # The process ends here: the interpreter's last full collection over a big month's
    # objects (a tenth of a second at 1,000 forms) would only delay the prompt.
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
