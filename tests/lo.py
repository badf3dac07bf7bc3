"""Drive real LibreOffice (a test client only) to round-trip files the way units save them."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

needs_lo = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) 未安装")

# Filter names for --convert-to; plain extensions pick LibreOffice's default filter.
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods",
    "pdf": "pdf",
    "png": "png",
}


def convert(paths: list[Path], fmt: str, outdir: Path, *, timeout: int = 180) -> list[Path]:
    """Convert files with headless LibreOffice in one process; return the converted paths.

    Each call uses its own user profile so parallel test runs never share LibreOffice state.
    """
    assert SOFFICE is not None
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", FILTERS.get(fmt, fmt), "--outdir", str(outdir),
               *[str(p) for p in paths]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    ext = fmt.split(":")[0]
    out = [outdir / f"{p.stem}.{ext}" for p in paths]
    missing = [p for p in out if not p.exists()]
    assert not missing, f"LibreOffice 未生成 {missing}: {proc.stdout}\n{proc.stderr}"
    return out


def pdf_pages(path: Path) -> int:
    """The number of pages of a PDF LibreOffice wrote (its page objects; no PDF library)."""
    import re

    data = path.read_bytes()
    assert data[:5] == b"%PDF-", f"{path.name} 不是 PDF"
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
