"""Small text helpers: East-Asian width, clean cell text, safe file names."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

_WS = re.compile(r"[\s\u3000\u00a0]+")


# The wide characters of ordinary Chinese text (CJK ideographs, CJK punctuation, full-width
# forms), removed in one C-level pass; anything else non-ASCII is looked up one by one.
_COMMON_WIDE = re.compile("[\u3000-\u303e\u4e00-\u9fff\uff01-\uff60\uffe0-\uffe6]+")


# Curly quotes, dashes, ellipsis, middle dot: common in Chinese text, one column each.
_COMMON_NARROW = re.compile("[\u00b7\u2010-\u2027]+")


class _Widths(dict[str, int]):
    def __missing__(self, char: str) -> int:
        width = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        self[char] = width
        return width


_WIDTHS = _Widths()


def display_width(text: str) -> int:
    """Columns a string takes on screen or in Excel: wide/full-width characters count 2."""
    if text.isascii():
        return len(text)
    rest = _COMMON_WIDE.sub("", text)
    wide = len(text) - len(rest)
    if not rest.isascii():
        narrow = _COMMON_NARROW.sub("", rest)
        if not narrow.isascii():
            return 2 * wide + len(rest) - len(narrow) + sum(map(_WIDTHS.__getitem__, narrow))
    return 2 * wide + len(rest)


def column_width(values: list[str], *, minimum: int = 6, maximum: int = 60) -> float:
    """An Excel column width that fits the widest line of the given texts."""
    widest = max((display_width(line) for v in values for line in str(v).splitlines()), default=0)
    return float(min(max(widest + 2, minimum), maximum))


def clean(value: object) -> str:
    """Cell value to trimmed text with runs of whitespace (incl. full-width) folded to one space."""
    if value is None or value == "":  # most cells of a form: answered quickly
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _WS.sub(" ", str(value)).strip()


def squash(value: object) -> str:
    """Text with all whitespace removed, for comparing names and headers."""
    if value is None or value == "":
        return ""
    return _WS.sub("", str(value))


def nfkc(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms (８０％ -> 80%)."""
    return unicodedata.normalize("NFKC", text)


# Traditional Chinese folded to simplified, for matching only: plans published in
# traditional characters (區財政局, 責任單位, 長期堅持) are matched against simplified header
# names, registry names and deadline words, and keep their text as written. The table
# (gkreport/data/t2s.txt) maps one character to one, so a folded string has the original's
# length and positions found in it slice the original.
@cache
def _table() -> dict[int, int]:
    text = (resources.files("gkreport") / "data" / "t2s.txt").read_text(encoding="utf-8")
    table: dict[int, int] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        for k in range(0, len(line) - 1, 2):
            table[ord(line[k])] = ord(line[k + 1])
    return table


def fold(text: str) -> str:
    """The text with traditional characters replaced by simplified ones (same length).

    >>> fold("區財政局 長期堅持")
    '区财政局 长期坚持'
    """
    return text.translate(_table()) if not text.isascii() else text


def unit_key(name: object) -> str:
    """A unit name as compared: no whitespace, NFKC, simplified, parentheses full-width."""
    return fold(squash(nfkc(clean(name)))).replace("(", "（").replace(")", "）")


# Characters Windows refuses in file names, plus control characters.
_BAD_FILE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, *, fallback: str = "未命名") -> str:
    """A file-name-safe version of a unit name: no separators, no '..', nothing Windows refuses."""
    text = _BAD_FILE_CHARS.sub("_", name).strip().strip(".").strip()
    text = text.replace("..", "_")
    if not text or text.upper().split(".")[0] in _RESERVED:
        text = f"{fallback}_{text}" if text else fallback
    return text[:100]


# 序号 as people write it: 4, 4., 4、, (4), （4）, 【4】, 第4项, ４ (NFKC makes it 4).
_NO_TEXT = re.compile(r"第?[(\[【〔]?(\d{1,4})(?:\.0+)?[)\]】〕]?[项条号]?[.、,，)]?")


def parse_no(value: object) -> int | None:
    """A task's 序号 in a cell, however it was typed (the plan's table and the units'
    forms read it alike), else None.

    >>> parse_no("（４）"), parse_no("第4项"), parse_no(4.0), parse_no("4.5")
    (4, 4, 4, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else None
    m = _NO_TEXT.fullmatch(squash(nfkc(clean(value))))
    return int(m.group(1)) if m else None
