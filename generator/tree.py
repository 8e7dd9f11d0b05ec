"""Load a standards tree: every ``*.yaml``/``*.yml`` below one or more roots, as one tree."""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from generator.diagnostics import Diagnostics, Location
from generator.kinds import (
    KINDS,
    Bundle,
    Calendar,
    CodeSet,
    CodeValue,
    DataElement,
    Form,
    Matter,
    Model,
    Policy,
    Region,
    Workflow,
)
from generator.parse import build
from generator.parse_ahead import ParseAhead
from generator.yamlsource import (
    MAX_FILE_BYTES,
    Data,
    Document,
    Marks,
    NodeSource,
    child,
    load_file,
    location,
)
from runtime.types import bilingual

M = TypeVar("M", bound=Model)

CSV_COLUMNS = ["code", "zh", "en", "parent"]
KIND_WORDS = {  # how a message names each kind
    "CodeSet": "code set",
    "DataElement": "data element",
    "Form": "form",
    "Workflow": "workflow",
    "Matter": "matter",
    "Region": "region",
    "Calendar": "calendar",
    "Bundle": "bundle",
    "Policy": "policy",
}
KIND_WORDS_ZH = {  # … and a Chinese one
    "CodeSet": "代码集",
    "DataElement": "数据元",
    "Form": "表单",
    "Workflow": "办理流程",
    "Matter": "事项",
    "Region": "区域",
    "Calendar": "工作日历",
    "Bundle": "一件事",
    "Policy": "惠企政策",
}


@dataclass
class StandardsTree:
    """Every document of a tree, by kind and id; ``source_hash`` covers every file read."""

    roots: list[str]
    items: dict[str, dict[str, Model]] = field(default_factory=lambda: {k: {} for k in KINDS})
    files: list[str] = field(default_factory=list)
    source_hash: str = ""
    broken: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    """Ids of documents that had errors: already reported, so a reference is not one more."""

    def of(self, cls: type[M]) -> dict[str, M]:
        return self.items[cls.__name__]  # type: ignore[return-value]

    @property
    def codesets(self) -> dict[str, CodeSet]:
        return self.of(CodeSet)

    @property
    def elements(self) -> dict[str, DataElement]:
        return self.of(DataElement)

    @property
    def forms(self) -> dict[str, Form]:
        return self.of(Form)

    @property
    def workflows(self) -> dict[str, Workflow]:
        return self.of(Workflow)

    @property
    def matters(self) -> dict[str, Matter]:
        return self.of(Matter)

    @property
    def regions(self) -> dict[str, Region]:
        return self.of(Region)

    @property
    def calendars(self) -> dict[str, Calendar]:
        return self.of(Calendar)

    @property
    def bundles(self) -> dict[str, Bundle]:
        return self.of(Bundle)

    @property
    def policies(self) -> dict[str, Policy]:
        return self.of(Policy)


def yaml_files(root: Path) -> list[Path]:
    """YAML files below ``root`` in a stable order (their paths relative to ``root``),
    hidden files and folders skipped, unreadable folders too. One ``scandir`` per folder
    (a province's tree is 20,000 files: ``rglob`` and a ``stat`` each took 0.4 s)."""
    return [Path(path) for _, path in _yaml_entries(root)]


def _yaml_entries(root: Path) -> list[tuple[str, str]]:
    """yaml_files as (path relative to ``root`` with '/', path) strings."""
    found: list[tuple[str, str]] = []

    def walk(folder: str, relative: str) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            return
        for entry in listed:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                walk(entry.path, f"{relative}{entry.name}/")
            elif entry.name.endswith((".yaml", ".yml")) and entry.is_file():
                found.append((relative + entry.name, entry.path))

    walk(str(root), "")
    return sorted(found)


@contextmanager
def collector_off() -> Iterator[None]:
    """No cyclic garbage collection inside (and none forced at the end).

    Loading, checking, building and rendering allocate millions of long-lived objects
    (nodes, models, the intermediate model) and hardly any cycles: after loading 2,000
    matters a collection finds 1,406 unreachable objects, after rendering 690 (2,000
    matters of bench/synth.py ``--shared``). The collector would traverse the live
    objects again and again as they age through its generations — about half the load
    time and half the build time. Reference counting works throughout.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_tree(roots: Sequence[str | Path], diagnostics: Diagnostics) -> StandardsTree:
    with collector_off():
        return _load_tree(roots, diagnostics)


def _load_tree(roots: Sequence[str | Path], diagnostics: Diagnostics) -> StandardsTree:
    tree = StandardsTree(roots=[str(r) for r in roots])
    digest = hashlib.sha256()
    entries: list[tuple[Path, str, str, str]] = []  # root, relative path, path, as displayed
    for root_text in tree.roots:
        root = Path(root_text)
        if not root.is_dir():
            diagnostics.error(
                Location(root_text, 0, 0),
                bilingual("不是存放标准文件的文件夹", "not a folder of standards files"),
            )
            continue
        shown = (root / "_").as_posix()[:-1]  # the root as displayed, with '/' ('' for '.')
        entries += [(root, rel, file, shown + rel) for rel, file in _yaml_entries(root)]
    with ParseAhead([(file, display) for _, _, file, display in entries]) as ahead:
        for index, (root, relative, file, display) in enumerate(entries):
            path = Path(file)
            tree.files.append(display)
            digest.update(relative.encode() + b"\0")
            raw = None
            with contextlib.suppress(OSError):  # load_file reports an unreadable file
                raw = path.read_bytes()
                digest.update(raw)
                digest.update(b"\0")
            parsed = ahead.get(index)
            if parsed is not None and _add_parsed(tree, parsed, path, display, root, diagnostics):
                continue
            for document in load_file(path, display, diagnostics, raw):
                _add_document(tree, document, path, root, diagnostics)
    tree.source_hash = digest.hexdigest()
    from generator.extends import extend_codesets  # here: it imports this module

    extend_codesets(tree, diagnostics)
    if not tree.files and not diagnostics.has_errors():
        for root_text in tree.roots:
            diagnostics.error(
                Location(root_text, 0, 0),
                bilingual("此文件夹下没有 *.yaml 文件", "no *.yaml files found below this folder"),
            )
    return tree


def _add_document(
    tree: StandardsTree,
    document: Document,
    path: Path,
    root: Path,
    diags: Diagnostics,
) -> None:
    node, data = document.node, document.data
    kind = data.get("kind")
    if kind is None:
        diags.error(
            location(node),
            bilingual(
                "缺少必填键 'kind'", f"missing required key 'kind' (one of: {', '.join(KINDS)})"
            ),
        )
        return
    if not isinstance(kind, str) or kind not in KINDS:
        where = location(child(node, "kind") or node)
        diags.error(
            where,
            bilingual(
                f"未知的文档种类 {kind!r}",
                f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}",
            ),
        )
        return
    cls = KINDS[str(kind)]
    model = build(cls, node, data, diags, document.source)
    if model is None:
        if isinstance(data.get("id"), str):
            tree.broken[str(kind)].add(str(data["id"]))
        return
    _add_model(tree, str(kind), str(data["id"]), model, path, root, diags)


def _add_parsed(
    tree: StandardsTree,
    documents: list[tuple[Data, Marks]],
    path: Path,
    display: str,
    root: Path,
    diags: Diagnostics,
) -> bool:
    """Add the documents of a file parsed in another process (generator/parse_ahead.py):
    their models built here from the data, told where they were read by the marks. False,
    with nothing added, when any document has a problem: the file is then loaded here, so
    that every message is made the same way."""
    models: list[tuple[str, str, Model, Marks]] = []
    for data, marks in documents:
        if not isinstance(data, dict):
            return False
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            return False
        try:
            model = KINDS[kind].model_validate(data)
        except ValidationError:
            return False
        models.append((kind, str(data["id"]), model, marks))
    for index, (kind, ident, model, marks) in enumerate(models):
        model.attach_marks(marks, NodeSource(str(path), display, index))
        _add_model(tree, kind, ident, model, path, root, diags)
    return True


def _add_model(
    tree: StandardsTree,
    kind: str,
    ident: str,
    model: Model,
    path: Path,
    root: Path,
    diags: Diagnostics,
) -> None:
    existing = tree.items[kind].get(ident)
    if existing is not None:
        diags.error(
            model.at("id"),
            bilingual(
                f"{KIND_WORDS_ZH.get(str(kind), kind)} id '{ident}' 重复："
                f"已在 {existing.at('id')} 定义",
                f"duplicate {kind} id '{ident}': already defined at {existing.at('id')}",
            ),
        )
        return
    if isinstance(model, CodeSet) and model.values_file:
        _load_values_file(model, path.parent / model.values_file, root, diags)
    tree.items[kind][ident] = model


def _load_values_file(codeset: CodeSet, path: Path, root: Path, diags: Diagnostics) -> None:
    display = str(Path(codeset.file).parent / codeset.values_file) if codeset.values_file else ""
    inside = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if inside == os.curdir or inside.split(os.sep)[0] == os.pardir:
        # A tree is self-contained; and an error must not quote a file from elsewhere.
        diags.error(
            codeset.at("values_file"),
            bilingual(
                f"values_file {codeset.values_file} 不是标准树 {root.as_posix()} 内的文件；"
                "请写相对于本 YAML 文件、位于树内的路径",
                f"values_file {codeset.values_file} is not a file inside the standards tree "
                f"{root.as_posix()}; give a path relative to this YAML file, within the tree",
            ),
        )
        return
    try:
        if path.exists() and not path.is_file():  # a folder, a device, a FIFO: never read
            raise OSError("not a regular file")
        if path.exists() and path.stat().st_size > MAX_FILE_BYTES:
            raise OSError(f"larger than {MAX_FILE_BYTES} bytes (split it)")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        diags.error(
            codeset.at("values_file"),
            bilingual(
                f"无法读取 values_file {display}", f"cannot read values_file {display}: {exc}"
            ),
        )
        return
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0]] != CSV_COLUMNS:
        diags.error(
            Location(display, 1, 1),
            bilingual(
                f"values_file 的表头必须是 {','.join(CSV_COLUMNS)}",
                f"values_file header must be {','.join(CSV_COLUMNS)} "
                f"(got {','.join(rows[0]) if rows else 'nothing'})",
            ),
        )
        return
    for number, row in enumerate(rows[1:], start=2):
        where = Location(display, number, 1)
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_COLUMNS):
            diags.error(
                where,
                bilingual(
                    f"此行有 {len(row)} 列，应为 {len(CSV_COLUMNS)} 列：code,zh,en,parent",
                    f"row has {len(row)} columns; expected {len(CSV_COLUMNS)}: code,zh,en,parent",
                ),
            )
            continue
        code, zh, en, parent = (cell.strip() for cell in row)
        if not code or not zh:
            diags.error(
                where, bilingual("此行需要 code 和 zh 名称", "row needs a code and a zh name")
            )
            continue
        name = {"zh": zh, "en": en} if en else {"zh": zh}
        value = CodeValue(code=code, name=name, parent=parent or None)
        value._row = where
        codeset._file_values.append(value)
