import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course import datasets
from course.features import DigitFeatures


def test_profiles_ink_and_symmetry_of_a_known_image():
    image = np.zeros((3, 3))
    image[:, 0] = 1.0  # a vertical bar on the left
    features = DigitFeatures(side=3).fit_transform(image.reshape(1, -1))[0]
    rows, columns = features[:3], features[3:6]
    total, left_right, top_bottom = features[6:]
    np.testing.assert_array_equal(rows, [1, 1, 1])
    np.testing.assert_array_equal(columns, [3, 0, 0])
    assert total == 3
    assert left_right == pytest.approx(2.0)  # mirrored, every ink pixel moves
    assert top_bottom == 0.0  # the bar is its own upside-down image


def test_blank_image_gives_zeros_not_nan():
    features = DigitFeatures(side=2).fit_transform(np.zeros((1, 4)))
    assert np.isfinite(features).all()


def test_feature_names_match_columns():
    transformer = DigitFeatures().fit(np.zeros((2, 64)))
    names = transformer.get_feature_names_out()
    assert len(names) == transformer.transform(np.zeros((1, 64))).shape[1] == 19
    assert names[0] == "row_0_ink" and names[-1] == "top_bottom_asymmetry"


def test_wrong_pixel_count_is_explained():
    with pytest.raises(ValueError, match=r"expects 64 pixel columns per image .* got 65"):
        DigitFeatures().fit(np.zeros((2, 65)))
    fitted = DigitFeatures().fit(np.zeros((2, 64)))
    with pytest.raises(ValueError, match="64 features"):
        fitted.transform(np.zeros((2, 63)))


def test_composes_with_a_pipeline_on_the_digits():
    digits = datasets.load("digits")
    X, y = digits.drop(columns="target"), digits["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model = make_pipeline(DigitFeatures(), StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = model.fit(X_train, y_train).score(X_test, y_test)
    # 19 hand-made numbers keep most of the information in 64 pixels, but not all of it:
    # the same model on the raw pixels does better.
    assert 0.85 < accuracy < 0.95
    pixels = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    assert pixels.fit(X_train, y_train).score(X_test, y_test) > accuracy
    assert clone(model).get_params()["digitfeatures__side"] == 8
