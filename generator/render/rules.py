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

from typing import Any

import orjson

from generator.ir import PackageIR
from generator.render import GeneratedFile, json_line, packs
from generator.render.forms import form_spec
from runtime.packs import RULES
from runtime.rules import rules_document, rules_hash

__all__ = ["render_rules"]


def _plain(value: Any) -> Any:
    """IR and spec dataclasses as plain JSON data (the catalog's values, which the runtime
    hashes; :func:`runtime.rules.form_document` of a form spec), written and read back by
    orjson in C: 0.05 s for 2,000 forms against form_document's 0.5 s."""
    return orjson.loads(orjson.dumps(value))


def current(pkg: PackageIR) -> dict[str, bytes]:
    """The documents of this package's (region, matter) pairs: hash -> compact JSON."""
    forms = {f.id: _plain(form_spec(f)) for f in pkg.forms}
    out: dict[str, bytes] = {}
    seen: set[int] = set()  # a matter a child region keeps is its parent's very object
    for region in pkg.regions:
        for matter in region.matters:
            if matter.form not in forms or id(matter) in seen:
                continue
            seen.add(id(matter))
            doc = rules_document(
                forms[matter.form], _plain(matter.materials), _plain(matter.promised)
            )
            out[rules_hash(doc)] = json_line(doc)
    return out


def render_rules(pkg: PackageIR, carried: dict[str, bytes]) -> list[GeneratedFile]:
    """The rules packs: the documents ``carried`` over from the previous package
    (:func:`generator.previous.read_previous` checked them; hash -> bytes) and this
    package's."""
    return packs(RULES, {**carried, **current(pkg)})
