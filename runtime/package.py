"""The one place handwritten code imports a generated deployment package.

:func:`load_package` checks the files against ``package.json``, reads the index
``catalog.json`` and imports the package folder's ``models.py`` (the core tables) as a
Python package under a unique module name (``govstd_package_<hash>``), so two packages
can be loaded side by side (tests) and nothing depends on ``sys.path``.

The rest of the runtime sees a :class:`Package`: regions with their matters,
workflows, calendars and code sets from the catalog, the forms' ``FormSpec``
objects, and the tables as SQLAlchemy Core ``Table`` objects. What grows with the
number of matters is loaded on first use, so a province's package of 10,000 matters
starts in about the time of a small one (issue 13): a form's module
(``forms/<form>.py``, its pattern checked) and its tables (``tables/<form>.py``) when
the form is first used; a matter's guide and materials (a document of the packs
``matters/<h>.jsonl``, ``runtime/packs.py``) through a bounded cache; a form's JSON
Schema and an earlier version of the rules from their packs when asked for; the data
resource catalogue (``resources.json``) and ``openapi.json`` when asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import importlib
import importlib.util
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
from sqlalchemy import MetaData, Table

from runtime.catalogue import Catalogue
from runtime.clock import WorkCalendar
from runtime.formspec import FormSpec
from runtime.packs import MATTERS, PACKAGE_FORMAT, RULES, SCHEMAS, PackFormatError, Packs, pack_name
from runtime.packs import SUFFIX as PACK_SUFFIX
from runtime.patterns import pattern_problem
from runtime.rules import CaseRules, form_document, rules_document, rules_hash
from runtime.types import GovstdError, bilingual
from runtime.workflow import Workflow

log = logging.getLogger("govstd.runtime")

DETAILS_CACHED = 2048  # matters whose guide and materials are kept in memory
VERIFY_THREADS = 4  # at most, to hash the package's files at start
RACY_NS = 2_000_000_000  # a file written this recently is hashed at every start


class PackageError(GovstdError):
    """The folder is not a usable deployment package; the message says what is missing."""


class Details:
    """What the package loads on first use: a matter's document (in the packs
    ``matters/<h>.jsonl``, the last :data:`DETAILS_CACHED` kept) and a form's rules
    document, shared by its matters."""

    def __init__(self, packs: Packs, forms: Mapping[str, FormSpec]) -> None:
        self.packs = packs
        self.forms = forms
        self.matter = lru_cache(maxsize=DETAILS_CACHED)(self._read)
        self.form_document = lru_cache(maxsize=DETAILS_CACHED)(self._form_document)

    def _read(self, key: str) -> dict[str, Any]:
        found = _document(self.packs, MATTERS, key)
        if not isinstance(found, dict):
            raise PackageError(f"{key}: 不是事项", f"{key}: not a matter")
        return found

    def _form_document(self, form_id: str) -> dict[str, Any]:
        return form_document(self.forms[form_id])


@dataclass(frozen=True)
class Matter:
    """One matter as one region implements it: its entry in ``catalog.json``; its guide and
    materials (the ``MatterIR``, a document of the packs ``matters/<h>.jsonl``) are read on
    first use."""

    id: str
    name: dict[str, str]
    type: str
    form: str
    workflow: str
    case_type: str
    promised: dict[str, Any] | None
    service_objects: tuple[str, ...]
    version: str | None
    detail: str  # the key of its guide and materials in the matters packs: <region>/<id>
    details: Details = field(repr=False, compare=False)
    pinyin: tuple[str, ...] = ()  # its Chinese name's pinyin initials and whole pinyin

    @classmethod
    def from_json(cls, data: dict[str, Any], details: Details) -> Matter:
        return cls(
            id=data["id"],
            name=data["name"],
            type=data["type"],
            form=data["form"],
            workflow=data["workflow"],
            case_type=data.get("case_type", "commitment"),
            promised=data.get("promised"),
            service_objects=tuple(data.get("service_objects", ())),
            version=data.get("version"),
            detail=data["detail"],
            details=details,
            pinyin=tuple(data.get("pinyin", ())),
        )

    @property
    def guide(self) -> dict[str, Any]:
        """The complete service guide, as the implementer wrote it (merged)."""
        guide: dict[str, Any] = self.details.matter(self.detail).get("guide", {})
        return guide

    @property
    def materials(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.details.matter(self.detail).get("materials", ()))

    @cached_property
    def rules(self) -> str:
        """The hash of its current rules (runtime/rules.py); empty without its form."""
        if self.form not in self.details.forms:
            return ""
        doc = self.details.form_document(self.form)
        return rules_hash(rules_document(doc, self.materials, self.promised))

    def material(self, material_id: str) -> dict[str, Any] | None:
        return next((m for m in self.materials if m.get("id") == material_id), None)


@dataclass(frozen=True)
class Share:
    """What one member's form takes from a bundle's combined data (member id -> key)."""

    matter: str
    form: str
    fields: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bundle:
    """A bundle (一件事) from ``catalog.json``; its combined form is ``schemas/bundles/``."""

    id: str
    name: dict[str, str]
    description: dict[str, str] | None
    matters: tuple[str, ...]
    shares: tuple[Share, ...]
    keys: frozenset[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bundle:
        return cls(
            id=data["id"],
            name=data["name"],
            description=data.get("description"),
            matters=tuple(data["matters"]),
            shares=tuple(
                Share(
                    s["matter"],
                    s["form"],
                    tuple((a, b) for a, b in s["fields"]),
                    tuple((a, b) for a, b in s["groups"]),
                )
                for s in data.get("shares", ())
            ),
            keys=frozenset(data.get("keys", ())),
        )


@dataclass(frozen=True)
class Policy:
    """A policy (惠企政策) from ``catalog.json``."""

    id: str
    name: dict[str, str]
    description: dict[str, str] | None
    issuer: dict[str, str]
    regions: tuple[str, ...]
    valid_from: str | None  # ISO dates, China time, inclusive
    valid_to: str | None
    audience: tuple[str, ...]
    profile: str
    eligible: str
    benefit: dict[str, str]
    apply: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        return cls(
            id=data["id"],
            name=data["name"],
            description=data.get("description"),
            issuer=data["issuer"],
            regions=tuple(data["regions"]),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            audience=tuple(data.get("audience", ())),
            profile=data["profile"],
            eligible=data["eligible"],
            benefit=data["benefit"],
            apply=data["apply"],
        )


@dataclass(frozen=True)
class Region:
    id: str
    code: str
    name: dict[str, str]
    parent: str | None
    calendar: WorkCalendar
    matters: dict[str, Matter]


class OnFirstUse(Mapping[str, Any]):
    """A mapping of known keys whose values are made on first access, once (thread-safe):
    ``in``, ``len`` and iterating the keys make nothing."""

    def __init__(self, keys: Iterator[str] | tuple[str, ...], make: Callable[[str], Any]):
        self._keys = dict.fromkeys(keys)
        self._made: dict[str, Any] = {}
        self._make = make
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Any:
        try:
            return self._made[key]
        except KeyError:
            if key not in self._keys:
                raise
        with self._lock:
            if key not in self._made:
                self._made[key] = self._make(key)
        return self._made[key]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True)
class Tables:
    """The Core tables of ``models.py``; a form's (``forms``, ``groups``: form id -> group id
    -> table) are those of ``tables/<form>.py``, imported on the form's first use."""

    applications: Table
    transitions: Table
    material_files: Table
    evaluations: Table
    audit_log: Table
    idempotency_keys: Table
    counters: Table
    bundle_filings: Table
    profiles: Table
    notifications: Table
    policy_deliveries: Table
    policy_claims: Table
    events: Table
    event_receivers: Table
    event_deliveries: Table
    objections: Table
    licence_fetches: Table
    forms: Mapping[str, Table]
    groups: Mapping[str, Mapping[str, Table]]


@dataclass(frozen=True)
class Package:
    path: Path
    region: str  # the deployment's own region; the others are below it
    regions: dict[str, Region]
    workflows: dict[str, Workflow]
    codesets: dict[str, dict[str, Any]]
    forms: Mapping[str, FormSpec]  # each form's module imported on first use
    tables: Tables
    metadata: MetaData  # the core tables' and those of the forms used so far
    source_hash: str
    catalog: dict[str, Any] = field(repr=False)  # the index, catalog.json
    bundles: dict[str, Bundle] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    archived: dict[str, CaseRules] = field(default_factory=dict, repr=False)  # hash -> rules
    packs: Packs | None = field(default=None, repr=False)  # those package.json lists

    @cached_property
    def data_catalogue(self) -> Catalogue:
        """The data resource catalogue (``resources.json``, runtime/catalogue.py), read on
        first use."""
        return Catalogue.from_json(_read_json(self.path / "resources.json"))

    @property
    def openapi(self) -> bytes | None:
        """``openapi.json``, read when asked for (a province's is tens of megabytes)."""
        try:
            return (self.path / "openapi.json").read_bytes()
        except FileNotFoundError:
            return None

    def current_rules(self, matter: Matter) -> CaseRules:
        """The rules new cases of ``matter`` are filed under."""
        found = self.archived.get(matter.rules)
        if found is None:
            found = CaseRules(
                matter.rules, self.forms[matter.form], matter.materials, matter.promised
            )
            self.archived[matter.rules] = found
        return found

    def rules(self, digest: str, matter: Matter | None = None) -> CaseRules | None:
        """The rules with this hash: current, or kept in the packs ``rules/<h>.jsonl``; else
        None.

        A kept form that no longer fits the tables (a field or the form renamed, or
        dropped, since) gives way to the current form of its id, else of ``matter``."""
        found = self.archived.get(digest)
        if found is not None or self.packs is None:
            return found
        doc = _document(self.packs, RULES, digest)  # packs verified by load_package
        if doc is None:
            return None
        found = CaseRules.from_document(digest, doc)
        current = self.forms.get(found.form.id) or (
            self.forms.get(matter.form) if matter is not None else None
        )
        if current is not None and not _stored_in(self.tables, found.form):
            # renamed (renamed_from) or dropped since: the columns are gone, so the case's
            # data follows the form it moved to; materials and limit stay the case's
            log.warning(
                "规则版本 %s 的表单 %s 与现有数据表不符（字段已改名或删除），按现行表单处理 / "
                "rules %s: form %s no longer matches the tables (a field renamed or dropped); "
                "its cases use the current form",
                digest[:16],
                found.form.id,
                digest[:16],
                found.form.id,
            )
            found = dataclasses.replace(found, form=current)
        self.archived[digest] = found
        return found

    def subtree(self, region_id: str | None) -> frozenset[str]:
        """``region_id`` and every served region below it (empty when not served)."""
        if region_id is None or region_id not in self.regions:
            return frozenset()
        found = {region_id}
        changed = True
        while changed:
            changed = False
            for r in self.regions.values():
                if r.parent in found and r.id not in found:
                    found.add(r.id)
                    changed = True
        return frozenset(found)

    def matter_anywhere(self, matter_id: str) -> Matter | None:
        """The matter as the first region implementing it has it (deployment region first)."""
        for region in self.regions.values():
            if matter_id in region.matters:
                return region.matters[matter_id]
        return None

    def ancestors(self, region_id: str) -> tuple[str, ...]:
        """``region_id`` and the served regions above it, nearest first."""
        chain: list[str] = []
        current: str | None = region_id
        while current is not None and current in self.regions and current not in chain:
            chain.append(current)
            current = self.regions[current].parent
        return tuple(chain)

    def bundle_schema(self, bundle_id: str) -> bytes | None:
        if bundle_id not in self.bundles:
            return None
        try:
            return (self.path / "schemas" / "bundles" / f"{bundle_id}.json").read_bytes()
        except OSError:
            return None

    def form_schema(self, form_id: str) -> bytes | None:
        """The JSON Schema of the form's data (its document in ``schemas/<h>.jsonl``)."""
        if form_id not in self.forms or self.packs is None:
            return None
        return _pack_read(self.packs, SCHEMAS, form_id)


def _pack_read(packs: Packs, kind: str, key: str) -> bytes | None:
    """The bytes of document ``key`` of ``kind``; a pack not as written is a PackageError."""
    try:
        return packs.get(kind, key)
    except PackFormatError as exc:
        raise PackageError(str(exc)) from None


def _document(packs: Packs, kind: str, key: str) -> Any:
    """The JSON of document ``key`` of ``kind``; None when there is none."""
    raw = _pack_read(packs, kind, key)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except ValueError as exc:
        where = f"{pack_name(kind, key)}: {key}"
        raise PackageError(
            f"{where}: 不是有效的 JSON", f"{where}: not valid JSON ({exc})"
        ) from None


def _read_json(path: Path) -> Any:
    """The JSON in ``path`` (orjson: a province's index and manifest are megabytes)."""
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise PackageError(_missing(path)) from None
    except ValueError as exc:
        raise PackageError(f"{path}: 不是有效的 JSON", f"{path}: not valid JSON ({exc})") from None


def _missing(path: Path) -> str:
    return bilingual(
        f"{path}: 文件缺失（这是 'govstd generate' 写出的文件夹吗？）",
        f"{path}: missing (is this a folder written by 'govstd generate'?)",
    )


def import_package(path: Path) -> ModuleType:
    """Import the package folder as a Python package with a name unique to its path."""
    init = path / "__init__.py"
    if not init.is_file():
        raise PackageError(_missing(init))
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    name = f"govstd_package_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(path)]
    )
    if spec is None or spec.loader is None:
        raise PackageError(f"{path}: 无法导入", f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def _table_of(source: str, cls: Any) -> Table:
    t = getattr(cls, "__table__", None)
    if not isinstance(t, Table):
        raise PackageError(
            f"{source}: {cls!r} 不是映射的数据表", f"{source}: {cls!r} is not a mapped table"
        )
    return t


def _tables(package: str, models: ModuleType, form_ids: tuple[str, ...]) -> tuple[Tables, MetaData]:
    """The core tables of ``models.py``; each form's from ``tables/<form>.py`` on first use."""
    base = getattr(models, "Base", None)
    metadata = getattr(base, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise PackageError(
            "models.py 中没有带 metadata 的 Base", "models.py has no Base with metadata"
        )
    named = metadata.tables

    def table(name: str) -> Table:
        if name not in named:
            raise PackageError(
                f"models.py 中没有数据表 {name!r}", f"models.py has no table {name!r}"
            )
        return named[name]

    modules = OnFirstUse(form_ids, lambda form: _import(package, f"tables.{form}"))

    def form_table(form: str) -> Table:
        return _table_of(f"tables/{form}.py", getattr(modules[form], "TABLE", None))

    def group_tables(form: str) -> dict[str, Table]:
        groups = getattr(modules[form], "GROUPS", {})
        return {g: _table_of(f"tables/{form}.py", cls) for g, cls in groups.items()}

    core = {f.name: table(f.name) for f in fields(Tables) if f.name not in ("forms", "groups")}
    tables = Tables(
        **core,
        forms=OnFirstUse(form_ids, form_table),
        groups=OnFirstUse(form_ids, group_tables),
    )
    return tables, metadata


def _import(package: str, name: str) -> ModuleType:
    """``package.name`` imported; a module that is missing is a :class:`PackageError`."""
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        module_name = f" {exc.name}" if exc.name else ""
        raise PackageError(
            f"找不到模块{module_name}", f"{exc}; generate the package again"
        ) from None


def _form(path: Path, package: str, form_id: str) -> FormSpec:
    """The FormSpec of ``forms/<form_id>.py``, its patterns checked."""
    form = getattr(_import(package, f"forms.{form_id}"), "FORM", None)
    if not isinstance(form, FormSpec):
        raise PackageError(
            f"{path}: forms/{form_id}.py 中没有 FORM", f"{path}: forms/{form_id}.py has no FORM"
        )
    _check_patterns(path, form)
    return form


def _regions(catalog: dict[str, Any], details: Details) -> dict[str, Region]:
    calendars = {c["id"]: c for c in catalog.get("calendars", [])}
    raw = {r["id"]: r for r in catalog.get("regions", [])}

    def calendar_of(region_id: str | None) -> dict[str, Any] | None:
        seen: set[str] = set()
        while region_id and region_id in raw and region_id not in seen:
            seen.add(region_id)
            cal = raw[region_id].get("calendar")
            if cal:
                return calendars.get(cal)
            region_id = raw[region_id].get("parent")
        return None

    return {
        rid: Region(
            id=rid,
            code=r["code"],
            name=r["name"],
            parent=r.get("parent"),
            calendar=WorkCalendar.from_spec(calendar_of(rid)),
            matters={m["id"]: Matter.from_json(m, details) for m in r.get("matters", [])},
        )
        for rid, r in raw.items()
    }


def _stored_in(tables: Tables, form: FormSpec) -> bool:
    """Every field of ``form`` has its column (and every group its table) today."""
    table = tables.forms.get(form.id)
    if table is None or any(f.id not in table.columns for f in form.fields):
        return False
    groups = tables.groups.get(form.id, {})
    return all(
        g.id in groups and all(f.id in groups[g.id].columns for f in g.fields) for g in form.groups
    )


def verify_files(path: Path, manifest: dict[str, Any]) -> None:
    """Every file ``package.json`` lists is there with its recorded sha256.

    A package half written (an interrupted ``govstd generate``) or edited by hand
    would serve forms, tables and a catalog that do not belong together: refused.

    A file is hashed unless ``.govstd/verified.json`` (outside the package, written here
    after a verification, when the folder is writable) has it with the same sha256 and
    the same size, inode, modification and change times: git's index does the same. Any
    write changes the change time (which no tool can set back), and a copy changes the
    inode, so a file edited or replaced since is hashed again; hashing a province's
    50,000 files (560 MB) took 1.6 s of every start.
    """
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise PackageError(
            f"{path / 'package.json'}: 未列出任何文件（请用 govstd generate 生成）",
            f"{path / 'package.json'}: lists no files (write it with govstd generate)",
        )
    wrong = [f"{name} (not in package.json)" for name in _unlisted_revisions(path, files)]
    listed = sorted(files.items())
    inside: dict[str, bool] = {}  # folder -> whether it is in the package, symlinks followed
    known = _verified(path)
    seen: dict[str, list[Any]] = {}
    # hashlib and reads let go of the GIL: a province's 50,000 files hash on every core
    workers = min(VERIFY_THREADS, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(
            lambda part: [_file_problem(path, n, r, inside, known, seen) for n, r in part],
            [listed[i::workers] for i in range(workers)],
        )
        problems = sorted(p for part in parts for p in part if p is not None)
    wrong += [text for _, text in problems]
    if not wrong and seen != known:
        _record_verified(path, seen)
    if wrong:
        shown = ", ".join(wrong[:5]) + (f", … ({len(wrong)} in all)" if len(wrong) > 5 else "")
        raise PackageError(
            f"{path}: 部署包不完整或被手工修改，请重新生成 / the package does not match its "
            f"package.json (half written or edited by hand; run govstd generate again): {shown}"
        )


VERIFIED = ".govstd/verified.json"


def _verified(path: Path) -> dict[str, list[Any]]:
    """What ``.govstd/verified.json`` says was verified (name -> sha256 and stat)."""
    try:
        found = orjson.loads((path / VERIFIED).read_bytes())
        return dict(found["files"]) if found.get("format") == 1 else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _record_verified(path: Path, seen: dict[str, list[Any]]) -> None:
    """Write ``.govstd/verified.json``; a folder not writable is no error."""
    target = path / VERIFIED
    tmp = target.with_name(f".verified-{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        target.parent.mkdir(exist_ok=True)
        tmp.write_bytes(orjson.dumps({"format": 1, "files": seen}))
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _stat_key(st: os.stat_result) -> list[Any]:
    return [st.st_size, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns]


def _file_problem(
    path: Path,
    name: str,
    recorded: Any,
    inside: dict[str, bool],
    known: dict[str, list[Any]],
    seen: dict[str, list[Any]],
) -> tuple[str, str] | None:
    """``(name, what is wrong)`` with the listed file ``name``; None when it is as recorded
    (then ``seen[name]``: its sha256 and stat, unless written in the last seconds: a
    later write in the same tick of a coarse clock would not change them).

    Outside the package: a name through ``..``, absolute, or through a symlink that leads
    out; each folder is resolved once (resolving each of 50,000 files took seconds)."""
    try:
        target = os.path.join(path, name)
        folder = os.path.dirname(target)
        if folder not in inside:
            inside[folder] = Path(folder).resolve().is_relative_to(path)
        if not inside[folder]:
            return name, f"{name} (outside the package)"
        if name in known:  # a regular file as verified before: not even opened
            st = os.lstat(target)
            if stat.S_ISREG(st.st_mode) and known[name] == [recorded, *_stat_key(st)]:
                seen[name] = known[name]
                return None
        try:
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            if not Path(target).resolve().is_relative_to(path):  # the file is a symlink
                return name, f"{name} (outside the package)"
            fd = os.open(target, os.O_RDONLY)
        with open(fd, "rb") as f:
            key = _stat_key(os.fstat(fd))
            actual = hashlib.file_digest(f, "sha256").hexdigest()
            if actual == recorded and time.time_ns() - max(key[3:]) > RACY_NS:
                seen[name] = [recorded, *key]
    except FileNotFoundError:
        return name, f"{name} (missing)"
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL in a name, a symlink loop
        return name, f"{name!r} (unreadable: {type(exc).__name__})"
    return None if actual == recorded else (name, f"{name} (changed)")


def _unlisted_revisions(path: Path, files: dict[str, Any]) -> list[str]:
    """Revisions alembic would run that the generator did not write (added by hand)."""
    versions = path / "migrations" / "versions"
    found = sorted(p.relative_to(path).as_posix() for p in versions.glob("*.py"))
    return [name for name in found if name not in files]


def check_package(app_dir: str | Path) -> None:
    """:class:`PackageError` unless ``app_dir`` holds a whole, unedited package of this
    format."""
    path = Path(app_dir).resolve()
    manifest = _read_json(path / "package.json")
    _check_format(path, manifest)
    verify_files(path, manifest)


def _check_patterns(path: Path, form: FormSpec) -> None:
    """Every pattern compiles with RE2 (the generator checks it; a form module edited, or
    written by a generator from before patterns ran on RE2, may hold one that does not):
    refused when the form is loaded, not with a 500 at its first submission."""
    fields = [*form.fields, *(f for g in form.groups for f in g.fields)]
    for f in fields:
        for pattern in f.patterns:
            problem = pattern_problem(pattern)
            if problem is not None:
                raise PackageError(
                    f"{path}: 表单 {form.id} 字段 {f.id} 的 pattern {pattern!r} "
                    "不是有效的 RE2 正则表达式；请用 govstd generate 重新生成部署包",
                    f"{path}: form {form.id}, field {f.id}: pattern {pattern!r} is "
                    f"not valid RE2 ({problem}); regenerate the package with "
                    "govstd generate",
                )


def _check_format(path: Path, manifest: dict[str, Any]) -> None:
    """A package written by an earlier generator (guides in ``catalog.json`` or in a file
    each, ``matters/…/<id>.json``; tables in ``models.py``; schemas and rules in a file
    each) is refused with a message saying to generate it again."""
    if manifest.get("format") != PACKAGE_FORMAT:
        raise PackageError(
            f"{path}: 部署包由旧版 govstd generate 写出，请重新生成",
            f"{path}: the package was written by an older govstd generate (package.json "
            f"format {manifest.get('format')!r}, not {PACKAGE_FORMAT}: guides, schemas and "
            "rules in a file each); generate it again",
        )


def load_package(app_dir: str | Path) -> Package:
    """Load the deployment package in ``app_dir``; :class:`PackageError` says what is wrong."""
    path = Path(app_dir).resolve()
    if not path.is_dir():
        raise PackageError(f"{path}: 文件夹不存在", f"{path}: no such folder")
    manifest = _read_json(path / "package.json")
    _check_format(path, manifest)
    verify_files(path, manifest)
    catalog = _read_json(path / "catalog.json")
    name = import_package(path).__name__
    models = _import(name, "models")
    form_ids = tuple(catalog.get("forms", ()))
    forms = OnFirstUse(form_ids, lambda form_id: _form(path, name, form_id))
    tables, metadata = _tables(name, models, form_ids)
    try:  # verified above: open now, so that the files verified are the files read
        packs = Packs(path, frozenset(n for n in manifest["files"] if n.endswith(PACK_SUFFIX)))
    except OSError as exc:
        raise PackageError(f"{path}: {exc}") from None
    return Package(
        path=path,
        region=catalog["region"],
        regions=_regions(catalog, Details(packs, forms)),
        workflows={w["id"]: Workflow.from_json(w) for w in catalog.get("workflows", [])},
        codesets={c["id"]: c for c in catalog.get("codesets", [])},
        forms=forms,
        tables=tables,
        metadata=metadata,
        source_hash=str(manifest.get("source_hash", "")),
        catalog=catalog,
        bundles={b["id"]: Bundle.from_json(b) for b in catalog.get("bundles", [])},
        policies={p["id"]: Policy.from_json(p) for p in catalog.get("policies", [])},
        packs=packs,
    )
