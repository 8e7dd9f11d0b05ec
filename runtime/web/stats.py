"""统计分析 (``/staff/stats``): a supervisor's figures for their region and below.

Overdue, due soon and satisfaction first (what a supervisor watches), then the counts by
stage, status, matter and region, the average handling time and the ratings — all from
``staff._stats``, the function ``GET /api/staff/stats`` answers with (audited there).
Each chart (:mod:`runtime.web.charts`) is followed by a table of the same figures.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from runtime.answers import Stats
from runtime.auth import SUBTREE_ROLES
from runtime.errors import request_id
from runtime.formspec import localized
from runtime.package import Package
from runtime.routes import staff
from runtime.routes.common import ctx, threaded
from runtime.web.charts import Chart, bar_chart
from runtime.web.i18n import lang_of, text
from runtime.web.render import page, render
from runtime.web.session import signed_in
from runtime.web.workbench import scope_matters

STAGES: Final = ("pending", "in_progress", "finished")


def _status_names(pkg: Package, regions: list[Any], lng: str) -> dict[str, str]:
    """State id -> its name in the workflows of the regions' matters (the first found)."""
    names: dict[str, str] = {}
    for region in regions:
        for matter in region.matters.values():
            workflow = pkg.workflows.get(matter.workflow)
            for state in workflow.states.values() if workflow else ():
                names.setdefault(state.id, localized(state.name, lng))
    return names


def _counted(items: dict[str, int], names: dict[str, str]) -> list[tuple[str, float, str]]:
    ordered = sorted(items.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0])))
    return [(names.get(key, key), n, str(n)) for key, n in ordered]


def charts(stats: Stats, pkg: Package, regions: list[Any], lng: str) -> list[Chart]:
    """The page's charts, each of figures the page's tables show too."""
    matter_names: dict[str, str] = {}
    for region in regions:
        for matter in region.matters.values():
            matter_names.setdefault(matter.id, localized(matter.name, lng))
    stage = [
        (text(f"staff.tab_{s}", lng), n, str(n)) for s in STAGES for n in [stats["by_stage"][s]]
    ]
    out = [
        bar_chart(
            "chart-stage",
            text("stats.by_stage", lng),
            text("stats.by_stage_desc", lng, total=stats["total"]),
            stage,
            kinds=["warn", "plain", "ok"],
        ),
        bar_chart(
            "chart-matter",
            text("stats.by_matter", lng),
            text("stats.by_matter_desc", lng, total=stats["total"]),
            _counted(stats["by_matter"], matter_names),
        ),
        bar_chart(
            "chart-status",
            text("stats.by_status", lng),
            text("stats.by_status_desc", lng, total=stats["total"]),
            _counted(stats["by_status"], _status_names(pkg, regions, lng)),
        ),
    ]
    scores = [
        (text(f"app.score_{n}", lng), stats["by_score"].get(str(n), 0)) for n in range(5, 0, -1)
    ]
    out.append(
        bar_chart(
            "chart-score",
            text("stats.by_score", lng),
            text("stats.by_score_desc", lng, count=stats["satisfaction"]["count"]),
            [(label, n, str(n)) for label, n in scores],
            kinds=["ok", "ok", "plain", "bad", "bad"],
        )
    )
    if len(regions) > 1:
        names = {r.id: localized(r.name, lng) for r in regions}
        out.append(
            bar_chart(
                "chart-region",
                text("stats.by_region", lng),
                text("stats.by_region_desc", lng, total=stats["total"]),
                _counted(stats["by_region"], names),
            )
        )
    return out


@page
async def statistics(request: Request) -> Response:
    """``GET /staff/stats?region=``: supervisors and administrators (their subtree)."""
    c = ctx(request)
    lng = lang_of(request)
    identity = signed_in(request, *sorted(SUBTREE_ROLES))
    regions, _ = scope_matters(request, identity)
    region = request.query_params.get("region") or None
    region = region if region in {r.id for r in regions} else None
    shown = [r for r in regions if region in (None, r.id)]
    stats = await threaded(staff._stats, c, identity, region, request_id(request))
    return render(
        request,
        "staff_stats.jinja",
        stats=stats,
        charts=charts(stats, c.package, shown, lng),
        regions=regions if len(regions) > 1 else [],
        region=region,
        scope_names=text("p.list", lng).join(localized(r.name, lng) for r in shown),
    )
