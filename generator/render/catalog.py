"""catalog.json: what the runtime serves besides forms — guides, workflows, code sets, calendars,
the data resource catalogue."""

from __future__ import annotations

import dataclasses

from generator.catalogue import resources
from generator.ir import FormIR, PackageIR, fingerprint
from generator.render import GeneratedFile, json_bytes, python_banner


def render_catalog(pkg: PackageIR) -> list[GeneratedFile]:
    skip = {"forms", "bundles", "source_hash"}  # the hash lives in package.json only
    data = {f.name: getattr(pkg, f.name) for f in dataclasses.fields(pkg) if f.name not in skip}
    data["forms"] = [form.id for form in pkg.forms]
    data["resources"] = resources(pkg)  # the data resource catalogue (generator/catalogue.py)
    data["bundles"] = [  # the combined form is in schemas/bundles/<id>.json
        {
            **{f.name: getattr(b, f.name) for f in dataclasses.fields(b) if f.name != "form"},
            "keys": _keys(b.form),
        }
        for b in pkg.bundles
    ]
    text = json_bytes(data)
    init = python_banner(fingerprint(pkg.region)) + (
        f'"""Deployment package of region {pkg.region!r}; served by ``govstd serve``."""\n'
    )
    return [GeneratedFile("catalog.json", text), GeneratedFile("__init__.py", init)]


def _keys(form: FormIR | None) -> list[str]:
    """The keys of a bundle's combined data: its fields' and groups' ids."""
    if form is None:
        return []
    return sorted({f.id for f in form.fields} | {g.id for g in form.groups})
