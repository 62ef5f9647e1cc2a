
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course import checks, recipes


def test_largest_coefficient_names_the_mistake():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["small", "big_negative", "positive"])
    y = 0.1 * X["small"] - 5 * X["big_negative"] + 2 * X["positive"]
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert checks.largest_coefficient("big_negative", model).passed
    assert "negative one is larger" in checks.largest_coefficient("positive", model).message
    assert "another input's is larger" in checks.largest_coefficient("small", model).message
    assert "not one of the model's inputs" in checks.largest_coefficient("bmi", model).message


def test_largest_coefficient_reads_names_through_a_column_transformer(split):
    X_train, _, y_train, _ = split
    model = recipes.penguin_pipeline(LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train == "Gentoo")
    coefficients = model[-1].coef_.ravel()
    names = [n.rpartition("__")[2] for n in model[:-1].get_feature_names_out()]
    best = names[int(np.abs(coefficients).argmax())]
    assert checks.largest_coefficient(best, model).passed
