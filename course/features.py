"""Hand-made features for the digits images: what a person designs before deep learning.

Notebook 09 compares a logistic regression fed with these 19 features with the same model on
the 64 raw pixels and with networks. The features summarise the image and lose information:
on centred digits the logistic regression on all the pixels beats them and ties the network.
``DigitFeatures`` is a scikit-learn transformer, so it composes with Pipelines:
``make_pipeline(DigitFeatures(), StandardScaler(), LogisticRegression())``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["DigitFeatures"]


class DigitFeatures(TransformerMixin, BaseEstimator):
    """Turn square grey-scale images (one flattened image per row) into a few readable numbers.

    For an image of side n it makes 2n + 3 features: the ink in each row and each column
    (the image's profiles), the total ink, and how symmetric the image is left-right and
    top-bottom (0 means a perfect mirror image). A 0 looks symmetric both ways, a 7 neither.
    """

    def __init__(self, *, side: int = 8) -> None:
        self.side = side

    def fit(self, X: Any, y: Any = None) -> DigitFeatures:
        X = validate_data(self, X)
        if self.side < 1:
            raise ValueError(f"side={self.side!r} is invalid: it must be a positive integer.")
        if X.shape[1] != self.side * self.side:
            raise ValueError(
                f"DigitFeatures(side={self.side}) expects {self.side * self.side} pixel columns "
                f"per image ({self.side}x{self.side}), got {X.shape[1]}. Pass only the pixel "
                f"columns, or set side to the image's width."
            )
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        X = validate_data(self, X, reset=False)
        images = X.reshape(-1, self.side, self.side)
        row_ink = images.sum(axis=2)
        column_ink = images.sum(axis=1)
        total_ink = images.sum(axis=(1, 2))
        scale = np.maximum(total_ink, 1e-12)
        left_right = np.abs(images - images[:, :, ::-1]).sum(axis=(1, 2)) / scale
        top_bottom = np.abs(images - images[:, ::-1, :]).sum(axis=(1, 2)) / scale
        return np.column_stack([row_ink, column_ink, total_ink, left_right, top_bottom])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        names = [f"row_{i}_ink" for i in range(self.side)]
        names += [f"column_{i}_ink" for i in range(self.side)]
        names += ["total_ink", "left_right_asymmetry", "top_bottom_asymmetry"]
        return np.asarray(names, dtype=object)
