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


def parse_period(value: str) -> Period:
    """--period as a Period; a bad one is a usage error (exit 2)."""
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option as a date; a bad one is a usage error (exit 2)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"日期“{value}”格式不对，应为 YYYY-MM-DD",
                                 param_hint=option) from None
