"""A synthetic plan for the benchmark: N units, T tasks, each unit expected on 5–30 tasks.

The tasks are the bundled plan's 27 tasks replicated with variants. Unit lists stay short
and realistic (a lead unit, one or two 片区 collective terms, sometimes 各街镇 / 区政府各部门 /
各有关单位) instead of spelling out hundreds of names in one cell: each unit belongs to one
片区 (a collective with an explicit member list), and each 片区 is named by 5–24 tasks.
Everything is drawn from a seeded `random.Random`, so the same arguments give the same plan.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from pathlib import Path

from gkreport.core.model import Unit, UnitKind
from gkreport.plan.book import plan_path, read_plan, write_plan_workbook
from gkreport.plan.rules import RawTask

MIN_TASKS = 5
MAX_TASKS = 30
KIND_TASKS = 2  # tasks naming 各街镇, and (other) tasks naming 区政府各部门
GROUP_MENTIONS = (MIN_TASKS, MAX_TASKS - KIND_TASKS - 4)  # leaves room for lead mentions
EXTRA_DEADLINES = ("6月底前", "上半年", "第三季度", "7月", "长期坚持", "2025年9月", "年底前")


@dataclass(frozen=True, slots=True)
class PlanStats:
    """What the synthetic plan turned out to be (checked by reading it back)."""

    units: int
    tasks: int
    groups: int
    tasks_per_unit_min: int
    tasks_per_unit_max: int
    tasks_per_unit_mean: float
    rows: int  # task × unit rows the forms will carry


def default_tasks(units: int) -> int:
    """27 bundled tasks × 2–10 variants: hundreds of tasks for a city, fewer for a district."""
    return 27 * min(10, max(2, units // 100))


def unit_name(i: int, n: int) -> str:
    return f"测试单位{i:0{max(4, len(str(n)))}d}"


def _kind(rng: random.Random) -> UnitKind:
    x = rng.random()
    return (UnitKind.STREET_TOWN if x < 0.2 else
            UnitKind.DEPARTMENT if x < 0.65 else UnitKind.OTHER)


def build_plan_workbook(workspace: Path, *, units: int, tasks: int | None = None,
                        seed: int = 7) -> PlanStats:
    """Write workspace/input/任务分解表.xlsx for `units` units and return its statistics."""
    rng = random.Random(seed)
    n_tasks = tasks or default_tasks(units)
    if n_tasks < GROUP_MENTIONS[1]:
        raise SystemExit(f"--tasks must be at least {GROUP_MENTIONS[1]}")
    bundled = read_plan(plan_path(Path(__file__).resolve().parents[1]))

    registry = tuple(
        Unit(unit_name(i, units), _kind(rng), contact=f"联系人{i}", phone=f"0219{i:07d}")
        for i in range(1, units + 1))
    names = [u.name for u in registry]

    # 片区: explicit-list collectives, every unit in exactly one.
    n_groups = max(1, min(40, units // 5))
    order = names[:]
    rng.shuffle(order)
    members: list[list[str]] = [order[g::n_groups] for g in range(n_groups)]
    group_names = [f"第{g + 1:02d}片区" for g in range(n_groups)]
    collectives = [("各街镇", "类别=街镇"), ("区政府各部门", "类别=区政府部门"),
                   ("各有关单位", "开放")]
    collectives += [(g, "、".join(sorted(m))) for g, m in zip(group_names, members, strict=True)]

    parts: list[list[str]] = [[] for _ in range(n_tasks)]
    for g in group_names:
        for t in rng.sample(range(n_tasks), rng.randint(*GROUP_MENTIONS)):
            parts[t].append(g)
    kind_tasks = rng.sample(range(n_tasks), 2 * KIND_TASKS)
    for t in kind_tasks[:KIND_TASKS]:
        parts[t].append("各街镇")
    for t in kind_tasks[KIND_TASKS:]:
        parts[t].append("区政府各部门")

    # Count what each unit already has, then give every task a lead unit from the least
    # loaded units: keeps every unit within 5–30 tasks and every task with somebody expected.
    kind_of = {u.name: u.kind for u in registry}
    group_of = {n: g for g, m in zip(group_names, members, strict=True) for n in m}
    load = dict.fromkeys(names, 0)
    for p in parts:
        for term in p:
            if term == "各街镇":
                for n in names:
                    load[n] += kind_of[n] == UnitKind.STREET_TOWN
            elif term == "区政府各部门":
                for n in names:
                    load[n] += kind_of[n] == UnitKind.DEPARTMENT
    mentions = {g: sum(g in p for p in parts) for g in group_names}
    for n in names:
        load[n] += mentions[group_of[n]]
    heap = [(load[n], rng.random(), n) for n in names]
    heapq.heapify(heap)
    leads_per_task = max(1, round(0.2 * units / n_tasks)) if units > n_tasks else 1
    for t in range(n_tasks):
        leads = []
        for _ in range(leads_per_task):
            count, tie, n = heapq.heappop(heap)
            if group_of[n] in parts[t]:
                count -= 1  # already expected through its 片区: no extra row
            leads.append(n)
            heapq.heappush(heap, (count + 1, tie, n))
        parts[t] = leads + parts[t]
        if rng.random() < 0.4:
            parts[t].append("各有关单位")

    raw: list[RawTask] = []
    for t in range(n_tasks):
        base = bundled.tasks[t % len(bundled.tasks)]
        variant = t // len(bundled.tasks)
        text = base.text if variant == 0 else f"{base.text}（第{variant + 1}批，专项{t + 1}）"
        deadline: object = base.deadline.text
        if variant and rng.random() < 0.5:
            deadline = rng.choice(EXTRA_DEADLINES)
        raw.append(RawTask(no=t + 1, category=base.category, text=text,
                           units_text="、".join(parts[t]), deadline=deadline, row=t + 3))

    path = plan_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_plan_workbook(path, title=f"《{bundled.year}年测试市政务公开工作要点》任务分解表",
                        tasks=raw, units=registry, collectives=collectives)

    plan = read_plan(path)
    if plan.has_errors:
        errors = [p.line() for p in plan.problems if p.is_error]
        raise SystemExit(f"gkreport reads {len(errors)} errors in the synthetic plan "
                         f"({len(plan.units)} of {units} units read back); the first:\n"
                         + "\n".join(e if len(e) < 160 else e[:160] + "…" for e in errors[:5]))
    per_unit = dict.fromkeys(plan.expected_units, 0)
    for task in plan.tasks:
        for n in task.expected_units:
            per_unit[n] += 1
    counts = list(per_unit.values())
    return PlanStats(units=len(counts), tasks=len(plan.tasks), groups=n_groups,
                     tasks_per_unit_min=min(counts), tasks_per_unit_max=max(counts),
                     tasks_per_unit_mean=round(sum(counts) / len(counts), 1),
                     rows=sum(counts))
