import pytest
from sklearn.base import clone

from course import recipes
from course.export import export_model
from serving.models import Retrainer, RetrainError, retrain_data


@pytest.fixture(scope="module")
def data(penguin):
    return retrain_data(penguin.card, "penguins")


def test_the_data_is_the_cards_features_and_target(penguin, data):
    X, y = data
    assert list(X.columns) == penguin.card.feature_names
    assert y.name == "species" and y.notna().all() and len(X) == len(y) == 344


def test_each_fold_reports_its_score_then_the_final_fit(penguin, data):
    retrainer = Retrainer(penguin.model, folds=3)
    steps = list(retrainer.steps(*data))
    assert [(s.step, s.total, s.fold) for s in steps] == [
        (1, 4, 1),
        (2, 4, 2),
        (3, 4, 3),
        (4, 4, None),
    ]
    assert all(s.metric == "accuracy" and 0.8 <= s.score <= 1.0 for s in steps)
    best = 0.0
    for step in steps[:3]:
        best = max(best, step.score)
        assert step.best == best
    assert steps[0].describe().startswith("fold 1 of 3: accuracy ")
    result = retrainer.result()
    assert result.complete and result.steps_done == 4
    assert len(result.X_fit) == 258  # every training row, the test quarter held out
    assert result.metrics["accuracy"] == pytest.approx(steps[-1].score)


def test_stopping_early_keeps_the_best_fold_model(penguin, data):
    retrainer = Retrainer(penguin.model, folds=4)
    steps = retrainer.steps(*data)
    first, second = next(steps), next(steps)
    steps.close()  # the user pressed Stop
    result = retrainer.result()
    assert not result.complete and result.steps_done == 2
    best_fit_rows = 258 * 3 // 4
    assert len(result.X_fit) in (best_fit_rows, best_fit_rows + 1)
    kept_score = max(first.score, second.score)
    assert retrainer.best_[0] == kept_score and result.model is retrainer.best_[1]
    assert set(result.metrics) >= {"accuracy", "f1_macro"}


def test_the_result_exports_as_the_next_version(penguin, data, models_dir):
    retrainer = Retrainer(penguin.model, folds=2)
    for _ in retrainer.steps(*data):
        pass
    result = retrainer.result()
    path = export_model(
        result.model,
        result.X_fit,
        result.y_fit,
        name=recipes.PENGUIN_MODEL_NAME,
        models_dir=models_dir,
        metrics=result.metrics,
    )
    assert path.name == "2"


def test_the_estimator_itself_is_never_refitted(penguin, data):
    before = clone(penguin.model).get_params()
    coefficients = penguin.model[-1].coef_.copy()
    for _ in Retrainer(penguin.model, folds=2).steps(*data):
        pass
    assert (penguin.model[-1].coef_ == coefficients).all()
    assert clone(penguin.model).get_params().keys() == before.keys()


def test_nothing_to_keep_before_the_first_step(penguin):
    with pytest.raises(RetrainError, match="no step has finished yet"):
        Retrainer(penguin.model).result()


def test_at_least_two_folds(penguin, data):
    with pytest.raises(RetrainError, match="folds must be at least 2"):
        next(Retrainer(penguin.model, folds=1).steps(*data))


def test_a_dataset_without_the_models_columns_is_refused(penguin):
    with pytest.raises(RetrainError, match="dataset 'diabetes' has no column 'bill_length_mm'"):
        retrain_data(penguin.card, "diabetes")


def test_an_unknown_dataset_is_refused(penguin):
    with pytest.raises(RetrainError, match="penguinz"):
        retrain_data(penguin.card, "penguinz")
