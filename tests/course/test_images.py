import numpy as np
import pandas as pd
import pytest

from course.images import shift_images


def dot(side=3, row=1, column=1):
    image = np.zeros((side, side))
    image[row, column] = 1.0
    return image.reshape(1, -1)


def test_a_dot_moves_by_at_most_max_shift_and_keeps_its_ink():
    images = np.repeat(dot(side=5, row=2, column=2), 200, axis=0)
    shifted = shift_images(images, max_shift=1, random_state=0, side=5)
    assert shifted.shape == images.shape
    assert np.allclose(shifted.sum(axis=1), 1.0)  # nothing falls out of the box
    rows, columns = np.divmod(shifted.argmax(axis=1), 5)
    assert set(rows) == {1, 2, 3} and set(columns) == {1, 2, 3}  # every move in [-1, 1] occurs


def test_ink_pushed_past_the_edge_is_lost_and_blank_pixels_come_in():
    images = np.repeat(dot(side=3, row=0, column=0), 100, axis=0)
    shifted = shift_images(images, max_shift=1, random_state=0, side=3)
    kept = shifted.sum(axis=1)
    assert set(kept) == {0.0, 1.0}
    assert shifted.min() == 0.0


def test_same_seed_same_moves_and_zero_shift_changes_nothing():
    images = np.random.default_rng(0).uniform(0, 16, size=(20, 64))
    first = shift_images(images, max_shift=2, random_state=3)
    np.testing.assert_array_equal(first, shift_images(images, max_shift=2, random_state=3))
    assert not np.array_equal(first, shift_images(images, max_shift=2, random_state=4))
    np.testing.assert_array_equal(shift_images(images, max_shift=0, random_state=0), images)


def test_a_dataframe_keeps_its_columns_and_index():
    frame = pd.DataFrame(np.ones((3, 4)), columns=list("abcd"), index=[10, 11, 12])
    shifted = shift_images(frame, max_shift=1, random_state=0, side=2)
    assert isinstance(shifted, pd.DataFrame)
    assert list(shifted.columns) == list("abcd") and list(shifted.index) == [10, 11, 12]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"max_shift": -1}, "whole number of pixels"),
        ({"max_shift": 1.5}, "whole number of pixels"),
        ({"max_shift": 8}, "out of its box"),
        ({"side": 7}, "49 columns"),
    ],
)
def test_bad_arguments_are_explained(kwargs, says):
    with pytest.raises(ValueError, match=says):
        shift_images(np.zeros((2, 64)), random_state=0, **{"max_shift": 1, **kwargs})
