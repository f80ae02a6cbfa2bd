"""Formulas of the evaluation (考评), as data: a small, safe arithmetic language.

A formula is parsed with Python's own parser (`ast.parse(mode="eval")`) and then checked against an allow-list:
numbers, counter names, + - * /, unary minus, parentheses and the functions min, max and peak (a counter's
largest value among the units of the same level, for volume scores). Nothing else is accepted, so no attribute,
call, subscript or name outside the counters can run; nothing is ever passed to `eval`. A formula that divides
must say what it is worth when a divisor is zero (`zero`: a number, or "none": not rated).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

FUNCTIONS = ("min", "max", "peak")
_OPS: dict[type[ast.operator], tuple[str, Callable[[float, float], float]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("−", lambda a, b: a - b),
    ast.Mult: ("×", lambda a, b: a * b),
    ast.Div: ("÷", lambda a, b: a / b),
}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


class FormulaError(ValueError):
    """A formula that is not in the language, or names an unknown counter."""


class ZeroDivisor(ArithmeticError):
    """A divisor was zero: the indicator's zero rule decides its value."""


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    counters: frozenset[str]
    divides: bool

    def value(self, counts: Mapping[str, float], peaks: Mapping[str, float] | None = None) -> float:
        """The formula's value; ZeroDivisor where a divisor is zero."""
        return _eval(self.tree, counts, peaks or {})

    def with_numbers(self, counts: Mapping[str, float], peaks: Mapping[str, float] | None = None) -> str:
        """The formula with each counter replaced by its number: "142 ÷ (142 + 11 + 5)"."""
        return _show(self.tree, lambda name: _num(counts.get(name, 0)), peaks or {})

    def in_words(self, names: Callable[[str], str]) -> str:
        """The formula with each counter replaced by its name in words."""
        return _show(self.tree, names, {}, words=True)


def parse(text: str, known: frozenset[str] | set[str]) -> Formula:
    """A formula over the `known` counters; FormulaError saying what is wrong."""
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise FormulaError("a formula is text of 1 to 500 characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FormulaError(f"not a formula: {exc.msg}") from None
    found: set[str] = set()
    divides = False
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPS:
                raise FormulaError(f"operator {type(node.op).__name__} is not allowed; use + − × ÷")
            divides |= isinstance(node.op, ast.Div)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                raise FormulaError("only unary minus is allowed")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise FormulaError(f"{node.value!r} is not a number")
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS and id(node) in called:
                continue
            if node.id not in known:
                raise FormulaError(f"unknown counter {node.id!r}; counters: {', '.join(sorted(known))}")
            found.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise FormulaError(f"only the functions {', '.join(FUNCTIONS)} may be called")
            if node.func.id == "peak" and (len(node.args) != 1 or not isinstance(node.args[0], ast.Name)):
                raise FormulaError("peak takes one counter: peak(dispatched)")
            if node.func.id in ("min", "max") and len(node.args) < 2:
                raise FormulaError(f"{node.func.id} takes two or more values")
        elif not isinstance(node, ast.Load | ast.operator | ast.unaryop):
            raise FormulaError(f"{type(node).__name__} is not allowed in a formula")
    return Formula(text.strip(), tree, frozenset(found), divides)


def _eval(node: ast.expr, counts: Mapping[str, float], peaks: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(cast(float, node.value))
    if isinstance(node, ast.Name):
        return float(counts.get(node.id, 0))
    if isinstance(node, ast.UnaryOp):
        return -_eval(node.operand, counts, peaks)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, counts, peaks), _eval(node.right, counts, peaks)
        if isinstance(node.op, ast.Div) and b == 0:
            raise ZeroDivisor
        return _OPS[type(node.op)][1](a, b)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    if node.func.id == "peak":
        assert isinstance(node.args[0], ast.Name)
        return float(peaks.get(node.args[0].id, 0))
    values = [_eval(a, counts, peaks) for a in node.args]
    return min(values) if node.func.id == "min" else max(values)


def _num(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.3g}"


def _show(node: ast.expr, name: Callable[[str], str], peaks: Mapping[str, float], words: bool = False) -> str:
    if isinstance(node, ast.Constant):
        return _num(float(cast(float, node.value)))
    if isinstance(node, ast.Name):
        return name(node.id)
    if isinstance(node, ast.UnaryOp):
        return f"−{_show(node.operand, name, peaks, words)}"
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        if node.func.id == "peak" and not words:
            assert isinstance(node.args[0], ast.Name)
            return _num(peaks.get(node.args[0].id, 0))
        return f"{node.func.id}({', '.join(_show(a, name, peaks, words) for a in node.args)})"
    assert isinstance(node, ast.BinOp)
    mine = _PRECEDENCE[type(node.op)]

    def side(child: ast.expr, right: bool) -> str:
        text = _show(child, name, peaks, words)
        if isinstance(child, ast.BinOp):
            theirs = _PRECEDENCE[type(child.op)]
            if theirs < mine or (right and theirs == mine and not isinstance(node.op, ast.Add | ast.Mult)):
                return f"({text})"
        return text

    return f"{side(node.left, False)} {_OPS[type(node.op)][0]} {side(node.right, True)}"
