"""Chinese help and usage messages, through Click's own extension points.

Click words its help in English (Usage, Options, [required], "Show this message and exit.")
and its usage errors too. The office reads Chinese everywhere else, so the commands are
built from these classes (Typer's `cls=`): a Context whose formatter writes Chinese
headings, a help option worded in Chinese. Usage errors are reworded where they are
printed (`usage_message`). Nothing of Typer or Click is patched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
import typer.core

# Whichever Click Typer uses (its vendored copy since 0.20, Click itself before), by way of
# its own classes.
_Context: Any = typer.core.TyperCommand.context_class
_Formatter: Any = _Context.formatter_class
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__
                                   if c.__name__ == "UsageError")

HELP_OPTION_HELP = "显示本帮助并退出"
_HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数"}
_USAGE_ARGS = (("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."))
_EXTRAS = ((re.compile(r"\[required\]"), "[必填]"),
           (re.compile(r"\[default: ([^\]]*)\]"), r"[默认：\1]"))


class ChineseFormatter(_Formatter):  # type: ignore[misc]
    """Click's help formatter with Chinese headings, usage prefix and option extras."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in _USAGE_ARGS:
            args = args.replace(english, chinese)
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_HEADINGS.get(name, name)):
            yield

    def write_dl(self, rows: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        def chinese(text: str) -> str:
            for pattern, words in _EXTRAS:
                text = pattern.sub(words, text)
            return text

        super().write_dl([(term, chinese(text)) for term, text in rows], *args, **kwargs)


class ChineseContext(_Context):  # type: ignore[misc]
    formatter_class = ChineseFormatter


def _chinese_help_option(option: Any) -> Any:
    if option is not None:
        option.help = HELP_OPTION_HELP
    return option


class ChineseCommand(typer.core.TyperCommand):
    """A command whose help is Chinese."""

    context_class = ChineseContext

    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help_option(super().get_help_option(ctx))


class ChineseGroup(typer.core.TyperGroup):
    """A command group whose help is Chinese."""

    context_class = ChineseContext

    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help_option(super().get_help_option(ctx))


# Click's own usage messages, in the words users read everywhere else.
_USAGE_WORDS = (
    (r"^Missing option '([^']+)'.*", r"缺少选项 \1"),
    (r"^No such option: (\S+).*", r"没有选项 \1"),
    (r"^No such command '([^']+)'.*", r"没有命令 \1"),
    (r"^Missing argument '([^']+)'.*", r"缺少参数 \1"),
    (r"^Got unexpected extra arguments? \((.*)\)", r"多余的参数：\1"),
    (r"^Invalid value for '?([^':]+)'?(?: / '[^']+')?: ", r"选项 \1 的值无效："),
    (r"^Invalid value: ", "取值无效："),
    (r"^Option '([^']+)' requires an argument.*", r"选项 \1 需要一个值"),
    (r"(?i)(?:directory|dir) '(.*)' is a file\.", r"“\1”是文件，应为文件夹"),
    (r"(?i)file '(.*)' is a directory\.", r"“\1”是文件夹，应为文件"),
    (r"(?i)(?:file|path|directory|dir) '(.*)' does not exist\.", r"“\1”不存在"),
)


def usage_message(exc: Exception) -> str:
    """A Click usage error in Chinese, with where to read the usage."""
    message = exc.format_message()  # type: ignore[attr-defined]
    for pattern, words in _USAGE_WORDS:
        message = re.sub(pattern, words, message)
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx else "gkreport"
    return f"[用法错误] {message}\n运行 {command} -h 查看用法。"
