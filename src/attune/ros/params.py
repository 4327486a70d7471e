"""Declaring node parameters from a table of specs: typed defaults, descriptors with ranges,
read-only unless marked dynamic, and validation that names the parameter at fault."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter

from attune.errors import ConfigError

Value = bool | int | float | str | list[Any]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a node.

    min/max: inclusive range for int and float parameters. choices: allowed strings.
    dynamic: may be changed while the node runs (others are read-only after start-up).
    """

    name: str
    default: Value
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    dynamic: bool = False

    def descriptor(self) -> ParameterDescriptor:
        text = self.description
        if self.choices:
            text += f" One of: {', '.join(self.choices)}."
        d = ParameterDescriptor(name=self.name, description=text, read_only=not self.dynamic)
        if isinstance(self.default, bool):
            return d
        if isinstance(self.default, int) and (self.min is not None or self.max is not None):
            d.integer_range = [IntegerRange(from_value=int(self.min if self.min is not None else -2**63),
                                            to_value=int(self.max if self.max is not None else 2**63 - 1),
                                            step=0)]
        elif isinstance(self.default, float) and (self.min is not None or self.max is not None):
            d.floating_point_range = [FloatingPointRange(
                from_value=float(self.min if self.min is not None else -math.inf),
                to_value=float(self.max if self.max is not None else math.inf), step=0.0)]
        return d

    def check(self, value: Any) -> str | None:
        """None if value is acceptable, else the reason in words (naming the parameter)."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f'parameter {self.name!r} must be a {expected.__name__}, got {value!r}'
        if self.choices and value not in self.choices:
            return f"parameter {self.name!r} must be one of {', '.join(self.choices)}; got {value!r}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return f'parameter {self.name!r} must be finite, got {value!r}'
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return f'parameter {self.name!r} must be in [{self.min}, {self.max}], got {value!r}'
        return None


def declare(node: Node, specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """Declare every spec on node; return {name: value}. Raise ConfigError naming a bad value.

    The table is typed dict[str, Any], not dict[str, Value]: every value has been checked against
    its spec here (its type is the default's, its range and choices hold), so a node reading
    params['max_faces'] gets the int its spec promises. A union would make every reader re-check
    what this function already guarantees.
    """
    values: dict[str, Any] = {}
    for spec in specs:
        try:
            param = node.declare_parameter(spec.name, spec.default, spec.descriptor())
        except Exception as exc:  # noqa: BLE001 - rclpy raises several types for bad overrides
            raise ConfigError(f'parameter {spec.name!r}: {exc}') from None
        value = param.value
        if isinstance(spec.default, float) and isinstance(value, int):
            value = float(value)
        problem = spec.check(value)
        if problem:
            raise ConfigError(problem)
        values[spec.name] = value
    return values


def validator(specs: Iterable[ParamSpec]) -> Callable[[list[Parameter[Any]]], SetParametersResult]:
    """An on-set-parameters callback that checks every changed parameter against its spec."""
    by_name: Mapping[str, ParamSpec] = {s.name: s for s in specs}

    def on_set(parameters: list[Parameter[Any]]) -> SetParametersResult:
        for p in parameters:
            spec = by_name.get(p.name)
            if spec is None:
                continue  # use_sim_time and friends
            problem = spec.check(p.value)
            if problem:
                return SetParametersResult(successful=False, reason=problem)
        return SetParametersResult(successful=True)

    return on_set


def markdown_table(specs: Iterable[ParamSpec]) -> str:
    """The parameters as a Markdown table (README and docs are generated from the same specs)."""
    rows = ['| parameter | default | range / choices | run-time | description |',
            '|---|---|---|---|---|']
    for s in specs:
        if s.choices:
            allowed = ', '.join(s.choices)
        elif s.min is not None or s.max is not None:
            allowed = f'[{s.min if s.min is not None else ""}, {s.max if s.max is not None else ""}]'
        else:
            allowed = ''
        if isinstance(s.default, bool):
            default = f"`{'true' if s.default else 'false'}`"
        elif isinstance(s.default, str):
            default = f"`'{s.default}'`"
        else:
            default = f'`{s.default!r}`'

        rows.append(f"| `{s.name}` | {default} | {allowed} | {'yes' if s.dynamic else 'no'} | {s.description} |")
    return '\n'.join(rows)
