"""``certify``: how far a two-layer ReLU network trained anywhere is from the best one.

The bound and its scope are docs/global.md's: a proven lower bound on the objective

    (1/N) Σ ℓ(f(x_i), y_i) + (β/2) (‖W₁‖² + ‖b₁‖² + ‖W₂‖²)

of every two-layer ReLU network of any width (with an unpenalised output bias when
``output_bias="free"``), certified by the network's own residual.
"""

import numbers
import os

import numpy as np
from sklearn.utils.validation import check_array

from . import _core


def _weights(network):
    """``(W₁, b₁, W₂, b₂)`` in PyTorch's orientation (``W₁`` is hidden × inputs)."""
    if isinstance(network, (str, os.PathLike)):
        path = os.fspath(network)
        if not path.lower().endswith(".onnx"):
            raise ValueError(f"network={path!r}: a path must name an ONNX file (.onnx)")
        return _core.load_onnx(path).weights()
    if isinstance(network, _core.Model):
        return network.weights()
    model = getattr(network, "model_", None)
    if isinstance(model, _core.Model):
        return model.weights()
    if hasattr(network, "coefs_") and hasattr(network, "intercepts_"):
        # scikit-learn's MLPRegressor: coefs_[0] is inputs × hidden
        if len(network.coefs_) != 2 or getattr(network, "activation", "relu") != "relu":
            raise ValueError(
                "network: certify takes a two-layer ReLU network; this scikit-learn MLP has "
                f"{len(network.coefs_) - 1} hidden layer(s) and activation "
                f"{getattr(network, 'activation', '?')!r}"
            )
        if getattr(network, "out_activation_", "identity") != "identity":
            raise ValueError(
                "network: certify takes linear outputs; this scikit-learn MLP's output is "
                f"{network.out_activation_!r}"
            )
        (w1, w2), (b1, b2) = network.coefs_, network.intercepts_
        return w1.T, b1, w2.T, b2
    if isinstance(network, (tuple, list)) and len(network) == 4:
        return tuple(network)
    raise TypeError(
        "network must be a cvxnn estimator or Model, a fitted scikit-learn MLPRegressor, a path "
        "to an ONNX file, or the weights (W1, b1, W2, b2) with W1 of shape (hidden, inputs), "
        f"got {type(network).__name__}"
    )


def certify(
    network,
    X,
    y,
    *,
    weight_decay,
    loss="squared",
    output_bias=None,
    units="shared",
    time_limit=None,
    tol=1e-6,
    random_state=0,
    cheap=False,
    improve=False,
):
    """A proven lower bound on every two-layer ReLU network's objective, next to ``network``'s.

    Parameters
    ----------
    network : cvxnn estimator or Model, scikit-learn MLPRegressor, path to an ONNX file, or
        ``(W1, b1, W2, b2)`` with ``W1`` of shape (hidden, inputs) and ``W2`` (outputs, hidden),
        PyTorch's ``nn.Linear`` orientation. The network is ``W2 relu(W1 x + b1) + b2``.
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,) or (n_samples, n_outputs)
    weight_decay : float
        β. PyTorch's ``MSELoss()`` with an optimiser's ``weight_decay=λ`` minimises twice this
        objective with β = λ/2 (its mean has no ½, and its decay ``λ w`` is the gradient of
        ``(λ/2)‖w‖²``); scikit-learn's ``MLPRegressor`` divides its ``alpha`` by N and leaves the
        biases alone, so its objective is a different one.
    loss : "squared", "logistic" or "hinge" (labels 0/1 or ±1)
    output_bias : "none", "free" or None
        The networks covered: without an output bias, or with any unpenalised one. None: "free"
        when ``b2`` is not zero, else "none".
    units : "shared" or "per-output"
        With several outputs: every network, or only those whose hidden units each feed one
        output.
    time_limit : float or None
        Seconds for the search; the bound proved so far is kept (status ``time_limit``).
    tol : float
        The pricer's relative accuracy.
    random_state : int
        Seed of the pricer's random starts.
    cheap : bool
        Only the spectral bound (no search).
    improve : bool
        Also run column generation from the network's units and keep the higher bound (with a
        ``time_limit``, a third of it goes to the generation); ``improved`` in the result says
        what it found.

    Returns
    -------
    dict
        ``objective`` (``loss_term`` + ``penalty``), ``bound`` (``lower_bound``, its ``status``,
        ``ceiling``, scope and per-output pricing), ``excess`` (the network is at most this
        fraction above the best network the bound covers), ``units``, ``seconds``.
    """
    w1, b1, w2, b2 = (np.asarray(a, dtype=np.float64) for a in _weights(network))
    if w1.ndim != 2 or w2.ndim != 2 or b1.ndim != 1 or b2.ndim != 1:
        raise ValueError(
            "network: W1 and W2 must be 2-D, b1 and b2 1-D, got shapes "
            f"{w1.shape}, {b1.shape}, {w2.shape}, {b2.shape}"
        )
    X = check_array(X, dtype=np.float64)
    y = check_array(y, dtype=np.float64, ensure_2d=False)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    if X.shape[1] != w1.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features, but the network takes {w1.shape[1]}")
    if y.shape[1] != w2.shape[0]:
        raise ValueError(f"y has {y.shape[1]} outputs, but the network gives {w2.shape[0]}")
    try:
        weight_decay = float(weight_decay)
    except (TypeError, ValueError):
        raise ValueError(f"weight_decay must be a number above 0, got {weight_decay!r}") from None
    if not np.isfinite(weight_decay) or weight_decay <= 0:
        raise ValueError(f"weight_decay must be a finite number above 0, got {weight_decay}")
    given = {"tol": tol} if time_limit is None else {"tol": tol, "time_limit": time_limit}
    for name, value in given.items():
        if not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number above 0, got {value!r}")
    certificate, raised = _core.certify(
        np.ascontiguousarray(w1),
        b1.tolist(),
        np.ascontiguousarray(w2),
        b2.tolist(),
        np.ascontiguousarray(X),
        np.ascontiguousarray(y),
        weight_decay,
        loss=loss,
        output_bias=output_bias,
        units=units,
        time_limit=time_limit,
        tol=float(tol),
        seed=int(random_state),
        cheap=bool(cheap),
        improve=bool(improve),
    )
    if raised is not None:
        raise raised
    return certificate
