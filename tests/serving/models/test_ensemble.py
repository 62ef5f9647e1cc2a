import pytest

from serving.models import Ballot, VoteMethod, vote

CLASSES = ("Adelie", "Chinstrap", "Gentoo")


def ballot(model, prediction, probabilities=None, classes=CLASSES):
    return Ballot(model, prediction, classes if probabilities else None, probabilities)


def test_the_majority_wins():
    result = vote(
        [
            ballot("a", "Gentoo", [0.1, 0.2, 0.7]),
            ballot("b", "Gentoo", [0.2, 0.3, 0.5]),
            ballot("c", "Adelie", [0.9, 0.05, 0.05]),
        ]
    )
    assert result.prediction == "Gentoo" and result.method is VoteMethod.MAJORITY
    assert result.votes == {"Adelie": 1, "Chinstrap": 0, "Gentoo": 2}
    assert result.agreement == pytest.approx(2 / 3)
    assert result.probabilities == pytest.approx([0.4, 0.55 / 3, 1.25 / 3])


def test_a_tie_goes_to_the_higher_mean_probability():
    result = vote([ballot("a", "Adelie", [0.55, 0.4, 0.05]), ballot("b", "Gentoo", [0, 0.1, 0.9])])
    assert result.prediction == "Gentoo"


def test_without_probabilities_a_tie_goes_to_the_class_named_first():
    result = vote([ballot("a", "Chinstrap"), ballot("b", "Adelie")])
    assert result.prediction == "Chinstrap" and result.probabilities is None


def test_mean_probability_can_overrule_the_majority():
    ballots = [
        ballot("a", "Gentoo", [0.3, 0.3, 0.4]),
        ballot("b", "Gentoo", [0.3, 0.3, 0.4]),
        ballot("c", "Adelie", [1.0, 0.0, 0.0]),
    ]
    assert vote(ballots, "majority").prediction == "Gentoo"
    result = vote(ballots, "mean_probability")
    assert result.prediction == "Adelie" and result.agreement == pytest.approx(1 / 3)


def test_members_with_different_classes_are_aligned_by_label():
    result = vote(
        [
            Ballot("a", "Gentoo", ("Adelie", "Gentoo"), (0.2, 0.8)),
            Ballot("b", "Chinstrap", ("Chinstrap", "Gentoo"), (0.6, 0.4)),
        ],
        "mean_probability",
    )
    assert result.classes == ["Adelie", "Gentoo", "Chinstrap"]
    assert result.probabilities == pytest.approx([0.1, 0.6, 0.3])
    assert result.prediction == "Gentoo"


def test_regressors_are_averaged():
    result = vote([Ballot("a", 100.0), Ballot("b", 140.0)], regression=True)
    assert result.prediction == 120.0 and result.votes is None and result.agreement is None


def test_mistakes_are_explained():
    with pytest.raises(ValueError, match="at least one member"):
        vote([])
    with pytest.raises(ValueError, match="unknown vote method 'loudest'"):
        vote([ballot("a", "Gentoo")], "loudest")
    with pytest.raises(ValueError, match="no member gives them: use the majority vote"):
        vote([ballot("a", "Gentoo")], "mean_probability")


def test_the_vote_is_json_ready():
    data = vote([ballot("a", "Gentoo", [0.1, 0.2, 0.7])]).to_dict()
    assert data["method"] == "majority" and data["agreement"] == 1.0
