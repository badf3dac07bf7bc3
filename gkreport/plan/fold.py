"""Traditional Chinese folded to simplified, for matching only.

Plans published in traditional characters (區財政局, 責任單位, 長期堅持) are matched against
simplified header names, registry names and deadline words; the plan keeps the text as
written. The table (gkreport/data/t2s.txt) maps one character to one character, so a folded
string has the same length as the original and positions found in it slice the original.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


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
