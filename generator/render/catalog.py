"""catalog.json: what the runtime serves besides forms — guides, workflows, code sets, calendars."""

from __future__ import annotations

import dataclasses

from generator.ir import PackageIR, fingerprint, to_jsonable
from generator.render import GeneratedFile, json_text, python_banner


def render_catalog(pkg: PackageIR) -> list[GeneratedFile]:
    data = to_jsonable(dataclasses.replace(pkg, forms=()))
    del data["forms"], data["source_hash"]  # the hash lives in package.json only
    data["forms"] = [form.id for form in pkg.forms]
    text = json_text(data)
    init = python_banner(fingerprint(pkg.region)) + (
        f'"""Deployment package of region {pkg.region!r}; served by ``govstd serve``."""\n'
    )
    return [GeneratedFile("catalog.json", text), GeneratedFile("__init__.py", init)]
