"""The consolidate stage (pure): plan + returns + history -> Report, and its key figures."""

from __future__ import annotations

from typing import Any

from .model import REPORTABLE, Report, Status


def summarise(report: Report) -> dict[str, Any]:
    """The key figures (summary.json): the single source of every figure shown anywhere."""
    by_status = {s.value: sum(t.status is s for t in report.tasks) for s in REPORTABLE}
    by_category: dict[str, dict[str, int]] = {}
    for cat in report.plan.categories:
        rows = [t for t in report.tasks if t.task.category == cat]
        by_category[cat] = {"total": len(rows),
                            **{s.value: sum(t.status is s for t in rows) for s in REPORTABLE},
                            "逾期": sum(t.overdue for t in rows)}
    missing = [u.unit.name for u in report.units if u.state == "未报送"]
    needs_fix = [u.unit.name for u in report.units if u.state == "需修改"]
    return {
        "period": str(report.period),
        "plan": {"year": report.plan.year, "title": report.plan.title,
                 "fingerprint": report.plan.fingerprint},
        "tasks": {"total": len(report.tasks), **by_status,
                  "逾期": sum(t.overdue for t in report.tasks),
                  "by_category": by_category},
        "units": {"expected": len(report.units),
                  "submitted": sum(u.state != "未报送" for u in report.units),
                  "missing": missing, "needs_fix": needs_fix},
        "files": {"found": report.files.found, "read": report.files.read,
                  "refused": report.files.refused, "skipped": report.files.skipped},
        "rows": {"read": report.rows.read, "merged": report.rows.merged,
                 "rejected": report.rows.rejected},
        "problems": {"错误": sum(p.is_error for p in report.problems),
                     "警告": sum(not p.is_error for p in report.problems)},
        "previous_period": report.previous_period,
    }


__all__ = ["summarise", "Status"]
