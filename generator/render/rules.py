"""``rules/<h>.jsonl``: every version of the case rules the package has served.

Each (region, matter) has a rules document (``runtime/rules.py``: its form spec,
materials list and promised limit) keyed by its hash in the packs ``rules/<h>.jsonl``
(``runtime/packs.py``); a case records the hash it was filed under. Regenerating into
a package folder carries forward every document of the rules packs its ``package.json``
lists, so a case filed under an earlier version keeps its form, materials and limit
(``../shared/spec/services.md`` §1). A carried pack must be as that manifest recorded
it (:mod:`generator.previous`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import orjson

from generator.ir import FormIR, MatterIR, PackageIR
from generator.render import GeneratedFile, packs
from generator.render.forms import SPEC_CLASSES, field_values
from runtime.packs import RULES
from runtime.rules import FORMAT

__all__ = ["render_rules"]


# rules_hash's bytes, which are also the document's line in its pack (json_line's)
_HASHED = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_SORT_KEYS


def _as_data(value: Any) -> dict[str, Any]:
    """orjson's ``default``: an IR dataclass as a dict of the fields of the runtime spec it
    maps to (what :func:`runtime.rules.form_document` of ``form_spec(form)`` holds), any
    other dataclass (materials, limits) as all its fields."""
    names, get = field_values(SPEC_CLASSES.get(type(value), type(value)))
    return dict(zip(names, get(value), strict=True))


def _form_data(form: FormIR) -> dict[str, Any]:
    """The form's spec as plain data, made once for both of its texts (a dataclass added
    below these would still be written, by :func:`_as_data` as orjson's ``default``)."""
    data = _as_data(form)
    data["fields"] = [_as_data(f) for f in form.fields]
    data["groups"] = [
        {**_as_data(g), "fields": [_as_data(f) for f in g.fields]} for g in form.groups
    ]
    data["sections"] = [_as_data(s) for s in form.sections]
    data["rules"] = [_as_data(r) for r in form.rules]
    return data


def current(pkg: PackageIR) -> dict[str, bytes]:
    """The documents of this package's (region, matter) pairs: hash -> compact JSON.

    Each is :func:`runtime.rules.rules_document` of the matter's form spec, materials and
    promised limit, as :func:`runtime.rules.rules_hash` hashes it, which is also its line
    in the pack; made here in C: each form is written once (an ``orjson.Fragment`` in each
    of its matters' documents)."""
    forms = {f.id: f for f in pkg.forms}
    matters: dict[int, MatterIR] = {}  # a matter a child region keeps is its parent's object
    for region in pkg.regions:
        matters.update((id(m), m) for m in region.matters if m.form in forms)
    uses = Counter(m.form for m in matters.values())  # a form's bytes kept till its last
    written: dict[str, orjson.Fragment] = {}
    out: dict[str, bytes] = {}
    for matter in matters.values():
        form = written.get(matter.form)
        if form is None:
            data = orjson.dumps(_form_data(forms[matter.form]), default=_as_data, option=_HASHED)
            form = written[matter.form] = orjson.Fragment(data)
        uses[matter.form] -= 1
        if not uses[matter.form]:
            del written[matter.form]
        doc = {"format": FORMAT, "materials": matter.materials, "promised": matter.promised}
        line = orjson.dumps({**doc, "form": form}, default=_as_data, option=_HASHED)
        out[hashlib.sha256(line).hexdigest()] = line
    return out


def render_rules(pkg: PackageIR, carried: dict[str, bytes]) -> list[GeneratedFile]:
    """The rules packs: the documents ``carried`` over from the previous package
    (:func:`generator.previous.read_previous` checked them; hash -> bytes) and this
    package's."""
    return packs(RULES, {**carried, **current(pkg)})
