"""Every "Not yet" names its mistake with a stable id: what the classroom grid counts.

Static rules, read from the source of course/checks (``course.checks._mistakes``): every
``wrong(...)`` and written-out ``Feedback(Verdict.NOT_YET, ...)`` has ``mistake=``, a literal
kebab-case id, and no id repeats within one function unless the branches really are the same
mistake (listed below). The dynamic rule (each "Not yet" the other check tests provoke carries a
listed id) lives in conftest.py, since it watches those tests.
"""

import re
from collections import Counter
from pathlib import Path

import pytest

from course.checks import mistake_ids
from course.checks._guard import unreadable
from course.checks._mistakes import MISTAKE_ID, mistake_sites
from course.checks._quiz import QUIZ_MODULES

MODULES = [*sorted({*mistake_ids()} - {"*"}), "_answers", "_guard", "_quiz"]

SAME_MISTAKE_TWICE = {
    # (module, function, id): two branches, one mistake (the same message for two shapes)
    ("capstone", "time_ordered_split", "not-a-sealed-test-set"): 2,
    ("predict", "_not_a_request", "not-a-request"): 2,
    ("unsupervised", "_labels", "not-labels"): 2,
}


@pytest.mark.parametrize("module", MODULES)
def test_every_not_yet_has_a_literal_kebab_case_id_unique_in_its_function(module):
    sites = mistake_sites(module)
    assert sites
    for site in sites:
        for name in site.ids:
            assert MISTAKE_ID.fullmatch(name), f"{module}.py:{site.line}: {name!r}"
            assert len(name) <= 40, f"{module}.py:{site.line}: {name!r} is not short"  # grid
    counts = Counter((site.function, name) for site in sites for name in site.ids)
    repeated = {
        (module, function, name): count
        for (function, name), count in counts.items()
        if count > 1
    }
    listed = {key: count for key, count in SAME_MISTAKE_TWICE.items() if key[0] == module}
    assert repeated == listed


def test_a_call_without_an_id_or_with_a_computed_one_is_refused():
    with pytest.raises(ValueError, match=r"x\.py:3 \(c\): a \"Not yet\" without mistake="):
        mistake_sites("x", "@check\ndef c(a):\n    return wrong('no.', hint='h.')\n")
    with pytest.raises(ValueError, match="literal id or a name"):
        mistake_sites("x", "def c(a):\n    return wrong('no.', hint='h.', mistake=f'{a}-x')\n")
    with pytest.raises(ValueError, match="assigned something else"):
        mistake_sites("x", "def c(a):\n    m = str(a)\n    return wrong('', hint='', mistake=m)\n")
    ok = "def c(a):\n    m = 'too-big' if a else 'x'\n    return wrong('', hint='', mistake=m)\n"
    with pytest.raises(ValueError, match="assigned something else"):
        mistake_sites("x", ok)


def test_ids_read_through_names_and_rows():
    source = (
        "def c(a):\n"
        "    rows = [('swapped', 1, 'm', 'h'), ('diagonal', 2, 'm', 'h')]\n"
        "    for mistake, value, message, hint in rows:\n"
        "        if a == value:\n"
        "            return wrong(message, hint=hint, mistake=mistake)\n"
        "    if a:\n"
        "        kind = 'too-big'\n"
        "    else:\n"
        "        kind = 'too-small'\n"
        "    return wrong('no.', hint='h.', mistake=kind)\n"
    )
    assert [site.ids for site in mistake_sites("x", source)] == [
        ("swapped", "diagonal"),
        ("too-big", "too-small"),
    ]


def test_the_safety_net_names_its_mistakes_without_the_answer():
    answer = {"y_80": [1, 2]}
    assert unreadable(ValueError("boom"), answer).mistake == "unreadable-answer"
    assert unreadable(ValueError("Input contains NaN"), answer).mistake == "missing-values"
    not_fitted = type("NotFittedError", (Exception,), {})
    assert unreadable(not_fitted("x"), answer).mistake == "model-not-fitted"
    assert unreadable(NotImplementedError(), answer).mistake is None  # not answered yet


def test_the_shared_ids_are_listed_for_every_check():
    shared = mistake_ids()["*"]
    for name in ("unreadable-answer", "check-cell-changed", "not-a-table", "not-a-dict"):
        assert name in shared


def test_the_instructor_guide_lists_exactly_the_ids_per_notebook():
    """docs/instructor.md §4 "The mistake ids on the classroom grid": one row per notebook."""
    guide = (Path(__file__).parents[3] / "docs" / "instructor.md").read_text()
    section = guide.split("### The mistake ids on the classroom grid", 1)[1].split("\n#", 1)[0]
    listed = {}
    for row in re.findall(r"^\| (.+?) \| (.+) \|$", section, re.MULTILINE):
        label, cell = row
        if label in {"notebook", "---"} or label.startswith("the quiz"):
            continue
        key = "*" if label == "any check" else re.fullmatch(r"\d\d \((\w+)\)", label)[1]
        listed[key] = re.findall(r"`([^`]+)`", cell)
    assert listed == mistake_ids()
    assert [key for key in listed if key != "*"] == list(QUIZ_MODULES.values())
