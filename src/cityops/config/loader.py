"""Load a municipality's YAML configuration into ``MunicipalityConfig``, or say exactly why not.

Four stages, each of which stops with a ``ConfigError`` listing every problem it found:

1. YAML syntax (ruamel.yaml's round-trip parser, which remembers where each node was);
2. expansion into plain Python values, bounded in size and depth (anchors and aliases that
   multiply into huge documents, "billion laughs", and recursive aliases are refused);
3. the schema (``cityops.config.schema`` and ``schema_rules``): Pydantic error locations are
   mapped back to the line and column of the nearest mapping key or sequence item;
4. references between sections (``cityops.config.checks``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from cityops.config.checks import cross_check
from cityops.config.errors import ConfigError, ConfigIssue
from cityops.config.schema import ConfigFile
from cityops.config.schema_rules import RULE_KINDS
from cityops.domain.catalog import MunicipalityConfig

MAX_BYTES = 4_000_000
"""The largest file accepted (a city with thousands of cameras and sensors stays far below)."""
MAX_NODES = 200_000
"""The most values the document may hold once anchors and aliases are expanded."""
MAX_TEXT_CHARS = 20_000_000
"""The most characters all its strings may hold once expanded."""
MAX_DEPTH = 32
"""The deepest nesting of mappings and sequences (the format itself needs 6)."""

EXTENSION_PREFIX = "x-"
"""Top-level keys starting with this are ignored (a place to define anchors, as in Compose)."""

DataPath = tuple[str | int, ...]


def load_config(
    path: Path, *, taken_prefixes: Mapping[str, str] | None = None
) -> MunicipalityConfig:
    """Load and validate the YAML file at ``path`` (UTF-8); ``taken_prefixes`` as for
    ``load_config_text``."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as err:
        raise ConfigError([_issue(name, f"cannot read the file: {err.strerror or err}")]) from err
    if len(raw) > MAX_BYTES:
        raise ConfigError([_issue(name, f"the file is larger than {MAX_BYTES} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        issue = ConfigIssue(name, line, None, "", "the file is not valid UTF-8 text")
        raise ConfigError([issue]) from err
    return load_config_text(text, name, taken_prefixes=taken_prefixes)


def load_config_text(
    text: str, filename: str = "<string>", *, taken_prefixes: Mapping[str, str] | None = None
) -> MunicipalityConfig:
    """Load and validate configuration YAML; ``filename`` only names it in error messages.
    ``taken_prefixes`` (Frigate topic prefix -> municipality) are those of the other
    municipalities of the installation: this one may not use them."""
    if len(text) > MAX_BYTES:
        raise ConfigError([_issue(filename, f"the text is longer than {MAX_BYTES} characters")])
    doc = _parse(text, filename)
    if doc is None:
        raise ConfigError([ConfigIssue(filename, 1, 1, "", "the file is empty")])
    if not isinstance(doc, CommentedMap):
        raise ConfigError(
            [ConfigIssue(filename, 1, 1, "", "the top level must be a mapping (municipality: ...)")]
        )
    data = _Expander(doc, filename).expand()
    for key in [k for k in data if k.startswith(EXTENSION_PREFIX)]:
        del data[key]  # a place for anchors that other sections refer to with aliases
    try:
        cfg = ConfigFile.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_schema_issues(err, doc, data, filename)) from err
    problems = cross_check(cfg, taken_prefixes)
    if problems:
        issues = []
        for p in problems:
            message = p.message
            if p.related is not None:
                line, _ = _locate(doc, p.related)
                message += f" (first at line {line})" if line else ""
            issues.append(_issue_at(filename, doc, p.path, message))
        raise ConfigError(issues)
    try:
        return cfg.to_domain()
    except ValueError as err:  # the schema should have caught it; still report, never crash
        raise ConfigError([_issue(filename, str(err))]) from err


def _issue(filename: str, message: str) -> ConfigIssue:
    return ConfigIssue(filename, None, None, "", message)


def _issue_at(filename: str, doc: object, path: DataPath, message: str) -> ConfigIssue:
    line, column = _locate(doc, path)
    return ConfigIssue(filename, line, column, format_path(path), message)


_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


def _check_events(text: str, filename: str) -> None:
    """Refuse deep nesting and non-core tags before anything is built (one streaming pass)."""
    depth = 0
    for event in YAML(typ="safe", pure=True).parse(text):
        kind = type(event).__name__
        tag = getattr(event, "tag", None)
        tag = getattr(tag, "value", tag)
        message = None
        if tag is not None and tag not in _CORE_TAGS:
            message = f"YAML tag {_clip(str(tag), 60)!r} is not supported"
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                message = f"nested more than {MAX_DEPTH} levels deep"
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
        if message is not None:
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
            raise ConfigError([ConfigIssue(filename, line, column, "", message)])


def _parse(text: str, filename: str) -> object:
    try:
        _check_events(text, filename)
        return YAML(typ="rt").load(text)
    except DuplicateKeyError as err:
        mark, first = err.problem_mark, err.context_mark
        key = re.match(r'found duplicate key "(.{0,60}?)" with', str(err.problem), re.DOTALL)
        message = f"duplicate key {key.group(1)!r}" if key else "duplicate key"
        message += f" (the mapping starts at line {first.line + 1})" if first else ""
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ConfigError([ConfigIssue(filename, line, column, "", message)]) from err
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = _clip(str(err.problem or err.context or "invalid YAML"))
        if err.problem and err.context:
            context = str(err.context)
            cmark = err.context_mark
            if cmark is not None and mark is not None and cmark.line != mark.line:
                context += f" started at line {cmark.line + 1}"
            message += f" ({_clip(context)})"
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise ConfigError([ConfigIssue(filename, line, column, "", message)]) from err
    except ReaderError as err:
        position = err.position if isinstance(err.position, int) else 0
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        char = err.character
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        message = f"character {shown} is not allowed in YAML (write it as an escape in quotes)"
        raise ConfigError([ConfigIssue(filename, line, column, "", message)]) from err
    except YAMLError as err:
        raise ConfigError([_issue(filename, f"invalid YAML: {_clip(str(err))}")]) from err
    except RecursionError as err:
        raise ConfigError([_issue(filename, "the document is nested too deeply")]) from err
    except (ValueError, OverflowError) as err:
        reason = "a number has too many digits" if "digits" in str(err) else _clip(str(err))
        raise ConfigError([_issue(filename, f"cannot read a value: {reason}")]) from err


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _RefusedError(Exception):
    def __init__(self, path: DataPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Expander:
    """Plain dicts, lists and scalars from ruamel's round-trip values, within fixed bounds."""

    def __init__(self, doc: CommentedMap, filename: str) -> None:
        self.doc = doc
        self.filename = filename
        self.nodes = 0
        self.chars = 0
        self.open: set[int] = set()

    def expand(self) -> dict[str, object]:
        try:
            data = self._value(self.doc, (), 0)
        except _RefusedError as err:
            raise ConfigError([_issue_at(self.filename, self.doc, err.path, err.message)]) from None
        assert isinstance(data, dict)
        return data

    def _value(self, node: object, path: DataPath, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _RefusedError(
                path,
                f"the document holds more than {MAX_NODES} values once its aliases are "
                "expanded; refusing it (do anchors and aliases repeat large parts?)",
            )
        if depth > MAX_DEPTH:
            raise _RefusedError(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict | list):
            if id(node) in self.open:
                raise _RefusedError(path, "an alias refers to a value that contains it (recursion)")
            self.open.add(id(node))
            try:
                return self._collection(node, path, depth)
            finally:
                self.open.discard(id(node))
        return self._scalar(node, path)

    def _collection(self, node: dict[Any, Any] | list[Any], path: DataPath, depth: int) -> object:
        if isinstance(node, list):
            return [self._value(item, (*path, i), depth + 1) for i, item in enumerate(node)]
        out: dict[str, object] = {}
        for key, value in node.items():
            if not isinstance(key, str) or isinstance(key, bool):
                where = (*path, key) if isinstance(key, int) else path
                raise _RefusedError(
                    where, f"mapping keys must be text; quote {_clip(repr(key), 40)}"
                )
            out[str(key)] = self._value(value, (*path, key), depth + 1)
        return out

    def _scalar(self, node: object, path: DataPath) -> object:
        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, ScalarBoolean):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            self.chars += len(node)
            if self.chars > MAX_TEXT_CHARS:
                raise _RefusedError(
                    path, f"the document holds more than {MAX_TEXT_CHARS} characters"
                )
            return node if type(node) is str else str(node)
        kind = type(node).__name__
        raise _RefusedError(path, f"unsupported YAML value ({kind}): quote it to make it text")


def _locate(doc: object, path: DataPath) -> tuple[int | None, int | None]:
    """Line and column (from 1) of the deepest key or item along ``path`` that exists."""
    line: int | None = None
    column: int | None = None
    if isinstance(doc, CommentedMap | CommentedSeq):
        line, column = doc.lc.line + 1, doc.lc.col + 1
    node: object = doc
    for elem in path:
        if isinstance(node, CommentedMap) and elem in node:
            position = node.lc.data.get(elem)
            if position is not None:  # merged keys (<<: *base) have no position of their own
                line, column = position[0] + 1, position[1] + 1
            node = node[elem]
        elif isinstance(node, CommentedSeq) and isinstance(elem, int) and 0 <= elem < len(node):
            position = node.lc.data.get(elem)
            if position is not None:
                line, column = position[0] + 1, position[1] + 1
            node = node[elem]
        else:
            break
    return line, column


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def format_path(path: DataPath) -> str:
    """``cameras[3].zones.school-yard[0]``: keys after dots, indices in brackets."""
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        elif _PLAIN_KEY.fullmatch(elem):
            out += f".{elem}" if out else elem
        else:
            out += f"[{_clip(repr(elem), 40)}]"
    return out


def _get(node: object, elem: str | int) -> object:
    if isinstance(node, dict):
        return node.get(elem)
    if isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node):
        return node[elem]
    return None


def _data_path(loc: tuple[int | str, ...], data: object) -> DataPath:
    """The path in the file for a Pydantic error location (which also names union tags)."""
    path: list[str | int] = []
    node: object = data
    for elem in loc:
        if elem == "[key]":
            continue
        if len(path) == 2 and path[0] == "rules" and _get(node, "kind") == elem:
            continue  # the tag of the rule union, not a key of the file
        path.append(elem)
        node = _get(node, elem)
    return tuple(path)


def _schema_message(error: ErrorDetails) -> str:
    kinds = ", ".join(RULE_KINDS)
    if error["type"] == "union_tag_not_found":
        return f"missing 'kind': one of {kinds}"
    if error["type"] == "union_tag_invalid":
        tag = _clip(str(error.get("ctx", {}).get("tag", "")), 40)
        return f"unknown rule kind {tag!r}: use one of {kinds}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _schema_issues(
    err: ValidationError, doc: CommentedMap, data: object, filename: str
) -> list[ConfigIssue]:
    issues = []
    for error in err.errors():
        path = _data_path(error["loc"], data)
        if error["type"] == "union_tag_invalid":
            path = (*path, "kind")
        issues.append(_issue_at(filename, doc, path, _schema_message(error)))
    return issues
