"""Networks through the training interface: every method, seeds, the convex certificate,
interruption, time limits, the GIL, and clean errors."""

import _thread
import pickle
import signal
import threading
import warnings

import numpy as np
import pytest

import cvxnn

X, Y = cvxnn.planted_teacher("3-3-2", 30, seed=1)


def network_methods():
    # the MILP needs cvxnn built with HiGHS; the convex model has its own estimator
    return [m for m in cvxnn.method_names() if m not in ("milp", "convex")]


@pytest.mark.parametrize("method", network_methods())
def test_every_method_trains_and_predicts_what_its_model_computes(method):
    est = cvxnn.MLPRegressor(method=method, hidden_layer_sizes=(3,), random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cvxnn.TrainingWarning)
        est.fit(X, Y)
    assert est.run_["method"] == method
    # the fitted figures are the run record's
    final = est.run_["final"]
    assert (final["iterations"], final["loss"], final["stop_reason"]) == (
        est.n_iter_, est.loss_, est.stop_reason_)
    assert est.predict(X).shape == Y.shape
    # the reported loss is the mean squared error of the predictions
    mse = np.mean((est.predict(X) - Y) ** 2)
    assert est.loss_ == pytest.approx(mse, rel=1e-9, abs=1e-15)
    # coefs_ and intercepts_ are the network: a forward pass by hand gives predict
    h = X
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        h = h @ W + b
        if i < len(est.coefs_) - 1:
            h = np.maximum(h, 0.0)
    np.testing.assert_allclose(h, est.predict(X), rtol=1e-12, atol=1e-12)


def test_second_order_methods_recover_the_planted_teacher():
    for method in ("lbfgs", "lm"):
        est = cvxnn.MLPRegressor(method=method, hidden_layer_sizes=(3,), random_state=1)
        est.fit(X, Y)
        assert est.stop_reason_ == "output_tolerance"
        assert np.linalg.norm(est.predict(X) - Y) / np.linalg.norm(Y) < 1e-8


def test_same_seed_same_network_other_seed_other_network():
    def fit(seed):
        est = cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=(4,), max_iter=200,
                                 random_state=seed)
        return est.fit(X, Y).predict(X)

    np.testing.assert_array_equal(fit(5), fit(5))
    assert np.abs(fit(5) - fit(6)).max() > 1e-6


def test_a_standardised_model_predicts_in_the_data_units():
    Xs, Ys = 100.0 * X + 7.0, 1e3 * Y - 5.0
    est = cvxnn.MLPRegressor(method="lm", hidden_layer_sizes=(3,), standardize=True,
                             random_state=1).fit(Xs, Ys)
    assert np.linalg.norm(est.predict(Xs) - Ys) / np.linalg.norm(Ys) < 1e-8


def test_a_standardised_regressors_loss_is_in_the_data_units():
    # trained on standardised targets, but loss_ is the mean squared error of predict (weighted)
    Xs, ys = 100.0 * X + 7.0, 1e3 * Y[:, 0] - 5.0
    w = np.arange(len(ys)) % 3 + 0.5
    for sample_weight in (None, w):
        est = cvxnn.MLPRegressor(method="lbfgs", hidden_layer_sizes=(3,), standardize=True,
                                 max_iter=20, random_state=1).fit(Xs, ys, sample_weight)
        weights = np.ones(len(ys)) if sample_weight is None else w
        mse = weights @ (est.predict(Xs) - ys) ** 2 / weights.sum()
        assert est.loss_ == pytest.approx(mse, rel=1e-12)
        assert est.loss_ > 1.0  # the targets' scale is 1e3: not a standardised figure


def test_the_convex_certificate_bounds_every_network():
    beta = 1e-3
    Xc, Yc = cvxnn.planted_teacher("2-3-1", 30, seed=2)
    y = Yc[:, 0]
    convex = cvxnn.ConvexReLURegressor(weight_decay=beta, patterns="all").fit(Xc, y)
    c = convex.certificate_
    assert c["scope"] == "global" and c["certified"]
    # the certificate's objective is the returned network's, recomputed here
    assert convex.objective_ == pytest.approx(
        convex.model_.weight_decay_objective(Xc, Yc, beta), rel=1e-9
    )
    assert c["dual_bound"] <= convex.objective_ <= c["dual_bound"] * (1 + 1e-6) + 1e-12
    # the dual bound is below the objective of every two-layer network: check L-BFGS's
    for seed in range(3):
        net = cvxnn.MLPRegressor(method="lbfgs", hidden_layer_sizes=(6,), weight_decay=beta,
                                 random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cvxnn.TrainingWarning)
            net.fit(Xc, y)
        assert net.model_.weight_decay_objective(Xc, Yc, beta) >= c["dual_bound"] * (1 - 1e-9)


def test_convex_classifier_separates_two_moons_and_three_blobs():
    from sklearn.datasets import make_blobs, make_moons

    Xm, ym = make_moons(60, noise=0.05, random_state=0)
    clf = cvxnn.ConvexReLUClassifier(weight_decay=1e-4).fit(Xm, np.where(ym, "a", "b"))
    assert clf.score(Xm, np.where(ym, "a", "b")) == 1.0
    assert clf.certificate_["certified"]
    Xb, yb = make_blobs(90, centers=3, random_state=0)
    clf = cvxnn.ConvexReLUClassifier().fit(Xb, yb)
    assert clf.decision_function(Xb).shape == (90, 3)
    assert clf.score(Xb, yb) > 0.9


def test_pickled_models_predict_the_same():
    est = cvxnn.MLPRegressor(method="lbfgs", hidden_layer_sizes=(3,), random_state=1).fit(X, Y)
    # pickled before run_ was read: the Rust record goes into the pickle as its dict
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert back.run_ == est.run_ and back.run_["final"]["loss"] == est.loss_
    with pytest.raises(AttributeError, match="not fitted"):
        cvxnn.MLPRegressor().run_
    model = cvxnn.Model.from_json(est.model_.to_json())
    np.testing.assert_array_equal(model.predict(X), est.predict(X))


def test_time_limit_keeps_the_best_network():
    est = cvxnn.MLPRegressor(method="gd", max_iter=10**9, output_tol=1e-300, time_limit=0.3,
                             random_state=1)
    est.fit(X, Y)
    assert est.stop_reason_ == "time_limit"
    assert np.isfinite(est.predict(X)).all()


def test_ctrl_c_stops_the_run_and_keeps_the_partial_network():
    # a time limit in case the interrupt never arrives (then stop_reason says so)
    est = cvxnn.MLPRegressor(method="gd", max_iter=10**9, output_tol=1e-300, time_limit=60.0,
                             random_state=1)
    # Python's own Ctrl-C handler: a process started in the background (as CI may start it)
    # inherits SIGINT ignored, and then interrupt_main does nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt) as raised:
            est.fit(X, Y)
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert raised.value.estimator is est
    assert est.stop_reason_ == "interrupted"
    assert 0 < est.n_iter_ < 10**9
    assert np.isfinite(est.predict(X)).all()


def test_training_releases_the_gil():
    est = cvxnn.MLPRegressor(method="gd", max_iter=10**9, output_tol=1e-300, time_limit=0.5,
                             random_state=1)
    worker = threading.Thread(target=est.fit, args=(X, Y))
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
    worker.join()
    assert est.stop_reason_ == "time_limit"
    # with the GIL held for the whole fit this thread could not have run meanwhile
    assert ticks > 1000


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: cvxnn.MLPRegressor(method="nope").fit(X, Y), "unknown method"),
        (lambda: cvxnn.MLPRegressor(method="scr", learning_rate_init=0.1).fit(X, Y),
         "not read by method scr"),
        (lambda: cvxnn.MLPRegressor(time_limit=-1.0).fit(X, Y), "time limit"),
        (lambda: cvxnn.MLPRegressor(method="lbfgs", max_iter=5, lbfgs_max_iter=9).fit(X, Y),
         "give one"),
        (lambda: cvxnn.MLPRegressor(hidden_layer_sizes=(0,)).fit(X, Y), "hidden_layer_sizes"),
        (lambda: cvxnn.MLPRegressor(output_activation="tanh").fit(X, Y), "tanh"),
        (lambda: cvxnn.MLPRegressor().fit(np.where(X > 1, np.nan, X), Y), "NaN"),
        (lambda: cvxnn.MLPRegressor().fit(X, Y).predict(X[:, :2]), "features"),
        (lambda: cvxnn.ConvexReLURegressor(weight_decay=0.0).fit(X, Y[:, 0]), "weight decay"),
        (lambda: cvxnn.ConvexReLURegressor(patterns="some").fit(X, Y[:, 0]), "patterns"),
        (lambda: cvxnn.Model.from_json('{"format": "x"}'), "not a cvxnn model"),
        (lambda: cvxnn.planted_teacher("2-3-1", -5), "n_samples must be a positive int, got -5"),
        (lambda: cvxnn.planted_teacher("2-3-1", 10, seed=-1), "seed must be a non-negative"),
    ],
)
def test_bad_input_is_a_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_too_many_patterns_to_enumerate_is_refused_in_the_estimators_words():
    Xbig = np.random.RandomState(0).normal(size=(200, 8))
    with pytest.raises(ValueError, match="raise max_patterns, or sample K gates with patterns K"):
        cvxnn.ConvexReLURegressor(patterns="all").fit(Xbig, Xbig[:, 0])
    # the cap is a parameter: 30 samples in 2-D have at most 2 Σ_{k<3} C(29, k) = 872 patterns
    Xs = Xbig[:30, :2]
    with pytest.raises(ValueError, match="more than max_patterns 100"):
        cvxnn.ConvexReLURegressor(patterns="all", max_patterns=100).fit(Xs, Xs[:, 0])
    est = cvxnn.ConvexReLURegressor(patterns="all", max_patterns=1000).fit(Xs, Xs[:, 0])
    assert est.certificate_["scope"] == "global"


def test_mlp_regressor_with_the_convex_method_is_the_convex_estimator():
    # the same program (patterns `auto`, β = 1e-3 by default), hence the same network
    theirs = cvxnn.ConvexReLURegressor().fit(X, Y[:, 0])
    ours = cvxnn.MLPRegressor(method="convex").fit(X, Y[:, 0])
    assert ours.run_["request"]["convex"] == theirs.run_["request"]["convex"]
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    sampled = cvxnn.MLPRegressor(method="convex", patterns=7, max_patterns=50).fit(X, Y[:, 0])
    assert sampled.run_["request"]["convex"]["patterns"] == 7
    with pytest.raises(ValueError, match="patterns is not read by method adam"):
        cvxnn.MLPRegressor(method="adam", patterns=7).fit(X, Y[:, 0])


def test_one_target_column_gives_one_dimensional_predictions_as_scikit_learn():
    est = cvxnn.MLPRegressor(method="lbfgs", max_iter=20, random_state=1)
    one = est.fit(X, Y[:, :1]).predict(X)
    assert one.shape == (len(X),)
    np.testing.assert_array_equal(one, est.fit(X, Y[:, 0]).predict(X))
    assert est.fit(X, Y).predict(X).shape == Y.shape


@pytest.mark.skipif("milp" in cvxnn.features(), reason="cvxnn built with HiGHS")
def test_exact_training_without_highs_says_how_to_build_it():
    with pytest.raises(RuntimeError, match=r'MATURIN_PEP517_ARGS="--features <name>"'):
        cvxnn.MLPRegressor(method="milp", hidden_layer_sizes=(2,)).fit(X, Y[:, 0])


@pytest.mark.skipif("milp" not in cvxnn.features(), reason="cvxnn built without HiGHS")
def test_exact_training_through_python_is_certified():
    Xm, Ym = cvxnn.planted_teacher("2-2-1", 12, seed=1)
    est = cvxnn.MLPRegressor(method="milp", hidden_layer_sizes=(2,), weight_bound=10.0,
                             time_limit=60.0, random_state=1).fit(Xm, Ym[:, 0])
    c = est.run_["certificate"]
    assert est.stop_reason_ == "optimal" and c["certified"]
    # the certified L1 loss is the network's own, recomputed here
    l1 = np.abs(est.predict(Xm) - Ym[:, 0]).sum()
    assert l1 == pytest.approx(c["incumbent"], rel=1e-6, abs=1e-6)
    assert c["lower_bound"] <= l1 + 1e-6


def test_the_logistic_convex_classifier_gives_probabilities_by_the_logistic_link():
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    for X_, y_ in [(Xi[yi < 2], yi[yi < 2]), (Xi, yi)]:
        clf = cvxnn.ConvexReLUClassifier(patterns=10, standardize=True).fit(X_, y_)
        P = clf.predict_proba(X_)
        assert P.shape == (len(X_), len(clf.classes_))
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
        # the most probable class is the predicted one, and the log-odds are the scores
        np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X_))
        if len(clf.classes_) == 2:
            np.testing.assert_allclose(np.log(P[:, 1] / P[:, 0]), clf.decision_function(X_),
                                       rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(clf.predict_log_proba(X_), np.log(P))
    hinge = cvxnn.ConvexReLUClassifier(loss="hinge", patterns=10).fit(Xi[yi < 2], yi[yi < 2])
    assert not hasattr(hinge, "predict_proba")


@pytest.mark.parametrize("make", [
    lambda **k: cvxnn.MLPRegressor(method="lbfgs", hidden_layer_sizes=(40,), max_iter=10,
                                   random_state=3, **k),
    lambda **k: cvxnn.MLPClassifier(method="adam", hidden_layer_sizes=(40,), max_iter=10,
                                    random_state=3, **k),
])
def test_the_thread_count_does_not_change_the_network(make):
    # 12 000 samples × 40 hidden units: passes long enough to be split over threads
    rng = np.random.RandomState(0)
    Xb = rng.normal(size=(12_000, 12))
    yb = (Xb[:, 0] - Xb[:, 1] ** 2 > 0).astype(int) + (Xb[:, 2] > 1)
    fits = [make(n_jobs=j).fit(Xb, yb) for j in (1, 2, -1, None)]
    for f in fits[1:]:
        for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, f.coefs_ + f.intercepts_):
            np.testing.assert_array_equal(a, b)
    assert fits[1].run_["request"]["threads"] == 2
    assert "threads" not in fits[3].run_["request"]
    with pytest.raises(ValueError, match="n_jobs"):
        make(n_jobs=0).fit(Xb[:50], yb[:50])
