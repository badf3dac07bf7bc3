"""Small text helpers: East-Asian width, clean cell text, safe file names."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"[\s\u3000\u00a0]+")


def display_width(text: str) -> int:
    """Columns a string takes on screen or in Excel: wide/full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_width(values: list[str], *, minimum: int = 6, maximum: int = 60) -> float:
    """An Excel column width that fits the widest line of the given texts."""
    widest = max((display_width(line) for v in values for line in str(v).splitlines()), default=0)
    return float(min(max(widest + 2, minimum), maximum))


def clean(value: object) -> str:
    """Cell value to trimmed text with runs of whitespace (incl. full-width) folded to one space."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _WS.sub(" ", str(value)).strip()


def squash(value: object) -> str:
    """Text with all whitespace removed, for comparing names and headers."""
    return _WS.sub("", "" if value is None else str(value))


def nfkc(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms (８０％ -> 80%)."""
    return unicodedata.normalize("NFKC", text)


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
