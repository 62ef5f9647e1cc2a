import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from course import checks, recipes
from course.checks import Verdict

MEASUREMENTS = recipes.PENGUIN_NUMERIC
CATEGORIES = ["island", "sex"]


def numeric(*steps):
    return make_pipeline(*steps) if steps else make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler()
    )


def categorical(*steps):
    return make_pipeline(*steps) if steps else make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )


def column_transformer(numeric_part, categorical_part, numeric_columns=MEASUREMENTS):
    return ColumnTransformer(
        [("numeric", numeric_part, numeric_columns), ("categorical", categorical_part, CATEGORIES)]
    )


@pytest.mark.parametrize(
    ("make", "passed", "says"),
    [
        (recipes.penguin_preprocessor, True, "4 scaled measurements and 5 one-hot columns"),
        # the two parts in the other order are just as right
        (
            lambda: ColumnTransformer([("categorical", categorical(), CATEGORIES),
                                       ("numeric", numeric(), MEASUREMENTS)]),
            True,
            "4 scaled measurements",
        ),
        # forgot the imputer of the measurements
        (lambda: column_transformer(StandardScaler(), categorical()), False,
         "still have missing values"),
        # the categories passed through as text
        (lambda: column_transformer(SimpleImputer(), "passthrough"), False, "still holds text"),
        # forgot to scale
        (
            lambda: column_transformer(SimpleImputer(strategy="median"), categorical()),
            False,
            "not scaled",
        ),
        # scaler before imputer
        (
            lambda: column_transformer(
                numeric(StandardScaler(), SimpleImputer(strategy="median")), categorical()
            ),
            False,
            "scales before it fills the gaps",
        ),
        # one-hot encoded the measurements too
        (
            lambda: ColumnTransformer([
                ("categorical", categorical(), MEASUREMENTS + CATEGORIES),
            ]),
            False,
            "are one-hot encoded",
        ),
        # forgot the categorical part
        (
            lambda: ColumnTransformer([("numeric", numeric(), MEASUREMENTS)]),
            False,
            "island and sex are missing from the output",
        ),
        # encoded island and sex without filling their gaps
        (
            lambda: column_transformer(numeric(), OneHotEncoder(handle_unknown="ignore")),
            False,
            "encoded without filling their gaps",
        ),
        # forgot handle_unknown="ignore"
        (
            lambda: column_transformer(
                numeric(), categorical(SimpleImputer(strategy="most_frequent"), OneHotEncoder())
            ),
            False,
            "never saw (Anvers) makes it fail",
        ),
        # the mean instead of the median
        (
            lambda: column_transformer(numeric(SimpleImputer(), StandardScaler()), categorical()),
            False,
            "filled with the mean, but the exercise asks for the median",
        ),
        # another scaler: right shape, wrong values
        (
            lambda: column_transformer(
                numeric(SimpleImputer(strategy="median"), MinMaxScaler()), categorical()
            ),
            False,
            "not scaled",
        ),
        # left out a measurement
        (
            lambda: column_transformer(numeric(), categorical(), numeric_columns=MEASUREMENTS[:3]),
            False,
            "has 8 columns; expected 9",
        ),
        (
            lambda: ColumnTransformer([("numeric", StandardScaler(), ["bill_length"])]),
            False,
            "raised ValueError",
        ),
        (lambda: "scale and encode", False, "should be a scikit-learn transformer"),
        (lambda: ColumnTransformer, False, "is the class ColumnTransformer"),
    ],
)
def test_penguin_preprocessor_names_the_mistake(split, make, passed, says):
    feedback = checks.penguin_preprocessor(make(), split[0])
    assert feedback.passed is passed, feedback
    assert says in feedback.message


def test_penguin_preprocessor_refuses_one_already_fitted(split):
    fitted = recipes.penguin_preprocessor().fit(split[0])
    feedback = checks.penguin_preprocessor(fitted, split[0])
    assert not feedback.passed
    assert "already fitted" in feedback.message


def test_penguin_preprocessor_leaves_the_learners_object_unfitted(split):
    preprocessor = recipes.penguin_preprocessor()
    checks.penguin_preprocessor(preprocessor, split[0])
    assert not hasattr(preprocessor, "transformers_")


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("ac", True, "all 344 birds before the split"),
        (["a", "c"], True, "each scored fold helped fill"),
        ("C, A", True, "(a)"),
        # only the leak before the split
        ("a", False, "(a) leaks, but it is not the only one: look again at (c)"),
        # only the leak into the folds
        ("c", False, "(c) leaks, but it is not the only one: look again at (a)"),
        # the pipeline inside cross-validation is safe
        ("abc", False, "option b is safe: the pipeline is refitted inside every fold"),
        # fitting on the training rows and transforming the test rows is safe
        ("acd", False, "option d is safe: the scaler learns from the training rows only"),
        ("e", False, "not a set of options"),
        ("", False, "not a set of options"),
    ],
)
def test_leaky_option_explains_each_option(answer, passed, says):
    feedback = checks.leaky_option(answer)
    assert feedback.passed is passed, feedback
    assert says in feedback.message


def test_leaky_option_points_at_the_missed_leak():
    assert "cross_val_score later score" in checks.leaky_option("a").hint
    assert "before split_and_seal" in checks.leaky_option(["c"]).hint


def test_unanswered_exercises_raise_not_implemented(split):
    feedback = checks.penguin_preprocessor(..., split[0])
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`preprocessor`" in feedback.message
    feedback = checks.leaky_option(...)
    assert feedback.verdict is Verdict.NOT_ANSWERED and "`leaky`" in feedback.message
