from serving.streams.offsets import Offset
from serving.streams.paging import Page


def test_a_page_takes_whole_records_until_the_budget_is_spent():
    page = Page(max_bytes=10)
    assert page.take(b"abcd")
    assert page.take(b"efgh")
    assert not page.take(b"ijk")  # 11 bytes would not fit
    assert page.records == [b"abcd", b"efgh"]
    assert page.size == 8
    assert page.full


def test_a_page_always_takes_its_first_record_however_large():
    page = Page(max_bytes=2)
    assert page.take(b"a record larger than the budget")
    assert not page.full
    assert not page.take(b"x")
    assert page.full


def test_a_full_page_ends_after_its_last_record_and_any_other_at_the_tail():
    tail = Offset(9, 900)
    page = Page(max_bytes=4)
    assert page.end(tail) == tail  # nothing left out: the read reaches the tail
    assert page.take(b"abcd")
    page.last = Offset(1, 4)
    assert page.end(tail) == tail
    assert not page.take(b"efgh")
    assert page.end(tail) == Offset(1, 4)  # the reader resumes after the last record taken
