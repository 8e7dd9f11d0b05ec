"""docs/standards-format.md: its generated parts are current, it names every key of every
kind in both languages, and its examples are what ``govstd validate`` accepts."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from jsonschema import Draft7Validator

from generator.expressions import check_expression
from generator.kinds import KINDS
from generator.reference import DOC, kind_tables, main, render
from generator.schema import COMBINED, schema_files
from runtime.expressions import BOOL, DOUBLE, INT, STRING, list_of, record

TEXT = DOC.read_text(encoding="utf-8")
CHINESE, _, ENGLISH = TEXT.partition("\n## English\n")


def test_the_generated_parts_are_current() -> None:
    assert render(TEXT) == TEXT, "docs/standards-format.md is stale: python -m generator.reference"
    assert main(["--check"]) == 0


def test_chinese_comes_first_then_english() -> None:
    assert "\n## 中文\n" in CHINESE and ENGLISH
    assert CHINESE.index("## 中文") < len(CHINESE)


def _section(text: str, heading: str) -> str:
    """The lines of the table under ``#### heading``."""
    start = text.index(f"#### {heading}\n")
    ends = [text.find(mark, start + 1) for mark in ("\n#### ", "\n### ", "\n<!-- END")]
    return text[start : min(end for end in ends if end > 0)]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_key_of_every_kind_is_in_both_languages(kind: str) -> None:
    tables = kind_tables(kind)
    assert len({t.name for t in tables}) == len(tables)
    for table in tables:
        keys = [info.alias or name for name, info in table.model.model_fields.items()]
        assert keys
        for lang, text in (("zh", CHINESE), ("en", ENGLISH)):
            rows = _section(text, table.heading)
            for key in keys:
                assert f"| `{key}` |" in rows, f"{lang}: {table.heading}: `{key}` missing"
            for row in (line for line in rows.splitlines() if line.startswith("| `")):
                cells = row.split(" | ")
                assert len(cells) == 5 and all(c.strip("| ") for c in cells), (
                    f"{lang}: {table.heading}: an empty cell in {row}"
                )


def test_the_nested_tables_cover_every_model() -> None:
    """Materials, sections, fields, transitions … each have their table."""
    headings = {t.heading for kind in KINDS for t in kind_tables(kind)}
    for expected in [
        "Matter → materials[]",
        "Matter → time_limit",
        "Matter → time_limit → legal",
        "Form → sections[]",
        "Form → sections[] → fields[]",
        "Workflow → transitions[]",
        "Region → matters",
        "Policy → valid",
        "CodeSet → values[]",
    ]:
        assert expected in headings


def test_every_validate_message_is_listed() -> None:
    for message in [
        "missing required key '{name}'",
        "a bundle joins at least two matters",
        "visits: 0 needs an 'online' or 'mail' channel",
    ]:
        assert message in ENGLISH and message in CHINESE


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def test_the_example_documents_fit_the_schema() -> None:
    schema = json.loads(schema_files()[COMBINED])
    documents = [yaml.safe_load(block) for block in _yaml_blocks(TEXT) if block.startswith("kind:")]
    assert len(documents) >= 2
    for document in documents:
        errors = [e.message for e in Draft7Validator(schema).iter_errors(document)]
        assert not errors, (document["id"], errors)


ENV = {
    "organization_form": STRING,
    "agent_used": BOOL,
    "registered_capital": DOUBLE,
    "citizen_id_number": STRING,
    "members": list_of(record({"citizen_id_number": STRING})),
    "employees": INT,
    "established_days": INT,
    "birth_date": STRING,
    "business_scope": list_of(STRING),
}


def test_the_example_expressions_pass_the_checker() -> None:
    sources = [
        source
        for block in _yaml_blocks(TEXT)
        if not block.startswith("kind:")
        for source in re.findall(r'^(?:when|required|assert|eligible): "(.*)"', block, re.M)
    ]
    assert len(sources) >= 14  # seven examples in each language
    for source in sources:
        assert check_expression(source, ENV) == [], source
    # and the strictness the doc warns about is real
    assert check_expression("registered_capital > 0", ENV) != []
