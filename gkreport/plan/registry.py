"""The 单位名录 a plan import writes: the workspace's, the bundled one, or one built from the plan.

An office whose units are not in the bundled registry would see every unit unknown at its
first import. `--new-registry` (and, on a first import, any plan naming a unit the bundled
registry does not know) builds 单位名录 from the units the plan names: a unit some registry
already knows keeps its entry there (category, aliases, contact); a new one gets a category
guessed from its name and the 备注 "新增，请核对". Collective terms the plan uses that the
registry lacks (各科室, 各乡镇街道, 各相关单位, 县政府各部门 …) are added with a rule read
from their wording (_TERMS); a name starting with 各 is never taken for a unit.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from gkreport.core.model import Collective, Unit, UnitKind
from gkreport.core.problems import Problem, problem
from gkreport.core.text import fold
from gkreport.plan.book import Registry, default_registry, read_registry
from gkreport.plan.rules import RawTask, build_collectives, resolve_phrase, unit_key
from gkreport.plan.unitphrases import bracket_parts, parse_units

NEW_NOTE = "新增，请核对"
_TOWN = re.compile(r"(街道|镇|乡)(办事处|人民政府|政府)?$")
_SECTION = re.compile(r"(科|室|所|处|股|村|居|居委会|社区|居民区)$")
# 区政府办公室, 县司法局所属…: a name led by its level is a government department.
_LEVEL = re.compile(r"^(区|县|市|旗|州|盟)")
_KIND_ORDER = {UnitKind.DEPARTMENT: 0, UnitKind.STREET_TOWN: 1, UnitKind.OTHER: 2}
# Collective terms by their wording, first match wins: (pattern on the folded name, rule).
_TERMS = (
    (re.compile(r"^各?(有关|相关)|^各(有关|相关)"), "开放"),
    (re.compile(r"^各.*(村|社区|居委会?|村居|村（居）|村（社区）)$"), "开放"),
    (re.compile(r"^各.*(科室|处室|股室|站所)$"), "类别=其他"),
    (re.compile(r"^各.*(街镇|乡镇|街道|镇|乡|镇街)(（街道）|（镇）)?$"), "类别=街镇"),
    (re.compile(r"^各.*(部门|委办局)$|^.+各部门$"), "类别=区政府部门"),
    (re.compile(r"^各"), "开放"),
)


def guess_kind(name: str) -> UnitKind:
    """街道/镇/乡 -> 街镇; 科/室/所 (and 处, 股, 村, 居委会, 社区) -> 其他, unless the name
    starts with its level (区政府办公室); else 区政府部门."""
    key = unit_key(name)
    if _TOWN.search(key):
        return UnitKind.STREET_TOWN
    if _SECTION.search(key) and not _LEVEL.match(key):
        return UnitKind.OTHER
    return UnitKind.DEPARTMENT


def term_rule(name: str) -> str | None:
    """The 成员规则 a collective term's wording implies (各科室 -> 类别=其他), or None."""
    key = unit_key(name)
    return next((rule for rx, rule in _TERMS if rx.search(key)), None)


def _named(raw: tuple[RawTask, ...]) -> list[str]:
    """Every name the plan's unit cells give, in order, once."""
    return list(dict.fromkeys(e.name for t in raw for e in parse_units(t.units_text).entries))


def with_terms(rows: tuple[tuple[str, str], ...], raw: tuple[RawTask, ...],
               ) -> tuple[tuple[str, str], ...]:
    """The registry's collective terms plus the known ones the plan uses and it lacks."""
    have = {unit_key(n) for n, _ in rows}
    added: list[tuple[str, str]] = []
    for name in _named(raw):
        rule = term_rule(name) if unit_key(name) not in have else None
        if rule is not None:
            have.add(unit_key(name))
            added.append((name, rule))
    return rows + tuple(added)


def _knows_all(raw: tuple[RawTask, ...], registry: Registry) -> bool:
    collectives, _ = build_collectives(list(registry.collectives), registry.units)
    return all(not resolve_phrase(t.units_text, registry.units, collectives).unknown
               for t in raw)


class _Builder:
    """Collects the units a plan names, in order, with what a known registry says of them."""

    def __init__(self, knowledge: Registry, keep_notes: bool) -> None:
        self.lookup: dict[str, Unit] = {}
        for u in knowledge.units:
            for n in (*u.aliases, u.name):
                self.lookup[unit_key(n)] = u
        self.old_notes = dict(knowledge.notes) if keep_notes else {}
        self.keep = keep_notes
        self.units: dict[str, Unit] = {}
        self.notes: dict[str, str] = {}

    def known(self, name: str) -> Unit | None:
        return self.lookup.get(unit_key(name))

    def add(self, unit: Unit, new: bool) -> None:
        had = self.units.get(unit.name)
        if had is not None:  # 办公室, then 办公室（宣传科）: one unit, the second name kept
            aliases = tuple(dict.fromkeys(had.aliases + unit.aliases))
            self.units[unit.name] = Unit(had.name, had.kind, aliases, had.contact, had.phone)
        else:
            self.units[unit.name] = unit
            note = NEW_NOTE if new or not self.keep else self.old_notes.get(unit.name, "")
            if note:
                self.notes[unit.name] = note


def registry_from_plan(raw: tuple[RawTask, ...], knowledge: Registry, *, keep_notes: bool,
                       file: str = "") -> tuple[Registry, Problem]:
    """单位名录 built from the units the plan names, and the one summary line saying so.

    "A（B）" is one unit A with the second name B, unless B is named on its own elsewhere
    in the plan (then both are units) or a registry knows them.
    """
    terms = {unit_key(n) for n, _ in knowledge.collectives}
    names = [n for n in _named(raw) if unit_key(n) not in terms]
    plain = {unit_key(n) for n in names if bracket_parts(n) is None}
    b = _Builder(knowledge, keep_notes)
    for name in names:
        parts = bracket_parts(name)
        if b.known(name) is not None or parts is None:
            found = b.known(name)
            b.add(found or Unit(name, guess_kind(name)), new=found is None)
            continue
        first, second = parts
        if unit_key(first) in terms:
            continue  # 各街镇（园区）: a collective with a note
        known = [u for u in (b.known(first), b.known(second)) if u is not None]
        for u in known:
            b.add(u, new=False)
        if not known:
            aliases = () if unit_key(second) in plain else (second,)
            b.add(Unit(first, guess_kind(first), aliases), new=True)
    units = tuple(sorted(b.units.values(), key=lambda u: _KIND_ORDER[u.kind]))
    kinds = Counter(u.kind for u in units)
    summary = problem("plan-new-registry", file=file, count=len(units),
                      kinds="、".join(f"{k.value} {kinds[k]}" for k in _KIND_ORDER if kinds[k]),
                      new=sum(n == NEW_NOTE for n in b.notes.values()))
    return Registry(units, knowledge.collectives, tuple(b.notes.items())), summary


def choose_registry(raw: tuple[RawTask, ...], *, path: Path | None, new: bool | None,
                    file: str = "") -> tuple[Registry, list[Problem]]:
    """The registry an import writes, with the problems of reading it.

    `path`: the workspace's plan workbook (else the bundled registry). `new`: True builds
    单位名录 from the plan; None builds it only when the registry does not know every unit
    the plan names; False keeps the registry as it is.
    """
    problems: list[Problem] = []
    if path is not None:
        base, problems = read_registry(path)
    else:
        units, rows = default_registry()
        base = Registry(units, tuple(rows))
    base = Registry(base.units, with_terms(base.collectives, raw), base.notes)
    if new is None:
        new = not _knows_all(raw, base)
    if not new:
        return base, problems
    built, summary = registry_from_plan(raw, base, keep_notes=path is not None, file=file)
    return built, [summary, *problems]


def empty_collectives(raw: tuple[RawTask, ...], collectives: tuple[Collective, ...],
                      *, file: str = "") -> list[Problem]:
    """A warning for each collective term the plan uses that expands to no unit."""
    used = {unit_key(n) for n in _named(raw)}
    out = []
    for c in collectives:
        if unit_key(c.name) in used and not c.open and not c.members:
            kind = fold(c.rule).partition("=")[2] or "（见成员规则）"
            out.append(problem("plan-empty-collective", file=file, name=c.name, rule=c.rule,
                               kind=kind))
    return out
