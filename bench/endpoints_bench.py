"""Generic routes reading generated specs vs an emitted endpoint module per matter.

Run: ``.venv/bin/python bench/endpoints_bench.py`` (about 20 s). Backs
docs/decisions/endpoints.md. For 20, 500 and 2,000 matters, side by side in one run:

* **routing**: starlette's router finding ``POST /api/matters/<last>/applications``
  among the runtime's API routes (``runtime.routes.ROUTES``: the matter is a path parameter
  looked up in a dict) vs the same table plus one route per matter, as emitted endpoint
  modules would register (``/api/matters/m0042/applications`` → its module's handler).
  Starlette tries routes in order, so the emitted table costs the position of the route.
* **start-up**: importing the emitted modules (one small module per matter, each a
  handler that validates with its form and calls the shared filing) vs importing none.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.routing import Match, Route

from runtime.routes import ROUTES

MODULE = '''"""Emitted: the filing endpoint of matter {matter}."""

from starlette.requests import Request
from starlette.responses import JSONResponse

FORM = "{matter}_form"


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    if not isinstance(body, dict) or set(body) != {{"region", "data"}}:
        return JSONResponse({{"error": "bad request"}}, status_code=400)
    return JSONResponse({{"matter": "{matter}", "form": FORM}}, status_code=201)
'''


def _find(routes: list[Any], path: str) -> Any:
    scope = {"type": "http", "path": path, "method": "POST", "root_path": ""}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    raise LookupError(path)


def _per_call(fn: Any, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def routing(matters: int) -> tuple[float, float]:
    async def handler(request: Any) -> None:
        return None

    emitted = [
        Route(f"/api/matters/m{i:04d}/applications", handler, methods=["POST"])
        for i in range(matters)
    ]
    path = f"/api/matters/m{matters - 1:04d}/applications"
    generic = _per_call(lambda: _find(ROUTES, path), 2000)
    per_matter = _per_call(lambda: _find([*emitted, *ROUTES], path), 2000)
    return generic, per_matter


def startup(matters: int) -> float:
    folder = Path(tempfile.mkdtemp(prefix="govstd-endpoints-"))
    package = folder / "emitted_endpoints"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for i in range(matters):
        (package / f"m{i:04d}.py").write_text(MODULE.format(matter=f"m{i:04d}"))
    sys.path.insert(0, str(folder))
    try:
        start = time.perf_counter()
        for i in range(matters):
            importlib.import_module(f"emitted_endpoints.m{i:04d}")
        return time.perf_counter() - start
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.startswith("emitted_endpoints")]:
            del sys.modules[name]
        shutil.rmtree(folder)


def main() -> None:
    print("matters | route match: generic | emitted per matter | ratio | import emitted")
    for matters in (20, 500, 2000):
        generic, per_matter = routing(matters)
        imports = startup(matters)
        print(
            f"{matters:7d} | {generic * 1e6:8.1f} µs | {per_matter * 1e6:10.1f} µs | "
            f"{per_matter / generic:5.1f}× | {imports * 1e3:7.0f} ms"
        )


if __name__ == "__main__":
    main()
