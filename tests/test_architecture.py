"""The architecture contract in pyproject.toml holds, and would catch an import against the direction."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the packages importable from `cwd` with the contract in `config`."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_project_keeps_its_contract():
    result = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_fails_when_the_core_imports_the_web_layer(tmp_path):
    """The same layers, as five tiny packages (prefixed so the installed ones do not shadow them): twin imports web."""
    names = CONTRACT["root_packages"]
    for name in names:
        (tmp_path / f"x_{name}").mkdir()
        (tmp_path / f"x_{name}" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "x_twin" / "core.py").write_text("import x_web\n", encoding="utf-8")

    layers = [
        " | ".join(f"x_{part.strip()}" for part in layer.split("|")) for layer in CONTRACT["contracts"][0]["layers"]
    ]
    config = tmp_path / "contract.toml"
    config.write_text(
        f"[tool.importlinter]\nroot_packages = {[f'x_{n}' for n in names]!r}\n".replace("'", '"')
        + "[[tool.importlinter.contracts]]\nname = 'layers'\ntype = 'layers'\n"
        + f"layers = {layers!r}\n".replace("'", '"'),
        encoding="utf-8",
    )
    result = lint_imports(tmp_path, config)
    assert result.returncode != 0, result.stdout
    assert "x_twin.core -> x_web" in result.stdout
