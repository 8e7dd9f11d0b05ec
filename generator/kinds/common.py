"""Vocabulary shared by every kind: ids, codes, localized text, the located base model."""

from __future__ import annotations

import datetime
import functools
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    WithJsonSchema,
)

from generator.diagnostics import Location
from generator.yamlsource import Marks, NodeSource, child, descend, location

ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1)]
Date = Annotated[datetime.date, Field(strict=False)]
Number = int | float


def _localized(value: object) -> object:
    if isinstance(value, str):
        return {"zh": value}
    if isinstance(value, dict) and "zh" not in value:
        raise ValueError("localized text needs a 'zh' entry, e.g. {zh: 名称, en: Name}")
    return value


LOCALIZED_SCHEMA = {
    "title": "Localized",
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["zh"],
            "additionalProperties": {"type": "string", "minLength": 1},
        },
    ],
}
Localized = Annotated[
    dict[str, Text], BeforeValidator(_localized), WithJsonSchema(LOCALIZED_SCHEMA)
]
"""A string (taken as zh) or a mapping of locale to string with ``zh`` required."""

Status = Literal["draft", "standard", "deprecated", "retired"]


def empty() -> Any:
    """An empty list or mapping as a default, made fresh per model (no deep copy of ``[]``)."""
    return Field(default_factory=list)


def empty_mapping() -> Any:
    return Field(default_factory=dict)


def text(value: dict[str, str] | None, lang: str = "zh") -> str:
    """The text of a localized value in ``lang``, falling back to zh."""
    if not value:
        return ""
    return value.get(lang) or value["zh"]


class Model(BaseModel):
    """A part of a document; remembers where in the YAML it was read from.

    A model read from a file keeps its own ``file:line:col`` and the way to its node
    (:class:`NodeSource` and the keys below the document), not the node graph: the
    graph of a province's tree (millions of nodes) would outweigh the models many
    times over. The rare caller that needs the node (a problem's exact place, a
    region's overrides) gets it from the file read again (:attr:`node`).
    """

    # A field's docstring (``中文 / English e.g. `value` ``) is its description: the format
    # reference (docs/standards-format.md) and ``govstd schema`` read it from the source
    # (generator/schema.py); pydantic's use_attribute_docstrings would add ~0.4 s to start-up.
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)
    _where: Location | None = PrivateAttr(default=None)
    _yaml: yaml.Node | None = PrivateAttr(default=None)  # a node built in memory (merged)
    _ref: tuple[NodeSource, tuple[object, ...]] | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Private attributes set up by one dict copy per model (:func:`_private_init`)."""
        super().__pydantic_init_subclass__(**kwargs)
        cls.model_post_init = _private_init(cls)  # type: ignore[method-assign]

    @property
    def private(self) -> dict[str, Any]:
        """The private attributes by name, read and written without pydantic's
        ``__getattr__`` (a Python call per access, on paths that run for every model)."""
        private = self.__pydantic_private__
        assert private is not None
        return private

    @property
    def node(self) -> yaml.Node | None:
        """The YAML node this model was read from (None for a model built in code)."""
        private = self.private
        own, ref = private["_yaml"], private["_ref"]
        if own is not None or ref is None:
            return own  # type: ignore[no-any-return]
        source, steps = ref
        root = source.node()
        return descend(root, steps) if root is not None else None

    def at(self, *path: object) -> Location:
        """Location of the node at ``path`` below this one (or of this one)."""
        private = self.private
        where: Location | None = private["_where"]
        if not path and where is not None:
            return where
        node = self.node
        if node is None:
            return where or Location("<unknown>")
        return location(descend(node, path))

    def attach_marks(
        self, marks: Marks, source: NodeSource, steps: tuple[object, ...] = ()
    ) -> None:
        """:meth:`attach` from the marks of the node (:func:`marks_of`), made where the file
        was parsed (generator/parse_ahead.py)."""
        line, column, children = marks
        private = self.private
        private["_where"] = Location(source.display, line, column)
        private["_ref"] = (source, steps)
        if not isinstance(children, dict):
            return
        for key, name in _model_keys(type(self)):
            sub = children.get(key)
            if sub is not None:
                _attach_marks_value(getattr(self, name), sub, source, (*steps, key))

    def attach(
        self, node: yaml.Node, source: NodeSource | None = None, steps: tuple[object, ...] = ()
    ) -> None:
        """Record where this model and every nested model was read from: ``node`` itself,
        or (with ``source``) its place, so that the node graph can be let go."""
        private = self.private
        private["_where"] = location(node)
        if source is None:
            private["_yaml"] = node
        else:
            private["_ref"] = (source, steps)
        if not isinstance(node, yaml.MappingNode):
            return
        # reversed: with a duplicate key (reported elsewhere) the first one wins, as on load
        keys = _model_keys(type(self))
        if not keys:
            return
        children = {k.value: v for k, v in reversed(node.value) if isinstance(k, yaml.ScalarNode)}
        for key, name in keys:
            sub = children.get(key)
            if sub is not None:
                _attach_value(getattr(self, name), sub, source, (*steps, key))


def _private_init(cls: type[Model]) -> Callable[[BaseModel, Any], None]:
    """``model_post_init`` of ``cls``: its private attributes' defaults, set in one step.

    pydantic's own (``init_private_attributes``) asks every private attribute for its
    default, in Python, for every model validated — and a subclass of a class with
    private attributes runs it twice (its wrapper of the inherited one): 0.6 million calls
    and about a tenth of loading a province's tree. The defaults here are the same:
    ``None`` copied, a ``default_factory`` called."""
    defaults: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, attr in cls.__private_attributes__.items():
        if attr.default_factory is not None:
            factories.append((name, attr.default_factory))  # type: ignore[arg-type]
        else:
            assert attr.default is None, f"{cls.__name__}.{name}: only None is shared"
            defaults[name] = None
    set_private = object.__setattr__

    def init(self: BaseModel, context: Any, /) -> None:
        private = defaults.copy()
        for name, factory in factories:
            private[name] = factory()
        set_private(self, "__pydantic_private__", private)

    return init


Model.model_post_init = _private_init(Model)  # type: ignore[method-assign]


@functools.cache
def _model_keys(cls: type[Model]) -> tuple[tuple[str, str], ...]:
    """(YAML key, field name) of the fields of ``cls`` that can hold nested models."""
    return tuple(
        (info.alias or name, name)
        for name, info in cls.model_fields.items()
        if _holds_models(info.annotation)
    )


def _holds_models(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return True
    return any(_holds_models(arg) for arg in typing.get_args(annotation))


def _attach_marks_value(
    value: object, marks: Marks, source: NodeSource, steps: tuple[object, ...]
) -> None:
    children = marks[2]
    if isinstance(value, Model):
        value.attach_marks(marks, source, steps)
    elif isinstance(value, list):
        if isinstance(children, list):  # (of anything but a sequence: none)
            for index, (item, sub) in enumerate(zip(value, children, strict=False)):
                if sub is not None:
                    _attach_marks_value(item, sub, source, (*steps, index))
    elif isinstance(value, dict) and isinstance(children, dict):
        for key, item in value.items():
            sub = children.get(key)
            if sub is not None:
                _attach_marks_value(item, sub, source, (*steps, key))


def _attach_value(
    value: object, node: yaml.Node, source: NodeSource | None, steps: tuple[object, ...]
) -> None:
    if isinstance(value, Model):
        value.attach(node, source, steps)
    elif isinstance(value, list):
        if isinstance(node, yaml.SequenceNode):  # (child(node, index) of anything else: None)
            for index, (item, sub) in enumerate(zip(value, node.value, strict=False)):
                _attach_value(item, sub, source, (*steps, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            sub = child(node, key)
            if sub is not None:
                _attach_value(item, sub, source, (*steps, key))


class Item(Model):
    """The common keys of every document."""

    kind: str
    """文档的种类
    / The kind of document
    e.g. `Matter`"""
    id: Id
    """稳定标识，在同种类中唯一，表、列和接口以它命名；一经使用不得另作他用
    / Stable identifier, unique within its kind; tables, columns and endpoints are named
    after it; never reused for something else
    e.g. `citizen_id_number`"""
    name: Localized
    """名称
    / Name
    e.g. `{zh: 公民身份号码, en: Citizen ID number}`"""
    description: Localized | None = None
    """说明
    / Description
    e.g. `{zh: 按 GB 11643 编制的 18 位公民身份号码}`"""
    version: str | None = None
    """版本（自由文本），随每份申请记录
    / Version (free text), recorded with every application filed under it
    e.g. `"2026.1"`"""
    status: Status = "standard"
    """状态：引用已废止（deprecated）的是警告，引用已撤销（retired）的是错误
    / Status: referencing a deprecated item is a warning, a retired one an error
    e.g. `deprecated`"""
    renamed_from: list[Id] = empty()
    """此前用过的标识；迁移时改名，而不是删除后重建
    / Ids this item had before: the migration renames instead of dropping and re-adding
    e.g. `[id_number]`"""

    @property
    def file(self) -> str:
        return self.at().file


def walk_models(value: object) -> Iterator[Model]:
    """Every model nested in ``value``, depth first."""
    if isinstance(value, Model):
        yield value
        for name in type(value).model_fields:
            yield from walk_models(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            yield from walk_models(item)


def dump(model: BaseModel) -> dict[str, Any]:
    """Plain data of a model as an implementer would write it (aliases, no defaults)."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
