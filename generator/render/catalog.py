"""catalog.json: what the runtime serves besides forms — guides, workflows, code sets, calendars,
the data resource catalogue."""

from __future__ import annotations

import dataclasses

import orjson

from generator.catalogue import resources
from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile, json_text, python_banner


def render_catalog(pkg: PackageIR) -> list[GeneratedFile]:
    # orjson turns the frozen dataclasses into plain data in C (to_jsonable is pure Python)
    skip = {"forms", "source_hash"}  # the hash lives in package.json only
    data = orjson.loads(
        orjson.dumps(
            {f.name: getattr(pkg, f.name) for f in dataclasses.fields(pkg) if f.name not in skip}
        )
    )
    data["forms"] = [form.id for form in pkg.forms]
    data["resources"] = resources(pkg)  # the data resource catalogue (generator/catalogue.py)
    for bundle in data["bundles"]:  # the combined form is in schemas/bundles/<id>.json
        form = bundle["form"]
        bundle["keys"] = sorted(
            {f["id"] for f in form["fields"]} | {g["id"] for g in form["groups"]}
        )
        del bundle["form"]
    text = json_text(data)
    init = python_banner(fingerprint(pkg.region)) + (
        f'"""Deployment package of region {pkg.region!r}; served by ``govstd serve``."""\n'
    )
    return [GeneratedFile("catalog.json", text), GeneratedFile("__init__.py", init)]
