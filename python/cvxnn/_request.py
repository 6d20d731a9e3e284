"""Run requests: the one way every front end asks cvxnn for a run. A request is a dict of the
same keys as a ``cvxnn train --config`` file (docs/requests.md): ``method``, ``data``, ``arch``,
``output``, ``standardize``, ``seed``, ``start``, ``time_limit``, and the method's settings groups
(``scr``, ``gradient``, ``milp``, ``convex``). ``run`` runs one; the estimators translate their
parameters into one, so that the same request gives the same network from the command line,
from ``run`` and from an estimator.
"""

import collections
import json
import numbers
import re

import numpy as np

from . import _core

# An estimator parameter and the request keys it sets: each method reads the keys of its own
# groups (``_core.method_groups``).
NETWORK_KEYS = {
    "max_iter": ("scr.max_iter", "gradient.max_iter", "convex.max_iter"),
    "lbfgs_max_iter": ("gradient.max_iter",),
    "tol": ("scr.tol", "gradient.grad_tol", "convex.gap_tol"),
    "output_tol": ("scr.output_tol", "gradient.output_tol"),
    "weight_decay": ("gradient.weight_decay", "convex.weight_decay"),
    "learning_rate_init": ("gradient.lr",),
    "batch_size": ("gradient.batch",),
    "momentum": ("gradient.momentum",),
    "beta_1": ("gradient.beta1",),
    "beta_2": ("gradient.beta2",),
    "epsilon": ("gradient.eps",),
    "scr_lambda": ("scr.lambda",),
    "scr_mu": ("scr.mu",),
    "extrapolation": ("scr.extrapolation",),
    "weight_bound": ("milp.weight_bound",),
    "loss": ("convex.loss", "gradient.loss"),
    "patterns": ("convex.patterns",),
    "validation_fraction": ("gradient.validation_fraction",),
    "n_iter_no_change": ("gradient.n_iter_no_change",),
    "max_patterns": ("convex.max_patterns",),
    "precision": ("gradient.precision",),
}

# The request's own keys as the estimators spell them.
OWN_KEYS = {
    "method": "method",
    "arch": "hidden_layer_sizes",
    "output": "output_activation",
    "seed": "random_state",
    "standardize": "standardize=True",
    "time_limit": "time_limit",
    "start.init": "init",
    "start.scheme": "init_scheme",
    "methods": "methods",
    "starts": "n_starts",
    "restarts": "restarts",
    "init_scheme": "init_scheme",
    "weight_decay": "weight_decay",
    "bound_time": "bound_time",
    "data.weights": "sample_weight",
    "threads": "n_jobs",
}

# The convex estimators' ``weight_decay`` default, also ``MLPRegressor(method="convex")``'s.
CONVEX_WEIGHT_DECAY = 1e-3


def _plain(name, value):
    """``value`` as JSON takes it: numpy scalars and arrays as Python numbers and lists; a
    non-finite number refused with the parameter's name."""
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(name, v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        return value
    return value


def settings(method, params):
    """The settings groups of ``method`` from estimator parameters ``params`` (name → value;
    None means unset). A parameter whose keys no group of the method holds goes in anyway, so
    that the library refuses it as not read (it would be ignored)."""
    groups = set(_core.method_groups(method))
    given = {k: v for k, v in params.items() if v is not None}
    keys_of = dict(NETWORK_KEYS)
    if "scr" in groups:
        # in scr+lbfgs, max_iter is SCR's and lbfgs_max_iter L-BFGS's
        keys_of["max_iter"] = ("scr.max_iter", "convex.max_iter")
    elif "max_iter" in given and "lbfgs_max_iter" in given:
        raise ValueError(
            f"max_iter and lbfgs_max_iter both set {method}'s iteration cap; give one "
            "(lbfgs_max_iter is L-BFGS's cap after SCR in scr+lbfgs)"
        )
    if "convex" in groups and "weight_decay" not in given:
        given["weight_decay"] = CONVEX_WEIGHT_DECAY
    if "convex" in groups and "patterns" not in given:
        # the convex estimators' default, so that MLPRegressor(method="convex") solves the
        # same program as ConvexReLURegressor (the command line's default is `all`)
        given["patterns"] = "auto"
    out = collections.defaultdict(dict)
    for name, value in given.items():
        keys = keys_of[name]
        read = [k for k in keys if k.split(".")[0] in groups] or [keys[0]]
        for key in read:
            group, field = key.split(".")
            out[group][field] = _plain(name, value)
    return dict(out)


def spelling(params=NETWORK_KEYS):
    """Request key → estimator parameter, for messages."""
    out = dict(OWN_KEYS)
    for name, keys in params.items():
        for key in keys:
            out.setdefault(key, name)
    return out


def spelling_of(params, spelled):
    """``spelled`` with each request key written as the parameter in ``params`` (name → value,
    None unset) that sets it: where two parameters set one key (``max_iter`` and
    ``lbfgs_max_iter`` both set ``gradient.max_iter``), the message names the one given."""
    out = dict(spelled)
    for name, value in params.items():
        if value is not None:
            for key in NETWORK_KEYS.get(name, ()):
                out[key] = name
    return out


def respell_text(message, spelled):
    """``message`` with every request key in backticks that ``spelled`` knows written as the
    estimator's parameter."""

    def word(m):
        return spelled.get(m.group(1), m.group(0))

    return re.sub(r"`([a-z_0-9.]+)`", word, message)


def respell(error, spelled):
    """``error`` (a library exception) in the estimator's words (``respell_text``)."""
    return type(error)(respell_text(str(error), spelled))


def dumps(request):
    """A request as the JSON text the library reads."""
    return json.dumps(request, allow_nan=False)


Trained = collections.namedtuple("Trained", ["model", "run", "request"])
Trained.__doc__ = """What ``run`` returns: ``model`` (a ``cvxnn.Model``, None when exact training
found no network), ``run`` (the run's record as a dict: figures, stop reason, each stage's
trace, certificate, warnings, and the resolved request) and ``request`` (the request with every
default filled in: it reruns the same run)."""


def run(request, X=None, y=None):
    """Runs a request, as ``cvxnn train --config`` runs it, and returns a ``Trained``.

    ``request`` is a dict of the request schema (docs/requests.md), or the path of a TOML or JSON
    request file. Its data are a file or bundled set (``{"file": "iris"}``), a planted teacher
    (``{"teacher": "3-3-2", "n": 30}``), or arrays: ``{"arrays": "…"}`` with ``X`` (N × d) and
    ``y`` (N or N × k) given here. Ctrl-C stops the run at its next iteration and raises
    ``KeyboardInterrupt`` with the partial result in its ``trained`` attribute (``None`` when the
    run did not stop within half a second: an interior point's step on a large program).

    >>> import cvxnn
    >>> t = cvxnn.run({"method": "lbfgs", "data": {"teacher": "3-3-2"}, "seed": 1})
    >>> t.request["start"]["scheme"]
    'he'
    """
    if not isinstance(request, dict):
        request = _core.load_request(str(request))
    if (X is None) != (y is None):
        raise ValueError("give both X and y, or neither")
    if X is not None:
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        y = np.ascontiguousarray(y.reshape(len(y), -1))
    model, record, raised = _core.run(dumps(request), X, y)
    if record is None:
        # Ctrl-C, and the run did not stop within the grace to hand back a partial result
        raised.trained = None
        raise raised
    trained = Trained(model, record.to_dict(), record.request())
    if raised is not None:
        raised.trained = trained
        raise raised
    return trained
