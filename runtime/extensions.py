"""A region's own endpoints and checks, without editing the shared runtime.

``GOVSTD_EXTENSIONS`` names Python files (or importable modules), comma-separated; each
defines ``register(ext)``, which :func:`runtime.app.create_app` calls once at start-up
with an :class:`Extensions` to add to:

- ``ext.route(path, endpoint, methods=("GET",), operation={})``: a Starlette endpoint
  under ``/api/ext/`` (JSON: not cached, like the rest of the API) or ``/ext/`` (pages).
  The shared routes come first, so an extension cannot replace one. An ``/api/ext/``
  route is in the served ``/openapi.json``: its operation is ``operationId`` (the
  endpoint's name), ``summary`` (its docstring's first line), tag ``extensions`` and a
  bare 200, updated with ``operation`` (an OpenAPI Operation object: responses, security
  …). ``request.app.state.ctx`` is the package, the database engine and the settings
  (:class:`runtime.context.Context`);
  :func:`runtime.auth.require` checks the caller's token; raise
  :class:`runtime.errors.ApiError` for a 4xx answer in the API's error format.
- ``ext.check(form, check)``: ``check(data, lang)`` runs on every submission of that form
  (a filing, a bundle member's share, a resubmission, a policy claim) once the form's own
  checks pass, with the cleaned data; each :class:`runtime.types.FieldProblem` it
  yields refuses the submission (422, listed in ``fields`` with its path, code and
  message, in ``lang``: ``zh`` or ``en``).

``standards/extensions/nanshan.py`` is an example, and docs/decisions/endpoints.md says
why the shared API is served by generic routes rather than emitted endpoint modules.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, Route

from runtime.settings import SettingsError
from runtime.types import FieldProblem, bilingual

ENV_VAR = "GOVSTD_EXTENSIONS"
PREFIXES = ("/api/ext/", "/ext/")

Check = Callable[[Mapping[str, object], str], Iterable[FieldProblem]]
Register = Callable[["Extensions"], None]


@dataclass
class Extensions:
    """What the extensions added: routes, and checks by form id."""

    routes: list[BaseRoute] = field(default_factory=list)
    checks: dict[str, list[Check]] = field(default_factory=dict)
    paths: dict[str, dict[str, Any]] = field(default_factory=dict)  # OpenAPI, of /api/ext/

    def route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] = ("GET",),
        operation: Mapping[str, Any] = {},
    ) -> None:
        if not path.startswith(PREFIXES):
            raise ValueError(
                bilingual(
                    f"扩展的路径 {path} 应以 /api/ext/ 或 /ext/ 开头",
                    f"an extension's path must start with /api/ext/ or /ext/: {path}",
                )
            )
        api = path.startswith("/api/")
        route = Route(path, endpoint, methods=list(methods), include_in_schema=api)
        self.routes.append(route)
        if api:
            documented: dict[str, Any] = {
                "operationId": route.name,
                "summary": (endpoint.__doc__ or route.name).strip().splitlines()[0],
                "tags": ["extensions"],
                "responses": {"200": {"description": "OK"}},
            }
            item = self.paths.setdefault(path, {})
            item.update({m.lower(): {**documented, **operation} for m in methods})

    def check(self, form: str, check: Check) -> None:
        self.checks.setdefault(form, []).append(check)

    def problems(self, form: str, data: Mapping[str, object], lang: str) -> list[FieldProblem]:
        """What the checks of ``form`` find in its cleaned ``data``."""
        return [problem for check in self.checks.get(form, ()) for problem in check(data, lang)]


NONE = Extensions()


def load(names: str, more: Sequence[Register] = ()) -> Extensions:
    """The extensions ``GOVSTD_EXTENSIONS`` names (``names``) and ``more``, registered in
    that order. A file or module that cannot be loaded, has no ``register`` or refuses to
    register raises :class:`SettingsError` naming it."""
    extensions = Extensions()
    registers = [(name, _register_of(name)) for name in names.split(",") if name.strip()]
    registers += [(getattr(r, "__module__", repr(r)), r) for r in more]
    for name, register in registers:
        try:
            register(extensions)
        except ValueError as exc:
            raise SettingsError(f"{ENV_VAR}: {name}: {exc}") from None
    return extensions


def _register_of(name: str) -> Register:
    name = name.strip()
    try:
        if name.endswith(".py"):
            spec = importlib.util.spec_from_file_location(f"govstd_ext_{Path(name).stem}", name)
            if spec is None or spec.loader is None or not Path(name).is_file():
                raise FileNotFoundError(name)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
    except (ImportError, OSError) as exc:
        raise SettingsError(
            f"{ENV_VAR}: 无法加载 {name}（{type(exc).__name__}）",
            f"{ENV_VAR}: cannot load {name} ({type(exc).__name__}: {exc})",
        ) from None
    register = getattr(module, "register", None)
    if not callable(register):
        raise SettingsError(
            f"{ENV_VAR}: {name} 没有定义 register(ext)",
            f"{ENV_VAR}: {name} defines no register(ext)",
        )
    return register  # type: ignore[no-any-return]
