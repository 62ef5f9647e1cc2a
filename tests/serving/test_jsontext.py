import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.jsontext import MAX_DEPTH, parse_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_standard_json_reads_as_json_loads_reads_it(value):
    text = json.dumps(value)
    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode()) == json.loads(text)


def test_nesting_up_to_the_limit_is_fine_beyond_it_is_refused_with_the_reason():
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    too_deep = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels"):
        parse_json(too_deep)


def test_nesting_that_would_crash_the_reader_is_a_value_error():
    with pytest.raises(ValueError, match="nested more than"):
        parse_json("[" * 50_000 + "]" * 50_000)


def test_many_shallow_containers_are_not_deep():
    batch = json.dumps([{"n": i, "tags": [i]} for i in range(MAX_DEPTH * 4)])
    assert len(parse_json(batch)) == MAX_DEPTH * 4


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"x": -Infinity}'])
def test_non_standard_constants_are_refused(text):
    with pytest.raises(ValueError, match="not a JSON number"):
        parse_json(text)


def test_bytes_must_be_utf8():
    with pytest.raises(UnicodeDecodeError):
        parse_json(b'"\xff"')
