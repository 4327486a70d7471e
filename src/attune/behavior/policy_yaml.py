"""YAML with line numbers, and the checker that walks it (no rclpy): every policy error names the file,
the line and the field at fault."""
from __future__ import annotations

import math
from typing import Any

import yaml

from attune.behavior.policy import PolicyError


# --- YAML with line numbers ------------------------------------------------------------------------
class LineDict(dict[str, Any]):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line = 0
    lines: dict[str, int]


class LineList(list[Any]):
    """A sequence that remembers the line of each item (1-based) and its own line."""

    line = 0
    lines: list[int]


class LineLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type stubs here: SafeLoader is Any
    policy_path = '<policy>'


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        # Keys are taken as written: YAML 1.1 would read `on:`, `yes:` and `no:` as booleans.
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise PolicyError(loader.policy_path, key_node.start_mark.line + 1, '', 'a key must be text')
        if key in out:
            raise PolicyError(loader.policy_path, key_node.start_mark.line + 1, key,
                             'appears twice in the same mapping')
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# --- validation ------------------------------------------------------------------------------------
class Checker:
    """Walks the loaded YAML, raising PolicyError with file, line and field path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int | None, field_path: str, message: str) -> PolicyError:
        return PolicyError(self.path, line, field_path, message)

    def mapping(self, value: Any, line: int, where: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> LineDict:
        if not isinstance(value, dict):
            raise self.error(line, where, f'must be a mapping, got {kind_of(value)}')
        for key in value:
            if key not in allowed:
                raise self.error(line_of(value, key), f'{where}.{key}' if where else key,
                                 f'unknown field; allowed: {", ".join(allowed)}')
        for key in required:
            if key not in value:
                raise self.error(getattr(value, 'line', line), where or '(top level)',
                                 f'missing required field {key!r}')
        # The loader makes every mapping a LineDict; a plain dict (a policy built in code) has no lines.
        return value if isinstance(value, LineDict) else LineDict(value)

    def number(self, value: Any, line: int, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(line, where, f'must be a number, got {kind_of(value)}')
        if not lo <= value <= hi:
            raise self.error(line, where, f'must be in [{lo:g}, {hi:g}], got {value:g}')
        return float(value)

    def integer(self, value: Any, line: int, where: str, lo: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise self.error(line, where, f'must be an integer >= {lo}, got {value!r}')
        return value

    def text(self, value: Any, line: int, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(line, where, f'must be non-empty text, got {kind_of(value)}')
        return value

    def boolean(self, value: Any, line: int, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(line, where, f'must be true or false, got {kind_of(value)}')
        return value

    def range(self, value: Any, line: int, where: str, lo: float, hi: float) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(line, where, f'must be [min, max], got {kind_of(value)}')
        a = self.number(value[0], line, f'{where}[0]', lo, hi)
        b = self.number(value[1], line, f'{where}[1]', lo, hi)
        if a > b:
            raise self.error(line, where, f'min {a:g} is above max {b:g}')
        return a, b


def line_of(container: Any, key: Any) -> int:
    """The line of `key` in a loaded mapping or sequence, else the container's own line (0: unknown)."""
    if isinstance(container, LineDict):
        return container.lines.get(key, container.line)
    if isinstance(container, LineList):
        if isinstance(key, int) and 0 <= key < len(container.lines):
            return container.lines[key]
        return container.line
    return 0


def kind_of(value: Any) -> str:
    if value is None:
        return 'nothing'
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return repr(value)


