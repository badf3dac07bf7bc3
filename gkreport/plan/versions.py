"""Two versions of a plan compared (`gkreport plan diff`): tasks added, removed, changed, units
renamed. A task is the same task while its text is unchanged (Task.key); a task whose text
changed under the same number is reported as changed (field 文本), not as removed + added."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gkreport.core.model import Period, Plan, Task

# Field names in the JSON (stable) and in Chinese for the terminal.
FIELDS = {"text": "任务内容", "units": "责任单位", "deadline": "时间节点", "category": "一级指标",
          "no": "序号"}


@dataclass(frozen=True, slots=True)
class PlanDiff:
    old: Plan
    new: Plan
    since: Period | None  # the period the old version was consolidated with
    added: tuple[Task, ...]  # in the new plan only
    removed: tuple[Task, ...]  # in the old plan only
    changed: tuple[tuple[Task, Task, tuple[str, ...]], ...]  # (old, new, fields)
    renamed: tuple[tuple[str, str], ...]  # (old name, new name): the old kept as 别名

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.old.fingerprint, "to": self.new.fingerprint,
                "since": str(self.since) if self.since else None,
                "added": [t.no for t in self.added], "removed": [t.no for t in self.removed],
                "changed": [{"no": new.no, "fields": list(fields)}
                            for _old, new, fields in self.changed],
                "renamed": [{"from": a, "to": b} for a, b in self.renamed]}


    def units_change(self, old: Task, new: Task) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(units added to the task, units taken off it), a renamed unit being the same one
        (a task whose only change of units is a rename has neither)."""
        before = {self.new.unit_named(u) or u for u in old.expected_units}
        return (tuple(u for u in new.expected_units if u not in before),
                tuple(u for u in old.expected_units
                      if (self.new.unit_named(u) or u) not in new.expected_units))


def _fields(old: Task, new: Task) -> tuple[str, ...]:
    out = []
    if old.text != new.text:
        out.append("text")
    if old.expected_units != new.expected_units or old.units_text != new.units_text:
        out.append("units")
    if old.deadline != new.deadline:
        out.append("deadline")
    if old.category != new.category:
        out.append("category")
    if old.no != new.no:
        out.append("no")
    return tuple(out)


def diff_plans(old: Plan, new: Plan, *, since: Period | None = None) -> PlanDiff:
    """What changed from `old` to `new`."""
    old_keys = {t.key: t for t in old.tasks}
    new_keys = {t.key: t for t in new.tasks}
    changed = [(old_keys[k], t, f) for k, t in new_keys.items()
               if k in old_keys and (f := _fields(old_keys[k], t))]
    gone = [t for k, t in old_keys.items() if k not in new_keys]
    came = [t for k, t in new_keys.items() if k not in old_keys]
    # Same number, new text: the task was reworded.
    by_no = {t.no: t for t in came}
    for t in list(gone):
        if t.no in by_no:
            changed.append((t, by_no[t.no], _fields(t, by_no[t.no])))
            came.remove(by_no.pop(t.no))
            gone.remove(t)
    current = {u.name for u in new.units}
    renamed = tuple((u.name, new.unit_named(u.name)) for u in old.units
                    if u.name not in current and new.unit_named(u.name))
    return PlanDiff(old, new, since, tuple(came), tuple(gone),
                    tuple(sorted(changed, key=lambda c: c[1].no)), renamed)
