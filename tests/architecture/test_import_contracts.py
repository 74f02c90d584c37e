"""The import-linter contracts of pyproject.toml hold, and each one breaks on an offending import.

``lint-imports`` runs as a subprocess: it must find the packages on disk from its working
directory, which an in-process run cannot do once Django has imported the real ones.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = REPO_ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
ROOT_PACKAGES = ("ccm", "patients", "careplans", "timetracking", "billing")
HOUSE_PURE_FORBIDDEN = {"django", "ccm", "patients", "careplans", "timetracking"}


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def importlinter_section() -> str:
    """The ``[tool.importlinter]`` text of pyproject.toml, contracts included."""
    lines = PYPROJECT.read_text(encoding="utf-8").splitlines()
    start = lines.index("[tool.importlinter]")
    end = next(
        (
            number
            for number in range(start + 1, len(lines))
            if lines[number].startswith("[")
            and not lines[number].startswith(("[tool.importlinter", "[[tool.importlinter"))
        ),
        len(lines),
    )
    return "\n".join(lines[start:end]) + "\n"


def test_house_contracts_are_configured() -> None:
    # given
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    # when
    contracts = {contract["id"]: contract for contract in config["contracts"]}
    # then
    assert config["include_external_packages"] is True
    assert set(config["root_packages"]) == set(ROOT_PACKAGES)
    assert set(contracts) >= {
        "pure-billing-rules",
        "domain-never-imports-interfaces",
        "timetracking-knows-no-billing",
    }
    assert set(contracts["pure-billing-rules"]["source_modules"]) >= {"billing.rules"}
    assert set(contracts["pure-billing-rules"]["forbidden_modules"]) >= HOUSE_PURE_FORBIDDEN
    assert set(contracts["domain-never-imports-interfaces"]["forbidden_modules"]) >= {
        "*.views",
        "*.api",
    }


def test_the_code_keeps_every_import_contract() -> None:
    # given the project's packages and contracts
    # when
    result = lint_imports(REPO_ROOT, PYPROJECT)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _write(root: Path, modules: dict[str, str]) -> None:
    for package in ROOT_PACKAGES:
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("", encoding="utf-8")
    for dotted, source in modules.items():
        (root / f"{dotted.replace('.', '/')}.py").write_text(source, encoding="utf-8")


def test_each_contract_breaks_on_an_offending_import(tmp_path: Path) -> None:
    # given a miniature project that breaks every contract once, checked with our contracts
    _write(
        tmp_path,
        {
            "billing.rules": "import django\n",
            "billing.pricing": "from ccm import models\n",
            "ccm.models": "",
            "ccm.views": "",
            "ccm.services": "import json\nfrom ccm import views\n",
            "patients.api": "thing = 1\n",
            "patients.selectors": "from patients.api import thing\n",
            "timetracking.services": "from billing import rules\n",
        },
    )
    config = tmp_path / "importlinter.toml"
    config.write_text(importlinter_section(), encoding="utf-8")
    # when
    result = lint_imports(tmp_path, config)
    # then
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 3 broken" in result.stdout, result.stdout
    for chain in (
        "billing.rules -> django (l.1)",
        "billing.pricing -> ccm.models (l.1)",
        "ccm.services -> ccm.views (l.2)",
        "patients.selectors -> patients.api (l.1)",
        "timetracking.services -> billing.rules (l.1)",
    ):
        assert chain in result.stdout, f"{chain!r} not reported:\n{result.stdout}"
