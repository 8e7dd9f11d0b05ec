"""The one jinja2 environment of the renderers; templates are files in ``generator/templates``."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # no stat of the template file per render (10,000s a province)
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
