"""The convex linear models under their scikit-learn names, parameters and objectives, solved by
cvxnn's interior point (Clarabel): ``Ridge``, ``Lasso``, ``ElasticNet``, ``LogisticRegression``
and ``SVC(kernel="linear")``; and the perceptron LP with its Farkas certificate. Each fitted model
keeps ``objective_``, scikit-learn's objective at the solution."""

import itertools
import json

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._common import Labels, inputs, inputs_and_targets


class _LeastSquares(RegressorMixin, BaseEstimator):
    """One convex QP per target column, with an unpenalised intercept."""

    def _fit(self, X, y, model, l1_ratio=0.5):
        X, y = inputs_and_targets(self, X, y, multi_output=True)
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        fits = [
            json.loads(_core.least_squares(X, np.ascontiguousarray(Y[:, j]), model,
                                           float(self.alpha), float(l1_ratio)))
            for j in range(Y.shape[1])
        ]
        coef = np.array([f["coef"] for f in fits])
        intercept = np.array([f["intercept"] for f in fits])
        objective = np.array([f["objective"] for f in fits])
        one = y.ndim == 1
        self.coef_ = coef[0] if one else coef
        self.intercept_ = float(intercept[0]) if one else intercept
        self.objective_ = float(objective[0]) if one else objective
        self.n_iter_ = int(sum(f["iterations"] for f in fits))
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
    """``‖y − Xw − b‖² + α‖w‖²`` (scikit-learn's ``Ridge``)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        return self._fit(X, y, "ridge")


class Lasso(_LeastSquares):
    """``‖y − Xw − b‖²/(2N) + α‖w‖₁`` (scikit-learn's ``Lasso``)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        return self._fit(X, y, "lasso")


class ElasticNet(_LeastSquares):
    """``‖y − Xw − b‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2``, ρ = ``l1_ratio`` (scikit-learn's
    ``ElasticNet``)."""

    def __init__(self, alpha=1.0, l1_ratio=0.5):
        self.alpha = alpha
        self.l1_ratio = l1_ratio

    def fit(self, X, y):
        return self._fit(X, y, "elastic_net", self.l1_ratio)


class _Classifier(Labels, ClassifierMixin, BaseEstimator):
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
    return np.where(codes == positive, 1.0, -1.0)


class LogisticRegression(_Classifier):
    """scikit-learn's ``LogisticRegression``: ``C Σ log(1 + e^{−y(wᵀx + b)}) + ½‖w‖²``
    (``l1_ratio=0``) or ``+ ‖w‖₁`` (``l1_ratio=1``), intercept unpenalised; the multinomial
    (softmax) model for more than two classes. Mixtures (0 < ``l1_ratio`` < 1) are not offered."""

    def __init__(self, C=1.0, l1_ratio=0.0):
        self.C = C
        self.l1_ratio = l1_ratio

    def fit(self, X, y):
        if self.l1_ratio not in (0, 1):
            raise ValueError(
                f"l1_ratio must be 0 (ℓ₂ penalty) or 1 (ℓ₁ penalty), got {self.l1_ratio!r}"
            )
        X, codes = self._classes(X, y)
        l1 = self.l1_ratio == 1
        if len(self.classes_) == 2:
            fit = json.loads(_core.logistic(X, _signs(codes, 1), float(self.C), l1))
            self.coef_ = np.array([fit["coef"]])
            self.intercept_ = np.array([fit["intercept"]])
        else:
            fit = json.loads(
                _core.multinomial(X, codes.tolist(), len(self.classes_), float(self.C), l1)
            )
            self.coef_ = np.array(fit["coef"])
            self.intercept_ = np.array(fit["intercept"])
        self.objective_ = fit["objective"]
        self.n_iter_ = np.array([fit["iterations"]])
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


class SVC(_Classifier):
    """scikit-learn's ``SVC(kernel="linear")``: ``½‖w‖² + C Σ max(0, 1 − y(wᵀx + b))``, intercept
    unpenalised; for more than two classes one machine per pair of classes, combined by votes as
    scikit-learn's ``SVC`` combines them (``decision_function`` is its ``ovr`` shape)."""

    def __init__(self, kernel="linear", C=1.0):
        self.kernel = kernel
        self.C = C

    def fit(self, X, y):
        if self.kernel != "linear":
            raise ValueError(
                f"cvxnn's SVC solves the linear SVM only (kernel='linear'), got {self.kernel!r}"
            )
        X, codes = self._classes(X, y)
        k = len(self.classes_)
        pairs = [(0, 1)] if k == 2 else list(itertools.combinations(range(k), 2))
        coef, intercept, objective = [], [], []
        for a, b in pairs:
            on = (codes == a) | (codes == b)
            fit = json.loads(
                _core.linear_svm(np.ascontiguousarray(X[on]), _signs(codes[on], b), float(self.C))
            )
            coef.append(fit["coef"])
            intercept.append(fit["intercept"])
            objective.append(fit["objective"])
        self.pairs_ = pairs
        self.coef_ = np.array(coef)
        self.intercept_ = np.array(intercept)
        self.objective_ = objective[0] if k == 2 else np.array(objective)
        return self

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

    def fit(self, X, y):
        X, codes = self._classes(X, y)
        k = len(self.classes_)
        positives = [1] if k == 2 else list(range(k))
        separable, certificates, coef, intercept = [], [], [], []
        for c in positives:
            s = _signs(codes, c)
            answer = json.loads(_core.perceptron_lp(X, s))
            if answer["result"] == "separable":
                separable.append(True)
                certificates.append(None)
                w, b = answer["w"], answer["b"]
            else:
                separable.append(False)
                certificates.append(
                    {"lambda": np.array(answer["lambda"]), "residual": answer["residual"]}
                )
                w, b, _ = _core.robust_lp(X, s)
            coef.append(w)
            intercept.append(b)
        self.coef_ = np.array(coef)
        self.intercept_ = np.array(intercept)
        self.separable_ = separable[0] if k == 2 else np.array(separable)
        self.certificate_ = certificates[0] if k == 2 else certificates
        return self
