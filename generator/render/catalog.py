"""catalog.json: what the runtime serves besides forms — an index of the matters, workflows,
code sets, calendars, policies, bundles; each matter's service guide a document in the
packs ``matters/<h>.jsonl`` (``runtime/packs.py``, keyed ``<region>/<matter>``) and the data
resource catalogue in ``resources.json``.

The runtime reads the index at start and the rest on first use: a province's guides and
catalogue are hundreds of megabytes of JSON, and the guide of one matter is all a request
needs (issue 13).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.catalogue import resources
from generator.ir import FormIR, MatterIR, PackageIR, fingerprint
from generator.pinyin import PinyinKeys
from generator.render import GeneratedFile, json_bytes, json_line, packs, python_banner
from runtime.packs import MATTERS

# What lists, search and the pages' home need of a matter; the rest is in its document.
INDEX_FIELDS = (
    "id",
    "name",
    "type",
    "form",
    "workflow",
    "case_type",
    "promised",
    "service_objects",
    "version",
)


def render_catalog(pkg: PackageIR, pinyin: PinyinKeys | None = None) -> list[GeneratedFile]:
    """``pinyin``: the keys of the matters' names, begun by the caller (else made here)."""
    keys = (
        pinyin or PinyinKeys(m.name.get("zh", "") for r in pkg.regions for m in r.matters)
    ).get()
    skip = {"forms", "bundles", "source_hash", "regions"}  # the hash: package.json only
    data = {f.name: getattr(pkg, f.name) for f in dataclasses.fields(pkg) if f.name not in skip}
    data["forms"] = [form.id for form in pkg.forms]
    data["bundles"] = [  # the combined form is in schemas/bundles/<id>.json
        {
            **{f.name: getattr(b, f.name) for f in dataclasses.fields(b) if f.name != "form"},
            "keys": _keys(b.form),
        }
        for b in pkg.bundles
    ]
    documents: dict[str, bytes] = {}  # "<region>/<matter>" -> the matter, in the packs
    written: dict[str, list[tuple[MatterIR, str]]] = {}  # matter id -> (matter, its key)
    regions = []
    for region in pkg.regions:
        entries = []
        for matter in region.matters:
            same = written.setdefault(matter.id, [])
            # a region below that implements a matter as the one above does shares its document
            key = next((k for m, k in same if m == matter), None)
            if key is None:
                key = f"{region.id}/{matter.id}"
                documents[key] = json_line(matter)
                same.append((matter, key))
            index = {k: getattr(matter, k) for k in INDEX_FIELDS}
            entries.append({**index, "pinyin": keys[matter.name.get("zh", "")], "detail": key})
        fields = {f.name: getattr(region, f.name) for f in dataclasses.fields(region)}
        regions.append({**fields, "matters": entries})
    data["regions"] = regions
    init = python_banner(fingerprint(pkg.region)) + (
        f'"""Deployment package of region {pkg.region!r}; served by ``govstd serve``."""\n'
    )
    return [
        GeneratedFile("catalog.json", json_bytes(data)),
        GeneratedFile("resources.json", json_bytes(_resources(pkg))),
        *packs(MATTERS, documents),
        GeneratedFile("__init__.py", init),
    ]


def _resources(pkg: PackageIR) -> dict[str, Any]:
    """The data resource catalogue (generator/catalogue.py): ``resources`` without their
    items, and ``items``, form id -> the items of its resources (the same in every region
    that offers the form: written once)."""
    found = resources(pkg)
    items = {r["id"]: r["items"] for r in found}
    return {
        "resources": [{k: v for k, v in r.items() if k != "items"} for r in found],
        "items": items,
    }


def _keys(form: FormIR | None) -> list[str]:
    """The keys of a bundle's combined data: its fields' and groups' ids."""
    if form is None:
        return []
    return sorted({f.id for f in form.fields} | {g.id for g in form.groups})
