"""The convex linear models against scikit-learn's own solvers: the same objective, written
out here, at both solutions; and the perceptron LP's answers checked by arithmetic."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest
import scipy.sparse
import sklearn.linear_model as sk
import sklearn.svm as sksvm
from sklearn.datasets import load_diabetes, load_iris, make_classification

import cvxnn

# a tight relative tolerance on objectives: the 1e-6
OBJECTIVE_RTOL = 1e-6

Xd, yd = load_diabetes(return_X_y=True)
Xc, yc = make_classification(120, 5, n_informative=3, random_state=0)
Xi, yi = load_iris(return_X_y=True)


def rss(X, y, w, b):
    return float(np.sum((y - X @ w - b) ** 2))


def least_squares_objective(kind, X, y, w, b, alpha, l1_ratio=0.5, **solver):
    n = len(y)
    if kind == "ridge":
        return rss(X, y, w, b) + alpha * w @ w
    if kind == "lasso":
        return rss(X, y, w, b) / (2 * n) + alpha * np.abs(w).sum()
    return (rss(X, y, w, b) / (2 * n) + alpha * l1_ratio * np.abs(w).sum()
            + alpha * (1 - l1_ratio) * (w @ w) / 2)


@pytest.mark.parametrize(
    "ours, theirs, kind",
    [
        (cvxnn.Ridge(alpha=0.5), sk.Ridge(alpha=0.5), "ridge"),
        (cvxnn.Lasso(alpha=0.05), sk.Lasso(alpha=0.05, tol=1e-12, max_iter=10**6), "lasso"),
        (cvxnn.ElasticNet(alpha=0.01, l1_ratio=0.3),
         sk.ElasticNet(alpha=0.01, l1_ratio=0.3, tol=1e-12, max_iter=10**6), "elastic_net"),
    ],
)
def test_least_squares_objectives_equal_scikit_learns(ours, theirs, kind):
    params = ours.get_params()
    ours.fit(Xd, yd)
    theirs.fit(Xd, yd)
    f = lambda w, b: least_squares_objective(kind, Xd, yd, w, b, **params)  # noqa: E731
    mine, sklearns = f(ours.coef_, ours.intercept_), f(theirs.coef_, theirs.intercept_)
    assert ours.objective_ == pytest.approx(mine, rel=1e-9)
    assert mine == pytest.approx(sklearns, rel=OBJECTIVE_RTOL)
    np.testing.assert_allclose(ours.predict(Xd), theirs.predict(Xd), rtol=1e-4, atol=1e-3)


def logistic_objective(X, y01, coef, intercept, C, l1=False):
    s = np.where(y01 == 1, 1.0, -1.0)
    z = X @ coef.ravel() + intercept[0]
    reg = np.abs(coef).sum() if l1 else 0.5 * float(coef.ravel() @ coef.ravel())
    return C * float(np.logaddexp(0.0, -s * z).sum()) + reg


def test_binary_logistic_objective_equals_scikit_learns():
    ours = cvxnn.LogisticRegression(C=0.7).fit(Xc, yc)
    theirs = sk.LogisticRegression(C=0.7, tol=1e-12, max_iter=10**4).fit(Xc, yc)
    mine = logistic_objective(Xc, yc, ours.coef_, ours.intercept_, 0.7)
    sklearns = logistic_objective(Xc, yc, theirs.coef_, theirs.intercept_, 0.7)
    assert ours.objective_ == pytest.approx(mine, rel=1e-9)
    assert mine == pytest.approx(sklearns, rel=OBJECTIVE_RTOL)
    np.testing.assert_allclose(ours.predict_proba(Xc), theirs.predict_proba(Xc), atol=1e-4)


def test_l1_logistic_objective_equals_scikit_learns():
    ours = cvxnn.LogisticRegression(C=0.5, l1_ratio=1).fit(Xc, yc)
    theirs = sk.LogisticRegression(C=0.5, l1_ratio=1.0, solver="saga", tol=1e-12,
                                   max_iter=10**5).fit(Xc, yc)
    mine = logistic_objective(Xc, yc, ours.coef_, ours.intercept_, 0.5, l1=True)
    sklearns = logistic_objective(Xc, yc, theirs.coef_, theirs.intercept_, 0.5, l1=True)
    assert mine == pytest.approx(sklearns, rel=OBJECTIVE_RTOL)


def test_multinomial_objective_equals_scikit_learns():
    C = 2.0
    ours = cvxnn.LogisticRegression(C=C).fit(Xi, yi)
    theirs = sk.LogisticRegression(C=C, tol=1e-12, max_iter=10**4).fit(Xi, yi)

    def objective(W, b):
        Z = Xi @ W.T + b
        ce = np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(yi)), yi]
        return C * ce.sum() + 0.5 * float((W * W).sum())

    mine, sklearns = objective(ours.coef_, ours.intercept_), objective(theirs.coef_,
                                                                        theirs.intercept_)
    assert ours.objective_ == pytest.approx(mine, rel=1e-9)
    assert mine == pytest.approx(sklearns, rel=OBJECTIVE_RTOL)
    assert ours.score(Xi, yi) == pytest.approx(theirs.score(Xi, yi), abs=0.02)


def svm_objective(X, y01, w, b, C):
    s = np.where(y01 == 1, 1.0, -1.0)
    return 0.5 * float(w @ w) + C * float(np.maximum(0.0, 1 - s * (X @ w + b)).sum())


def test_linear_svm_objective_equals_scikit_learns():
    ours = cvxnn.SVC(C=0.3).fit(Xc, yc)
    theirs = sksvm.SVC(kernel="linear", C=0.3, tol=1e-10).fit(Xc, yc)
    mine = svm_objective(Xc, yc, ours.coef_[0], ours.intercept_[0], 0.3)
    sklearns = svm_objective(Xc, yc, theirs.coef_[0], theirs.intercept_[0], 0.3)
    assert ours.objective_ == pytest.approx(mine, rel=1e-9)
    assert mine == pytest.approx(sklearns, rel=OBJECTIVE_RTOL)


def test_multiclass_svm_votes_as_scikit_learns_svc():
    ours = cvxnn.SVC(C=1.0).fit(Xi, yi)
    theirs = sksvm.SVC(kernel="linear", C=1.0, tol=1e-10).fit(Xi, yi)
    agree = np.mean(ours.predict(Xi) == theirs.predict(Xi))
    assert agree >= 0.99
    assert ours.decision_function(Xi).shape == (150, 3)


def test_perceptron_lp_separates_or_proves_it_cannot():
    rng = np.random.RandomState(0)
    Xs = rng.normal(size=(40, 3))
    ys = np.where(Xs @ [1.0, -2.0, 0.5] + 0.3 > 0, "yes", "no")
    p = cvxnn.PerceptronLP().fit(Xs, ys)
    assert p.separable_ and p.certificate_ is None
    margins = np.where(ys == p.classes_[1], 1, -1) * (Xs @ p.coef_[0] + p.intercept_[0])
    assert margins.min() >= 1 - 1e-7
    assert p.score(Xs, ys) == 1.0

    # XOR: no line separates it, and the certificate proves it by arithmetic
    Xx = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=float)
    yx = np.array([0, 0, 1, 1])
    p = cvxnn.PerceptronLP().fit(Xx, yx)
    assert not p.separable_
    lam = p.certificate_["lambda"]
    s = np.where(yx == 1, 1.0, -1.0)
    assert (lam >= -1e-12).all() and lam.sum() == pytest.approx(1.0, abs=1e-9)
    combination = (lam * s) @ np.column_stack([Xx, np.ones(4)])
    assert np.abs(combination).max() <= 1e-7
    assert p.certificate_["residual"] == pytest.approx(np.abs(combination).max(), abs=1e-12)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: cvxnn.Ridge(alpha=-1.0).fit(Xd, yd), "alpha"),
        (lambda: cvxnn.ElasticNet(l1_ratio=2.0).fit(Xd, yd), "l1_ratio"),
        (lambda: cvxnn.LogisticRegression(C=0.0).fit(Xc, yc), "C must be positive"),
        (lambda: cvxnn.LogisticRegression(l1_ratio=0.5).fit(Xc, yc), "l1_ratio"),
        (lambda: cvxnn.SVC(kernel="rbf").fit(Xc, yc), "linear"),
        (lambda: cvxnn.SVC().fit(Xc, np.zeros(len(yc))), "at least 2 classes"),
        (lambda: cvxnn.Lasso().fit(Xd, yd).predict(Xd[:, :3]), "features"),
    ],
)
def test_bad_input_is_a_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _large_classification(n, d):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    return X, (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(int)


@pytest.mark.parametrize(
    "make, n, d",
    [
        # each fit takes many seconds by interior point (bench/README.md: logistic regression at
        # 10⁴ × 100 takes 16 s; the SVM here about 30 s); an iteration of the SVM's takes about a
        # second, longer than the wait Ctrl-C allows
        (lambda: cvxnn.LogisticRegression(), 8_000, 120),
        (lambda: cvxnn.SVC(), 20_000, 200),
        (lambda: cvxnn.PerceptronLP(), 20_000, 200),
    ],
    ids=["LogisticRegression", "SVC", "PerceptronLP"],
)
def test_ctrl_c_stops_a_large_linear_fit_within_a_second(make, n, d):
    X, y = _large_classification(n, d)
    est = make()
    fired = []

    def interrupt():
        fired.append(time.perf_counter())
        _thread.interrupt_main()

    # Python's own Ctrl-C handler: a process started in the background (as CI may start it)
    # inherits SIGINT ignored, and then interrupt_main does nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, interrupt)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
        raised_at = time.perf_counter()
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert raised_at - fired[0] < 1.0


def test_a_time_limit_stops_a_linear_fit_with_its_last_iterate_and_a_warning():
    X, y = _large_classification(8_000, 120)
    t0 = time.perf_counter()
    with pytest.warns(cvxnn.TrainingWarning, match="time limit"):
        est = cvxnn.LogisticRegression(time_limit=0.5).fit(X, y)
    assert time.perf_counter() - t0 < 10.0
    assert np.isfinite(est.coef_).all() and np.isfinite(est.objective_)
    # a point the solver reached, not the optimum: scikit-learn's is lower
    theirs = sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    assert logistic_objective(X, y, theirs.coef_, theirs.intercept_, 1.0) < est.objective_
    with pytest.raises(ValueError, match="time_limit"):
        cvxnn.Ridge(time_limit=-1.0).fit(Xd, yd)


@pytest.mark.parametrize(
    "est, X, y",
    [
        (cvxnn.Ridge(), Xd, yd),
        (cvxnn.Lasso(), Xd, yd),
        (cvxnn.LogisticRegression(), Xc, yc),
        (cvxnn.MLPRegressor(), Xd, yd),
        (cvxnn.ConvexReLURegressor(weight_decay=1e-3), Xd, yd),
    ],
)
def test_sparse_inputs_get_scikit_learns_message(est, X, y):
    with pytest.raises(TypeError, match="dense data is required"):
        est.fit(scipy.sparse.csr_matrix(X), y)


def test_a_numerical_failure_says_what_to_try_in_words():
    with pytest.raises(RuntimeError) as raised:
        cvxnn.Ridge().fit(Xd * 1e300, yd)
    message = str(raised.value)
    assert "the ridge program" in message and "rescale the data" in message
    # no Rust debug format (`Ridge { alpha: 1.0 }`, `NumericalError`) and no command-line flag
    assert "{" not in message and "Error" not in message and "--" not in message


@pytest.mark.parametrize("classes", [2, 3])
def test_svc_probabilities_by_platt_and_pairwise_coupling(classes):
    # scikit-learn fits its sigmoids on cross-validated scores, cvxnn on the training scores: on
    # these sets the probabilities differ by at most 0.02 (measured 0.014 and 0.018)
    import warnings

    from sklearn.datasets import load_breast_cancer, load_iris
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC as SkSVC

    X, y = (load_breast_cancer if classes == 2 else load_iris)(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = cvxnn.SVC(C=0.1, probability=True).fit(X, y)
    P = ours.predict_proba(X)
    assert P.shape == (len(y), classes)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(ours.predict_log_proba(X), np.log(P))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in scikit-learn 1.9
        theirs = SkSVC(kernel="linear", C=0.1, probability=True, random_state=0).fit(X, y)
        Q = theirs.predict_proba(X)
    assert np.abs(P - Q).max() < 0.05
    assert not hasattr(cvxnn.SVC(), "predict_proba")


def test_without_an_intercept_the_objectives_are_scikit_learns():
    from sklearn import linear_model, svm
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = y / 100.0 + 1.0  # a mean far from zero, so the intercept matters
    for ours, theirs in [
        (cvxnn.Ridge(alpha=2.0, fit_intercept=False), linear_model.Ridge(2.0, fit_intercept=False)),
        (cvxnn.Lasso(alpha=0.01, fit_intercept=False),
         linear_model.Lasso(0.01, fit_intercept=False, tol=1e-12, max_iter=100_000)),
    ]:
        ours.fit(X, y)
        theirs.fit(X, y)
        assert ours.intercept_ == 0.0
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
        with_b = type(ours)(alpha=ours.alpha).fit(X, y)
        assert with_b.objective_ < ours.objective_
    Xc, yc = load_breast_cancer(return_X_y=True)
    Xc = StandardScaler().fit_transform(Xc) + 0.5
    s = np.where(yc == 1, 1.0, -1.0)
    log = cvxnn.LogisticRegression(C=0.5, fit_intercept=False).fit(Xc, yc)
    sk = linear_model.LogisticRegression(C=0.5, fit_intercept=False, tol=1e-12,
                                         max_iter=100_000).fit(Xc, yc)
    assert np.all(log.intercept_ == 0.0)
    at = lambda w: 0.5 * w @ w + 0.5 * np.logaddexp(0.0, -s * (Xc @ w)).sum()
    assert at(log.coef_[0]) <= at(sk.coef_[0]) * (1 + 1e-9)
    assert log.objective_ == pytest.approx(at(log.coef_[0]), rel=1e-10)
    svc = cvxnn.SVC(C=0.5, fit_intercept=False).fit(Xc, yc)
    hinge = lambda w: 0.5 * w @ w + 0.5 * np.maximum(0.0, 1.0 - s * (Xc @ w)).sum()
    assert np.all(svc.intercept_ == 0.0)
    assert svc.objective_ == pytest.approx(hinge(svc.coef_[0]), rel=1e-10)
    # the softmax model too
    Xi, yi = load_iris(return_X_y=True)
    soft = cvxnn.LogisticRegression(fit_intercept=False).fit(Xi, yi)
    assert np.all(soft.intercept_ == 0.0)
    with pytest.raises(ValueError, match="fit_intercept must be True or False"):
        cvxnn.Ridge(fit_intercept="no").fit(X, y)


@pytest.mark.parametrize(
    "make, X, y",
    [
        (lambda **k: cvxnn.LogisticRegression(**k), Xc, yc),
        (lambda **k: cvxnn.SVC(**k), Xc, yc),
        (lambda **k: cvxnn.Lasso(alpha=0.05, **k), Xd, yd),
    ],
)
def test_the_interior_points_tol_and_max_iter_are_honoured(make, X, y):
    best = make().fit(X, y)
    # a looser tolerance: no more iterations, the same objective to that tolerance
    loose = make(tol=1e-5).fit(X, y)
    assert np.all(np.atleast_1d(loose.n_iter_) <= np.atleast_1d(best.n_iter_))
    assert abs(loose.objective_ - best.objective_) <= 1e-4 * abs(best.objective_)
    # three iterations: the last iterate, above the optimum, and a warning that says so
    with pytest.warns(cvxnn.TrainingWarning, match="max_iter"):
        capped = make(max_iter=3).fit(X, y)
    assert np.isfinite(capped.coef_).all()
    assert capped.objective_ > best.objective_ * (1 + 1e-6)
