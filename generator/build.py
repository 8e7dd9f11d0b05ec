"""Build the intermediate model of one region's deployment from a checked, resolved tree."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from generator import ir
from generator.bundles import combine
from generator.checks.elements import element_constraints
from generator.diagnostics import Location
from generator.kinds import Bundle, CodeSet, DataElement, Field, Form, Matter, Section, Workflow
from generator.resolve import ResolvedRegion
from generator.tree import StandardsTree


@lru_cache(maxsize=16)
def _prefixes(roots: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(Path(root).as_posix().rstrip("/") + "/" for root in roots)


def _source(tree: StandardsTree, where: Location) -> str:
    """``file:line:col`` relative to the tree's root, so output never depends on the cwd."""
    for prefix in _prefixes(tuple(tree.roots)):
        if where.file.startswith(prefix):
            return f"{where.file[len(prefix) :]}:{where.line}:{where.column}"
    return str(where)


def _join(*conditions: str | None) -> str | None:
    present = [c for c in conditions if c]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return " && ".join(f"({c})" for c in present)


def _codes(tree: StandardsTree, element: DataElement, field: Field) -> tuple[str, ...] | None:
    if element.type != "code" or element.codeset is None:
        return None
    codeset = tree.codesets[element.codeset]
    allowed = [v.code for v in codeset.all_values() if not v.deprecated]
    if field.choices is not None:
        allowed = [c for c in allowed if c in field.choices]
    return tuple(allowed)


def _field_renamed_from(field: Field, element: DataElement) -> tuple[str, ...]:
    """Earlier ids of a field: its own, and its element's when the field id is the element id
    (renaming an element renames the column of every field named after it)."""
    earlier = list(field.renamed_from)
    if field.id is None:
        earlier += [old for old in element.renamed_from if old not in earlier]
    return tuple(earlier)


def build_field(tree: StandardsTree, field: Field, section_when: str | None) -> ir.FieldIR:
    element = tree.elements[field.element]
    base = element_constraints(element)
    fmt = base.format
    patterns = base.patterns + ((field.pattern,) if field.pattern else ())
    return ir.FieldIR(
        id=field.field_id,
        element=element.id,
        label=dict(field.label or element.name),
        type=element.type,
        required=field.required,
        when=_join(section_when, field.when),
        multiple=element.multiple,
        codeset=element.codeset,
        codes=_codes(tree, element, field),
        min_length=field.min_length if field.min_length is not None else base.min_length,
        max_length=field.max_length if field.max_length is not None else base.max_length,
        patterns=patterns,
        minimum=field.minimum if field.minimum is not None else base.minimum,
        maximum=field.maximum if field.maximum is not None else base.maximum,
        digits=fmt.max_length if fmt and element.type == "decimal" else None,
        fraction_digits=fmt.fraction_digits if fmt and element.type == "decimal" else None,
        check=element.check,
        sensitive=element.sensitive,
        unit=dict(element.unit) if element.unit else None,
        prefill=field.prefill,
        help=dict(field.help) if field.help else None,
        renamed_from=_field_renamed_from(field, element),
        source=_source(tree, field.at()),
    )


def build_group(tree: StandardsTree, section: Section) -> ir.GroupIR:
    assert section.repeat is not None
    return ir.GroupIR(
        id=section.id,
        name=dict(section.name),
        min=section.repeat.min,
        max=section.repeat.max,
        when=section.when,
        fields=tuple(build_field(tree, f, None) for f in section.fields),
        renamed_from=tuple(section.renamed_from),
        source=_source(tree, section.at()),
    )


def build_form(tree: StandardsTree, form: Form) -> ir.FormIR:
    fields = [
        build_field(tree, f, s.when) for s in form.sections if s.repeat is None for f in s.fields
    ]
    return ir.FormIR(
        id=form.id,
        name=dict(form.name),
        version=form.version,
        fields=tuple(fields),
        groups=tuple(build_group(tree, s) for s in form.sections if s.repeat is not None),
        sections=tuple(
            ir.SectionIR(
                id=s.id,
                name=dict(s.name),
                fields=tuple(f.field_id for f in s.fields),
                group=s.repeat is not None,
            )
            for s in form.sections
        ),
        rules=tuple(ir.RuleIR(r.id, r.assert_, dict(r.message)) for r in form.rules),
        renamed_from=tuple(form.renamed_from),
        source=_source(tree, form.at()),
    )


def build_matter(matter: Matter) -> ir.MatterIR:
    legal = matter.time_limit.legal
    promised = matter.time_limit.promised
    return ir.MatterIR(
        id=matter.id,
        name=dict(matter.name),
        type=matter.type,
        form=matter.form,
        workflow=matter.workflow,
        case_type=matter.case_type,
        promised=ir.LimitIR(promised.value, promised.unit),
        legal=ir.LimitIR(legal.value, legal.unit) if legal else None,
        service_objects=tuple(matter.service_objects),
        materials=tuple(
            ir.MaterialIR(
                id=m.id,
                name=dict(m.name),
                necessity=m.necessity,
                source=m.source,
                medium=m.medium,
                copies=m.copies,
                accept=tuple(m.accept),
                max_size_mb=m.max_size_mb,
                when=m.when,
                type=m.type,
                notes=dict(m.notes) if m.notes else None,
            )
            for m in matter.materials
        ),
        guide=matter.model_dump(mode="json", by_alias=True, exclude_none=True),
        version=matter.version,
    )


def build_workflow(workflow: Workflow) -> ir.WorkflowIR:
    return ir.WorkflowIR(
        id=workflow.id,
        name=dict(workflow.name),
        initial=workflow.initial,
        warn_before=workflow.warn_before,
        states=tuple(ir.StateIR(s.id, dict(s.name), s.clock, s.final) for s in workflow.states),
        transitions=tuple(
            ir.TransitionIR(
                id=t.id,
                name=dict(t.name or {"zh": t.id}),
                sources=tuple(t.sources),
                to=t.to,
                by=t.by,
                reason=t.reason,
                not_same_as=t.not_same_as,
            )
            for t in workflow.transitions
        ),
    )


def build_codeset(codeset: CodeSet) -> ir.CodeSetIR:
    return ir.CodeSetIR(
        id=codeset.id,
        name=dict(codeset.name),
        values=tuple(
            ir.CodeIR(v.code, dict(v.name), v.parent, v.deprecated) for v in codeset.all_values()
        ),
    )


def build_bundle(tree: StandardsTree, bundle: Bundle) -> ir.BundleIR:
    """A bundle with its combined form, derived from its members' forms as defined in the
    tree (a region offers the bundle only where its members keep these forms)."""
    members = [(m, build_form(tree, tree.forms[tree.matters[m].form])) for m in bundle.matters]
    combined = combine(bundle.id, dict(bundle.name), members)
    return ir.BundleIR(
        id=bundle.id,
        name=dict(bundle.name),
        matters=tuple(bundle.matters),
        description=dict(bundle.description) if bundle.description else None,
        form=combined.form,
        shares=combined.shares,
    )


def build_element(element: DataElement) -> ir.ElementIR:
    return ir.ElementIR(
        id=element.id,
        name=dict(element.name),
        type=element.type,
        sensitive=element.sensitive,
        share=element.share or "conditional",
        identifier=element.identifier,
        check=element.check,
    )


def subtree(tree: StandardsTree, region_id: str) -> list[str]:
    """The region and every region below it, parents before children, ids sorted."""
    result = [region_id]
    for current in result:
        result.extend(sorted(r.id for r in tree.regions.values() if r.parent == current))
    return result


def build_package(
    tree: StandardsTree, resolved: dict[str, ResolvedRegion], region_id: str
) -> ir.PackageIR:
    region_ids = subtree(tree, region_id)
    regions = [resolved[r] for r in region_ids]
    matters = [m for r in regions for m in r.matters.values()]
    form_ids = sorted({m.form for m in matters} | {p.profile for r in regions for p in r.policies})
    forms = [tree.forms[f] for f in form_ids]
    codeset_ids = {"matter_type", "service_object"} & set(tree.codesets)
    element_ids: set[str] = set()
    for form in forms:
        for section in form.sections:
            for field in section.fields:
                element_ids.add(field.element)
                codeset = tree.elements[field.element].codeset
                if codeset:
                    codeset_ids.add(codeset)
    calendar_ids = sorted({r.calendar.id for r in regions if r.calendar})
    # A region below another keeps most of its matters as they are (the very objects):
    # one MatterIR for each, shared by the regions (the IR is immutable). For a province
    # with one city that halves the matters' part of the model (their guides mostly).
    built: dict[int, ir.MatterIR] = {}

    def matter_ir(matter: Matter) -> ir.MatterIR:
        found = built.get(id(matter))
        if found is None:
            found = built[id(matter)] = build_matter(matter)
        return found

    policies = {p.id: p for r in regions for p in r.policies}
    bundles = {b.id: b for r in regions for b in r.bundles}
    return ir.PackageIR(
        region=region_id,
        regions=tuple(
            ir.RegionIR(
                id=r.region.id,
                code=r.region.code,
                name=dict(r.region.name),
                parent=r.region.parent,
                calendar=r.calendar.id if r.calendar else None,
                matters=tuple(matter_ir(m) for _, m in sorted(r.matters.items())),
            )
            for r in regions
        ),
        forms=tuple(build_form(tree, f) for f in forms),
        workflows=tuple(
            build_workflow(tree.workflows[w]) for w in sorted({m.workflow for m in matters})
        ),
        codesets=tuple(build_codeset(tree.codesets[c]) for c in sorted(codeset_ids)),
        calendars=tuple(
            ir.CalendarIR(
                id=c.id,
                weekend=tuple(c.weekend),
                holidays=tuple(d.isoformat() for d in c.holidays),
                workdays=tuple(d.isoformat() for d in c.workdays),
            )
            for c in (tree.calendars[i] for i in calendar_ids)
        ),
        policies=tuple(
            ir.PolicyIR(
                id=p.id,
                name=dict(p.name),
                issuer=dict(p.issuer),
                regions=tuple(p.regions),
                valid_from=p.valid.from_.isoformat() if p.valid and p.valid.from_ else None,
                valid_to=p.valid.to.isoformat() if p.valid and p.valid.to else None,
                audience=tuple(p.audience),
                profile=p.profile,
                eligible=p.eligible,
                benefit=dict(p.benefit),
                apply=p.apply,
                description=dict(p.description) if p.description else None,
            )
            for _, p in sorted(policies.items())
        ),
        bundles=tuple(build_bundle(tree, b) for _, b in sorted(bundles.items())),
        source_hash=tree.source_hash,
        elements=tuple(build_element(tree.elements[e]) for e in sorted(element_ids)),
    )
