"""Bad parameters and inputs, as a scikit-learn user meets them: every message names the
parameter as the user spelled it, and none names a command-line flag or shows a Rust type."""

import re

import numpy as np
import pytest

import cvxnn

X, Y = cvxnn.planted_teacher("3-3-1", 30, seed=1)
y = Y[:, 0]
labels = (y > np.median(y)).astype(int)

# What a message must not show: a flag (`--weight-decay`), a Rust path or generic
# (`cvxnn::…`, `Vec<f64>`, `Option<…>`), a Rust primitive type or debug struct
# (`f64`, `usize`, `Ridge { alpha: 1.0 }`), a Rust enum's debug name (`NumericalError`).
RUST = re.compile(
    r"--[a-z]|::|\b(Vec|Option|Result|Some|None)\b[<(]|\b[fiu](8|16|32|64|size)\b|"
    r"[A-Z][a-z]+ \{ [a-z_]+: |\b[A-Z][a-z]+(Error|Infeasible)\b"
)


def est(cls, **params):
    return lambda: cls(**params).fit(X, y)


def clf(cls, **params):
    return lambda: cls(**params).fit(X, labels)


CASES = [
    # MLPRegressor: the training interface's settings
    ("max_iter", est(cvxnn.MLPRegressor, max_iter=-1)),
    ("max_iter", est(cvxnn.MLPRegressor, max_iter=2.5)),
    ("max_iter", est(cvxnn.MLPRegressor, max_iter="many")),
    ("tol", est(cvxnn.MLPRegressor, method="lbfgs", tol=-1.0)),
    ("tol", est(cvxnn.MLPRegressor, method="lbfgs", tol=float("nan"))),
    ("weight_decay", est(cvxnn.MLPRegressor, weight_decay=-1.0)),
    ("weight_decay", est(cvxnn.MLPRegressor, weight_decay=float("inf"))),
    ("learning_rate_init", est(cvxnn.MLPRegressor, learning_rate_init=0.0)),
    ("learning_rate_init", est(cvxnn.MLPRegressor, learning_rate_init="fast")),
    ("batch_size", est(cvxnn.MLPRegressor, method="sgd", batch_size=0)),
    ("batch_size", est(cvxnn.MLPRegressor, method="sgd", batch_size=-5)),
    ("momentum", est(cvxnn.MLPRegressor, method="sgd", momentum=1.5)),
    ("beta_1", est(cvxnn.MLPRegressor, beta_1=1.0)),
    ("beta_2", est(cvxnn.MLPRegressor, beta_2=-0.1)),
    ("epsilon", est(cvxnn.MLPRegressor, epsilon=0.0)),
    ("hidden_layer_sizes", est(cvxnn.MLPRegressor, hidden_layer_sizes=(0,))),
    ("hidden_layer_sizes", est(cvxnn.MLPRegressor, hidden_layer_sizes="wide")),
    ("hidden_layer_sizes", est(cvxnn.MLPRegressor, hidden_layer_sizes=(2.5,))),
    ("method", est(cvxnn.MLPRegressor, method="newton")),
    ("method", est(cvxnn.MLPRegressor, method=3)),
    ("output_activation", est(cvxnn.MLPRegressor, output_activation="tanh")),
    ("init", est(cvxnn.MLPRegressor, init="ones")),
    ("init_scheme", est(cvxnn.MLPRegressor, init_scheme="xavier")),
    ("time_limit", est(cvxnn.MLPRegressor, time_limit=-1.0)),
    ("time_limit", est(cvxnn.MLPRegressor, time_limit="soon")),
    ("random_state", est(cvxnn.MLPRegressor, random_state=-1)),
    ("scr_lambda", est(cvxnn.MLPRegressor, method="scr", scr_lambda=-1.0)),
    ("scr_mu", est(cvxnn.MLPRegressor, method="scr", scr_mu=-2.0)),
    ("output_tol", est(cvxnn.MLPRegressor, output_tol=-1.0)),
    ("lbfgs_max_iter", est(cvxnn.MLPRegressor, method="lbfgs", lbfgs_max_iter=-3)),
    ("learning_rate_init", est(cvxnn.MLPRegressor, method="scr", learning_rate_init=0.1)),
    ("patterns", est(cvxnn.MLPRegressor, method="adam", patterns=10)),
    # the convex estimators
    ("weight_decay", est(cvxnn.ConvexReLURegressor, weight_decay=0.0)),
    ("weight_decay", est(cvxnn.ConvexReLURegressor, weight_decay=float("nan"))),
    ("patterns", est(cvxnn.ConvexReLURegressor, patterns=2.5)),
    ("patterns", est(cvxnn.ConvexReLURegressor, patterns=-3)),
    ("patterns", est(cvxnn.ConvexReLURegressor, patterns="some")),
    ("max_patterns", est(cvxnn.ConvexReLURegressor, max_patterns=-1)),
    ("max_patterns", est(cvxnn.ConvexReLURegressor, patterns="all", max_patterns=10)),
    ("tol", est(cvxnn.ConvexReLURegressor, tol=-1.0)),
    ("max_iter", est(cvxnn.ConvexReLURegressor, max_iter=-2)),
    ("time_limit", est(cvxnn.ConvexReLURegressor, time_limit=0.0)),
    ("loss", clf(cvxnn.ConvexReLUClassifier, loss="squared")),
    # the linear models
    ("alpha", est(cvxnn.Ridge, alpha=-1.0)),
    ("alpha", est(cvxnn.Ridge, alpha="a")),
    ("alpha", est(cvxnn.Lasso, alpha=float("nan"))),
    ("l1_ratio", est(cvxnn.ElasticNet, l1_ratio=2.0)),
    ("l1_ratio", est(cvxnn.ElasticNet, l1_ratio="half")),
    ("C", clf(cvxnn.LogisticRegression, C=0.0)),
    ("C", clf(cvxnn.LogisticRegression, C="x")),
    ("l1_ratio", clf(cvxnn.LogisticRegression, l1_ratio=0.5)),
    ("C", clf(cvxnn.SVC, C=-1.0)),
    ("kernel", clf(cvxnn.SVC, kernel="rbf")),
    ("time_limit", est(cvxnn.Ridge, time_limit=-1.0)),
    ("max_iter", est(cvxnn.Lasso, max_iter=2.5)),
    ("max_iter", clf(cvxnn.LogisticRegression, max_iter=0)),
    ("tol", clf(cvxnn.SVC, tol=0.0)),
    ("tol", est(cvxnn.ElasticNet, tol="small")),
    ("time_limit", clf(cvxnn.PerceptronLP, time_limit="later")),
    # functions
    ("n_samples", lambda: cvxnn.planted_teacher("2-3-1", -5)),
    ("seed", lambda: cvxnn.planted_teacher("2-3-1", 10, seed=-1)),
    ("noise", lambda: cvxnn.planted_teacher("2-3-1", 10, noise=-1.0)),
    ("weight_decay", lambda: cvxnn.certify(cvxnn.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
                                           .fit(X, y), X, y, weight_decay=-1.0)),
    ("n_starts", lambda: cvxnn.compare((X, y), ["lbfgs"], n_starts=0)),
    ("methods", lambda: cvxnn.compare((X, y), ["newton"])),
    ("time_limit", lambda: cvxnn.compare((X, y), ["lbfgs"], time_limit=-1.0)),
    ("problem 0", lambda: cvxnn.compare((np.zeros((0, 3)), np.zeros(0)), ["lbfgs"])),
    ("X", lambda: cvxnn.compare((np.where(X > 1, np.nan, X), y), ["lbfgs"])),
    ("X", lambda: cvxnn.MLPRegressor(max_iter=5).fit(X, y).model_.predict(X[0])),
    ("time_limit", lambda: cvxnn.certify(cvxnn.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
                                         .fit(X, y), X, y, weight_decay=1e-3, time_limit=-1)),
    ("tol", lambda: cvxnn.certify(cvxnn.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
                                  .fit(X, y), X, y, weight_decay=1e-3, tol="tight")),
    ("loss", lambda: cvxnn.certify(cvxnn.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5)
                                   .fit(X, y), X, y, weight_decay=1e-3, loss="l1")),
]


@pytest.mark.parametrize("parameter, call", CASES, ids=[f"{i}-{p}" for i, (p, _) in
                                                        enumerate(CASES)])
def test_bad_parameters_are_named_in_pythons_words(parameter, call):
    with pytest.raises((ValueError, TypeError)) as raised:
        call()
    message = str(raised.value)
    assert re.search(rf"\b{re.escape(parameter)}\b", message), message
    assert not RUST.search(message), message


def test_at_least_fifty_two_cases():
    # the issue counted 52 messages that did not speak Python
    assert len(CASES) >= 52


def test_a_model_predicts_from_float32_int_and_list_inputs_as_from_float64():
    model = cvxnn.MLPRegressor(max_iter=5).fit(X, y).model_
    want = model.predict(X)
    np.testing.assert_allclose(model.predict(X.astype(np.float32)), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.predict(X.tolist()), want)
    np.testing.assert_array_equal(model.predict(np.round(X).astype(int)),
                                  model.predict(np.round(X)))
