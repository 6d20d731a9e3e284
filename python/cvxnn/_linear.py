"""The convex linear models under their scikit-learn names, parameters and objectives, solved by
cvxnn's interior point (Clarabel): ``Ridge``, ``Lasso``, ``ElasticNet``, ``LogisticRegression``
and ``SVC(kernel="linear")``; and the perceptron LP with its Farkas certificate. Each fit is a run
request of one of cvxnn's linear methods (``ridge``, ``lasso``, ``elastic-net``, ``logistic``,
``svm``, ``perceptron``), the same as ``cvxnn glm`` and ``cvxnn perceptron`` make. Each fitted
model keeps ``objective_``, scikit-learn's objective at the solution. Each but ``Ridge`` takes
``tol`` and ``max_iter`` (the interior point's relative duality gap, default 1e-10, and iteration cap,
default 500: reached, the fit keeps its last iterate and warns) and ``time_limit`` (seconds: the
fit keeps its last iterate and warns), and Ctrl-C stops it within a second."""

import itertools

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _core, _request
from ._common import Labels, inputs, inputs_and_targets, sample_weights, warn_run

# The linear models' request keys as the estimators spell them.
_SPELLING = {
    "glm.alpha": "alpha",
    "glm.l1_ratio": "l1_ratio",
    "glm.c": "C",
    "glm.fit_intercept": "fit_intercept",
    "glm.ipm_tol": "tol",
    "glm.ipm_max_iter": "max_iter",
    "data.weights": "sample_weight",
}


def _solver(estimator):
    """The interior point's ``tol`` and ``max_iter`` as the request's keys (None: cvxnn's
    defaults, 1e-10 and 500)."""
    keys = {}
    # Ridge has neither: its program has no inequality, so the interior point takes no step
    if getattr(estimator, "tol", None) is not None:
        keys["ipm_tol"] = estimator.tol
    if getattr(estimator, "max_iter", None) is not None:
        keys["ipm_max_iter"] = estimator.max_iter
    return keys


def _intercept(estimator):
    """``fit_intercept`` checked: True or False."""
    v = estimator.fit_intercept
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"fit_intercept must be True or False, got {v!r}")
    return bool(v)


def _fit(method, X, Y, glm=None, time_limit=None, weights=None):
    """Runs linear method ``method`` on X (N × d) and Y (N × k), the samples weighted by
    ``weights`` (a list, or None), for at most ``time_limit`` seconds; returns the layer's weights
    (k × d), its biases (k), the certificate and the run's record. A fit stopped by the time limit
    keeps its last iterate and warns."""
    request = {
        "method": method,
        "data": {"arrays": "numpy arrays"},
        "arch": f"{X.shape[1]}-{Y.shape[1]}",
    }
    if time_limit is not None:
        request["time_limit"] = _request._plain("time_limit", time_limit)
    if glm:
        request["glm"] = {k: _request._plain(_SPELLING.get(f"glm.{k}", k), v)
                          for k, v in glm.items()}
    try:
        model, record, raised = _core.run(
            _request.dumps(request), X, np.ascontiguousarray(Y), sample_weight=weights
        )
    except ValueError as e:
        raise _request.respell(e, _SPELLING) from None
    if raised is not None:
        raise raised
    if model is None:
        raise RuntimeError(f"the {method} fit ended {record.stop_reason} without a model")
    warn_run([_request.respell_text(w, _SPELLING) for w in record.warnings])
    W, b = model.layers[0]
    return np.array(W), np.array(b), record.certificate(), record


class _Export:
    """ONNX export of the fitted layer ``coef_``, ``intercept_``."""

    def to_onnx(self, path, float32=False):
        """Writes the fitted model as an ONNX file (opset 13): input ``x`` (N × features),
        output ``y`` = ``x coef_ᵀ + intercept_`` (N × outputs), float64 unless ``float32``. For a
        regressor ``y`` is ``predict``'s values; for a classifier its scores: one column for two
        classes (positive: ``classes_[1]``), else one per class, or for ``SVC`` one per pair of
        classes (``pairs_``, positive: the pair's second class)."""
        check_is_fitted(self, "coef_")
        W = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
        b = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))
        _core.Model.linear(np.ascontiguousarray(W), b.tolist()).save_onnx(str(path), float32)
        return path


class _LeastSquares(_Export, RegressorMixin, BaseEstimator):
    """One convex QP per target column, with an unpenalised intercept."""

    def _fit(self, X, y, sample_weight, method, l1_ratio=0.5):
        X, y = inputs_and_targets(self, X, y, multi_output=True)
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        glm = {"alpha": self.alpha, "l1_ratio": l1_ratio, "fit_intercept": _intercept(self),
               **_solver(self)}
        coef, intercept, certificate, record = _fit(
            method, X, Y, glm, self.time_limit, sample_weights(sample_weight, X)
        )
        objective = np.array(certificate["objectives"])
        one = y.ndim == 1
        self.coef_ = coef[0] if one else coef
        self.intercept_ = float(intercept[0]) if one else intercept
        self.objective_ = float(objective[0]) if one else objective
        self.n_iter_ = int(record.iterations)
        return self

    def predict(self, X):
        check_is_fitted(self, "coef_")
        X = inputs(self, X, reset=False)
        return X @ np.asarray(self.coef_).T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class Ridge(_LeastSquares):
    """``‖y − Xw − b‖² + α‖w‖²`` (scikit-learn's ``Ridge``). ``fit_intercept=False``: b = 0."""

    def __init__(self, alpha=1.0, fit_intercept=True, time_limit=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.time_limit = time_limit

    def fit(self, X, y, sample_weight=None):
        """Fits on X (N × features) and y (N, or N × targets); ``sample_weight`` (N) weighs
        each sample's squared error, as scikit-learn's."""
        return self._fit(X, y, sample_weight, "ridge")


class Lasso(_LeastSquares):
    """``‖y − Xw − b‖²/(2N) + α‖w‖₁`` (scikit-learn's ``Lasso``). ``fit_intercept=False``: b = 0."""

    def __init__(self, alpha=1.0, fit_intercept=True, tol=None, max_iter=None, time_limit=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit

    def fit(self, X, y, sample_weight=None):
        """Fits on X (N × features) and y (N, or N × targets); ``sample_weight`` (N) weighs
        each sample's squared error, as scikit-learn's."""
        return self._fit(X, y, sample_weight, "lasso")


class ElasticNet(_LeastSquares):
    """``‖y − Xw − b‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2``, ρ = ``l1_ratio`` (scikit-learn's
    ``ElasticNet``)."""

    def __init__(
        self, alpha=1.0, l1_ratio=0.5, fit_intercept=True, tol=None, max_iter=None,
        time_limit=None,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit

    def fit(self, X, y, sample_weight=None):
        """Fits on X (N × features) and y (N, or N × targets); ``sample_weight`` (N) weighs
        each sample's squared error, as scikit-learn's."""
        return self._fit(X, y, sample_weight, "elastic-net", self.l1_ratio)


class _Classifier(_Export, Labels, ClassifierMixin, BaseEstimator):
    """A linear classifier: scores ``Xwᵀ + b``."""

    def _scores(self, X):
        check_is_fitted(self, "coef_")
        X = inputs(self, X, reset=False)
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """``Xwᵀ + b``: N values for two classes (positive: ``classes_[1]``), else N × classes."""
        S = self._scores(X)
        return S[:, 0] if S.shape[1] == 1 else S


def _signs(codes, positive):
    """One ±1 column: ``positive`` against the rest."""
    return np.where(codes == positive, 1.0, -1.0).reshape(-1, 1)


def _one_vs_rest(codes, k):
    """One ±1 column per class."""
    return np.where(codes[:, None] == np.arange(k)[None, :], 1.0, -1.0)


class LogisticRegression(_Classifier):
    """scikit-learn's ``LogisticRegression``: ``C Σ log(1 + e^{−y(wᵀx + b)}) + ½‖w‖²``
    (``l1_ratio=0``) or ``+ ‖w‖₁`` (``l1_ratio=1``), intercept unpenalised; the multinomial
    (softmax) model for more than two classes. Mixtures (0 < ``l1_ratio`` < 1) are not offered."""

    def __init__(
        self, C=1.0, l1_ratio=0.0, fit_intercept=True, tol=None, max_iter=None, time_limit=None
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit

    def fit(self, X, y, sample_weight=None):
        """Fits on X (N × features) and the labels y (N); ``sample_weight`` (N) weighs each
        sample's loss (``C Σ w_i log(1 + e^{−y_i f_i})``), as scikit-learn's."""
        if self.l1_ratio not in (0, 1):
            raise ValueError(
                f"l1_ratio must be 0 (ℓ₂ penalty) or 1 (ℓ₁ penalty), got {self.l1_ratio!r}"
            )
        X, codes = self._classes(X, y)
        k = len(self.classes_)
        Y = _signs(codes, 1) if k == 2 else _one_vs_rest(codes, k)
        penalty = "l1" if self.l1_ratio == 1 else "l2"
        coef, intercept, certificate, record = _fit(
            "logistic", X, Y,
            {"c": self.C, "penalty": penalty, "fit_intercept": _intercept(self), **_solver(self)},
            self.time_limit,
            sample_weights(sample_weight, X),
        )
        self.coef_, self.intercept_ = coef, intercept
        self.objective_ = certificate["objective"]
        self.n_iter_ = np.array([record.iterations])
        return self

    def predict_proba(self, X):
        S = self._scores(X)
        if S.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-S[:, 0]))
            return np.column_stack([1.0 - p, p])
        S = S - S.max(axis=1, keepdims=True)
        E = np.exp(S)
        return E / E.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


def _platt(scores, positive, weights):
    """Platt's sigmoid ``P(positive | s) = 1 / (1 + e^{A s + B})`` fitted to the scores by
    maximum likelihood against his smoothed targets ``(N₊ + 1)/(N₊ + 2)`` and ``1/(N₋ + 2)``
    (Platt 2000; Lin, Lin & Weng 2007): a smooth convex problem in (A, B), solved by BFGS."""
    w = np.ones(len(scores)) if weights is None else np.asarray(weights)
    n_pos, n_neg = w[positive].sum(), w[~positive].sum()
    t = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(ab):
        m = ab[0] * scores + ab[1]
        # −[t log p + (1 − t) log(1 − p)] with p = σ(−m): log(1 + e^m) − (1 − t) m
        value = w @ (np.logaddexp(0.0, m) - (1.0 - t) * m)
        r = w * (1.0 / (1.0 + np.exp(-m)) - (1.0 - t))
        return value, np.array([r @ scores, r.sum()])

    start = np.array([0.0, np.log((n_neg + 1.0) / (n_pos + 1.0))])
    return minimize(loss, start, jac=True, method="BFGS", options={"gtol": 1e-10}).x


def _couple(r):
    """Class probabilities from pairwise ones, ``r[i, j] = P(i | i or j)``: the coupling of Wu,
    Lin & Weng (2004, method 2), as libsvm (and so scikit-learn's ``SVC``) computes it."""
    k = r.shape[0]
    Q = -r.T * r
    np.fill_diagonal(Q, 0.0)
    np.fill_diagonal(Q, (r.T**2).sum(axis=1) - np.diag(r) ** 2)
    p = np.full(k, 1.0 / k)
    for _ in range(max(100, k)):
        Qp = Q @ p
        pQp = p @ Qp
        if np.abs(Qp - pQp).max() < 0.005 / k:
            break
        for t in range(k):
            diff = (-Qp[t] + pQp) / Q[t, t]
            p[t] += diff
            pQp = (pQp + diff * (diff * Q[t, t] + 2.0 * Qp[t])) / (1.0 + diff) ** 2
            Qp = (Qp + diff * Q[t]) / (1.0 + diff)
            p /= 1.0 + diff
    return p


class SVC(_Classifier):
    """scikit-learn's ``SVC(kernel="linear")``: ``½‖w‖² + C Σ max(0, 1 − y(wᵀx + b))``, intercept
    unpenalised; for more than two classes one machine per pair of classes, combined by votes as
    scikit-learn's ``SVC`` combines them (``decision_function`` is its ``ovr`` shape).

    With ``probability=True``, ``predict_proba`` by Platt's sigmoid on each machine's scores and,
    for more than two classes, libsvm's pairwise coupling. scikit-learn fits the sigmoids on
    5-fold cross-validated scores; these are fitted on the training scores (deterministic, no
    refits, and more confident where the classes separate)."""

    def __init__(
        self, kernel="linear", C=1.0, probability=False, fit_intercept=True, tol=None,
        max_iter=None, time_limit=None,
    ):
        self.kernel = kernel
        self.C = C
        self.probability = probability
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit

    def fit(self, X, y, sample_weight=None):
        """Fits on X (N × features) and the labels y (N); ``sample_weight`` (N) weighs each
        sample's hinge loss (``C Σ w_i max(0, 1 − y_i f_i)``), as scikit-learn's."""
        if self.kernel != "linear":
            raise ValueError(
                f"cvxnn's SVC solves the linear SVM only (kernel='linear'), got {self.kernel!r}"
            )
        X, codes = self._classes(X, y)
        weights = sample_weights(sample_weight, X)
        k = len(self.classes_)
        pairs = [(0, 1)] if k == 2 else list(itertools.combinations(range(k), 2))
        coef, intercept, objective, iterations = [], [], [], []
        for a, b in pairs:
            on = (codes == a) | (codes == b)
            w, c, certificate, record = _fit(
                "svm", np.ascontiguousarray(X[on]), _signs(codes[on], b),
                {"c": self.C, "fit_intercept": _intercept(self), **_solver(self)},
                self.time_limit,
                None if weights is None else np.asarray(weights)[on].tolist(),
            )
            coef.append(w[0])
            intercept.append(c[0])
            objective.append(certificate["objective"])
            iterations.append(record.iterations)
        self.pairs_ = pairs
        # as scikit-learn's SVC: the solver's iterations, one per machine
        self.n_iter_ = np.array(iterations)
        self.coef_ = np.array(coef)
        self.intercept_ = np.array(intercept)
        self.objective_ = objective[0] if k == 2 else np.array(objective)
        if self.probability:
            S = X @ self.coef_.T + self.intercept_
            platt = []
            for i, (a, b) in enumerate(pairs):
                on = (codes == a) | (codes == b)
                w = None if weights is None else np.asarray(weights)[on]
                platt.append(_platt(S[on, i], codes[on] == b, w))
            self.probA_, self.probB_ = (np.array(v) for v in zip(*platt))
        return self

    def _probabilities(self):
        return bool(self.probability)

    @available_if(_probabilities)
    def predict_proba(self, X):
        """Class probabilities (N × classes) by Platt's sigmoids (``probA_``, ``probB_``) and,
        for more than two classes, pairwise coupling."""
        check_is_fitted(self, "probA_")
        S = self._scores(X)
        # each pair's P(second class | pair) = 1 / (1 + e^{A s + B})
        P = 1.0 / (1.0 + np.exp(np.clip(S * self.probA_ + self.probB_, -700, 700)))
        P = np.clip(P, 1e-7, 1 - 1e-7)  # libsvm's bounds on a pairwise probability
        k = len(self.classes_)
        if k == 2:
            return np.column_stack([1.0 - P[:, 0], P[:, 0]])
        out = np.empty((len(S), k))
        for n in range(len(S)):
            r = np.zeros((k, k))
            for i, (a, b) in enumerate(self.pairs_):
                r[b, a], r[a, b] = P[n, i], 1.0 - P[n, i]
            out[n] = _couple(r)
        return out

    @available_if(_probabilities)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def decision_function(self, X):
        S = self._scores(X)
        if len(self.classes_) == 2:
            return S[:, 0]
        from sklearn.utils.multiclass import _ovr_decision_function

        # each pair's machine says `b` (its positive class) when its score is positive
        predictions = (S > 0).astype(int)
        return _ovr_decision_function(predictions, S, len(self.classes_))


class PerceptronLP(_Classifier):
    """A linear threshold unit found by linear programming: the feasibility LP
    ``y_i(wᵀx_i + b) ≥ 1`` either gives a separating unit or proves (Farkas) that none exists;
    then the unit is the robust LP's (Bennett & Mangasarian: least average violation per class).
    One unit per class against the rest for more than two classes.

    Attributes
    ----------
    separable_ : bool (array of bool, one per class, for more than two classes)
    certificate_ : dict or None (a list, one per class)
        When not separable: ``lambda`` ≥ 0 summing to 1 with ``Σ λ_i y_i [x_i; 1] = 0`` up to
        ``residual`` — were there a separator, ``0 = Σ λ_i y_i (wᵀx_i + b) ≥ 1``.
    coef_, intercept_ : the unit(s).
    """

    def __init__(self, time_limit=None):
        self.time_limit = time_limit

    def fit(self, X, y):
        X, codes = self._classes(X, y)
        k = len(self.classes_)
        Y = _signs(codes, 1) if k == 2 else _one_vs_rest(codes, k)
        coef, intercept, certificate, _ = _fit("perceptron", X, Y, time_limit=self.time_limit)
        separable, certificates = [], []
        for node in certificate["nodes"]:
            s = node["separation"]
            separable.append(s["result"] == "separable")
            certificates.append(
                None if separable[-1]
                else {"lambda": np.array(s["lambda"]), "residual": s["residual"]}
            )
        self.coef_ = coef
        self.intercept_ = intercept
        self.separable_ = separable[0] if k == 2 else np.array(separable)
        self.certificate_ = certificates[0] if k == 2 else certificates
        return self
