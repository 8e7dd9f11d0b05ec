"""The standards core against broken trees: each case is one small edit of the valid
fixture ``tests/fixtures/mini``, and must fail with exit code 1, a clear message and the
exact ``file:line:col`` of the offending YAML node.

Every case copies the fixture to ``tmp_path/mini``, applies its edits (a text replacement
that must match exactly once, or a new file) and runs ``govstd validate mini`` in-process
from ``tmp_path``, so locations read ``mini/<file>:<line>:<col>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    TREE,
    Edit,
    add,
    assert_reported,
    diagnostic_lines,
    govstd,
    make_tree,
    replace,
    run,
    validate,
)

ROOT = TREE


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[Edit, ...]
    where: str  # file:line:col below the fixture root
    message: str  # the exact message, or a distinctive part of it
    severity: str = "error"
    alone: bool = True  # the only problem reported (no knock-on errors elsewhere)


# ---------------------------------------------------------------------------------------
# The broken trees
# ---------------------------------------------------------------------------------------

IBR = "matters/ibr.yaml"
FOOD = "matters/food.yaml"
FORM = "forms/ibr_form.yaml"
FLOW = "workflows/licensing.yaml"
CSV = "codesets/admin_division.csv"
BUNDLE = "bundles/open_shop.yaml"
CAL = "calendars/cn_2026.yaml"
CAPITAL = 'assert: "registered_capital > 0.0"'

BROKEN = [
    # data sharing (the catalogue's share type)
    Case(
        "a sensitive element shared unconditionally",
        (
            replace(
                "elements/person.yaml", "check: gb11643\n", "check: gb11643\nshare: unconditional\n"
            ),
        ),
        "elements/person.yaml:15:8",
        "sensitive element 'citizen_id_number' cannot be shared unconditionally",
    ),
    Case(
        "an unknown share type",
        (replace("elements/person.yaml", "check: gb11643\n", "check: gb11643\nshare: public\n"),),
        "elements/person.yaml:15:8",
        "unconditional",
    ),
    # references
    Case(
        "unknown form reference",
        (replace(IBR, "form: ibr_form", "form: ibr_from"),),
        f"{IBR}:17:7",
        "form 'ibr_from' is not defined; did you mean 'ibr_form'? (known forms: "
        "enterprise_profile, food_form, ibr_form)",
    ),
    Case(
        "unknown element in a form",
        (replace(FORM, "- element: business_scope", "- element: busines_scope"),),
        f"{FORM}:24:18",
        "data element 'busines_scope' is not defined; did you mean 'business_scope'?",
    ),
    Case(
        "duplicate id across two files names both",
        (add("elements/extra.yaml", "kind: DataElement\nid: sex\nname: 性别\ntype: string\n"),),
        "elements/person.yaml:18:5",
        "duplicate DataElement id 'sex': already defined at mini/elements/extra.yaml:2:5",
        alone=False,
    ),
    Case(
        "retired element referenced",
        (replace("elements/person.yaml", "codeset: sex\n", "codeset: sex\nstatus: retired\n"),),
        f"{FORM}:16:18",
        "data element 'sex' is retired (mini/elements/person.yaml:22:9); use another",
        alone=False,
    ),
    Case(
        "unknown prefill source",
        (replace(FORM, "prefill: identity.name", "prefill: identity.nam"),),
        f"{FORM}:10:18",
        "unknown prefill source 'identity.nam' (known: identity.email,",
    ),
    # YAML and scalars
    Case(
        "duplicate key in a mapping",
        (replace(IBR, "visits: 0\n", "visits: 0\nvisits: 1\n"),),
        f"{IBR}:16:1",
        "duplicate key 'visits' (first at mini/matters/ibr.yaml:15:1); YAML would silently "
        "keep only the last one",
    ),
    Case(
        "unquoted code 010",
        (replace("codesets/service.yaml", '{code: "01", name', "{code: 010, name"),),
        "codesets/service.yaml:7:12",
        "'code' is text but 010 is read as a number; quote it (\"010\") to keep it exactly "
        "as written",
    ),
    Case(
        "unquoted matter type 01",
        (replace(IBR, 'type: "01"', "type: 01"),),
        f"{IBR}:5:7",
        "'type' is text but 01 is read as a number; quote it (\"01\")",
    ),
    Case(
        "unquoted version 1.0",
        (replace(IBR, 'version: "1.0"', "version: 1.0"),),
        f"{IBR}:4:10",
        "'version' is text but 1.0 is read as a number; quote it (\"1.0\")",
    ),
    Case(
        "unquoted phone number",
        (replace(IBR, 'complaint_phone: "12345"', "complaint_phone: 12345"),),
        f"{IBR}:34:52",
        "'complaint_phone' is text but 12345 is read as a number; quote it (\"12345\")",
    ),
    Case(
        "plain no where a boolean is expected",
        (replace(IBR, "fee: {charged: false}", "fee: {charged: no}"),),
        f"{IBR}:14:16",
        "'charged' must be true or false, not no (YAML 1.2 reads yes/no/on/off as text)",
    ),
    Case(
        "plain yes where a boolean is expected, in a flow mapping",
        (replace(FLOW, "en: Approved}, final: true}", "en: Approved}, final: yes}"),),
        f"{FLOW}:12:59",
        "'final' must be true or false, not yes",
    ),
    Case(
        "plain no as 'required' is text, so an expression",
        (replace(FORM, "        required: false\n", "        required: no\n"),),
        f"{FORM}:36:19",
        "required: unknown name 'no' (known fields: agent_used,",
    ),
    Case(
        "integer given as 3.0",
        (replace(IBR, "legal: {value: 3,", "legal: {value: 3.0,"),),
        f"{IBR}:12:18",
        "'value': Input should be a valid integer (got 3.0)",
    ),
    Case(
        "impossible date in a list",
        (replace(CAL, "2026-02-18]", "2026-02-30]"),),
        f"{CAL}:5:48",
        "'holidays[3]': Input should be a valid date",
    ),
    Case(
        "unquoted comma in a flow mapping",
        (replace(BUNDLE, "name: {zh: 开小店一件事}", "name: {zh: 开小店, 一件事}"),),
        f"{BUNDLE}:3:20",
        "'一件事' has no value; in a {…} mapping a comma ends the entry, so quote text that "
        "has commas",
    ),
    Case(
        "YAML syntax error",
        (replace(CAL, "weekend: [sat, sun]", "weekend: [sat, sun"),),
        f"{CAL}:5:9",
        "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
        "started at 4:10)",
        alone=False,
    ),
    Case(
        "tab in indentation",
        (add("extra.yaml", "kind: Bundle\n\tid: x\n"),),
        "extra.yaml:2:1",
        "YAML syntax error: found a tab character that violates indentation",
    ),
    Case(
        "control character",
        (add("extra.yaml", "kind: Bundle\nid: x\nname: 中文\x07\n"),),
        "extra.yaml:3:9",
        "YAML error: control characters are not allowed (character #x0007)",
    ),
    Case(
        "file that is not UTF-8",
        (add("extra.yaml", b"kind: Bundle\nid: x\nname: \xff\n"),),
        "extra.yaml:3:1",
        "file is not UTF-8 text",
    ),
    Case(
        "document that is a list",
        (add("extra.yaml", "- kind: Bundle\n- id: x\n"),),
        "extra.yaml:1:1",
        "a document must be a mapping with 'kind:' and 'id:'",
    ),
    Case(
        "merge key",
        (add("extra.yaml", "kind: Bundle\nid: x\nname: y\nmatters: [ibr, food]\n<<: {a: 1}\n"),),
        "extra.yaml:5:1",
        "merge keys ('<<') are not supported; write the keys out",
    ),
    # document structure
    Case(
        "unknown kind",
        (replace(BUNDLE, "kind: Bundle", "kind: Bundel"),),
        f"{BUNDLE}:1:7",
        "unknown kind 'Bundel'; expected one of: CodeSet, DataElement, Form,",
    ),
    Case(
        "missing kind",
        (add("extra.yaml", "id: x\nname: y\n"),),
        "extra.yaml:1:1",
        "missing required key 'kind' (one of: CodeSet,",
    ),
    Case(
        "missing required key",
        (replace(BUNDLE, "name: {zh: 开小店一件事}\n", ""),),
        f"{BUNDLE}:1:1",
        "missing required key 'name'",
    ),
    Case(
        "unknown key with a suggestion",
        (replace(IBR, "channels: [online, window]", "chanels: [online, window]"),),
        f"{IBR}:16:1",
        "unknown key 'chanels'; did you mean 'channels'? (allowed keys: agency,",
    ),
    Case(
        "invalid id pattern",
        (replace(BUNDLE, "id: open_shop", "id: Open-Shop"),),
        f"{BUNDLE}:2:5",
        "'Open-Shop' is not a valid id for 'id': use lower-case letters, digits and '_'",
    ),
    Case(
        "localized text without zh",
        (replace(BUNDLE, "name: {zh: 开小店一件事}", "name: {en: Shop}"),),
        f"{BUNDLE}:3:7",
        "'name': localized text needs a 'zh' entry",
    ),
    # code sets and values files
    Case(
        "duplicate code in a code set",
        (replace("codesets/person.yaml", '{code: "9", name', '{code: "2", name'),),
        "codesets/person.yaml:9:5",
        "duplicate code '2' in code set 'sex' (first at mini/codesets/person.yaml:8:5)",
    ),
    Case(
        "values_file row without a name",
        (replace(CSV, "440300,深圳市,Shenzhen,440000", "440300,,Shenzhen,440000"),),
        f"{CSV}:3:1",
        "row needs a code and a zh name",
        alone=False,
    ),
    Case(
        "values_file row with a missing column",
        (replace(CSV, "440305,南山区,Nanshan,440300", "440305,南山区,Nanshan"),),
        f"{CSV}:4:1",
        "row has 3 columns; expected 4: code,zh,en,parent",
        alone=False,
    ),
    Case(
        "values_file duplicate code",
        (replace(CSV, "440305,南山区", "440300,南山区"),),
        f"{CSV}:4:1",
        "duplicate code '440300' in code set 'admin_division' (first at "
        "mini/codesets/admin_division.csv:3:1)",
        alone=False,
    ),
    Case(
        "values_file with a bad header",
        (replace(CSV, "code,zh,en,parent", "code,name,en,parent"),),
        f"{CSV}:1:1",
        "values_file header must be code,zh,en,parent (got code,name,en,parent)",
        alone=False,
    ),
    # data elements and forms
    Case(
        "bad GB/T 19488 format",
        (replace("elements/person.yaml", "format: c..50", "format: x..50"),),
        "elements/person.yaml:6:9",
        "'x..50' is not a GB/T 19488 format; expected e.g. an18, c..50",
    ),
    Case(
        "format conflicting with max_length",
        (replace("elements/person.yaml", "format: an18\n", "format: an18\nmax_length: 20\n"),),
        "elements/person.yaml:14:13",
        "max_length 20 conflicts with format an18 (at most 18 characters)",
    ),
    Case(
        "field widening its element's max_length",
        (replace(FORM, "max_length: 200", "max_length: 600"),),
        f"{FORM}:25:21",
        "field 'business_scope' widens element 'business_scope' "
        "(mini/elements/enterprise.yaml:15:1): max_length 600 > 500",
    ),
    Case(
        "choice not in the code set",
        (replace(FORM, 'choices: ["1", "2"]', 'choices: ["1", "7"]'),),
        f"{FORM}:17:24",
        "field 'sex' widens element 'sex': choice '7' is not a code of 'sex' (codes: 0, 1, 2, 9)",
    ),
    Case(
        "duplicate field id",
        (
            replace(
                FORM,
                "      - element: agent_used\n",
                "      - element: agent_used\n      - element: person_name\n",
            ),
        ),
        f"{FORM}:19:18",
        "duplicate field id 'person_name' (first at mini/forms/ibr_form.yaml:9:18); give one "
        "of them an explicit 'id'",
    ),
    Case(
        "repeat min above max",
        (replace(FORM, "repeat: {min: 0, max: 10}", "repeat: {min: 11, max: 10}"),),
        f"{FORM}:30:13",
        "repeat min 11 is above max 10",
    ),
    Case(
        "duplicate field id in a repeating group",
        (
            replace(
                FORM,
                "        required: false\n",
                "        required: false\n      - element: person_name\n",
            ),
        ),
        f"{FORM}:37:9",
        "duplicate field id in group 'members' 'person_name' (first at "
        "mini/forms/ibr_form.yaml:33:9)",
    ),
    Case(
        "unknown key in a list item, with a suggestion",
        (replace(FOOD, "    copies: 2\n", "    copys: 2\n"),),
        f"{FOOD}:26:5",
        "unknown key 'copys'; did you mean 'copies'? (allowed keys: accept, copies, id,",
    ),
    Case(
        "missing key in a list item",
        (replace(FOOD, "    name: {zh: 身份证明}\n", ""),),
        f"{FOOD}:21:5",
        "missing required key 'name'",
    ),
    Case(
        "unquoted code in a list",
        (replace(FOOD, 'service_objects: ["1", "2"]', 'service_objects: ["1", 2]'),),
        f"{FOOD}:5:24",
        "'service_objects[1]' is text but 2 is read as a number; quote it (\"2\")",
    ),
    # expressions
    Case(
        "bad CEL syntax",
        (replace(FORM, CAPITAL, 'assert: "registered_capital > "'),),
        f"{FORM}:39:35",
        "assert: syntax error at column 21: unexpected end of expression in "
        "`registered_capital > `",
    ),
    Case(
        "unknown name in CEL",
        (replace(IBR, 'when: "agent_used"', 'when: "agent_usd"'),),
        f"{IBR}:32:12",
        "when: unknown name 'agent_usd' (known fields: agent_used, business_scope,",
    ),
    Case(
        "unknown name in CEL after Chinese text, column counts characters",
        (replace(IBR, 'when: "agent_used"', "when: \"business_scope == '中文' && agent_usd\""),),
        f"{IBR}:32:38",
        "did you mean 'agent_used'?",
    ),
    Case(
        "int against double in CEL",
        (replace(FORM, CAPITAL, 'assert: "registered_capital > 0"'),),
        f"{FORM}:39:33",
        "assert: type error: `>` cannot be applied to (double, int) (CEL has no implicit "
        "int/double conversion",
    ),
    Case(
        "string against int in a section's when",
        (replace(FORM, "when: \"organization_form == '2'\"", 'when: "organization_form == 2"'),),
        f"{FORM}:31:30",
        "when: type error: `==` cannot be applied to (string, int)",
    ),
    Case(
        "expression in a folded block scalar is located at its start",
        (replace(FORM, CAPITAL, "assert: >-\n      registered_capital >\n      0"),),
        f"{FORM}:39:13",
        "type error: `>` cannot be applied to (double, int)",
    ),
    Case(
        "unknown name in the when of a repeating group's field",
        (
            replace(
                FORM,
                "        required: false\n",
                '        when: "size(person_name) > 1 && agent_usd"\n',
            ),
        ),
        f"{FORM}:36:41",
        "when: unknown name 'agent_usd'",
    ),
    Case(
        "wrong result type of an expression",
        (replace(FORM, "required: \"organization_form != '1'\"", 'required: "organization_form"'),),
        f"{FORM}:27:20",
        "required: the expression must be bool, but it is string in `organization_form`",
    ),
    # workflows
    Case(
        "unreachable state",
        (
            replace(
                FLOW,
                "{id: refuse, from: submitted, to: refused,",
                "{id: refuse, from: submitted, to: denied,",
            ),
        ),
        f"{FLOW}:14:10",
        "state 'refused' cannot be reached from 'submitted'",
    ),
    Case(
        "transition out of a final state",
        (
            replace(
                FLOW,
                "from: [submitted, supplement, accepted]",
                "from: [submitted, supplement, approved]",
            ),
        ),
        f"{FLOW}:25:50",
        "transition 'withdraw' leaves final state 'approved'",
    ),
    Case(
        "non-final state without a way out",
        (replace(FLOW, "{id: end_special, from: special,", "{id: end_special, from: supplement,"),),
        f"{FLOW}:11:10",
        "state 'special' is not final and has no way out",
    ),
    Case(
        "unknown role",
        (replace(FLOW, "by: approver, not_same_as: accept", "by: reviewer, not_same_as: accept"),),
        f"{FLOW}:23:53",
        "unknown role 'reviewer' (known: applicant, approver, officer; declare other staff "
        "roles under 'roles')",
    ),
    Case(
        "not_same_as an unknown transition",
        (replace(FLOW, "not_same_as: accept", "not_same_as: acept"),),
        f"{FLOW}:23:76",
        "not_same_as names unknown transition 'acept' (transitions: accept, approve,",
    ),
    # matters
    Case(
        "instant case with a promised limit above 0",
        (replace(IBR, "case_type: commitment", "case_type: instant"),),
        f"{IBR}:10:12",
        "case_type instant needs a promised limit of 0 (即办件 ⇔ 0), but it is 3 "
        "(mini/matters/ibr.yaml:13:21)",
        alone=False,
    ),
    Case(
        "visits 0 without an online channel",
        (replace(IBR, "channels: [online, window]", "channels: [window]"),),
        f"{IBR}:15:9",
        "visits: 0 needs an 'online' or 'mail' channel (channels: window)",
    ),
    Case(
        "charged without fee items",
        (replace(IBR, "fee: {charged: false}", "fee: {charged: true}"),),
        f"{IBR}:14:16",
        "charged: true needs fee 'items' with name, amount and basis",
    ),
    Case(
        "duplicate material id",
        (replace(FOOD, "  - id: site_plan", "  - id: id_proof"),),
        f"{FOOD}:23:9",
        "duplicate material id 'id_proof' (first at mini/matters/food.yaml:21:9)",
    ),
    # regions
    Case(
        "promised above legal after a region override, located in the region file",
        (replace("regions/b.yaml", "promised: {value: 1,", "promised: {value: 5,"),),
        "regions/b.yaml:8:36",
        "promised limit 5 working_day is above the legal limit 3 (mini/matters/ibr.yaml:12:18)"
        " (after the overrides of a → b)",
        alone=False,
    ),
    Case(
        "promised in another unit than legal after a region override",
        (replace("regions/b.yaml", "unit: working_day}}", "unit: calendar_day}}"),),
        "regions/b.yaml:8:45",
        "promised limit is in calendar_day but the legal limit (mini/matters/ibr.yaml:12:27) "
        "in working_day; use one unit (after the overrides of a → b)",
        alone=False,
    ),
    Case(
        "cyclic region parents",
        (replace("regions/a.yaml", "calendar: cn_2026", "parent: c\ncalendar: cn_2026"),),
        "regions/a.yaml:5:9",
        "region parents form a cycle: c → b → a → c",
        alone=False,
    ),
    Case(
        "unknown parent region",
        (replace("regions/c.yaml", "parent: b", "parent: bb"),),
        "regions/c.yaml:5:9",
        "parent region 'bb' is not defined; did you mean 'b'? (known regions: a, b, c)",
    ),
    Case(
        "override of a matter the region does not implement",
        (replace("regions/c.yaml", "include: [ibr, food]", "include: [ibr]"),),
        "regions/c.yaml:15:3",
        "override of matter 'food', which region 'c' does not implement (defined at "
        "mini/matters/food.yaml:1:1)",
    ),
    Case(
        "override of an unknown matter",
        (replace("regions/c.yaml", "  food:\n", "  fod:\n"),),
        "regions/c.yaml:15:3",
        "override of unknown matter 'fod' (known matters: food, ibr)",
    ),
    Case(
        "override key that is not an id",
        (replace("regions/a.yaml", "  ibr:\n", "  IBR:\n"),),
        "regions/a.yaml:9:3",
        "'IBR' is not a valid id for 'overrides'",
    ),
    Case(
        "override with an unknown key",
        (
            replace(
                "regions/a.yaml",
                "    agency: {name: {zh: 甲省市场监督管理局}}",
                "    chanels: [window]",
            ),
        ),
        "regions/a.yaml:11:5",
        "unknown key 'chanels'; did you mean 'channels'?",
        alone=False,
    ),
    Case(
        "include of a matter the parent does not implement",
        (replace("regions/b.yaml", "parent: a\n", "parent: a\nmatters: {include: [ibr]}\n"),),
        "regions/c.yaml:7:18",
        "region 'c' includes matter 'food', which its parent does not implement",
        alone=False,
    ),
    Case(
        "include of an unknown matter",
        (replace("regions/c.yaml", "include: [ibr, food]", "include: [ibr, fod]"),),
        "regions/c.yaml:7:18",
        "matter 'fod' is not defined; did you mean 'food'? (known matters: food, ibr)",
        alone=False,
    ),
    Case(
        "removing a material that does not exist names both files",
        (replace("regions/c.yaml", "remove: [residence_proof]", "remove: [residence_prof]"),),
        "regions/c.yaml:12:16",
        "cannot remove 'residence_prof' from 'ibr.materials': there is no such item "
        "(mini/matters/ibr.yaml:20:3; items: agent_authorization, id_proof, residence_proof)",
    ),
    Case(
        "adding a material that already exists names both files",
        (replace("regions/c.yaml", "{id: lease_contract,", "{id: id_proof,"),),
        "regions/c.yaml:14:11",
        "cannot add 'id_proof' to 'ibr.materials': it is already there "
        "(mini/matters/ibr.yaml:20:5)",
    ),
    Case(
        "patching a material that does not exist",
        (
            replace(
                "regions/c.yaml",
                "    time_limit: {promised: {value: 5, unit: working_day}}",
                "    materials: {site_plan: {copies: 3}, nothere: {copies: 1}}",
            ),
        ),
        "regions/c.yaml:16:41",
        "cannot change 'nothere' in 'food.materials': there is no such item "
        "(mini/matters/food.yaml:21:3; items: id_proof, site_plan;",
    ),
    Case(
        "no calendar in the region chain",
        (replace("regions/a.yaml", "calendar: cn_2026\n", ""),),
        "regions/a.yaml:1:1",
        "region 'a' has no calendar, nor has any ancestor (working days need one)",
        alone=False,
    ),
    # calendars, bundles, policies
    Case(
        "date both holiday and make-up working day",
        (replace(CAL, "workdays: [2026-02-14,", "workdays: [2026-02-16,"),),
        f"{CAL}:6:12",
        "2026-02-16 is both a holiday and a make-up working day",
    ),
    Case(
        "bundle whose member forms have disjoint choices",
        (
            replace(
                FORM,
                "- element: organization_form\n",
                '- element: organization_form\n        choices: ["3"]\n',
            ),
        ),
        "forms/food_form.yaml:10:9",
        "bundle 'open_shop' (mini/bundles/open_shop.yaml:2:5) asks element 'organization_form' "
        "once, but the forms contradict each other: their choices have no code in common; "
        "also asked by ibr_form (mini/forms/ibr_form.yaml:22:9)",
    ),
    Case(
        "bundle whose member forms' lengths contradict",
        (
            replace(
                "forms/food_form.yaml",
                "      - element: business_scope\n",
                "      - element: business_scope\n        min_length: 300\n",
            ),
        ),
        "forms/food_form.yaml:12:9",
        "bundle 'open_shop' (mini/bundles/open_shop.yaml:2:5) asks element 'business_scope' "
        "once, but the forms contradict each other: min_length 300 > max_length 200; "
        "also asked by ibr_form (mini/forms/ibr_form.yaml:24:9)",
    ),
    Case(
        "bundle asking two elements under one key",
        (
            replace(
                "forms/food_form.yaml",
                "      - element: business_scope\n",
                "      - element: business_scope\n"
                "      - element: established_days\n        id: registered_capital\n",
            ),
        ),
        "forms/food_form.yaml:13:9",
        "bundle 'open_shop' (mini/bundles/open_shop.yaml:2:5) asks element 'established_days' "
        "once, but the forms contradict each other: the key 'registered_capital' is already "
        "used by element 'registered_capital'; also asked by ibr_form (mini/forms/ibr_form.yaml",
    ),
    Case(
        "policy eligible naming a field its profile lacks",
        (replace("policies/startup.yaml", "established_days <= 1095", "founded_days <= 1095"),),
        "policies/startup.yaml:9:30",
        "eligible: unknown name 'founded_days' (known fields: employees, established_days, "
        "registered_capital)",
    ),
    Case(
        "two elements with one registry identifier name both",
        (
            add(
                "elements/extra.yaml",
                "kind: DataElement\nid: nickname\nidentifier: DE00001\nname: 昵称\ntype: string\n",
            ),
        ),
        "elements/person.yaml:3:13",
        "element 'person_name' has identifier 'DE00001', already used by element 'nickname' "
        "at mini/elements/extra.yaml:3:13",
    ),
    Case(
        "a pattern the linear-time engine cannot run",
        (
            replace(
                "elements/person.yaml",
                "identifier: DE00001\n",
                'identifier: DE00001\npattern: "(?!admin).*"\n',
            ),
        ),
        "elements/person.yaml:4:10",
        "pattern '(?!admin).*' is not a valid RE2 regular expression "
        "(no backreferences or lookaround): invalid perl operator: (?!",
    ),
    Case(
        "policy valid to before from",
        (replace("policies/startup.yaml", "to: 2026-12-31", "to: 2025-12-31"),),
        "policies/startup.yaml:6:31",
        "valid.to 2025-12-31 is before valid.from 2026-01-01",
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(BROKEN) >= 35
    assert len({case.id for case in BROKEN}) == len(BROKEN)


@pytest.mark.parametrize("case", BROKEN, ids=[c.id for c in BROKEN])
def test_broken_tree(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = validate(tmp_path, monkeypatch, *case.edits)
    assert code == 1, err
    assert_reported(err, case.where, case.message, case.severity)
    lines = diagnostic_lines(err)
    for line in lines:  # every problem names file:line:col
        assert line.startswith(f"{ROOT}/"), line
    if case.alone:
        assert len(lines) == 1, err


# ---------------------------------------------------------------------------------------
# Valid trees, warnings, several files at once
# ---------------------------------------------------------------------------------------


def test_fixture_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = validate(tmp_path, monkeypatch)
    assert code == 0, err
    assert diagnostic_lines(err) == []
    assert "0 error(s), 0 warning(s)" in err


STILL_VALID = [
    ("plain no as text", (replace(IBR, "article: 第十九条", "article: no"),)),
    ("plain yes as a localized name", (replace(BUNDLE, "name: {zh: 开小店一件事}", "name: yes"),)),
    ("an unquoted date stays text", (replace(IBR, 'version: "1.0"', "version: 2026-01-01"),)),
    ("a quoted boolean expression", (replace(FORM, "required: false", 'required: "true"'),)),
    (
        "a region adds a list the matter does not have",
        (
            replace(
                FOOD,
                "materials:\n  - id: id_proof\n    name: {zh: 身份证明}\n  - id: site_plan\n"
                "    name: {zh: 经营场所平面图}\n    medium: both\n    copies: 2\n",
                "",
            ),
            replace(
                "regions/c.yaml",
                "    time_limit: {promised: {value: 5, unit: working_day}}",
                "    materials: {add: [{id: lease, name: 租赁合同}]}",
            ),
        ),
    ),
    (
        "a region patches one material by id",
        (
            replace(
                "regions/c.yaml",
                "    time_limit: {promised: {value: 5, unit: working_day}}",
                "    materials: {site_plan: {copies: 3}}",
            ),
        ),
    ),
]


@pytest.mark.parametrize(
    "edits", [e for _, e in STILL_VALID], ids=[name for name, _ in STILL_VALID]
)
def test_still_valid(
    edits: tuple[Edit, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = validate(tmp_path, monkeypatch, *edits)
    assert code == 0, err
    assert diagnostic_lines(err) == []


WARNINGS = [
    Case(
        "deprecated element referenced",
        (replace("elements/person.yaml", "codeset: sex\n", "codeset: sex\nstatus: deprecated\n"),),
        f"{FORM}:16:18",
        "data element 'sex' is deprecated (mini/elements/person.yaml:22:9)",
        "warning",
    ),
    Case(
        "agency code failing GB 32100",
        (replace(IBR, '"11440300MB2D072246"', '"11440300MB2D072245"'),),
        f"{IBR}:7:37",
        "agency code '11440300MB2D072245' is not a valid unified social credit code (GB 32100)",
        "warning",
    ),
    Case(
        "make-up working day on a weekday",
        (replace(CAL, "workdays: [2026-02-14,", "workdays: [2026-02-13,"),),
        f"{CAL}:6:12",
        "make-up working day 2026-02-13 is not a weekend day",
        "warning",
    ),
    Case(
        "a transition without a name",
        (replace(FLOW, ", name: {zh: 受理, en: Accept}}", "}"),),
        f"{FLOW}:17:10",
        "transition 'accept' has no 'name'; people see names, never ids",
        "warning",
    ),
    Case(
        "a region inheriting an agency code of another division",
        (
            replace(
                CSV,
                "440300,深圳市,Shenzhen,440000\n",
                "440300,深圳市,Shenzhen,440000\n440100,广州市,Guangzhou,440000\n",
            ),
            add(
                "regions/d.yaml",
                'kind: Region\nid: d\ncode: "440100"\nname: {zh: 丁市}\nparent: a\n',
            ),
        ),
        "regions/d.yaml:3:7",
        "region 'd' (440100) inherits for matter 'ibr' agency code '11440300MB2D07224",
        "warning",
    ),
    Case(
        "a region setting its agency but inheriting another division's sites",
        (
            replace(
                IBR,
                "result: {name: {zh: 营业执照}}\n",
                "result: {name: {zh: 营业执照}}\n"
                "sites:\n  - {name: 深圳窗口, address: 深圳市福田区}\n",
            ),
            replace(
                CSV,
                "440000,广东省,Guangdong,\n",
                "440000,广东省,Guangdong,\n450000,广西壮族自治区,Guangxi,\n",
            ),
            add(
                "regions/e.yaml",
                'kind: Region\nid: e\ncode: "450000"\nname: {zh: 戊区}\nparent: a\n'
                'overrides:\n  ibr:\n    agency: {code: "11440100MB2D07224U"}\n',
            ),
        ),
        "regions/e.yaml:3:7",
        "region 'e' (450000) inherits for matter 'ibr' sites (division 440300, set at "
        "mini/matters/ibr.yaml:35:3), outside its division",
        "warning",
    ),
    Case(
        "region code missing from the admin_division code set",
        (replace(CSV, "440305,南山区,Nanshan,440300\n", ""),),
        "regions/c.yaml:3:7",
        "region code '440305' is not in code set 'admin_division'",
        "warning",
    ),
]


@pytest.mark.parametrize("case", WARNINGS, ids=[c.id for c in WARNINGS])
def test_warnings_alone_exit_0(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = validate(tmp_path, monkeypatch, *case.edits)
    assert code == 0, err
    assert_reported(err, case.where, case.message, "warning")
    assert ": error: " not in err


def test_all_warnings_together_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = validate(tmp_path, monkeypatch, *(e for case in WARNINGS for e in case.edits))
    assert code == 0, err
    for case in WARNINGS:
        assert_reported(err, case.where, case.message, "warning")
    assert "0 error(s), 8 warning(s)" in err  # the deprecated element is used twice


def test_errors_from_several_files_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picked = [
        case
        for case in BROKEN
        if case.id
        in {
            "unknown element in a form",
            "unreachable state",
            "values_file with a bad header",
            "date both holiday and make-up working day",
            "unknown kind",
            "policy eligible naming a field its profile lacks",
            "removing a material that does not exist names both files",
            "duplicate code in a code set",
        }
    ]
    assert len(picked) == 8
    code, err = validate(tmp_path, monkeypatch, *(e for case in picked for e in case.edits))
    assert code == 1
    for case in picked:
        assert_reported(err, case.where, case.message)
    lines = diagnostic_lines(err)
    assert lines == sorted(lines, key=_sort_key)  # file, line, column order
    assert len({line.split(":", 1)[0] for line in lines}) >= 8


def _sort_key(line: str) -> tuple[str, int, int]:
    file, row, col, _ = line.split(":", 3)
    return file, int(row), int(col)


def test_deep_nesting_and_alias_bomb_in_a_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = validate(
        tmp_path, monkeypatch, add("deep.yaml", "kind: Bundle\nx: " + "[" * 80 + "]" * 80 + "\n")
    )
    assert code == 1
    assert_reported(err, "deep.yaml:2:68", "document is nested too deeply")


# ---------------------------------------------------------------------------------------
# govstd resolve, and the command line itself
# ---------------------------------------------------------------------------------------


def test_resolve_applies_a_then_b_then_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    code, out, err = run(tmp_path, monkeypatch, "resolve", ROOT, "--region", "c")
    assert code == 0, err
    assert out.startswith("# a (甲省) → b (乙市) → c (丙区)\n")
    data = yaml.safe_load(out)
    assert data["region"]["id"] == "c"
    assert data["region"]["inherits"] == ["a", "b"]
    assert data["region"]["calendar"] == "cn_2026"  # inherited from a
    matters = {m["id"]: m for m in data["matters"]}
    assert set(matters) == {"ibr", "food"}
    ibr = matters["ibr"]
    assert ibr["overridden_by"] == ["a", "b", "c"]
    assert ibr["time_limit"]["promised"] == {"value": 1, "unit": "working_day"}  # b after a
    assert ibr["time_limit"]["legal"] == {"value": 3, "unit": "working_day"}  # base
    assert ibr["agency"]["name"] == {"zh": "乙市市场监督管理局丙区监管局"}  # c after b after a
    assert ibr["agency"]["code"] == "11440300MB2D072246"  # base, kept by the deep merge
    assert ibr["contact"] == {"phone": "0755-12345678", "complaint_phone": "12345"}  # b + base
    assert [m["id"] for m in ibr["materials"]] == [
        "id_proof",
        "agent_authorization",
        "lease_contract",
    ]
    assert ibr["type"] == "01"
    food = matters["food"]
    assert food["overridden_by"] == ["c"]
    assert food["time_limit"]["promised"]["value"] == 5
    assert data["policies"] == ["startup_subsidy"]
    assert data["bundles"] == ["open_shop"]
    assert "'01'" in out  # codes stay quoted text


def test_resolve_of_the_parent_stops_at_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    code, out, err = run(tmp_path, monkeypatch, "resolve", ROOT, "--region", "b")
    assert code == 0, err
    matters = {m["id"]: m for m in yaml.safe_load(out)["matters"]}
    assert matters["ibr"]["overridden_by"] == ["a", "b"]
    assert matters["ibr"]["agency"]["name"] == {"zh": "乙市市场监督管理局"}
    assert [m["id"] for m in matters["ibr"]["materials"]] == [
        "id_proof",
        "residence_proof",
        "agent_authorization",
    ]
    assert matters["food"]["overridden_by"] == []


def test_resolve_of_a_broken_tree_prints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, replace("regions/b.yaml", "promised: {value: 1,", "promised: {value: 5,"))
    code, out, err = run(tmp_path, monkeypatch, "resolve", ROOT, "--region", "c")
    assert code == 1
    assert out == ""
    assert_reported(err, "regions/b.yaml:8:36", "is above the legal limit 3")


def test_validate_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(tmp_path, monkeypatch, "validate", "no_such_folder")
    assert code == 1
    assert (
        "no_such_folder: error: 不是存放标准文件的文件夹 / not a folder of standards files" in err
    )


def test_validate_folder_without_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run(tmp_path, monkeypatch, "validate", "empty")
    assert code == 1
    assert (
        "empty: error: 此文件夹下没有 *.yaml 文件 / no *.yaml files found below this folder" in err
    )


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--no-such-option", ROOT],
        ["resolve", ROOT],  # --region is required
        ["no-such-command"],
    ],
    ids=["unknown option", "missing --region", "unknown command"],
)
def test_bad_usage_exits_2(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    code, _, _ = run(tmp_path, monkeypatch, *args)
    assert code == 2


def test_entry_point_in_a_subprocess(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok = govstd("validate", ROOT, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr.strip() == "0 个错误，0 个警告 / 0 error(s), 0 warning(s)"
    make_tree(tmp_path / "broken", replace(IBR, "form: ibr_form", "form: ibr_from"))
    bad = govstd("validate", ROOT, cwd=tmp_path / "broken")
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert bad.stderr.splitlines()[0].startswith(
        f"{ROOT}/{IBR}:17:7: error: 表单 'ibr_from' 未定义 / form 'ibr_from'"
    )


def test_resolve_adds_to_a_list_the_matter_does_not_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, *dict(STILL_VALID)["a region adds a list the matter does not have"])
    code, out, err = run(tmp_path, monkeypatch, "resolve", ROOT, "--region", "c")
    assert code == 0, err
    matters = {m["id"]: m for m in yaml.safe_load(out)["matters"]}
    [material] = matters["food"]["materials"]
    assert (material["id"], material["name"]) == ("lease", {"zh": "租赁合同"})
    assert matters["food"]["overridden_by"] == ["c"]


@pytest.mark.parametrize(
    ("today", "words"),
    [("2026-06-01", "ends on 2026-12-31"), ("2027-01-04", "ended on 2026-12-31")],
)
def test_a_calendar_running_out_is_a_warning(
    today: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a year of its last listed year's end, a calendar is named where a region uses it."""
    monkeypatch.setenv("GOVSTD_TODAY", today)
    code, err = validate(tmp_path, monkeypatch)
    assert code == 0, err
    assert_reported(
        err,
        "regions/a.yaml:5:11",
        f"calendar 'cn_2026' of region 'a' {words}, within a year of today ({today}): "
        "deadlines after it cannot be computed",
        "warning",
    )
    assert len(diagnostic_lines(err)) == 1, err  # b and c inherit it: named once, at a
