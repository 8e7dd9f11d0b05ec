"""The data resource catalogue (数据底账) as the runtime serves it.

The generator decides it (generator/catalogue.py) and writes it into the package's
``resources.json``: one resource per form and region that offers it, with its provider
agency and items. Here it is read once per package, on first use
(``Package.data_catalogue``), and shown:
``GET /api/catalogue?region=R`` (:func:`resource_view`), ``GET
/api/catalogue/elements/{element}`` (:func:`element_view`), the catalogue page, and the
governed sharing of :mod:`runtime.sharing`, which asks which items a resource has and
where each is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from runtime import answers
from runtime.formspec import Text, localized

SHARE_NAMES: dict[str, Text] = {
    "unconditional": {"zh": "无条件共享", "en": "unconditional"},
    "conditional": {"zh": "有条件共享", "en": "conditional"},
    "none": {"zh": "不予共享", "en": "not shared"},
}
CYCLE_NAMES: dict[str, Text] = {
    "realtime": {"zh": "实时（随每件申请更新）", "en": "real time (every filing)"},
}


@dataclass(frozen=True)
class Item:
    """One data element of a resource."""

    element: str
    name: Text
    type: str
    sensitive: bool
    share_type: answers.ShareType
    update_cycle: answers.UpdateCycle
    identifier: str | None
    fields: tuple[str, ...]  # where it is stored: ``field`` or ``group[].field``


@dataclass(frozen=True)
class Resource:
    """A data resource: one form as one region collects it."""

    id: str  # the form id
    region: str
    name: Text
    provider: Text
    provider_code: str | None
    matters: tuple[tuple[str, Text], ...]
    items: tuple[Item, ...]

    @cached_property
    def item_map(self) -> dict[str, Item]:
        return {i.element: i for i in self.items}


@dataclass(frozen=True)
class Catalogue:
    resources: tuple[Resource, ...]

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Resource]:
        return {(r.region, r.id): r for r in self.resources}

    def resource(self, region: str, form: str) -> Resource | None:
        return self._by_key.get((region, form))

    def in_region(self, region: str) -> list[Resource]:
        return [r for r in self.resources if r.region == region]

    @cached_property
    def elements(self) -> dict[str, list[tuple[Resource, Item]]]:
        """Element id -> every (resource, item) collecting it, in catalogue order."""
        out: dict[str, list[tuple[Resource, Item]]] = {}
        for r in self.resources:
            for item in r.items:
                out.setdefault(item.element, []).append((r, item))
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalogue:
        """From ``resources.json``: ``resources`` and ``items`` (form id -> its items).

        An item collected by many forms (a province's forms share its data dictionary) is
        one object: 10,000 forms' 120,000 items are a few hundred distinct ones."""
        interned: dict[tuple[Any, ...], Item] = {}

        def item(i: Mapping[str, Any]) -> Item:
            made = Item(
                element=i["element"],
                name=i["name"],
                type=i["type"],
                sensitive=bool(i["sensitive"]),
                share_type=i["share_type"],
                update_cycle=i["update_cycle"],
                identifier=i.get("identifier"),
                fields=tuple(i["fields"]),
            )
            key = (*(getattr(made, k) for k in _ITEM_KEYS), tuple(sorted(made.name.items())))
            return interned.setdefault(key, made)

        by_form = {form: tuple(item(i) for i in items) for form, items in data["items"].items()}
        return cls(
            tuple(
                Resource(
                    id=r["id"],
                    region=r["region"],
                    name=r["name"],
                    provider=r["provider"].get("name") or {},
                    provider_code=r["provider"].get("code"),
                    matters=tuple((m["id"], m["name"]) for m in r.get("matters", ())),
                    items=by_form.get(r["id"], ()),
                )
                for r in data["resources"]
            )
        )


_ITEM_KEYS = ("element", "type", "sensitive", "share_type", "update_cycle", "identifier", "fields")


def item_view(item: Item, lng: str) -> answers.CatalogueItem:
    return {
        "element": item.element,
        "name": localized(item.name, lng),
        "identifier": item.identifier,
        "type": item.type,
        "sensitive": item.sensitive,
        "share_type": item.share_type,
        "share_type_name": localized(SHARE_NAMES[item.share_type], lng),
        "update_cycle": item.update_cycle,
        "update_cycle_name": localized(CYCLE_NAMES.get(item.update_cycle), lng)
        or item.update_cycle,
    }


def resource_view(r: Resource, lng: str) -> answers.Resource:
    return {
        "id": r.id,
        "region": r.region,
        "name": localized(r.name, lng),
        "provider": localized(r.provider, lng),
        "provider_code": r.provider_code,
        "matters": [{"id": m, "name": localized(name, lng)} for m, name in r.matters],
        "items": [item_view(i, lng) for i in r.items],
    }


def matches(r: Resource, q: str) -> bool:
    """Whether a search text (lower case) occurs in the resource's name, provider, matters
    or items (ids and names in every language)."""
    texts = [r.id, *r.name.values(), *r.provider.values()]
    for matter, name in r.matters:
        texts += [matter, *name.values()]
    for i in r.items:
        texts += [i.element, *i.name.values()]
    return any(q in t.lower() for t in texts)


def element_view(cat: Catalogue, element: str, lng: str) -> answers.ElementUse | None:
    """Where an element is collected: forms, matters, regions, provider agencies."""
    uses = cat.elements.get(element)
    if not uses:
        return None
    _, first = uses[0]
    forms: dict[str, str] = {}
    matters: dict[str, str] = {}
    providers: dict[str, dict[str, Any]] = {}
    for r, _item in uses:
        forms.setdefault(r.id, localized(r.name, lng))
        for m, matter_name in r.matters:
            matters.setdefault(m, localized(matter_name, lng))
        provider = localized(r.provider, lng)
        providers.setdefault(provider, {"name": provider, "code": r.provider_code})
    return {
        **item_view(first, lng),
        "forms": [{"id": k, "name": v} for k, v in forms.items()],
        "matters": [{"id": k, "name": v} for k, v in matters.items()],
        "regions": sorted({r.region for r, _ in uses}),
        "providers": list(providers.values()),
        "resources": [{"id": r.id, "region": r.region} for r, _ in uses],
    }
