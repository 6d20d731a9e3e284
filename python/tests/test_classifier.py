"""MLPClassifier: a ReLU network of class probabilities on the cross-entropy, against
scikit-learn's MLPClassifier on the same objective from the same weights, and what a fitted
classifier offers (probabilities, warm starts, errors in the estimator's words)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler

import cvxnn


def objective(coefs, intercepts, X, Y, alpha):
    """scikit-learn's MLPClassifier objective, computed here: the mean cross-entropy of the
    softmax (or, with one output, the logistic) probabilities of a ReLU network, plus
    ``alpha / (2N)`` times the squared weights. Y: one 0/1 column per output."""
    h = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        h = np.maximum(h @ W + b, 0.0)
    f = h @ coefs[-1] + intercepts[-1]
    if f.shape[1] == 1:
        ce = np.mean(np.logaddexp(0.0, f[:, 0]) - Y[:, 0] * f[:, 0])
    else:
        top = f.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.exp(f - top).sum(axis=1))
        ce = np.mean(lse - (Y * f).sum(axis=1))
    return ce + alpha / (2 * len(X)) * sum(float((W**2).sum()) for W in coefs)


def glorot(rng, widths):
    """Weights as scikit-learn draws them for ReLU layers: uniform on ±√(6/(fan_in + fan_out))."""
    coefs, intercepts = [], []
    for a, b in zip(widths[:-1], widths[1:]):
        bound = np.sqrt(6.0 / (a + b))
        coefs.append(rng.uniform(-bound, bound, (a, b)))
        intercepts.append(rng.uniform(-bound, bound, b))
    return coefs, intercepts


def sklearn_from(X, y, coefs, intercepts, **params):
    """scikit-learn's MLPClassifier fitted from the given weights (a one-iteration fit makes its
    attributes, then a warm start from the weights set by hand)."""
    sk = SkMLPClassifier(solver="lbfgs", max_iter=1, warm_start=True, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
        sk.coefs_ = [c.copy() for c in coefs]
        sk.intercepts_ = [c.copy() for c in intercepts]
        sk.set_params(max_iter=200)
        sk.fit(X, y)
    return sk


@pytest.mark.parametrize("load", [load_iris, load_wine, load_breast_cancer])
@pytest.mark.parametrize("seed", [0, 1])
def test_lbfgs_reaches_scikit_learns_cross_entropy_from_the_same_weights(load, seed):
    # scikit-learn's defaults (100 hidden units, alpha 1e-4, 200 iterations) on both sides
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    k = len(np.unique(y))
    outputs = 1 if k == 2 else k
    coefs, intercepts = glorot(np.random.RandomState(seed), [X.shape[1], 100, outputs])
    sk = sklearn_from(X, y, coefs, intercepts, hidden_layer_sizes=(100,))
    ours = cvxnn.MLPClassifier(method="lbfgs", max_iter=200, warm_start=True)
    ours.coefs_ = [c.copy() for c in coefs]
    ours.intercepts_ = [c.copy() for c in intercepts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cvxnn.TrainingWarning)
        ours.fit(X, y)
    Y = sk._label_binarizer.transform(y).astype(float)
    theirs = objective(sk.coefs_, sk.intercepts_, X, Y, 1e-4)
    mine = objective(ours.coefs_, ours.intercepts_, X, Y, 1e-4)
    # the objective cvxnn reports is the one computed here, and scikit-learn's its loss_
    assert abs(ours.loss_ - mine) <= 1e-12 * mine
    assert abs(sk.loss_ - theirs) <= 1e-9 * theirs
    assert mine <= theirs * (1 + 1e-6), (mine, theirs)


def test_probabilities_classes_and_predictions():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = cvxnn.MLPClassifier(method="lbfgs", hidden_layer_sizes=(8,), standardize=True,
                              random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    P = clf.predict_proba(X)
    assert P.shape == (150, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P))
    assert clf.score(X, labels) >= 0.95
    # two classes: one logistic output, probabilities of classes_[0] and classes_[1]
    two = y > 0
    clf = cvxnn.MLPClassifier(method="lbfgs", hidden_layer_sizes=(4,), standardize=True,
                              random_state=0).fit(X, two)
    assert clf.coefs_[-1].shape == (4, 1)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-15)
    assert (clf.predict(X) == (P[:, 1] > 0.5)).all()
    assert clf.run_["metrics"]["train"]["accuracy"] == clf.score(X, two)


def test_every_gradient_method_lowers_the_cross_entropy():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Y = np.eye(3)[y]
    for method, extra in [("adam", {}), ("sgd", {"batch_size": 16}), ("gd", {}), ("lbfgs", {})]:
        clf = cvxnn.MLPClassifier(method=method, hidden_layer_sizes=(10,), max_iter=300,
                                  random_state=2, **extra)
        clf.fit(X, y)
        start = cvxnn.MLPClassifier(method=method, hidden_layer_sizes=(10,), max_iter=1,
                                    random_state=2, **extra).fit(X, y)
        assert clf.loss_ < 0.5 * start.loss_, (method, clf.loss_, start.loss_)
        assert abs(clf.loss_ - objective(clf.coefs_, clf.intercepts_, X, Y, 1e-4)) <= 1e-12


def test_warm_start_continues_from_the_last_network():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = cvxnn.MLPClassifier(method="adam", hidden_layer_sizes=(6,), max_iter=50,
                              warm_start=True, random_state=0)
    first = clf.fit(X, y).loss_
    second = clf.fit(X, y).loss_
    once = cvxnn.MLPClassifier(method="adam", hidden_layer_sizes=(6,), max_iter=50,
                               random_state=0).fit(X, y).loss_
    assert once == first and second < first
    # the resolved request says where it started
    assert clf.run_["request"]["start"]["init"] == "model"
    with pytest.raises(ValueError, match="warm_start needs the classes"):
        clf.fit(X[y > 0], y[y > 0])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"method": "convex"}, "method must be one of adam, sgd, gd, lbfgs"),
        ({"alpha": -1.0}, "alpha must be"),
        ({"alpha": "a"}, "alpha must be"),
        ({"alpha": float("nan")}, "alpha must be finite"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"learning_rate_init": -0.1}, "learning_rate_init"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_are_named(params, message):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=message) as e:
        cvxnn.MLPClassifier(**params).fit(X, y)
    assert "--" not in str(e.value)


def test_partial_fit_makes_passes_from_the_current_network():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = cvxnn.MLPClassifier(method="sgd", hidden_layer_sizes=(6,), batch_size=50,
                              learning_rate_init=0.05, random_state=0)
    with pytest.raises(ValueError, match="classes must be given"):
        clf.partial_fit(X, y)
    losses = []
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1, 2])
        assert clf.n_iter_ == 3  # ⌈150 / 50⌉ steps per pass
        losses.append(clf.loss_)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    # a pass over part of the data: the classes stay those of the first call
    clf.partial_fit(X[y < 2], y[y < 2])
    assert clf.predict_proba(X).shape == (150, 3)
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y + 1)
    assert not hasattr(cvxnn.MLPClassifier(method="lbfgs"), "partial_fit")
    # the regressor: each pass continues from the last network
    reg = cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=(6,), random_state=0)
    target = X[:, 0] - X[:, 1] ** 2
    first = reg.partial_fit(X, target).coefs_[0].copy()
    reg.partial_fit(X, target)
    assert reg.n_iter_ == 1 and not np.array_equal(first, reg.coefs_[0])
    # warm_start in fit does the same for a whole fit
    warm = cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=(6,), max_iter=30,
                              warm_start=True, random_state=0)
    a = warm.fit(X, target)._objective
    b = warm.fit(X, target)._objective
    assert b < a


def test_early_stopping_holds_samples_out_and_keeps_the_best_network():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    make = lambda early: cvxnn.MLPClassifier(
        method="adam", hidden_layer_sizes=(64,), alpha=0.0, max_iter=3000,
        early_stopping=early, validation_fraction=0.2, n_iter_no_change=20, random_state=1)
    stopped = make(True).fit(X, y)
    final = stopped.run_["stages"][0]["final"]
    assert stopped.stop_reason_ == "early_stopped" and stopped.n_iter_ < 3000
    assert final["validation_samples"] == round(0.2 * len(y))
    assert 0 < final["validation_loss"] < 0.3
    # the request records it; the run without it trains to the cap on every sample
    assert stopped.run_["request"]["gradient"]["validation_fraction"] == 0.2
    full = make(False).fit(X, y)
    assert full.stop_reason_ != "early_stopped" and "validation_loss" not in full.run_["stages"][0]["final"]
    with pytest.raises(ValueError, match="early_stopping must be True or False"):
        cvxnn.MLPClassifier(early_stopping="yes").fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        cvxnn.MLPClassifier(early_stopping=True, validation_fraction=1.5).fit(X, y)
    # a method without early stopping refuses it by name
    with pytest.raises(ValueError, match="validation_fraction|n_iter_no_change"):
        cvxnn.MLPRegressor(method="scr", early_stopping=True).fit(X, y.astype(float))
