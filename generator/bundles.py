"""A bundle's combined form (一件事一次办): its members' forms asked as one.

Pure: member forms (``FormIR``) in, :class:`Combined` out. Used by the bundle
check (which reports :attr:`Combined.conflicts` at their YAML locations) and by
the build (which puts the combined form and each member's share in the package).

Rules (docs/bundles.md):

- A data element asked by several members is asked once, under the key (field id)
  its first member gives it; every member's field for that element maps to it.
- Constraints combine to the narrowest: the larger minimum length and minimum,
  the smaller maximum length, maximum and digit counts, the codes every member
  allows, every member's patterns; required when any member requires it. A
  field asked under a condition by every member is asked when any condition holds.
- A contradiction (no code in common, min > max) is a conflict; so is one key
  given to two different elements, or to a field and a repeating group.
- Repeating groups with the same id are one group whose rows carry the union of
  the members' row fields (combined as above), at least the larger ``min`` and
  at most the smaller ``max`` rows.
- Sections keep the first member's order; a later member's section with the
  same id adds its new fields to it; a section with no new field is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.ir import FieldIR, FormIR, GroupIR, RuleIR, SectionIR, ShareIR, Text


@dataclass(frozen=True)
class Conflict:
    """Two members' fields that cannot be asked as one."""

    element: str
    key: str
    problem: str  # English
    problem_zh: str
    form: str  # the member form whose field made the contradiction
    field: str  # that field's id in its form
    earlier: tuple[tuple[str, str], ...]  # (form, field id) of the members before it


@dataclass
class Combined:
    form: FormIR
    shares: tuple[ShareIR, ...]
    conflicts: list[Conflict] = field(default_factory=list)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _needed(f: FieldIR) -> bool | str:
    """When ``f`` must be answered: its ``required`` where its ``when`` holds."""
    if f.required is False:
        return False
    if f.when is None or f.when == f.required:
        return f.required
    return f.when if f.required is True else f"({f.when}) && ({f.required})"


def _either(a: bool | str, b: bool | str) -> bool | str:
    if a is True or b is True:
        return True
    if a is False or b is False or a == b:
        return b if a is False else a
    return f"({a}) || ({b})"


def _narrow(a: FieldIR, b: FieldIR) -> tuple[FieldIR, tuple[str, str] | None]:
    """``a`` narrowed by ``b`` (same element), and a contradiction (en, zh) if there is one."""
    codes = a.codes
    if b.codes is not None:
        codes = b.codes if a.codes is None else tuple(c for c in a.codes if c in set(b.codes))
    when = None if a.when is None or b.when is None else a.when
    if when is not None and b.when != a.when:
        when = f"({a.when}) || ({b.when})"
    merged = dataclasses.replace(
        a,
        when=when,
        codes=codes,
        min_length=_int(_max(a.min_length, b.min_length)),
        max_length=_int(_min(a.max_length, b.max_length)),
        patterns=tuple(dict.fromkeys(a.patterns + b.patterns)),
        minimum=_max(a.minimum, b.minimum),
        maximum=_min(a.maximum, b.maximum),
        digits=_int(_min(a.digits, b.digits)),
        fraction_digits=_int(_min(a.fraction_digits, b.fraction_digits)),
        check=a.check or b.check,
        sensitive=a.sensitive or b.sensitive,
        prefill=a.prefill or b.prefill,
        help=a.help or b.help,
    )
    problem: tuple[str, str] | None = None
    low, high = merged.min_length, merged.max_length
    if codes is not None and not codes:
        problem = ("their choices have no code in common", "各表单的选项没有共同的代码")
    elif low is not None and high is not None and low > high:
        problem = (f"min_length {low} > max_length {high}",) * 2  # no words to translate
    elif (least := merged.minimum) is not None and (most := merged.maximum) is not None:
        problem = (f"minimum {least} > maximum {most}",) * 2 if least > most else None
    return merged, problem


class _Fields:
    """Fields combined by element, in the order first asked."""

    def __init__(self, where: str, conflicts: list[Conflict], taken: dict[str, str]) -> None:
        self.where = where
        self.by_element: dict[str, FieldIR] = {}
        self.asked_by: dict[str, list[tuple[str, str]]] = {}
        self.needed: dict[str, list[bool | str]] = {}
        self.conflicts = conflicts
        self.taken = taken  # combined key -> what uses it ("element:x" or "group:g")

    def add(self, form: str, f: FieldIR) -> str | None:
        """The combined key of ``f``; None when its key is another element's (a conflict)."""
        earlier = self.by_element.get(f.element)
        if earlier is None:
            owner = self.taken.get(f.id)
            if owner is not None and owner != f"{self.where}element:{f.element}":
                self.conflicts.append(
                    Conflict(
                        f.element,
                        f.id,
                        f"the key '{f.id}' is already used by {owner.split(':', 1)[0]} "
                        f"'{owner.split(':', 1)[1]}'",
                        f"键 '{f.id}' 已被 '{owner.split(':', 1)[1]}' 使用",
                        form,
                        f.id,
                        tuple(self.asked_by.get(owner.split(":", 1)[1], ())),
                    )
                )
                return None
            self.taken[f.id] = f"{self.where}element:{f.element}"
            self.by_element[f.element] = f
            self.asked_by[f.element] = [(form, f.id)]
            self.needed[f.element] = [_needed(f)]
            return f.id
        merged, problem = _narrow(earlier, f)
        if problem is not None:
            self.conflicts.append(
                Conflict(
                    f.element,
                    earlier.id,
                    problem[0],
                    problem[1],
                    form,
                    f.id,
                    tuple(self.asked_by[f.element]),
                )
            )
            merged = dataclasses.replace(merged, codes=earlier.codes)  # report once, go on
        self.by_element[f.element] = merged
        self.asked_by[f.element].append((form, f.id))
        self.needed[f.element].append(_needed(f))
        return earlier.id

    def fields(self) -> tuple[FieldIR, ...]:
        """The combined fields; required when any member needs an answer."""
        out = []
        for element, f in self.by_element.items():
            needs = self.needed[element]
            if len(needs) == 1:
                out.append(f)
                continue
            required: bool | str = False
            for need in dict.fromkeys(needs):
                required = _either(required, need)
            if required == f.when:
                required = True
            out.append(dataclasses.replace(f, required=required))
        return tuple(out)


def combine(bundle: str, name: Text, members: Sequence[tuple[str, FormIR]]) -> Combined:
    """The combined form of ``members`` (``(matter id, its form)``, in bundle order)."""
    conflicts: list[Conflict] = []
    taken: dict[str, str] = {}
    top = _Fields("", conflicts, taken)
    groups: dict[str, tuple[GroupIR, _Fields]] = {}
    sections: dict[str, tuple[Text, list[str], bool]] = {}
    rules: dict[tuple[str, str], RuleIR] = {}
    shares: list[ShareIR] = []
    for matter, form in members:
        field_keys: list[tuple[str, str]] = []
        group_keys: list[tuple[str, str]] = []
        new_keys: set[str] = set()
        for f in form.fields:
            known = set(taken)
            key = top.add(form.id, f)
            if key is not None:
                field_keys.append((f.id, key))
                if key not in known:
                    new_keys.add(key)
        for g in form.groups:
            owner = taken.get(g.id)
            if owner is not None and owner != f"group:{g.id}":
                conflicts.append(
                    Conflict(
                        "",
                        g.id,
                        f"the key '{g.id}' of a repeating group is already used by "
                        f"{owner.split(':', 1)[0]} '{owner.split(':', 1)[1]}'",
                        f"重复组的键 '{g.id}' 已被 '{owner.split(':', 1)[1]}' 使用",
                        form.id,
                        g.id,
                        (),
                    )
                )
                continue
            if owner is None:
                taken[g.id] = f"group:{g.id}"
                rows = _Fields(f"{g.id}.", conflicts, {})
                groups[g.id] = (g, rows)
                new_keys.add(g.id)
            else:
                first, rows = groups[g.id]
                low, high = max(first.min, g.min), min(first.max, g.max)
                when = None if first.when is None or g.when is None else first.when
                if when is not None and g.when != first.when:
                    when = f"({first.when}) || ({g.when})"
                if low > high:
                    text = f"min {low} > max {high}"
                    conflicts.append(Conflict("", g.id, text, text, form.id, g.id, ()))
                    low = high
                groups[g.id] = (dataclasses.replace(first, min=low, max=high, when=when), rows)
            for f in g.fields:
                rows.add(form.id, f)
            group_keys.append((g.id, g.id))
        keys = dict(field_keys)
        for s in form.sections:
            if s.group:  # a group's section: its rows' fields, filled in at the end
                if s.id in new_keys:
                    sections[s.id] = (s.name, [], True)
                continue
            mine = [keys[i] for i in s.fields if i in keys and keys[i] in new_keys]
            if s.id in sections and not sections[s.id][2]:
                sections[s.id][1].extend(k for k in mine if k not in sections[s.id][1])
            elif mine:
                sections[s.id if s.id not in sections else f"{form.id}.{s.id}"] = (
                    s.name,
                    mine,
                    False,
                )
        for r in form.rules:
            rules.setdefault((form.id, r.id), r)
        shares.append(ShareIR(matter, form.id, tuple(field_keys), tuple(group_keys)))
    combined_groups = tuple(
        dataclasses.replace(g, fields=rows.fields()) for g, rows in groups.values()
    )
    form = FormIR(
        id=bundle,
        name=dict(name),
        version=None,
        fields=top.fields(),
        groups=combined_groups,
        sections=tuple(
            SectionIR(
                sid,
                dict(text),
                tuple(f.id for f in groups[sid][1].fields()) if group else tuple(keys),
                group,
            )
            for sid, (text, keys, group) in sections.items()
        ),
        rules=tuple(rules.values()),
    )
    return Combined(form, tuple(shares), conflicts)
