"""南山区's own additions to the shared runtime: an example of ``GOVSTD_EXTENSIONS``.

Serve 南山区's package with them::

    GOVSTD_EXTENSIONS=standards/extensions/nanshan.py govstd serve --app generated/nanshan

- ``GET /api/ext/nanshan/halls``: the district's service halls and their opening hours.
- A check on the food business licence form: premises in 南山区 (division code 440305)
  must have an address that names the district, as the district's 市场监管局 asks.

Only the runtime's documented interface is used (runtime/extensions.py): a Starlette
endpoint, and a check returning :class:`runtime.types.FieldProblem`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

from runtime.extensions import Extensions
from runtime.types import FieldProblem

HALLS = [
    {
        "name": "南山区政务服务中心",
        "address": "深圳市南山区南头街道南山大道 2093 号",
        "hours": "周一至周五 9:00-12:00, 14:00-18:00；周六 9:00-12:00",
    },
    {
        "name": "南山区粤海街道便民服务中心",
        "address": "深圳市南山区粤海街道科苑路 8 号",
        "hours": "周一至周五 9:00-12:00, 14:00-18:00",
    },
]


async def halls(request: Request) -> JSONResponse:
    """南山区政务服务大厅及开放时间 / 南山区's service halls and their opening hours"""
    return JSONResponse({"region": "nanshan", "items": HALLS})


TEXT = {"type": "string"}
HALLS_ANSWER = {  # its operation in /openapi.json: what the answer holds
    "description": "服务大厅 / the halls",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "region": TEXT,
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"name": TEXT, "address": TEXT, "hours": TEXT},
                        },
                    },
                },
            }
        }
    },
}


def premises_in_nanshan(data: Mapping[str, object], lang: str) -> Iterator[FieldProblem]:
    address = str(data.get("business_address") or "")
    if data.get("business_division") == "440305" and "南山区" not in address:
        yield FieldProblem(
            "business_address",
            "nanshan.business_address",
            "经营场所地址应写明“南山区”"
            if lang != "en"
            else "the premises' address must name 南山区 (Nanshan District)",
        )


def register(ext: Extensions) -> None:
    ext.route("/api/ext/nanshan/halls", halls, operation={"responses": {"200": HALLS_ANSWER}})
    ext.check("food_business_license_form", premises_in_nanshan)
