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
