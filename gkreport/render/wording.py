"""Wording shared by the memo and the notice: numbers, dates, quotes of unit text, and the
escaping that keeps unit text from being read as Markdown or HTML."""

from __future__ import annotations

import re
from datetime import date

from gkreport.core.report import TaskResult
from gkreport.core.text import clean

MAX_UNITS_LISTED = 8
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # invalid in XML, so python-docx refuses them
_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 21 -> 二十一 (section numbers up to 99)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return _CN_DIGITS[n]
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def pct(part: int, whole: int) -> str:
    """A share as the memo prints it: one decimal and a percent sign."""
    return f"{part * 100 / whole:.1f}%" if whole else "0.0%"


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def plain_text(value: object, limit: int | None = None) -> str:
    """Unit text for display: one line, no control characters, capped with an ellipsis."""
    text = clean(_CONTROL.sub("", str(value or "")))
    if limit and len(text) > limit:
        text = text[:limit].rstrip("，,；;、 ") + "……"
    return text


def excerpt(value: object, limit: int) -> str:
    """Unit text capped at `limit`, cut after a clause (not inside a “quote”) where one is near."""
    text = plain_text(value)
    if len(text) <= limit:
        return text
    cuts = [i for i, ch in enumerate(text[:limit]) if ch in "，；。,;"
            and text[:i].count("“") == text[:i].count("”")]
    head = text[:cuts[-1]] if cuts and cuts[-1] >= limit // 3 else text[:limit]
    head = head.rstrip("，,；;、。 ") + "……"
    return head + "”" if head.count("“") > head.count("”") else head  # cut inside a quote


def fit(value: object, width: int) -> str:
    """Unit or plan text in `width` characters: whole if it fits, else an excerpt."""
    text = plain_text(value)
    return text if len(text) <= width else excerpt(text, width - 2)


def quoted(text: str) -> str:
    """Text to put inside “”: its own quotes become ‘’, and a sentence inside a sentence
    ends without its full stop (“…滞后”；not “…滞后。”；)."""
    text = text.replace("“", "‘").replace("”", "’")
    return text if text.endswith("……") else text.rstrip("。；;.，,、 ")


def short_task(tr: TaskResult, limit: int = 40) -> str:
    """The task text for a sentence: capped, without its own closing full stop."""
    text = plain_text(tr.task.text.rstrip("。；;，, \n"), limit)
    # Plans exported from Word often carry half-width commas inside Chinese sentences.
    return re.sub(r"(?<=[\u4e00-\u9fff”）]),\s*(?=[\u4e00-\u9fff“（])", "，", text)


def units_text(text: str) -> str:
    """责任单位 as written, without the stray spaces line breaks left around 、."""
    return re.sub(r"\s*、\s*", "、", plain_text(text)).strip("、")


def deadline_words(tr: TaskResult) -> str:
    d = tr.task.deadline
    return f"{d.text}（{cn_date(d.date)}）" if d.date and d.text != cn_date(d.date) else d.text


def units_list(names: list[str] | tuple[str, ...]) -> str:
    names = list(names)
    if len(names) <= MAX_UNITS_LISTED:
        return "、".join(names)
    return "、".join(names[:MAX_UNITS_LISTED]) + f"等{len(names)}家"


def units_short(units: str, limit: int) -> str:
    """The first names of a 责任单位 list that fit in `limit` characters, then 等."""
    names, kept = units.split("、"), []
    for name in names:
        if len("、".join([*kept, name])) > limit:
            break
        kept.append(name)
    if not kept:
        return fit(units, limit)
    return "、".join(kept) + ("等" if len(kept) < len(names) else "")


# Markdown that unit text must not trigger: emphasis, code, links and images, raw HTML,
# tables; and, at the start of a line, headings, quotes and lists.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"(?m)^(\s*)(?:([#+\-])(?=\s)|(\d+)([.)])(?=\s))")


def md_escape(text: str) -> str:
    """Text that reads the same in Markdown as written: its markup characters escaped.

    >>> md_escape("![p](http://x) <b>1</b>")
    '!\\[p\\](http://x) \\<b\\>1\\</b\\>'
    """
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + (
        "\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), text)
