"""The verdict's three faces: a title in words, a box in HTML, plain text for nbval."""

from html.parser import HTMLParser

import pytest

from course import checks
from course.checks import Feedback, Verdict
from course.checks._feedback import not_answered
from course.rl import GridWorld


class Text(HTMLParser):
    """The text a reader (or a screen reader) gets from the HTML, and the tags it holds."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def __str__(self):
        return "".join(self.text)


def test_feedback_reads_as_a_verdict_with_a_hint_in_plain_text():
    good = checks.correct("well done.")
    bad = checks.wrong("off by one.", hint="count the biases.", mistake="off-by-one")
    assert good and not bad
    assert good.passed is True and bad.passed is False
    assert repr(good) == "Correct: well done."
    assert repr(bad) == "Not yet: off by one.\nHint: count the biases."
    assert repr(not_answered("x_80")).startswith("Not answered yet: fill in `x_80`")


@pytest.mark.parametrize(
    ("feedback", "title"),
    [
        (checks.correct("the split is stratified."), "Correct"),
        (
            checks.wrong(
                "the split is not stratified.", hint="pass stratify=y.", mistake="not-stratified"
            ),
            "Not yet",
        ),
        (not_answered("y_train_80"), "Not answered yet"),
    ],
)
def test_the_box_says_its_verdict_in_words_not_only_in_colour(feedback, title):
    html = feedback._repr_html_()
    text = str(Text(html))
    assert text.startswith(f"{title}:")  # the icon adds no text: it is aria-hidden
    assert 'role="status"' in html and 'aria-hidden="true"' in html
    assert not any(ord(char) > 0x2FFF for char in html), "no emoji: lab PCs lack the font"


def test_the_box_escapes_the_message_and_shows_backticks_as_code():
    html = checks.wrong("`X_train` holds <script>", hint="a < b", mistake="x")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ">X_train</code>" in html and "<code " in html
    assert "Hint" in str(Text(html))


def test_a_hint_that_gives_the_answer_away_waits_behind_a_disclosure():
    shown = checks.wrong("not yet.", hint="look at the split.", mistake="x")._repr_html_()
    hidden = checks.wrong(
        "not yet.", hint="write 0.2", hint_gives_answer=True, mistake="x"
    )._repr_html_()
    assert "details" not in Text(shown).tags
    assert "details" in Text(hidden).tags and "summary" in Text(hidden).tags


def test_a_summary_lists_its_parts_each_with_its_own_title():
    parts = (
        Feedback(Verdict.CORRECT, "yes.", label="Question 1"),
        Feedback(Verdict.NOT_YET, "no.", label="Question 2"),
    )
    summary = Feedback(Verdict.NOT_YET, "1 of 2 right.", label="Quiz", parts=parts)
    text = str(Text(summary._repr_html_()))
    assert "Quiz · Not yet" in text
    assert "Question 1 · Correct" in text and "Question 2 · Not yet" in text
    assert "  Question 2 · Not yet: no." in str(summary)


def test_a_placeholder_answer_is_not_answered_yet_never_an_exception():
    feedback = checks.parameter_count(..., layer_sizes=[64, 32, 10])
    assert feedback.verdict is Verdict.NOT_ANSWERED and "fill in `answer`" in feedback.message
    for check, args in [
        (checks.discounted_return, ([1.0], 0.9)),
        (checks.q_update, ()),
        (checks.reaches_goal, (GridWorld(),)),
    ]:
        assert check(..., *args).verdict is Verdict.NOT_ANSWERED


def test_every_check_treats_the_placeholder_as_not_answered(penguins, split, fitted):
    X_train, X_test, y_train, y_test = split
    calls = [
        lambda: checks.problem_kind(..., penguins, "species"),
        lambda: checks.missing_values(..., penguins, "sex"),
        lambda: checks.penguin_features(..., penguins),
        lambda: checks.penguin_preprocessor(..., X_train),
        lambda: checks.leaky_option(...),
        lambda: checks.strongest_correlation(..., penguins, "body_mass_g"),
        lambda: checks.class_share(..., penguins["species"], "Adelie"),
        lambda: checks.stratified_split(..., y_train, ..., X_train, y_train, test_size=0.25,
                                        random_state=0),
        lambda: checks.confusion_cell(..., None, true="Adelie", predicted="Gentoo"),
        lambda: checks.grid_search(..., X_train, param="classify__max_depth"),
        lambda: checks.class_probability(..., fitted, X_test.head(1), "Adelie"),
        lambda: checks.valid_request(..., None),
        lambda: checks.largest_coefficient(..., fitted),
        lambda: checks.best_k(..., None),
        lambda: checks.clusters_match(..., penguins["species"], X=penguins,
                                      features=["bill_depth_mm"], n_clusters=3, min_agreement=0.5),
        lambda: checks.time_ordered_split(..., ..., ...),
        lambda: checks.model_ready_features(..., penguins, target="species"),
        lambda: checks.persistence_accuracy(..., X_test, y_test),
    ]
    for call in calls:
        feedback = call()
        assert feedback.verdict is Verdict.NOT_ANSWERED, feedback
        assert "fill in `" in feedback.message
