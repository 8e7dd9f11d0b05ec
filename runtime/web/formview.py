"""A form as a page shows it, and a posted page form as the API's ``data``.

:func:`form_sections` turns a :class:`~runtime.formspec.FormSpec` plus the values
entered so far, the errors and the conditions' verdict
(:func:`runtime.validation.conditions`) into what the template draws: sections in
order, each field with its label, help, input kind, choices by name, value and error;
repeating groups as rows. :func:`posted_data` reads a posted form back into the JSON
``data`` the API takes, so the page and the API validate the same thing with the same
code.

Input names follow the API's error paths: ``citizen_id_number`` and
``members[0].citizen_id_number``; a group's number of rows travels in ``members.rows``.
Material files are ``material.<id>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.datastructures import FormData

from runtime.formspec import FieldSpec, FormSpec, GroupSpec, localized
from runtime.package import Package
from runtime.uploads import DEFAULT_ACCEPT
from runtime.validation import Conditions
from runtime.web.i18n import TEXT, text

SELECT_FROM: Final = 6  # code lists this long or longer are a <select>, shorter ones radios
MAX_ROWS_SHOWN: Final = 50
_INTEGER: Final = re.compile(r"[+-]?[0-9]{1,19}")


def dom_id(path: str) -> str:
    """The HTML id of the input for an error path (``members[0].x`` -> ``f-members-0-x``)."""
    return "f-" + re.sub(r"[\[\].]+", "-", path).strip("-")


@dataclass
class Choice:
    code: str
    name: str


@dataclass
class FieldView:
    path: str  # the input's name and the API's error path
    spec: FieldSpec
    label: str
    help: str
    kind: str  # text | textarea | date | datetime | select | radio | checkboxes | yesno
    value: Any
    required: bool
    conditional_required: bool
    hidden: bool
    error: str | None
    choices: list[Choice] = field(default_factory=list)
    input_type: str = "text"
    inputmode: str | None = None
    autocomplete: str = "off"

    @property
    def id(self) -> str:
        return dom_id(self.path)

    @property
    def when(self) -> str | None:
        """The ``data-when`` key when a condition may hide the field, else ``None``."""
        return self.path if self.spec.when else None


@dataclass
class GroupView:
    spec: GroupSpec
    name: str
    rows: list[list[FieldView]]
    hidden: bool
    error: str | None

    @property
    def can_add(self) -> bool:
        return len(self.rows) < min(self.spec.max, MAX_ROWS_SHOWN)

    @property
    def can_remove(self) -> bool:
        return len(self.rows) > self.spec.min

    @property
    def id(self) -> str:
        return dom_id(self.spec.id)


@dataclass
class SectionView:
    id: str
    name: str
    fields: list[FieldView]
    group: GroupView | None = None


@dataclass
class MaterialView:
    id: str
    name: str
    notes: str
    necessity: str
    government: bool
    accept: list[str]
    max_mb: int
    hidden: bool
    conditional: bool
    error: str | None
    uploaded: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return f"material.{self.id}"

    @property
    def dom(self) -> str:
        return dom_id(self.path)


def _choices(pkg: Package, spec: FieldSpec, lng: str) -> list[Choice]:
    values = pkg.codesets.get(spec.codeset or "", {}).get("values", [])
    names = {v.get("code"): localized(v.get("name"), lng) for v in values}
    if spec.codes is not None:
        codes = list(spec.codes)
    else:
        codes = [v["code"] for v in values if not v.get("deprecated")]
    return [Choice(code, names.get(code) or code) for code in codes]


def _kind(spec: FieldSpec, choices: list[Choice]) -> str:
    if spec.type == "code":
        if spec.multiple:
            return "checkboxes"
        return "select" if len(choices) >= SELECT_FROM else "radio"
    return {"boolean": "yesno", "text": "textarea", "date": "date", "datetime": "datetime"}.get(
        spec.type, "text"
    )


def _input_attrs(spec: FieldSpec) -> tuple[str, str | None, str]:
    """(type, inputmode, autocomplete) of a one-line input."""
    if spec.check == "mobile_cn":
        return "tel", "numeric", "tel"
    if spec.check == "email":
        return "email", "email", "email"
    if spec.check == "postal_code_cn":
        return "text", "numeric", "postal-code"
    if spec.type == "integer":
        return "text", "numeric", "off"
    if spec.type == "decimal":
        return "text", "decimal", "off"
    return "text", None, "off"


def _display(value: Any) -> Any:
    """A stored or posted value as an input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _field_view(
    pkg: Package,
    spec: FieldSpec,
    path: str,
    value: Any,
    errors: Mapping[str, str],
    verdict: Conditions,
    lng: str,
) -> FieldView:
    choices = _choices(pkg, spec, lng) if spec.type == "code" else []
    input_type, inputmode, autocomplete = _input_attrs(spec)
    help_text = localized(spec.help, lng) if spec.help else ""
    if spec.unit:
        help_text = help_text + text("p.paren", lng, x=spec.unit) if help_text else spec.unit
    return FieldView(
        path=path,
        spec=spec,
        label=localized(spec.label, lng),
        help=help_text,
        kind=_kind(spec, choices),
        value=_display(value),
        required=path in verdict.required,
        conditional_required=isinstance(spec.required, str),
        hidden=path in verdict.hidden,
        error=errors.get(path),
        choices=choices,
        input_type=input_type,
        inputmode=inputmode,
        autocomplete=autocomplete,
    )


def form_sections(
    pkg: Package,
    form: FormSpec,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    verdict: Conditions,
    lng: str,
) -> list[SectionView]:
    """The form's sections in order, ready to draw (see the module documentation)."""
    out: list[SectionView] = []
    for section in form.sections:
        name = localized(section.name, lng)
        if section.group:
            g = form.group_map[section.id]
            raw_rows = values.get(g.id)
            rows_data = raw_rows if isinstance(raw_rows, list) else []
            rows = [
                [
                    _field_view(
                        pkg,
                        f,
                        f"{g.id}[{i}].{f.id}",
                        row.get(f.id) if isinstance(row, Mapping) else None,
                        errors,
                        verdict,
                        lng,
                    )
                    for f in g.fields
                ]
                for i, row in enumerate(rows_data[:MAX_ROWS_SHOWN])
            ]
            group = GroupView(g, name, rows, g.id in verdict.hidden, errors.get(g.id))
            out.append(SectionView(section.id, name, [], group))
            continue
        fields = [
            _field_view(pkg, form.field_map[fid], fid, values.get(fid), errors, verdict, lng)
            for fid in section.fields
            if fid in form.field_map
        ]
        out.append(SectionView(section.id, name, fields))
    return out


def material_views(
    materials: list[dict[str, Any]],
    verdict: Conditions,
    errors: Mapping[str, str],
    lng: str,
    uploaded: Mapping[str, dict[str, Any]] | None = None,
) -> list[MaterialView]:
    """The matter's materials as the form lists them (government-sourced ones marked)."""
    return [
        MaterialView(
            id=m["id"],
            name=localized(m.get("name"), lng),
            notes=localized(m.get("notes"), lng),
            necessity=str(m.get("necessity") or "required"),
            government=m.get("source") == "government",
            accept=list(m.get("accept") or DEFAULT_ACCEPT),
            max_mb=int(m.get("max_size_mb") or 10),
            hidden=f"material.{m['id']}" in verdict.hidden,
            conditional=bool(m.get("when")),
            error=errors.get(f"material.{m['id']}"),
            uploaded=(uploaded or {}).get(m["id"]),
        )
        for m in materials
    ]


def material_conditions(materials: list[dict[str, Any]]) -> dict[str, str]:
    """Materials' ``when`` conditions, named as :func:`runtime.validation.conditions` takes
    them (``material.<id>``)."""
    return {f"material.{m['id']}": m["when"] for m in materials if m.get("when")}


def upload_limits(material: Mapping[str, Any], lng: str) -> str:
    """``可上传 PDF、JPG，单个文件不超过 10 MB``."""
    accept = list(material.get("accept") or DEFAULT_ACCEPT)
    names = [text(f"media.{a}", lng) if f"media.{a}" in TEXT else a for a in accept]
    return text(
        "upload.limits",
        lng,
        types=text("p.list", lng).join(names),
        size=material.get("max_size_mb") or 10,
    )


# --- posted forms -> data ------------------------------------------------------------


def _value(spec: FieldSpec, form: FormData, name: str) -> Any:
    """One field's posted value as the API's JSON would carry it (``None``: not answered)."""
    if spec.type == "code" and spec.multiple:
        items = [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]
        return items or None
    raw = form.get(name)
    if not isinstance(raw, str) or not raw.strip():
        return None
    if spec.type == "boolean":
        return {"true": True, "false": False}.get(raw.strip())
    if spec.type == "integer":
        cleaned = raw.strip()
        # not a whole number: kept as text, so validation says "must be an integer"
        return int(cleaned) if _INTEGER.fullmatch(cleaned) else cleaned
    return raw


def row_count(form: FormData, group: GroupSpec) -> int:
    raw = form.get(f"{group.id}.rows")
    count = int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) <= 3 else 0
    return min(count, group.max, MAX_ROWS_SHOWN)


def posted_data(spec: FormSpec, form: FormData) -> dict[str, Any]:
    """The API's ``data`` for a posted page form (unanswered fields left out)."""
    data: dict[str, Any] = {}
    for f in spec.fields:
        value = _value(f, form, f.id)
        if value is not None:
            data[f.id] = value
    for g in spec.groups:
        count = row_count(form, g)
        if count == 0:
            continue
        rows: list[dict[str, Any]] = []
        for i in range(count):
            row: dict[str, Any] = {}
            for f in g.fields:
                value = _value(f, form, f"{g.id}[{i}].{f.id}")
                if value is not None:
                    row[f.id] = value
            rows.append(row)
        data[g.id] = rows
    return data


def change_rows(
    form: FormSpec, data: dict[str, Any], action: str
) -> tuple[dict[str, Any], str | None]:
    """Add or remove a group's row; the id of the input to focus next."""
    verb, _, rest = action.partition(":")
    group_id, _, index = rest.partition(":")
    group = form.group_map.get(group_id)
    if group is None:
        return data, None
    rows = list(data.get(group.id) or [])
    focus = None
    if verb == "add" and len(rows) < min(group.max, MAX_ROWS_SHOWN):
        rows.append({})
        focus = dom_id(f"{group.id}[{len(rows) - 1}].{group.fields[0].id}")
    elif verb == "remove" and index.isdigit() and int(index) < len(rows):
        if len(rows) > group.min:
            del rows[int(index)]
        focus = dom_id(f"{group.id}-add")
    data = {**data, group.id: rows}
    if not rows:
        data.pop(group.id)
    return data, focus


def error_map(problems: list[tuple[str, str]]) -> dict[str, str]:
    """Error path -> message (the first message of each path)."""
    out: dict[str, str] = {}
    for path, msg in problems:
        out.setdefault(path, msg)
    return out
