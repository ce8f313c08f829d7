"""The planner's small YAML files (survey, categories, camera models, sites), read with the line
of every value kept, so that a bad value is reported where it is: ``survey.yaml:12: ...``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

Key = tuple[str | int, ...]
MAX_BYTES = 1_000_000


class PlannerInputError(Exception):
    """An input of the planner is unusable; the message names the file (and line) and why."""


@dataclass(frozen=True)
class Doc:
    """A parsed YAML document and where each of its values starts (1-based lines)."""

    name: str
    data: object
    lines: dict[Key, int]

    def error(self, key: Key, message: str) -> PlannerInputError:
        line = self.lines.get(key)
        while line is None and key:
            key = key[:-1]
            line = self.lines.get(key)
        where = f"{self.name}:{line}" if line is not None else self.name
        return PlannerInputError(f"{where}: {message}")


def _build(node: object, key: Key, lines: dict[Key, int]) -> object:
    if isinstance(node, CommentedMap):
        out: dict[str, object] = {}
        for k, v in node.items():
            name = str(k)
            line = node.lc.data.get(k)
            if line is not None:
                lines[(*key, name)] = int(line[2]) + 1
            out[name] = _build(v, (*key, name), lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, v in enumerate(node):
            line = node.lc.data.get(i) if isinstance(node.lc.data, dict) else node.lc.data[i]
            if line is not None:
                lines[(*key, i)] = int(line[0]) + 1
            items.append(_build(v, (*key, i), lines))
        return items
    if isinstance(node, bool | int | float | str) or node is None:
        return node if not isinstance(node, str) else str(node)
    return str(node)


def parse(text: str, name: str) -> Doc:
    """Parse one YAML document (anchors and aliases refused: these files are small)."""
    try:
        if any(isinstance(e, AliasEvent) for e in YAML(typ="rt").parse(text)):
            raise PlannerInputError(f"{name}: YAML aliases are not accepted")
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise PlannerInputError(f"{where}: not valid YAML: {err.problem or err.context}") from None
    except (YAMLError, ValueError, RecursionError) as err:
        raise PlannerInputError(f"{name}: not valid YAML: {str(err)[:200]}") from None
    if data is None:
        raise PlannerInputError(f"{name}: the file is empty")
    lines: dict[Key, int] = {(): 1}
    return Doc(name, _build(data, (), lines), lines)


def load(path: Path) -> Doc:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PlannerInputError(f"{path}: cannot be read: {err.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise PlannerInputError(f"{path}: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlannerInputError(f"{path}: not UTF-8 text") from None
    return parse(text, str(path))


def number(doc: Doc, key: Key, value: object, *, minimum: float = 0.0) -> float:
    """A finite number >= ``minimum`` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(key, f"{_dotted(key)} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise doc.error(key, f"{_dotted(key)} must be finite")
    if result < minimum:
        raise doc.error(key, f"{_dotted(key)} must be >= {minimum:g}, got {result:g}")
    return result


def mapping(doc: Doc, key: Key, value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise doc.error(key, f"{_dotted(key) or 'the document'} must be a mapping")
    return value


def _dotted(key: Key) -> str:
    return ".".join(str(k) for k in key)
