"""gkreport: monthly progress reporting for a district government's yearly work plan.

The public Python API (README "Python 接口"), imported on first use so that `gkreport --help`
stays fast: each command's pipeline (`run_*`), the stages they are made of, the history and
the domain types. `gkreport.frames` loads the history as pandas DataFrames.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    # each command's pipeline over a workspace
    "Paths": "gkreport.paths", "run_forms": "gkreport.workspace", "run_check": "gkreport.workspace",
    "run_consolidate": "gkreport.workspace", "run_memo": "gkreport.workspace",
    "run_plan_diff": "gkreport.workspace", "run_review": "gkreport.workspace",
    # the stages
    "read_plan": "gkreport.plan.book", "load_plan": "gkreport.plan.book",
    "import_plan": "gkreport.plan.importer", "write_forms": "gkreport.forms.writer",
    "read_returns": "gkreport.intake.ingest", "write_workbook": "gkreport.render.workbook",
    "render_all": "gkreport.render.memo", "History": "gkreport.history",
    "load_frames": "gkreport.frames",
    # the domain
    "Plan": "gkreport.core.model", "Task": "gkreport.core.model", "Unit": "gkreport.core.model",
    "Period": "gkreport.core.model", "Status": "gkreport.core.model",
    "Entry": "gkreport.core.model", "Returns": "gkreport.core.model",
    "Report": "gkreport.core.report", "Summary": "gkreport.core.report",
    "Problem": "gkreport.core.problems", "GkreportError": "gkreport.core.problems",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'gkreport' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
