
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course import checks, recipes

MEASUREMENTS = recipes.PENGUIN_NUMERIC


def column_transformer(numeric, categorical, numeric_columns=MEASUREMENTS):
    return ColumnTransformer(
        [("numeric", numeric, numeric_columns), ("categorical", categorical, ["island", "sex"])]
    )


@pytest.mark.parametrize(
    ("make", "passed", "says"),
    [
        (recipes.penguin_preprocessor, True, "4 scaled measurements and 5 one-hot columns"),
        (
            lambda: column_transformer(
                StandardScaler(),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
            ),
            False,
            "still have missing values",
        ),
        (
            lambda: column_transformer(SimpleImputer(), "passthrough"),
            False,
            "still holds text",
        ),
        (
            lambda: column_transformer(
                SimpleImputer(),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
            ),
            False,
            "not scaled",
        ),
        (
            lambda: column_transformer(
                make_pipeline(SimpleImputer(), StandardScaler()),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
                numeric_columns=MEASUREMENTS[:3],
            ),
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
    assert feedback.passed is passed
    assert says in feedback.message


def test_penguin_preprocessor_leaves_the_learners_object_unfitted(split):
    preprocessor = recipes.penguin_preprocessor()
    checks.penguin_preprocessor(preprocessor, split[0])
    assert not hasattr(preprocessor, "transformers_")


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("a", True, "test rows leak"),
        ("B", False, "option b is safe"),
        ("c", False, "inside fit"),
        ("d", False, "not one of the options"),
    ],
)
def test_leaky_option_explains_each_option(answer, passed, says):
    feedback = checks.leaky_option(answer)
    assert feedback.passed is passed
    assert says in feedback.message
