"""Human labels and units for columns: "bill_length_mm" reads "bill length", in mm.

A learner reads labels, not column names: the page, the validation messages and the
explanations say "bill length (mm)", never "bill_length_mm" (issue 15 found "the bill length
mm" and "Careful with body_mass_g" in the explanations). A card carries an optional ``label``
and ``unit`` per feature and for its target; ``export_model`` fills them from an explicit
``labels=`` argument, else from the datasheet of a shipped dataset with the same column, else
from the column name itself (``readable``). Pure: no files, no network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["UNIT_SUFFIXES", "find_labels", "from_datasheet", "readable", "with_unit"]

# Column-name endings that are units: "body_mass_g" is a body mass in grams.
UNIT_SUFFIXES = {
    "mm": "mm",
    "cm": "cm",
    "m": "m",
    "km": "km",
    "g": "g",
    "kg": "kg",
    "s": "s",
    "ms": "ms",
    "pct": "%",
    "percent": "%",
    "c": "°C",
    "usd": "USD",
    "eur": "EUR",
}

# A cryptic column name ("s1", "bp", "bmi") is worth replacing by its datasheet description
# when that description is short; a readable one ("bill_length_mm") keeps its own words.
_CRYPTIC = re.compile(r"[a-z]{1,3}|[a-z]+\d+")
_MAX_DESCRIPTION_WORDS = 5
# Short names that are already words: "age" stays "age", not "age at baseline".
_PLAIN_WORDS = frozenset({"age", "sex", "day", "month", "year", "id", "cut", "fog", "sun"})


def readable(name: str) -> tuple[str, str]:
    """``(label, unit)`` from a column name: underscores become spaces, a unit suffix a unit.

    >>> readable("bill_length_mm")
    ('bill length', 'mm')
    >>> readable("rain_tomorrow")
    ('rain tomorrow', '')
    """
    words = [word for word in re.split(r"[_\s]+", name.strip()) if word]
    unit = ""
    if len(words) > 1 and words[-1].lower() in UNIT_SUFFIXES:
        unit = UNIT_SUFFIXES[words.pop().lower()]
    return (" ".join(words) or name), unit


def with_unit(label: str, unit: str | None) -> str:
    """``"body mass (g)"``: the label with its unit, for a form field or a message."""
    return f"{label} ({unit})" if unit else label


def from_datasheet(
    name: str, description: str, unit: str, *, max_words: int = _MAX_DESCRIPTION_WORDS
) -> tuple[str, str]:
    """``(label, unit)`` for a column described by a datasheet.

    The unit is the datasheet's. The label is the column name made readable, unless the name
    is cryptic ("s1", "bmi", "target") and the description's first clause is short and has no
    digits ("tc: total serum cholesterol." gives "total serum cholesterol"; "Sex coded 1 or 2"
    keeps "sex"; "The digit written, 0 to 9." gives "digit written").
    """
    label, derived_unit = readable(name)
    lower = name.lower()
    if (_CRYPTIC.fullmatch(lower) and lower not in _PLAIN_WORDS) or lower == "target":
        clause = re.split(r"[.;(,]", description, maxsplit=1)[0]
        clause = clause.split(":", 1)[-1].strip()
        words = clause.split()
        if words and words[0].lower() in ("the", "a", "an"):
            words = words[1:]
        if words and len(words) <= max_words and not re.search(r"\d", clause):
            first = words[0]
            # "Body mass index" -> "body mass index", but "HDL" keeps its capitals.
            words[0] = first if first.isupper() else first.lower()
            label = " ".join(words)
    return label, unit or derived_unit


def find_labels(
    names: Iterable[str], datasheets: Iterable[Mapping[str, tuple[str, str]]]
) -> dict[str, tuple[str, str]]:
    """Labels of ``names`` from the datasheet that describes most of them.

    ``datasheets`` yields, for each shipped dataset, ``(label, unit)`` by column name. The
    best match must describe at least half of ``names`` (a model trained on the penguins'
    columns, or on some of them plus a few engineered ones); columns it does not describe are
    left out, for ``readable`` to label.
    """
    wanted = list(names)
    best: dict[str, tuple[str, str]] = {}
    for labels in datasheets:
        found = {name: labels[name] for name in wanted if name in labels}
        if len(found) > len(best):
            best = found
    return best if 2 * len(best) >= len(wanted) else {}
