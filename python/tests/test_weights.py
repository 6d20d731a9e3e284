"""``sample_weight``: a weighted fit is the fit on rows repeated as often as their integer weight
(the same objective, so the same minimum), and the weighted objectives are scikit-learn's."""

import warnings

import numpy as np
import pytest
from sklearn import linear_model, svm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler

import cvxnn


def data(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def integer_weights(n, seed):
    """Weights 0 … 3: zero drops a row, three repeats it three times."""
    w = np.random.RandomState(seed).randint(0, 4, n).astype(float)
    return w, np.repeat(np.arange(n), w.astype(int))


def softplus(m):
    return np.logaddexp(0.0, m)


def least_squares_objective(kind, alpha, X, y, w, coef, intercept):
    r = y - X @ coef - intercept
    if kind == "ridge":
        return float(w @ r**2 + alpha * coef @ coef)
    rho = 1.0 if kind == "lasso" else 0.5
    return float(w @ r**2 / (2 * w.sum()) + alpha * rho * np.abs(coef).sum()
                 + alpha * (1 - rho) / 2 * coef @ coef)


REGRESSORS = [
    ("ridge", cvxnn.Ridge(alpha=2.0), linear_model.Ridge(alpha=2.0)),
    ("lasso", cvxnn.Lasso(alpha=0.1), linear_model.Lasso(alpha=0.1, tol=1e-12, max_iter=100_000)),
    ("elastic-net", cvxnn.ElasticNet(alpha=0.1),
     linear_model.ElasticNet(alpha=0.1, tol=1e-12, max_iter=100_000)),
]


@pytest.mark.parametrize("kind, ours, theirs", REGRESSORS, ids=[r[0] for r in REGRESSORS])
def test_weighted_least_squares_are_repeated_rows_and_scikit_learns(kind, ours, theirs):
    X, y = data(load_diabetes)
    w, rows = integer_weights(len(y), 1)
    weighted = ours.fit(X, y, sample_weight=w)
    objective, coef = weighted.objective_, weighted.coef_.copy()
    repeated = type(ours)(**ours.get_params()).fit(X[rows], y[rows])
    assert abs(objective - repeated.objective_) <= 1e-10 * repeated.objective_
    np.testing.assert_allclose(coef, repeated.coef_, rtol=0, atol=1e-7 * np.abs(coef).max())
    # the objective is scikit-learn's weighted one: at its solution it is no lower
    assert objective == pytest.approx(
        least_squares_objective(kind, ours.alpha, X, y, w, coef, weighted.intercept_), rel=1e-12)
    theirs.fit(X, y, sample_weight=w)
    at_theirs = least_squares_objective(kind, ours.alpha, X, y, w, theirs.coef_, theirs.intercept_)
    assert objective <= at_theirs * (1 + 1e-6)
    assert at_theirs <= objective * (1 + 1e-6)
    # weights of one are no weights; a number is every sample's weight
    plain = type(ours)(**ours.get_params()).fit(X, y).objective_
    assert type(ours)(**ours.get_params()).fit(X, y, sample_weight=np.ones(len(y))).objective_ \
        == pytest.approx(plain, rel=1e-12)


def test_weighted_classifiers_are_repeated_rows_and_scikit_learns():
    X, y = data(load_breast_cancer)
    w, rows = integer_weights(len(y), 2)
    s = np.where(y == 1, 1.0, -1.0)
    cases = [
        (cvxnn.LogisticRegression(C=0.5),
         linear_model.LogisticRegression(C=0.5, tol=1e-12, max_iter=100_000),
         lambda m: 0.5 * w @ softplus(-s * m)),
        (cvxnn.SVC(C=0.5), svm.SVC(kernel="linear", C=0.5, tol=1e-10),
         lambda m: 0.5 * w @ np.maximum(0.0, 1.0 - s * m)),
    ]
    for ours, theirs, loss in cases:
        weighted = ours.fit(X, y, sample_weight=w)
        objective, coef = weighted.objective_, weighted.coef_.copy()
        repeated = type(ours)(**ours.get_params()).fit(X[rows], y[rows])
        assert abs(objective - repeated.objective_) <= 1e-10 * repeated.objective_, ours
        np.testing.assert_allclose(coef, repeated.coef_, rtol=0, atol=1e-7)
        theirs.fit(X, y, sample_weight=w)

        def at(c, b):
            c = np.ravel(c)
            return float(0.5 * c @ c + loss(X @ c + np.ravel(b)[0]))

        mine = at(coef, weighted.intercept_)
        assert objective == pytest.approx(mine, rel=1e-10)
        assert mine <= at(theirs.coef_, theirs.intercept_) * (1 + 1e-6), ours


def test_weighted_softmax_regression_is_repeated_rows():
    X, y = data(load_iris)
    w, rows = integer_weights(len(y), 3)
    weighted = cvxnn.LogisticRegression().fit(X, y, sample_weight=w)
    repeated = cvxnn.LogisticRegression().fit(X[rows], y[rows])
    assert abs(weighted.objective_ - repeated.objective_) <= 1e-10 * repeated.objective_


@pytest.mark.parametrize("method, steps", [("gd", 200), ("adam", 200), ("lbfgs", 20)])
def test_weighted_networks_are_repeated_rows(method, steps):
    # the same objective from the same start: full-batch steps agree to rounding (L-BFGS's line
    # searches amplify rounding after a few dozen iterations, so it is held to 20)
    X, y = data(load_iris)
    w, rows = integer_weights(len(y), 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cvxnn.TrainingWarning)
        for make, target in [
            (lambda: cvxnn.MLPClassifier(method=method, hidden_layer_sizes=(5,), max_iter=steps),
             y),
            (lambda: cvxnn.MLPRegressor(method=method, hidden_layer_sizes=(5,), max_iter=steps,
                                        weight_decay=1e-3), X[:, 0] * 2.0 + X[:, 1] ** 2),
        ]:
            weighted = make().fit(X[:, 1:], target, sample_weight=w)
            repeated = make().fit(X[rows, 1:], target[rows])
            a, b = weighted._objective, repeated._objective
            assert abs(a - b) <= (1e-10 if method == "lbfgs" else 1e-12) * b, (method, a, b)


def test_the_weighted_convex_program_is_the_repeated_rows_program():
    # every pattern enumerated: both optima certified global, equal to the solver's gap
    rng = np.random.RandomState(5)
    X = rng.normal(size=(24, 2))
    y = np.maximum(X @ [1.0, -2.0] + 0.3, 0.0) - np.maximum(X @ [-1.0, 0.5], 0.0)
    w, rows = integer_weights(len(y), 6)
    make = lambda: cvxnn.ConvexReLURegressor(weight_decay=1e-2, patterns="all", tol=1e-11)
    weighted = make().fit(X, y, sample_weight=w)
    repeated = make().fit(X[rows], y[rows])
    for est in (weighted, repeated):
        assert est.certificate_["certified"] and est.certificate_["scope"] == "global"
    assert abs(weighted.objective_ - repeated.objective_) <= 1e-10 * repeated.objective_
    f = weighted.predict(X)
    direct = w @ (f - y) ** 2 / (2 * w.sum()) + 0.5e-2 * (
        sum(float((c**2).sum()) for c in weighted.coefs_) + float((weighted.intercepts_[0]**2).sum()))
    assert weighted.objective_ == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_the_weighted_convex_classifier_is_the_repeated_rows_classifier(loss):
    # three classes (one-vs-rest), every pattern enumerated: the same objective to the gap
    rng = np.random.RandomState(7)
    X = rng.normal(size=(16, 2))
    y = np.digitize(X @ [1.0, -0.7] + 0.4 * np.abs(X[:, 1]), [-0.5, 0.5])
    w, rows = integer_weights(len(y), 8)
    make = lambda: cvxnn.ConvexReLUClassifier(loss=loss, weight_decay=1e-2, patterns="all",
                                              tol=1e-10)
    with warnings.catch_warnings():
        # the hinge's network stops a few 1e-9 above the asked gap, and says so
        warnings.simplefilter("ignore", cvxnn.TrainingWarning)
        weighted = make().fit(X, y, sample_weight=w)
        repeated = make().fit(X[rows], y[rows])
    assert len(np.unique(y)) == 3
    a, b = weighted.certificate_, repeated.certificate_
    assert a["scope"] == b["scope"] == "global-per-output"
    # each objective is above the program's optimum, which is above the other's dual bound
    assert a["dual_bound"] <= b["objective"] * (1 + 1e-12)
    assert b["dual_bound"] <= a["objective"] * (1 + 1e-12)
    assert abs(a["objective"] - b["objective"]) <= 1e-7 * b["objective"]
    # the weighted objective, from the scores: Σ_k Σ_i w_i ℓ(s_ik, ±1) / Σ w + (β/2) Σ w²
    S = weighted.decision_function(X)
    T = np.where(y[:, None] == np.arange(3)[None, :], 1.0, -1.0)
    per = softplus(-T * S) if loss == "logistic" else np.maximum(0.0, 1.0 - T * S)
    direct = (w @ per).sum() / w.sum() + 0.5e-2 * (
        sum(float((c**2).sum()) for c in weighted.coefs_) + float((weighted.intercepts_[0]**2).sum()))
    assert a["objective"] == pytest.approx(direct, rel=1e-10)


def test_methods_without_a_weighted_loss_refuse_weights_by_name():
    X, y = data(load_diabetes)
    w = np.ones(len(y))
    for method in ("scr", "lm"):
        with pytest.raises(ValueError, match="sample_weight") as e:
            cvxnn.MLPRegressor(method=method, max_iter=2).fit(X, y, sample_weight=w)
        assert "--" not in str(e.value) and "data.weights" not in str(e.value)
    with pytest.raises(ValueError, match="sample_weight"):
        cvxnn.Ridge().fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match="[Ss]ample weights must contain"):
        cvxnn.Ridge().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"sample_weight.shape"):
        cvxnn.Ridge().fit(X, y, sample_weight=w[:5])
