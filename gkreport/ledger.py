"""The submission record (README "报送台账与催报"): due dates, the files
of a period as the ledger keeps them, on time or late, return rounds, reminders (督办).

Pure functions: the history stores the ledger, `workspace` reads the folder; here the
rules that turn both into each unit's record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from gkreport.core.model import Period, Returns
from gkreport.core.report import FileRecord, Outcome

DEFAULT_DUE_DAY = 5  # the 5th of the month after the period, unless the office sets another
# 督办 reminders over a plan year (README "催报通知"): 红牌 for a unit late in this many
# periods, 黄牌 for one returned for correction in this many.
RED_CARD_LATE = 3
YELLOW_CARD_RETURNED = 2
RED_CARD, YELLOW_CARD = "红牌", "黄牌"
_FORMS = (Outcome.ACCEPTED, Outcome.SUPERSEDED)


def due_date(period: Period, day: int = DEFAULT_DUE_DAY) -> date:
    """The due date of a period: that day of the next month (its last day if shorter)."""
    nxt = period.next
    return date(nxt.year, nxt.month, min(day, nxt.end.day))


def file_records(returns: Returns, known: Sequence[FileRecord]) -> tuple[FileRecord, ...]:
    """The ledger's view of the files read now: each with what became of it, and the time it
    was received: the office's receipt register (收文登记) when it names the file, else its
    modification time when first seen (`known` keeps the earlier one)."""
    first = {(r.name, r.sha256): r.received for r in known}
    register = {name: datetime.fromisoformat(when) for name, when in returns.register.items()}

    def received(name: str, sha256: str, read_at: str) -> datetime:
        return register.get(name) or first.get((name, sha256)) or _received(read_at)

    by_file = returns.problems_of_file
    out = []
    for s in returns.submissions:
        outcome = (Outcome.SUPERSEDED if s.superseded else
                   Outcome.ACCEPTED if s.accepted else Outcome.REFUSED)
        out.append(FileRecord(
            period=returns.period, name=s.file, sha256=s.sha256, size=s.size,
            received=received(s.file, s.sha256, s.read_at), unit=s.unit,
            errors=s.errors, warnings=s.warnings, outcome=outcome))
    for e in returns.evidence:
        out.append(FileRecord(
            period=returns.period, name=e.file, sha256=e.sha256, size=e.size,
            received=received(e.file, e.sha256, e.read_at), unit=e.unit,
            errors=0, warnings=len(by_file.get(e.file, ())), outcome=Outcome.EVIDENCE))
    return tuple(out)


def _received(read_at: str) -> datetime:
    return datetime.fromisoformat(read_at) if read_at else datetime.min


def merge(known: Sequence[FileRecord], now: Sequence[FileRecord]) -> tuple[FileRecord, ...]:
    """Every file of the period ever seen: the ones read now as they are now, files taken
    away as they were last seen."""
    current = {(r.name, r.sha256) for r in now}
    return (*now, *(r for r in known if (r.name, r.sha256) not in current))


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit's files for a period and what they say of its timeliness."""

    received: datetime | None  # its first usable form
    late_days: int | None  # None: no usable form; 0: on time
    rounds: int  # return rounds
    files: tuple[FileRecord, ...]


def unit_record(files: Sequence[FileRecord], due: date | None) -> UnitRecord:
    """On time when the unit's first usable form was received on or before the due date
    (whole days, local time), else late by N days. A return round is a form with 错误 that
    a different file from the unit came after (the bad one taken away or left beside)."""
    ordered = sorted(files, key=lambda r: (r.received, r.name))
    forms = [r for r in ordered if r.outcome is not Outcome.EVIDENCE]
    usable = [r.received for r in forms if r.outcome in _FORMS]
    received = min(usable) if usable else None
    late = None
    if received is not None:
        late = max(0, (received.date() - due).days) if due else 0
    rounds = sum(1 for i, r in enumerate(forms) if r.errors
                 and any(later.sha256 != r.sha256 for later in forms[i + 1:]))
    return UnitRecord(received, late, rounds, tuple(ordered))


def unit_records(ledger: Iterable[FileRecord], due: date | None) -> dict[str, UnitRecord]:
    """unit -> its record, for every unit some file of the period belongs to."""
    by_unit: dict[str, list[FileRecord]] = {}
    for r in ledger:
        if r.unit:
            by_unit.setdefault(r.unit, []).append(r)
    return {unit: unit_record(files, due) for unit, files in by_unit.items()}


def cards(year: Iterable[tuple[Period, str, int | None, int]]) -> dict[str, tuple[str, str]]:
    """unit -> (红牌 or 黄牌, why) from (period, unit, late days, rounds) over the year:
    红牌 when late in RED_CARD_LATE periods or more, else 黄牌 when returned for correction
    in YELLOW_CARD_RETURNED periods or more."""
    late: dict[str, list[Period]] = {}
    returned: dict[str, list[Period]] = {}
    for period, unit, days, rounds in year:
        if days:
            late.setdefault(unit, []).append(period)
        if rounds:
            returned.setdefault(unit, []).append(period)
    out: dict[str, tuple[str, str]] = {}
    for unit in sorted({*late, *returned}):
        if len(late.get(unit, ())) >= RED_CARD_LATE:
            out[unit] = (RED_CARD, f"本年度已有{len(late[unit])}期逾期报送（{_months(late[unit])}）")
        elif len(returned.get(unit, ())) >= YELLOW_CARD_RETURNED:
            n = len(returned[unit])
            out[unit] = (YELLOW_CARD, f"本年度已有{n}期填报表被退回修改（{_months(returned[unit])}）")
    return out


def _months(periods: Sequence[Period]) -> str:
    return "、".join(f"{p.month}月" for p in sorted(set(periods)))


def year_from_results(rows: Iterable[tuple[Period, str, str, int | None, int]],
                      unit_names: Mapping[str, str] | None = None,
                      ) -> list[tuple[Period, str, int | None, int]]:
    """(period, unit, late days, rounds) from the history's unit results, units renamed."""
    names = unit_names or {}
    return [(p, names.get(u, u), late, rounds) for p, u, _state, late, rounds in rows]
