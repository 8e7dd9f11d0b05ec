"""Every migration of the bundled packages and of the rename scenario, with data present.

1. Round trips: for each revision R of a package (after the one before it, P), on SQLite
   and PostgreSQL (``GOVSTD_TEST_POSTGRES_URL``): upgrade to R → insert applications, a
   form row each and group rows (and rows of the other tables) → downgrade to P → upgrade
   to R again. Every row inserted so far is still there where the schema allows it: a
   table that R creates is empty again, a column that R adds is empty again, everything
   else — renamed tables and columns included — keeps its values.
2. Lint: the PostgreSQL SQL of every revision, upgrade and downgrade, written by Alembic's
   offline mode (:func:`runtime.migrate.sql`), is checked with squawk
   (``pip install squawk-cli``); every finding must be waived, with its reason, in
   ``docs/squawk-waivers.md``.

The packages: each bundled region (the committed ``generated/<region>`` folder where
there is one, else generated from ``standards/``), and the three versions of the rename
scenario of ``tests/test_migrations.py`` (its trees in tests/helpers.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa

from generator.render.snapshot import SNAPSHOT, load_snapshot
from generator.render.tables import TableSpec
from runtime import migrate
from runtime.auth import issue_token
from tests.helpers import (
    BACKENDS,
    GENERATED,
    REGIONS,
    ROOT,
    VERSIONS_OF_TREE,
    FrozenClock,
    assert_models_match,
    build_version,
    client_of,
    edited_standards,
    fk_engine,
    generate_files,
    generate_package,
    ibr_data,
    new_database,
    revisions,
    settings_for,
    tables,
)

WAIVERS = ROOT / "docs" / "squawk-waivers.md"
NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)


IBR_FORM = "national/forms/ibr_form.yaml"
NANSHAN_V2_EDITS = [
    (
        IBR_FORM,
        "      - element: mobile_phone\n",
        "      - id: contact_mobile\n        element: mobile_phone\n"
        "        renamed_from: [mobile_phone]\n",
    ),
    (
        IBR_FORM,
        "      - element: email\n        required: false\n",
        "      - element: email\n        required: false\n"
        "      - element: telephone\n        required: false\n",
    ),
    (
        IBR_FORM,
        "  - id: agent\n",
        "  - id: branches\n    name: {zh: 分支经营场所, en: Branches}\n"
        "    repeat: {min: 0, max: 5}\n    fields:\n      - element: business_address\n"
        "  - id: agent\n",
    ),
]


@dataclass(frozen=True)
class Package:
    """A package folder and, for each of its revisions in order, the schema it leads to."""

    name: str
    app: Path
    revisions: tuple[str, ...]
    schemas: tuple[tuple[TableSpec, ...], ...]


def _snapshot(app: Path) -> tuple[TableSpec, ...]:
    return load_snapshot((app / SNAPSHOT).read_text(encoding="utf-8")).tables


def _schemas_by_revision(
    app: Path, revs: tuple[str, ...], scratch: Path
) -> tuple[tuple[TableSpec, ...], ...]:
    """The schema each revision leads to: the snapshot (the last one's), and for earlier
    revisions its tables and columns that a database upgraded to that revision has (the
    committed packages' later revisions add tables and columns)."""
    final = _snapshot(app)
    schemas = []
    scratch.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{scratch / 'revisions.db'}"
    for revision in revs[:-1]:
        migrate.upgrade(app, url, revision)
        present = tables(sa.create_engine(url, poolclass=sa.pool.NullPool))
        schema = []
        for t in final:
            if t.name not in present:
                continue
            names = set(present[t.name].columns.keys())
            columns = tuple(c for c in t.columns if c.name in names)
            indexes = tuple(ix for ix in t.indexes if set(ix.columns) <= names)
            schema.append(dataclasses.replace(t, columns=columns, indexes=indexes))
        schemas.append(tuple(schema))
    return (*schemas, final)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> list[Package]:
    found = []
    out = tmp_path_factory.mktemp("packages")
    for region in REGIONS:
        app = GENERATED / region
        if not (app / "migrations" / "env.py").is_file():
            app = generate_package(region, out / region)
        revs = tuple(revisions(app))
        found.append(Package(region, app, revs, _schemas_by_revision(app, revs, out / region)))

    # nanshan as it is committed, then a second revision generated over it from the bundled
    # standards changed as a region's implementer would: a field renamed, one added, a
    # repeating section added.
    first = GENERATED / "nanshan"
    if (first / "migrations" / "env.py").is_file():
        app = out / "nanshan-v2"
        shutil.copytree(first, app)
        committed = next(p for p in found if p.name == "nanshan")
        schemas_v2 = list(committed.schemas)
        generate_package("nanshan", app, edited_standards(out / "standards-v2", *NANSHAN_V2_EDITS))
        schemas_v2.append(_snapshot(app))
        found.append(Package("nanshan-v2", app, tuple(revisions(app)), tuple(schemas_v2)))
        assert len(found[-1].revisions) == len(committed.revisions) + 1, found[-1].revisions

    # The rename scenario: v1, v2 (renames, additions), v3 (drops a field: allowed).
    scenario = out / "rename"
    scenario.mkdir()
    app = scenario / "app"
    schemas = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(scenario)  # build_version reads the tree relative to the folder
        for version in sorted(VERSIONS_OF_TREE):
            generate_files(build_version(scenario, version), app, allow_data_loss=True)
            schemas.append(_snapshot(app))
    found.append(Package("rename", app, tuple(revisions(app)), tuple(schemas)))
    assert len(found[-1].revisions) == 3
    return found


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    """A URL and an engine for a database of its own, for one package."""
    with new_database(request.param, tmp_path / "app.db") as url:
        engine = fk_engine(url)
        yield url, engine
        engine.dispose()


# ---------------------------------------------------------------- rows to insert


_serial = itertools.count(1)


def _value(column: Any, row: int, i: int) -> object:
    """A value for a column of the snapshot; text is distinct per ``row``."""
    kind, length = column.type.kind, column.type.length
    if kind in ("string", "text"):
        if kind == "string" and length is not None and length < 12:
            return str(i % 10) * min(length, 6)  # codes: no unique constraint on these
        text = f"{row}-{column.name}-值"
        return text[:length] if kind == "string" else text
    if kind == "integer":
        return i + 1
    if kind == "biginteger":
        return 10**12 + i
    if kind == "numeric":
        scale = column.type.scale if column.type.precision is not None else 2
        return Decimal(i + 1) + (Decimal(1) / 4 if (scale or 0) >= 2 else 0)
    if kind == "boolean":
        return i % 2 == 0
    if kind == "date":
        return datetime.date(2026, 1, 1) + datetime.timedelta(days=i)
    if kind == "datetime":
        return NOW + datetime.timedelta(hours=i)
    if kind == "json":
        return ["01", str(i)]
    raise AssertionError(f"no test value for column {column.name} of type {kind}")


def _row(table: TableSpec, i: int, **given: object) -> dict[str, object]:
    number = next(_serial)
    row: dict[str, object] = {}
    for column in table.columns:
        if column.name in given:
            row[column.name] = given[column.name]
        elif column.primary_key and column.type.kind == "integer":
            continue  # autoincrement
        else:
            row[column.name] = _value(column, number, i)
    return row


def insert_rows(engine: sa.Engine, schema: tuple[TableSpec, ...], step: int) -> int:
    """Applications, one per form; the form's row; two rows per group; a row of each other
    table. Returns how many rows were inserted."""
    reflected = tables(engine)
    by_name = {t.name: t for t in schema}
    apps = by_name["applications"]
    count = 0
    with engine.begin() as conn:

        def put(table: TableSpec, row: dict[str, object]) -> None:
            nonlocal count
            conn.execute(sa.insert(reflected[table.name]), row)
            count += 1

        first_app = None
        for t in schema:
            if t.kind != "form":
                continue
            app_id = str(uuid.uuid4())
            first_app = first_app or app_id
            put(apps, _row(apps, step, id=app_id, form=t.form))
            put(t, _row(t, step, application_id=app_id))
            for group in schema:
                if group.kind == "group" and group.form == t.form:
                    for position in range(2):
                        given = {"application_id": app_id, "position": position}
                        put(group, _row(group, step + position, **given))
        assert first_app is not None, "a package without forms"
        for t in schema:
            if t.kind in ("form", "group") or t.name == "applications":
                continue
            given = {
                c.name: first_app
                for c in t.columns
                if c.foreign_key is not None and c.foreign_key.table == "applications"
            }
            put(t, _row(t, step, **given))
    return count


# ---------------------------------------------------------------- comparing


def _normal(value: object) -> object:
    """Values as both databases return them (SQLite: naive UTC datetimes, 0/1 booleans)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def dump(
    engine: sa.Engine, schema: tuple[TableSpec, ...]
) -> dict[str, dict[tuple[Any, ...], dict]]:
    """Every row of every table of ``schema``, by primary key, values normalized."""
    result = {}
    reflected = tables(engine)  # once: reflecting is what takes the time
    with engine.connect() as conn:
        read = {
            t.name: [dict(r._mapping) for r in conn.execute(sa.select(reflected[t.name]))]
            for t in schema
        }
    for t in schema:
        keys = [c.name for c in t.columns if c.primary_key]
        types = {c.name: c.type.kind for c in t.columns}
        found = {}
        for r in read[t.name]:
            values = {
                k: (bool(v) if types.get(k) == "boolean" and v is not None else _normal(v))
                for k, v in r.items()
            }
            found[tuple(values[k] for k in keys)] = values
        result[t.name] = found
    return result


def _default(server_default: str | None) -> object:
    if server_default is None:
        return None
    return int(server_default) if server_default.isdigit() else server_default.strip("'")


def _previous_name(name: str, renamed_from: tuple[str, ...], old_names: set[str]) -> str | None:
    if name in old_names:
        return name
    return next((n for n in renamed_from if n in old_names), None)


Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def expected_after_round_trip(
    before: Rows, old: tuple[TableSpec, ...], new: tuple[TableSpec, ...]
) -> Rows:
    """What undoing revision old→new and doing it again keeps of the rows in ``before``
    (read at new): tables and columns the revision created are empty, the rest is kept."""
    old_tables = {t.name: t for t in old}
    expected: Rows = {}
    for t in new:
        previous = _previous_name(t.name, t.renamed_from, set(old_tables))
        if previous is None:  # created by the revision: dropped by its downgrade
            expected[t.name] = {}
            continue
        old_columns = {c.name for c in old_tables[previous].columns}
        kept = {
            c.name
            for c in t.columns
            if _previous_name(c.name, c.renamed_from, old_columns) is not None
        }
        defaults = {c.name: _default(c.server_default) for c in t.columns}
        expected[t.name] = {
            key: {k: (v if k in kept else defaults[k]) for k, v in row.items()}
            for key, row in before[t.name].items()
        }
    return expected


def expected_after_upgrade(
    before: Rows, old: tuple[TableSpec, ...], new: tuple[TableSpec, ...]
) -> Rows:
    """What upgrading old→new keeps of the rows in ``before`` (read at old): every row of a
    kept or renamed table, every value of a kept or renamed column; new columns empty;
    applications follow a renamed form."""
    old_tables = {t.name: t for t in old}
    forms: dict[str | None, str | None] = {}
    expected: Rows = {}
    for t in new:
        previous = _previous_name(t.name, t.renamed_from, set(old_tables))
        if previous is None:
            expected[t.name] = {}
            continue
        if t.kind == "form" and old_tables[previous].form != t.form:
            forms[old_tables[previous].form] = t.form
        old_columns = {c.name for c in old_tables[previous].columns}
        source = {c.name: _previous_name(c.name, c.renamed_from, old_columns) for c in t.columns}
        expected[t.name] = {
            key: {
                c.name: row[source[c.name]] if source[c.name] else _default(c.server_default)
                for c in t.columns
            }
            for key, row in before[previous].items()
        }
    for row in expected.get("applications", {}).values():
        row["form"] = forms.get(row["form"], row["form"])
    return expected


def assert_rows(found: Rows, expected: Rows, where: str) -> None:
    for table, rows_expected in expected.items():
        assert found[table] == rows_expected, f"{where}: table {table}"


# ---------------------------------------------------------------- the round trips


def _package(packages: list[Package], name: str) -> Package:
    return next(p for p in packages if p.name == name)


@pytest.mark.parametrize("name", [*REGIONS, "nanshan-v2", "rename"])
def test_round_trip_with_data(
    packages: list[Package], name: str, database: tuple[str, sa.Engine]
) -> None:
    package = _package(packages, name)
    url, engine = database
    app = package.app
    previous: str | None = None
    old_schema: tuple[TableSpec, ...] = ()
    at_previous: Rows = {}
    inserted = kept = 0
    for step, (revision, schema) in enumerate(zip(package.revisions, package.schemas, strict=True)):
        # Upgrade with the rows inserted at the previous revision present.
        migrate.upgrade(app, url, revision, allow_data_loss=True)
        assert_rows(
            dump(engine, schema),
            expected_after_upgrade(at_previous, old_schema, schema),
            f"upgrade to {revision}",
        )
        inserted += insert_rows(engine, schema, 2 * step)
        before = dump(engine, schema)
        assert all(before[t.name] for t in schema), "every table has rows before the downgrade"

        migrate.downgrade(app, url, previous or "base")
        assert migrate.current(app, url) == previous
        assert set(tables(engine)) - {"alembic_version"} == {t.name for t in old_schema}

        migrate.upgrade(app, url, revision, allow_data_loss=True)
        assert migrate.current(app, url) == revision
        expected = expected_after_round_trip(before, old_schema, schema)
        assert_rows(dump(engine, schema), expected, f"{revision} down and up again")
        kept += sum(len(rows) for rows in expected.values())

        inserted += insert_rows(engine, schema, 2 * step + 1)  # for the next upgrade
        at_previous = dump(engine, schema)
        previous, old_schema = revision, schema
    if len(package.revisions) > 1:
        assert kept, "rows survived the round trips of the later revisions"
    assert_models_match(engine, app)
    print(
        f"[migration safety] {name} on {engine.dialect.name}: {len(package.revisions)} "
        f"revision(s) round-tripped; {inserted} rows inserted, {kept} kept through downgrades"
    )


# ---------------------------------------------------------------- squawk

_VENV_SQUAWK = Path(sys.executable).parent / "squawk"  # pip install squawk-cli
SQUAWK = str(_VENV_SQUAWK) if _VENV_SQUAWK.is_file() else shutil.which("squawk") or "squawk"
_WAIVER = re.compile(
    r"^- `(?P<rule>[a-z0-9-]+)`"
    r" \((?P<scope>[a-z, ]+)\)"
    r"(?: on columns (?P<columns>`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*))?"
    r": (?P<reason>\S.+)$"
)
SCOPES = {"all", "first", "upgrade", "destructive", "downgrade"}


@dataclass(frozen=True)
class Waiver:
    rule: str
    scopes: frozenset[str]
    columns: frozenset[str] | None
    reason: str


def load_waivers() -> dict[str, list[Waiver]]:
    """``docs/squawk-waivers.md``: one ``- `rule` (scope, …) [on columns `c`, …]: reason``
    line per waiver."""
    waivers: dict[str, list[Waiver]] = {}
    for line in WAIVERS.read_text(encoding="utf-8").splitlines():
        if not line.startswith("- `"):
            continue
        match = _WAIVER.match(line)
        assert match, f"{WAIVERS.name}: not a waiver line: {line}"
        scopes = frozenset(s.strip() for s in match["scope"].split(","))
        assert scopes <= SCOPES, f"{WAIVERS.name}: unknown scope in {line}"
        columns = (
            frozenset(c.strip(" `") for c in match["columns"].split(","))
            if match["columns"]
            else None
        )
        waiver = Waiver(match["rule"], scopes, columns, match["reason"])
        waivers.setdefault(waiver.rule, []).append(waiver)
    return waivers


@dataclass(frozen=True)
class SqlFile:
    path: Path
    package: str
    revision: str
    contexts: frozenset[str]  # upgrade/downgrade, first, destructive


def write_sql(packages: list[Package], out: Path) -> list[SqlFile]:
    """The PostgreSQL SQL of each revision of each package, upgrade and downgrade."""
    files = []
    for package in packages:
        previous = None
        for revision in package.revisions:
            source = package.app / "migrations" / "versions" / f"{revision}.py"
            text = source.read_text(encoding="utf-8")
            destructive = "destructive = True" in text
            up_context = {"upgrade"} | ({"destructive"} if destructive else set())
            if previous is None:
                up_context.add("first")
            up = migrate.sql(
                package.app, "postgresql", f"{previous}:{revision}" if previous else revision
            )
            down = migrate.sql(
                package.app, "postgresql", f"{revision}:{previous or 'base'}", down=True
            )
            for direction, sql, context in (
                ("upgrade", up, up_context),
                ("downgrade", down, {"downgrade"}),
            ):
                path = out / f"{package.name}.{revision}.{direction}.sql"
                path.write_text(sql, encoding="utf-8")
                files.append(SqlFile(path, package.name, revision, frozenset(context)))
            previous = revision
    return files


def _column_at(sql: str, line: int) -> str | None:
    """The column a finding is about: first word of its line inside CREATE TABLE, or the
    column of an ADD COLUMN / ALTER COLUMN."""
    text = sql.splitlines()[line]
    match = re.search(r"(?:ADD|ALTER) COLUMN (\w+)", text) or re.match(r"\s+(\w+) ", text)
    return match.group(1) if match else None


def _squawk_version() -> str:
    done = subprocess.run([SQUAWK, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().removeprefix("squawk ")


def test_offline_sql(packages: list[Package]) -> None:
    """``runtime.migrate.sql`` writes a revision's SQL without a database, both ways."""
    app = _package(packages, "rename").app
    first, second, third = revisions(app)
    up = migrate.sql(app, "postgresql", f"{first}:{second}")
    assert up.startswith("BEGIN;") and up.rstrip().endswith("COMMIT;")
    assert "ALTER TABLE form_ibr_form RENAME TO form_ibr_application;" in up
    assert "CREATE TABLE alembic_version" not in up  # a range: the table is there
    down = migrate.sql(app, "postgresql", f"{third}:{second}", down=True)
    assert "ALTER TABLE form_ibr_application ADD COLUMN business_scope TEXT;" in down
    everything = migrate.sql(app)  # every revision, from the start
    assert "CREATE TABLE alembic_version" in everything
    assert everything.count("-- Running upgrade") == 3


def test_squawk_findings_are_all_waived(packages: list[Package], tmp_path: Path) -> None:
    if shutil.which(SQUAWK) is None:
        pytest.skip("squawk is not installed (pip install squawk-cli)")
    files = write_sql(packages, tmp_path)
    for sql_file in files:  # something to lint in each
        assert "-- Running " in sql_file.path.read_text(encoding="utf-8"), sql_file
    done = subprocess.run(
        [SQUAWK, "--reporter", "json", *(str(f.path) for f in files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout or "[]")
    waivers = load_waivers()
    by_path = {str(f.path): f for f in files}
    used: set[Waiver] = set()
    seen: set[tuple[str, str | None]] = set()
    unwaived = []
    for finding in findings:
        sql_file = by_path[finding["file"]]
        sql = sql_file.path.read_text(encoding="utf-8")
        column = _column_at(sql, finding["line"])
        match = next(
            (
                w
                for w in waivers.get(finding["rule_name"], [])
                if ("all" in w.scopes or w.scopes & sql_file.contexts)
                and (w.columns is None or column in w.columns)
            ),
            None,
        )
        if match is None:
            statement = sql.splitlines()[finding["line"]].strip()
            unwaived.append(
                f"{sql_file.package} {sql_file.revision} "
                f"({', '.join(sorted(sql_file.contexts))}) line {finding['line'] + 1}: "
                f"{finding['rule_name']}: {finding['message']} [{statement}]"
            )
        else:
            used.add(match)
            seen.add((finding["rule_name"], column))
    assert not unwaived, "squawk findings not waived in docs/squawk-waivers.md:\n" + "\n".join(
        unwaived
    )
    unused = [w for ws in waivers.values() for w in ws if w not in used]
    print(
        f"[migration safety] squawk {_squawk_version()}: {len(files)} SQL files, "
        f"{len(findings)} findings, all waived by {len(used)} waivers"
        + (f"; unused: {', '.join(w.rule for w in unused)}" if unused else "")
    )
    if os.environ.get("GOVSTD_SQUAWK_VERBOSE"):
        print("\n".join(f"  {rule} on {column}" for rule, column in sorted(seen, key=str)))


# ---------------------------------------------------------------- encrypted values


def test_sensitive_values_stay_readable_after_a_rename(
    packages: list[Package], tmp_path: Path
) -> None:
    """A case filed before nanshan-v2's last revision renamed the sensitive field mobile_phone
    (to contact_mobile) still shows its phone number after the upgrade."""
    v2 = _package(packages, "nanshan-v2")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate.upgrade(v2.app, url, v2.revisions[-2])  # the committed package's head

    settings = settings_for(FrozenClock(), tmp_path)
    token = {"Authorization": "Bearer " + issue_token(settings, role="applicant", sub="a1")}

    async def call(app_dir: Path, method: str, path: str, **kw: Any) -> httpx.Response:
        async with client_of(app_dir, url, settings) as client:
            return await client.request(method, path, headers=token, **kw)

    body = {"region": "nanshan", "data": ibr_data()}
    filed = anyio.run(
        lambda: call(GENERATED / "nanshan", "POST", "/api/matters/ibr/applications", json=body)
    )
    assert filed.status_code == 201, filed.text
    migrate.upgrade(v2.app, url)
    shown = anyio.run(lambda: call(v2.app, "GET", f"/api/applications/{filed.json()['id']}"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["data"]["contact_mobile"] == ibr_data()["mobile_phone"]
