"""Packs (runtime/packs.py): a kind's documents in 16 files, each document read alone."""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from runtime.package import Package, PackageError, check_package, load_package
from runtime.packs import (
    MATTERS,
    RULES,
    SCHEMAS,
    Pack,
    PackFormatError,
    Packs,
    pack_bytes,
    pack_name,
    unpack,
)
from tests.helpers import pack_documents

DOCUMENTS = {"b": b'{"x":"\xe4\xb8\x80"}', "a": b"[1,2,3]", "c": b"{}"}


def test_a_pack_is_json_lines_with_its_index_at_the_head(tmp_path: Path) -> None:
    data = pack_bytes(DOCUMENTS)
    assert data == pack_bytes(dict(reversed(DOCUMENTS.items())))  # keys sorted
    lines = data.split(b"\n")
    assert [orjson.loads(line) for line in lines[:-1]] == [
        {"documents": 3, "govstd_pack": 1, "index": 25},
        ["a", 7],
        ["b", 11],
        ["c", 2],
        [1, 2, 3],
        {"x": "一"},
        {},
    ]
    assert unpack(data) == DOCUMENTS
    (tmp_path / "p.jsonl").write_bytes(data)
    pack = Pack(tmp_path / "p.jsonl")
    assert pack.get("b") == DOCUMENTS["b"] and pack.get("z") is None
    with ThreadPoolExecutor(8) as pool:  # one descriptor, os.pread: no shared position
        found = list(pool.map(pack.get, ["a", "b", "c"] * 200))
    assert found == [DOCUMENTS[k] for k in ["a", "b", "c"] * 200]
    assert sorted(pack.keys()) == ["a", "b", "c"]
    assert unpack(pack_bytes({})) == {}
    with pytest.raises(ValueError, match="newline"):
        pack_bytes({"a": b"[\n]"})


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d[:-3],  # cut short
        lambda d: d + b"{}\n",  # a document not in the index
        lambda d: d.replace(b'["a",7]', b'["a",8]'),  # the index does not fit
        lambda d: d.replace(b'"govstd_pack":1', b'"govstd_pack":2'),  # another version
        lambda d: b"[]\n" + d,
    ],
)
def test_a_damaged_pack_is_refused(tmp_path: Path, edit: object) -> None:
    assert callable(edit)
    data = edit(pack_bytes(DOCUMENTS))
    with pytest.raises(PackFormatError):
        unpack(data)
    if data.startswith(pack_bytes(DOCUMENTS)):  # a reader does not look past the index
        return
    (tmp_path / "p.jsonl").write_bytes(data)
    with pytest.raises(PackFormatError):
        for key in DOCUMENTS:
            Pack(tmp_path / "p.jsonl").get(key)


def test_only_listed_packs_are_read(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / pack_name(RULES, "a")).write_bytes(pack_bytes({"a": b"1"}))
    assert Packs(tmp_path, frozenset()).get(RULES, "a") is None
    assert Packs(tmp_path, frozenset({pack_name(RULES, "a")})).get(RULES, "a") == b"1"


def test_guides_schemas_and_rules_are_served_from_packs(
    package_dir: Path, package: Package
) -> None:
    files = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["files"]
    assert not [
        n
        for n in files
        if n.startswith(("matters/", "schemas/", "rules/"))
        and not n.endswith(".jsonl")
        and not n.startswith("schemas/bundles/")
    ]
    matter = package.regions["nanshan"].matters["ibr"]
    raw = pack_documents(package_dir, MATTERS)[matter.detail]
    assert matter.guide == orjson.loads(raw)["guide"]
    assert matter.guide["agency"]["name"]["zh"] == "深圳市市场监督管理局南山监管局"
    schema = package.form_schema("ibr_form")
    assert schema is not None and schema == pack_documents(package_dir, SCHEMAS)["ibr_form"]
    assert json.loads(schema)["x-govstd-form"] == "ibr_form"
    assert package.form_schema("nope") is None
    rules = package.rules(matter.rules)
    assert rules is not None and matter.rules in pack_documents(package_dir, RULES)


def test_a_pack_edited_by_hand_is_refused(package_dir: Path, tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    load_package(app_dir)
    name = pack_name(MATTERS, "nanshan/ibr")
    pack = app_dir / name
    data = pack.read_bytes()
    pack.write_bytes(data.replace("南山监管局".encode(), "北山监管局".encode(), 1))
    assert pack.read_bytes() != data
    with pytest.raises(PackageError, match=rf"{name} \(changed\)"):
        load_package(app_dir)


def test_a_package_of_the_format_before_packs_is_refused(package_dir: Path, tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    manifest = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
    manifest["format"] = 1
    (app_dir / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    for check in (load_package, check_package):  # serve; migrate
        with pytest.raises(PackageError, match="generate it again"):
            check(app_dir)


def test_a_loaded_package_reads_the_packs_it_verified(package_dir: Path, tmp_path: Path) -> None:
    """A pack replaced after load_package (govstd generate into the served folder) is not
    read by the running server: it opened each pack when it verified it."""
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    pkg = load_package(app_dir)
    name = pack_name(SCHEMAS, "ibr_form")
    served = unpack((app_dir / name).read_bytes())
    replaced = pack_bytes({key: b'{"replaced":true}' for key in served})
    (tmp_path / "new.jsonl").write_bytes(replaced)
    os.replace(tmp_path / "new.jsonl", app_dir / name)
    assert pkg.form_schema("ibr_form") == served["ibr_form"]
    with pytest.raises(PackageError, match="changed"):
        load_package(app_dir)
