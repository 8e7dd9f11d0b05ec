"""What govstd imports to run is what ``pip install .`` installs (scripts/demo installs no more).

A module of ``generator/`` or ``runtime/`` that imports a package listed only among the
development extras starts in the tests and fails on a fresh machine (``scripts/demo``
stopped with ``No module named 'httpx'``). The one exception: a package of the ``postgres``
extra, imported inside a function that only runs on PostgreSQL (which needs that extra)."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from runtime.migrate import upgrade
from tests.helpers import DATA_KEY, GENERATED, ROOT, SECRET


def _names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }


def _imported_modules(*, in_functions: bool = True) -> dict[str, str]:
    """Top-level modules imported by the shipped code, each with one place that imports it
    (without ``in_functions``: only the imports that run when a module is imported)."""
    found: dict[str, str] = {}
    for folder in ("generator", "runtime"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            lazy = {
                id(inner)
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                for inner in ast.walk(node)
            }
            for node in ast.walk(tree):
                if not in_functions and id(node) in lazy:
                    continue
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_imported_package_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _names(project["dependencies"])
    postgres = _names(project["optional-dependencies"]["postgres"])
    for name in list(declared):  # what a declared package itself requires comes with it
        declared |= _names(
            [r for r in importlib.metadata.requires(name) or [] if "extra ==" not in r]
        )
    own = {"generator", "runtime", "tests"}
    distributions = importlib.metadata.packages_distributions()
    at_import = _imported_modules(in_functions=False)
    missing = []
    for module, where in _imported_modules().items():
        if module in own or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if dists & postgres and module not in at_import:
            continue  # only in functions that run on PostgreSQL
        if not dists & declared:
            missing.append(f"{module} ({where}; distribution {sorted(dists)})")
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_a_serving_worker_loads_neither_pypinyin_nor_alembic(tmp_path: Path) -> None:
    """A worker holds what serving needs: the matters' pinyin comes in the catalog (the
    generator's pypinyin took 55 MB of every worker), and alembic and mako run only in
    ``govstd migrate`` (issue 13 item 4: a worker's memory). The hall's search by pinyin
    is tested in tests/web/test_pages.py."""
    db = f"sqlite:///{tmp_path / 'govstd.db'}"
    upgrade(GENERATED / "nanshan", db)
    script = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from runtime.app import create_app\n"
        "with TestClient(create_app(sys.argv[1], sys.argv[2])) as c:\n"
        "    assert c.get('/regions/nanshan', params={'q': 'gtgsh'}).status_code == 200\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pypinyin', 'alembic', 'mako'}))\n"
    )
    env = {**os.environ, "GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": DATA_KEY}
    done = subprocess.run(
        [sys.executable, "-c", script, str(GENERATED / "nanshan"), db],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
