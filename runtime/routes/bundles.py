"""One-stop bundles (一件事一次办, services.md §3): the catalogue, filing, shared materials, views.

- ``GET /api/bundles?region=R`` and ``GET /api/bundles/{bundle}?region=R``: a bundle
  is offered where every member is (:func:`runtime.bundles.offered`).
- ``POST /api/bundles/{bundle}/applications``: one write transaction records the
  filing (``bundle_filings``) and one application per member (its share of the data,
  its own number, workflow and clock, ``applications.bundle_id`` naming the filing),
  plus the Idempotency-Key record; any failure rolls all of it back.
- ``PUT /api/bundles/applications/{id}/materials/{material}``: one upload, one stored
  file, one ``material_files`` row per member asking the material.
- ``GET /api/bundles/applications`` and ``GET /api/bundles/applications/{id}``: the
  applicant's filings, each one item with its members' statuses.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from runtime import audit
from runtime.auth import Identity, require
from runtime.bundles import materials, offered, offered_in, validate_bundle
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import read, write
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.formspec import localized
from runtime.numbers import prepare
from runtime.operations import WRITE_ERRORS, Operation
from runtime.package import Bundle, Package, Region
from runtime.record_ids import new_id
from runtime.records import is_final, iso, lock_case, summary
from runtime.routes.catalogue import region_param, resolve_text
from runtime.routes.common import (
    MAX_ID,
    audit_access,
    can_see,
    ctx,
    filed,
    idempotency_key,
    lang,
    ok,
    paging,
    read_json,
    require_object,
    threaded,
)
from runtime.routes.materials import receive_material, release_files, uploaded
from runtime.submission import (
    Stored,
    fetch_licences,
    file_application,
    remember,
    replay,
    request_hash,
)
from runtime.uploads import EXTENSIONS, Received

# --- the catalogue -----------------------------------------------------------------------


def _bundle(pkg: Package, request: Request) -> Bundle:
    bundle_id = request.path_params["bundle"]
    bundle = pkg.bundles.get(bundle_id)
    if bundle is None:
        raise ApiError(404, "unknown_bundle", {"bundle": bundle_id[:64]})
    return bundle


def _item(pkg: Package, bundle: Bundle, region: Region, lng: str) -> dict[str, Any]:
    return {
        "id": bundle.id,
        "name": localized(bundle.name, lng),
        "names": bundle.name,
        "description": localized(bundle.description, lng) if bundle.description else None,
        "region": region.id,
        "regions": offered_in(pkg, bundle),
        "members": [
            {
                "matter": s.matter,
                "name": localized(region.matters[s.matter].name, lng),
                "form": s.form,
                "promised": region.matters[s.matter].promised,
            }
            for s in bundle.shares
        ],
    }


async def list_bundles(request: Request) -> Response:
    """``GET /api/bundles?region=R`` — the bundles offered in R (default: the package's)."""
    pkg = ctx(request).package
    lng = lang(request)
    region = region_param(request, pkg, lng) or pkg.regions[pkg.region]
    items = [_item(pkg, b, region, lng) for b in pkg.bundles.values() if offered(b, region)]
    return ok({"region": region.id, "items": items, "total": len(items)})


async def guide(request: Request) -> Response:
    """``GET /api/bundles/{bundle}?region=R`` — members, combined materials, combined schema."""
    pkg = ctx(request).package
    lng = lang(request)
    bundle = _bundle(pkg, request)
    region = region_param(request, pkg, lng)
    if region is None:
        region = next((r for r in pkg.regions.values() if offered(bundle, r)), None)
    if region is None or not offered(bundle, region):
        raise ApiError(404, "unknown_bundle", {"bundle": bundle.id})
    body = _item(pkg, bundle, region, lng)
    body["lang"] = lng
    body["materials"] = resolve_text(materials(bundle, region), lng)
    schema = pkg.bundle_schema(bundle.id)
    body["schema"] = json.loads(schema) if schema is not None else None
    return ok(body)


# --- filing ------------------------------------------------------------------------------


def _region(pkg: Package, bundle: Bundle, region_id: Any, lng: str) -> Region:
    region = pkg.regions.get(region_id) if isinstance(region_id, str) else None
    if region is None or not offered(bundle, region):
        shown = region_id if isinstance(region_id, str) else repr(region_id)
        text = message(
            "field.bundle_region", lng, region=shown[:64], known=", ".join(offered_in(pkg, bundle))
        )
        raise ApiError(422, "validation", fields=[FieldProblem("region", "region", text)])
    return region


def file_bundle(
    c: Context,
    identity: Identity,
    bundle: Bundle,
    region: Region,
    data: Any,
    *,
    key: str | None,
    digest: str,
    lng: str,
    rid: str,
) -> Stored:
    """Validate every member's share and file them all in one transaction (blocking)."""
    pkg = c.package
    if key is not None:
        previous = replay(c.engine, pkg, identity.subject, key, digest)
        if previous is not None:
            return previous
    now = c.now()
    cleaned, problems = validate_bundle(
        pkg,
        bundle,
        data,
        lang=lng,
        identity=identity.prefill(),
        today=local_date(now),
        extensions=c.extensions,
    )
    if problems:
        raise ApiError(422, "validation", fields=problems)
    filing = new_id()
    prepare(c.engine, pkg, region, now)
    try:
        with write(c.engine) as conn:
            conn.execute(
                insert(pkg.tables.bundle_filings),
                {
                    "id": filing,
                    "bundle": bundle.id,
                    "region": region.id,
                    "applicant_sub": identity.subject,
                    "created_at": now,
                },
            )
            members = [
                file_application(
                    conn,
                    c,
                    identity,
                    region.matters[s.matter],
                    region,
                    cleaned[s.matter],
                    now,
                    lng,
                    rid,
                    bundle_id=filing,
                )
                for s in bundle.shares
            ]
            body = {
                "bundle": bundle.id,
                "id": filing,
                "region": region.id,
                "created_at": iso(now),
                "applications": members,
            }
            if key is not None:
                remember(conn, pkg, identity, key, digest, body, now, application_id=filing)
    except IntegrityError:
        if key is None:
            raise
        previous = replay(c.engine, pkg, identity.subject, key, digest)
        if previous is None:
            raise
        return previous
    for s, member in zip(bundle.shares, members, strict=True):  # after the commit
        fetch_licences(c, identity, region.matters[s.matter], cleaned[s.matter], member["id"])
    return Stored(201, body)


async def create(request: Request) -> Response:
    """``POST /api/bundles/{bundle}/applications`` — ``{"region", "data"}`` (combined data)."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    bundle = _bundle(c.package, request)
    body = require_object(await read_json(request), {"region", "data"}, {"region", "data"}, lng)
    region = _region(c.package, bundle, body["region"], lng)
    key = idempotency_key(request)
    digest = request_hash(f"bundle:{bundle.id}", body)
    stored = await threaded(
        file_bundle,
        c,
        identity,
        bundle,
        region,
        body["data"],
        key=key,
        digest=digest,
        lng=lng,
        rid=request_id(request),
    )
    return filed(stored, f"/api/bundles/applications/{stored.body['id']}")


# --- one filing, seen as one item ---------------------------------------------------------


def _filing(c: Context, conn: Connection, identity: Identity, filing_id: str, rid: str) -> Any:
    """The filing if ``identity`` may see it (its applicant; staff who see its members);
    else 404, and an audit entry ``denied`` when it exists. Staff reads are audited."""
    t = c.package.tables
    row = None
    if len(filing_id) <= MAX_ID and "\x00" not in filing_id:
        row = conn.execute(
            select(t.bundle_filings).where(t.bundle_filings.c.id == filing_id)
        ).first()
    if row is not None and (
        row.applicant_sub == identity.subject
        if identity.role == "applicant"
        else can_see(c.package, identity, row, for_action=False)
    ):
        if identity.is_staff:
            audit_access(c, identity, rid, "read", detail={"bundle_filing": row.id})
        return row
    if row is not None:
        audit_access(c, identity, rid, "denied", detail={"bundle_filing": row.id})
    raise ApiError(404, "unknown_bundle_filing", {"id": filing_id[:64]})


def _members(conn: Connection, pkg: Package, filing_id: str) -> list[Any]:
    apps = pkg.tables.applications
    return list(
        conn.execute(
            select(apps).where(apps.c.bundle_id == filing_id).order_by(apps.c.created_at, apps.c.id)
        ).all()
    )


def filing_view(
    c: Context, filing: Any, members: list[Any], *, lng: str, staff: bool
) -> dict[str, Any]:
    """A bundle filing as one item: its bundle, and each member's number and status."""
    pkg = c.package
    bundle = pkg.bundles.get(filing.bundle)
    now = c.now()
    order = {m: i for i, m in enumerate(bundle.matters)} if bundle else {}
    items = [summary(pkg, m._mapping, lang=lng, now=now, staff=staff) for m in members]
    items.sort(key=lambda i: order.get(i["matter"], len(order)))
    return {
        "id": filing.id,
        "bundle": filing.bundle,
        "bundle_name": localized(bundle.name, lng) if bundle else filing.bundle,
        "region": filing.region,
        "created_at": iso(filing.created_at),
        "final": all(i["final"] for i in items),
        "applications": items,
    }


def siblings(conn: Connection, c: Context, row: Any, *, lng: str, staff: bool) -> Any:
    """For an application's detail: its bundle filing with every member (or ``None``)."""
    if row.bundle_id is None:
        return None
    t = c.package.tables
    filing = conn.execute(
        select(t.bundle_filings).where(t.bundle_filings.c.id == row.bundle_id)
    ).first()
    if filing is None:
        return None
    return filing_view(c, filing, _members(conn, c.package, filing.id), lng=lng, staff=staff)


def _one(c: Context, identity: Identity, filing_id: str, lng: str, rid: str) -> dict[str, Any]:
    with read(c.engine) as conn:
        filing = _filing(c, conn, identity, filing_id, rid)
        members = _members(conn, c.package, filing.id)
    return filing_view(c, filing, members, lng=lng, staff=identity.is_staff)


async def get_filing(request: Request) -> Response:
    """``GET /api/bundles/applications/{id}`` — one filing with its members' statuses."""
    c = ctx(request)
    identity = require(request)
    filing_id = request.path_params["id"]
    return ok(await threaded(_one, c, identity, filing_id, lang(request), request_id(request)))


def _own(c: Context, identity: Identity, page: int, size: int, lng: str) -> dict[str, Any]:
    t = c.package.tables
    bf = t.bundle_filings
    mine = bf.c.applicant_sub == identity.subject
    with read(c.engine) as conn:
        total = conn.execute(select(func.count()).select_from(bf).where(mine)).scalar_one()
        filings = conn.execute(
            select(bf)
            .where(mine)
            .order_by(bf.c.created_at.desc(), bf.c.id)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        apps = t.applications
        ids = [f.id for f in filings]
        rows = conn.execute(select(apps).where(apps.c.bundle_id.in_(ids))).all() if ids else []
    by_filing: dict[str, list[Any]] = {}
    for r in rows:
        by_filing.setdefault(r.bundle_id, []).append(r)
    items = [filing_view(c, f, by_filing.get(f.id, []), lng=lng, staff=False) for f in filings]
    return {"items": items, "total": int(total), "page": page, "page_size": size}


async def list_filings(request: Request) -> Response:
    """``GET /api/bundles/applications`` — the caller's bundle filings, newest first."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    page, size = paging(request, lng)
    return ok(await threaded(_own, c, identity, page, size, lng))


# --- a material shared by several members --------------------------------------------------


def _shared_material(
    c: Context, identity: Identity, filing_id: str, material_id: str, rid: str
) -> tuple[Any, list[Any], dict[str, Any]]:
    """The filing, the members asking the material, and the material as they all accept it."""
    pkg = c.package
    with read(c.engine) as conn:
        filing = _filing(c, conn, identity, filing_id, rid)
        members = _members(conn, pkg, filing.id)
    region = pkg.regions.get(filing.region)
    bundle = pkg.bundles.get(filing.bundle)
    if region is None or bundle is None or not offered(bundle, region):
        raise ApiError(404, "unknown_bundle_filing", {"id": filing_id[:64]})
    material = next((m for m in materials(bundle, region) if m["id"] == material_id), None)
    if material is None:
        raise ApiError(404, "unknown_material", {"material": material_id[:64]})
    if material.get("source") == "government":
        raise ApiError(409, "not_uploadable")
    asking = [m for m in members if m.matter in material["matters"]]
    if any(is_final(pkg, m) for m in asking):  # checked again in the write transaction
        raise ApiError(409, "case_final")
    return filing, asking, material


def _attach(
    c: Context,
    identity: Identity,
    filing: Any,
    asking: list[Any],
    material: dict[str, Any],
    got: Received,
    media: str,
    rid: str,
) -> dict[str, Any]:
    """Store the file once and attach it to each asking member (one transaction; the case
    states are checked again inside it, so a member decided meanwhile refuses it all)."""
    pkg = c.package
    t = pkg.tables
    storage_name = f"{filing.id}/{secrets.token_hex(16)}{EXTENSIONS.get(media, '')}"
    target = c.settings.upload_dir / storage_name
    target.parent.mkdir(parents=True, exist_ok=True)
    got.path.replace(target)
    now = c.now()
    mf = t.material_files
    ids = [m.id for m in asking]
    old: list[str] = []
    try:
        with write(c.engine) as conn:
            for app_id in sorted(ids):  # one order for every request: no lock cycles
                if is_final(pkg, lock_case(conn, pkg, app_id)):
                    raise ApiError(409, "case_final")  # decided while the file streamed
            where = mf.c.application_id.in_(ids) & (mf.c.material == material["id"])
            old = [r.storage_name for r in conn.execute(select(mf.c.storage_name).where(where))]
            conn.execute(delete(mf).where(where))
            conn.execute(
                insert(mf),
                [
                    {
                        "application_id": app_id,
                        "material": material["id"],
                        "storage_name": storage_name,
                        "filename": got.filename,
                        "content_type": media,
                        "size": got.size,
                        "sha256": got.sha256,
                        "uploaded_by": identity.subject,
                        "uploaded_at": now,
                    }
                    for app_id in ids
                ],
            )
            for app_id in ids:
                audit.record(
                    conn,
                    t.audit_log,
                    at=now,
                    action="material_upload",
                    identity=identity,
                    request_id=rid,
                    application_id=app_id,
                    detail={
                        "material": material["id"],
                        "size": got.size,
                        "sha256": got.sha256,
                        "bundle_filing": filing.id,
                    },
                )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    release_files(c, old)
    return {**uploaded(material, got, media, now), "applications": ids}


async def upload(request: Request) -> Response:
    """``PUT /api/bundles/applications/{id}/materials/{material}`` — multipart field ``file``."""
    c = ctx(request)
    identity = require(request, "applicant")
    filing, asking, material = await threaded(
        _shared_material,
        c,
        identity,
        request.path_params["id"],
        request.path_params["material"],
        request_id(request),
    )
    got, media = await receive_material(request, c, filing.id, material)
    try:
        result = await threaded(
            _attach, c, identity, filing, asking, material, got, media, request_id(request)
        )
    finally:
        got.path.unlink(missing_ok=True)
    return ok(result, 201)


ROUTES = [  # the filings' paths before /api/bundles/{bundle}
    Operation(
        "GET /api/bundles",
        list_bundles,
        "listBundles",
        "一件事目录 / bundles offered in a region",
        "bundles",
        ("bundles", "BundleList"),
        errors=(404, 422),
        parameters=("region",),
    ),
    Operation(
        "GET /api/bundles/applications",
        list_filings,
        "listBundleFilings",
        "我的一件事 / the caller's bundle filings, each with its members' statuses",
        "bundles",
        ("a page of filings", "BundleFilingPage"),
        errors=(401, 403, 422),
        parameters=("page", "page_size"),
        secured=True,
    ),
    Operation(
        "GET /api/bundles/applications/{id}",
        get_filing,
        "getBundleFiling",
        "一件事办理情况 / one filing with its members' statuses",
        "bundles",
        ("the filing", "BundleFilingView"),
        errors=(401, 403, 404),
        parameters=("application",),
        secured=True,
    ),
    Operation(
        "PUT /api/bundles/applications/{id}/materials/{material}",
        upload,
        "uploadBundleMaterial",
        "上传共用材料 / upload a material once for every member asking it",
        "bundles",
        ("stored and attached to each member", "BundleMaterial"),
        status=201,
        errors=WRITE_ERRORS,
        parameters=("application", "material"),
        body="Upload",
        body_media="multipart/form-data",
        secured=True,
    ),
    Operation(
        "GET /api/bundles/{bundle}",
        guide,
        "getBundle",
        "一件事指南 / members, combined materials and the combined form's schema",
        "bundles",
        ("the bundle", "Bundle"),
        errors=(404, 422),
        parameters=("bundle", "region"),
    ),
    Operation(
        "POST /api/bundles/{bundle}/applications",
        create,
        "fileBundle",
        "一件事一次办 / file every member of a bundle at once (applicant)",
        "bundles",
        ("filed, one application per member", "BundleFiled"),
        status=201,
        errors=WRITE_ERRORS,
        parameters=("bundle", "IdempotencyKey"),
        body="BundleSubmission",
        secured=True,
    ),
]
