"""The JSON error format, localized messages, request ids and the generic 500.

Every error response is ``{"error": {"code": ..., "message": ..., "request_id": ...}}``,
with ``"fields": [{"path", "code", "message"}]`` inside ``error`` for validation errors (a
failed form rule's adds ``"fields"``: the paths of the form fields the rule reads). Messages
follow ``Accept-Language`` (zh default, en). A 500 says nothing about the cause:
no stack, no SQL, no personal data. The log says where it happened under the
request id — the exception's type (and those it was raised from) and the file, line
and function of each frame — never the exception's message nor the source lines:
database errors carry SQL and may carry stored values. :class:`RequestIdMiddleware`
answers the 500 itself, so the exception never reaches the server (whose own
traceback would print the message).

Exceptions: :class:`ApiError` (any handled error, raised anywhere in a request).

Messages of the command line and of start-up (not of a request) carry both languages
in one line: :func:`bilingual` (``中文 / English``).
"""

from __future__ import annotations

import logging
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime import access_log
from runtime.types import FieldProblem as FieldProblem  # the 422 lists them: re-exported
from runtime.types import GovstdError

log = logging.getLogger("govstd.runtime")

MESSAGES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求无效", "bad request"),
    "malformed_json": ("请求体不是有效的 JSON", "the request body is not valid JSON"),
    "too_deep": ("JSON 嵌套层数过多", "the JSON body is nested too deeply"),
    "bad_text": (
        "请求含有不允许的字符（空字符或不成对的代理字符）",
        "the request holds characters that are not allowed (NUL or unpaired surrogates)",
    ),
    "unsupported_media_type": (
        "请求体应为 application/json",
        "the request body must be application/json",
    ),
    "too_large": ("请求体过大", "the request body is too large"),
    "unauthorized": ("需要有效的身份令牌", "a valid bearer token is required"),
    "forbidden": ("无权执行此操作", "you may not do this"),
    "wrong_role": ("该步骤须由{by}办理", "this step is taken by the {by}"),
    "four_eyes": (
        "受理人不得同时作出决定（{step}与{other}须由不同人员办理）",
        "the person who took '{other}' may not also take '{step}' (four eyes)",
    ),
    "not_found": ("未找到", "not found"),
    "unknown_matter": ("未找到事项 {matter}", "no matter '{matter}'"),
    "unknown_form": ("未找到表单 {form}", "no form '{form}'"),
    "unknown_codeset": ("未找到代码集 {codeset}", "no code set '{codeset}'"),
    "unknown_application": ("未找到申请 {id}", "no application '{id}'"),
    "unknown_transition": (
        "流程中没有步骤 {transition}",
        "the workflow has no step '{transition}'",
    ),
    "unknown_material": ("未找到材料 {material}", "no material '{material}'"),
    "method_not_allowed": ("不支持该请求方法", "method not allowed"),
    "validation": ("提交的数据有误", "the submitted data is not valid"),
    "wrong_state": (
        "当前状态（{status}）不能办理“{transition}”",
        "'{transition}' is not possible in state '{status}'",
    ),
    "conflict": (
        "该申请已被他人同时处理，请刷新后重试",
        "someone else changed this application at the same time; reload and retry",
    ),
    "idempotency_mismatch": (
        "同一 Idempotency-Key 已用于不同的请求",
        "this Idempotency-Key was used for a different request",
    ),
    "already_evaluated": ("该申请已评价", "this application has already been evaluated"),
    "not_final": ("办结后方可评价", "an application can be evaluated once it is final"),
    "not_uploadable": (
        "该材料由政府部门共享获取，无需上传",
        "this material is obtained by data sharing; nothing to upload",
    ),
    "upload_media_type": (
        "请以 multipart/form-data 上传，文件字段名为 file",
        "upload as multipart/form-data with the file in the field 'file'",
    ),
    "too_many_parts": (
        "上传请求的分段过多",
        "the upload has too many parts",
    ),
    "file_missing": ("没有收到文件（字段名 file）", "no file received (field 'file')"),
    "file_type": (
        "文件类型不被接受（可接受：{accept}）",
        "this type of file is not accepted (accepted: {accept})",
    ),
    "case_final": ("申请已办结，不能再上传材料", "the case is final; no more uploads"),
    "material_busy": (
        "该材料文件正在被反复替换，请稍后重试",
        "this material's file is being replaced again and again; try again shortly",
    ),
    "materials_missing": (
        "受理前须提交全部必需材料，尚缺：{names}",
        "every required material must be handed in before acceptance; missing: {names}",
    ),
    "internal": ("服务器内部错误", "internal server error"),
    "unavailable": ("服务暂不可用", "service unavailable"),
    "database_ahead": (
        "服务暂停：数据库已由更新的部署包迁移，本服务的部署包已过期，请联系管理员",
        "service paused: the database was migrated by a newer package than this server's; "
        "an operator must deploy the matching package",
    ),
    "database_behind": (
        "服务暂停：数据库尚未迁移到本服务部署包的版本，请联系管理员",
        "service paused: the database is not yet at this server's package revision; "
        "an operator must run 'govstd migrate'",
    ),
    "database_unmigrated": (
        "服务暂停：数据库尚未迁移，请联系管理员",
        "service paused: the database has not been migrated; an operator must run 'govstd migrate'",
    ),
    # one-stop bundles and policies (runtime/routes/bundles.py, policies.py)
    "unknown_bundle": ("未找到一件事 {bundle}", "no bundle '{bundle}'"),
    "unknown_bundle_filing": ("未找到一件事申请 {id}", "no bundle filing '{id}'"),
    "unknown_policy": ("未找到政策 {policy}", "no policy '{policy}'"),
    "unknown_notification": ("未找到消息 {id}", "no notification '{id}'"),
    "no_profile": ("尚未保存画像 {form}", "no stored profile for '{form}'"),
    "not_eligible": (
        "不符合政策 {policy} 的申请条件",
        "the profile does not meet the conditions of policy '{policy}'",
    ),
    "already_claimed": (
        "已申领政策 {policy}（正在办理或已兑现）",
        "policy '{policy}' is already claimed (in progress or granted)",
    ),
    "not_in_force": (
        "政策 {policy} 在该区域未生效",
        "policy '{policy}' is not in force in this region",
    ),
    "field.bundle_region": (
        "区域 {region} 不提供该一件事（可选：{known}）",
        "region '{region}' does not offer this bundle (known: {known})",
    ),
    "field.profile_form": (
        "{form} 不是画像表单（可选：{known}）",
        "'{form}' is not a profile form (known: {known})",
    ),
    # objections (runtime/objections.py); unknown_element: see the data system below
    "element_not_in_form": (
        "本件的表单 {form} 不采集数据元 {element}",
        "the case's form '{form}' does not collect the data element '{element}'",
    ),
    "objection_open": (
        "该项已有未处理的异议（{id}）",
        "an objection to this value is already open ({id})",
    ),
    "objection_closed": ("异议 {id} 已处理", "objection {id} is already resolved"),
    "unknown_objection": ("未找到异议 {id}", "no objection '{id}'"),
    "objection_resolved": ("您的异议 {id} 已处理", "your objection {id} has been resolved"),
    "field.place": (
        "数据元 {element} 在本件中的位置应为：{known}",
        "where the case holds the data element '{element}': {known}",
    ),
    # 电子证照 (runtime/licences.py): why a government-sourced material is (not) attached
    "licence.fetched": ("已从电子证照库获取", "fetched from the e-licence service"),
    "licence.pending": (
        "正在获取（或获取被中断）",
        "being fetched (or the fetch was interrupted)",
    ),
    "licence.not_found": (
        "电子证照库中没有申请人的此项证照",
        "the e-licence service has no such licence of the applicant",
    ),
    "licence.status": (
        "电子证照服务出错（HTTP {status}）",
        "the e-licence service failed (HTTP {status})",
    ),
    "licence.timeout": ("电子证照服务超时未应答", "the e-licence service did not answer in time"),
    "licence.unreachable": ("无法连接电子证照服务", "the e-licence service cannot be reached"),
    "licence.file_type": (
        "电子证照服务返回的文件类型不被接受（{type}）",
        "the e-licence service returned a file of a type not accepted ({type})",
    ),
    "licence.too_large": (
        "电子证照服务返回的文件超过大小上限",
        "the e-licence service returned a file over the size cap",
    ),
    "licence.no_holder": (
        "申请人身份证号码未知，无法查询电子证照",
        "the applicant's ID number is not known: nothing to look up",
    ),
    # the data system (runtime/routes/resources.py, sharing.py, quality.py)
    "unknown_element": ("未找到数据元 {element}", "no data element '{element}'"),
    "field.resource": (
        "区域 {region} 的数据资源目录中没有资源 {resource}（可选：{known}）",
        "no resource '{resource}' in the catalogue of region '{region}' (known: {known})",
    ),
    "unknown_sharing_request": ("未找到共享申请 {id}", "no sharing request '{id}'"),
    "sharing_four_eyes": (
        "共享申请须由申请人以外的数据专员审批",
        "a sharing request is approved by a data steward other than its requester (four eyes)",
    ),
    "sharing_state": (
        "共享申请当前状态（{status}）不能{action}",
        "a sharing request in state '{status}' cannot be {action}",
    ),
    "sharing_not_granted": (
        "共享申请 {id} 未获批准、已撤销或已过期",
        "sharing request '{id}' is not approved, or was revoked, or has expired",
    ),
    "field.resource_item": (
        "{element} 不是该资源的数据项（可选：{known}）",
        "'{element}' is not an item of this resource (known: {known})",
    ),
    "field.served_region": (
        "本部署不服务区域 {region}（可选：{known}）",
        "this deployment serves no region '{region}' (known: {known})",
    ),
    "field.not_shared": ("数据项 {element} 不予共享", "item '{element}' is not shared"),
    # field-level codes of the API itself (the form's own come from runtime.validation)
    "field.required": ("必填", "required"),
    "field.unknown": ("不允许的字段", "this key is not allowed"),
    "field.type": ("类型不正确，应为{expected}", "wrong type, expected {expected}"),
    "field.region": (
        "区域 {region} 不办理该事项（可选：{known}）",
        "region '{region}' does not offer this matter (known: {known})",
    ),
    "field.range": ("取值应在 {low} 到 {high} 之间", "must be between {low} and {high}"),
    "field.not_allowed": ("此步骤不接受数据", "this step takes no data"),
    "field.length": ("长度应在 {low} 到 {high} 个字符之间", "must have {low} to {high} characters"),
}


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def language(accept_language: str | None) -> str:
    """``en`` or ``zh`` from an Accept-Language header (q-values honoured; zh default)."""
    best, best_q = "zh", 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in ("zh", "en") and q > best_q:
            best, best_q = primary, q
    return best


def message(code: str, lang: str, **params: object) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["bad_request"])
    text = en if lang == "en" else zh
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


@dataclass
class ApiError(GovstdError):
    """A handled error: an HTTP status, a stable code and parameters for its message."""

    status: int
    code: str
    params: dict[str, object] = field(default_factory=dict)
    fields: list[FieldProblem] | None = None
    message_override: str | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.code}"


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else "-"


def request_language(request: Request) -> str:
    return language(request.headers.get("accept-language"))


def error_body(
    code: str, msg: str, rid: str, fields: list[FieldProblem] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": msg, "request_id": rid}
    if fields is not None:  # inside "error" only, as the contract and the OpenAPI say
        error["fields"] = [f.as_json() for f in fields]
    return {"error": error}


def api_error_response(request: Request, exc: ApiError) -> JSONResponse:
    lang = request_language(request)
    msg = exc.message_override or message(exc.code, lang, **exc.params)
    body = error_body(exc.code, msg, request_id(request), exc.fields)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(request, exc)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 400: "bad_request"}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    if exc.status_code >= 500:
        code = "internal"
    return api_error_response(request, ApiError(exc.status_code, code))


def _qualified(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _short(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("site-packages", "runtime", "generator"):
        if anchor in parts:
            index = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[index + (anchor == "site-packages") :])
    return "/".join(parts[-2:])


def describe(exc: BaseException, frames: int = 16) -> str:
    """``Type from Cause at file:line function < …`` (innermost frame first), no messages."""
    chain: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(_qualified(current))
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    stack = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = " < ".join(f"{_short(f.filename)}:{f.lineno} {f.name}" for f in reversed(stack))
    return f"{' from '.join(chain)} at {where or '?'}"


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "-"))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """The generic 500: where it failed goes to the log (see the module), nothing to the client.

    The route's template is logged, not the path: a path may hold personal data."""
    log.error(
        "request %s %s %s failed: %s",
        request_id(request),
        request.method,
        _route(request),
        describe(exc),
    )
    return api_error_response(request, ApiError(500, "internal"))


class RequestIdMiddleware:
    """Gives every request an id (a sane ``X-Request-ID`` is kept) and echoes it back;
    answers any exception the app lets through with the generic 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(candidate):
                    rid = candidate
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        began = time.perf_counter()
        status = 0  # none sent yet

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the generic 500, here so that nothing re-raises to the server
            response = await handle_unexpected(Request(scope, receive), exc)
            if not status:
                await response(scope, receive, send_with_id)
        finally:
            access_log.record(scope, status, rid, began)
