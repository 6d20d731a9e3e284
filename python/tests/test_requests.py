"""One run request under every front end: the same request gives the same network, bit for bit,
from the command line (``cvxnn train --config``), from ``cvxnn.run`` and from an estimator; the
request a run records reruns it; errors name the request's keys or the estimator's parameters."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import cvxnn

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli():
    """The command line's binary: $CVXNN_BIN, else the release build of this checkout."""
    path = os.environ.get("CVXNN_BIN") or ROOT / "target" / "release" / "cvxnn"
    if not pathlib.Path(path).exists():
        if os.environ.get("CVXNN_BIN"):
            raise FileNotFoundError(f"CVXNN_BIN={path} does not exist")
        pytest.skip("no cvxnn binary (cargo build --release, or set CVXNN_BIN)")
    return str(path)


# Small budgets, each method's own group.
SETTINGS = {
    "scr": {"scr": {"max_iter": 4}},
    "gd": {"gradient": {"max_iter": 300}},
    "sgd": {"gradient": {"max_iter": 300}},
    "adam": {"gradient": {"max_iter": 300, "batch": 5}},
    "lbfgs": {"gradient": {"max_iter": 300}},
    "lm": {"gradient": {"max_iter": 50}},
    "scr+lbfgs": {"scr": {"max_iter": 3}, "gradient": {"max_iter": 100}},
    "convex": {"convex": {"weight_decay": 1e-2, "patterns": "auto"}},
    "milp": {"milp": {"weight_bound": 5.0, "time_limit": 60.0}},
    "ridge": {"glm": {"alpha": 0.5}, "data": {"file": "diabetes", "test_fraction": 0.25}},
    "lasso": {"glm": {"alpha": 0.5, "solver": "first-order"}, "data": {"file": "diabetes"}},
    "elastic-net": {"glm": {"alpha": 0.1}, "data": {"file": "wine"}},
    "logistic": {"glm": {"c": 0.5}, "data": {"file": "iris", "classes": True}},
    "svm": {"glm": {"c": 0.1}, "data": {"file": "breast_cancer", "classes": True}},
    "perceptron": {"data": {"file": "iris", "classes": True, "keep_classes": [1, 2]}},
}


def request_of(method):
    return {
        "method": method,
        "seed": 3,
        "data": {"teacher": "2-2-1", "n": 14, "noise": 0.05},
        "standardize": method in ("adam", "lbfgs", "ridge", "logistic", "svm"),
        **SETTINGS[method],
    }


def through_the_command_line(request, tmp_path):
    """The model file and report of ``cvxnn train --config`` on ``request``."""
    config = tmp_path / "run.json"
    config.write_text(json.dumps(request))
    model, report = tmp_path / "model.json", tmp_path / "report.json"
    out = subprocess.run(
        [cli(), "train", "--config", str(config), "--model-out", str(model),
         "--report", str(report)],
        capture_output=True, text=True,
    )
    if "cargo feature `milp`" in out.stderr:
        pytest.skip("the cvxnn binary was built without HiGHS")
    assert out.returncode == 0, out.stderr
    return model.read_text(), json.loads(report.read_text())


def same_network(method, tmp_path):
    request = request_of(method)
    trained = cvxnn.run(request)
    model, report = through_the_command_line(request, tmp_path)
    # bit for bit: the model files are the same text, which holds every number exactly
    assert model == trained.model.to_json() + "\n"
    assert report["runs"][0]["model_sha256"] == trained.run["model_sha256"]
    # and the same resolved request
    assert report["runs"][0]["request"] == trained.request
    assert report["data"]["sha256"] == trained.run["data"]["sha256"]


@pytest.mark.parametrize(
    "method",
    [m for m in cvxnn.method_names() + cvxnn.method_names(linear=True)
     if m in SETTINGS and m != "milp"],
)
def test_the_command_line_and_python_train_the_same_network(method, tmp_path):
    same_network(method, tmp_path)


def test_every_method_has_a_request_here():
    assert set(cvxnn.method_names() + cvxnn.method_names(linear=True)) <= set(SETTINGS)


@pytest.mark.skipif("milp" not in cvxnn.features(), reason="cvxnn built without HiGHS")
def test_exact_training_gives_the_same_network_from_the_command_line(tmp_path):
    same_network("milp", tmp_path)


@pytest.mark.parametrize("method", ["scr", "adam", "lm", "scr+lbfgs"])
def test_an_estimator_is_a_request_and_its_record_reruns_it(method):
    X, Y = cvxnn.planted_teacher("3-3-2", 25, seed=2)
    est = cvxnn.MLPRegressor(method=method, hidden_layer_sizes=(3,), max_iter=30,
                             random_state=5).fit(X, Y)
    request = est.run_["request"]
    assert request["method"] == method and request["arch"] == "3-3-2"
    assert request["data"] == {"arrays": "numpy arrays"}
    again = cvxnn.run(request, X, Y)
    assert again.model.to_json() == est.model_.to_json()
    assert again.run["model_sha256"] == est.run_["model_sha256"]


def test_a_request_file_runs_and_a_teacher_needs_no_arrays(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('method = "lbfgs"\nseed = 2\n[data]\nteacher = "3-3-2"\n[gradient]\n'
                    'max_iter = 100\n')
    t = cvxnn.run(path)
    assert t.request["gradient"]["max_iter"] == 100
    assert t.request["start"] == {"init": "random", "scheme": "he", "seed": 2}
    assert t.run["final"]["iterations"] <= 100
    assert cvxnn.run(str(path)).model.to_json() == t.model.to_json()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"gradient": {"lr": -1.0}}, "`gradient.lr` must be positive"),
        ({"gradient": {"lrr": 0.1}}, "`gradient.lrr` is not a setting"),
        ({"scr": {"lambda": [1.0]}}, "`scr.lambda` is not read by method adam"),
        ({"bogus": {}}, "`bogus` is not a key of a run request"),
        ({"time_limit": -1.0}, "`time_limit` must be positive"),
        ({"data": {"file": "iris", "teacher": "3-3-2"}}, "needs exactly one of"),
    ],
)
def test_request_errors_name_the_key(change, message):
    request = {"method": "adam", "data": {"teacher": "3-3-2"}, **change}
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        cvxnn.run(request)


def test_estimator_errors_name_the_parameter():
    X, Y = cvxnn.planted_teacher("3-3-2", 25, seed=2)
    with pytest.raises(ValueError, match="^learning_rate_init must be positive"):
        cvxnn.MLPRegressor(method="adam", learning_rate_init=-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="^scr_lambda must be positive"):
        cvxnn.MLPRegressor(method="scr", scr_lambda=-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="^learning_rate_init must be finite"):
        cvxnn.MLPRegressor(method="adam", learning_rate_init=np.nan).fit(X, Y)
