"""The README stays true: --help blocks regenerate identically, every command is documented."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.main import get_command

from gkreport.cli import app

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    root = get_command(app)
    names = []
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in subs] if subs else [name]
    return names


def test_every_command_is_documented_and_has_chinese_help() -> None:
    root = get_command(app)
    for name in _commands():
        assert f"gkreport {name}" in README, f"README 未介绍 gkreport {name}"
        cmd = root
        for part in name.split():
            cmd = cmd.commands[part]  # type: ignore[attr-defined]
        assert cmd.help and "Example:" in cmd.help, name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in cmd.help), name


def test_readme_help_blocks_are_current() -> None:
    if shutil.which("gkreport") is None:
        pytest.skip("gkreport 未安装到 PATH")
    proc = subprocess.run([sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, "README 中的 --help 已过期，请运行 cog -r README.md\n" + proc.stdout + proc.stderr


def test_readme_first_lines_are_the_two_setup_commands() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].endswith("gkreport consolidate")
    assert block[1].endswith("pytest")


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff 未安装")
    proc = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_the_public_api_resolves_and_is_documented() -> None:
    import gkreport

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in gkreport.__all__:
        assert getattr(gkreport, name) is not None
        if name != "__version__":
            assert f"`{name}`" in readme, f"README 未介绍 gkreport.{name}"
