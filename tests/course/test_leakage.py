import numpy as np
import pandas as pd
import pytest

from course import leakage


def test_noise_columns_line_up_with_the_rows_and_repeat_with_the_seed():
    index = pd.Index([5, 3, 9])
    noise = leakage.noise_columns(index, 4, random_state=0)
    assert noise.shape == (3, 4)
    assert list(noise.index) == [5, 3, 9]
    assert list(noise.columns) == ["noise_0", "noise_1", "noise_2", "noise_3"]
    pd.testing.assert_frame_equal(noise, leakage.noise_columns(index, 4, random_state=0))
    assert not np.allclose(noise, leakage.noise_columns(index, 4, random_state=1))


def test_noise_columns_carry_no_information():
    noise = leakage.noise_columns(range(2000), 3, random_state=0)
    np.testing.assert_allclose(noise.mean(), 0, atol=0.1)
    np.testing.assert_allclose(noise.std(), 1, atol=0.1)
    assert noise.corr().abs().where(~np.eye(3, dtype=bool)).max().max() < 0.1


def test_noise_columns_refuse_an_empty_request():
    with pytest.raises(ValueError, match="at least one column"):
        leakage.noise_columns(range(3), 0)
