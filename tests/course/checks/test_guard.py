"""@check: every input gets feedback, named after the learner's own variables."""

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course import checks
from course.checks import Verdict
from course.checks._feedback import Mistake, require_answer, wrong
from course.checks._guard import check, describe


@check
def share(answer, total=10):
    """A tiny check: the answer is a share of ``total``, between 0 and 1."""
    require_answer("answer", answer)
    if answer > 1:
        raise Mistake(wrong(
            f"{answer} is more than 1.", hint="a share is a fraction.", mistake="over-one"
        ))
    return checks.correct("a fraction.") if answer == 0.5 else wrong(
        "not half.", hint="0.5", mistake="not-half"
    )


def test_a_mistake_raised_by_a_helper_becomes_its_feedback():
    feedback = share(5)
    assert feedback.verdict is Verdict.NOT_YET and feedback.message == "5 is more than 1."
    assert share(0.5).passed


def test_an_exception_the_check_did_not_foresee_becomes_feedback_naming_the_answer():
    feedback = share("half")
    assert feedback.verdict is Verdict.NOT_YET
    assert "`answer` is the text 'half'" in feedback.message
    assert feedback.error.startswith("TypeError")  # kept for the instructor, not a traceback


def test_a_changed_check_cell_is_told_to_put_it_back():
    feedback = share(0.5, 10, 3)
    assert not feedback and "calls `share` with other arguments" in feedback.message


def test_a_starting_line_that_still_raises_not_implemented_is_not_answered():
    def q_update(*_):
        raise NotImplementedError("replace this line")

    assert checks.q_update(q_update).verdict is Verdict.NOT_ANSWERED


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None"),
        ([1, 2], "a list of 2 items"),
        (3, "the number 3"),
        ("abc", "the text 'abc'"),
        (object(), "an object"),
    ],
)
def test_describe_says_what_a_value_is_in_plain_words(value, text):
    assert describe(value) == text


def test_describe_gives_a_tables_shape():
    import pandas as pd

    table = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert describe(table) == "a DataFrame with 2 rows and 2 columns"
    assert describe(table["a"]) == "a Series of 2 values"


@pytest.mark.slow
def test_in_a_notebook_not_answered_names_the_learners_variable_across_lines():
    """The name comes from the cell's source, as Jupyter runs it (a real kernel)."""
    nb = new_notebook(
        cells=[
            new_code_cell("from course import checks\nX_train_80, y_train_80 = ..., ..."),
            new_code_cell(
                "checks.stratified_split(X_train_80,\n    y_train_80, ..., X=[1], y=[2],\n"
                "    test_size=0.2, random_state=0)"
            ),
            new_code_cell("X_train_80 = 1\nchecks.stratified_split(X_train_80, y_train_80, "
                          "..., [1], [2], test_size=0.2, random_state=0)"),
        ]
    )
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    first, second = (nbformat.from_dict(cell.outputs[0]) for cell in nb.cells[1:])
    assert first.data["text/plain"].startswith("Not answered yet: fill in `X_train_80`")
    assert second.data["text/plain"].startswith("Not answered yet: fill in `y_train_80`")
    assert 'data-verdict="NOT_ANSWERED"' in first.data["text/html"]


@pytest.mark.slow
def test_in_a_notebook_feedback_says_the_learners_names():
    nb = new_notebook(
        cells=[new_code_cell(
            "from course.checks import check, wrong\n"
            "@check\ndef sized(table, size):\n"
            "    return wrong(f'`table` has {len(table)} rows, not {size}.', hint='`table`!',\n"
            "                 mistake='wrong-size')\n"
            "rows_80 = [1, 2]\nsized(rows_80, 80)"
        )]
    )
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    text = nb.cells[0].outputs[0]["data"]["text/plain"]
    assert text == "Not yet: `rows_80` has 2 rows, not 80.\nHint: `rows_80`!"


def test_an_earlier_exercise_left_unanswered_is_named_when_the_check_trips_on_it():
    @check
    def scores(model, rows):
        return checks.correct(f"{model.predict(rows)}")

    feedback = scores(..., [[1.0]])
    assert feedback.verdict is Verdict.NOT_ANSWERED and "fill in `model`" in feedback.message


def test_library_warnings_raised_inside_a_check_stay_out_of_the_notebook(recwarn):
    import warnings

    @check
    def noisy(answer):
        warnings.warn("overflow encountered in cast", RuntimeWarning, stacklevel=1)
        return checks.correct("fine.")

    assert noisy(1).passed
    assert not recwarn.list
