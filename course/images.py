"""Small changes to flattened square images, to test what a model really learned.

Notebook 09 compares a logistic regression on raw pixels with networks. On the digits as they
come (centred in their box) the two tie; ``shift_images`` moves every digit by a pixel or so,
as real handwriting drifts, and shows which models learned strokes rather than positions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["shift_images"]


def shift_images(X: Any, *, max_shift: int = 1, random_state: int, side: int = 8) -> Any:
    """Move each image (one flattened ``side`` x ``side`` image per row) by a random offset.

    Each image moves by its own whole number of pixels, between ``-max_shift`` and
    ``max_shift``, up or down and left or right (both independently, so it may not move at
    all); the pixels that come in at the edge are blank (0). The same ``random_state`` gives
    the same moves. A DataFrame comes back as a DataFrame with the same columns and index,
    so a model fitted on the original columns reads the result without complaint.
    """
    if isinstance(max_shift, bool) or not isinstance(max_shift, int | np.integer) or max_shift < 0:
        raise ValueError(f"max_shift={max_shift!r} is invalid: give a whole number of pixels >= 0.")
    if max_shift >= side:
        raise ValueError(
            f"max_shift={max_shift} would move a {side}x{side} image out of its box: "
            f"keep it below {side}."
        )
    values = np.asarray(X, dtype=float)
    if values.ndim != 2 or values.shape[1] != side * side:
        raise ValueError(
            f"expected one flattened {side}x{side} image per row ({side * side} columns), "
            f"got shape {values.shape}."
        )
    images = values.reshape(-1, side, side)
    rng = np.random.default_rng(random_state)
    moves = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    shifted = np.empty_like(images)
    for index, (down, right) in enumerate(moves):
        top, left = max_shift - down, max_shift - right
        shifted[index] = padded[index, top:top + side, left:left + side]
    flat = shifted.reshape(len(images), side * side)
    if isinstance(X, pd.DataFrame):
        return pd.DataFrame(flat, columns=X.columns, index=X.index)
    return flat
