"""The condition language of policy rules: a small, safe subset of Python expressions, compiled once.

    present and attention < 0.3 and not protocol_active
    distress >= 0.6 or distress_trend > 0.2
    sign.gloss in ['hello', 'hi'] and sign.confidence >= 0.6

Allowed: numbers, strings, True/False, lists of constants; names (and one-level dotted names such as
`sign.gloss`) from a fixed table; `and`, `or`, `not`; comparisons (==, !=, <, <=, >, >=, in, not in,
chained); + - * /; unary minus; the functions known(x) (x is a finite number), abs, min, max.
Anything else (attribute calls, subscripts, lambdas, ...) is refused when the policy is loaded.
Nothing is passed to Python's eval.

NaN (an unknown quantity) makes every comparison false: `distress >= 0.6` is false while distress is
unknown, and so is `distress < 0.6`; use `known(distress)` to test for it.

Hysteresis: a condition is evaluated with `held` = whether it was true at the previous evaluation
(for the same rule and person). While held, every comparison of a name with a number constant is
relaxed by `hysteresis` in the direction that keeps it true: `x >= 0.6` becomes `x >= 0.6 - h`,
`x < 0.3` becomes `x < 0.3 + h` (under `not` the other way round). A value hovering at a threshold
therefore does not make the rule flicker.
"""
from __future__ import annotations

import ast
import math
import operator
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Evaluator = Callable[[Mapping[str, Any], bool], Any]

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: lambda a, b: (
        a / b if b else math.nan),
}
_OP_TEXT = {ast.Eq: '==', ast.NotEq: '!=', ast.Lt: '<', ast.LtE: '<=', ast.Gt: '>', ast.GtE: '>='}


def _known(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


FUNCTIONS: dict[str, Callable[..., Any]] = {'known': _known, 'abs': abs, 'min': min, 'max': max}


class ConditionError(ValueError):
    """A condition that does not compile; `column` is 0-based within the condition text."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Threshold:
    """A comparison of a name with a number, as written (for explanations)."""

    name: str
    op: str
    value: float


@dataclass(frozen=True)
class Condition:
    """A compiled condition. Call it with the evaluation context and `held` (see the module docstring)."""

    text: str
    names: frozenset[str]
    thresholds: tuple[Threshold, ...]
    _fn: Evaluator

    def __call__(self, context: Mapping[str, Any], held: bool = False) -> bool:
        try:
            return bool(self._fn(context, held))
        except (TypeError, ValueError, ArithmeticError):
            return False  # e.g. comparing text with a number at run time: false, never a crash


def compile_condition(text: str, names: Mapping[str, str], hysteresis: float = 0.0) -> Condition:
    """Compile `text` against the known `names` ({name: description}).

    Raises:
        ConditionError: a syntax error, an unknown name or function, or a construct that is not allowed.
    """
    text = str(text).strip()
    if not text:
        raise ConditionError('the condition is empty')
    try:
        tree = ast.parse(text, mode='eval')
    except SyntaxError as exc:
        raise ConditionError(f'syntax error: {exc.msg}', max(0, (exc.offset or 1) - 1)) from None
    compiler = _Compiler(names, float(hysteresis))
    fn = compiler.compile(tree.body, polarity=1)
    return Condition(text, frozenset(compiler.used), tuple(compiler.thresholds), fn)


class _Compiler:
    def __init__(self, names: Mapping[str, str], hysteresis: float) -> None:
        self.names = names
        self.h = hysteresis
        self.used: set[str] = set()
        self.thresholds: list[Threshold] = []

    def fail(self, node: ast.AST, message: str) -> ConditionError:
        return ConditionError(message, getattr(node, 'col_offset', 0))

    def name_of(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f'{node.value.id}.{node.attr}'
        return None

    def compile(self, node: ast.AST, polarity: int) -> Evaluator:
        if isinstance(node, ast.BoolOp):
            parts = [self.compile(v, polarity) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda ctx, held: all(p(ctx, held) for p in parts)
            return lambda ctx, held: any(p(ctx, held) for p in parts)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                inner = self.compile(node.operand, -polarity)
                return lambda ctx, held: not inner(ctx, held)
            if isinstance(node.op, ast.USub):
                inner = self.compile(node.operand, polarity)
                return lambda ctx, held: -inner(ctx, held)
            raise self.fail(node, f'operator {type(node.op).__name__} is not allowed')
        if isinstance(node, ast.Compare):
            return self.compare(node, polarity)
        if isinstance(node, ast.BinOp):
            op = _ARITHMETIC.get(type(node.op))
            if op is None:
                raise self.fail(node, f'operator {type(node.op).__name__} is not allowed (use + - * /)')
            left, right = self.compile(node.left, polarity), self.compile(node.right, polarity)
            return lambda ctx, held: op(left(ctx, held), right(ctx, held))
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool)) and node.value is not None:
                raise self.fail(node, f'constant {node.value!r} is not allowed')
            value = node.value
            return lambda ctx, held: value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = []
            for element in node.elts:
                if not isinstance(element, ast.Constant):
                    raise self.fail(element, 'lists may only hold constants')
                items.append(element.value)
            frozen = tuple(items)
            return lambda ctx, held: frozen
        name = self.name_of(node)
        if name is not None:
            if name not in self.names:
                raise self.fail(node, f'unknown name {name!r}; known: {", ".join(sorted(self.names))}')
            self.used.add(name)
            return lambda ctx, held: ctx.get(name, math.nan)
        if isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else None
            if fname not in FUNCTIONS or node.keywords:
                raise self.fail(node, f'unknown function {ast.unparse(node.func)!r}; known: '
                                      f'{", ".join(sorted(FUNCTIONS))}')
            fn = FUNCTIONS[fname]
            args = [self.compile(a, polarity) for a in node.args]
            if not args:
                raise self.fail(node, f'{fname}() needs an argument')
            return lambda ctx, held: fn(*(a(ctx, held) for a in args))
        raise self.fail(node, f'{ast.unparse(node)!r} ({type(node).__name__}) is not allowed in a condition')

    def compare(self, node: ast.Compare, polarity: int) -> Evaluator:
        operands = [node.left, *node.comparators]
        compiled = [self.compile(o, polarity) for o in operands]
        pairs = []
        for i, op in enumerate(node.ops):
            fn = _COMPARE.get(type(op))
            if fn is None:
                raise self.fail(node, f'comparison {type(op).__name__} is not allowed')
            left, right = operands[i], operands[i + 1]
            shift = 0.0
            if type(op) in (ast.Lt, ast.LtE, ast.Gt, ast.GtE):
                # Which side is the number? Relax the threshold toward keeping the comparison true.
                left_number = isinstance(left, ast.Constant) and _is_number(left.value)
                right_number = isinstance(right, ast.Constant) and _is_number(right.value)
                if left_number != right_number:
                    greater = type(op) in (ast.Gt, ast.GtE)  # left must exceed right
                    # right constant: left > c -> lower c; left < c -> raise c.
                    # left constant:  c > right -> raise c; c < right -> lower c.
                    sign = -1.0 if greater == right_number else 1.0
                    shift = sign * self.h * polarity
                    name = self.name_of(left if right_number else right)
                    if name:
                        number = right if right_number else left
                        # checked above: one side is a number constant
                        assert isinstance(number, ast.Constant) and isinstance(number.value, (int, float))
                        const = number.value
                        text = _OP_TEXT[type(op)]
                        if left_number:  # normalize to "name op value"
                            text = {'<': '>', '<=': '>=', '>': '<', '>=': '<='}[text]
                        self.thresholds.append(Threshold(name, text, float(const)))
                const_on_right = right_number
            else:
                const_on_right = True
            pairs.append((fn, shift, const_on_right))

        def evaluate(ctx: Mapping[str, Any], held: bool) -> bool:
            values = [c(ctx, held) for c in compiled]
            for i, (fn, shift, const_on_right) in enumerate(pairs):
                a, b = values[i], values[i + 1]
                if held and shift:
                    if const_on_right:
                        b = b + shift
                    else:
                        a = a + shift
                if not fn(a, b):
                    return False
            return True

        return evaluate


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- text templates --------------------------------------------------------------------------------
class _Formatter(string.Formatter):
    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        return kwargs[field_name], field_name  # dotted names are plain keys of the context


_FORMATTER = _Formatter()


def template_fields(template: str) -> list[str]:
    """The field names of a str.format template ('Hi {name}, {distress:.2f}' -> ['name', 'distress'])."""
    return [f for _, f, _, _ in _FORMATTER.parse(template) if f is not None]


def render(template: str, context: Mapping[str, Any]) -> str:
    """Fill a template from the context ({sign.gloss} is the key 'sign.gloss')."""
    return _FORMATTER.vformat(template, (), _Missing(context))


class _Missing(dict[str, Any]):
    def __init__(self, context: Mapping[str, Any]) -> None:
        super().__init__(context)

    def __missing__(self, key: str) -> str:
        return '?'


def render_or_keep(template: str, context: Mapping[str, Any]) -> str:
    """render(), or the template unchanged when it cannot be filled (a bad format spec in a reply)."""
    try:
        return render(template, context)
    except (ValueError, TypeError, KeyError, IndexError):
        return template
