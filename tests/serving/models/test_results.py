import csv

import pandas as pd
import pytest

from course import datasets
from serving.models import Results, ScoredChunk, check_table, score_table
from serving.models.results import csv_lines, header


@pytest.fixture
def chunks(penguin):
    table = datasets.load("penguins").head(30).astype({"island": object})
    table.loc[4, "island"] = "Atlantis"
    return list(
        score_table(penguin, check_table(penguin.card, table), chunk_size=8, probabilities=True)
    )


def test_a_committed_result_is_a_csv_with_one_line_per_input_row(tmp_path, penguin, chunks):
    results = Results(tmp_path / "results")
    writer = results.create(header(penguin.card.classes))
    for chunk in chunks:
        writer.write(csv_lines(chunk), len(chunk.rows))
    assert results.path_of(writer.id) is None  # not visible before it is complete
    path = writer.commit()
    assert results.path_of(writer.id) == path and writer.url == f"/v1/results/{writer.id}.csv"
    frame = pd.read_csv(path)
    assert list(frame.columns) == [
        "row",
        "prediction",
        "probability_Adelie",
        "probability_Chinstrap",
        "probability_Gentoo",
        "warning",
        "error",
    ]
    assert frame["row"].tolist() == list(range(30)) and writer.rows == 30
    predictions = [p for chunk in chunks for p in chunk.predictions]
    assert frame["prediction"].fillna("-").tolist() == [p or "-" for p in predictions]
    assert frame.loc[4, "error"].startswith("island: unknown category 'Atlantis'")
    assert frame["error"].isna().sum() == 29
    assert frame.filter(like="probability_").iloc[4].isna().all()


def test_a_discarded_result_leaves_nothing(tmp_path, penguin, chunks):
    results = Results(tmp_path)
    writer = results.create(header(None))
    writer.write(csv_lines(chunks[0]), len(chunks[0].rows))
    writer.discard()
    assert list(tmp_path.iterdir()) == []
    assert results.path_of(writer.id) is None


@pytest.mark.parametrize("bad", ["../secret", "..", "a" * 22 + "/..", "", "x" * 21, None])
def test_only_the_exact_shape_of_an_id_reaches_the_file_system(tmp_path, bad):
    (tmp_path / "secret.csv").write_text("no")
    assert Results(tmp_path / "results").path_of(bad) is None


def test_text_with_commas_quotes_and_newlines_survives_the_csv(tmp_path):
    chunk = ScoredChunk(
        start=0,
        stop=4,
        total=4,
        predictions=["x,y", None, 'q"', 2.5],
        probabilities=None,
        classes=None,
        errors=[(0, 'say "hi"'), (1, "a,b"), (2, "two\nlines")],
        warnings=[(3, "far")],
    )
    writer = Results(tmp_path).create(header(None))
    writer.write(csv_lines(chunk), len(chunk.rows))
    with writer.commit().open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["row", "prediction", "warning", "error"]
    assert rows[1:] == [
        ["0", "x,y", "", 'say "hi"'],
        ["1", "", "", "a,b"],
        ["2", 'q"', "", "two\nlines"],
        ["3", "2.5", "far", ""],
    ]


def test_lines_of_a_chunk_without_messages_or_probabilities():
    chunk = ScoredChunk(
        start=10,
        stop=13,
        total=13,
        predictions=["Adelie", None, "Gentoo"],
        probabilities=None,
        classes=None,
        errors=[],
        warnings=[],
    )
    assert csv_lines(chunk) == b"10,Adelie,,\n11,,,\n12,Gentoo,,\n"


def test_a_result_over_its_cap_is_refused_and_leaves_no_file(tmp_path, penguin) -> None:
    """A table of invalid rows writes more than it reads (each row carries its message): the
    result is capped (MAX_RESULT_BYTES) and a run that would pass the cap fails, leaving no
    file. The ratio printed is the one docs/MODELS.md quotes."""
    from serving.models.errors import ResultTooLarge
    from serving.models.results import MAX_RESULT_BYTES, ResultWriter

    penguins = datasets.load("penguins")
    table = pd.concat([penguins] * 6, ignore_index=True).head(2_000).astype({"island": object})
    table["island"] = "Atlantis"  # every row invalid: its message goes in the result
    source = table.to_csv(index=False).encode()
    scored = list(score_table(penguin, check_table(penguin.card, table), chunk_size=500))
    lines = [csv_lines(chunk) for chunk in scored]
    ratio = sum(map(len, lines)) / len(source)
    print(f"result/upload size for invalid rows: {ratio:.1f}")
    assert ratio > 1  # the reason for a cap of its own
    folder = tmp_path / "results"
    folder.mkdir()
    head = len(",".join(header(None)).encode()) + 1
    cap = head + len(lines[0]) + len(lines[1])  # room for exactly two chunks
    writer = ResultWriter(folder, "x" * 22, header(None), max_bytes=cap)
    writer.write(lines[0], 500)
    writer.write(lines[1], 500)
    with pytest.raises(ResultTooLarge, match="score the table in parts") as refused:
        writer.write(lines[2], 500)
    assert (refused.value.code, refused.value.status) == ("PAYLOAD_TOO_LARGE", 413)
    writer.discard()  # what the batch agent does with a run that fails
    assert list(folder.iterdir()) == [] and writer.rows == 1_000
    assert MAX_RESULT_BYTES == 256 * 2**20
