"""``cvxnn.certify``: the bound covers the network it certifies, and every way of handing a
network over (estimator, Model, weights, scikit-learn, ONNX) gives the same certificate, the
same as the command line's."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import cvxnn

ROOT = pathlib.Path(__file__).resolve().parents[2]
BETA = 1e-2

pytestmark = pytest.mark.filterwarnings(
    "ignore::cvxnn.TrainingWarning", "ignore::sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def trained():
    X, Y = cvxnn.planted_teacher("2-4-1", 40, seed=2)
    est = cvxnn.MLPRegressor(
        method="lbfgs", hidden_layer_sizes=(6,), weight_decay=BETA, random_state=1
    ).fit(X, Y[:, 0])
    return est, X, Y[:, 0]


def test_the_bound_is_below_the_networks_objective(trained):
    est, X, y = trained
    c = cvxnn.certify(est, X, y, weight_decay=BETA)
    assert c["bound"]["status"] == "proved"
    objective = est.model_.weight_decay_objective(X, y.reshape(-1, 1), BETA)
    assert c["objective"] == pytest.approx(objective, rel=1e-12)
    assert 0 < c["bound"]["lower_bound"] <= c["objective"]
    assert c["excess"] == pytest.approx(
        (c["objective"] - c["bound"]["lower_bound"]) / c["bound"]["lower_bound"]
    )


def test_improve_certifies_at_least_as_much(trained):
    est, X, y = trained
    own = cvxnn.certify(est, X, y, weight_decay=BETA)
    better = cvxnn.certify(est, X, y, weight_decay=BETA, improve=True)
    i = better["improved"]
    assert i["own_bound"] == own["bound"]["lower_bound"]
    assert better["bound"]["lower_bound"] == max(i["own_bound"], i["generated_bound"])
    assert better["bound"]["lower_bound"] <= i["objective"] <= better["objective"] * (1 + 1e-9)


def test_every_way_of_giving_the_network_gives_the_same_certificate(trained, tmp_path):
    est, X, y = trained
    reference = cvxnn.certify(est, X, y, weight_decay=BETA)["bound"]["lower_bound"]
    weights = est.model_.weights()
    path = tmp_path / "net.onnx"
    est.model_.save_onnx(str(path))
    for network in (est.model_, weights, [np.array(w) for w in weights], path, str(path)):
        got = cvxnn.certify(network, X, y, weight_decay=BETA)["bound"]["lower_bound"]
        assert got == reference, type(network)


def test_a_scikit_learn_mlp_is_certified_on_its_own_weights():
    from sklearn.neural_network import MLPRegressor

    X, Y = cvxnn.planted_teacher("2-4-1", 40, seed=3)
    mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3000, random_state=0).fit(X, Y[:, 0])
    c = cvxnn.certify(mlp, X, Y[:, 0], weight_decay=BETA)
    # its output bias is free, so the bound must cover networks with one
    assert c["bound"]["output_bias"] == "free"
    assert c["bound"]["lower_bound"] <= c["objective"]


def test_the_command_line_gives_the_same_figure(trained, tmp_path):
    binary = os.environ.get("CVXNN_BIN") or ROOT / "target" / "release" / "cvxnn"
    if not pathlib.Path(binary).exists():
        pytest.skip("no cvxnn binary (cargo build --release, or set CVXNN_BIN)")
    est, X, y = trained
    model = tmp_path / "m.json"
    model.write_text(est.model_.to_json())
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="x1,x2,y1", comments="")
    out = subprocess.run(
        [str(binary), "certify", "--model", str(model), "--data", str(data),
         "--weight-decay", str(BETA), "--json"],
        check=True, capture_output=True, text=True,
    )
    cli = json.loads(out.stdout)
    python = cvxnn.certify(est, X, y, weight_decay=BETA)
    assert cli["bound"]["lower_bound"] == python["bound"]["lower_bound"]
    assert cli["objective"] == python["objective"]


def test_bad_input_is_refused(trained):
    est, X, y = trained
    with pytest.raises(ValueError, match="weight_decay"):
        cvxnn.certify(est, X, y, weight_decay=0)
    with pytest.raises(ValueError, match="features"):
        cvxnn.certify(est, X[:, :1], y, weight_decay=BETA)
    with pytest.raises(ValueError, match="loss"):
        cvxnn.certify(est, X, y, weight_decay=BETA, loss="cubic")
    with pytest.raises(TypeError):
        cvxnn.certify(42, X, y, weight_decay=BETA)
    with pytest.raises(ValueError, match="ONNX"):
        cvxnn.certify("model.json", X, y, weight_decay=BETA)
