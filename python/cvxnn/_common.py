"""What every estimator shares: input validation with scikit-learn's messages, seeds, and the
warnings and exceptions of a training run."""

import numbers
import warnings

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data


class TrainingWarning(UserWarning):
    """A run that ended badly says so: diverged, a failed solver, a dead network, a line search
    that stopped far from a stationary point, an optimum that is not certified."""


def seed_of(random_state):
    """The run's seed: an int as given, 0 for None (every run of cvxnn is seeded), or one draw
    from a ``numpy.random.RandomState``."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# scikit-learn's `validate_data` takes 0.3 ms per fit (narwhals' dataframe probes, the finiteness
# check, the feature-name check), more than the whole run of a 3-3-2 / N = 30 fit by L-BFGS or
# Levenberg–Marquardt (bench/README.md, "The Python package's call overhead"). Inputs it would pass
# through unchanged (finite, non-empty, C-ordered float64 ndarrays, no column names involved) skip
# it; everything else goes through it, so its checks and messages are scikit-learn's.


def _plain(a, ndims):
    """An array `validate_data` returns as it is: a finite, non-empty, C-ordered float64 ndarray
    of one of the dimensions `ndims`."""
    return (
        type(a) is np.ndarray
        and a.dtype == np.float64
        and a.ndim in ndims
        and a.size > 0
        and a.flags.c_contiguous
        and bool(np.isfinite(a).all())
    )


def _plain_inputs(estimator, X, reset):
    """X is plain and, when not resetting, has the fitted feature count and no names are
    expected; on reset the attributes are set as `validate_data` sets them."""
    if not _plain(X, (2,)):
        return False
    if reset:
        estimator.n_features_in_ = X.shape[1]
        estimator.__dict__.pop("feature_names_in_", None)
        return True
    return (
        "feature_names_in_" not in estimator.__dict__
        and getattr(estimator, "n_features_in_", None) == X.shape[1]
    )


def inputs(estimator, X, reset):
    """X as a C-ordered float64 array (N × d), checked as scikit-learn checks it."""
    if _plain_inputs(estimator, X, reset):
        return X
    return validate_data(estimator, X, reset=reset, dtype=np.float64, order="C")


def inputs_and_targets(estimator, X, y, multi_output, y_numeric=True):
    """X and y checked together; y as given (1-D or N × k)."""
    if (
        _plain(y, (1, 2) if multi_output else (1,))
        and _plain(X, (2,))
        and len(y) == len(X)
        and _plain_inputs(estimator, X, reset=True)
    ):
        return X, y
    return validate_data(
        estimator,
        X,
        y,
        dtype=np.float64,
        order="C",
        multi_output=multi_output,
        y_numeric=y_numeric,
    )


def sample_weights(sample_weight, X):
    """``sample_weight`` checked as scikit-learn checks it (one finite value ≥ 0 per row of X; a
    number is the same weight for every row) as a list, or None when not given."""
    if sample_weight is None:
        return None
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all zero: no sample would count")
    return w.tolist()


def warn_run(messages, skip=None):
    """Shows a run's own warnings (but those starting with ``skip``)."""
    for w in messages:
        if skip is None or not w.startswith(skip):
            warnings.warn(w, TrainingWarning, stacklevel=3)


class Labels:
    """Classification with labels of any type: encoded once, at least two classes, and predicted
    from ``decision_function`` (N scores for two classes, positive meaning ``classes_[1]``; else
    N × classes, the largest winning)."""

    def _classes(self, X, y):
        """X checked, ``classes_`` set, and y as class codes 0 … k − 1."""
        X, y = inputs_and_targets(self, X, y, multi_output=False, y_numeric=False)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got 1 class"
            )
        return X, encoder.transform(y)

    def predict(self, X):
        S = self.decision_function(X)
        if S.ndim == 1:
            return self.classes_[(S > 0).astype(int)]
        return self.classes_[np.argmax(S, axis=1)]
