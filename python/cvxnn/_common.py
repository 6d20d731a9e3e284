"""What every estimator shares: input validation with scikit-learn's messages, seeds, and the
warnings and exceptions of a training run."""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data


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


def inputs(estimator, X, reset):
    """X as a C-ordered float64 array (N × d), checked as scikit-learn checks it."""
    return validate_data(estimator, X, reset=reset, dtype=np.float64, order="C")


def inputs_and_targets(estimator, X, y, multi_output, y_numeric=True):
    """X and y checked together; y as given (1-D or N × k)."""
    return validate_data(
        estimator,
        X,
        y,
        dtype=np.float64,
        order="C",
        multi_output=multi_output,
        y_numeric=y_numeric,
    )


def settings(estimator, names):
    """The keyword settings of ``names`` that are not None: the Rust side refuses a setting the
    method does not read, so only the ones a user set are passed."""
    out = {}
    for name in names:
        value = getattr(estimator, name)
        if value is None:
            continue
        if isinstance(value, (tuple, list, np.ndarray)):
            value = [float(v) for v in value]
        out[name] = value
    return out


def warn_run(messages, skip=None):
    """Shows a run's own warnings (but those starting with ``skip``)."""
    for w in messages:
        if skip is None or not w.startswith(skip):
            warnings.warn(w, TrainingWarning, stacklevel=3)
