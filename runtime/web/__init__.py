"""The web pages (services.md §2): server-rendered HTML beside the JSON API.

| method and path | handler |
|---|---|
| GET / | :mod:`runtime.web.hall` — the regions |
| GET /regions/{region} | :mod:`runtime.web.hall` — 服务大厅 |
| GET /regions/{region}/matters/{matter} | :mod:`runtime.web.hall` — 办事指南 |
| GET, POST /regions/{region}/matters/{matter}/apply (+ /conditions) | :mod:`runtime.web.apply` |
| GET, POST /login; POST /logout | :mod:`runtime.web.signin` |
| GET /login/oidc, /login/oidc/callback | :mod:`runtime.web.oidc` — OpenID Connect |
| /me, /me/applications/{id} and below | :mod:`runtime.web.mine` — 我的办件 |
| GET /assets/{name} | :mod:`runtime.web.assets` — stylesheet, htmx, the page script |
| /staff, /staff/cases/{id} and below | :mod:`runtime.web.workbench` — 工作台 |
| GET /staff/stats | :mod:`runtime.web.stats` — 统计分析 (supervisors) |
| /regions/{region}/bundles/{bundle} and below, GET /me/bundles/{id} | :mod:`runtime.web.bundle` |
| /regions/{region}/policies and below | :mod:`runtime.web.policies` — 惠企政策 |
| /staff/policies and below | :mod:`runtime.web.staff_policies` — 政策督查 |
| GET /regions/{region}/catalogue | :mod:`runtime.web.datapages` — 数据资源目录 |
| GET /staff/data-quality | :mod:`runtime.web.datapages` — 数据质量 |

Pages call the same functions the API's routes call (validation, submission,
workflow steps, masking); nothing here decides anything the API would decide
differently.

Adding a page: a handler decorated with :func:`runtime.web.render.page` (an
``ApiError`` becomes an HTML page, a 401 the sign-in page), the person from
:func:`runtime.web.session.signed_in` (with the roles allowed), a posted form from
:func:`runtime.web.session.checked_form` (CSRF and size checked; ``None``: answer 403),
the answer from :func:`runtime.web.render.render` with a template extending
``base.jinja`` whose words are entries of :data:`runtime.web.i18n.TEXT` (``t(key)``)
or names from the standards (``loc(text)``), and a route below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runtime.web import (
    apply,
    assets,
    bundle,
    datapages,
    hall,
    mine,
    oidc,
    policies,
    signin,
    staff_policies,
    stats,
    workbench,
)
from runtime.web.i18n import lang_of, text
from runtime.web.render import error_page

ROUTES = [
    Route("/", hall.home, methods=["GET"]),
    Route("/regions/{region}", hall.hall, methods=["GET"]),
    Route("/regions/{region}/matters/{matter}", hall.guide, methods=["GET"]),
    Route("/regions/{region}/matters/{matter}/apply", apply.apply, methods=["GET", "POST"]),
    Route(
        "/regions/{region}/matters/{matter}/apply/conditions",
        apply.form_conditions,
        methods=["POST"],
    ),
    Route("/me", mine.my_applications, methods=["GET"]),
    Route("/me/applications/{id}", mine.application, methods=["GET"]),
    Route("/me/applications/{id}/filed", mine.application, methods=["GET"]),
    Route("/me/applications/{id}/correct", mine.correct, methods=["GET", "POST"]),
    Route("/me/applications/{id}/actions/{transition}", mine.act, methods=["POST"]),
    Route("/me/applications/{id}/materials/{material}", mine.material, methods=["GET", "POST"]),
    Route("/me/applications/{id}/evaluation", mine.evaluate, methods=["POST"]),
    Route("/login", signin.login, methods=["GET", "POST"]),
    Route("/logout", signin.logout, methods=["POST"]),
    Route("/login/oidc", oidc.start, methods=["GET"]),
    Route("/login/oidc/callback", oidc.callback, methods=["GET"], name="oidc_callback"),
    Route("/assets/{name}", assets.asset, methods=["GET"]),
    Route("/staff", workbench.queue, methods=["GET"]),
    Route("/staff/stats", stats.statistics, methods=["GET"]),
    Route("/staff/data-quality", datapages.data_quality, methods=["GET"]),
    Route("/regions/{region}/catalogue", datapages.catalogue, methods=["GET"]),
    Route("/staff/cases/{id}", workbench.case, methods=["GET"]),
    Route("/staff/cases/{id}/steps/{transition}", workbench.take, methods=["POST"]),
    Route("/staff/cases/{id}/reveal", workbench.reveal, methods=["POST"]),
    Route("/staff/cases/{id}/materials/{material}", workbench.material, methods=["GET"]),
    # 一件事一次办 and 惠企政策 (services.md §3, §4)
    Route("/regions/{region}/bundles/{bundle}", bundle.guide, methods=["GET"]),
    Route("/regions/{region}/bundles/{bundle}/apply", bundle.apply, methods=["GET", "POST"]),
    Route(
        "/regions/{region}/bundles/{bundle}/apply/conditions",
        bundle.form_conditions,
        methods=["POST"],
    ),
    Route("/me/bundles/{id}", bundle.filing, methods=["GET"]),
    Route("/regions/{region}/policies", policies.policies, methods=["GET", "POST"]),
    Route(
        "/regions/{region}/policies/notifications/{id}/read",
        policies.read_notification,
        methods=["POST"],
    ),
    Route("/regions/{region}/policies/{policy}/claim", policies.claim, methods=["GET", "POST"]),
    Route(
        "/regions/{region}/policies/{policy}/claim/conditions",
        policies.claim_conditions,
        methods=["POST"],
    ),
    Route("/staff/policies", staff_policies.statistics, methods=["GET"]),
    Route("/staff/policies/{policy}/deliver", staff_policies.deliver, methods=["POST"]),
]


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def pages_or(api_handler: ExceptionHandler) -> ExceptionHandler:
    """The app's HTTP error handler: an HTML page for a browser asking for a page (not
    under ``/api/``), else ``api_handler``'s JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        if not wants_page or request.url.path.startswith("/api/"):
            return await api_handler(request, exc)
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        key = "error.not_found" if status == 404 else "error.title"
        return error_page(request, status, text(key, lang_of(request)))

    return handler
