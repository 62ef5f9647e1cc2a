"""What a learner sees in JupyterLab: learner notebooks 04 and 11 run in a real JupyterLab 4,
in Chromium, the way a learner works (Run > Run All Cells, typing into a cell, Ctrl+Enter).

The checks' own tests (tests/course/checks) prove what a check answers; these prove it reaches
the learner as a box and never as a traceback: the HTML JupyterLab really renders, after a real
kernel ran the learner version built from the current solution notebooks.

Screenshots for docs/notebooks.md: ``COURSE_SCREENSHOTS=docs/images python -m pytest tests/lab``
writes ``check-{correct,not-yet,not-answered}-{desktop,phone}.png`` (the check cell, at
1440x900 and 390x844) into that folder; without the variable nothing is written.

Measured on a 2-core machine: 45 s for the module when it is quiet (JupyterLab's start 4 s, Run
All of notebook 04 10 s, of notebook 11 17 s), 100 s when other test runs share the cores.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import exercises
from tests.lab.conftest import ROOT, Lab
from tests.lab.notebook_page import FEEDBACK, NotebookPage

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
NB04 = "04_split_and_build.ipynb"
NB11 = "11_ship_it.ipynb"
MARKDOWN = '.jp-OutputArea-output[data-mime-type="text/markdown"]'


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    opened = browser.new_context(viewport=DESKTOP)
    opened.set_default_timeout(60_000)  # a click may wait for a kernel on a shared machine
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def notebook04(lab: Lab, context: Any) -> Iterator[NotebookPage]:
    """Learner notebook 04, opened and run with Run All Cells (once, for the module)."""
    page = context.new_page()
    notebook = NotebookPage(page, lab.root / NB04).open(lab.page(NB04))
    notebook.run_all()
    yield notebook
    page.close()


def capture(notebook: NotebookPage, index: int, name: str) -> None:
    """With COURSE_SCREENSHOTS=<folder>: cell ``index`` as <folder>/<name>-desktop.png and
    -phone.png. The viewport goes back to desktop afterwards."""
    folder = os.environ.get("COURSE_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    cell = notebook.cell(index)
    # the file browser stays open when the window narrows and would leave the notebook 40 px
    # wide: closed, as a learner on a phone would close it (clicking its tab again)
    opened = notebook.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if opened.count():
        opened.click()
    try:
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            notebook.page.set_viewport_size(viewport)
            cell.scroll_into_view_if_needed()
            notebook.page.wait_for_timeout(300)  # JupyterLab relays out on resize
            cell.screenshot(path=str(Path(folder) / f"{name}-{size}.png"), animations="disabled")
    finally:
        notebook.page.set_viewport_size(DESKTOP)


def assigned_names(source: str) -> set[str]:
    """The names an exercise cell gives the learner to fill in (``a, b = ..., ...``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def feedback_in(notebook: NotebookPage, index: int, verdict: str) -> Any:
    """The one feedback box of cell ``index``, once it shows ``verdict`` (a data-verdict)."""
    box = notebook.cell(index).locator(f'{FEEDBACK}[data-verdict="{verdict}"]')
    box.wait_for(timeout=30_000)
    assert notebook.cell(index).locator(FEEDBACK).count() == 1, "one box per check"
    return box


def plain(markdown: str) -> str:
    """Markdown as its rendering reads: no emphasis or code marks, single spaces."""
    return " ".join(re.sub(r"[*_`]", "", markdown).split())


def test_a_traceback_is_seen_where_the_tests_look_for_one(lab: Lab, context: Any) -> None:
    """The selector for "no traceback" finds one when a cell raises, so its absence means
    something; and the kernel is this environment's Python, the one the kit is installed in."""
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import sys\nprint(sys.executable)"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": 'raise ValueError("raised on purpose")'},
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    content = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4,
               "nbformat_minor": 5}
    lab.api("contents/raises.ipynb", {"type": "notebook", "format": "json", "content": content})
    page = context.new_page()
    try:
        notebook = NotebookPage(page, lab.root / "raises.ipynb").open(lab.page("raises.ipynb"))
        notebook.run_all()
        assert notebook.outputs(0).inner_text().strip() == sys.executable
        errors = notebook.errors()
        assert len(errors) == 1 and "ValueError: raised on purpose" in errors[0], errors
    finally:
        page.close()


def test_run_all_shows_a_calm_box_under_every_check(notebook04: NotebookPage) -> None:
    checks = notebook04.tagged("check")
    assert checks, "learner notebook 04 has no check cell"
    for index in checks:
        exercise = max(i for i in range(index) if notebook04.source[i]["cell_type"] == "code"
                       and "help" not in notebook04.source[i]["metadata"].get("tags", []))
        names = assigned_names(notebook04.text(exercise))
        box = feedback_in(notebook04, index, "NOT_ANSWERED")
        assert box.get_attribute("role") == "status"  # read out by a screen reader
        title = box.locator("strong").first.inner_text()  # a quiz's: "Quiz · Not answered yet"
        assert title.endswith("Not answered yet"), title
        named = box.locator("code").first.inner_text()
        assert named in names, f"cell {index} names {named!r}, not one of {names}"
        assert box.is_visible()
    assert notebook04.errors() == []
    capture(notebook04, checks[0], "check-not-answered")


def test_a_wrong_answer_then_a_right_one(notebook04: NotebookPage) -> None:
    exercise = notebook04.find("X_train_80, y_train_80, test_set_20 = ...")
    check = notebook04.find("checks.stratified_split(")
    call = "split_and_seal(X, y, test_size={size}, stratify=y, random_state=0)"

    notebook04.edit(exercise, "X_train_80, y_train_80, test_set_20 = " + call.format(size=20))
    notebook04.run(exercise)
    notebook04.run(check)
    box = feedback_in(notebook04, check, "NOT_YET")
    assert box.locator("strong").first.inner_text() == "Not yet"
    text = box.inner_text()
    assert "the test set has 20 rows" in text and "test_size=0.2" in text, text
    capture(notebook04, check, "check-not-yet")

    notebook04.edit(exercise, "test_set_20, X_train_80, y_train_80 = " + call.format(size=0.2))
    notebook04.run(exercise)
    notebook04.run(check)
    box = feedback_in(notebook04, check, "NOT_YET")
    assert "in the wrong order" in box.inner_text()

    notebook04.edit(exercise, "X_train_80, y_train_80, test_set_20 = " + call.format(size=0.2))
    notebook04.run(exercise)
    notebook04.run(check)
    box = feedback_in(notebook04, check, "CORRECT")
    assert box.locator("strong").first.inner_text() == "Correct"
    assert "the same rows as random_state=0 gives" in box.inner_text()
    assert notebook04.errors() == []
    capture(notebook04, check, "check-correct")


def test_a_hint_and_the_solution_on_demand(notebook04: NotebookPage) -> None:
    helper = notebook04.find('checks.hint("04.1")')
    solution_notebook = json.loads((ROOT / "notebooks" / NB04).read_text(encoding="utf-8"))
    for cell in solution_notebook["cells"]:
        cell["source"] = "".join(cell["source"])
    first = exercises.exercises_in(solution_notebook["cells"])[0]
    expected = plain(first.hints[0])[:60] if first.hints else "Exercise 04.1 has no hint"

    notebook04.edit(helper, 'checks.hint("04.1")')
    notebook04.run(helper)
    shown = notebook04.cell(helper).locator(MARKDOWN)
    assert expected in plain(shown.inner_text())

    notebook04.edit(helper, 'checks.solution("04.1")')
    notebook04.run(helper)
    shown = notebook04.cell(helper).locator(MARKDOWN)
    assert "Solution of exercise 04.1" in shown.inner_text()
    assert "split_and_seal(" in shown.locator("pre").first.inner_text()
    assert notebook04.errors() == []


def test_notebook_11_runs_all_and_its_page_still_answers(lab: Lab, context: Any) -> None:
    page = context.new_page()
    try:
        notebook = NotebookPage(page, lab.root / NB11).open(lab.page(NB11))
        notebook.run_all(timeout=150)
        assert notebook.errors() == []
        for index in notebook.tagged("check"):
            feedback_in(notebook, index, "NOT_ANSWERED")
        link = notebook.panel.locator(".jp-OutputArea-output a", has_text="Open the web page")
        address = link.get_attribute("href")
        assert address and address.startswith("http://127.0.0.1:"), address
        try:
            with urllib.request.urlopen(address, timeout=10) as response:
                assert response.status == 200
        except urllib.error.URLError as error:
            pytest.fail(f"after Run All, the page link {address} no longer answers ({error}): "
                        "did a cell stop the notebook's server?")
    finally:
        page.close()


def _luminance(rgb: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", rgb)[:3])
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
              for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(ink: str, paper: str) -> float:
    """WCAG's contrast ratio of two CSS ``rgb(...)`` colours."""
    lighter, darker = sorted((_luminance(ink), _luminance(paper)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


_COLOURS = """(box) => Array.from(box.querySelectorAll('*')).concat([box])
    .filter((element) => element.closest('svg') === null && element.innerText?.trim())
    .map((element) => {
        let paper = element;
        while (getComputedStyle(paper).backgroundColor === 'rgba(0, 0, 0, 0)') {
            paper = paper.parentElement;
        }
        return [element.tagName, element.innerText.trim().slice(0, 30),
                getComputedStyle(element).color, getComputedStyle(paper).backgroundColor];
    })"""
"""Each element of a box with text: its colour and the background it is drawn on."""


def test_boxes_stay_readable_in_the_dark_theme_and_a_revealing_hint_waits(
    lab: Lab, context: Any
) -> None:
    """In JupyterLab Dark every text of a box (title, message, hint, code, disclosure) keeps
    WCAG AA contrast (4.5:1) on what it is drawn on; a hint that gives the answer away stays
    hidden until its disclosure is opened."""
    source = "\n".join([
        "from course.checks._feedback import not_answered, wrong",
        "from course.checks._guard import unreadable",
        "display(not_answered('X_train_80'))",
        "display(wrong('the test set has `20` rows.', hint='write `test_size=0.2`.',",
        "              hint_gives_answer=True, mistake='test-size-wrong'))",
        "display(unreadable(ValueError('on purpose'), {'y_80': [1, 2]}))",
    ])
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": source}
    content = {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4,
               "nbformat_minor": 5}
    lab.api("contents/looks.ipynb", {"type": "notebook", "format": "json", "content": content})
    themes = "settings/@jupyterlab/apputils-extension:themes"
    page = context.new_page()
    try:
        lab.api(themes, {"raw": '{"theme": "JupyterLab Dark"}'}, base="lab/api")
        notebook = NotebookPage(page, lab.root / "looks.ipynb").open(lab.page("looks.ipynb"))
        assert page.evaluate("document.body.dataset.jpThemeName") == "JupyterLab Dark"
        notebook.run_all()
        boxes = notebook.cell(0).locator(FEEDBACK)
        assert boxes.count() == 3
        revealing = boxes.nth(1).locator("details", has_text="Show the hint")
        assert not revealing.get_by_text("test_size=0.2").is_visible()
        revealing.locator("summary").click()
        assert revealing.get_by_text("test_size=0.2").is_visible()
        boxes.nth(2).locator("details summary").click()  # the details for the instructor
        for index in range(boxes.count()):
            for tag, text, ink, paper in boxes.nth(index).evaluate(_COLOURS):
                ratio = contrast(ink, paper)
                assert ratio >= 4.5, f"{tag} {text!r}: {ink} on {paper} is {ratio:.1f}:1"
    finally:
        lab.api(themes, {"raw": '{"theme": "JupyterLab Light"}'}, base="lab/api")
        page.close()
