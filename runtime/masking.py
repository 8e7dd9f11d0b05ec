"""Masking a submission's sensitive values for staff views (``identifiers.mask`` on each)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.formspec import FormSpec
from runtime.identifiers import mask


def mask_value(value: Any) -> Any:
    """A masked copy: text keeps its length with ``*``; lists are masked item by item."""
    if value is None:
        return None
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, bool):
        return "*"
    return mask(str(value))


def sensitive_paths(form: FormSpec) -> list[str]:
    """``field`` and ``group[].field`` paths of the form's sensitive fields."""
    paths = [f.id for f in form.fields if f.sensitive]
    for group in form.groups:
        paths.extend(f"{group.id}[].{f.id}" for f in group.fields if f.sensitive)
    return paths


def mask_data(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with every sensitive field (also in repeating groups) masked."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        spec = form.field_map.get(key)
        group = form.group_map.get(key)
        if spec is not None and spec.sensitive:
            out[key] = mask_value(value)
        elif group is not None and isinstance(value, list):
            out[key] = [
                {
                    k: mask_value(v) if k in group.field_map and group.field_map[k].sensitive else v
                    for k, v in row.items()
                }
                for row in value
                if isinstance(row, Mapping)
            ]
        else:
            out[key] = value
    return out
