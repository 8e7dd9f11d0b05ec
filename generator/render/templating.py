"""The one jinja2 environment of the renderers; templates are files in ``generator/templates``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2


def pyrepr(value: Any) -> str:
    """A Python literal for plain data, stable across runs (dict order kept, no sets)."""
    return repr(value)


def jsondump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["py"] = pyrepr
    env.filters["json"] = jsondump
    env.filters["camel"] = camel
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
