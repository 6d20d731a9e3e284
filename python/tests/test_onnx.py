"""ONNX export run by onnxruntime: the same outputs as cvxnn's forward pass."""

import numpy as np
import onnxruntime as ort
import pytest

import cvxnn


def run_onnx(path, X, dtype):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert (inp.name, out.name) == ("x", "y")
    return session.run(None, {"x": X.astype(dtype)})[0]


@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("arch, output", [("3-3-2", "linear"), ("3-4-4-2", "relu")])
def test_float64_export_equals_predict(tmp_path, arch, output, standardize):
    X, Y = cvxnn.planted_teacher(arch, 40, seed=4, output=output)
    X, Y = 50.0 * X + 3.0, 20.0 * Y  # far from unit scale, so the standardisation matters
    hidden = [int(h) for h in arch.split("-")[1:-1]]
    est = cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=hidden, output_activation=output,
                             max_iter=300, standardize=standardize, random_state=2).fit(X, Y)
    path = est.to_onnx(tmp_path / "m.onnx")
    Xnew = np.random.RandomState(1).normal(size=(25, X.shape[1])) * 50.0
    got = run_onnx(path, Xnew, np.float64)
    want = est.predict(Xnew)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_float32_export_is_single_precision(tmp_path):
    X, Y = cvxnn.planted_teacher("3-4-1", 40, seed=5)
    est = cvxnn.MLPRegressor(method="lbfgs", hidden_layer_sizes=(4,), standardize=True,
                             random_state=1).fit(X, Y)
    # the graph's output is N × outputs; predict gives one output as a 1-D array
    want = est.predict(X).reshape(-1, 1)
    f32 = run_onnx(est.to_onnx(tmp_path / "f.onnx", float32=True), X, np.float32)
    f64 = run_onnx(est.to_onnx(tmp_path / "d.onnx"), X, np.float64)
    assert f32.dtype == np.float32
    scale = np.abs(want).max()
    assert np.abs(f32 - want).max() <= 1e-5 * scale
    assert np.abs(f32 - want).max() > np.abs(f64 - want).max()


@pytest.mark.parametrize("make", [
    lambda **k: cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=(6,), max_iter=200,
                                   standardize=True, random_state=3, **k),
    lambda **k: cvxnn.MLPClassifier(method="lbfgs", hidden_layer_sizes=(6,), max_iter=100,
                                    random_state=3, **k),
])
def test_a_float32_network_exports_as_float32_by_default(tmp_path, make):
    X, Y = cvxnn.planted_teacher("3-6-1", 60, seed=7)
    y = Y[:, 0] if "Regressor" in type(make()).__name__ else (Y[:, 0] > np.median(Y)).astype(int)
    est = make(precision="f32").fit(X, y)
    assert est.model_.precision == "f32"
    assert est.run_["request"]["gradient"]["precision"] == "f32"
    for layer in est.coefs_ + est.intercepts_:
        np.testing.assert_array_equal(layer, layer.astype(np.float32))
    want = est.predict_proba(X)[:, 1:] if hasattr(est, "predict_proba") else est.predict(X)
    want = want.reshape(len(X), -1)
    got = run_onnx(est.to_onnx(tmp_path / "m.onnx"), X, np.float32)
    assert got.dtype == np.float32
    assert np.abs(got - want).max() <= 1e-5 * max(1.0, np.abs(want).max())
    # float64 on request: the model's own arithmetic
    f64 = run_onnx(est.to_onnx(tmp_path / "d.onnx", float32=False), X, np.float64)
    np.testing.assert_allclose(f64, want, rtol=1e-12, atol=1e-12)
    # the default is float64, whose network is not a float32 one
    ref = make().fit(X, y)
    assert ref.model_.precision == "f64"
    assert any((w != w.astype(np.float32)).any() for w in ref.coefs_)


def test_float32_is_refused_by_levenberg_marquardt():
    X, Y = cvxnn.planted_teacher("2-3-1", 20, seed=1)
    with pytest.raises(ValueError, match="precision"):
        cvxnn.MLPRegressor(method="lm", hidden_layer_sizes=(3,), precision="f32").fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="precision"):
        cvxnn.MLPRegressor(method="adam", hidden_layer_sizes=(3,), precision="f16").fit(X, Y[:, 0])


def test_convex_models_export_their_decision_function(tmp_path):
    X, Y = cvxnn.planted_teacher("2-3-1", 16, seed=2)
    reg = cvxnn.ConvexReLURegressor().fit(X, Y[:, 0])
    np.testing.assert_allclose(run_onnx(reg.to_onnx(tmp_path / "r.onnx"), X, np.float64)[:, 0],
                               reg.predict(X), rtol=1e-12, atol=1e-12)
    y = (Y[:, 0] > np.median(Y[:, 0])).astype(int)
    clf = cvxnn.ConvexReLUClassifier().fit(X, y)
    scores = run_onnx(clf.to_onnx(tmp_path / "c.onnx"), X, np.float64)[:, 0]
    np.testing.assert_allclose(scores, clf.decision_function(X), rtol=1e-12, atol=1e-12)


def test_export_before_fit_and_to_a_bad_path_fail_cleanly(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        cvxnn.MLPRegressor().to_onnx(tmp_path / "m.onnx")
    X, Y = cvxnn.planted_teacher("2-2-1", 10, seed=1)
    est = cvxnn.MLPRegressor(max_iter=10).fit(X, Y)
    with pytest.raises(OSError):
        est.to_onnx(tmp_path / "no" / "such" / "dir" / "m.onnx")


def _linear_cases():
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    X, Y = cvxnn.planted_teacher("4-3-2", 60, seed=3)
    binary = (Y[:, 0] > np.median(Y[:, 0])).astype(int)
    return [
        (cvxnn.Ridge(alpha=0.3), X, Y[:, 0]),
        (cvxnn.Ridge(alpha=0.3), X, Y),
        (cvxnn.Lasso(alpha=0.01), X, Y[:, 0]),
        (cvxnn.LogisticRegression(C=0.5), X, binary),
        (cvxnn.LogisticRegression(C=0.5), Xi, yi),
        (cvxnn.SVC(C=0.5), Xi, yi),
        (cvxnn.PerceptronLP(), X, binary),
    ]


@pytest.mark.parametrize("est, X, y", _linear_cases(),
                         ids=["ridge", "ridge-2", "lasso", "logistic", "softmax", "svc-pairs",
                              "perceptron"])
def test_linear_models_export_their_scores(tmp_path, est, X, y):
    est.fit(X, y)
    scores = X @ np.atleast_2d(est.coef_).T + est.intercept_
    if hasattr(est, "classes_"):
        # the graph's columns are the layer's scores; decision_function gives them for two
        # classes and one-vs-rest models (SVC's votes are computed from them)
        if len(est.classes_) == 2 or not isinstance(est, cvxnn.SVC):
            np.testing.assert_allclose(scores.reshape(est.decision_function(X).shape),
                                       est.decision_function(X), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(scores.reshape(est.predict(X).shape), est.predict(X),
                                   rtol=1e-12, atol=1e-12)
    got = run_onnx(est.to_onnx(tmp_path / "m.onnx"), X, np.float64)
    assert got.shape == scores.shape
    np.testing.assert_allclose(got, scores, rtol=1e-12, atol=1e-12 * np.abs(scores).max())
    f32 = run_onnx(est.to_onnx(tmp_path / "f.onnx", float32=True), X, np.float32)
    np.testing.assert_allclose(f32, scores, rtol=1e-4, atol=1e-5 * np.abs(scores).max())


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_classifier_exports_its_class_probabilities(tmp_path, classes, dtype):
    # a Sigmoid (two classes: the positive class's probability) or a Softmax ends the graph
    X, Y = cvxnn.planted_teacher(f"3-5-{classes}", 60, seed=3)
    y = Y[:, 0] > 0 if classes == 2 else np.argmax(Y, axis=1)
    clf = cvxnn.MLPClassifier(method="lbfgs", hidden_layer_sizes=(6,), random_state=1).fit(X, y)
    got = run_onnx(clf.to_onnx(tmp_path / "c.onnx", float32=dtype == np.float32), X, dtype)
    want = clf.predict_proba(X)
    if classes == 2:
        want = want[:, 1:]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
