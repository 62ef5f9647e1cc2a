import json

import numpy as np
import pytest

from course import datasets
from course.evaluate import ProblemKind
from course.export import ArtifactError
from course.schema import RowValidationError
from serving.models import ServedModel


def test_load_reads_the_card_and_the_model(shipped_models):
    served = ServedModel.load(shipped_models / "penguin-classifier" / "1")
    assert (served.name, served.version) == ("penguin-classifier", "1")
    assert served.kind is ProblemKind.CLASSIFICATION
    assert served.card.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert served.gives_probabilities


def test_load_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ArtifactError, match="no artifact folder"):
        ServedModel.load(tmp_path / "nothing" / "1")


def test_predictions_are_the_models_own_answers(penguin, penguin_split):
    X_test = penguin_split[1]
    frame = penguin.frame(penguin.validate(row)[0] for row in _rows(X_test))
    answer = penguin.predict(frame)
    assert answer.labels.tolist() == penguin.model.predict(X_test).tolist()
    assert answer.classes == penguin.card.classes
    assert np.allclose(answer.probabilities, penguin.model.predict_proba(X_test))
    assert np.allclose(answer.probabilities.sum(axis=1), 1.0)


def test_a_row_of_predictions_is_json_ready(penguin, penguin_rows):
    clean, _ = penguin.validate(penguin_rows[0])
    row = penguin.predict(penguin.frame([clean])).row(0)
    assert json.loads(json.dumps(row)) == row
    assert row["prediction"] in row["classes"]
    best = row["classes"][int(np.argmax(row["probabilities"]))]
    assert best == row["prediction"]


def test_probabilities_can_be_skipped(penguin, penguin_rows):
    frame = penguin.frame([penguin.validate(penguin_rows[0])[0]])
    answer = penguin.predict(frame, probabilities=False)
    assert answer.probabilities is None and answer.classes is None
    assert answer.row(0).keys() == {"prediction"}


def test_a_regressor_gives_numbers_and_no_probabilities(registry):
    served = registry.latest("diabetes-linear")
    assert not served.gives_probabilities
    row = {feature.name: feature.mean for feature in served.card.features}
    row = {name: round(v) if name in ("age", "sex", "s1", "s6") else v for name, v in row.items()}
    clean, _ = served.validate(row)
    answer = served.predict(served.frame([clean])).row(0)
    assert answer.keys() == {"prediction"}
    assert isinstance(answer["prediction"], float)


def test_validate_refuses_a_bad_row_field_by_field(penguin, penguin_rows):
    row = {**penguin_rows[0], "island": "Atlantis"}
    del row["sex"]
    with pytest.raises(RowValidationError) as caught:
        penguin.validate(row)
    assert {problem.field for problem in caught.value.problems} == {"island", "sex"}


@pytest.mark.parametrize("name", ["penguin-classifier", "penguin-knn"])
def test_predict_rows_gives_the_pipelines_answers_without_a_frame(registry, name, penguin_rows):
    served = registry.latest(name)
    assert served.compiled is not None
    clean = [served.validate(row)[0] for row in penguin_rows]
    fast, pipeline = served.predict_rows(clean), served.predict(served.frame(clean))
    assert fast.labels.tolist() == pipeline.labels.tolist()
    assert fast.classes == pipeline.classes == served.card.classes
    np.testing.assert_allclose(fast.probabilities, pipeline.probabilities, atol=1e-12)
    fast_row, pipeline_row = fast.row(0), pipeline.row(0)
    assert fast_row.pop("probabilities") == pytest.approx(pipeline_row.pop("probabilities"))
    assert fast_row == pipeline_row
    assert isinstance(fast_row["prediction"], str)  # JSON-ready, as the pipeline's


def test_predict_rows_falls_back_to_the_pipeline_for_a_model_it_cannot_compile(uncompilable):
    assert uncompilable.compiled is None
    X = datasets.load("diabetes").drop(columns="target").head(5)
    clean = [uncompilable.validate(row)[0] for row in _rows(X)]
    answer = uncompilable.predict_rows(clean)
    np.testing.assert_allclose(answer.labels, uncompilable.model.predict(X))
    assert answer.probabilities is None


def _rows(X):
    return [
        {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}
        for row in X.to_dict("records")
    ]
