"""The public pages: the regions (``/``), a region's 服务大厅 and a matter's 办事指南.

The guide shows what ``GET /api/matters/{matter}`` returns: the matter's guide as
the region implements it, its materials and its workflow, localized with the API's
own :func:`runtime.routes.catalogue.resolve_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime.bundles import offered
from runtime.errors import ApiError
from runtime.formspec import localized
from runtime.package import Matter, Package, Region
from runtime.policies import in_force_in
from runtime.routes.catalogue import resolve_text
from runtime.routes.common import ctx
from runtime.routes.policies import _item as policy_item
from runtime.web.formview import upload_limits
from runtime.web.i18n import TEXT, lang_of, text
from runtime.web.render import page, render

PERSON = "1"  # service object 自然人; every other code is an organization
MAX_QUERY = 64


@page
async def home(request: Request) -> Response:
    """``GET /``: every region the package serves, each linking to its service hall."""
    pkg = ctx(request).package
    return render(request, "home.jinja", regions=_regions(pkg))


def _regions(pkg: Package) -> list[Region]:
    return sorted(pkg.regions.values(), key=lambda r: (r.id != pkg.region, r.code))


def region_of(request: Request) -> Region:
    pkg = ctx(request).package
    region = pkg.regions.get(request.path_params["region"])
    if region is None:
        raise ApiError(404, "not_found")
    return region


def matter_of(request: Request, region: Region) -> Matter:
    matter = region.matters.get(request.path_params["matter"])
    if matter is None:
        raise ApiError(404, "unknown_matter", {"matter": request.path_params["matter"][:64]})
    return matter


def code_name(pkg: Package, codeset: str, code: str, lng: str) -> str:
    """A code's name in its code set (the code itself when unknown)."""
    for value in pkg.codesets.get(codeset, {}).get("values", []):
        if value.get("code") == code:
            return localized(value.get("name"), lng)
    return code


def limit_text(limit: dict[str, Any] | None, lng: str) -> str:
    """``5 个工作日`` / ``即办`` for a time limit ``{value, unit}``."""
    if not limit:
        return ""
    value = limit.get("value")
    if value == 0:
        return text("limit.instant", lng)
    unit = limit.get("unit", "working_day")
    return text(f"unit.{unit}", lng, value=value)


@dataclass(frozen=True)
class MatterCard:
    matter: Matter
    name: str
    objects: list[str]
    promised: str


def _matches(matter: Matter, query: str) -> bool:
    """The query in the matter's id or a name, or in its Chinese name's pinyin (initials or
    whole, spaces ignored)."""
    q = query.lower()
    if q in matter.id.lower() or any(q in name.lower() for name in matter.name.values()):
        return True
    latin = q.replace(" ", "")
    return latin.isascii() and latin.isalpha() and any(latin in key for key in matter.pinyin)


@page
async def hall(request: Request) -> Response:
    """``GET /regions/{region}``: matters grouped by type, ``?q=`` search, ``?object=``
    person / legal, with the region's one-stop bundles and policies."""
    pkg = ctx(request).package
    lng = lang_of(request)
    region = region_of(request)
    query = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    audience = request.query_params.get("object")
    audience = audience if audience in ("person", "legal") else ""
    groups: dict[str, list[MatterCard]] = {}
    for matter in sorted(region.matters.values(), key=lambda m: (m.type, m.id)):
        person = PERSON in matter.service_objects
        legal = any(code != PERSON for code in matter.service_objects)
        if (audience == "person" and not person) or (audience == "legal" and not legal):
            continue
        if query and not _matches(matter, query):
            continue
        card = MatterCard(
            matter,
            localized(matter.name, lng),
            [code_name(pkg, "service_object", c, lng) for c in matter.service_objects],
            limit_text(matter.promised, lng),
        )
        groups.setdefault(code_name(pkg, "matter_type", matter.type, lng), []).append(card)
    bundles = [  # offered where every member is, with the form the bundle combined
        {
            "id": b.id,
            "name": localized(b.name, lng),
            "matters": [region.matters[m] for m in b.matters],
        }
        for b in pkg.bundles.values()
        if offered(b, region)
    ]
    now = ctx(request).now()  # in force here today, issued here or above: as the API lists them
    policies = [policy_item(pkg, p, lng) for p in in_force_in(pkg, region.id, now)]
    return render(
        request,
        "hall.jinja",
        region=region,
        regions=_regions(pkg),
        groups=groups,
        count=sum(len(cards) for cards in groups.values()),
        query=query,
        audience=audience,
        bundles=bundles,
        policies=policies,
    )


@page
async def guide(request: Request) -> Response:
    """``GET /regions/{region}/matters/{matter}``: the 办事指南, every element the API gives."""
    pkg = ctx(request).package
    lng = lang_of(request)
    region = region_of(request)
    matter = matter_of(request, region)
    g = resolve_text(matter.guide, lng)
    workflow = pkg.workflows.get(matter.workflow)
    result_type = str((g.get("result") or {}).get("type", ""))
    return render(
        request,
        "guide.jinja",
        region=region,
        matter=matter,
        g=g,
        name=localized(matter.name, lng),
        type_name=code_name(pkg, "matter_type", matter.type, lng),
        objects=[code_name(pkg, "service_object", c, lng) for c in matter.service_objects],
        materials=resolve_text(list(matter.materials), lng),
        legal=limit_text((g.get("time_limit") or {}).get("legal"), lng),
        promised=limit_text((g.get("time_limit") or {}).get("promised"), lng),
        workflow=workflow,
        upload_limits=lambda m: upload_limits(m, lng),
        result_type=text(f"result.{result_type}", lng) if f"result.{result_type}" in TEXT else "",
    )
