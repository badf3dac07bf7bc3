"""责任单位 cells written as phrases: "X牵头，Y配合", "A、B、C分别牵头落实", "…等相关部门".

A cell is split into unit entries, each as written (role words removed) and marked lead or
partner when the phrase says so. Brackets stay inside their entry: "A（B）" is one entry,
and whether B is a second name of A or a unit of its own is the registry's decision
(rules.resolve_phrase). Matching runs on the text folded to simplified characters; the
names keep the characters as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gkreport.core.text import fold, nfkc


@dataclass(frozen=True, slots=True)
class UnitEntry:
    """One unit (or collective term) named in a 责任单位 cell."""

    name: str
    lead: bool = False
    partner: bool = False


@dataclass(frozen=True, slots=True)
class UnitPhrase:
    """A parsed 责任单位 cell: its entries in the order written, and a cut "等…" tail."""

    entries: tuple[UnitEntry, ...]
    tail: str = ""


_CLAUSE_SEPS = "，,；;"
_LIST_SEPS = "、 \t\r\n\u3000/"  # "/" only between names: "区A/B办" is kept (no space around)
_OPEN, _CLOSE = "（【[", "）】]"
_LABEL = re.compile(r"(牵头单位|牵头部门|牵头科室|牵头处室|责任单位|责任部门|责任科室|责任处室|"
                    r"负责科室|负责部门|主责单位|配合单位|配合部门|配合科室|配合处室|协办单位|"
                    r"参与单位|协同单位)\s*[:：]")
_LEAD_TAIL = re.compile(r"(?:为|作为)?(?:分别|共同)?牵头(?:单位|部门)?(?:负责|组织)?"
                        r"(?:落实|实施|推进|开展|办理)?$")
_PARTNER_TAIL = re.compile(r"(?:分别|共同|积极|协同)?(?:配合|协助|协同|参与|协办)(?:单位|部门)?"
                           r"(?:落实|实施|推进|开展)?$")
_DUTY_TAIL = re.compile(r"(?:按职责分工|按职责|分别|共同|具体)?(?:负责|落实|实施|推进|组织实施|抓好落实|"
                        r"承办)(?:落实|实施|推进)?$")
_ETC_TAIL = re.compile(r"等(?:相关|有关|其他|其它|各)?(?:行业主管|职能|成员|责任|主管)?"
                       r"(?:部门|单位|科室|处室|机构|股室|站所)?$")
_NOTE = re.compile(r"[（(](牵头|牵头单位|配合|配合单位|主责|负责|按职责分工|分别负责|责任单位)[）)]$")


def _normalise(text: str) -> str:
    """NFKC with brackets back to full width, so "A(B)" and "A（B）" are one spelling."""
    return nfkc(text).replace("(", "（").replace(")", "）")


def _spans(folded: str, seps: str, start: int = 0, end: int | None = None,
           ) -> list[tuple[int, int]]:
    """Spans of `folded[start:end]` between separators outside brackets."""
    end = len(folded) if end is None else end
    out: list[tuple[int, int]] = []
    depth = 0
    begin = start
    for i in range(start, end):
        ch = folded[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and ch in seps and not (ch == "/" and _inside_name(folded, i)):
            out.append((begin, i))
            begin = i + 1
    out.append((begin, end))
    return [(a, b) for a, b in out if a < b]


def _inside_name(folded: str, i: int) -> bool:
    """A "/" with text right on both sides is part of a name (区A/B办)."""
    return 0 < i < len(folded) - 1 and not folded[i - 1].isspace() and not folded[i + 1].isspace()


def _role(folded: str) -> tuple[int, str]:
    """Length of the trailing role words of a segment and the role they give."""
    for rx, role in ((_LEAD_TAIL, "lead"), (_PARTNER_TAIL, "partner"), (_DUTY_TAIL, "")):
        m = rx.search(folded)
        if m and m.start() > 0 and m.end() > m.start():
            return m.end() - m.start(), role
    return 0, ""


def _labelled(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, role) parts of a cell split at "牵头单位：" style labels."""
    marks = list(_LABEL.finditer(folded))
    if not marks:
        return [(0, len(folded), "")]
    parts = [(0, marks[0].start(), "")] if marks[0].start() else []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(folded)
        label = m.group(1)
        role = "lead" if label.startswith("牵头") else "partner" if label[:2] in (
            "配合", "协办", "参与", "协同") else ""
        parts.append((m.end(), end, role))
    return parts


def parse_units(text: str) -> UnitPhrase:
    """Split a 责任单位 cell into entries, lead and partner marks, and an "等…" tail.

    >>> [e.name for e in parse_units("区财政局牵头，区民政局、各街镇配合").entries]
    ['区财政局', '区民政局', '各街镇']
    >>> parse_units("区住建委、区交通委等相关部门").tail
    '等相关部门'
    """
    written = _normalise(text)
    folded = fold(written)
    entries: list[UnitEntry] = []
    tails: list[str] = []
    for start, end, label_role in _labelled(folded):
        for c0, c1 in _spans(folded, _CLAUSE_SEPS, start, end):
            clause: list[list[object]] = []  # [name, role, role said by a tail word]
            for s0, s1 in _spans(folded, _LIST_SEPS, c0, c1):
                _add_piece(clause, written, folded, s0, s1, label_role, tails)
            _spread_role(clause)
            entries += [UnitEntry(str(n), lead=r == "lead", partner=r == "partner")
                        for n, r, _ in clause]
    return UnitPhrase(tuple(entries), tails[0] if tails else "")


def _add_piece(clause: list[list[object]], written: str, folded: str, s0: int, s1: int,
               label_role: str, tails: list[str]) -> None:
    """One list item of a clause: a bracket note for the item before, or a unit entry."""
    piece = folded[s0:s1]
    s0 += len(piece) - len(piece.lstrip("。.：: "))
    piece = piece.strip("。.：: ")
    note = _NOTE.search(piece)
    if note and note.start() == 0:
        if clause:  # "区财政局 （牵头）": a note written apart from its name
            clause[-1][1:] = [_note_role(note.group(1)), False]
        return
    if note:
        piece = piece[:note.start()]
    cut, role = _role(piece)
    etc = _ETC_TAIL.search(piece[:len(piece) - cut])
    if etc:
        tails.append(piece[etc.start():len(piece) - cut])
        cut = len(piece) - etc.start()
    name = written[s0:s0 + len(piece) - cut].strip()
    said = bool(role)
    if note:
        role, said = _note_role(note.group(1)), False
    if name:
        clause.append([name, role or label_role, said])


def _note_role(note: str) -> str:
    return "lead" if note.startswith(("牵头", "主责")) else "partner" if note.startswith(
        "配合") else ""


def _spread_role(clause: list[list[object]]) -> None:
    """"A、B、C分别牵头落实": a role said once at the end of a clause applies to all of it."""
    said = [item for item in clause if item[2]]
    if len(said) == 1 and said[0] is clause[-1]:
        for item in clause:
            item[1] = item[1] or clause[-1][1]


def split_units(text: str) -> list[str]:
    """The unit names of a 责任单位 cell, in the order written (role words removed)."""
    return [e.name for e in parse_units(text).entries]


def bracket_parts(name: str) -> tuple[str, str] | None:
    """"A（B）" -> ("A", "B"); None when the name does not end in a bracketed second name."""
    m = re.fullmatch(r"(.+?)（([^（）]+)）", _normalise(name))
    return (m.group(1), m.group(2)) if m else None
