import os

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from course import checks, datasets, recipes
from course.clustering import cluster_scores
from course.export import read_card
from course.rl import GridWorld, QLearningAgent
from course.weather import RAIN_TOMORROW, rain_tomorrow


def test_feedback_reads_as_a_verdict_with_a_hint():
    good = checks.correct("well done.")
    bad = checks.wrong("off by one.", hint="count the biases.")
    assert good and not bad
    assert repr(good) == "✅ Correct: well done."
    assert repr(bad) == "❌ Not yet: off by one.\n💡 Hint: count the biases."


def test_a_placeholder_answer_raises_a_clear_not_implemented_error():
    with pytest.raises(NotImplementedError, match=r"`n_parameters` is still `\.\.\.`"):
        checks.parameter_count(..., layer_sizes=[64, 32, 10])
    for check, args in [
        (checks.discounted_return, ([1.0], 0.9)),
        (checks.q_update, ()),
        (checks.reaches_goal, (GridWorld(),)),
    ]:
        with pytest.raises(NotImplementedError, match="run this check again"):
            check(..., *args)


def test_q_update_left_as_its_starting_code_counts_as_not_answered():
    def q_update(q, reward, next_best, learning_rate, discount):
        raise NotImplementedError("replace this line")

    with pytest.raises(NotImplementedError, match="replace this line"):
        checks.q_update(q_update)


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (64 * 32 + 32 + 32 * 10 + 10, True, "2410 numbers"),
        (64 * 32 + 32 * 10, False, "not the biases"),
        (64 * 32 + 32, False, "first layer alone"),
        (64 + 32 + 10, False, "counts the units"),
        (1234, False, "not the number"),
        ("2410", False, "should be a number"),
    ],
)
def test_parameter_count_names_the_mistake(answer, passed, says):
    feedback = checks.parameter_count(answer, layer_sizes=[64, 32, 10])
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (0.9**3 * 10, True, "7.29"),
        (10, False, "without discounting"),
        (0.9**4 * 10, False, "one step too many"),
        (5.0, False, "not the discounted return"),
        (None, False, "should be a number"),
    ],
)
def test_discounted_return_names_the_mistake(answer, passed, says):
    feedback = checks.discounted_return(answer, rewards=[0, 0, 0, 10], discount=0.9)
    assert feedback.passed is passed
    assert says in feedback.message


def right_update(q, reward, next_best, learning_rate, discount):
    return q + learning_rate * (reward + discount * next_best - q)


@pytest.mark.parametrize(
    ("update", "passed", "says"),
    [
        (right_update, True, "matches"),
        (lambda q, r, n, lr, d: r + d * n, False, "part of the way"),
        (lambda q, r, n, lr, d: q + lr * (r + n - q), False, "discounted"),
        (lambda q, r, n, lr, d: lr * (r + d * n - q), False, "add it to the old value"),
        (lambda q, r, n, lr, d: None, False, "returned None"),
        (lambda q, r, n, lr, d: [q], False, "not a number"),
        (lambda q, r: q, False, "raised TypeError"),
        (42, False, "should be a function"),
    ],
)
def test_q_update_names_the_mistake(update, passed, says):
    feedback = checks.q_update(update)
    assert feedback.passed is passed
    assert says in f"{feedback.message} {feedback.hint}"


def test_reaches_goal_tells_greed_from_success():
    env = GridWorld()
    assert "not learned" in checks.reaches_goal(QLearningAgent(), env).message
    explorer = QLearningAgent(epsilon=0.5, random_state=0).fit(env)
    assert checks.reaches_goal(explorer, env).passed
    greedy = QLearningAgent(epsilon=0.0, random_state=0).fit(env)
    feedback = checks.reaches_goal(greedy, env)
    assert not feedback.passed and "coin" in feedback.message and "epsilon" in feedback.hint


def test_reaches_goal_notices_a_policy_that_walks_in_circles():
    env = GridWorld()
    agent = QLearningAgent(n_episodes=1, max_steps=1, epsilon=0.0, random_state=0).fit(env)
    agent.policy_ = np.full(env.n_states, 0)  # always up: stuck against the top edge
    assert "wanders" in checks.reaches_goal(agent, env).message


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    centers = rng.uniform(0, 16, size=(10, 64))
    y = np.repeat(np.arange(10), 30)
    X = centers[y] + rng.normal(0, 1, size=(len(y), 64))
    return X.astype("float32"), y


def network(keras, inputs=64, outputs=10, activation="softmax"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape=(inputs,)), keras.layers.Dense(outputs, activation=activation)]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_digits_network_accepts_a_trained_network(keras, digits):
    X, y = digits
    model = network(keras)
    model.fit(X / 16, y, epochs=30, verbose=0)
    feedback = checks.digits_network(model, X / 16, y, min_accuracy=0.9)
    assert feedback.passed, feedback
    assert "target 0.90" in feedback.message


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda keras: network(keras), "no better than guessing"),
        (lambda keras: network(keras, inputs=32), "cannot read the digits"),
        (lambda keras: network(keras, outputs=3), "10 numbers"),
        (lambda keras: network(keras, activation=None), "not probabilities"),
        (lambda keras: "a model", "should be a Keras model"),
    ],
)
def test_digits_network_names_the_problem(keras, digits, build, says):
    X, y = digits
    feedback = checks.digits_network(build(keras), X, y, min_accuracy=0.9)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_digits_network_reports_a_missed_target(keras, digits):
    X, y = digits
    model = network(keras)
    model.fit(X / 16, y, epochs=30, verbose=0)
    feedback = checks.digits_network(model, X / 16, y, min_accuracy=1.01)
    assert not feedback.passed and "the target is 1.01" in feedback.message


# --- Notebooks 00-08 and the capstone -----------------------------------------------------

MEASUREMENTS = recipes.PENGUIN_NUMERIC


@pytest.fixture(scope="module")
def penguins():
    return datasets.load("penguins")


@pytest.fixture(scope="module")
def split():
    return recipes.penguin_split()


@pytest.fixture(scope="module")
def fitted(split):
    X_train, _, y_train, _ = split
    return recipes.penguin_pipeline().fit(X_train, y_train)


def test_every_new_check_treats_the_placeholder_as_not_answered(penguins, split, fitted):
    X_train, X_test, y_train, y_test = split
    calls = [
        lambda: checks.problem_kind(..., penguins, "species"),
        lambda: checks.missing_values(..., penguins, "sex"),
        lambda: checks.penguin_features(..., penguins),
        lambda: checks.penguin_preprocessor(..., X_train),
        lambda: checks.leaky_option(...),
        lambda: checks.strongest_correlation(..., penguins, "body_mass_g"),
        lambda: checks.class_share(..., penguins["species"], "Adelie"),
        lambda: checks.stratified_split(..., y_test, penguins["species"], test_size=0.25),
        lambda: checks.beats_baseline(..., X_train, y_train, X_test, y_test),
        lambda: checks.confusion_cell(..., None, true="Adelie", predicted="Gentoo"),
        lambda: checks.grid_search(..., X_train, param="classify__max_depth"),
        lambda: checks.class_probability(..., fitted, X_test.head(1), "Adelie"),
        lambda: checks.valid_request(..., None),
        lambda: checks.largest_coefficient(..., fitted),
        lambda: checks.best_k(..., None),
        lambda: checks.clusters_match(..., penguins["species"], n_clusters=3, min_agreement=0.5),
        lambda: checks.time_ordered_split(..., ..., ...),
        lambda: checks.model_ready_features(..., penguins, target="species"),
        lambda: checks.persistence_accuracy(..., X_test, y_test),
    ]
    for call in calls:
        with pytest.raises(NotImplementedError, match=r"is still `\.\.\.`"):
            call()


# --- framing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "answer", "passed", "says"),
    [
        ("species", "classification", True, "3 classes"),
        ("species", "Multiclass classification", True, "multiclass classification:"),
        ("species", "binary classification", False, "with 3 classes it is multiclass"),
        ("species", "regression", False, "holds labels (Adelie, Gentoo, Chinstrap)"),
        ("species", "clustering", False, "there is a target, 'species'"),
        ("body_mass_g", "regression", True, "a quantity"),
        ("body_mass_g", "classification", False, "a quantity on a scale (2700 to 6300)"),
        (None, "clustering", True, "find groups"),
        (None, "regression", False, "there is no target column"),
        ("species", "classify", False, "is not a kind of problem"),
        ("species", 3, False, "should be a word"),
    ],
)
def test_problem_kind_names_the_mistake(penguins, target, answer, passed, says):
    frame = penguins if target else penguins.drop(columns="species")
    feedback = checks.problem_kind(answer, frame, target)
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (11, True, "11 of the 344 rows"),
        (19, False, "every column"),
        (333, False, "that *have*"),
        (344, False, "number of rows"),
        (2, False, "not the number"),
        ("11", False, "should be a number"),
    ],
)
def test_missing_values_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.missing_values(answer, penguins, "sex")
    assert feedback.passed is passed
    assert says in feedback.message


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (recipes.PENGUIN_FEATURES, True, "6 features"),
        (list(reversed(recipes.PENGUIN_FEATURES)), True, "6 features"),
        ([*recipes.PENGUIN_FEATURES, "species"], False, "the answer itself"),
        ([*recipes.PENGUIN_FEATURES, "year"], False, "when a bird was measured"),
        (MEASUREMENTS, False, "you left out ['island', 'sex']"),
        (["bill_lenght_mm"], False, "is not a column"),
        ("island", False, "should be a list"),
    ],
)
def test_penguin_features_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.penguin_features(answer, penguins)
    assert feedback.passed is passed
    assert says in feedback.message


# --- preparing ----------------------------------------------------------------------------


def column_transformer(numeric, categorical, numeric_columns=MEASUREMENTS):
    return ColumnTransformer(
        [("numeric", numeric, numeric_columns), ("categorical", categorical, ["island", "sex"])]
    )


@pytest.mark.parametrize(
    ("make", "passed", "says"),
    [
        (recipes.penguin_preprocessor, True, "4 scaled measurements and 5 one-hot columns"),
        (
            lambda: column_transformer(
                StandardScaler(),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
            ),
            False,
            "still have missing values",
        ),
        (
            lambda: column_transformer(SimpleImputer(), "passthrough"),
            False,
            "still holds text",
        ),
        (
            lambda: column_transformer(
                SimpleImputer(),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
            ),
            False,
            "not scaled",
        ),
        (
            lambda: column_transformer(
                make_pipeline(SimpleImputer(), StandardScaler()),
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()),
                numeric_columns=MEASUREMENTS[:3],
            ),
            False,
            "has 8 columns; expected 9",
        ),
        (
            lambda: ColumnTransformer([("numeric", StandardScaler(), ["bill_length"])]),
            False,
            "raised ValueError",
        ),
        (lambda: "scale and encode", False, "should be a scikit-learn transformer"),
        (lambda: ColumnTransformer, False, "is the class ColumnTransformer"),
    ],
)
def test_penguin_preprocessor_names_the_mistake(split, make, passed, says):
    feedback = checks.penguin_preprocessor(make(), split[0])
    assert feedback.passed is passed
    assert says in feedback.message


def test_penguin_preprocessor_leaves_the_learners_object_unfitted(split):
    preprocessor = recipes.penguin_preprocessor()
    checks.penguin_preprocessor(preprocessor, split[0])
    assert not hasattr(preprocessor, "transformers_")


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("a", True, "test rows leak"),
        ("B", False, "option b is safe"),
        ("c", False, "inside fit"),
        ("d", False, "not one of the options"),
    ],
)
def test_leaky_option_explains_each_option(answer, passed, says):
    feedback = checks.leaky_option(answer)
    assert feedback.passed is passed
    assert says in feedback.message


# --- exploring ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        ("flipper_length_mm", True, "0.87"),
        ("body_mass_g", False, "with itself"),
        ("bill_depth_mm", False, "-0.47"),
        ("island", False, "not a number"),
        ("wings", False, "not a column"),
        (0.87, False, "should be a column name"),
    ],
)
def test_strongest_correlation_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.strongest_correlation(answer, penguins, "body_mass_g")
    assert feedback.passed is passed
    assert says in feedback.message


def test_strongest_correlation_reminds_that_negative_correlations_count():
    frame = pd.DataFrame(
        {"y": [1.0, 2, 3, 4, 5], "down": [5.0, 4, 3, 2, 1.1], "up": [1.0, 3, 2, 5, 4]}
    )
    feedback = checks.strongest_correlation("up", frame, "y")
    assert not feedback.passed
    assert "negative correlation counts too" in feedback.hint


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (68 / 344, True, "19.8%"),
        (0.2, True, "19.8%"),
        (19.8, False, "percentage"),
        (68, False, "number of 'Chinstrap' rows"),
        (152 / 344, False, "share of 'Adelie'"),
        (0.5, False, "not the share"),
    ],
)
def test_class_share_names_the_mistake(penguins, answer, passed, says):
    feedback = checks.class_share(answer, penguins["species"], "Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message


# --- splitting and building ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "passed", "says"),
    [
        ({"stratify": True}, True, "275 training and 69 test rows"),
        ({"stratify": False, "random_state": 3}, False, "not stratified"),
        ({"stratify": True, "test_size": 0.25}, False, "test set has 86 rows"),
        ({"stratify": True, "swap": True}, False, "test set has 275 rows"),
    ],
)
def test_stratified_split_names_the_mistake(penguins, how, passed, says):
    y = penguins["species"]
    y_train, y_test = train_test_split(
        y,
        test_size=how.get("test_size", 0.2),
        stratify=y if how["stratify"] else None,
        random_state=how.get("random_state", 0),
    )
    if how.get("swap"):
        y_train, y_test = y_test, y_train
    feedback = checks.stratified_split(y_train, y_test, y, test_size=0.2)
    assert feedback.passed is passed, feedback
    assert says in feedback.message
    if how.get("swap"):
        assert "in that order" in feedback.hint


def test_stratified_split_catches_rows_used_twice(penguins):
    y = penguins["species"]
    feedback = checks.stratified_split(y.iloc[:275], y.iloc[270:339], y, test_size=0.2)
    assert "in both" in feedback.message


def in_training_order(split):
    X_train, X_test, y_train, y_test = split
    return X_train, y_train, X_test, y_test


def test_beats_baseline_accepts_a_real_classifier(split, fitted):
    feedback = checks.beats_baseline(fitted, *in_training_order(split))
    assert feedback.passed
    assert "against 0.442 for the baseline" in feedback.message


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (recipes.penguin_pipeline(DummyClassifier()), "a baseline itself"),
        (recipes.penguin_pipeline(), "not fitted yet"),
        (make_pipeline(StandardScaler(), LinearRegression()), "the model is a regressor"),
        ("forest", "should be a scikit-learn model"),
    ],
)
def test_beats_baseline_names_the_mistake(split, model, says):
    feedback = checks.beats_baseline(model, *in_training_order(split))
    assert not feedback.passed
    assert says in feedback.message


def test_beats_baseline_reports_a_model_that_cannot_read_the_rows(split):
    X_train, X_test, y_train, y_test = split
    model = KNeighborsClassifier().fit(X_train[["bill_length_mm"]].fillna(40), y_train)
    feedback = checks.beats_baseline(model, X_train, y_train, X_test, y_test)
    assert "cannot predict X_test: ValueError" in feedback.message


def test_beats_baseline_compares_a_regressor_by_its_error():
    diabetes = datasets.load("diabetes")
    X, y = diabetes.drop(columns="target"), diabetes["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X_train, y_train)
    assert checks.beats_baseline(ridge, X_train, y_train, X_test, y_test).passed
    weak = make_pipeline(StandardScaler(), Ridge()).fit(X_train[["sex"]], y_train)
    feedback = checks.beats_baseline(weak, X_train[["sex"]], y_train, X_test[["sex"]], y_test)
    assert "not clearly better" in feedback.message
    tree = DecisionTreeClassifier().fit(X_train, y_train > 150)
    feedback = checks.beats_baseline(tree, X_train, y_train, X_test, y_test)
    assert "the target is a quantity, but the model is a classifier" in feedback.message


# --- evaluating and tuning ----------------------------------------------------------------


CONFUSION = pd.DataFrame(
    [[30, 6, 2], [1, 16, 0], [0, 0, 31]],
    index=pd.Index(["Adelie", "Chinstrap", "Gentoo"], name="true"),
    columns=pd.Index(["Adelie", "Chinstrap", "Gentoo"], name="predicted"),
)


@pytest.mark.parametrize(
    ("answer", "passed", "says"),
    [
        (6, True, "6 Adelie penguins were predicted Chinstrap"),
        (1, False, "swapped"),
        (38, False, "number of Adelie penguins"),
        (3, False, "not the number"),
        ("6", False, "should be a number"),
    ],
)
def test_confusion_cell_names_the_mistake(answer, passed, says):
    feedback = checks.confusion_cell(answer, CONFUSION, true="Adelie", predicted="Chinstrap")
    assert feedback.passed is passed
    assert says in feedback.message


def tree_search(grid, cv=5):
    return GridSearchCV(
        recipes.penguin_pipeline(DecisionTreeClassifier(random_state=0)), grid, cv=cv
    )


def test_grid_search_accepts_a_search_on_the_training_rows(split):
    X_train, _, y_train, _ = split
    search = tree_search({"classify__max_depth": range(1, 6)}).fit(X_train, y_train)
    feedback = checks.grid_search(search, X_train, param="classify__max_depth")
    assert feedback.passed
    assert f"is {search.best_params_['classify__max_depth']}" in feedback.message


@pytest.mark.parametrize(
    ("grid", "cv", "fit_on", "says"),
    [
        ({"classify__max_depth": range(1, 6)}, 5, None, "has not run yet"),
        ({"classify__min_samples_leaf": [1, 2, 3]}, 5, "train", "does not search"),
        ({"classify__max_depth": [2, 3]}, 5, "train", "only 2 values"),
        ({"classify__max_depth": range(1, 6)}, 3, "train", "3-fold"),
        ({"classify__max_depth": range(1, 6)}, 5, "all", "fitted on 344 rows, but X_train has 258"),
    ],
)
def test_grid_search_names_the_mistake(split, grid, cv, fit_on, says):
    X_train, X_test, y_train, y_test = split
    search = tree_search(grid, cv)
    if fit_on == "train":
        search.fit(X_train, y_train)
    elif fit_on == "all":
        search.fit(pd.concat([X_train, X_test]), pd.concat([y_train, y_test]))
    feedback = checks.grid_search(search, X_train, param="classify__max_depth")
    assert not feedback.passed
    assert says in feedback.message


def test_grid_search_refuses_something_else(split):
    feedback = checks.grid_search(DecisionTreeClassifier(), split[0], param="max_depth")
    assert "should be a GridSearchCV" in feedback.message


# --- predicting ---------------------------------------------------------------------------


def test_class_probability_names_the_mistake(split, fitted):
    row = split[1].head(1)
    probabilities = fitted.predict_proba(row)[0]
    classes = list(fitted.classes_)
    label = "Chinstrap"
    expected = probabilities[classes.index(label)]
    assert checks.class_probability(expected, fitted, row, label).passed
    assert checks.class_probability(round(expected, 3), fitted, row, label).passed
    other = next(
        c for c in classes if c != label and abs(probabilities[classes.index(c)] - expected) > 0.01
    )
    cases = [
        (probabilities[classes.index(other)], f"probability of {other!r}"),
        (100 * expected, "percentage") if expected > 0.01 else (label, "is a label"),
        (label, "is a label"),
        (probabilities, "one probability per class"),
        (None, "should be a number"),
    ]
    for answer, says in cases:
        feedback = checks.class_probability(answer, fitted, row, label)
        assert not feedback.passed
        assert says in feedback.message


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return read_card(recipes.train_penguin_model(tmp_path_factory.mktemp("models")))


GOOD_REQUEST = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750,
    "island": "Torgersen",
    "sex": "male",
}


@pytest.mark.parametrize(
    ("change", "passed", "says"),
    [
        ({}, True, "would accept"),
        ({"sex": None}, True, "would accept"),
        ({"island": "torgersen"}, False, "unknown category 'torgersen'"),
        ({"bill_length_mm": "39.1"}, False, "a string ('39.1')"),
        ({"body_mass_g": 375000}, False, "far outside the range"),
        ({"name": "Pingu"}, False, "unknown field"),
    ],
)
def test_valid_request_reports_what_the_server_would_say(card, change, passed, says):
    feedback = checks.valid_request({**GOOD_REQUEST, **change}, card)
    assert feedback.passed is passed
    assert says in feedback.message
    assert passed or feedback.hint


def test_valid_request_lists_a_missing_field(card):
    request = dict(GOOD_REQUEST)
    del request["body_mass_g"]
    feedback = checks.valid_request(request, card)
    assert "body_mass_g: missing field" in feedback.message
    assert feedback.hint.startswith("start with 'body_mass_g'")


# --- regression ---------------------------------------------------------------------------


def test_largest_coefficient_names_the_mistake():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["small", "big_negative", "positive"])
    y = 0.1 * X["small"] - 5 * X["big_negative"] + 2 * X["positive"]
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert checks.largest_coefficient("big_negative", model).passed
    assert "negative one is larger" in checks.largest_coefficient("positive", model).message
    assert "another input's is larger" in checks.largest_coefficient("small", model).message
    assert "not one of the model's inputs" in checks.largest_coefficient("bmi", model).message


def test_largest_coefficient_reads_names_through_a_column_transformer(split):
    X_train, _, y_train, _ = split
    model = recipes.penguin_pipeline(LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train == "Gentoo")
    coefficients = model[-1].coef_.ravel()
    names = [n.rpartition("__")[2] for n in model[:-1].get_feature_names_out()]
    best = names[int(np.abs(coefficients).argmax())]
    assert checks.largest_coefficient(best, model).passed


# --- clustering ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scores(penguins):
    X = penguins[MEASUREMENTS].dropna()
    model = make_pipeline(StandardScaler(), KMeans(n_init=10, random_state=0))
    return cluster_scores(model, X, range(2, 8))


def test_best_k_names_the_mistake(scores):
    best = int(scores["silhouette"].idxmax())
    assert checks.best_k(best, scores).passed
    worst = int(scores["silhouette"].idxmin())
    assert "*lowest* silhouette" in checks.best_k(worst, scores).message
    assert "was not scored" in checks.best_k(20, scores).message
    assert "should be a whole number" in checks.best_k("2", scores).message
    table = pd.DataFrame(
        {"inertia": [9.0, 5.0, 4.0, 3.0], "silhouette": [0.5, 0.6, 0.4, 0.45]},
        index=pd.Index([2, 3, 4, 5], name="k"),
    )
    assert "inertia always falls" in checks.best_k(5, table).message


def test_clusters_match_rewards_scaling(penguins):
    rows = penguins.dropna(subset=MEASUREMENTS)
    X, species = rows[MEASUREMENTS], rows["species"]
    scaled = make_pipeline(StandardScaler(), KMeans(3, n_init=10, random_state=0)).fit_predict(X)
    raw = KMeans(3, n_init=10, random_state=0).fit_predict(X)
    assert checks.clusters_match(scaled, species, n_clusters=3, min_agreement=0.6).passed
    feedback = checks.clusters_match(raw, species, n_clusters=3, min_agreement=0.6)
    assert "scale the features first" in feedback.hint
    feedback = checks.clusters_match(raw % 2, species, n_clusters=3, min_agreement=0.6)
    assert "2 clusters, expected 3" in feedback.message
    feedback = checks.clusters_match(raw[:10], species, n_clusters=3, min_agreement=0.6)
    assert "one cluster label per row (342)" in feedback.message


# --- capstone -----------------------------------------------------------------------------


def test_time_ordered_split_names_the_mistake():
    days = pd.DataFrame(
        {"date": pd.date_range("2012-01-01", periods=100, freq="D")}, index=range(100, 200)
    )
    X = pd.DataFrame({"temp": range(100)}, index=days.index)
    feedback = checks.time_ordered_split(X.iloc[:80], X.iloc[80:], days)
    assert feedback.passed
    assert "tested on the 20 days from 2012-03-21 to 2012-04-09" in feedback.message
    train, test = train_test_split(X, test_size=0.2, random_state=0)
    feedback = checks.time_ordered_split(train, test, days)
    assert "training days come after the first test day" in feedback.message
    assert "time_split" in feedback.hint
    feedback = checks.time_ordered_split(X.iloc[:81], X.iloc[80:], days)
    assert "in both parts" in feedback.message
    feedback = checks.time_ordered_split(X.iloc[:50], X.iloc[50:], days)
    assert "holds 50% of the days" in feedback.message
    assert "empty" in checks.time_ordered_split(X, X.iloc[:0], days).message
    feedback = checks.time_ordered_split(X.reset_index(drop=True), X.iloc[:0], days)
    assert "not rows of the table" in feedback.message


@pytest.fixture(scope="module")
def rain_table():
    weather = datasets.load("seattle_weather")
    return rain_tomorrow(weather.assign(month=weather["date"].dt.month))


def test_model_ready_features_accepts_numbers_known_today(rain_table):
    X = rain_table[["precipitation", "temp_max", "temp_min", "wind", "month"]]
    feedback = checks.model_ready_features(X, rain_table, target=RAIN_TOMORROW)
    assert feedback.passed
    assert "5 numeric features for 1460 rows" in feedback.message


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda t: t[["precipitation", RAIN_TOMORROW]], "contains the target"),
        (lambda t: t[["precipitation", "date"]], "['date'] hold dates"),
        (lambda t: t[["precipitation", "weather"]], "['weather'] hold labels"),
        (lambda t: t[["precipitation"]].iloc[:-1], "has 1459 rows but the table has 1460"),
        (lambda t: t[["precipitation"]].assign(gap=np.nan), "['gap'] have missing values"),
        (lambda t: t[[]], "has no columns"),
        (lambda t: t["precipitation"], "should be a DataFrame"),
        (
            lambda t: t[["wind"]].assign(rain_next=t["precipitation"].shift(-1).fillna(0)),
            "'rain_next' gives the target away",
        ),
    ],
)
def test_model_ready_features_names_the_mistake(rain_table, make, says):
    feedback = checks.model_ready_features(make(rain_table), rain_table, target=RAIN_TOMORROW)
    assert not feedback.passed
    assert says in feedback.message
    assert feedback.hint


def test_class_probability_reports_a_row_the_model_cannot_read(split, fitted):
    feedback = checks.class_probability(0.5, fitted, split[1].head(1)[["island"]], "Adelie")
    assert "cannot score the row" in feedback.message


def test_persistence_accuracy_names_the_mistake():
    X_test = pd.DataFrame({"precipitation": [0.0, 2.0, 0.5, 0.0, 0.0]})
    y_test = pd.Series([False, True, False, False, True])  # the rule is right on 3 of 5 days
    assert checks.persistence_accuracy(0.6, X_test, y_test).passed
    for answer, says in [
        (60, "percentage"),
        (0.4, "gets wrong"),
        ("0.6", "should be a number"),
        (0.9, "not the accuracy"),
    ]:
        feedback = checks.persistence_accuracy(answer, X_test, y_test)
        assert not feedback.passed
        assert says in feedback.message
    rainy = pd.Series([False, True, True, True, False])  # 60% rainy, the rule right on 20%
    today = pd.DataFrame({"precipitation": [1.0, 0.0, 0.0, 0.0, 0.0]})
    feedback = checks.persistence_accuracy(0.6, today, rainy)
    assert "share of rainy days" in feedback.message


# --- shipping: events and answers of serving.client ---------------------------------------


def _event(position, kind, data=None, *, run="r-1", agent="predict"):
    from serving.sessions import Event

    return Event(f"{position:04d}", kind, "s" * 32, run, agent, None, 0.0, data or {})


WORDS = ["the", "model", "thinks", "it", "is", "a", "Chinstrap", "penguin"]


def _predict_run(words):
    """A predict run's events: message, run.started, prediction, one delta per word, ending."""
    tokens = [words[0], *(f" {word}" for word in words[1:])]
    events = [_event(1, "message"), _event(2, "run.started"), _event(3, "prediction")]
    events += [_event(4 + i, "delta", {"text": token}) for i, token in enumerate(tokens)]
    result = {"result": {"text": "".join(tokens)}}
    return [*events, _event(4 + len(tokens), "run.completed", result)]


def test_caught_up_accepts_the_rest_of_the_run_once():
    run = _predict_run(WORDS)
    seen, missed = run[:5], run[5:]
    feedback = checks.caught_up(missed, seen)
    assert feedback.passed
    assert (
        "the 6 deltas you missed" in feedback.message and "the 2 you had seen" in feedback.message
    )


def test_caught_up_names_the_mistake():
    run = _predict_run(WORDS)
    seen = run[:5]
    other_run = _event(99, "presence.joined", run=None, agent=None)
    for missed, says in [
        ("6", "should be a list of events"),
        ([], "is empty"),
        ([*run[5:8], other_run], "not of this run"),
        (run, "had already been seen (the first is the 'message' event)"),
        (run[5:-1], "stop before the run's end: the last one is a 'delta'"),
        (run[7:], "characters of the answer are missing"),
        ([*run[5:-1], _event(20, "run.cancelled")], "ended with 'run.cancelled'"),
    ]:
        feedback = checks.caught_up(missed, seen)
        assert not feedback.passed, missed
        assert says in feedback.message
        assert feedback.hint
    with pytest.raises(NotImplementedError, match="`missed` is still"):
        checks.caught_up(..., seen)


def _answer(status, text=None, error=None):
    from serving.client import Answer

    return Answer("r-1", status, None if text is None else {"text": text}, text or "", error)


def test_shorter_explanation_names_the_mistake():
    unsteered = _answer("completed", "one two three four five six")
    passed = checks.shorter_explanation(_answer("completed", "one two three"), unsteered)
    assert passed and "3 words instead of 6" in passed.message
    for answer, says in [
        ("short", "should be what wait_for_answer returns"),
        (_answer("cancelled", error="cancelled by laptop"), "stopped, not steered"),
        (_answer("failed", error="boom"), "the run ended failed: boom"),
        (_answer("completed"), "has no explanation"),
        (_answer("completed", "one two three four five six"), "no fewer than without a steer"),
    ]:
        feedback = checks.shorter_explanation(answer, unsteered)
        assert not feedback.passed
        assert says in feedback.message
        assert feedback.hint
    with pytest.raises(NotImplementedError, match="`answer` is still"):
        checks.shorter_explanation(..., unsteered)


def _ensemble_run():
    members = {"penguin-classifier": "Adelie", "penguin-knn": "Chinstrap", "penguin-tree": "Adelie"}
    events = [
        _event(i, "prediction", {"prediction": said}, agent=f"model:{name}")
        for i, (name, said) in enumerate(members.items(), start=3)
    ]
    vote = {"prediction": "Adelie", "votes": {"Adelie": 2, "Chinstrap": 1, "Gentoo": 0}}
    return [*events, _event(9, "run.completed", {"result": vote}, agent="ensemble")]


def test_dissenting_member_accepts_the_name_with_or_without_its_prefix():
    for answer in ("penguin-knn", "model:penguin-knn"):
        feedback = checks.dissenting_member(answer, _ensemble_run())
        assert feedback.passed
        assert (
            feedback.message
            == "penguin-knn said Chinstrap, but the vote went to Adelie, 2 votes to 1."
        )


def test_dissenting_member_names_the_mistake():
    for answer, says in [
        ("penguin-tree", "penguin-tree said Adelie, like the ensemble's vote"),
        ("knn", "no member is called 'knn': the members are penguin-classifier, penguin-knn"),
        (2, "should be a member's name"),
    ]:
        feedback = checks.dissenting_member(answer, _ensemble_run())
        assert not feedback.passed
        assert says in feedback.message
        assert feedback.hint
    with pytest.raises(NotImplementedError, match="`dissenter` is still"):
        checks.dissenting_member(..., _ensemble_run())
