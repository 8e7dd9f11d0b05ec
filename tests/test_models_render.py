"""``models.py`` and ``tables/`` rendered from the intermediate model: they import, create
their tables, store and read back an application with its form and group rows, are
deterministic, and, formatted as the writer formats them, lint-clean (``ruff check`` /
``mypy``)."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR
from generator.render import GeneratedFile, GenerateError
from generator.render.models import render_models
from generator.render.tables import (
    MAX_IDENTIFIER,
    build_tables,
    field_type,
    form_table_name,
    group_table_name,
    identifier,
)
from generator.writer import format_python
from tests.helpers import ROOT, application_row, build_version

RUFF = ROOT / ".venv" / "bin" / "ruff"
MYPY = ROOT / ".venv" / "bin" / "mypy"


def field(id: str, type: str = "string", **kw: object) -> FieldIR:
    return FieldIR(
        id=id,
        element=kw.pop("element", id),
        label={"zh": id},
        type=type,
        source=f"forms/x.yaml:{len(id)}:9",
        **kw,
    )  # type: ignore[arg-type]


def form(id: str, fields: tuple[FieldIR, ...], groups: tuple[GroupIR, ...] = ()) -> FormIR:
    return FormIR(
        id=id,
        name={"zh": id},
        version=None,
        fields=fields,
        groups=groups,
        sections=(),
        rules=(),
        source="forms/x.yaml:1:1",
    )


def group(id: str, fields: tuple[FieldIR, ...]) -> GroupIR:
    return GroupIR(
        id=id, name={"zh": id}, min=0, max=10, when=None, fields=fields, source="forms/x.yaml:2:3"
    )


def package(*forms: FormIR) -> PackageIR:
    return PackageIR(
        region="r",
        regions=(),
        forms=forms,
        workflows=(),
        codesets=(),
        calendars=(),
        policies=(),
        bundles=(),
        source_hash="0" * 64,
    )


LONG = "x" * 57  # ids of 63 characters: 'a_' + LONG + '_dec'
EDGE = package(
    form(
        "ibr_form",
        (
            field(f"a_{LONG}_dec", "decimal", digits=12, fraction_digits=2),
            field(f"b_{LONG}_str", max_length=50),
            field("from", max_length=10),  # a Python keyword
            field("metadata", "integer"),  # reserved by declarative classes
            field("class", "date"),
            field("tags", "code", multiple=True),
            field("id_number", sensitive=True, max_length=18),
            field("at", "datetime"),
            field("photo", "file"),
            field("amount", "decimal"),
            field("ok", "boolean"),
            field("notes", "text"),
        ),
        (
            group(
                f"g_{LONG}_grp", (field(f"c_{LONG}_dec", "decimal", digits=8, fraction_digits=0),)
            ),
        ),
    ),
    form(
        f"f_{LONG}_frm",
        (field("employees", "integer"),),
        (group(f"g_{LONG}_grp", (field("name"),)),),
    ),
    form("application", (field("name"),)),  # its class must not clash with Application
)


def write(files: list[GeneratedFile], folder: Path) -> Path:
    """``models.py`` and ``tables/`` written as a package in ``folder``."""
    for f in files:
        (folder / f.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / f.path).write_text(str(f.content), encoding="utf-8")
    (folder / "__init__.py").write_text("", encoding="utf-8")
    return folder


def load(files: list[GeneratedFile], tmp_path: Path) -> Iterator[ModuleType]:
    """The models module of the rendered files (every form's tables imported)."""
    folder = write(files, tmp_path / f"govstd_test_models_{uuid.uuid4().hex[:8]}")
    spec = importlib.util.spec_from_file_location(
        folder.name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    sys.modules[folder.name] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(sys.modules[folder.name])
        module = importlib.import_module(f"{folder.name}.models")
        module.FORM_TABLES  # noqa: B018 - imports every form's tables into Base.metadata
        yield module
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == folder.name]:
            del sys.modules[name]


@pytest.fixture
def scenario_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.chdir(tmp_path)
    files = render_models(build_version(tmp_path, 2))
    assert [f.path for f in files] == [
        "models.py",
        "tables/__init__.py",
        "tables/ibr_application.py",
    ]
    yield from load(files, tmp_path)


def test_round_trip(scenario_models: ModuleType) -> None:
    m = scenario_models
    assert set(m.FORM_TABLES) == {"ibr_application"}
    assert set(m.GROUP_TABLES["ibr_application"]) == {"members", "branches"}
    form_cls = m.FORM_TABLES["ibr_application"]
    members = m.GROUP_TABLES["ibr_application"]["members"]
    branches = m.GROUP_TABLES["ibr_application"]["branches"]
    assert form_cls.__table__.name == "form_ibr_application"
    assert members.__table__.name == "form_ibr_application__members"

    engine = sa.create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    now = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
    app_id = str(uuid.uuid4())
    core = m.Base.metadata.tables  # the runtime's core tables, copied in (runtime/tables.py)
    with Session(engine) as session:
        session.execute(
            sa.insert(core["applications"]).values(application_row(app_id, "ibr_application"))
        )
        session.flush()
        session.add(
            form_cls(
                application_id=app_id,
                operator_name="张三",
                citizen_id_number="ciphertext",
                sex="1",
                agent_used=False,
                website=None,
                business_scope="餐饮服务",
                registered_capital=Decimal("12345.67"),
                employees=12,
                opened_on=datetime.date(2026, 1, 5),
            )
        )
        session.add_all(
            [
                members(application_id=app_id, position=0, member_name="李四", sex="2"),
                members(application_id=app_id, position=1, member_name="王五", sex=None),
                branches(application_id=app_id, position=0, address="深圳市南山区"),
            ]
        )
        session.execute(
            sa.insert(core["transitions"]).values(
                application_id=app_id,
                transition="accept",
                from_state="submitted",
                to_state="accepted",
                actor_sub="officer-1",
                actor_role="officer",
                at=now,
            )
        )
        session.execute(sa.insert(core["counters"]).values(name="440000-2026"))
        session.commit()

    with Session(engine) as session:
        application = session.execute(sa.select(core["applications"])).one()
        assert (application.paused_days, application.row_version) == (0, 1)  # defaults
        row = session.get(form_cls, app_id)
        assert row is not None
        assert row.operator_name == "张三"
        assert row.registered_capital == Decimal("12345.67")
        assert row.opened_on == datetime.date(2026, 1, 5)
        assert row.agent_used is False
        names = session.scalars(
            sa.select(members.member_name)
            .where(members.application_id == app_id)
            .order_by(members.position)
        ).all()
        assert names == ["李四", "王五"]
        assert session.scalars(sa.select(core["counters"].c.value)).one() == 0
    # The core tables of docs/package.md, with their constraints.
    tables = m.Base.metadata.tables
    assert {
        "applications",
        "transitions",
        "material_files",
        "evaluations",
        "audit_log",
        "idempotency_keys",
        "counters",
    } <= set(tables)
    assert [c.name for c in tables["idempotency_keys"].primary_key] == ["applicant_sub", "key"]
    fk = next(iter(tables["form_ibr_application"].foreign_keys))
    assert (fk.target_fullname, fk.ondelete) == ("applications.id", "CASCADE")
    assert tables["applications"].c.number.unique is None  # a named UniqueConstraint instead
    uniques = {
        c.name for c in tables["applications"].constraints if isinstance(c, sa.UniqueConstraint)
    }
    assert uniques == {"uq_applications_number"}


@pytest.mark.parametrize("pkg_name", ["scenario", "edge"])
def test_lint_clean_once_formatted(
    pkg_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the writer leaves it (``ruff format``, long ids marked), ``ruff check`` passes."""
    monkeypatch.chdir(tmp_path)
    pkg = build_version(tmp_path, 2) if pkg_name == "scenario" else EDGE
    path = write(format_python(render_models(pkg)), tmp_path / "package")
    config = ["--config", str(ROOT / "pyproject.toml")]
    check = subprocess.run(
        [str(RUFF), "check", *config, "--no-cache", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which(str(MYPY)) is None, reason="mypy is not installed")
def test_mypy_clean(tmp_path: Path) -> None:
    path = write(render_models(EDGE), tmp_path / "package")
    result = subprocess.run(
        [
            str(MYPY),
            "--strict",
            "--ignore-missing-imports",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_edge_ids(tmp_path: Path) -> None:
    """63-character ids, Python keywords and reserved names still give a working module."""
    loaded = load(render_models(EDGE), tmp_path)  # kept: its end unloads the package
    m = next(loaded)
    tables = m.Base.metadata.tables
    for table in tables.values():
        assert len(table.name) <= MAX_IDENTIFIER
        for constraint in [*table.constraints, *table.indexes]:
            assert constraint.name is not None and len(str(constraint.name)) <= MAX_IDENTIFIER
    ibr = m.FORM_TABLES["ibr_form"]
    assert {"from", "metadata", "class", f"a_{LONG}_dec"} <= set(ibr.__table__.c.keys())
    assert ibr.__table__.c["from"].type.length == 10
    row = ibr(application_id="a", from_="x", metadata_=3, class_=datetime.date(2026, 1, 1))
    assert row.from_ == "x"
    assert m.FORM_TABLES["application"].__table__.name == "form_application"
    long_group = m.GROUP_TABLES[f"f_{LONG}_frm"][f"g_{LONG}_grp"]
    assert long_group.__table__.name == group_table_name(f"f_{LONG}_frm", f"g_{LONG}_grp")
    assert long_group is not m.GROUP_TABLES["ibr_form"][f"g_{LONG}_grp"]
    engine = sa.create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(sa.insert(tables["applications"]).values(application_row("a", "ibr_form")))
        session.add(row)
        session.commit()
        assert session.scalars(sa.select(ibr.from_)).one() == "x"


def test_field_types() -> None:
    """The column types of docs/package.md."""
    cases = [
        (field("a", max_length=40), "String(40)"),
        (field("a"), "String(255)"),
        (field("a", "code"), "String(255)"),
        (field("a", "code", multiple=True), "JSON()"),
        (field("a", "text"), "Text()"),
        (field("a", "integer"), "BigInteger()"),
        (field("a", "decimal", digits=12, fraction_digits=2), "Numeric(12, 2)"),
        (field("a", "decimal"), "Numeric()"),
        (field("a", "boolean"), "Boolean()"),
        (field("a", "date"), "Date()"),
        (field("a", "datetime"), "DateTime(timezone=True)"),
        (field("a", "file"), "String(255)"),
        (field("a", sensitive=True, max_length=18), "Text()"),
        (field("a", "integer", sensitive=True), "Text()"),
    ]
    assert [(f, str(field_type(f))) for f, _ in cases] == cases


def test_identifier() -> None:
    assert identifier("form_short") == "form_short"
    long_a, long_b = "form_" + "a" * 70, "form_" + "a" * 71
    assert len(identifier(long_a)) == MAX_IDENTIFIER
    assert identifier(long_a) == identifier(long_a)
    assert identifier(long_a) != identifier(long_b)
    assert identifier(long_a).startswith("form_aaa")
    assert form_table_name("x" * 63) != group_table_name("x" * 63, "y")


def test_reserved_field_ids_are_refused() -> None:
    pkg = package(form("f", (field("application_id"),), (group("g", (field("position"),)),)))
    with pytest.raises(GenerateError) as refused:
        build_tables(pkg)
    assert len(refused.value.lines) == 2
    assert "field id 'application_id' of form 'f' is reserved" in refused.value.lines[0]
    assert "field id 'position' of group 'g' of form 'f' is reserved" in refused.value.lines[1]


def test_table_name_clash_is_refused() -> None:
    pkg = package(form("a__b", (field("x"),)), form("a", (field("x"),), (group("b", ()),)))
    with pytest.raises(GenerateError, match="both make table form_a__b"):
        build_tables(pkg)
