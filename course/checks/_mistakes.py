"""The mistake ids the checks can give, read from their source: what docs/instructor.md lists.

Every "Not yet" carries ``Feedback.mistake``, a kebab-case id such as ``test-size-wrong`` that a
classroom publishes to the instructor's grid instead of the learner's code. The ids are
written as literals at each ``wrong(..., mistake="...")`` (or assigned to a name just before,
``mistake = "..."``, when several branches share one ``wrong`` call), so they can be listed
without running a check: ``mistake_ids()`` parses the modules of ``course.checks``. A
``mistake=`` it cannot read as literals is an error, which keeps every id findable.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MISTAKE_ID", "Site", "mistake_ids", "mistake_sites"]

MISTAKE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""The form of an id: lower-case words and digits joined by single dashes."""

_HERE = Path(__file__).parent
_SHARED = {"_answers", "_guard", "_quiz"}
"""Modules whose ids any check can give (shared helpers, ``@check``'s safety net, the quiz)."""


@dataclass(frozen=True)
class Site:
    """One call that makes a "Not yet": where it is and the ids it can give."""

    module: str
    function: str
    line: int
    ids: tuple[str, ...]


def _literal_ids(function: ast.AST, value: ast.expr, where: str) -> tuple[str, ...]:
    """The ids ``value`` (the ``mistake=`` argument) can take inside ``function``."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return (value.value,)
    if not isinstance(value, ast.Name):
        raise ValueError(f"{where}: mistake= must be a literal id or a name assigned literals")
    name, found = value.id, []
    lists: dict[str, ast.List] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.List):
                lists[target.id] = node.value
            if isinstance(target, ast.Name) and target.id == name:
                if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                    raise ValueError(f"{where}: `{name}` is assigned something else than an id")
                found.append(node.value.value)
    for node in ast.walk(function):  # for mistake, value, ... in readings: (id, value, ...) rows
        if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple):
            names = [getattr(item, "id", None) for item in node.target.elts]
            if name in names and isinstance(node.iter, ast.Name) and node.iter.id in lists:
                index = names.index(name)
                for row in lists[node.iter.id].elts:
                    item = row.elts[index] if isinstance(row, ast.Tuple) else None
                    if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                        raise ValueError(f"{where}: a row of `{node.iter.id}` has no literal id")
                    found.append(item.value)
    if not found:
        raise ValueError(f"{where}: no literal id is assigned to `{name}`")
    return tuple(found)


def _makes_not_yet(call: ast.Call) -> bool:
    """``wrong(...)``, or ``Feedback(Verdict.NOT_YET, ...)`` written out."""
    if isinstance(call.func, ast.Name) and call.func.id == "wrong":
        return True
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "Feedback"
        and bool(call.args)
        and ast.unparse(call.args[0]) == "Verdict.NOT_YET"
    )


def mistake_sites(module: str, source: str | None = None) -> list[Site]:
    """Every call of ``course/checks/<module>.py`` that makes a "Not yet", with its ids.

    Raises ``ValueError`` naming the line of a call without ``mistake=`` or whose ids are not
    literals. A quiz option's id (``q3-b``, in a written-out ``Feedback``) is built from the
    key, so its site has no ids; ``wrong`` takes literals only.
    """
    text = source if source is not None else (_HERE / f"{module}.py").read_text()
    sites: list[Site] = []

    def visit(node: ast.AST, function: ast.AST | None, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child, child.name)
                continue
            if isinstance(child, ast.Call) and _makes_not_yet(child):
                where = f"course/checks/{module}.py:{child.lineno} ({name})"
                value = next((k.value for k in child.keywords if k.arg == "mistake"), None)
                if value is None:
                    raise ValueError(f"{where}: a \"Not yet\" without mistake=")
                built = isinstance(value, ast.JoinedStr) and ast.unparse(child.func) != "wrong"
                ids = () if built else _literal_ids(function or node, value, where)
                sites.append(Site(module, name, child.lineno, ids))
            visit(child, function, name)

    visit(ast.parse(text), None, "<module>")
    return sites


def mistake_ids() -> dict[str, list[str]]:
    """Module of ``course.checks`` -> the sorted ids its checks can give.

    The key ``"*"`` gathers the ids any check can give: the shared helpers' (``not-a-table``),
    ``@check``'s own (``unreadable-answer``, ``check-cell-changed``) and the quiz's.
    """
    listing: dict[str, set[str]] = {}
    for path in sorted(_HERE.glob("*.py")):
        module = path.stem
        if module in {"__init__", "_mistakes", "_feedback"}:  # _feedback: wrong() itself
            continue
        key = "*" if module in _SHARED else module
        for site in mistake_sites(module):
            listing.setdefault(key, set()).update(site.ids)
    return {key: sorted(ids) for key, ids in sorted(listing.items()) if ids}
