"""An API route with its OpenAPI operation: each operation's facts in one place.

The route modules (:mod:`runtime.routes`) declare their routes as :class:`Operation`\\ s;
the generator builds ``openapi.json``'s ``paths`` from :data:`runtime.routes.ROUTES`
(:mod:`generator.render.openapi`), adding what depends on the package: the parameters
named here are ``components.parameters`` (the package's matter, form, material … ids
as enums), the schemas named here ``components.schemas``, the error statuses
``components.responses``. Every operation also takes ``Accept-Language`` and may
answer 503 (the database is not at the package's revision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.routing import Route

JSON = "application/json"
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)  # a request with a body

Schema = dict[str, Any]


def query(name: str, schema: Schema, description: str) -> Schema:
    """An optional query parameter, in full."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


class Operation(Route):
    """A route of the HTTP API, ``route`` its method and path (``"GET /api/matters"``),
    named by its ``operationId``.

    ``ok`` is the success response, ``(description, schema)``: the name of a component
    schema or a schema, as each of ``media``, with status ``status`` and ``headers``;
    ``responses`` other responses by status, described the same way (JSON), e.g. a 503
    of its own; ``errors`` the statuses of the common error responses it may answer;
    ``parameters`` the names of component parameters, or parameters in full; ``body``
    the component schema of its request body, as ``body_media``; ``secured``: it takes a
    bearer token."""

    def __init__(
        self,
        route: str,
        endpoint: Callable[..., Any],
        name: str,
        summary: str,
        tag: str,
        ok: tuple[str, Schema | str],
        *,
        status: int = 200,
        media: tuple[str, ...] = (JSON,),
        headers: Mapping[str, Schema] = {},
        responses: Mapping[int, tuple[str, Schema | str]] = {},
        errors: tuple[int, ...] = (),
        parameters: tuple[Schema | str, ...] = (),
        body: str | None = None,
        body_media: str = JSON,
        body_required: bool = True,
        secured: bool = False,
    ) -> None:
        method, path = route.split(" ")
        super().__init__(path, endpoint, methods=[method], name=name)
        self.method = method.lower()
        self.summary = summary
        self.tag = tag
        self.ok = ok
        self.status = status
        self.media = media
        self.headers = headers
        self.responses = responses
        self.errors = errors
        self.parameters = parameters
        self.body = body
        self.body_media = body_media
        self.body_required = body_required
        self.secured = secured
