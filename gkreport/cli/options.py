"""Options shared by every command, declared once with their Chinese help."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from gkreport.core.model import Period

Workspace = Annotated[Path, typer.Option("--workspace", "-w", help="工作目录（默认：当前目录）",
                                         file_okay=False, show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条和提示信息，只显示问题")]
Debug = Annotated[bool, typer.Option("--debug", help="出错时显示详细的程序调用栈（排查问题用）")]
PeriodOpt = Annotated[str, typer.Option("--period", "-p", metavar="YYYY-MM",
                                         help="期次，格式 YYYY-MM，例如 2025-06")]
OptionalPeriod = Annotated[str | None, typer.Option(
    "--period", "-p", metavar="YYYY-MM", help="期次，格式 YYYY-MM（默认：input/ 下最新的期次文件夹）")]
AsJson = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]


def parse_period(value: str, option: str = "--period") -> Period:
    """--period (or another YYYY-MM option) as a Period; a bad one is a usage error (exit 2)."""
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option as a date; a bad one is a usage error (exit 2)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"日期“{value}”格式不对，应为 YYYY-MM-DD",
                                 param_hint=option) from None


def parse_year(value: str, option: str = "--year") -> int:
    """A YYYY option as a year; a bad one is a usage error (exit 2)."""
    from gkreport.core.model import FIRST_YEAR, LAST_YEAR

    text = value.strip()
    if not (text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR):
        raise typer.BadParameter(f"年度“{value}”应为 {FIRST_YEAR}–{LAST_YEAR} 之间的四位数字，"
                                 "例如 2025", param_hint=option)
    return int(text)


def parse_choice(value: str, option: str, choices: range, words: str) -> int:
    """A small whole number option (--half 1, --quarter 3); a bad one is a usage error."""
    text = value.strip()
    if not (text.isdigit() and int(text) in choices):
        raise typer.BadParameter(f"“{value}”不对，{words}", param_hint=option)
    return int(text)
